/* Unit tests of src/arrow: byte-exact encodings against the reference streams, decoding of the
 * golden streams, exact sizes (property tests), round trips and malformed input. */
#include <math.h>
#include <stdlib.h>

#include "arrow/ipc_internal.h"
#include "common/hash.h"
#include "harness.h"

#define T0 1700000000000000LL

/* Columns of one small inner case, built from C literals. */
typedef struct inner_case {
    int64_t n;
    int64_t t[32];
    const char *dst[32];
    int8_t ip[32];
    float rtt[32];
    uint8_t rtt_valid[32];
    const char *src;
    /* derived */
    int64_t dst_off[33];
    char dst_data[1024];
} inner_case;

static void case_columns(inner_case *c, prw_ipc_inner_columns *cols) {
    c->dst_off[0] = 0;
    for (int64_t i = 0; i < c->n; i++) {
        size_t l = strlen(c->dst[i]);
        memcpy(c->dst_data + c->dst_off[i], c->dst[i], l);
        c->dst_off[i + 1] = c->dst_off[i] + (int64_t)l;
    }
    *cols = (prw_ipc_inner_columns){.event_time = c->t,
                                    .src_data = c->src,
                                    .src_const_len = strlen(c->src),
                                    .dst_offsets = c->dst_off,
                                    .dst_data = c->dst_data,
                                    .ip_version = c->ip,
                                    .rtt = c->rtt,
                                    .rtt_valid = c->rtt_valid};
}

static const inner_case k_one = {1,   {T0}, {"198.51.100.7"}, {4}, {12.5f}, {1}, "192.0.2.1",
                                 {0}, {0}};
static const inner_case k_three = {3,
                                   {T0, T0 + 500000, T0 + 1000001},
                                   {"198.51.100.7", "198.51.100.8", "198.51.100.9"},
                                   {4, 4, 4},
                                   {12.5f, 99.0f, 0.25f},
                                   {1, 0, 1},
                                   "192.0.2.1",
                                   {0},
                                   {0}};

TEST(ipc_ref_inner_bytes) {
    REQUIRE_SHARED(dir);
    const inner_case *cases[2] = {&k_one, &k_three};
    const char *names[2] = {"ref_inner_one", "ref_inner_three_null_rtt"};
    for (int k = 0; k < 2; k++) {
        size_t len;
        uint8_t *ref = th_read(th_fmt("%s/testdata/arrow/%s.arrows", dir, names[k]), &len);
        ASSERT_TRUE(ref != NULL);
        inner_case c = *cases[k];
        prw_ipc_inner_columns cols;
        case_columns(&c, &cols);
        uint8_t out[4096];
        size_t n = 0;
        prw_error err;
        ASSERT_OK(prw_ipc_encode_inner(&cols, 0, c.n, out, sizeof out, &n, &err), &err);
        ASSERT_EQ_I64(n, len);
        ASSERT_MEM_EQ(out, ref, len);
        prw_ipc_inner_counts cnt;
        ASSERT_OK(prw_ipc_inner_count(&cols, 0, c.n, &cnt, &err), &err);
        ASSERT_EQ_I64(prw_ipc_stream_size(&cnt), len);
    }
}

/* ---- golden streams: decoded values against the README's table --------------------------- */

typedef struct inner_row {
    int64_t t;
    char src[64];
    char dst[256];
    int ip;
    bool rtt_null;
    float rtt;
} inner_row;

/* Row i of a golden case as README.md lists it; returns the row count. */
static int64_t golden_row(const char *name, int64_t i, inner_row *r) {
    memset(r, 0, sizeof *r);
    r->ip = 4;
    if (!strcmp(name, "one") || !strcmp(name, "three_null_rtt") || !strcmp(name, "two_batches")) {
        int64_t n = !strcmp(name, "one") ? 1 : 3;
        static const int64_t dt[3] = {0, 500000, 1000001};
        r->t = T0 + dt[i];
        strcpy(r->src, "192.0.2.1");
        snprintf(r->dst, sizeof r->dst, "198.51.100.%d", (int)(7 + i));
        r->rtt_null = i == 1;
        r->rtt = i == 0 ? 12.5f : 0.25f;
        return n;
    }
    if (!strcmp(name, "ipv6_long")) {
        static const int64_t dt[4] = {1, 1, 2, 86400000000LL};
        static const char *dst[4] = {"::ffff:192.0.2.128", "2001:db8::1", NULL,
                                     "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"};
        r->t = T0 + dt[i];
        strcpy(r->src, "2001:0db8:85a3:0000:0000:8a2e:0370:7334");
        if (dst[i]) {
            strcpy(r->dst, dst[i]);
        } else {
            strcpy(r->dst, "fe80::1ff:fe23:4567:890a%");
            for (int k = 0; k < 40; k++)
                strcat(r->dst, "eth0.");
            strcat(r->dst, "z");
        }
        r->ip = 6;
        static const float rtt[4] = {0.001f, 250.75f, 0, 3.4028234663852886e38f};
        r->rtt = rtt[i];
        r->rtt_null = i == 2;
        return 4;
    }
    if (!strcmp(name, "twenty")) {
        r->t = T0 + i * 1000;
        strcpy(r->src, "203.0.113.5");
        snprintf(r->dst, sizeof r->dst, "198.51.100.%d", (int)i);
        r->rtt = (float)i + 0.5f;
        r->rtt_null = i == 0 || i == 7 || i == 8 || i == 19;
        return 20;
    }
    if (!strcmp(name, "nine_all_null")) {
        r->t = T0 + i;
        strcpy(r->src, "192.0.2.9");
        strcpy(r->dst, "192.0.2.10");
        r->rtt_null = true;
        return 9;
    }
    if (!strcmp(name, "big")) {
        r->t = T0 + i * 60000000LL;
        strcpy(r->src, "100.64.0.1");
        snprintf(r->dst, sizeof r->dst, "10.%d.%d.1", (int)((i >> 8) & 255), (int)(i & 255));
        r->rtt_null = i % 97 == 0;
        r->rtt = (float)(i % 1000) / 8;
        return 5000;
    }
    return 0; /* zero_rows, no_batches */
}

static bool bytes_eq(prw_bytes b, const char *s) {
    return b.len == strlen(s) && memcmp(b.ptr, s, b.len) == 0;
}

