/*
 * The memory-bounded mode (docs/MEMORY.md): a key pass reads only src_addr to rank the probes
 * and count their rows; the sizes (row groups decoded at once, partitions, blocks) are chosen
 * from the limit; then each row group is decoded, scattered by key-range partition and
 * appended to the spill run files (bd_spill.c). The write phase reads them back through the
 * spill partition source (bd_merge.c): the output is the in-memory mode's, byte for byte.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/bd_engine.h"
#include "common/io.h"
#include "common/publish.h"

#define MIB (1024.0 * 1024.0)
/* Bytes per row of a partition being encoded: read back (24), sort buffer (24), probe
 * columns and destination bytes (~64); and per row of a finished partition's output. */
#define ENCODE_ROW_BYTES 112
#define OUTPUT_ROW_BYTES 64
#define MAX_PART_ROWS (8u << 20)
/* A merge window row: the row (24), its probe columns (36), destination bytes (~12). */
#define MERGE_ROW_BYTES 72
#define MIN_PART_ROWS 1024
/* Percent of the limit left unplanned: allocator slack, per-thread arenas, page-granular
 * buffers (with prw__alloc_bound_retention, M at 256M peaks at ~75% of the limit). */
#define PLAN_SLACK_PCT 10

static prw_status keys_work(bd_build *b, size_t di, size_t rg, int64_t *done, prw_error *err) {
    size_t n = 0;
    PRW_TRY(prw__pl_scan_keys_rg(b->decoders[di], rg, &b->pr.src_tab, &n, err));
    *done = (int64_t)n;
    return PRW_OK;
}

static prw_status keys_task(void *ctx, size_t rg, prw_error *err) {
    return prw__bd_rg_task(ctx, rg, true, keys_work, err);
}

static uint64_t intern_bytes(const prw__intern *t) {
    return t->bytes.cap + t->ncap * 16 + t->nslots * 4;
}

/* The part of the limit the plan may use. */
static uint64_t plan_usable(const bd_build *b) {
    return b->bm.limit - b->bm.limit / 100 * PLAN_SLACK_PCT;
}

/* `planned`: the bytes the plan needs; the limit must also hold the unplanned share. */
static prw_status too_small(bd_build *b, uint64_t planned, const char *what, prw_error *err) {
    uint64_t need = planned / (100 - PLAN_SLACK_PCT) * 100;
    char lim[PRW_BYTES_STR_MAX], nd[PRW_BYTES_STR_MAX]; /* printed as the summary prints them */
    return prw__error_set(err, PRW_E_LIMIT, -1,
                          "memory limit of %s is too small for this input: at least %s is "
                          "needed (%s)",
                          prw_format_bytes(b->bm.limit, lim, sizeof lim),
                          prw_format_bytes(need, nd, sizeof nd), what);
}

/*
 * Sizes the spill mode for `w` row groups decoded and partitions encoded at once (w <= workers):
 * sets slots_free, block_rows and window (partitions being encoded plus finished ones waiting),
 * and *part_out to the partition size in rows, leaving room for a probe merged from runs; or
 * fails with how much memory that would need.
 */
