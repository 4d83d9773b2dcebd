/*
 * `proberows inspect`: a summary of one ArrayRecord file of probe rows. Every record is read
 * on a thread pool (prw_ar_reader_read_range), its outer row and the first row of its inner
 * stream decoded into a small summary; distributions are then taken over the summaries.
 */
#include <stdio.h>
#include <stdlib.h>

#include "build/bd_internal.h"
#include "proberows/arrayrecord.h"
#include "proberows/arrow_ipc.h"
#include "proberows/verify.h"

typedef struct irec {
    uint64_t rec_len, inner_len, src_hash;
    int64_t src_id, first, last;
    int32_t n;
    uint32_t src_len;
} irec;

typedef struct ictx {
    irec *recs;
    pthread_mutex_t mu;
    bool failed;
    prw_error err;
} ictx;

static prw_status ifail(ictx *c, uint64_t index, const char *what, const prw_error *e) {
    prw__mutex_lock(&c->mu);
    if (!c->failed) {
        c->failed = true;
        prw__error_set(&c->err, PRW_E_CORRUPT, -1, "record %llu is not a probe row: %s%s%s",
                       (unsigned long long)index, what, e && e->msg[0] ? ": " : "",
                       e ? e->msg : "");
    }
    prw__mutex_unlock(&c->mu);
    return PRW_E_CORRUPT;
}

static prw_status on_record(void *ctx, uint64_t index, const uint8_t *data, size_t len) {
    ictx *c = ctx;
    prw_ipc_decoder *od = NULL, *id = NULL;
    prw_ipc_batch ob, ib;
    prw_error e;
    prw_error_clear(&e);
    prw_status st = PRW_OK;
    if (prw_ipc_decoder_create(data, len, &od, &e) < 0 ||
        !prw_ipc_schema_equal(prw_ipc_decoder_schema(od), prw_ipc_outer_schema()) ||
        prw_ipc_decoder_next(od, &ob, &e) != PRW_OK || ob.length != 1) {
        st = ifail(c, index, "no outer row of the contract's schema", &e);
        goto out;
    }
    prw_bytes m = prw_ipc_array_bytes(&ob.columns[PRW_OUTER_MEASUREMENTS], 0);
    if (prw_ipc_decoder_create(m.ptr, m.len, &id, &e) < 0 ||
        !prw_ipc_schema_equal(prw_ipc_decoder_schema(id), prw_ipc_inner_schema()) ||
        prw_ipc_decoder_next(id, &ib, &e) != PRW_OK || ib.length < 1) {
        st = ifail(c, index, "measurements are not an inner stream of the contract", &e);
        goto out;
    }
    prw_bytes src = prw_ipc_array_bytes(&ib.columns[PRW_INNER_SRC_ADDR], 0);
    irec *r = &c->recs[index];
    r->rec_len = len;
    r->inner_len = m.len;
    r->src_hash = prw__pl_hash(src.ptr, src.len);
    r->src_len = (uint32_t)src.len;
    r->src_id = prw_ipc_array_int(&ob.columns[PRW_OUTER_SRC_ID], 0);
    r->n = (int32_t)prw_ipc_array_int(&ob.columns[PRW_OUTER_N_MEASUREMENTS], 0);
    r->first = prw_ipc_array_int(&ob.columns[PRW_OUTER_FIRST_TIMESTAMP], 0);
    r->last = prw_ipc_array_int(&ob.columns[PRW_OUTER_LAST_TIMESTAMP], 0);
out:
    prw_ipc_decoder_destroy(od);
    prw_ipc_decoder_destroy(id);
    return st;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n). */
static uint64_t pct(const uint64_t *v, size_t n, double p) {
    if (n == 0)
        return 0;
    size_t k = (size_t)(p * (double)n + 0.999999);
    k = k ? k - 1 : 0;
    return v[k < n ? k : n - 1];
}

static void dist(uint64_t *v, size_t n, prw_inspect_dist *d) {
    qsort(v, n, sizeof *v, cmp_u64);
    d->p50 = pct(v, n, 0.50);
    d->p99 = pct(v, n, 0.99);
    d->max = n ? v[n - 1] : 0;
}

static prw_status summarise(const irec *recs, size_t n, prw_inspect_stats *s, prw_error *err) {
    uint64_t *v = prw__malloc_array(n ? n : 1, sizeof *v);
    if (!v)
        return prw__error_nomem(err, "record sizes", n * sizeof *v);
    s->first_us = n ? recs[0].first : 0;
    s->last_us = n ? recs[0].last : 0;
    for (size_t i = 0; i < n; i++) {
        const irec *r = &recs[i];
        s->measurements += (uint64_t)r->n;
        if (i == 0 || r->src_hash != recs[i - 1].src_hash || r->src_len != recs[i - 1].src_len ||
            r->src_id != recs[i - 1].src_id)
            s->probes++;
        if (r->first < s->first_us)
            s->first_us = r->first;
        if (r->last > s->last_us)
            s->last_us = r->last;
        v[i] = (uint64_t)r->n;
    }
    qsort(v, n, sizeof *v, cmp_u64);
    s->meas_min = n ? v[0] : 0;
    s->meas_median = pct(v, n, 0.5);
    s->meas_max = n ? v[n - 1] : 0;
    for (size_t i = 0; i < n; i++)
        v[i] = recs[i].rec_len;
    dist(v, n, &s->record_bytes);
    for (size_t i = 0; i < n; i++)
        v[i] = recs[i].inner_len;
    dist(v, n, &s->inner_bytes);
    prw__free(v);
    return PRW_OK;
}

prw_status prw_inspect_file(const char *path, int workers, prw_inspect_stats *stats,
                            prw_error *err) {
    memset(stats, 0, sizeof *stats);
    PRW_CHECK(workers >= 0 && workers <= 1024, err, PRW_E_INVALID, -1,
              "workers must be between 0 and 1024");
    prw_ar_reader *r;
    PRW_TRY(prw_ar_reader_open(&r, path, err));
    uint64_t n = prw_ar_reader_num_records(r);
    stats->records = n;
    stats->file_size = prw_ar_reader_file_size(r);
    stats->group_size = prw_ar_reader_group_size(r);
    snprintf(stats->compression, sizeof stats->compression, "%s",
             prw_ar_compression_name(prw_ar_reader_compression(r)));
    snprintf(stats->options, sizeof stats->options, "%s", prw_ar_reader_options(r));
    if (n > stats->file_size) { /* bounds the summaries (see pl_verify.c) */
        prw_ar_reader_close(r);
        return prw__error_set(err, PRW_E_CORRUPT, -1,
                              "%s: the footer claims %llu records in a file of %llu bytes", path,
                              (unsigned long long)n, (unsigned long long)stats->file_size);
    }
    ictx c;
    memset(&c, 0, sizeof c);
    prw__mutex_init(&c.mu);
    prw_status st = PRW_OK;
    c.recs = prw__calloc(n ? (size_t)n : 1, sizeof *c.recs);
    if (!c.recs || n > SIZE_MAX / sizeof *c.recs)
        st = prw__error_nomem(err, "record summaries", (size_t)n * sizeof *c.recs);
    if (st == PRW_OK) {
        st = prw_ar_reader_read_range(r, 0, n, workers, on_record, &c, err);
        if (st < 0 && c.failed && err)
            *err = c.err;
    }
    if (st == PRW_OK)
        st = summarise(c.recs, (size_t)n, stats, err);
    if (st < 0)
        prw__error_prefix(err, "%s: ", path);
    prw__free(c.recs);
    prw__mutex_destroy(&c.mu);
    prw_ar_reader_close(r);
    return st;
}
