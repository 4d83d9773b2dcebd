/*
 * bench_verify: `verify --input` against `build` on the same data, in one process and one run.
 *   build/release/bench_verify [GLOB] [WORKERS] [RUNS]
 * Default GLOB: every .parquet file of /work/data/M, 2 workers, 3 runs. Each run builds into a
 * scratch directory, then verifies it (output only, then with the input re-read); prints each time
 * and the medians, and the throughput ratio verify/build (goal: verify --input >= 50% of build).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proberows/pipeline.h"
#include "proberows/verify.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
    const char *glob = argc > 1 ? argv[1] : "/work/data/M/*.parquet";
    int workers = argc > 2 ? atoi(argv[2]) : 2, runs = argc > 3 ? atoi(argv[3]) : 3;
    if (runs < 1 || runs > 50 || workers < 1) {
        fprintf(stderr, "usage: bench_verify [GLOB] [WORKERS] [RUNS]\n");
        return 2;
    }
    char dir[] = "/tmp/prw-bench-verify-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char out[sizeof dir + 8];
    snprintf(out, sizeof out, "%s/out", dir);
    double tb[50], tv[50], ti[50];
    int64_t rows = 0;
    for (int r = 0; r < runs; r++) {
        prw_build_options o;
        prw_build_options_init(&o);
        const char *in[1] = {glob};
        o.inputs = in;
        o.n_inputs = 1;
        o.output_dir = out;
        o.workers = workers;
        prw_build_stats st;
        prw_error err;
        prw_error_clear(&err);
        double t0 = now();
        if (prw_build(&o, &st, &err) < 0) {
            fprintf(stderr, "build: %s\n", err.msg);
            return 1;
        }
        tb[r] = now() - t0;
        rows = st.rows_read;
        for (int with_input = 0; with_input < 2; with_input++) {
            prw_verify_options vo;
            prw_verify_options_init(&vo);
            vo.dir = out;
            vo.workers = workers;
            if (with_input) {
                vo.inputs = in;
                vo.n_inputs = 1;
            }
            prw_verify_report rep;
            t0 = now();
            prw_status s = prw_verify(&vo, &rep, &err);
            double t = now() - t0;
            int64_t fails = rep.n_failures;
            prw_verify_report_cleanup(&rep);
            if (s < 0 || fails) {
                fprintf(stderr, "verify: %s (%lld failures)\n", s < 0 ? err.msg : "",
                        (long long)fails);
                return 1;
            }
            (with_input ? ti : tv)[r] = t;
        }
        printf("run %d: build %.2f s, verify %.2f s, verify --input %.2f s\n", r + 1, tb[r], tv[r],
               ti[r]);
        fflush(stdout);
    }
    double mb = median(tb, runs), mv = median(tv, runs), mi = median(ti, runs);
    printf("%s, %lld rows, %d workers, median of %d runs:\n", glob, (long long)rows, workers, runs);
    printf("  build           %.2f s  %.2f M rows/s\n", mb, (double)rows / mb / 1e6);
    printf("  verify          %.2f s  %.2f M rows/s\n", mv, (double)rows / mv / 1e6);
    printf("  verify --input  %.2f s  %.2f M rows/s  (%.0f%% of build's throughput)\n", mi,
           (double)rows / mi / 1e6, 100.0 * mb / mi);
    char cmd[sizeof dir + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