static prw_status size_spill(bd_build *b, uint64_t w, uint64_t *part_out, prw_error *err) {
    uint64_t W = (uint64_t)b->workers;
    uint64_t probes = b->pr.n_probes;
    uint64_t dst_reserve = b->bm.limit / 16 < (32u << 20) ? b->bm.limit / 16 : (32u << 20);
    /* The writers' queues: finished chunks pass through; records wait for compression; the
     * two output files' direct-I/O buffers. */
    uint64_t writer =
        (b->chunked ? 0 : (4ull << 20) * W) + 3 * b->max_row + 2 * PRW__WFILE_DIRECT_BYTES;
    /* The src key map (shared, read-only); each decoding slot's per-probe sums are charged
     * with its row group, for the slots that fit (issue 22: charging them for every worker
     * made M at 256M fall back to one partition at a time, the write phase on one core). */
    uint64_t fixed = PRW_BD_RSS_BASE + intern_bytes(&b->pr.src_tab) + probes * 64 + dst_reserve +
                     writer + W * (256u << 10) + prw__pl_keymap_bytes(probes) + b->nrg * 64;
    uint64_t usable = plan_usable(b);
    uint64_t sums = probes * sizeof(bd_probe_acc), slot = b->bm.rg_cost + sums;
    if (fixed >= usable)
        return too_small(b, fixed + slot, "probe tables and writers", err);
    uint64_t avail = usable - fixed;
    if (avail < slot)
        return too_small(b, fixed + slot, "one row group decoded at a time", err);
    uint64_t slots = avail / slot;
    b->slots_free = (size_t)(slots < w ? slots : w);
    avail -= b->slots_free * sums;
    size_t nrg = b->nrg ? b->nrg : 1;
    uint64_t br = avail / 16 / (nrg * 2 * sizeof(prw__pl_row));
    b->bm.block_rows = (size_t)(br < 256 ? 256 : br > 8192 ? 8192 : br);
    /* Partitions in flight: being encoded (at most one per pool thread) or waiting to be
     * written. With every worker, one more than the threads keeps them all busy. */
    b->bm.window = (size_t)(w == W ? W + 1 : w);
    uint64_t encoding = b->bm.window < W ? b->bm.window : W;
    uint64_t per_row = encoding * ENCODE_ROW_BYTES + b->bm.window * OUTPUT_ROW_BYTES;
    uint64_t part = avail / per_row;
    bool big = false;
    size_t src_len = SIZE_MAX; /* the shortest src_addr among probes to be merged */
    for (uint32_t r = 0; r < b->pr.n_probes; r++) {
        if (b->bm.key_rows[r] > part || b->bm.key_rows[r] > MAX_PART_ROWS) {
            big = true;
            size_t l = prw__intern_len(&b->pr.src_tab, b->pr.by_rank[r]);
            src_len = l < src_len ? l : src_len;
        }
    }
    /* A probe merged from runs: one block per run, a window of at most twice the rows of a
     * piece (a row takes at least 17 + len(src_addr) inner bytes), a piece and its chunk. */
    uint64_t piece_rows = big ? b->max_row / (17 + src_len) + 1 : 0;
    uint64_t merge = (uint64_t)nrg * b->bm.block_rows * 2 * sizeof(prw__pl_row) +
                     (2 * piece_rows + PRW_BD_MERGE_WINDOW) * MERGE_ROW_BYTES + 2 * b->max_row;
    if (big) {
        if (avail <= merge + MIN_PART_ROWS * per_row)
            return too_small(b, fixed + merge + MIN_PART_ROWS * per_row,
                             "merging a probe larger than memory", err);
        part = (avail - merge) / per_row;
    }
    if (part < MIN_PART_ROWS)
        return too_small(b, fixed + MIN_PART_ROWS * per_row, "a minimal partition", err);
    *part_out = part;
    return PRW_OK;
}

/*
 * Chooses the sizes of the spill mode from the limit (size_spill), with fewer row groups and
 * partitions at once than workers when all of them would not fit, then the key ranges.
 */
static prw_status plan_spill(bd_build *b, prw_error *err) {
    uint64_t part = 0;
    prw_status st = PRW_OK;
    for (uint64_t w = (uint64_t)b->workers; w >= 1; w--) {
        prw_error_clear(err);
        if ((st = size_spill(b, w, &part, err)) == PRW_OK)
            break;
    }
    PRW_TRY(st);
    if (part > MAX_PART_ROWS)
        part = MAX_PART_ROWS;
    /* Key ranges balanced by rows; a probe above the partition size is a partition alone. */
    size_t maxp = b->pr.n_probes + 1;
    b->pt.part_key = prw__malloc_array(maxp + 1, sizeof *b->pt.part_key);
    b->bm.part_big = prw__calloc(maxp, 1);
    if (!b->pt.part_key || !b->bm.part_big)
        return prw__error_nomem(err, "partitions", (maxp + 1) * sizeof *b->pt.part_key + maxp);
    size_t np = 0;
    uint64_t acc = 0;
    b->pt.part_key[0] = 0;
    for (uint32_t r = 0; r < b->pr.n_probes; r++) {
        uint64_t k = b->bm.key_rows[r];
        if (k > part) {
            if (r > b->pt.part_key[np])
                b->pt.part_key[++np] = r;
            b->bm.part_big[np] = 1;
            b->pt.part_key[++np] = r + 1;
            acc = 0;
        } else if (acc + k > part && r > b->pt.part_key[np]) {
            b->pt.part_key[++np] = r;
            acc = k;
        } else {
            acc += k;
        }
    }
    if (b->pt.part_key[np] < b->pr.n_probes || np == 0)
        b->pt.part_key[++np] = b->pr.n_probes;
    b->pt.nparts = np;
    b->stats->partitions = (int64_t)np;
    b->stats->spill_partitions = (int64_t)np;
    return PRW_OK;
}

