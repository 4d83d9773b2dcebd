/* Unit tests of src/arrow: byte-exact encodings against the reference streams, decoding of the
 * golden streams, exact sizes (property tests), round trips and malformed input. */
#include <math.h>
#include <stdlib.h>

#include "arrow/ipc_internal.h"
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

static const inner_case k_one = {1, {T0}, {"198.51.100.7"}, {4}, {12.5f}, {1}, "192.0.2.1",
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
    if (!strcmp(name, "one") || !strcmp(name, "three_null_rtt") ||
        !strcmp(name, "two_batches")) {
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

static const char *const k_golden[] = {"one",           "three_null_rtt", "ipv6_long",
                                       "twenty",        "nine_all_null",  "big",
                                       "zero_rows",     "no_batches",     "two_batches"};

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
        ASSERT_EQ_I64(batches, !strcmp(k_golden[k], "two_batches") ? 2
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
        uint8_t *ref = th_read(th_fmt("%s/testdata/arrow/ref_outer_%s.arrows", dir, names[k]), &len);
        ASSERT_TRUE(ref != NULL);
        inner_case c = *cases[k];
        prw_ipc_inner_columns cols;
        case_columns(&c, &cols);
        uint8_t inner[4096], out[8192], inplace[8192];
        size_t n = 0, m = 0, m2 = 0;
        prw_error err;
        ASSERT_OK(prw_ipc_encode_inner(&cols, 0, c.n, inner, sizeof inner, &n, &err), &err);
        prw_ipc_outer_row row = {941121303211370278LL, inner,           n, (int32_t)c.n,
                                 (double)(c.t[c.n - 1] - c.t[0]) / 1e6, c.t[0], c.t[c.n - 1]};
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
