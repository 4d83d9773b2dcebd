/*
 * `proberows verify --input`: the input decoded again through the build's own decode path
 * (prw__pl_decode_rg: the same NULL policy and conversions) in parallel over row groups; per
 * probe the count and the digest must equal the output's (docs/VERIFY.md).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "verify/vf_internal.h"

/* One kept input row, reduced to what the digest needs. seq = row group << 32 | row index
 * among its kept rows: increasing in input order. */
typedef struct vin_row {
    int64_t t;
    uint64_t seq;
    uint64_t h;
} vin_row;

typedef struct vin_rg {
    vin_row *rows;
    uint32_t *keys; /* src intern id per row */
    size_t n;
} vin_rg;

typedef struct vin {
    vctx *v;
    prw__pl_source *src;
    prw__intern src_tab, dst_tab;
    prw__pl_decoder **decs;
    size_t ndecs, *free_decs, nfree;
    vin_rg *rgs;
    size_t nrgs;
    pthread_mutex_t mu;
    prw__pl_decoded counts; /* what decoding dropped or changed, over all row groups */
    int64_t rows_kept;
    /* after grouping: rows by probe (intern id), starts[id] .. starts[id + 1] */
    vin_row *all;
    size_t *starts;
    uint64_t (*digest)[2];
    size_t nkeys;
} vin;

typedef struct vin_task {
    vin *in;
    size_t index;
    size_t end; /* group tasks: keys [index, end) */
} vin_task;

/* Decodes row group rg with the pipeline's decoder and hashes each kept row. The dst_addr
 * table may grow under other workers, so its hashes are read under its lock (held once per
 * row group). */
static prw_status input_rg(vin *in, prw__pl_decoder *dec, size_t rg, prw_error *err) {
    prw__pl_decoded d;
    PRW_TRY(prw__pl_decode_rg(dec, rg, &in->src_tab, &in->dst_tab, in->v->man.null_rtt, &d, err));
    vin_rg *g = &in->rgs[rg];
    g->rows = prw__malloc_array(d.n ? d.n : 1, sizeof *g->rows);
    g->keys = prw__malloc_array(d.n ? d.n : 1, sizeof *g->keys);
    if (!g->rows || !g->keys) {
        prw__free(d.rows);
        return prw__error_nomem(err, "input rows", d.n * sizeof *g->rows);
    }
    g->n = d.n;
    prw__mutex_lock(&in->dst_tab.mu);
    const uint64_t *dh = in->dst_tab.hashes;
    for (size_t i = 0; i < d.n; i++) {
        const prw__pl_row *r = &d.rows[i];
        unsigned nulls = (r->dst == PRW_PL_NULL_ID ? NULL_DST : 0) |
                         (r->flags & PRW_PL_IPV_NULL ? NULL_IPV : 0) |
                         (r->flags & PRW_PL_RTT_NULL ? NULL_RTT : 0);
        uint32_t rb = 0;
        if (!(nulls & NULL_RTT))
            memcpy(&rb, &r->rtt, 4);
        uint64_t dsth = r->dst == PRW_PL_NULL_ID ? NULL_DST_HASH : dh[r->dst];
        g->rows[i] = (vin_row){r->t, (uint64_t)rg << 32 | i,
                               row_hash(r->t, dsth, (nulls & NULL_IPV) ? 0 : r->ipv, rb, nulls)};
        g->keys[i] = r->key;
    }
    prw__mutex_unlock(&in->dst_tab.mu);
    prw__free(d.rows);
    prw__mutex_lock(&in->mu);
    prw__pl_decoded_add_counts(&in->counts, &d);
    in->rows_kept += (int64_t)d.n;
    prw__mutex_unlock(&in->mu);
    return PRW_OK;
}

static prw_status input_task(void *ctx, size_t rg, prw_error *err) {
    vin *in = ctx;
    prw__mutex_lock(&in->mu);
    size_t di = in->free_decs[--in->nfree];
    prw__mutex_unlock(&in->mu);
    prw_status st = input_rg(in, in->decs[di], rg, err);
    prw__mutex_lock(&in->mu);
    in->free_decs[in->nfree++] = di;
    prw__mutex_unlock(&in->mu);
    return st;
}