/* Decodes an inner stream and compares every value with golden_row; returns a message or NULL. */
static const char *check_inner(const uint8_t *data, size_t len, const char *name,
                               int64_t *batches) {
    prw_ipc_decoder *d;
    prw_error err;
    if (prw_ipc_decoder_create(data, len, &d, &err) < 0)
        return th_fmt("decode %s: %s", name, err.msg);
    const char *bad = NULL;
    if (!prw_ipc_schema_equal(prw_ipc_decoder_schema(d), prw_ipc_inner_schema()))
        bad = "schema differs";
    prw_ipc_batch b;
    prw_status st;
    int64_t row = 0;
    *batches = 0;
    inner_row r;
    while (!bad && (st = prw_ipc_decoder_next(d, &b, &err)) == PRW_OK) {
        ++*batches;
        for (int64_t i = 0; i < b.length && !bad; i++, row++) {
            if (row >= golden_row(name, row, &r)) {
                bad = "too many rows";
                break;
            }
            const prw_ipc_array *c = b.columns;
            if (prw_ipc_array_int(&c[0], i) != r.t || prw_ipc_array_is_null(&c[0], i))
                bad = th_fmt("%s row %lld: event_time", name, (long long)row);
            else if (!bytes_eq(prw_ipc_array_bytes(&c[1], i), r.src))
                bad = th_fmt("%s row %lld: src_addr", name, (long long)row);
            else if (!bytes_eq(prw_ipc_array_bytes(&c[2], i), r.dst))
                bad = th_fmt("%s row %lld: dst_addr", name, (long long)row);
            else if (prw_ipc_array_int(&c[3], i) != r.ip)
                bad = th_fmt("%s row %lld: ip_version", name, (long long)row);
            else if (prw_ipc_array_is_null(&c[4], i) != r.rtt_null)
                bad = th_fmt("%s row %lld: rtt null", name, (long long)row);
            else if (!r.rtt_null && (float)prw_ipc_array_float(&c[4], i) != r.rtt)
                bad = th_fmt("%s row %lld: rtt %g != %g", name, (long long)row,
                             prw_ipc_array_float(&c[4], i), (double)r.rtt);
        }
    }
    if (!bad && st < 0)
        bad = th_fmt("%s: %s", name, err.msg);
    if (!bad && row != golden_row(name, 0, &r))
        bad = th_fmt("%s: %lld rows", name, (long long)row);
    prw_ipc_decoder_destroy(d);
    return bad;
}

static const char *const k_golden[] = {"one",       "three_null_rtt", "ipv6_long",
                                       "twenty",    "nine_all_null",  "big",
                                       "zero_rows", "no_batches",     "two_batches"};

TEST(ipc_golden_inner_values) {
    REQUIRE_SHARED(dir);
    for (size_t k = 0; k < sizeof k_golden / sizeof *k_golden; k++) {
        size_t len;
        uint8_t *data =
            th_read(th_fmt("%s/testdata/arrow/inner_%s.arrows", dir, k_golden[k]), &len);
        ASSERT_TRUE(data != NULL);
        int64_t batches;
        const char *bad = check_inner(data, len, k_golden[k], &batches);
        if (bad)
            th_fail(__FILE__, __LINE__, "%s", bad);
        ASSERT_TRUE(bad == NULL);
        ASSERT_EQ_I64(batches, !strcmp(k_golden[k], "two_batches")  ? 2
                               : !strcmp(k_golden[k], "no_batches") ? 0
                                                                    : 1);
    }
}

TEST(ipc_golden_outer_values) {
    REQUIRE_SHARED(dir);
    static const struct {
        const char *name;
        int64_t src_id, n, first, last;
        double span;
    } k[] = {
        {"one", 941121303211370278LL, 1, T0, T0, 0},
        {"three_null_rtt", 941121303211370278LL, 3, T0, T0 + 1000001, 1000001 / 1e6},
        {"ipv6_long", 759260742385702687LL, 4, T0 + 1, T0 + 86400000000LL, 86399999999 / 1e6},
        {"twenty", 570997207918024829LL, 20, T0, T0 + 19000, 19000 / 1e6},
        {"nine_all_null", 907598133743080978LL, 9, T0, T0 + 8, 8 / 1e6},
        {"big", 1138994204543378053LL, 5000, T0, T0 + 299940000000LL, 299940},
    };
    for (size_t i = 0; i < sizeof k / sizeof *k; i++) {
        size_t len, ilen;
        uint8_t *data = th_read(th_fmt("%s/testdata/arrow/outer_%s.arrows", dir, k[i].name), &len);
        uint8_t *inner =
            th_read(th_fmt("%s/testdata/arrow/inner_%s.arrows", dir, k[i].name), &ilen);
        ASSERT_TRUE(data && inner);
        prw_ipc_decoder *d;
        prw_error err;
        ASSERT_OK(prw_ipc_decoder_create(data, len, &d, &err), &err);
        bool same = prw_ipc_schema_equal(prw_ipc_decoder_schema(d), prw_ipc_outer_schema());
        prw_ipc_batch b;
        prw_status st = prw_ipc_decoder_next(d, &b, &err);
        prw_ipc_batch b2;
        prw_status st2 = st == PRW_OK ? prw_ipc_decoder_next(d, &b2, &err) : st;
        bool ok = st == PRW_OK && st2 == PRW_DONE && b.length == 1 &&
                  prw_ipc_array_int(&b.columns[0], 0) == k[i].src_id &&
                  prw_ipc_array_int(&b.columns[2], 0) == k[i].n &&
                  prw_ipc_array_float(&b.columns[3], 0) == k[i].span &&
                  prw_ipc_array_int(&b.columns[4], 0) == k[i].first &&
                  prw_ipc_array_int(&b.columns[5], 0) == k[i].last;
        prw_bytes m = ok ? prw_ipc_array_bytes(&b.columns[1], 0) : (prw_bytes){NULL, 0};
        prw_ipc_decoder_destroy(d);
        ASSERT_TRUE(same);
        ASSERT_TRUE(ok);
        ASSERT_EQ_I64(m.len, ilen);
        ASSERT_MEM_EQ(m.ptr, inner, ilen);
    }
}

