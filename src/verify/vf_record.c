/*
 * `proberows verify`: one record on its own. The outer batch (one row of the outer schema, no
 * NULL, exact layout), then the inner stream (one src_addr, src_id, times, first/last/span,
 * NULLs, exact sizes), leaving the record's summary and digest (docs/VERIFY.md).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "verify/vf_internal.h"

#define RFAIL(check, ...) prw__vf_fail(v, ORD_FILE(fi), f->name, (int64_t)index, check, __VA_ARGS__)

/* Outer record: one row of the outer schema, no NULL, exact layout. */
static bool check_outer(vctx *v, size_t fi, vfile *f, uint64_t index, const uint8_t *data,
                        size_t len, prw_ipc_decoder **dec, prw_ipc_batch *ob) {
    prw_error e;
    prw_error_clear(&e);
    if (prw_ipc_decoder_create(data, len, dec, &e) < 0) {
        RFAIL("schema", "the record is not an Arrow IPC stream: %s", e.msg);
        return false;
    }
    if (!prw_ipc_schema_equal(prw_ipc_decoder_schema(*dec), prw_ipc_outer_schema())) {
        RFAIL("schema", "the outer schema is not src_id int64, measurements binary, "
                        "n_measurements int32, time_span_seconds float64, first_timestamp "
                        "timestamp[us], last_timestamp timestamp[us]");
        return false;
    }
    prw_status st = prw_ipc_decoder_next(*dec, ob, &e);
    if (st != PRW_OK || ob->length != 1) {
        RFAIL("schema", "the outer stream does not hold one batch of one row%s%s",
              st < 0 ? ": " : "", st < 0 ? e.msg : "");
        return false;
    }
    for (size_t c = 0; c < ob->n_columns; c++)
        if (ob->columns[c].null_count != 0) {
            RFAIL("nulls", "outer field %s is NULL", prw_ipc_outer_schema()->fields[c].name);
            return false;
        }
    prw_bytes m = prw_ipc_array_bytes(&ob->columns[PRW_OUTER_MEASUREMENTS], 0);
    if (prw_ipc_outer_size(m.len) != len) {
        RFAIL("schema",
              "record of %zu bytes, the layout of an outer row with %zu bytes of "
              "measurements has %llu",
              len, m.len, (unsigned long long)prw_ipc_outer_size(m.len));
        return false;
    }
    prw_ipc_batch extra;
    if (prw_ipc_decoder_next(*dec, &extra, &e) != PRW_DONE) {
        RFAIL("schema", "the outer stream holds more than one batch");
        return false;
    }
    return true;
}

static inline int64_t ld_i64(const uint8_t *p, int64_t i) {
    return (int64_t)prw__load_le64(p + 8 * i);
}
static inline int32_t ld_i32(const uint8_t *p, int64_t i) {
    return (int32_t)prw__load_le32(p + 4 * i);
}

/* What the checks of one inner stream pass on to each other. */
typedef struct vinner {
    prw_ipc_batch ib;
    const prw_ipc_array *c; /* ib.columns, by prw_ipc_inner_col */
    int64_t n;
    prw_bytes src;
    int64_t src_id, first, last, failed;
    vdig dg;
    prw_ipc_inner_counts k;
} vinner;

/* The inner schema, one batch of n_measurements rows, the NULLs the policy allows. */
static bool inner_batch(vctx *v, size_t fi, vfile *f, uint64_t index, const prw_ipc_batch *ob,
                        prw_ipc_decoder *dec, vinner *in) {
    prw_error e;
    prw_error_clear(&e);
    if (!prw_ipc_schema_equal(prw_ipc_decoder_schema(dec), prw_ipc_inner_schema())) {
        RFAIL("schema", "the inner schema is not event_time timestamp[us], src_addr utf8, "
                        "dst_addr utf8, ip_version int8, rtt float32");
        return false;
    }
    if (prw_ipc_decoder_next(dec, &in->ib, &e) != PRW_OK) {
        RFAIL("schema", "measurements holds no record batch%s%s", e.msg[0] ? ": " : "", e.msg);
        return false;
    }
    const prw_ipc_array *c = in->c = in->ib.columns;
    int64_t n = in->n = in->ib.length;
    int32_t nm = (int32_t)prw_ipc_array_int(&ob->columns[PRW_OUTER_N_MEASUREMENTS], 0);
    if (n != nm || n < 1) {
        RFAIL("n_measurements", "n_measurements is %d, the measurements hold %lld rows", (int)nm,
              (long long)n);
        return false;
    }
    const prw_ipc_array *t = &c[PRW_INNER_EVENT_TIME], *s = &c[PRW_INNER_SRC_ADDR];
    if (t->null_count || s->null_count) {
        RFAIL("nulls", "%s is NULL in %lld rows", t->null_count ? "event_time" : "src_addr",
              (long long)(t->null_count ? t->null_count : s->null_count));
        return false;
    }
    const prw_ipc_array *rtt = &c[PRW_INNER_RTT];
    if (v->man.null_rtt != PRW_NULL_RTT_KEEP && rtt->null_count) {
        RFAIL("nulls", "rtt is NULL in %lld rows, which --null-rtt %s does not allow",
              (long long)rtt->null_count, v->man.null_rtt == PRW_NULL_RTT_DROP ? "drop" : "failed");
        return false;
    }
    return true;
}