static int cmp_vin_row(const void *a, const void *b) {
    const vin_row *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Keys [index, end): sorts each probe's rows by (event_time, input position) -- the
 * contract's order, as a total order -- and digests them. Rows arrive in input order, so an
 * already time-ordered probe needs no sort. */
static void group_task(void *arg) {
    vin_task *t = arg;
    vin *in = t->in;
    for (size_t k = t->index; k < t->end; k++) {
        vin_row *r = in->all + in->starts[k];
        size_t n = in->starts[k + 1] - in->starts[k];
        size_t i = 1;
        while (i < n && r[i - 1].t <= r[i].t)
            i++;
        if (i < n)
            qsort(r, n, sizeof *r, cmp_vin_row);
        vdig g;
        dig_init(&g);
        for (i = 0; i < n; i++)
            dig_add(&g, r[i].h);
        in->digest[k][0] = g.d[0];
        in->digest[k][1] = g.d[1];
    }
}

/* Groups the hashed rows by probe (a counting scatter in input order) and digests each probe
 * on the pool. Frees the per-row-group arrays. */
static prw_status group_input(vin *in, prw__pool *pool, size_t nrg, prw_error *err) {
    size_t nk = in->src_tab.n, total = 0;
    in->nkeys = nk;
    in->starts = prw__calloc(nk + 2, sizeof *in->starts);
    in->digest = prw__calloc(nk ? nk : 1, sizeof *in->digest);
    for (size_t g = 0; g < nrg; g++)
        total += in->rgs[g].n;
    in->all = prw__malloc_array(total ? total : 1, sizeof *in->all);
    if (!in->starts || !in->digest || !in->all)
        return prw__error_nomem(err, "grouped input rows", total * sizeof *in->all);
    for (size_t g = 0; g < nrg; g++)
        for (size_t i = 0; i < in->rgs[g].n; i++)
            in->starts[in->rgs[g].keys[i] + 2]++;
    for (size_t k = 0; k < nk; k++)
        in->starts[k + 2] += in->starts[k + 1];
    /* starts[k + 1] is now the cursor of key k; after the scatter it is key k's end. */
    for (size_t g = 0; g < nrg; g++) {
        vin_rg *rg = &in->rgs[g];
        for (size_t i = 0; i < rg->n; i++)
            in->all[in->starts[rg->keys[i] + 1]++] = rg->rows[i];
        prw__free(rg->rows);
        prw__free(rg->keys);
        rg->rows = NULL;
        rg->keys = NULL;
    }
    size_t ntasks = (size_t)in->v->workers * 8;
    vin_task *tasks = prw__calloc(ntasks, sizeof *tasks);
    if (!tasks)
        return prw__error_nomem(err, "tasks", ntasks * sizeof *tasks);
    size_t k = 0, per = total / ntasks + 1, acc = 0, nt = 0;
    while (k < nk && nt < ntasks) {
        size_t begin = k;
        while (k < nk && (acc < per || nt + 1 == ntasks)) {
            acc += in->starts[k + 1] - in->starts[k];
            k++;
        }
        acc = 0;
        tasks[nt] = (vin_task){in, begin, k};
        prw__pool_submit(pool, group_task, &tasks[nt]);
        nt++;
    }
    prw__pool_wait(pool);
    prw__free(tasks);
    return PRW_OK;
}

typedef struct vkey {
    const uint8_t *p;
    size_t len;
    uint32_t id;
} vkey;

#define IFAIL(...) prw__vf_fail(v, ORD_INPUT(v), "input", -1, "input", __VA_ARGS__)

/* Per probe, the input's count and digest against the output's (ps sorted by src_addr). */
static prw_status compare_probes(vin *in, const vprobes *ps, prw_error *err) {
    vctx *v = in->v;
    size_t n = in->nkeys;
    vkey *keys = prw__malloc_array(n ? n : 1, sizeof *keys);
    if (!keys)
        return prw__error_nomem(err, "probe keys", n * sizeof *keys);
    uint32_t *order = prw__malloc_array(n ? n : 1, sizeof *order);
    prw_status st = order ? prw__intern_sort(&in->src_tab, order, err)
                          : prw__error_nomem(err, "probe keys", n * sizeof *order);
    if (st < 0) {
        prw__free(order);
        prw__free(keys);
        return st;
    }
    size_t nk = 0;
    for (size_t r = 0; r < n; r++) {
        uint32_t i = order[r];
        if (in->starts[i + 1] > in->starts[i])
            keys[nk++] =
                (vkey){prw__intern_ptr(&in->src_tab, i), prw__intern_len(&in->src_tab, i), i};
    }
    prw__free(order);
    v->rep->input_probes = (int64_t)nk;
    size_t a = 0, b = 0;
    while (a < nk || b < ps->n) {
        /* the output side, a probe found in both splits taken as one sequence */
        vprobe o = b < ps->n ? ps->p[b] : (vprobe){0};
        size_t b2 = b + 1;
        while (b < ps->n && b2 < ps->n &&
               vf_cmp_bytes(o.src, o.len, ps->p[b2].src, ps->p[b2].len) == 0) {
            dig_concat(o.digest, o.count, ps->p[b2].digest);
            o.count += ps->p[b2].count;
            b2++;
        }
        int c = a >= nk      ? 1
                : b >= ps->n ? -1
                             : vf_cmp_bytes((const char *)keys[a].p, keys[a].len, o.src, o.len);
        int64_t in_count =
            a < nk ? (int64_t)(in->starts[keys[a].id + 1] - in->starts[keys[a].id]) : 0;
        if (c < 0) {
            IFAIL("probe '%.*s' has %lld rows in the input and none in the output: rows lost",
                  (int)(keys[a].len > 64 ? 64 : keys[a].len), (const char *)keys[a].p,
                  (long long)in_count);
            a++;
        } else if (c > 0) {
            IFAIL("probe '%.*s' has %lld rows in the output and none in the input: rows invented",
                  (int)(o.len > 64 ? 64 : o.len), o.src, (long long)o.count);
            b = b2;
        } else {
            const uint64_t *d = in->digest[keys[a].id];
            if (in_count != o.count)
                IFAIL("probe '%.*s': %lld rows in the input, %lld in the output",
                      (int)(o.len > 64 ? 64 : o.len), o.src, (long long)in_count,
                      (long long)o.count);
            else if (d[0] != o.digest[0] || d[1] != o.digest[1])
                IFAIL("probe '%.*s': the digest of its %lld measurements differs between input "
                      "and output (a value changed, or rows are not in (event_time, input) "
                      "order)",
                      (int)(o.len > 64 ? 64 : o.len), o.src, (long long)o.count);
            a++;
            b = b2;
        }
    }
    prw__free(keys);
    return PRW_OK;
}

static prw_status run_input(vin *in, const vprobes *ps, const vtotals *t, prw_error *err) {
    vctx *v = in->v;
    const vman *m = &v->man;
    char **paths = NULL;
    size_t npaths = 0;
    PRW_TRY(prw__pl_glob(v->o->inputs, v->o->n_inputs, &paths, &npaths, err));
    prw_build_options bo;
    prw_build_options_init(&bo);
    memcpy(bo.columns, m->columns, sizeof bo.columns);
    bo.null_rtt = m->null_rtt;
    bo.atlas_rtt = m->atlas_rtt;
    bo.atlas_src = m->atlas_src;
    prw_status st = prw__pl_source_open(&in->src, paths, npaths, &bo, false, err);
    prw__pl_free_paths(paths, npaths);
    PRW_TRY(st);
    prw__pl_source_warn(in->src, v->o->warning, v->o->warning_ctx);
    size_t nf = prw__pl_source_files(in->src), nrg = prw__pl_source_row_groups(in->src);
    int64_t rows = 0;
    for (size_t f = 0; f < nf; f++) {
        int64_t fr = prw__pl_source_file_rows(in->src, f);
        rows += fr;
        if (m->ok && f < m->n_inputs && fr != m->input_rows[f])
            IFAIL("input file %s has %lld rows, the manifest's input %zu had %lld",
                  prw__pl_source_path(in->src, f), (long long)fr, f + 1,
                  (long long)m->input_rows[f]);
    }
    if (m->ok && nf != m->n_inputs)
        IFAIL("%zu input files match, the manifest lists %zu", nf, m->n_inputs);
    v->rep->input_rows = rows;
    /* A dump's results without a key are counted when it is parsed, not by the decoders. */
    prw_build_stats dst;
    memset(&dst, 0, sizeof dst);
    prw__pl_source_add_stats(in->src, &dst);
    in->counts.dropped_null_src += dst.dropped_null_src_addr;
    PRW_TRY(prw__intern_init(&in->src_tab, err));
    PRW_TRY(prw__intern_init(&in->dst_tab, err));
    in->ndecs = (size_t)v->workers;
    in->decs = prw__calloc(in->ndecs, sizeof *in->decs);
    in->free_decs = prw__calloc(in->ndecs, sizeof *in->free_decs);
    in->rgs = prw__calloc(nrg ? nrg : 1, sizeof *in->rgs);
    if (!in->decs || !in->free_decs || !in->rgs)
        return prw__error_nomem(err, "input workers",
                                in->ndecs * (sizeof *in->decs + sizeof *in->free_decs) +
                                    (nrg ? nrg : 1) * sizeof *in->rgs);
    in->nrgs = nrg;
    for (size_t i = 0; i < in->ndecs; i++) {
        PRW_TRY(prw__pl_decoder_create(in->src, &in->decs[i], err));
        in->free_decs[in->nfree++] = i;
    }
    prw__pool *pool = NULL;
    st = prw__pool_create(&pool, v->workers, (size_t)v->workers * 2 + 2, err);
    if (st == PRW_OK)
        st = prw__pool_run_all(pool, nrg, input_task, in, NULL, NULL, err);
    if (st == PRW_OK)
        st = group_input(in, pool, nrg, err);
    prw__pool_destroy(pool);
    PRW_TRY(st);
    v->rep->input_checked = true;
    int64_t written = t->meas[0] + t->meas[1];
    const int64_t in_dropped[4] = {in->counts.dropped_null_src, in->counts.dropped_null_time,
                                   in->counts.dropped_null_rtt, in->counts.dropped_time_range};
    int64_t dropped = in_dropped[0] + in_dropped[1] + in_dropped[2] + in_dropped[3];
    if (rows != in->rows_kept + dropped)
        IFAIL("%lld rows read, %lld kept + %lld dropped", (long long)rows, (long long)in->rows_kept,
              (long long)dropped);
    if (in->rows_kept != written)
        IFAIL("the input keeps %lld rows (read %lld, dropped %lld), the output holds %lld",
              (long long)in->rows_kept, (long long)rows, (long long)dropped, (long long)written);
    if (m->ok) {
        if (rows != m->rows_read)
            IFAIL("the input has %lld rows, the manifest's rows_read is %lld", (long long)rows,
                  (long long)m->rows_read);
        static const char *const why[4] = {"NULL src_addr", "NULL event_time", "NULL rtt",
                                           "event_time out of range"};
        for (int k = 0; k < 4; k++)
            if (in_dropped[k] != m->dropped[k])
                IFAIL("the input has %lld rows dropped for %s, the manifest says %lld",
                      (long long)in_dropped[k], why[k], (long long)m->dropped[k]);
    }
    return compare_probes(in, ps, err);
}

static void input_cleanup(vin *in) {
    for (size_t i = 0; i < in->ndecs; i++)
        prw__pl_decoder_destroy(in->decs[i]);
    for (size_t g = 0; g < in->nrgs; g++) {
        prw__free(in->rgs[g].rows);
        prw__free(in->rgs[g].keys);
    }
    prw__free(in->rgs);
    prw__free(in->decs);
    prw__free(in->free_decs);
    prw__free(in->all);
    prw__free(in->starts);
    prw__free(in->digest);
    prw__pl_source_close(in->src);
    prw__intern_cleanup(&in->src_tab);
    prw__intern_cleanup(&in->dst_tab);
    prw__mutex_destroy(&in->mu);
}

prw_status prw__vf_check_input(vctx *v, const vprobes *ps, const vtotals *t, prw_error *err) {
    vin in;
    memset(&in, 0, sizeof in);
    in.v = v;
    prw__mutex_init(&in.mu);
    prw_status st = run_input(&in, ps, t, err);
    input_cleanup(&in);
    prw__mutex_destroy(&in.mu);
    return st;
}