TEST(ipc_ref_outer_bytes) {
    REQUIRE_SHARED(dir);
    const inner_case *cases[2] = {&k_one, &k_three};
    const char *names[2] = {"one", "three_null_rtt"};
    for (int k = 0; k < 2; k++) {
        size_t len;
        uint8_t *ref =
            th_read(th_fmt("%s/testdata/arrow/ref_outer_%s.arrows", dir, names[k]), &len);
        ASSERT_TRUE(ref != NULL);
        inner_case c = *cases[k];
        prw_ipc_inner_columns cols;
        case_columns(&c, &cols);
        uint8_t inner[4096], out[8192], inplace[8192];
        size_t n = 0, m = 0, m2 = 0;
        prw_error err;
        ASSERT_OK(prw_ipc_encode_inner(&cols, 0, c.n, inner, sizeof inner, &n, &err), &err);
        prw_ipc_outer_row row = {941121303211370278LL,
                                 inner,
                                 n,
                                 (int32_t)c.n,
                                 (double)(c.t[c.n - 1] - c.t[0]) / 1e6,
                                 c.t[0],
                                 c.t[c.n - 1]};
        ASSERT_OK(prw_ipc_encode_outer(&row, out, sizeof out, &m, &err), &err);
        ASSERT_EQ_I64(m, len);
        ASSERT_EQ_I64(prw_ipc_outer_size(n), len);
        ASSERT_MEM_EQ(out, ref, len);
        /* The pipeline's path: inner encoded in place, outer wrapped around it without a copy. */
        memset(inplace, 0xAA, sizeof inplace);
        ASSERT_OK(prw_ipc_encode_inner(&cols, 0, c.n, inplace + PRW_IPC_OUTER_INNER_OFFSET,
                                       sizeof inplace - PRW_IPC_OUTER_INNER_OFFSET, &n, &err),
                  &err);
        row.measurements = inplace + PRW_IPC_OUTER_INNER_OFFSET;
        ASSERT_OK(prw_ipc_encode_outer(&row, inplace, sizeof inplace, &m2, &err), &err);
        ASSERT_EQ_I64(m2, len);
        ASSERT_MEM_EQ(inplace, ref, len);
        /* One byte short is refused. */
        ASSERT_ERR(prw_ipc_encode_outer(&row, out, len - 1, &m, &err), PRW_E_LIMIT);
    }
}

TEST(ipc_schema_messages_are_the_spec_constants) {
    /* ARROW_IPC.md §4: 416-byte inner and 536-byte outer schema messages; the constant part
     * of the size formula is 792 and 992. */
    prw_ipc_inner_counts z = {0};
    ASSERT_EQ_I64(prw_ipc_stream_size(&z), 792 + 8 + 8); /* 2 × P(4) offsets */
    ASSERT_EQ_I64(prw_ipc_outer_size(0), 992);
    ASSERT_EQ_I64(prw_ipc_outer_size(1), 1000);
    prw_ipc_writer *w;
    prw_error err;
    ASSERT_OK(prw_ipc_writer_create(prw_ipc_inner_schema(), &w, &err), &err);
    ASSERT_EQ_I64(prw_ipc_writer_schema_message(w).len, 416);
    prw_ipc_writer_destroy(w);
    ASSERT_OK(prw_ipc_writer_create(prw_ipc_outer_schema(), &w, &err), &err);
    ASSERT_EQ_I64(prw_ipc_writer_schema_message(w).len, 536);
    prw_ipc_writer_destroy(w);
    /* Impossible counts give 0, never a size. */
    prw_ipc_inner_counts bad = {.rows = 3, .null_rtt = 4};
    ASSERT_EQ_I64(prw_ipc_stream_size(&bad), 0);
    bad = (prw_ipc_inner_counts){.rows = -1};
    ASSERT_EQ_I64(prw_ipc_stream_size(&bad), 0);
}

/* ---- property tests: exact sizes and round trips ------------------------------------------ */

/* A random validity array of n bytes: NULL, all valid, all null, or mixed. Harness-owned. */
static uint8_t *rand_valid(uint64_t *rs, int64_t n) {
    int mode = (int)(th_rand(rs) % 4);
    if (mode == 0)
        return NULL;
    uint8_t *v = (uint8_t *)th_fmt("%*s", (int)(n + 1), "");
    for (int64_t i = 0; i < n; i++)
        v[i] = mode == 1   ? (uint8_t)(1 + th_rand(rs) % 255)
               : mode == 2 ? 0
                           : (uint8_t)(th_rand(rs) % 3 ? 1 + th_rand(rs) % 200 : 0);
    return v;
}

static int64_t zeros(const uint8_t *v, int64_t b, int64_t e) {
    int64_t z = 0;
    for (int64_t i = b; v && i < e; i++)
        z += v[i] == 0;
    return z;
}

/* Random string column of n rows: int64 offsets into harness-owned data. */
static void rand_strings(uint64_t *rs, int64_t n, int64_t **offs, char **data) {
    int64_t *o = (int64_t *)th_fmt("%*s", (int)(8 * (n + 1)), "");
    o[0] = (int64_t)(th_rand(rs) % 5); /* offsets need not start at 0 */
    bool huge = th_rand(rs) % 8 == 0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t r = th_rand(rs) % 10;
        int64_t l = r < 3 ? 0 : (int64_t)(th_rand(rs) % 40);
        if (huge && i == n / 2)
            l = 65536;
        o[i + 1] = o[i] + l;
    }
    char *d = th_fmt("%*s", (int)(o[n] + 1), "");
    for (int64_t i = 0; i < o[n]; i++)
        d[i] = (char)(' ' + th_rand(rs) % 95);
    *offs = o;
    *data = d;
}