/* Decodes row group g, ranks its keys, scatters it by partition (input order kept; slices of
 * merged probes sorted by time) and appends each slice to this worker's run file. */
static prw_status spill_rg(bd_build *b, size_t di, size_t g, prw_error *err) {
    prw__pl_decoded *d = &b->dec[g];
    PRW_TRY(prw__pl_decode_rg(b->decoders[di], g, &b->pr.src_tab, &b->pr.dst_tab, b->o->null_rtt, d,
                              err));
    size_t n = d->n, np = b->pt.nparts;
    size_t *cnt = b->bm.wcount[di];
    bd_probe_acc *acc = b->wprobe[di];
    memset(cnt, 0, (np + 1) * sizeof *cnt);
    /* dst_tab only grows while other workers decode: its offsets array may move. */
    prw__mutex_lock(&b->pr.dst_tab.mu);
    const uint64_t *doffs = b->pr.dst_tab.offs;
    for (size_t i = 0; i < n; i++) {
        prw__pl_row *r = &d->rows[i];
        uint32_t k = r->key; /* the key map gave ranks */
        acc[k].rows++;
        acc[k].bytes += 28 + (r->dst == PRW_PL_NULL_ID ? 0 : doffs[r->dst + 1] - doffs[r->dst]);
        cnt[b->pr.probe_part[k] + 1]++;
    }
    prw__mutex_unlock(&b->pr.dst_tab.mu);
    for (size_t p = 0; p < np; p++)
        cnt[p + 1] += cnt[p];
    PRW_TRY(prw__reserve_array((void **)&b->bm.wrows[di], &b->bm.wrows_cap[di], n,
                               sizeof(prw__pl_row), "a row group's partitions", err));
    prw__pl_row *out = b->bm.wrows[di];
    for (size_t i = 0; i < n; i++)
        out[cnt[b->pr.probe_part[d->rows[i].key]]++] = d->rows[i];
    /* cnt[p] is now the end of slice p; the decoded rows serve as the sort buffer. */
    size_t start = 0;
    for (size_t p = 0; p < np; p++) {
        size_t end = cnt[p];
        if (b->bm.part_big[p])
            prw__pl_sort_by_time(out + start, d->rows, end - start);
        PRW_TRY(prw__spill_put(b->bm.spill, di, b->bm.wcc[di], g, p, out + start, end - start,
                               &b->bm.wbuf[di], err));
        start = end;
    }
    prw__free(d->rows);
    d->rows = NULL;
    return PRW_OK;
}

static prw_status spill_work(bd_build *b, size_t di, size_t rg, int64_t *done, prw_error *err) {
    *done = prw__pl_source_rg_rows(b->src, rg);
    return spill_rg(b, di, rg, err);
}

static prw_status spill_task(void *ctx, size_t rg, prw_error *err) {
    return prw__bd_rg_task(ctx, rg, true, spill_work, err);
}

