/*
 * Benchmark of our bzip2 decoder (src/bzip2): decodes one .bz2 file (mmap'd) through
 * prw__bz_reader at each thread count and prints wall time, MB/s of compressed input, MB/s of
 * decoded output (10^6 bytes per second), the decoded size and its CRC-32 (to compare runs).
 *   bench_bzip2 [--runs N] [--threads 1,2] [--buffer MB] [FILE.bz2]
 * Without a file it compresses 64 MB of generated JSON-like lines with libbz2 (level 9) first.
 * Prints the median of N runs (default 3) per thread count.
 */
#include <bzlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bzip2/bz.h"
#include "common/hash.h"

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* 64 MB of lines shaped like RIPE Atlas ping results, compressed with libbz2 -9. */
static uint8_t *make_input(size_t *size) {
    size_t cap = 64u << 20, len = 0;
    char *text = malloc(cap + 512);
    if (!text)
        return NULL;
    uint64_t s = 42;
    while (len < cap) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        unsigned a = (unsigned)(s >> 33);
        len += (size_t)snprintf(
            text + len, 512,
            "{\"fw\":%u,\"dst_addr\":\"%u.%u.%u.%u\",\"src_addr\":\"10.0.%u.%u\","
            "\"timestamp\":%u,\"avg\":%u.%03u,\"result\":[{\"rtt\":%u.%u}]}\n",
            4700 + a % 900, a & 255, (a >> 8) & 255, (a >> 16) & 255, a >> 24, a % 7, a % 251,
            1700000000 + (unsigned)(len / 300), a % 300, a % 1000, a % 97, a % 10);
    }
    unsigned out_len = (unsigned)(len + len / 100 + 600);
    char *out = malloc(out_len);
    if (!out || BZ2_bzBuffToBuffCompress(out, &out_len, text, (unsigned)len, 9, 0, 0) != BZ_OK) {
        free(text);
        free(out);
        return NULL;
    }
    free(text);
    *size = out_len;
    return (uint8_t *)out;
}

static int run(const uint8_t *data, size_t size, int threads, size_t buffer, double *secs,
               uint64_t *total, uint32_t *crc) {
    prw_error err;
    prw_error_clear(&err);
    prw__bz_reader *r = NULL;
    double t0 = prw__now();
    if (prw__bz_reader_create(data, size, "bench", threads, buffer, &r, &err) != PRW_OK) {
        fprintf(stderr, "bench_bzip2: %s\n", err.msg);
        return 1;
    }
    *total = 0;
    *crc = 0;
    for (;;) {
        const uint8_t *p;
        size_t n;
        if (prw__bz_reader_next(r, &p, &n, &err) < 0) {
            fprintf(stderr, "bench_bzip2: %s (at byte %lld)\n", err.msg, (long long)err.offset);
            prw__bz_reader_destroy(r);
            return 1;
        }
        if (n == 0)
            break;
        *total += n;
        *crc = prw__crc32(*crc, p, n);
    }
    prw__bz_reader_destroy(r);
    *secs = prw__now() - t0;
    return 0;
}

int main(int argc, char **argv) {
    int runs = 3;
    const char *threads_arg = "1,2", *file = NULL;
    size_t buffer = 64u << 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads_arg = argv[++i];
        else if (!strcmp(argv[i], "--buffer") && i + 1 < argc)
            buffer = (size_t)atol(argv[++i]) << 20;
        else
            file = argv[i];
    }
    if (runs < 1 || runs > 99)
        runs = 3;
    const uint8_t *data;
    size_t size = 0;
    if (file) {
        int fd = open(file, O_RDONLY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0) {
            fprintf(stderr, "bench_bzip2: cannot read %s\n", file);
            return 1;
        }
        size = (size_t)st.st_size;
        data = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (data == MAP_FAILED)
            return 1;
    } else {
        data = make_input(&size);
        if (!data)
            return 1;
        file = "(64 MB of generated lines, bzip2 -9)";
    }
    printf("bench_bzip2: %s, %.1f MB compressed\n", file, (double)size / 1e6);
    for (const char *t = threads_arg; *t;) {
        int threads = atoi(t);
        double secs[99];
        uint64_t total = 0;
        uint32_t crc = 0;
        for (int k = 0; k < runs; k++)
            if (run(data, size, threads, buffer, &secs[k], &total, &crc) != 0)
                return 1;
        qsort(secs, (size_t)runs, sizeof *secs, cmp);
        double med = secs[runs / 2];
        printf("threads %d: %.3f s, %.1f MB/s compressed, %.1f MB/s decoded (%llu bytes, "
               "crc32 %08x; median of %d)\n",
               threads, med, (double)size / 1e6 / med, (double)total / 1e6 / med,
               (unsigned long long)total, crc, runs);
        fflush(stdout);
        t = strchr(t, ',');
        if (!t)
            break;
        t++;
    }
    return 0;
}
