/*
 * ArrayRecord benchmark (bench/README.md): writes and reads ~1 GB of records of mixed sizes
 * (100 B - 64 KiB, log-uniform, text-like bytes that zstd compresses about 3x).
 *
 *   write uncompressed, 1 thread          GB/s of record bytes (add loop; and with close+fsync)
 *   write zstd:3, 1 and 2 threads          vs raw libzstd level 3 (window_log 20) on the same
 *                                          record bytes with the same number of threads
 *   sequential read (next) of that file    GB/s
 *   random read(i), 100-byte records       reads/s, uncompressed, group_size 1, page cache
 *
 * Usage: bench_arrayrecord [MB (default 1024)] [DIR (default /tmp)] [RUNS (default 3)]
 * Each figure is the median of RUNS runs.
 */
#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "proberows/arrayrecord.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#define POOL (64u << 20)

static uint8_t *g_pool;
static size_t *g_off, *g_len;
static size_t g_n;
static uint64_t g_bytes;

/* Text-like pool: words from a small vocabulary with numbers, so zstd has work to do. */
static void make_data(uint64_t total) {
    static const char *const words[] = {"probe", "rtt", "ping", "from",   "dst_addr", "timestamp",
                                        "src",   "ttl", "size", "result", "msm_id",   "af",
                                        "avg",   "min", "max",  "sent",   "rcvd",     "lts"};
    g_pool = malloc(POOL);
    uint64_t s = 42;
    size_t p = 0;
    while (p + 32 < POOL) {
        if (rng(&s) % 3 == 0)
            p += (size_t)snprintf((char *)g_pool + p, 32, "%llu,",
                                  (unsigned long long)(rng(&s) % 100000));
        else
            p += (size_t)snprintf((char *)g_pool + p, 32,
                                  "\"%s\":", words[rng(&s) % (sizeof words / sizeof words[0])]);
    }
    memset(g_pool + p, ' ', POOL - p);
    size_t cap = 1 << 16;
    g_off = malloc(cap * sizeof *g_off);
    g_len = malloc(cap * sizeof *g_len);
    g_n = 0;
    g_bytes = 0;
    while (g_bytes < total) {
        if (g_n == cap) {
            cap *= 2;
            g_off = realloc(g_off, cap * sizeof *g_off);
            g_len = realloc(g_len, cap * sizeof *g_len);
        }
        /* log-uniform in [100, 65536] */
        double u = (double)(rng(&s) % 1000000) / 1e6;
        size_t len = (size_t)(100.0 * __builtin_exp(u * __builtin_log(655.36)));
        g_len[g_n] = len;
        g_off[g_n] = (size_t)(rng(&s) % (POOL - len));
        g_bytes += len;
        g_n++;
    }
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

static void die(const char *what, const prw_error *err) {
    fprintf(stderr, "bench: %s: %s\n", what, err->msg);
    exit(1);
}

/* CPU seconds (user + system, all threads) used by this process so far. */
static double cpu_now(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

static double g_cpu_s; /* CPU seconds of the last write_file add loop */

/* Writes all records; returns seconds of the add loop, *total_s includes close (fsync). */
static double write_file(const char *path, const char *options, int threads, double *total_s) {
    prw_error err;
    prw_error_clear(&err);
    prw_ar_options o;
    prw_ar_writer *w;
    if (prw_ar_options_parse(options, &o, &err) < 0 ||
        prw_ar_writer_open_opts(&w, path, &o, threads, &err) < 0)
        die("open", &err);
    double c0 = cpu_now();
    double t0 = now();
    for (size_t i = 0; i < g_n; i++)
        if (prw_ar_writer_add_record(w, g_pool + g_off[i], g_len[i], &err) < 0)
            die("add", &err);
    double t1 = now();
    g_cpu_s = cpu_now() - c0;
    if (prw_ar_writer_close(w, &err) < 0)
        die("close", &err);
    *total_s = now() - t0;
    return t1 - t0;
}

typedef struct zjob {
    size_t from, to;
    size_t out;
} zjob;

static void *zstd_worker(void *arg) {
    zjob *j = arg;
    ZSTD_CCtx *c = ZSTD_createCCtx();
    size_t cap = ZSTD_compressBound(65536);
    uint8_t *dst = malloc(cap);
    for (size_t i = j->from; i < j->to; i++) {
        ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
        ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
        ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, 20);
        size_t r = ZSTD_compress2(c, dst, cap, g_pool + g_off[i], g_len[i]);
        j->out += ZSTD_isError(r) ? 0 : r;
    }
    free(dst);
    ZSTD_freeCCtx(c);
    return NULL;
}

/* Raw libzstd level 3 over the same records (one frame each), on `threads` threads. */
static double raw_zstd(int threads) {
    pthread_t t[8];
    zjob jobs[8];
    double t0 = now();
    for (int k = 0; k < threads; k++) {
        jobs[k] =
            (zjob){g_n * (size_t)k / (size_t)threads, g_n * (size_t)(k + 1) / (size_t)threads, 0};
        pthread_create(&t[k], NULL, zstd_worker, &jobs[k]);
    }
    for (int k = 0; k < threads; k++)
        pthread_join(t[k], NULL);
    return now() - t0;
}

static double read_seq(const char *path) {
    prw_error err;
    prw_error_clear(&err);
    prw_ar_reader *r;
    if (prw_ar_reader_open(&r, path, &err) < 0)
        die("open for reading", &err);
    prw_bytes b;
    uint64_t sum = 0;
    double t0 = now();
    prw_status st;
    while ((st = prw_ar_reader_next(r, &b, &err)) == PRW_OK)
        sum += b.len;
    double dt = now() - t0;
    if (st != PRW_DONE || sum != g_bytes)
        die("sequential read", &err);
    prw_ar_reader_close(r);
    return dt;
}

int main(int argc, char **argv) {
    uint64_t mb = argc > 1 ? strtoull(argv[1], NULL, 10) : 1024;
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    int runs = argc > 3 ? atoi(argv[3]) : 3;
    if (runs < 1 || runs > 15)
        runs = 3;
    make_data(mb << 20);
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_arrayrecord.%d.ar", dir, (int)getpid());
    printf("arrayrecord bench: %zu records, %.3f GB of record bytes (100 B - 64 KiB), "
           "median of %d runs\n",
           g_n, (double)g_bytes / 1e9, runs);
    double gb = (double)g_bytes / 1e9, v[15], v2[15], total;

    double vc[15];
    for (int i = 0; i < runs; i++) {
        v[i] = gb / write_file(path, "uncompressed", 1, &total);
        v2[i] = gb / total;
        vc[i] = gb / g_cpu_s;
    }
    printf("write uncompressed, 1 thread:       %6.2f GB/s (add loop)  %6.2f GB/s (incl. "
           "close+fsync)  %6.2f GB per CPU-second (add loop)\n",
           median(v, runs), median(v2, runs), median(vc, runs));
    for (int i = 0; i < runs; i++)
        v[i] = gb / read_seq(path);
    printf("sequential read (next), uncompr.:   %6.2f GB/s\n", median(v, runs));

    for (int threads = 1; threads <= 2; threads++) {
        double v3[15];
        for (int i = 0; i < runs; i++) {
            v3[i] = gb / write_file(path, "zstd:3", threads, &total);
            vc[i] = gb / g_cpu_s;
            v[i] = gb / total;
            v2[i] = gb / raw_zstd(threads);
        }
        double ours = median(v, runs), raw = median(v2, runs);
        double loop = median(v3, runs);
        printf("write zstd:3, %d thread%s:             %6.3f GB/s (add loop) %6.3f GB/s (incl. "
               "close+fsync)   raw libzstd -3, %d thread%s: %6.3f GB/s   ratio %.2f / %.2f\n",
               threads, threads > 1 ? "s" : " ", loop, ours, threads, threads > 1 ? "s" : "", raw,
               loop / raw, ours / raw);
        printf("  zstd:3, %d thread%s: %6.3f GB per CPU-second (add loop, all threads)\n", threads,
               threads > 1 ? "s" : " ", median(vc, runs));
    }
    for (int i = 0; i < runs; i++)
        v[i] = gb / read_seq(path);
    printf("sequential read (next), zstd:3:     %6.2f GB/s\n", median(v, runs));

    /* random reads of small uncompressed records */
    const size_t nsmall = 1000000;
    prw_error err;
    prw_error_clear(&err);
    prw_ar_writer *w;
    if (prw_ar_writer_open(&w, path, "uncompressed", &err) < 0)
        die("open", &err);
    for (size_t i = 0; i < nsmall; i++)
        if (prw_ar_writer_add_record(w, g_pool + i * 37, 100, &err) < 0)
            die("add", &err);
    if (prw_ar_writer_close(w, &err) < 0)
        die("close", &err);
    prw_ar_reader *r;
    if (prw_ar_reader_open(&r, path, &err) < 0)
        die("open", &err);
    const size_t nreads = 3000000;
    for (int i = 0; i < runs; i++) {
        uint64_t s = 7 + (uint64_t)i, sum = 0;
        prw_bytes b;
        double t0 = now();
        for (size_t k = 0; k < nreads; k++) {
            if (prw_ar_reader_read(r, rng(&s) % nsmall, &b, &err) < 0)
                die("read", &err);
            sum += b.ptr[0];
        }
        v[i] = (double)nreads / (now() - t0);
        if (sum == 0)
            printf("(unexpected sum)\n");
    }
    prw_ar_reader_close(r);
    printf("random read(i), 100 B uncompressed: %6.2f M reads/s (1M records, page cache)\n",
           median(v, runs) / 1e6);
    unlink(path);
    return 0;
}
