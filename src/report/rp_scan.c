/*
 * The one pass over the records. Each split's files are read on a thread pool
 * (prw_ar_reader_read_range); every record is decoded (outer row, inner stream, both checked
 * against the contract's schemas) into an rp_rec, and its measurements are added to the
 * accumulator of the thread that reads it (found through a thread-local slot, so the hot loop
 * takes no lock). After each file the per-thread accumulators are merged into the report's.
 * With --sample N, N records per split, evenly spaced, are read on the calling thread.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common/thread.h"
#include "proberows/arrayrecord.h"
#include "proberows/arrow_ipc.h"
#include "report/rp_internal.h"

#define US_PER_HOUR 3600000000LL
#define MAX_SLOTS 64

typedef struct scan {
    prw_report *r;
    int split;
    uint64_t rec_base; /* the file's first record in the split */
    rp_acc *slots[MAX_SLOTS];
    atomic_int next_slot;
    uint64_t gen;
    pthread_mutex_t mu; /* guards `shared`, the failure and slot creation */
    rp_acc shared;      /* used by threads beyond MAX_SLOTS */
    bool failed, nomem;
    prw_error err;
} scan;

static atomic_ullong g_gen = 1;
static _Thread_local struct {
    uint64_t gen;
    rp_acc *acc;
} t_slot;

/* Thresholds 2^(q/4), q = 0..3, as floats: bin edges are exactly 2^E times these. */
static const float g_quarter[4] = {1.0f, 1.18920712f, 1.41421356f, 1.68179283f};

int prw__rp_rtt_bin(float v) {
    if (v < 0x1p-6f) /* 2^RP_RTT_LO_EXP */
        return 0;
    if (v >= 0x1p18f) /* 2^RP_RTT_HI_EXP */
        return RP_RTT_BINS - 1;
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    int e = (int)((bits >> 23) & 0xff) - 127;
    uint32_t mb = (bits & 0x7fffffu) | 0x3f800000u;
    float m;
    memcpy(&m, &mb, sizeof m);
    int q = (m >= g_quarter[1]) + (m >= g_quarter[2]) + (m >= g_quarter[3]);
    return 1 + 4 * (e - RP_RTT_LO_EXP) + q;
}

double prw__rp_rtt_edge(int k) {
    if (k <= 0)
        return 0.0;
    int j = k - 1;
    return ldexp((double)g_quarter[j % 4], RP_RTT_LO_EXP + j / 4);
}

void prw__rp_acc_cleanup(rp_acc *a) {
    if (!a)
        return;
    for (int s = 0; s < RP_SPLITS; s++)
        prw__free(a->hours[s].count);
    memset(a, 0, sizeof *a);
}

/* Widens the window to hold hours [lo, hi); false if it would exceed RP_MAX_HOURS or memory. */
static bool hours_cover(rp_hours *h, int64_t lo, int64_t hi, bool *nomem) {
    if (h->n) {
        lo = lo < h->base ? lo : h->base;
        hi = hi > h->base + (int64_t)h->n ? hi : h->base + (int64_t)h->n;
    }
    if (hi - lo > RP_MAX_HOURS)
        return false;
    size_t need = (size_t)(hi - lo);
    if (need > h->cap) {
        size_t cap = h->cap * 2 > need ? h->cap * 2 : need;
        cap = cap < 64 ? 64 : cap;
        uint64_t *c = prw__realloc(h->count, cap * sizeof *c);
        if (!c) {
            *nomem = true;
            return false;
        }
        h->count = c;
        h->cap = cap;
    }
    size_t shift = h->n ? (size_t)(h->base - lo) : 0;
    if (shift && h->n)
        memmove(h->count + shift, h->count, h->n * sizeof *h->count);
    memset(h->count, 0, shift * sizeof *h->count);
    size_t old_end = shift + h->n;
    memset(h->count + old_end, 0, (need - old_end) * sizeof *h->count);
    h->base = lo;
    h->n = need;
    return true;
}

static inline int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static void add_time(rp_acc *a, int split, int64_t us, bool *nomem) {
    rp_hours *h = &a->hours[split];
    int64_t hr = floor_div(us, US_PER_HOUR);
    if (PRW_UNLIKELY(hr < h->base || hr >= h->base + (int64_t)h->n)) {
        if (!hours_cover(h, hr, hr + 1, nomem)) {
            a->time_outside[split]++;
            return;
        }
    }
    h->count[hr - h->base]++;
}

