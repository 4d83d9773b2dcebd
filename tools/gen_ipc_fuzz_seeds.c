/*
 * Writes the seed corpus of fuzz/fuzz_ipc_decode.c with our own encoder (shared test data is
 * never copied into the repository). Run by tools/gen_ipc_fuzz_seeds.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proberows/arrow_ipc.h"

static const char *g_dir;

static void put(const char *name, const uint8_t *p, size_t n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: gen_ipc_fuzz_seeds DIR\n");
        return 2;
    }
    g_dir = argv[1];
    static uint8_t a[1 << 16], b[1 << 16];
    size_t n, m;
    int64_t t[20], dof[21] = {0};
    int8_t ip[20];
    float rtt[20];
    uint8_t rv[20];
    char dd[400];
    for (int i = 0; i < 20; i++) {
        t[i] = 1700000000000000LL + i * 1000;
        ip[i] = 4;
        rtt[i] = (float)i + 0.5f;
        rv[i] = !(i == 0 || i == 7 || i == 8 || i == 19);
        int l = sprintf(dd + dof[i], "198.51.100.%d", i);
        dof[i + 1] = dof[i] + l;
    }
    prw_ipc_inner_columns c = {.event_time = t,
                               .src_data = "203.0.113.5",
                               .src_const_len = 11,
                               .dst_offsets = dof,
                               .dst_data = dd,
                               .ip_version = ip,
                               .rtt = rtt,
                               .rtt_valid = rv};
    if (prw_ipc_encode_inner(&c, 0, 20, a, sizeof a, &n, NULL) < 0)
        return 1;
    put("inner_twenty.arrows", a, n);
    /* Legacy framing: drop the continuation markers of the schema and batch messages. */
    size_t s1 = 416, k = 0;
    memcpy(b, a + 4, s1 - 4);
    k = s1 - 4;
    memcpy(b + k, a + s1 + 4, n - s1 - 4 - 8);
    k += n - s1 - 4 - 8;
    memset(b + k, 0, 4);
    put("inner_twenty_legacy.arrows", b, k + 4);
    if (prw_ipc_encode_inner(&c, 3, 3, a, sizeof a, &n, NULL) < 0)
        return 1;
    put("inner_zero_rows.arrows", a, n);
    put("inner_no_batches.arrows", a, 416);
    if (prw_ipc_encode_inner(&c, 5, 9, a, sizeof a, &n, NULL) < 0)
        return 1;
    put("inner_four.arrows", a, n);
    prw_ipc_outer_row row = {941121303211370278LL, a, n, 4, 0.004, t[5], t[8]};
    if (prw_ipc_encode_outer(&row, b, sizeof b, &m, NULL) < 0)
        return 1;
    put("outer_four.arrows", b, m);

    /* A generic schema with every supported type, a time zone and two batches. */
    prw_ipc_field f[] = {
        {"i8", PRW_IPC_INT8, 0, NULL, true},
        {"i16", PRW_IPC_INT16, 0, NULL, false},
        {"i32", PRW_IPC_INT32, 0, NULL, true},
        {"i64", PRW_IPC_INT64, 0, NULL, true},
        {"f32", PRW_IPC_FLOAT32, 0, NULL, true},
        {"f64", PRW_IPC_FLOAT64, 0, NULL, true},
        {"ts", PRW_IPC_TIMESTAMP, PRW_IPC_NANOSECOND, "UTC", true},
        {"s", PRW_IPC_UTF8, 0, NULL, true},
        {"bin", PRW_IPC_BINARY, 0, NULL, true},
    };
    prw_ipc_schema s = {f, 9};
    int64_t v64[10] = {1, -2, 3, -4, 5, 6, 7, 8, 9, 10};
    int64_t so[11] = {0, 1, 1, 3, 6, 6, 7, 9, 9, 10, 12};
    uint8_t valid[10] = {1, 0, 1, 1, 1, 0, 1, 1, 1, 1};
    prw_ipc_column cols[9];
    for (int i = 0; i < 9; i++)
        cols[i] = (prw_ipc_column){v64, NULL, 0, i % 2 ? NULL : valid};
    cols[7] = (prw_ipc_column){"abcdefghijkl", so, 0, valid};
    cols[8] = (prw_ipc_column){"\x00\x01\x02\xff\xfe\x80 xyz!?", so, 0, NULL};
    prw_ipc_writer *w;
    if (prw_ipc_writer_create(&s, &w, NULL) < 0)
        return 1;
    prw_bytes sm = prw_ipc_writer_schema_message(w);
    memcpy(a, sm.ptr, sm.len);
    k = sm.len;
    if (prw_ipc_writer_write_batch(w, cols, 0, 6, a + k, sizeof a - k, &m, NULL) < 0)
        return 1;
    k += m;
    if (prw_ipc_writer_write_batch(w, cols, 6, 10, a + k, sizeof a - k, &m, NULL) < 0)
        return 1;
    k += m;
    memcpy(a + k, "\xff\xff\xff\xff\0\0\0\0", 8);
    put("generic_two_batches.arrows", a, k + 8);
    prw_ipc_writer_destroy(w);
    return 0;
}