TEST(ipc_inner_size_and_roundtrip_property) {
    uint64_t rs = 12345;
    static const int64_t sizes[] = {0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 200, 1000};
    for (int iter = 0; iter < 400; iter++) {
        int64_t total = iter < 13 ? sizes[iter] + 20 : (int64_t)(th_rand(&rs) % 300);
        int64_t b = total ? (int64_t)(th_rand(&rs) % (uint64_t)(total + 1)) : 0;
        int64_t e = b + (int64_t)(th_rand(&rs) % (uint64_t)(total - b + 1));
        if (iter < 13) {
            b = (int64_t)(th_rand(&rs) % 20);
            e = b + sizes[iter];
        }
        int64_t *t = (int64_t *)th_fmt("%*s", (int)(8 * total + 8), "");
        int8_t *ip = (int8_t *)th_fmt("%*s", (int)total + 1, "");
        float *rtt = (float *)th_fmt("%*s", (int)(4 * total + 4), "");
        for (int64_t i = 0; i < total; i++) {
            t[i] = (int64_t)th_rand(&rs);
            ip[i] = (int8_t)th_rand(&rs);
            uint32_t u = (uint32_t)th_rand(&rs);
            memcpy(&rtt[i], &u, 4);
        }
        prw_ipc_inner_columns c = {.event_time = t, .ip_version = ip, .rtt = rtt};
        c.event_time_valid = rand_valid(&rs, total);
        c.src_valid = rand_valid(&rs, total);
        c.dst_valid = rand_valid(&rs, total);
        c.ip_version_valid = rand_valid(&rs, total);
        c.rtt_valid = rand_valid(&rs, total);
        char *sd, *dd;
        int64_t *so, *dof;
        rand_strings(&rs, total, &so, &sd);
        rand_strings(&rs, total, &dof, &dd);
        bool src_const = th_rand(&rs) % 2;
        c.src_offsets = src_const ? NULL : so;
        c.src_data = src_const ? "192.0.2.77" : sd;
        c.src_const_len = src_const ? (th_rand(&rs) % 3 ? 10 : 0) : 0;
        c.dst_offsets = dof;
        c.dst_data = dd;
        int64_t n = e - b;
        prw_ipc_inner_counts k = {
            n,
            src_const ? (int64_t)c.src_const_len * n : so[e] - so[b],
            dof[e] - dof[b],
            zeros(c.event_time_valid, b, e),
            zeros(c.src_valid, b, e),
            zeros(c.dst_valid, b, e),
            zeros(c.ip_version_valid, b, e),
            zeros(c.rtt_valid, b, e),
        };
        uint64_t want = prw_ipc_stream_size(&k);
        uint8_t *out = (uint8_t *)th_fmt("%*s", (int)want + 16, "");
        size_t got = 0;
        prw_error err;
        ASSERT_OK(prw_ipc_encode_inner(&c, b, e, out, want, &got, &err), &err);
        ASSERT_EQ_I64(got, want);
        ASSERT_EQ_I64(got % 8, 0);
        ASSERT_ERR(prw_ipc_encode_inner(&c, b, e, out, want - 1, &got, &err), PRW_E_LIMIT);
        prw_ipc_inner_counts k2;
        ASSERT_OK(prw_ipc_inner_count(&c, b, e, &k2, &err), &err);
        ASSERT_MEM_EQ(&k2, &k, sizeof k);

        prw_ipc_decoder *d;
        ASSERT_OK(prw_ipc_decoder_create(out, want, &d, &err), &err);
        prw_ipc_batch bt;
        prw_status st = prw_ipc_decoder_next(d, &bt, &err);
        const char *bad = st != PRW_OK ? err.msg : bt.length != n ? "length" : NULL;
        const uint8_t *valids[5] = {c.event_time_valid, c.src_valid, c.dst_valid,
                                    c.ip_version_valid, c.rtt_valid};
        for (int64_t i = 0; !bad && i < n; i++) {
            int64_t r = b + i;
            for (int col = 0; col < 5 && !bad; col++)
                if (prw_ipc_array_is_null(&bt.columns[col], i) != (valids[col] && !valids[col][r]))
                    bad = th_fmt("row %lld col %d validity", (long long)r, col);
            bool tn = prw_ipc_array_is_null(&bt.columns[0], i);
            bool ipn = prw_ipc_array_is_null(&bt.columns[3], i);
            bool rn = prw_ipc_array_is_null(&bt.columns[4], i);
            prw_bytes sb = prw_ipc_array_bytes(&bt.columns[1], i);
            prw_bytes db = prw_ipc_array_bytes(&bt.columns[2], i);
            float fr = (float)prw_ipc_array_float(&bt.columns[4], i);
            uint32_t ub, ua;
            memcpy(&ub, &fr, 4);
            memcpy(&ua, &rtt[r], 4);
            if (bad)
                break;
            if (prw_ipc_array_int(&bt.columns[0], i) != (tn ? 0 : t[r]))
                bad = "event_time";
            else if (prw_ipc_array_int(&bt.columns[3], i) != (ipn ? 0 : ip[r]))
                bad = "ip_version";
            else if (rn ? ub != 0 : (ub != ua && !(fr != fr)))
                bad = "rtt";
            else if (src_const ? (sb.len != c.src_const_len || memcmp(sb.ptr, c.src_data, sb.len))
                               : (sb.len != (size_t)(so[r + 1] - so[r]) ||
                                  memcmp(sb.ptr, sd + so[r], sb.len)))
                bad = "src_addr";
            else if (db.len != (size_t)(dof[r + 1] - dof[r]) || memcmp(db.ptr, dd + dof[r], db.len))
                bad = "dst_addr";
        }
        if (!bad && prw_ipc_decoder_next(d, &bt, &err) != PRW_DONE)
            bad = "no EOS";
        prw_ipc_decoder_destroy(d);
        if (bad)
            th_fail(__FILE__, __LINE__, "iteration %d rows [%lld, %lld): %s", iter, (long long)b,
                    (long long)e, bad);
        ASSERT_TRUE(bad == NULL);
    }
}

