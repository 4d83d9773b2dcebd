/*
 * The in-memory mode: every row group decoded (bd_decode.c), probes ranked, key-range
 * partitions balanced by rows, and the rows scattered in place into partitions per slice.
 * Its partition source hands a partition out as its part of every slice, in input order.
 */
#include <stdatomic.h>
#include <string.h>

#include "build/bd_engine.h"

/* Rows [start, start + n) of a row group's decoded rows are a slice: the unit of the in-memory
 * group phase, so that one large row group still keeps every worker busy. */
#define BD_SLICE_ROWS 65536

static prw_status make_partitions(bd_build *b, prw_error *err) {
    /* About 64 partitions per worker: the last ones to finish leave a worker idle for at most
     * one partition's time (S: 4096 rows, ~3 ms). */
    size_t target = b->pt.nrows / ((size_t)b->workers * 64) + 1;
    if (target < 4096)
        target = 4096;
    if (target > (1u << 20))
        target = 1u << 20;
    size_t maxp = b->pt.nrows / target + 2;
    b->pt.part_key = prw__malloc_array(maxp + 1, sizeof *b->pt.part_key);
    if (!b->pt.part_key)
        return prw__error_nomem(err, "partitions", (maxp + 1) * sizeof *b->pt.part_key);
    size_t np = 0, acc = 0;
    b->pt.part_key[0] = 0;
    b->mem.part_max_rows = 0;
    for (uint32_t r = 0; r < b->pr.n_probes; r++) {
        acc += b->pr.probe_rows[r];
        if (acc >= target && r + 1 < b->pr.n_probes && np + 1 < maxp) {
            b->pt.part_key[++np] = r + 1;
            b->mem.part_max_rows = acc > b->mem.part_max_rows ? acc : b->mem.part_max_rows;
            acc = 0;
        }
    }
    b->pt.part_key[++np] = b->pr.n_probes;
    b->mem.part_max_rows = acc > b->mem.part_max_rows ? acc : b->mem.part_max_rows;
    b->pt.nparts = np;
    return PRW_OK;
}

/* Pass 2 per slice: reorders its rows by partition (input order kept inside each) through a
 * cache-sized buffer, in place, so the grouped rows take no memory of their own.
 * slice_part_off then holds where each partition starts in the slice. */
static prw_status scatter_task(void *ctx, size_t index, prw_error *err) {
    bd_build *b = ctx;
    const bd_slice *sl = &b->mem.slices[index];
    size_t np = b->pt.nparts;
    size_t *off = b->mem.slice_part_off + index * (np + 1);
    prw__mutex_lock(&b->pool_mu);
    prw__pl_row *tmp = b->mem.nslicebufs ? b->mem.slicebufs[--b->mem.nslicebufs] : NULL;
    prw__mutex_unlock(&b->pool_mu);
    if (!tmp && !(tmp = prw__malloc_array(BD_SLICE_ROWS, sizeof *tmp)))
        return prw__error_nomem(err, "a scatter buffer", BD_SLICE_ROWS * sizeof *tmp);
    memset(off, 0, (np + 1) * sizeof *off);
    for (size_t i = 0; i < sl->n; i++)
        off[b->pr.probe_part[sl->rows[i].key] + 1]++;
    for (size_t p = 0; p < np; p++)
        off[p + 1] += off[p];
    for (size_t i = 0; i < sl->n; i++) {
        const prw__pl_row *r = &sl->rows[i];
        tmp[off[b->pr.probe_part[r->key]]++] = *r;
    }
    for (size_t p = np; p > 0; p--) /* off[p] ended at the start of p + 1 */
        off[p] = off[p - 1];
    off[0] = 0;
    memcpy(sl->rows, tmp, sl->n * sizeof *tmp);
    prw__mutex_lock(&b->pool_mu);
    b->mem.slicebufs[b->mem.nslicebufs++] = tmp;
    prw__mutex_unlock(&b->pool_mu);
    return PRW_OK;
}