/* One src_addr (every row equal to row 0) and its src_id. */
static bool inner_src(vctx *v, size_t fi, vfile *f, uint64_t index, const prw_ipc_batch *ob,
                      vinner *in) {
    const prw_ipc_array *sa = &in->c[PRW_INNER_SRC_ADDR];
    prw_bytes src = in->src = prw_ipc_array_bytes(sa, 0);
    for (int64_t r = 1; r < in->n; r++) {
        prw_bytes s = prw_ipc_array_bytes(sa, r);
        if (s.len != src.len || memcmp(s.ptr, src.ptr, s.len) != 0) {
            RFAIL("src_addr", "row %lld has src_addr '%.*s', row 0 '%.*s'", (long long)r,
                  (int)(s.len > 64 ? 64 : s.len), (const char *)s.ptr,
                  (int)(src.len > 64 ? 64 : src.len), (const char *)src.ptr);
            return false;
        }
    }
    in->src_id = prw_ipc_array_int(&ob->columns[PRW_OUTER_SRC_ID], 0);
    int64_t want_id = prw__pl_src_id(src.ptr, src.len);
    if (in->src_id != want_id) {
        RFAIL("src_id", "src_id %lld, the top 60 bits of md5('%.*s') are %lld",
              (long long)in->src_id, (int)(src.len > 64 ? 64 : src.len), (const char *)src.ptr,
              (long long)want_id);
        return false;
    }
    return true;
}

/* Times in order, the digest and the -1.0 rtts, in one pass over raw little-endian values. */
static bool inner_rows(vctx *v, size_t fi, vfile *f, uint64_t index, vinner *in) {
    const prw_ipc_array *c = in->c;
    const prw_ipc_array *dst = &c[PRW_INNER_DST_ADDR], *ipa = &c[PRW_INNER_IP_VERSION];
    const prw_ipc_array *rtt = &c[PRW_INNER_RTT];
    const uint8_t *tv = c[PRW_INNER_EVENT_TIME].values, *dv = dst->values, *doff = dst->offsets;
    dig_init(&in->dg);
    int64_t prev = INT64_MIN;
    for (int64_t r = 0; r < in->n; r++) {
        int64_t t = ld_i64(tv, r);
        if (t < prev) {
            RFAIL("order", "event_time decreases at row %lld (%lld after %lld)", (long long)r,
                  (long long)t, (long long)prev);
            return false;
        }
        prev = t;
        unsigned nulls = 0;
        uint64_t dh = NULL_DST_HASH;
        if (prw_ipc_array_is_null(dst, r)) {
            nulls |= NULL_DST;
        } else {
            int32_t a = ld_i32(doff, r), b = ld_i32(doff, r + 1);
            dh = prw__pl_hash(dv + a, (size_t)(b - a));
        }
        int8_t ipv = 0;
        if (prw_ipc_array_is_null(ipa, r))
            nulls |= NULL_IPV;
        else
            ipv = (int8_t)ipa->values[r];
        uint32_t rb = 0;
        if (prw_ipc_array_is_null(rtt, r))
            nulls |= NULL_RTT;
        else
            rb = prw__load_le32(rtt->values + 4 * r);
        in->failed += rb == 0xBF800000u; /* -1.0f */
        dig_add(&in->dg, row_hash(t, dh, ipv, rb, nulls));
    }
    in->first = ld_i64(tv, 0);
    in->last = ld_i64(tv, in->n - 1);
    return true;
}

