/*
 * Parquet decode benchmark: decodes the five measurement columns (event_time, src_addr,
 * dst_addr, ip_version, rtt) of every row group of every file matching each GLOB, with 1 and 2
 * threads (each thread: its own decoder and buffers; row groups handed out in order), strings
 * kept as dictionary + indices where the file allows (what the pipeline uses). Prints the
 * median wall time of RUNS runs, including opening the files.
 *
 *   bench_parquet [--runs N] [GLOB...]   (default: the S and M sets, /work/data/S and /work/data/M)
 */
#include <glob.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proberows/parquet.h"

static const char *const k_cols[5] = {"event_time", "src_addr", "dst_addr", "ip_version", "rtt"};

typedef struct job {
    prw_pq_file **files;
    int nfiles;
    atomic_int next; /* index into the (file, row group) task list */
    int *task_file, *task_rg, ntasks;
    atomic_llong rows;
    atomic_int failed;
} job;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *worker(void *p) {
    job *j = p;
    prw_error err;
    prw_error_clear(&err);
    prw_pq_decoder *d = NULL;
    if (prw_pq_decoder_create(&d, &err) < 0) {
        j->failed = 1;
        return NULL;
    }
    prw_pq_column_data cd[5];
    for (int c = 0; c < 5; c++)
        prw_pq_column_data_init(&cd[c]);
    for (;;) {
        int t = atomic_fetch_add(&j->next, 1);
        if (t >= j->ntasks)
            break;
        prw_pq_file *f = j->files[j->task_file[t]];
        for (int c = 0; c < 5; c++) {
            int col = prw_pq_find_column(f, k_cols[c]);
            if (col < 0 || prw_pq_decode_column(d, f, j->task_rg[t], col, PRW_PQ_DECODE_DICT,
                                                &cd[c], &err) < 0) {
                fprintf(stderr, "bench_parquet: %s\n", err.msg);
                j->failed = 1;
                break;
            }
        }
        j->rows += prw_pq_row_group_rows(f, j->task_rg[t]);
    }
    for (int c = 0; c < 5; c++)
        prw_pq_column_data_cleanup(&cd[c]);
    prw_pq_decoder_destroy(d);
    return NULL;
}

/* One run: open all files, decode, close. Returns seconds or -1. */
static double run_once(glob_t *g, int threads, long long *rows) {
    double t0 = now();
    job j;
    memset(&j, 0, sizeof j);
    j.nfiles = (int)g->gl_pathc;
    j.files = calloc((size_t)j.nfiles, sizeof *j.files);
    int cap = 0;
    for (int i = 0; i < j.nfiles; i++) {
        prw_error err;
        prw_error_clear(&err);
        if (prw_pq_open(&j.files[i], g->gl_pathv[i], NULL, &err) < 0) {
            fprintf(stderr, "bench_parquet: %s\n", err.msg);
            return -1;
        }
        cap += prw_pq_num_row_groups(j.files[i]);
    }
    j.task_file = malloc(sizeof(int) * (size_t)(cap + 1));
    j.task_rg = malloc(sizeof(int) * (size_t)(cap + 1));
    for (int i = 0; i < j.nfiles; i++)
        for (int rg = 0; rg < prw_pq_num_row_groups(j.files[i]); rg++) {
            j.task_file[j.ntasks] = i;
            j.task_rg[j.ntasks++] = rg;
        }
    pthread_t th[16];
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, worker, &j);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < j.nfiles; i++)
        prw_pq_close(j.files[i]);
    free(j.files);
    free(j.task_file);
    free(j.task_rg);
    *rows = j.rows;
    return j.failed ? -1 : now() - t0;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int runs = 5;
    const char *defaults[] = {"/work/data/S/*.parquet", "/work/data/M/*.parquet"};
    const char **globs = defaults;
    int nglobs = 2;
    if (argc > 2 && strcmp(argv[1], "--runs") == 0) {
        runs = atoi(argv[2]);
        argc -= 2;
        argv += 2;
    }
    if (runs < 1 || runs > 99)
        runs = 5;
    if (argc > 1) {
        globs = (const char **)(argv + 1);
        nglobs = argc - 1;
    }
    printf("%-28s %7s %12s %10s %12s\n", "files", "threads", "rows", "median_s", "Mrows/s");
    for (int k = 0; k < nglobs; k++) {
        glob_t g;
        if (glob(globs[k], 0, NULL, &g) != 0 || g.gl_pathc == 0) {
            printf("%-28s skipped (no files)\n", globs[k]);
            continue;
        }
        for (int threads = 1; threads <= 2; threads++) {
            double t[99];
            long long rows = 0;
            for (int r = 0; r < runs; r++) {
                t[r] = run_once(&g, threads, &rows);
                if (t[r] < 0)
                    return 1;
            }
            qsort(t, (size_t)runs, sizeof t[0], cmp_d);
            double med = t[runs / 2];
            printf("%-28s %7d %12lld %10.3f %12.1f\n", globs[k], threads, rows, med,
                   (double)rows / med / 1e6);
        }
        globfree(&g);
    }
    return 0;
}