/* Cuts the decoded rows into slices. */
static prw_status make_slices(bd_build *b, prw_error *err) {
    size_t n = 0;
    for (size_t g = 0; g < b->nrg; g++)
        n += (b->dec[g].n + BD_SLICE_ROWS - 1) / BD_SLICE_ROWS;
    b->mem.slices = prw__malloc_array(n ? n : 1, sizeof *b->mem.slices);
    b->mem.slicebufs = prw__calloc(n + 1, sizeof *b->mem.slicebufs);
    if (!b->mem.slices || !b->mem.slicebufs)
        return prw__error_nomem(err, "row slices", n * sizeof *b->mem.slices);
    b->mem.nslices = 0;
    for (size_t g = 0; g < b->nrg; g++)
        for (size_t i = 0; i < b->dec[g].n; i += BD_SLICE_ROWS) {
            size_t k = b->dec[g].n - i < BD_SLICE_ROWS ? b->dec[g].n - i : BD_SLICE_ROWS;
            b->mem.slices[b->mem.nslices++] = (bd_slice){b->dec[g].rows + i, k};
        }
    return PRW_OK;
}

/* Pass 1, task `index` of one per pool thread: for the slices it claims, key := probe rank,
 * and per-probe rows and estimated bytes in its own sums wprobe[index] (no shared atomics in
 * the row loop). */
static prw_status rank_task(void *ctx, size_t index, prw_error *err) {
    (void)err;
    bd_build *b = ctx;
    bd_probe_acc *acc = b->wprobe[index];
    const uint64_t *doffs = b->pr.dst_tab.offs; /* decoding is over: the table no longer moves */
    for (size_t g; (g = atomic_fetch_add(&b->rank_next, 1)) < b->mem.nslices;) {
        const bd_slice *sl = &b->mem.slices[g];
        for (size_t i = 0; i < sl->n; i++) {
            prw__pl_row *r = &sl->rows[i];
            uint32_t k = b->pr.rank[r->key];
            r->key = k;
            acc[k].rows++;
            acc[k].bytes += 28 + (r->dst == PRW_PL_NULL_ID ? 0 : doffs[r->dst + 1] - doffs[r->dst]);
        }
    }
    return PRW_OK;
}

/* rank_task on every pool thread, then their sums into probe_rows/bytes. */
static prw_status rank_rows(bd_build *b, prw__pool *pool, prw_error *err) {
    int threads = prw__pool_threads(pool);
    size_t n = threads > 1 ? (size_t)threads : 1, np = b->pr.n_probes ? b->pr.n_probes : 1;
    b->wprobe = prw__calloc(n, sizeof *b->wprobe);
    prw_status st = b->wprobe ? PRW_OK : prw__error_nomem(err, "probe sums", n * sizeof *b->wprobe);
    for (size_t i = 0; i < n && st == PRW_OK; i++)
        if (!(b->wprobe[i] = prw__calloc(np, sizeof **b->wprobe)))
            st = prw__error_nomem(err, "probe sums", np * sizeof **b->wprobe);
    atomic_store(&b->rank_next, 0);
    if (st == PRW_OK)
        st = prw__bd_run_all(b, pool, n, rank_task, "group", 0, err);
    if (st == PRW_OK)
        prw__bd_add_probe_sums(&b->pr, b->wprobe, n);
    for (size_t i = 0; i < n && b->wprobe; i++)
        prw__free(b->wprobe[i]);
    prw__free(b->wprobe);
    b->wprobe = NULL;
    return st;
}

static prw_status group_in_memory(bd_build *b, prw__pool *pool, prw_error *err) {
    PRW_TRY(prw__bd_rank_probes(b, pool, err));
    PRW_TRY(prw__bd_check_probes(&b->pr, &b->kr, err));
    PRW_TRY(make_slices(b, err));
    PRW_TRY(rank_rows(b, pool, err));
    b->pt.nrows = 0;
    for (size_t g = 0; g < b->nrg; g++)
        b->pt.nrows += b->dec[g].n;
    prw__bd_add_src_estimate(&b->pr, 0, b->pr.n_probes);
    PRW_TRY(make_partitions(b, err));
    for (size_t p = 0; p < b->pt.nparts; p++)
        for (uint32_t r = b->pt.part_key[p]; r < b->pt.part_key[p + 1]; r++)
            b->pr.probe_part[r] = (uint32_t)p;
    size_t np1 = b->pt.nparts + 1;
    b->mem.slice_part_off =
        prw__malloc_array(b->mem.nslices * np1 + 1, sizeof *b->mem.slice_part_off);
    b->mem.part_start = prw__calloc(np1, sizeof *b->mem.part_start);
    if (!b->mem.slice_part_off || !b->mem.part_start)
        return prw__error_nomem(err, "partition offsets",
                                b->mem.nslices * np1 * sizeof *b->mem.slice_part_off);
    prw_status st = prw__bd_run_all(b, pool, b->mem.nslices, scatter_task, "group", 0, err);
    for (size_t i = 0; i < b->mem.nslicebufs; i++)
        prw__free(b->mem.slicebufs[i]);
    b->mem.nslicebufs = 0;
    PRW_TRY(st);
    for (size_t g = 0; g < b->mem.nslices; g++) {
        const size_t *off = b->mem.slice_part_off + g * np1;
        for (size_t p = 0; p < b->pt.nparts; p++)
            b->mem.part_start[p + 1] += off[p + 1] - off[p];
    }
    for (size_t p = 0; p < b->pt.nparts; p++)
        b->mem.part_start[p + 1] += b->mem.part_start[p];
    prw__bd_assign_shards(&b->pr, b->o, &b->kr);
    prw__bd_report(b, "group", (int64_t)b->pt.nrows, (int64_t)b->pt.nrows, true);
    return PRW_OK;
}

