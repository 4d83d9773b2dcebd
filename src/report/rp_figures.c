/*
 * Figures taken from the record summaries once the pass is done: probes (runs of consecutive
 * records with the same src_addr, as in inspect), the per-probe histograms in 1-2-5 bins, the
 * record size distribution (nearest-rank percentiles, as inspect prints them) and its octave
 * histogram, the top probes (their src_addr read back from their first record), and the time
 * line (hours, or days when the data spans more than two weeks).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proberows/arrayrecord.h"
#include "proberows/arrow_ipc.h"
#include "report/rp_internal.h"

#define US_PER_HOUR 3600000000LL
#define HOURLY_MAX (14 * 24)

uint64_t prw__rp_edge125(int k) {
    static const uint64_t m[3] = {1, 2, 5};
    uint64_t p = 1;
    for (int i = 0; i < k / 3; i++)
        p *= 10;
    return m[k % 3] * p;
}

int prw__rp_bin125(uint64_t v) {
    int k = 0;
    while (k + 1 < RP_125_BINS && v >= prw__rp_edge125(k + 1))
        k++;
    return k;
}

int prw__rp_bin_log2(uint64_t v) {
    int k = 0;
    while (k + 1 < RP_SIZE_BINS && (v >> (k + 1)) != 0)
        k++;
    return k;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least p * n values at or below it. */
static uint64_t rank(const uint64_t *sorted, size_t n, double p) {
    if (n == 0)
        return 0;
    size_t k = (size_t)(p * (double)n + 0.999999);
    return sorted[(k ? k - 1 : 0) < n ? (k ? k - 1 : 0) : n - 1];
}

/* Percentiles of one field of the records read: p50, p99, max into out[0..3). */
static void field_dist(const rp_split *sp, uint64_t *v, int which, uint64_t out[3]) {
    size_t n = 0;
    for (uint64_t i = 0; i < sp->records; i++) {
        const rp_rec *r = &sp->recs[i];
        if (r->seen)
            v[n++] = which == 0 ? r->rec_len : which == 1 ? r->inner_len : (uint64_t)r->n;
    }
    qsort(v, n, sizeof *v, cmp_u64);
    out[0] = rank(v, n, 0.5);
    out[1] = rank(v, n, 0.99);
    out[2] = n ? v[n - 1] : 0;
    if (which == 2)
        out[1] = n ? v[0] : 0; /* min, for measurements per record */
}

static void keep_top(prw_report *r, int split, uint64_t meas, uint64_t recs, uint64_t first) {
    size_t pos = r->n_top;
    while (pos > 0 && r->top[pos - 1].measurements < meas)
        pos--;
    if (pos >= RP_TOP)
        return;
    size_t n = r->n_top < RP_TOP ? r->n_top + 1 : RP_TOP;
    memmove(&r->top[pos + 1], &r->top[pos], (n - 1 - pos) * sizeof r->top[0]);
    r->top[pos] =
        (rp_top){.measurements = meas, .records = recs, .split = split, .first_record = first};
    r->n_top = n;
}

static void close_probe(prw_report *r, int s, uint64_t meas, uint64_t recs, uint64_t first,
                        uint8_t vmask) {
    rp_split *sp = &r->split[s];
    sp->probes++;
    sp->meas_per_probe[prw__rp_bin125(meas ? meas : 1)]++;
    sp->recs_per_probe[prw__rp_bin125(recs)]++;
    sp->cut_probes += recs > 1;
    int c = vmask == (1u << RP_V4) ? RP_P_V4 : vmask == (1u << RP_V6) ? RP_P_V6 : RP_P_MIXED;
    sp->probes_by_class[c]++;
    keep_top(r, s, meas, recs, first);
}

static void probes_of(prw_report *r, int s) {
    rp_split *sp = &r->split[s];
    const rp_rec *prev = NULL;
    uint64_t meas = 0, recs = 0, first = 0;
    uint8_t vmask = 0;
    for (uint64_t i = 0; i < sp->records; i++) {
        const rp_rec *x = &sp->recs[i];
        if (!x->seen)
            continue;
        sp->measurements += (uint64_t)x->n;
        sp->read++;
        sp->inner_size[prw__rp_bin_log2(x->inner_len)]++;
        if (sp->read == 1 || x->first < sp->first_us)
            sp->first_us = x->first;
        if (sp->read == 1 || x->last > sp->last_us)
            sp->last_us = x->last;
        if (!prev || x->src_hash != prev->src_hash || x->src_len != prev->src_len ||
            x->src_id != prev->src_id) {
            if (prev)
                close_probe(r, s, meas, recs, first, vmask);
            meas = recs = 0;
            vmask = 0;
            first = i;
        }
        meas += (uint64_t)x->n;
        recs++;
        vmask |= x->vmask;
        prev = x;
    }
    if (prev)
        close_probe(r, s, meas, recs, first, vmask);
}