/* Adds the measurements of one inner batch to `a`; returns the version mask. */
static uint8_t add_rows(rp_acc *a, int split, const prw_ipc_batch *ib, bool *nomem) {
    const prw_ipc_array *et = &ib->columns[0], *ipv = &ib->columns[3], *rtt = &ib->columns[4];
    uint8_t mask = 0;
    for (int64_t i = 0; i < ib->length; i++) {
        int vc = prw_ipc_array_is_null(ipv, i) ? RP_VOTHER : prw__rp_vclass((int8_t)ipv->values[i]);
        mask |= (uint8_t)(1u << vc);
        a->meas[split][vc]++;
        if (prw_ipc_array_is_null(et, i))
            a->null_time[split]++;
        else
            add_time(a, split, (int64_t)prw__load_le64(et->values + 8 * i), nomem);
        if (prw_ipc_array_is_null(rtt, i)) {
            a->rtt_null[vc]++;
            continue;
        }
        uint32_t bits = prw__load_le32(rtt->values + 4 * i);
        float v;
        memcpy(&v, &bits, sizeof v);
        if (v == -1.0f)
            a->rtt_failed[vc]++;
        else if (!(v >= 0.0f))
            a->rtt_invalid[vc]++;
        else
            a->rtt_bins[vc][prw__rp_rtt_bin(v)]++;
    }
    return mask;
}

static prw_status rec_fail(scan *sc, uint64_t index, const char *what, const prw_error *e) {
    prw_status code = e->code == PRW_E_NOMEM ? PRW_E_NOMEM : PRW_E_CORRUPT;
    prw__mutex_lock(&sc->mu);
    if (!sc->failed) {
        sc->failed = true;
        if (code == PRW_E_NOMEM)
            sc->err = *e;
        else
            prw__error_set(&sc->err, code, e->offset, "record %llu is not a probe row: %s%s%s",
                           (unsigned long long)index, what, e->msg[0] ? ": " : "", e->msg);
    }
    prw__mutex_unlock(&sc->mu);
    return code;
}

/* This thread's accumulator for the current file, or NULL: use sc->shared under the lock. */
static rp_acc *thread_acc(scan *sc) {
    if (t_slot.gen == sc->gen)
        return t_slot.acc;
    t_slot.gen = sc->gen;
    t_slot.acc = NULL;
    int k = atomic_fetch_add(&sc->next_slot, 1);
    if (k < MAX_SLOTS) {
        if (!sc->slots[k])
            sc->slots[k] = prw__calloc(1, sizeof(rp_acc));
        t_slot.acc = sc->slots[k];
    }
    return t_slot.acc;
}

static prw_status add_record(scan *sc, const prw_ipc_batch *ob, const prw_ipc_batch *ib,
                             rp_rec *rec) {
    prw_bytes src = prw_ipc_array_bytes(&ib->columns[1], 0);
    rec->src_hash = prw__fnv1a64(PRW_FNV1A64_INIT, src.ptr, src.len);
    rec->src_len = (uint32_t)src.len;
    rec->src_id = prw_ipc_array_int(&ob->columns[0], 0);
    rec->n = (int32_t)prw_ipc_array_int(&ob->columns[2], 0);
    rec->first = prw_ipc_array_int(&ob->columns[4], 0);
    rec->last = prw_ipc_array_int(&ob->columns[5], 0);
    rec->seen = true;
    rp_acc *a = thread_acc(sc);
    bool nomem = false;
    if (a) {
        rec->vmask = add_rows(a, sc->split, ib, &nomem);
    } else {
        prw__mutex_lock(&sc->mu);
        rec->vmask = add_rows(&sc->shared, sc->split, ib, &nomem);
        prw__mutex_unlock(&sc->mu);
    }
    if (nomem) {
        prw__mutex_lock(&sc->mu);
        sc->nomem = true;
        prw__mutex_unlock(&sc->mu);
        return PRW_E_NOMEM;
    }
    return PRW_OK;
}

static prw_status on_record(void *ctx, uint64_t index, const uint8_t *data, size_t len) {
    scan *sc = ctx;
    prw_ipc_decoder *od = NULL, *id = NULL;
    prw_ipc_batch ob, ib;
    prw_error e;
    prw_error_clear(&e);
    prw_status st;
    if (prw_ipc_decoder_create(data, len, &od, &e) < 0 ||
        !prw_ipc_schema_equal(prw_ipc_decoder_schema(od), prw_ipc_outer_schema()) ||
        prw_ipc_decoder_next(od, &ob, &e) != PRW_OK || ob.length != 1 ||
        ob.columns[1].null_count != 0) {
        st = rec_fail(sc, index, "no outer row of the contract's schema", &e);
        goto out;
    }
    prw_bytes m = prw_ipc_array_bytes(&ob.columns[1], 0);
    if (prw_ipc_decoder_create(m.ptr, m.len, &id, &e) < 0 ||
        !prw_ipc_schema_equal(prw_ipc_decoder_schema(id), prw_ipc_inner_schema()) ||
        prw_ipc_decoder_next(id, &ib, &e) != PRW_OK || ib.length < 1) {
        st = rec_fail(sc, index, "measurements are not an inner stream of the contract", &e);
        goto out;
    }
    rp_rec *rec = &sc->r->split[sc->split].recs[sc->rec_base + index];
    rec->rec_len = len;
    rec->inner_len = m.len;
    st = add_record(sc, &ob, &ib, rec);
out:
    prw_ipc_decoder_destroy(od);
    prw_ipc_decoder_destroy(id);
    return st;
}