TEST(ipc_generic_writer_roundtrip_property) {
    uint64_t rs = 777;
    static const prw_ipc_type types[] = {PRW_IPC_INT8,      PRW_IPC_INT16,   PRW_IPC_INT32,
                                         PRW_IPC_INT64,     PRW_IPC_FLOAT32, PRW_IPC_FLOAT64,
                                         PRW_IPC_TIMESTAMP, PRW_IPC_UTF8,    PRW_IPC_BINARY};
    for (int iter = 0; iter < 100; iter++) {
        size_t nf = 1 + th_rand(&rs) % 12;
        prw_ipc_field f[12];
        prw_ipc_column c[12];
        int64_t total = (int64_t)(th_rand(&rs) % 100);
        int64_t b = total ? (int64_t)(th_rand(&rs) % (uint64_t)total) : 0;
        int64_t e = b + (int64_t)(th_rand(&rs) % (uint64_t)(total - b + 1));
        for (size_t i = 0; i < nf; i++) {
            f[i] = (prw_ipc_field){th_fmt("col_%zu_\xc3\xa9", i), types[th_rand(&rs) % 9],
                                   (prw_ipc_time_unit)(th_rand(&rs) % 4),
                                   th_rand(&rs) % 2 ? "Europe/Amsterdam" : NULL,
                                   th_rand(&rs) % 4 != 0};
            c[i] = (prw_ipc_column){0};
            c[i].valid = rand_valid(&rs, total);
            if (f[i].type == PRW_IPC_UTF8 || f[i].type == PRW_IPC_BINARY) {
                int64_t *o;
                char *d;
                rand_strings(&rs, total, &o, &d);
                c[i].offsets = o;
                c[i].values = d;
            } else {
                uint8_t *v = (uint8_t *)th_fmt("%*s", (int)(8 * total + 8), "");
                for (int64_t k = 0; k < 8 * total; k++)
                    v[k] = (uint8_t)th_rand(&rs);
                c[i].values = v;
            }
        }
        prw_ipc_schema s = {f, nf};
        prw_ipc_writer *w;
        prw_error err;
        ASSERT_OK(prw_ipc_writer_create(&s, &w, &err), &err);
        uint64_t size = 0;
        prw_status st = prw_ipc_writer_stream_size(w, c, b, e, &size, &err);
        uint8_t *out = (uint8_t *)th_fmt("%*s", (int)size + 8, "");
        size_t got = 0;
        if (st >= 0)
            st = prw_ipc_writer_write_stream(w, c, b, e, out, size, &got, &err);
        prw_ipc_writer_destroy(w);
        ASSERT_OK(st, &err);
        ASSERT_EQ_I64(got, size);
        prw_ipc_decoder *d;
        ASSERT_OK(prw_ipc_decoder_create(out, got, &d, &err), &err);
        const char *bad = NULL;
        const prw_ipc_schema *ds = prw_ipc_decoder_schema(d);
        if (!prw_ipc_schema_equal(ds, &s))
            bad = "schema";
        prw_ipc_batch bt;
        if (!bad && prw_ipc_decoder_next(d, &bt, &err) != PRW_OK)
            bad = err.msg;
        for (size_t i = 0; !bad && i < nf; i++) {
            const prw_ipc_array *a = &bt.columns[i];
            size_t wd = prw_ipc_type_width(f[i].type);
            for (int64_t r = 0; !bad && r < e - b; r++) {
                bool null = c[i].valid && !c[i].valid[b + r];
                if (prw_ipc_array_is_null(a, r) != null)
                    bad = "validity";
                else if (wd && memcmp(a->values + r * (int64_t)wd,
                                      null ? (const void *)"\0\0\0\0\0\0\0\0"
                                           : (const uint8_t *)c[i].values + (b + r) * (int64_t)wd,
                                      wd))
                    bad = "fixed value";
                else if (!wd) {
                    prw_bytes v = prw_ipc_array_bytes(a, r);
                    int64_t lo = c[i].offsets[b + r], hi = c[i].offsets[b + r + 1];
                    if (v.len != (size_t)(hi - lo) ||
                        memcmp(v.ptr, (const char *)c[i].values + lo, v.len))
                        bad = "string value";
                }
            }
        }
        prw_ipc_decoder_destroy(d);
        if (bad)
            th_fail(__FILE__, __LINE__, "iteration %d: %s", iter, bad);
        ASSERT_TRUE(bad == NULL);
    }
}

/* ---- malformed input must fail cleanly ------------------------------------------------------- */

/* Decodes a whole stream; returns the first error status, or PRW_DONE. */
static prw_status decode_all(const uint8_t *data, size_t len, prw_error *err, int64_t *rows) {
    prw_ipc_decoder *d;
    *rows = 0;
    prw_status st = prw_ipc_decoder_create(data, len, &d, err);
    if (st < 0)
        return st;
    prw_ipc_batch b;
    while ((st = prw_ipc_decoder_next(d, &b, err)) == PRW_OK)
        *rows += b.length;
    /* The decoder stays in its final state. */
    prw_status again = prw_ipc_decoder_next(d, &b, NULL);
    prw_ipc_decoder_destroy(d);
    return again == st ? st : PRW_E_INVALID;
}

/* The three_null_rtt inner stream (952 bytes); layout as in ref_inner_three_null_rtt. */
static size_t three_stream(uint8_t *out, size_t cap) {
    inner_case c = k_three;
    prw_ipc_inner_columns cols;
    case_columns(&c, &cols);
    size_t n = 0;
    if (prw_ipc_encode_inner(&cols, 0, c.n, out, cap, &n, NULL) < 0)
        return 0;
    return n;
}

#define BATCH_FB (416 + 8)                       /* RecordBatch flatbuffer of the inner stream */
#define NODE(i) (BATCH_FB + 0x50 + 16 * (i))     /* FieldNode i */
#define BUF(k) (BATCH_FB + 0x58 + 80 + 16 * (k)) /* Buffer k */
#define BODY 784

TEST(ipc_decode_truncations_fail_cleanly) {
    uint8_t s[1024];
    size_t n = three_stream(s, sizeof s);
    ASSERT_EQ_I64(n, 952);
    prw_error err;
    int64_t rows;
    ASSERT_EQ_I64(decode_all(s, n, &err, &rows), PRW_DONE);
    ASSERT_EQ_I64(rows, 3);
    for (size_t len = 0; len < n; len++) {
        uint8_t *copy = (uint8_t *)th_fmt("%*s", (int)len, ""); /* exact size: ASan sees overruns */
        memcpy(copy, s, len);
        prw_status st = decode_all(copy, len, &err, &rows);
        /* Ending on a message boundary is a valid (shorter) stream; anything else fails. */
        if (len == 416 || len == 944) {
            ASSERT_EQ_I64(st, PRW_DONE);
            ASSERT_EQ_I64(rows, len == 416 ? 0 : 3);
        } else {
            ASSERT_ERR(st, PRW_E_TRUNCATED);
            ASSERT_TRUE(err.offset >= 0 && err.offset <= (int64_t)len);
        }
    }
}