/* Reads the src_addr of each top probe back from its first record. */
static prw_status top_names(prw_report *r, prw_error *err) {
    for (size_t t = 0; t < r->n_top; t++) {
        rp_top *tp = &r->top[t];
        const rp_split *sp = &r->split[tp->split];
        size_t f = 0;
        while (f + 1 < sp->n_files && sp->file_first[f + 1] <= tp->first_record)
            f++;
        prw_ar_reader *rd = sp->readers[f];
        prw_bytes rec;
        prw_ipc_decoder *od = NULL, *id = NULL;
        prw_ipc_batch ob, ib;
        prw_status st = prw_ar_reader_read(rd, tp->first_record - sp->file_first[f], &rec, err);
        if (st == PRW_OK && (st = prw_ipc_decoder_create(rec.ptr, rec.len, &od, err)) == PRW_OK &&
            (st = prw_ipc_decoder_next(od, &ob, err)) == PRW_OK) {
            prw_bytes m = prw_ipc_array_bytes(&ob.columns[1], 0);
            if ((st = prw_ipc_decoder_create(m.ptr, m.len, &id, err)) == PRW_OK &&
                (st = prw_ipc_decoder_next(id, &ib, err)) == PRW_OK) {
                prw_bytes src = prw_ipc_array_bytes(&ib.columns[1], 0);
                size_t n = src.len < sizeof tp->src_addr ? src.len : sizeof tp->src_addr - 1;
                memcpy(tp->src_addr, src.ptr, n);
                tp->src_addr[n] = 0;
            }
        }
        prw_ipc_decoder_destroy(id);
        prw_ipc_decoder_destroy(od);
        if (st == PRW_E_NOMEM)
            return st;
        if (st != PRW_OK) /* the pass read this record: it changed since */
            return prw__error_set(err, st < 0 ? st : PRW_E_CORRUPT, -1,
                                  "%s: record %llu changed while the report read it", sp->files[f],
                                  (unsigned long long)tp->first_record);
    }
    return PRW_OK;
}

prw_status prw__rp_figures(prw_report *r, prw_error *err) {
    uint64_t most =
        r->split[0].records > r->split[1].records ? r->split[0].records : r->split[1].records;
    uint64_t *v = prw__malloc_array(most ? (size_t)most : 1, sizeof *v);
    if (!v)
        return prw__error_nomem(err, "record sizes", (size_t)most * sizeof *v);
    for (int s = 0; s < RP_SPLITS; s++) {
        rp_split *sp = &r->split[s];
        probes_of(r, s);
        uint64_t d[3];
        field_dist(sp, v, 0, d);
        sp->rec_p50 = d[0], sp->rec_p99 = d[1], sp->rec_max = d[2];
        field_dist(sp, v, 1, d);
        sp->inner_p50 = d[0], sp->inner_p99 = d[1], sp->inner_max = d[2];
        field_dist(sp, v, 2, d);
        sp->meas_median = d[0], sp->meas_min = d[1], sp->meas_max = d[2];
    }
    prw__free(v);
    return top_names(r, err);
}

prw_status prw__rp_timeline(const prw_report *r, rp_timeline *t, prw_error *err) {
    memset(t, 0, sizeof *t);
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int s = 0; s < RP_SPLITS; s++) {
        const rp_hours *h = &r->acc.hours[s];
        if (!h->n)
            continue;
        lo = h->base < lo ? h->base : lo;
        hi = h->base + (int64_t)h->n > hi ? h->base + (int64_t)h->n : hi;
    }
    if (lo > hi)
        return PRW_OK;
    int64_t per = hi - lo <= HOURLY_MAX ? 1 : 24;
    int64_t first = lo - ((lo % per) + per) % per; /* days start at 00:00 UTC */
    t->start_us = first * US_PER_HOUR;
    t->step_us = per * US_PER_HOUR;
    t->n = (size_t)((hi - first + per - 1) / per);
    for (int s = 0; s < RP_SPLITS; s++) {
        t->count[s] = prw__calloc(t->n, sizeof *t->count[s]);
        if (!t->count[s]) {
            prw__rp_timeline_cleanup(t);
            return prw__error_nomem(err, "time line", t->n * sizeof(double));
        }
        const rp_hours *h = &r->acc.hours[s];
        for (size_t i = 0; i < h->n; i++)
            t->count[s][(size_t)((h->base + (int64_t)i - first) / per)] += (double)h->count[i];
    }
    return PRW_OK;
}

void prw__rp_timeline_cleanup(rp_timeline *t) {
    for (int s = 0; s < RP_SPLITS; s++)
        prw__free(t->count[s]);
    memset(t, 0, sizeof *t);
}
