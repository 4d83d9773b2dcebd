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
