/*
 * Fuzz target for the Arrow IPC decoder: any bytes → decoder → every batch → every value
 * through the public accessors. When the schema is the contract's inner schema, the decoded
 * rows are encoded again and the size must match prw_ipc_stream_size. Never crashes.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proberows/arrow_ipc.h"

/* Re-encodes an inner batch; returns 0 when sizes agree. Byte-per-row validity is rebuilt
 * from the bitmaps and string offsets widened to int64. */
static int reencode_inner(const prw_ipc_batch *b) {
    int64_t n = b->length;
    if (n > 100000)
        return 0;
    size_t rows = (size_t)n;
    int64_t *t = calloc(rows + 1, 8), *so = calloc(rows + 1, 8), *dof = calloc(rows + 1, 8);
    int8_t *ip = calloc(rows + 1, 1);
    float *rtt = calloc(rows + 1, 4);
    uint8_t *valid = calloc(5 * (rows + 1), 1);
    int rc = 0;
    if (!t || !so || !dof || !ip || !rtt || !valid)
        goto done;
    const prw_ipc_array *c = b->columns;
    prw_ipc_inner_counts k = {.rows = n};
    int64_t *nulls[5] = {&k.null_event_time, &k.null_src, &k.null_dst, &k.null_ip_version,
                         &k.null_rtt};
    for (int64_t i = 0; i < n; i++) {
        for (int col = 0; col < 5; col++) {
            valid[col * (rows + 1) + (size_t)i] = !prw_ipc_array_is_null(&c[col], i);
            *nulls[col] += prw_ipc_array_is_null(&c[col], i);
        }
        t[i] = prw_ipc_array_int(&c[0], i);
        ip[i] = (int8_t)prw_ipc_array_int(&c[3], i);
        rtt[i] = (float)prw_ipc_array_float(&c[4], i);
        prw_bytes s = prw_ipc_array_bytes(&c[1], i), d = prw_ipc_array_bytes(&c[2], i);
        so[i + 1] = so[i] + (int64_t)s.len;
        dof[i + 1] = dof[i] + (int64_t)d.len;
    }
    /* Offsets index the source data directly: rebase on the first row's start. */
    prw_bytes s0 = n ? prw_ipc_array_bytes(&c[1], 0) : (prw_bytes){NULL, 0};
    prw_bytes d0 = n ? prw_ipc_array_bytes(&c[2], 0) : (prw_bytes){NULL, 0};
    k.src_bytes = so[n];
    k.dst_bytes = dof[n];
    prw_ipc_inner_columns cols = {t,
                                  valid,
                                  so,
                                  (const char *)s0.ptr,
                                  0,
                                  valid + (rows + 1),
                                  dof,
                                  (const char *)d0.ptr,
                                  valid + 2 * (rows + 1),
                                  ip,
                                  valid + 3 * (rows + 1),
                                  rtt,
                                  valid + 4 * (rows + 1)};
    uint64_t want = prw_ipc_stream_size(&k);
    uint8_t *out = malloc(want ? want : 1);
    size_t got = 0;
    if (out && prw_ipc_encode_inner(&cols, 0, n, out, want, &got, NULL) == PRW_OK && got != want)
        abort(); /* exact size broken */
    free(out);
done:
    free(t);
    free(so);
    free(dof);
    free(ip);
    free(rtt);
    free(valid);
    return rc;
}

FUZZ_TARGET(ipc_decode) {
    prw_ipc_decoder *d;
    prw_error err;
    if (prw_ipc_decoder_create(data, size, &d, &err) != PRW_OK)
        return 0;
    const prw_ipc_schema *s = prw_ipc_decoder_schema(d);
    bool inner = prw_ipc_schema_equal(s, prw_ipc_inner_schema());
    prw_ipc_batch b;
    uint64_t sink = 0;
    while (prw_ipc_decoder_next(d, &b, &err) == PRW_OK) {
        for (size_t c = 0; c < b.n_columns; c++) {
            const prw_ipc_array *a = &b.columns[c];
            for (int64_t i = 0; i < b.length && i < 100000; i++) {
                sink += prw_ipc_array_is_null(a, i);
                if (a->type == PRW_IPC_UTF8 || a->type == PRW_IPC_BINARY) {
                    prw_bytes v = prw_ipc_array_bytes(a, i);
                    sink += v.len ? v.ptr[v.len - 1] : 0;
                } else if (a->type == PRW_IPC_FLOAT32 || a->type == PRW_IPC_FLOAT64) {
                    sink += prw_ipc_array_float(a, i) > 0;
                } else {
                    sink += (uint64_t)prw_ipc_array_int(a, i);
                }
            }
        }
        if (inner)
            reencode_inner(&b);
    }
    prw_ipc_decoder_destroy(d);
    (void)sink;
    return 0;
}