TEST(ipc_decode_corruptions_named) {
    uint8_t s[1024], m[1024];
    size_t n = three_stream(s, sizeof s);
    ASSERT_EQ_I64(n, 952);
    prw_error err;
    int64_t rows;
    struct {
        size_t at;
        uint32_t v;
        int width;
        prw_status want;
        const char *msg;
    } k[] = {
        {BUF(1), 4, 8, PRW_E_CORRUPT, "not 8-aligned"},
        {BUF(1) + 8, 1000, 8, PRW_E_CORRUPT, "outside"},
        {BUF(1) + 8, 16, 8, PRW_E_CORRUPT, "needs 24"},
        {NODE(4) + 8, 2, 8, PRW_E_CORRUPT, "zero bits"},
        {NODE(4) + 8, 4, 8, PRW_E_CORRUPT, "null count 4 of 3"},
        {NODE(2), 2, 8, PRW_E_CORRUPT, "has 2 rows"},
        {BODY + 72 + 4, 30, 4, PRW_E_CORRUPT, "below the previous"},
        {BODY + 72 + 12, 37, 4, PRW_E_CORRUPT, "data buffer has 36"},
        {BATCH_FB + 0x18, 100000, 8, PRW_E_TRUNCATED, "past the end"},
        {416 + 4, 0x7ffffff0, 4, PRW_E_TRUNCATED, "past the end"},
        {416 + 4, 0x80000000u, 4, PRW_E_CORRUPT, "negative metadata"},
        {BATCH_FB + 0x26, 2, 1, PRW_E_UNSUPPORTED, "dictionary"},
        {BATCH_FB + 0x26, 1, 1, PRW_E_CORRUPT, "unexpected message"},
        {BATCH_FB + 0x24, 1, 2, PRW_E_UNSUPPORTED, "version"},
        {BATCH_FB + 0x40, 0x7000, 4, PRW_E_CORRUPT, "out of bounds"},
        {BATCH_FB + 0x4c, 6, 4, PRW_E_CORRUPT, "6 field nodes"},
        {BATCH_FB + 0x14, 0x1000, 4, PRW_E_CORRUPT, "vtable"},
        {8 + 0x14, 0x11, 4, PRW_E_CORRUPT, "misaligned"}, /* schema header uoffset */
        {0, 0x12345678, 4, PRW_E_TRUNCATED, "past the end"},
    };
    for (size_t i = 0; i < sizeof k / sizeof *k; i++) {
        memcpy(m, s, n);
        if (k[i].width == 8)
            prw__store_le64(m + k[i].at, k[i].v);
        else if (k[i].width == 4)
            prw__store_le32(m + k[i].at, k[i].v);
        else if (k[i].width == 2)
            prw__store_le16(m + k[i].at, (uint16_t)k[i].v);
        else
            m[k[i].at] = (uint8_t)k[i].v;
        prw_error_clear(&err);
        prw_status st = decode_all(m, n, &err, &rows);
        if (st != k[i].want || !strstr(err.msg, k[i].msg))
            th_fail(__FILE__, __LINE__, "case %zu: status %d, message '%s'", i, st, err.msg);
        ASSERT_EQ_I64(st, k[i].want);
        ASSERT_TRUE(strstr(err.msg, k[i].msg) != NULL);
        ASSERT_TRUE(err.offset >= 0 && err.offset < (int64_t)n);
    }
    /* A field name without its NUL (the Verifier rejects it). */
    memcpy(m, s, n);
    uint8_t *name = NULL;
    for (size_t i = 0; i + 10 <= n && !name; i++)
        if (memcmp(m + i, "event_time", 10) == 0)
            name = m + i;
    ASSERT_TRUE(name != NULL);
    name[10] = 'x';
    ASSERT_ERR(decode_all(m, n, &err, &rows), PRW_E_CORRUPT);
    ASSERT_TRUE(strstr(err.msg, "NUL") != NULL);
    ASSERT_ERR(decode_all(s, 0, &err, &rows), PRW_E_TRUNCATED);
    ASSERT_ERR(decode_all((const uint8_t *)"\xff\xff\xff\xff\0\0\0\0", 8, &err, &rows),
               PRW_E_TRUNCATED);
}

TEST(ipc_decode_every_byte_flip_is_safe) {
    uint8_t s[1024];
    size_t n = three_stream(s, sizeof s);
    ASSERT_EQ_I64(n, 952);
    int64_t rows;
    prw_error err;
    static const uint8_t vals[] = {0x00, 0x01, 0x07, 0x80, 0xff};
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t v = 0; v < sizeof vals; v++) {
            uint8_t *m = (uint8_t *)th_fmt("%*s", (int)n, "");
            memcpy(m, s, n);
            if (m[i] == vals[v])
                continue;
            m[i] = vals[v];
            prw_status st = decode_all(m, n, &err, &rows);
            failed += st < 0;
            ASSERT_TRUE(st == PRW_DONE || st < 0);
            ASSERT_TRUE(st == PRW_DONE || err.msg[0]);
        }
    }
    ASSERT_TRUE(failed > 100); /* most header bytes matter */
}

TEST(ipc_alloc_failures_are_reported) {
    uint8_t s[1024];
    size_t n = three_stream(s, sizeof s);
    for (int64_t k = 1; k <= 4; k++) {
        prw_ipc_decoder *d = NULL;
        prw_error err;
        prw_alloc_fail_after(k);
        prw_status st = prw_ipc_decoder_create(s, n, &d, &err);
        prw_alloc_fail_after(0);
        ASSERT_TRUE(st == PRW_OK || st == PRW_E_NOMEM);
        prw_ipc_decoder_destroy(d);
        prw_ipc_writer *w = NULL;
        prw_alloc_fail_after(k);
        st = prw_ipc_writer_create(prw_ipc_outer_schema(), &w, &err);
        prw_alloc_fail_after(0);
        ASSERT_TRUE(st == PRW_OK || st == PRW_E_NOMEM);
        prw_ipc_writer_destroy(w);
    }
}

TEST(ipc_encoder_rejects_bad_arguments) {
    inner_case c = k_three;
    prw_ipc_inner_columns cols;
    case_columns(&c, &cols);
    uint8_t out[2048];
    size_t n;
    prw_error err;
    ASSERT_ERR(prw_ipc_encode_inner(&cols, 2, 1, out, sizeof out, &n, &err), PRW_E_INVALID);
    ASSERT_ERR(prw_ipc_encode_inner(&cols, -1, 1, out, sizeof out, &n, &err), PRW_E_INVALID);
    ASSERT_ERR(prw_ipc_encode_inner(&cols, 0, 3, out, 100, &n, &err), PRW_E_LIMIT);
    cols.dst_offsets = NULL;
    ASSERT_ERR(prw_ipc_encode_inner(&cols, 0, 3, out, sizeof out, &n, &err), PRW_E_INVALID);
    prw_ipc_field bad = {"x", (prw_ipc_type)99, 0, NULL, true};
    prw_ipc_schema s = {&bad, 1};
    prw_ipc_writer *w;
    ASSERT_ERR(prw_ipc_writer_create(&s, &w, &err), PRW_E_INVALID);
    s.n_fields = 0;
    ASSERT_ERR(prw_ipc_writer_create(&s, &w, &err), PRW_E_INVALID);
    prw_ipc_outer_row row = {0};
    row.measurements_len = 5;
    ASSERT_ERR(prw_ipc_encode_outer(&row, out, sizeof out, &n, &err), PRW_E_INVALID);
}

/* ---- interop: apache-arrow reads what we write ------------------------------------------------
 */