static prw_status spill_setup(bd_build *b, prw_error *err) {
    size_t W = (size_t)b->workers;
    b->bm.wcount = prw__calloc(W, sizeof *b->bm.wcount);
    b->bm.wrows = prw__calloc(W, sizeof *b->bm.wrows);
    b->bm.wrows_cap = prw__calloc(W, sizeof *b->bm.wrows_cap);
    b->wprobe = prw__calloc(W, sizeof *b->wprobe);
    b->bm.wcc = prw__calloc(W, sizeof *b->bm.wcc);
    b->bm.wbuf = prw__calloc(W, sizeof *b->bm.wbuf);
    b->bm.part_n = prw__calloc(b->pt.nparts, sizeof *b->bm.part_n);
    if (!b->bm.wcount || !b->bm.wrows || !b->bm.wrows_cap || !b->wprobe || !b->bm.wcc ||
        !b->bm.wbuf || !b->bm.part_n)
        return prw__error_nomem(err, "spill workers",
                                W * (sizeof *b->bm.wcount + sizeof *b->bm.wrows +
                                     sizeof *b->bm.wrows_cap + sizeof *b->wprobe +
                                     sizeof *b->bm.wcc + sizeof *b->bm.wbuf) +
                                    b->pt.nparts * sizeof *b->bm.part_n);
    for (size_t i = 0; i < b->slots_free; i++) {
        b->wprobe[i] = prw__calloc(b->pr.n_probes ? b->pr.n_probes : 1, sizeof **b->wprobe);
        if (!b->wprobe[i])
            return prw__error_nomem(err, "probe sums", b->pr.n_probes * sizeof **b->wprobe);
    }
    for (size_t i = 0; i < W; i++) {
        b->bm.wcount[i] = prw__calloc(b->pt.nparts + 1, sizeof **b->bm.wcount);
        if (!b->bm.wcount[i])
            return prw__error_nomem(err, "spill workers",
                                    (b->pt.nparts + 1) * sizeof **b->bm.wcount);
        PRW_TRY(prw__codec_ctx_create(&b->bm.wcc[i], err));
        prw__buf_init(&b->bm.wbuf[i]);
    }
    /* Only as many decoders as row groups may be in flight keep buffers. */
    b->nfree_dec = 0;
    for (size_t i = 0; i < b->slots_free; i++)
        b->free_dec[b->nfree_dec++] = i;
    const char *base = b->o->temp_dir ? b->o->temp_dir : b->o->output_dir;
    PRW_CHECK(strlen(base) <= PRW_BD_MAX_DIR, err, PRW_E_INVALID, -1,
              "--temp-dir path longer than %d bytes", PRW_BD_MAX_DIR);
    PRW_TRY(prw__mkdir_p(base, err));
    /* Named for and locked by this process, so a later run sweeps it if this one is killed. */
    prw__owned_dir od;
    PRW_TRY(prw__owned_dir_create(&od, base, "spill", err));
    b->bm.spill_owner_fd = od.fd;
    prw__bd_path_fmt(b->bm.spill_dir, sizeof b->bm.spill_dir, "%s", od.path);
    prw__free(od.path);
    b->bm.spill_slot = prw__pl_temp_register(b->bm.spill_dir);
    return prw__spill_create(&b->bm.spill, b->bm.spill_dir, W, b->nrg, b->pt.nparts,
                             b->bm.block_rows, err);
}

void prw__bd_bounded_release(bd_build *b) {
    for (size_t i = 0; i < (size_t)b->workers && b->bm.wcount; i++) {
        prw__free(b->bm.wcount[i]);
        prw__free(b->bm.wrows[i]);
        prw__free(b->wprobe[i]);
        prw__codec_ctx_destroy(b->bm.wcc[i]);
        prw__buf_cleanup(&b->bm.wbuf[i]);
    }
    prw__free(b->bm.wcount);
    prw__free(b->bm.wrows);
    prw__free(b->wprobe);
    b->wprobe = NULL;
    prw__free(b->bm.wrows_cap);
    prw__free(b->bm.wcc);
    prw__free(b->bm.wbuf);
    b->bm.wcount = NULL;
    b->bm.wrows = NULL;
    b->bm.wrows_cap = NULL;
    b->bm.wcc = NULL;
    b->bm.wbuf = NULL;
    prw__bd_release_decoders(b);
}