/* first/last_timestamp and the span against the rows; the exact size and the row limit. */
static bool inner_sizes(vctx *v, size_t fi, vfile *f, uint64_t index, const prw_ipc_batch *ob,
                        size_t len, vinner *in) {
    int64_t of = prw_ipc_array_int(&ob->columns[PRW_OUTER_FIRST_TIMESTAMP], 0);
    int64_t ol = prw_ipc_array_int(&ob->columns[PRW_OUTER_LAST_TIMESTAMP], 0);
    if (of != in->first || ol != in->last) {
        RFAIL("first_last", "first/last_timestamp %lld/%lld, the measurements run %lld..%lld",
              (long long)of, (long long)ol, (long long)in->first, (long long)in->last);
        return false;
    }
    double span = prw_ipc_array_float(&ob->columns[PRW_OUTER_TIME_SPAN_SECONDS], 0);
    double want = (double)(in->last - in->first) / 1e6;
    if (!(fabs(span - want) <= 0.01) || span != want) {
        RFAIL("span", "time_span_seconds %.17g, (last - first) / 1e6 is %.17g", span, want);
        return false;
    }
    const prw_ipc_array *c = in->c;
    prw_ipc_inner_counts *k = &in->k;
    k->rows = in->n;
    k->src_bytes = (int64_t)in->src.len * in->n;
    k->dst_bytes = c[PRW_INNER_DST_ADDR].data_len;
    k->null_dst = c[PRW_INNER_DST_ADDR].null_count;
    k->null_ip_version = c[PRW_INNER_IP_VERSION].null_count;
    k->null_rtt = c[PRW_INNER_RTT].null_count;
    uint64_t size = prw_ipc_stream_size(k);
    if (size != len) {
        RFAIL("schema", "measurements is %zu bytes, the layout of these rows has %llu", len,
              (unsigned long long)size);
        return false;
    }
    if (size > v->man.max_row && in->n > 1) {
        RFAIL("row_size", "measurements of %llu bytes exceed max_row_size %llu with %lld rows",
              (unsigned long long)size, (unsigned long long)v->man.max_row, (long long)in->n);
        return false;
    }
    return true;
}

/* The record's summary for the checks across records. */
static bool keep_summary(vctx *v, size_t fi, vfile *f, uint64_t index, const vinner *in,
                         vrec *rec) {
    rec->src = prw__malloc(in->src.len ? in->src.len : 1);
    if (!rec->src) {
        RFAIL("arrayrecord", "out of memory keeping src_addr");
        return false;
    }
    const prw_ipc_array *c = in->c, *dst = &c[PRW_INNER_DST_ADDR];
    memcpy(rec->src, in->src.ptr, in->src.len);
    rec->src_len = (uint32_t)in->src.len;
    rec->n = (int32_t)in->n;
    rec->src_id = in->src_id;
    rec->first_t = in->first;
    rec->last_t = in->last;
    rec->counts = in->k;
    rec->first_nulls =
        (uint8_t)((prw_ipc_array_is_null(dst, 0) ? NULL_DST : 0) |
                  (prw_ipc_array_is_null(&c[PRW_INNER_IP_VERSION], 0) ? NULL_IPV : 0) |
                  (prw_ipc_array_is_null(&c[PRW_INNER_RTT], 0) ? NULL_RTT : 0));
    rec->first_dst_len = (rec->first_nulls & NULL_DST)
                             ? 0
                             : (uint32_t)(ld_i32(dst->offsets, 1) - ld_i32(dst->offsets, 0));
    rec->digest[0] = in->dg.d[0];
    rec->digest[1] = in->dg.d[1];
    rec->null_rtt = c[PRW_INNER_RTT].null_count;
    rec->failed_rtt = in->failed;
    rec->checked = true;
    return true;
}

/* Inner stream: schema, one src_addr, times in order, NULL policy, digest and size counts. */
static bool check_inner(vctx *v, size_t fi, vfile *f, uint64_t index, const prw_ipc_batch *ob,
                        vrec *rec) {
    prw_bytes mb = prw_ipc_array_bytes(&ob->columns[PRW_OUTER_MEASUREMENTS], 0);
    prw_ipc_decoder *dec = NULL;
    prw_error e;
    prw_error_clear(&e);
    vinner in;
    memset(&in, 0, sizeof in);
    bool ok = false;
    if (prw_ipc_decoder_create(mb.ptr, mb.len, &dec, &e) < 0) {
        RFAIL("schema", "measurements is not an Arrow IPC stream: %s", e.msg);
        goto out;
    }
    if (!inner_batch(v, fi, f, index, ob, dec, &in) || !inner_src(v, fi, f, index, ob, &in) ||
        !inner_rows(v, fi, f, index, &in) || !inner_sizes(v, fi, f, index, ob, mb.len, &in))
        goto out;
    prw_ipc_batch extra;
    if (prw_ipc_decoder_next(dec, &extra, &e) != PRW_DONE) {
        RFAIL("schema", "measurements holds more than one batch");
        goto out;
    }
    ok = keep_summary(v, fi, f, index, &in, rec);
out:
    prw_ipc_decoder_destroy(dec);
    return ok;
}

prw_status prw__vf_on_record(void *ctx, uint64_t index, const uint8_t *data, size_t len) {
    vread *rd = ctx;
    vctx *v = rd->v;
    size_t fi = rd->fi;
    vfile *f = rd->f;
    prw_ipc_decoder *dec = NULL;
    prw_ipc_batch ob;
    if (check_outer(v, fi, f, index, data, len, &dec, &ob))
        check_inner(v, fi, f, index, &ob, &f->recs[index]);
    prw_ipc_decoder_destroy(dec);
    return PRW_OK;
}