/* Writes `name`.arrows and `name`.json (expected values) into dir for ipc_interop.mjs. */
static bool write_case(const char *dir, const char *name, const prw_ipc_schema *s,
                       const prw_ipc_column *cols, int64_t b, int64_t e) {
    prw_ipc_writer *w;
    if (prw_ipc_writer_create(s, &w, NULL) < 0)
        return false;
    uint64_t size = 0;
    size_t got = 0;
    bool ok = prw_ipc_writer_stream_size(w, cols, b, e, &size, NULL) == PRW_OK;
    uint8_t *out = ok ? malloc(size) : NULL;
    ok = out && prw_ipc_writer_write_stream(w, cols, b, e, out, size, &got, NULL) == PRW_OK &&
         th_write(th_fmt("%s/%s.arrows", dir, name), out, got);
    free(out);
    prw_ipc_writer_destroy(w);
    FILE *f = fopen(th_fmt("%s/%s.json", dir, name), "w");
    if (!ok || !f) {
        if (f)
            fclose(f);
        return false;
    }
    fprintf(f, "{\"rows\":%lld,\"fields\":[", (long long)(e - b));
    for (size_t c = 0; c < s->n_fields; c++) {
        const prw_ipc_field *fd = &s->fields[c];
        fprintf(f, "%s{\"name\":\"%s\",\"type\":\"%s\"", c ? "," : "", fd->name,
                prw_ipc_type_name(fd->type, fd->unit));
        if (fd->timezone)
            fprintf(f, ",\"tz\":\"%s\"", fd->timezone);
        fputs(",\"values\":[", f);
        const prw_ipc_column *col = &cols[c];
        for (int64_t r = b; r < e; r++) {
            if (r > b)
                putc(',', f);
            if (col->valid && !col->valid[r]) {
                fputs("null", f);
                continue;
            }
            const uint8_t *v = col->values;
            switch (fd->type) {
            case PRW_IPC_INT8:
                fprintf(f, "%d", ((const int8_t *)v)[r]);
                break;
            case PRW_IPC_INT16:
                fprintf(f, "%d", ((const int16_t *)v)[r]);
                break;
            case PRW_IPC_INT32:
                fprintf(f, "%d", ((const int32_t *)v)[r]);
                break;
            case PRW_IPC_FLOAT32: {
                uint32_t u;
                memcpy(&u, v + 4 * r, 4);
                fprintf(f, "%u", u);
                break;
            }
            case PRW_IPC_FLOAT64: {
                uint64_t u;
                memcpy(&u, v + 8 * r, 8);
                fprintf(f, "\"%llu\"", (unsigned long long)u);
                break;
            }
            case PRW_IPC_INT64:
            case PRW_IPC_TIMESTAMP:
                fprintf(f, "\"%lld\"", (long long)((const int64_t *)v)[r]);
                break;
            default: {
                const uint8_t *p = col->offsets ? v + col->offsets[r] : v;
                size_t n =
                    col->offsets ? (size_t)(col->offsets[r + 1] - col->offsets[r]) : col->const_len;
                putc('"', f);
                for (size_t k = 0; k < n; k++)
                    fprintf(f, fd->type == PRW_IPC_BINARY ? "%02x" : "%c", p[k]);
                putc('"', f);
            }
            }
        }
        fputs("]}", f);
    }
    fputs("]}\n", f);
    return fclose(f) == 0;
}

/* A probe's measurements as check_rows.mjs wants them: sorted times, one src_addr, nulls
 * only in dst_addr, ip_version and rtt. Appends the framed outer record to `framed`. */
static bool append_outer(FILE *framed, const char *src, int64_t n, uint64_t seed) {
    int64_t *t = malloc(8 * (size_t)(n + 1)), *dof = malloc(8 * (size_t)(n + 1));
    int8_t *ip = malloc((size_t)n + 1);
    float *rtt = malloc(4 * (size_t)n + 4);
    uint8_t *dv = malloc((size_t)n + 1), *rv = malloc((size_t)n + 1), *iv = malloc((size_t)n + 1);
    char *dd = malloc(24 * (size_t)n + 1);
    bool ok = t && dof && ip && rtt && dv && rv && iv && dd;
    dof[0] = 0;
    for (int64_t i = 0; ok && i < n; i++) {
        t[i] = T0 + i * 1000 + (int64_t)(th_rand(&seed) % 1000);
        dv[i] = th_rand(&seed) % 13 != 0;
        rv[i] = th_rand(&seed) % 5 != 0;
        iv[i] = th_rand(&seed) % 11 != 0;
        ip[i] = 4;
        rtt[i] = (float)(th_rand(&seed) % 100000) / 64;
        int l = dv[i] ? sprintf(dd + dof[i], "10.%d.%d.%d", (int)(i >> 16 & 255),
                                (int)(i >> 8 & 255), (int)(i & 255))
                      : 0;
        dof[i + 1] = dof[i] + l;
    }
    prw_ipc_inner_columns c = {.event_time = t,
                               .src_data = src,
                               .src_const_len = strlen(src),
                               .dst_offsets = dof,
                               .dst_data = dd,
                               .dst_valid = dv,
                               .ip_version = ip,
                               .ip_version_valid = iv,
                               .rtt = rtt,
                               .rtt_valid = rv};
    prw_ipc_inner_counts k;
    uint8_t *rec = NULL;
    if (ok)
        ok = prw_ipc_inner_count(&c, 0, n, &k, NULL) == PRW_OK;
    uint64_t inner = ok ? prw_ipc_stream_size(&k) : 0, outer = prw_ipc_outer_size(inner);
    rec = ok ? malloc(outer) : NULL;
    size_t got = 0, got2 = 0;
    ok = rec && prw_ipc_encode_inner(&c, 0, n, rec + PRW_IPC_OUTER_INNER_OFFSET,
                                     outer - PRW_IPC_OUTER_INNER_OFFSET, &got, NULL) == PRW_OK;
    uint8_t md[16];
    prw__md5(src, strlen(src), md);
    int64_t src_id = (int64_t)(prw__load_be64(md) >> 4);
    prw_ipc_outer_row row = {src_id,          rec + PRW_IPC_OUTER_INNER_OFFSET,        got,
                             (int32_t)n,      n ? (double)(t[n - 1] - t[0]) / 1e6 : 0, n ? t[0] : 0,
                             n ? t[n - 1] : 0};
    ok = ok && prw_ipc_encode_outer(&row, rec, outer, &got2, NULL) == PRW_OK && got2 == outer;
    uint8_t len[4];
    prw__store_le32(len, (uint32_t)got2);
    ok = ok && fwrite(len, 1, 4, framed) == 4 && fwrite(rec, 1, got2, framed) == got2;
    free(t);
    free(dof);
    free(ip);
    free(rtt);
    free(dv);
    free(rv);
    free(iv);
    free(dd);
    free(rec);
    return ok;
}