/* Key pass, plan, spill: afterwards every row is in the run files, by partition. */
prw_status prw__bd_bounded_phases(bd_build *b, prw__pool *pool, prw_error *err) {
    prw_build_stats *st = b->stats;
    double t = prw__now(), cpu = prw__bd_cpu_now();
    /* Before any work: a limit that cannot hold one decoded row group fails at once, and the
     * key pass reads only as many row groups at a time as half of the limit holds. */
    uint64_t usable = plan_usable(b);
    if (PRW_BD_RSS_BASE + b->bm.rg_cost > usable)
        return too_small(b, PRW_BD_RSS_BASE + b->bm.rg_cost, "one row group decoded at a time",
                         err);
    uint64_t key_cost = 1;
    for (size_t g = 0; g < b->nrg; g++) {
        uint64_t c = (uint64_t)prw__pl_source_rg_key_bytes(b->src, g);
        key_cost = c > key_cost ? c : key_cost;
    }
    uint64_t key_slots = (usable - PRW_BD_RSS_BASE) / 2 / key_cost;
    uint64_t nw = (uint64_t)b->workers;
    b->slots_free = (size_t)(key_slots < 1 ? 1 : key_slots < nw ? key_slots : nw);
    PRW_TRY(prw__bd_run_all(b, pool, b->nrg, keys_task, "keys", st->rows_read, err));
    b->bm.key_rows_cap = b->pr.src_tab.n;
    b->bm.key_rows =
        prw__calloc(b->bm.key_rows_cap ? b->bm.key_rows_cap : 1, sizeof *b->bm.key_rows);
    if (!b->bm.key_rows)
        return prw__error_nomem(err, "key counts", b->bm.key_rows_cap * sizeof *b->bm.key_rows);
    for (size_t i = 0; i < b->ndecoders; i++)
        prw__pl_decoder_take_key_rows(b->decoders[i], b->bm.key_rows, b->bm.key_rows_cap);
    PRW_TRY(prw__bd_rank_probes(b, pool, err));
    PRW_TRY(prw__bd_check_probes(&b->pr, &b->kr, err));
    /* key_rows by intern id -> by rank (rank_probes sized its tables to src_tab.n). */
    uint64_t *by_rank = prw__calloc(b->pr.n_probes ? b->pr.n_probes : 1, sizeof *by_rank);
    if (!by_rank)
        return prw__error_nomem(err, "key counts",
                                (b->pr.n_probes ? b->pr.n_probes : 1) * sizeof *by_rank);
    for (uint32_t r = 0; r < b->pr.n_probes; r++)
        by_rank[r] = b->pr.by_rank[r] < b->bm.key_rows_cap ? b->bm.key_rows[b->pr.by_rank[r]] : 0;
    prw__free(b->bm.key_rows);
    b->bm.key_rows = by_rank;
    b->bm.key_rows_cap = b->pr.n_probes;
    /* The key pass saw every src_addr: from now on decoders map strings straight to ranks
     * through one shared read-only index, and their own src caches go. */
    PRW_TRY(prw__pl_keymap_build(&b->bm.keymap, &b->pr.src_tab, b->pr.rank, err));
    for (size_t i = 0; i < b->ndecoders; i++)
        prw__pl_decoder_set_keymap(b->decoders[i], b->bm.keymap);
    st->seconds_keys = prw__now() - t;
    st->cpu_keys = prw__bd_cpu_now() - cpu;
    cpu = prw__bd_cpu_now();

    t = prw__now();
    PRW_TRY(plan_spill(b, err));
    for (size_t p = 0; p < b->pt.nparts; p++)
        for (uint32_t r = b->pt.part_key[p]; r < b->pt.part_key[p + 1]; r++)
            b->pr.probe_part[r] = (uint32_t)p;
    PRW_TRY(spill_setup(b, err));
    prw_status s = prw__bd_run_all(b, pool, b->nrg, spill_task, "decode", st->rows_read, err);
    if (s == PRW_OK)
        prw__bd_add_probe_sums(&b->pr, b->wprobe, b->slots_free);
    prw__bd_bounded_release(b);
    PRW_TRY(s);
    PRW_TRY(prw__spill_finish(b->bm.spill, err));
    st->temp_bytes = prw__spill_bytes(b->bm.spill);
    b->pt.nrows = 0;
    for (size_t g = 0; g < b->nrg; g++) {
        const prw__pl_decoded *d = &b->dec[g];
        b->pt.nrows += d->n;
        prw__pl_stats_add_counts(st, d);
        for (size_t p = 0; p < b->pt.nparts; p++)
            b->bm.part_n[p] += (size_t)prw__spill_rows(b->bm.spill, g, p);
    }
    st->seconds_decode = prw__now() - t;
    st->cpu_decode = prw__bd_cpu_now() - cpu;
    cpu = prw__bd_cpu_now();

    t = prw__now();
    prw__bd_add_src_estimate(&b->pr, 0, b->pr.n_probes);
    prw__bd_assign_shards(&b->pr, b->o, &b->kr);
    prw__bd_report(b, "group", (int64_t)b->pt.nrows, (int64_t)b->pt.nrows, true);
    st->seconds_group = prw__now() - t;
    st->cpu_group = prw__bd_cpu_now() - cpu;
    return prw__bd_spill_source(&b->source, b->bm.spill, b->bm.part_n, b->bm.part_big, b->nrg,
                                b->bm.block_rows, (size_t)b->workers, b->bm.window, err);
}

void prw__bd_bounded_cleanup(bd_bounded *bm) {
    prw__pl_keymap_destroy(bm->keymap);
    prw__free(bm->key_rows);
    prw__free(bm->part_big);
    prw__free(bm->part_n);
    prw__spill_destroy(bm->spill);
    if (bm->spill_dir[0]) {
        (void)prw__remove_dir(bm->spill_dir, NULL); /* its .owner too, then the lock goes */
        close(bm->spill_owner_fd);
        prw__pl_temp_unregister(bm->spill_slot);
    }
    memset(bm, 0, sizeof *bm);
}