/* ---- the in-memory partition source: a partition is its part of every slice -------------- */

static size_t mem_rows(prw__part_source *self, size_t k) {
    const bd_memsrc *m = self->private_data;
    return m->part_start[k + 1] - m->part_start[k];
}

static prw_status mem_produce(prw__part_source *self, size_t w, size_t k, bd_probes *pr,
                              bd_scratch *s, size_t *nsegs, prw_error *err) {
    (void)w;
    (void)pr;
    const bd_memsrc *m = self->private_data;
    size_t n = mem_rows(self, k);
    /* The time sort's merge space: only touched where a probe is out of time order. Sized for
     * the largest partition at once: each growth would be fresh memory, and on a VM a first
     * touch costs far more than a reuse. */
    size_t cap = n > m->part_max_rows ? n : m->part_max_rows;
    PRW_TRY(prw__reserve_array((void **)&s->load, &s->load_cap, cap, sizeof *s->load, "a partition",
                               err));
    PRW_TRY(prw__reserve_array((void **)&s->segs, &s->segs_cap, m->nslices, sizeof *s->segs,
                               "partition slices", err));
    size_t ns = 0;
    for (size_t g = 0; g < m->nslices; g++) {
        const size_t *off = m->slice_part_off + g * (m->nparts + 1);
        if (off[k + 1] > off[k])
            s->segs[ns++] = (prw__pl_seg){m->slices[g].rows + off[k], off[k + 1] - off[k]};
    }
    *nsegs = ns;
    return PRW_OK;
}

static void mem_release(prw__part_source *self) {
    (void)self; /* the slices belong to the build (prw__bd_memsrc_cleanup) */
}

void prw__bd_memsrc_cleanup(bd_memsrc *m) {
    prw__free(m->slice_part_off);
    prw__free(m->slices);
    prw__free(m->part_start);
    for (size_t i = 0; m->slicebufs && i < m->nslicebufs; i++)
        prw__free(m->slicebufs[i]);
    prw__free(m->slicebufs);
    memset(m, 0, sizeof *m);
}

/* The in-memory mode: every row group decoded, then grouped in one array. */
prw_status prw__bd_memory_phases(bd_build *b, prw__pool *pool, prw_error *err) {
    prw_build_stats *st = b->stats;
    double t = prw__now(), c = prw__bd_cpu_now();
    PRW_TRY(prw__bd_decode_all(b, pool, err));
    prw__bd_release_decoders(b);
    for (size_t g = 0; g < b->nrg; g++)
        prw__pl_stats_add_counts(st, &b->dec[g]);
    st->seconds_decode = prw__now() - t;
    st->cpu_decode = prw__bd_cpu_now() - c;
    c = prw__bd_cpu_now();

    t = prw__now();
    PRW_TRY(group_in_memory(b, pool, err));
    st->seconds_group = prw__now() - t;
    st->cpu_group = prw__bd_cpu_now() - c;
    b->stats->partitions = (int64_t)b->pt.nparts;
    b->mem.nparts = b->pt.nparts;
    b->mem.source = (prw__part_source){mem_rows,    mem_produce,          NULL, NULL,
                                       mem_release, b->mem.part_max_rows, 0,    &b->mem};
    b->source = &b->mem.source;
    return PRW_OK;
}
