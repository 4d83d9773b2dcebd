/*
 * Benchmark of the inner Arrow IPC encoder: 1M measurements from columnar buffers (µs
 * timestamps, a constant src_addr, ~12-byte dst_addr strings, ip_version, rtt with 2% nulls),
 * encoded (a) as one stream of 1M rows and (b) as 1000 probes of 1000 rows, on one thread.
 * Prints the median of several runs in GB/s of output (10^9 bytes per second).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proberows/arrow_ipc.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(void) {
    enum { N = 1000000, RUNS = 9, PROBE = 1000 };
    int64_t *t = malloc(8 * (size_t)N), *dof = malloc(8 * ((size_t)N + 1));
    int8_t *ip = malloc(N);
    float *rtt = malloc(4 * (size_t)N);
    uint8_t *rv = malloc(N);
    char *dd = malloc(16 * (size_t)N);
    if (!t || !dof || !ip || !rtt || !rv || !dd)
        return 1;
    uint64_t s = 1;
    dof[0] = 0;
    for (int i = 0; i < N; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        t[i] = 1700000000000000LL + (int64_t)i * 240000000LL;
        ip[i] = 4;
        rtt[i] = (float)(s >> 40) / 1e4f;
        rv[i] = (s >> 33) % 50 != 0;
        int l = sprintf(dd + dof[i], "10.%d.%d.%d", (int)(s >> 20 & 255), (int)(s >> 28 & 255),
                        (int)(s >> 36 & 255));
        dof[i + 1] = dof[i] + l;
    }
    prw_ipc_inner_columns c = {.event_time = t,
                               .src_data = "192.0.2.123",
                               .src_const_len = 11,
                               .dst_offsets = dof,
                               .dst_data = dd,
                               .ip_version = ip,
                               .rtt = rtt,
                               .rtt_valid = rv};
    prw_ipc_inner_counts k;
    if (prw_ipc_inner_count(&c, 0, N, &k, NULL) < 0)
        return 1;
    uint64_t size = prw_ipc_stream_size(&k);
    uint8_t *out = malloc(size);
    if (!out)
        return 1;
    memset(out, 0, size);
    double one[RUNS], many[RUNS];
    size_t got = 0, total = 0;
    for (int r = 0; r < RUNS; r++) {
        double t0 = now();
        if (prw_ipc_encode_inner(&c, 0, N, out, size, &got, NULL) < 0 || got != size)
            return 1;
        one[r] = (double)got / (now() - t0) / 1e9;
        t0 = now();
        total = 0;
        for (int64_t b = 0; b < N; b += PROBE) {
            if (prw_ipc_encode_inner(&c, b, b + PROBE, out, size, &got, NULL) < 0)
                return 1;
            total += got;
        }
        many[r] = (double)total / (now() - t0) / 1e9;
    }
    qsort(one, RUNS, sizeof *one, cmp);
    qsort(many, RUNS, sizeof *many, cmp);
    printf("ipc inner encode, 1M rows, one stream  : %.2f GB/s (median of %d; %zu bytes)\n",
           one[RUNS / 2], RUNS, (size_t)size);
    printf("ipc inner encode, 1000 probes x 1000   : %.2f GB/s (median of %d; %zu bytes)\n",
           many[RUNS / 2], RUNS, total);
    free(t);
    free(dof);
    free(ip);
    free(rtt);
    free(rv);
    free(dd);
    free(out);
    return 0;
}