TEST(ipc_interop_apache_arrow) {
    if (th_sh("command -v node >/dev/null 2>&1 && test -d tools/node_modules/apache-arrow") != 0)
        SKIP("node or tools/node_modules (cd tools && npm ci) is missing");
    const char *dir = th_tmpdir();
    uint64_t rs = 99;
    enum { N = 300 };
    static int64_t t[N], i64[N], so[N + 1], dof[N + 1];
    static int8_t ip[N];
    static int16_t i16[N];
    static int32_t i32[N];
    static float rtt[N];
    static double f64[N];
    static uint8_t v[5][N];
    static char sd[N * 8 + 70000], dd[N * 40];
    for (int i = 0; i < N; i++) {
        t[i] = T0 + (int64_t)(th_rand(&rs) % 1000000000);
        i64[i] = (int64_t)th_rand(&rs);
        ip[i] = (int8_t)th_rand(&rs);
        i16[i] = (int16_t)th_rand(&rs);
        i32[i] = (int32_t)th_rand(&rs);
        rtt[i] = (float)(th_rand(&rs) % 1000000) / 7.0f;
        f64[i] = (double)th_rand(&rs) / 3.0;
        for (int c = 0; c < 5; c++)
            v[c][i] = th_rand(&rs) % 4 != 0;
        int l = i % 9 == 0 ? 0 : sprintf(dd + dof[i], "h\xc3\xa9-%d", i);
        dof[i + 1] = dof[i] + l;
        size_t sl = i == 150 ? 65536 : (size_t)(th_rand(&rs) % 8);
        for (size_t k = 0; k < sl; k++)
            sd[so[i] + (int64_t)k] = (char)('a' + (k + (size_t)i) % 26);
        so[i + 1] = so[i] + (int64_t)sl;
    }
    const prw_ipc_schema *in = prw_ipc_inner_schema();
    prw_ipc_column ic[5] = {{t, NULL, 0, v[0]},
                            {sd, so, 0, v[1]},
                            {dd, dof, 0, v[2]},
                            {ip, NULL, 0, v[3]},
                            {rtt, NULL, 0, v[4]}};
    ASSERT_TRUE(write_case(dir, "inner_mixed", in, ic, 3, N - 5));
    ASSERT_TRUE(write_case(dir, "inner_zero", in, ic, 7, 7));
    ic[1] = (prw_ipc_column){"192.0.2.1", NULL, 9, NULL};
    ASSERT_TRUE(write_case(dir, "inner_const_src", in, ic, 0, 17));
    prw_ipc_field gf[] = {
        {"i16", PRW_IPC_INT16, 0, NULL, true},
        {"i32", PRW_IPC_INT32, 0, NULL, true},
        {"f64", PRW_IPC_FLOAT64, 0, NULL, true},
        {"ts_ns_utc", PRW_IPC_TIMESTAMP, PRW_IPC_NANOSECOND, "UTC", true},
        {"ts_s", PRW_IPC_TIMESTAMP, PRW_IPC_SECOND, NULL, true},
        {"bin", PRW_IPC_BINARY, 0, NULL, true},
        {"i64", PRW_IPC_INT64, 0, NULL, true},
    };
    prw_ipc_schema gs = {gf, 7};
    prw_ipc_column gc[7] = {{i16, NULL, 0, v[0]}, {i32, NULL, 0, NULL}, {f64, NULL, 0, v[1]},
                            {i64, NULL, 0, v[2]}, {t, NULL, 0, NULL},   {sd, so, 0, v[3]},
                            {i64, NULL, 0, v[4]}};
    ASSERT_TRUE(write_case(dir, "generic_all_types", &gs, gc, 1, 120));
    int rc = th_sh(th_fmt("node tests/interop/ipc_interop.mjs %s >&2", dir));
    ASSERT_EQ_I64(rc, 0);

    /* check_rows.mjs: pyarrow's byte rules and the contract's row invariants. */
    const char *shared = th_shared_dir();
    if (!shared)
        SKIP("../shared is absent: check_rows.mjs not run");
    FILE *framed = fopen(th_fmt("%s/outer.framed", dir), "wb");
    ASSERT_TRUE(framed != NULL);
    bool ok = append_outer(framed, "192.0.2.1", 1, 1) && append_outer(framed, "10.0.0.1", 9, 2) &&
              append_outer(framed, "2001:db8::1", 17, 3) &&
              append_outer(framed, "198.51.100.200", 5000, 4) &&
              append_outer(framed, "100.64.0.9", 65, 5);
    ASSERT_TRUE(fclose(framed) == 0 && ok);
    rc = th_sh(th_fmt(
        "NODE_PATH=\"$PWD/tools/node_modules\" node %s/bench/check_rows.mjs < %s/outer.framed "
        "> %s/check.json && grep -q '\"records\":5,.*\"errors\":0' %s/check.json",
        shared, dir, dir, dir));
    if (rc != 0)
        th_sh(th_fmt("cat %s/check.json >&2", dir));
    ASSERT_EQ_I64(rc, 0);
}

/* The column enums name the schemas' fields in order (verify, inspect and the CLI index
 * batches by them). */
TEST(ipc_column_enums_match_schemas) {
    const prw_ipc_schema *in = prw_ipc_inner_schema(), *out = prw_ipc_outer_schema();
    ASSERT_EQ_I64((int64_t)in->n_fields, PRW_INNER_COLUMNS);
    ASSERT_EQ_I64((int64_t)out->n_fields, PRW_OUTER_COLUMNS);
    ASSERT_EQ_STR(in->fields[PRW_INNER_EVENT_TIME].name, "event_time");
    ASSERT_EQ_STR(in->fields[PRW_INNER_SRC_ADDR].name, "src_addr");
    ASSERT_EQ_STR(in->fields[PRW_INNER_DST_ADDR].name, "dst_addr");
    ASSERT_EQ_STR(in->fields[PRW_INNER_IP_VERSION].name, "ip_version");
    ASSERT_EQ_STR(in->fields[PRW_INNER_RTT].name, "rtt");
    ASSERT_EQ_STR(out->fields[PRW_OUTER_SRC_ID].name, "src_id");
    ASSERT_EQ_STR(out->fields[PRW_OUTER_MEASUREMENTS].name, "measurements");
    ASSERT_EQ_STR(out->fields[PRW_OUTER_N_MEASUREMENTS].name, "n_measurements");
    ASSERT_EQ_STR(out->fields[PRW_OUTER_TIME_SPAN_SECONDS].name, "time_span_seconds");
    ASSERT_EQ_STR(out->fields[PRW_OUTER_FIRST_TIMESTAMP].name, "first_timestamp");
    ASSERT_EQ_STR(out->fields[PRW_OUTER_LAST_TIMESTAMP].name, "last_timestamp");
}