static prw_status merge_hours(rp_hours *dst, const rp_hours *src, prw_error *err) {
    if (!src->n)
        return PRW_OK;
    bool nomem = false;
    if (!hours_cover(dst, src->base, src->base + (int64_t)src->n, &nomem))
        return nomem
                   ? prw__error_nomem(err, "hour counts", src->n * 8)
                   : prw__error_set(err, PRW_E_LIMIT, -1, "time span over %d hours", RP_MAX_HOURS);
    for (size_t i = 0; i < src->n; i++)
        dst->count[(size_t)(src->base - dst->base) + i] += src->count[i];
    return PRW_OK;
}

static prw_status merge_acc(rp_acc *dst, rp_acc *src, prw_error *err) {
    for (int v = 0; v < RP_VCLASSES; v++) {
        for (int k = 0; k < RP_RTT_BINS; k++)
            dst->rtt_bins[v][k] += src->rtt_bins[v][k];
        dst->rtt_failed[v] += src->rtt_failed[v];
        dst->rtt_null[v] += src->rtt_null[v];
        dst->rtt_invalid[v] += src->rtt_invalid[v];
    }
    for (int s = 0; s < RP_SPLITS; s++) {
        for (int v = 0; v < RP_VCLASSES; v++)
            dst->meas[s][v] += src->meas[s][v];
        dst->null_time[s] += src->null_time[s];
        dst->time_outside[s] += src->time_outside[s];
        PRW_TRY(merge_hours(&dst->hours[s], &src->hours[s], err));
    }
    prw__rp_acc_cleanup(src);
    return PRW_OK;
}

/* Reads the records of one file: all of them on the pool, or the sampled ones. */
static prw_status read_file(scan *sc, prw_ar_reader *rd, uint64_t n, prw_error *err) {
    const rp_split *sp = &sc->r->split[sc->split];
    if (!sc->r->sample)
        return prw_ar_reader_read_range(rd, 0, n, sc->r->workers, on_record, sc, err);
    uint64_t total = sp->records, want = sc->r->sample < total ? sc->r->sample : total;
    for (uint64_t i = 0; i < want; i++) {
        uint64_t g = (uint64_t)((double)i * (double)total / (double)want);
        if (g < sc->rec_base || g >= sc->rec_base + n)
            continue;
        prw_bytes b;
        PRW_TRY(prw_ar_reader_read(rd, g - sc->rec_base, &b, err));
        PRW_TRY(on_record(sc, g - sc->rec_base, b.ptr, b.len));
    }
    return PRW_OK;
}

static prw_status scan_file(scan *sc, size_t f, prw_error *err) {
    rp_split *sp = &sc->r->split[sc->split];
    prw_ar_reader *rd = sp->readers[f];
    uint64_t n = sp->file_first[f + 1] - sp->file_first[f];
    sc->rec_base = sp->file_first[f];
    sc->gen = atomic_fetch_add(&g_gen, 1);
    atomic_store(&sc->next_slot, 0);
    prw_status st = read_file(sc, rd, n, err);
    if (st < 0 && sc->failed && err)
        *err = sc->err;
    if (st < 0 && sc->nomem)
        st = prw__error_nomem(err, "hour counts", 0);
    for (int k = 0; k < MAX_SLOTS; k++)
        if (sc->slots[k] && st == PRW_OK)
            st = merge_acc(&sc->r->acc, sc->slots[k], err);
    if (st == PRW_OK)
        st = merge_acc(&sc->r->acc, &sc->shared, err);
    if (st < 0)
        prw__error_prefix(err, "%s: ", sp->files[f]);
    return st;
}

prw_status prw__rp_scan(prw_report *r, prw_error *err) {
    scan *sc = prw__calloc(1, sizeof *sc);
    if (!sc)
        return prw__error_nomem(err, "scan state", sizeof *sc);
    sc->r = r;
    prw__mutex_init(&sc->mu);
    prw_status st = PRW_OK;
    for (int s = 0; s < RP_SPLITS && st == PRW_OK; s++) {
        sc->split = s;
        for (size_t f = 0; f < r->split[s].n_files && st == PRW_OK; f++)
            st = scan_file(sc, f, err);
    }
    for (int k = 0; k < MAX_SLOTS; k++) {
        prw__rp_acc_cleanup(sc->slots[k]);
        prw__free(sc->slots[k]);
    }
    prw__rp_acc_cleanup(&sc->shared);
    prw__mutex_destroy(&sc->mu);
    prw__free(sc);
    return st;
}
