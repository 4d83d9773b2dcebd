/*
 * `proberows inspect PATH`: a summary of each ArrayRecord file of probe rows (PATH is one file
 * or an output directory); `--row I` decodes one record, `--probe SRC_ADDR` lists a probe's
 * records (binary search: records are sorted by src_addr), `--json` for machine-readable
 * output.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "proberows/arrayrecord.h"
#include "proberows/arrow_ipc.h"
#include "proberows/verify.h"

static void inspect_help(FILE *out) {
    fprintf(out,
            "Usage: proberows inspect PATH [--row I [--all]] [--probe SRC_ADDR] [--json]\n\n"
            "PATH is an .arrayrecord file or an output directory (every *.arrayrecord* file\n"
            "in it). Without --row or --probe, prints per file: records, probes, measurements,\n"
            "measurements per record (min/median/max), record and inner-stream sizes\n"
            "(p50/p99/max), codec and stored options string, and the time range.\n\n"
            "Options:\n"
            "  --row I            decode record I (a file PATH): outer fields and the first\n"
            "                     and last measurements\n"
            "  --all              with --row: every measurement\n"
            "  --probe SRC_ADDR   list the records of the probe with this src_addr\n"
            "  --json             machine-readable output (one JSON object per line)\n"
            "  --workers N        threads for the summary (default: the CPUs it may use)\n"
            "  -h, --help         this help\n\n"
            "Exit status: 0 success, 1 data or I/O error, 2 usage error.\n");
}

/* ---- output helpers --------------------------------------------------------------------- */

static void json_str(const char *s, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

/* ISO 8601 UTC with microseconds. */
static void fmt_time(int64_t us, char *buf, size_t cap) {
    int64_t s = us / 1000000, frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        s--;
    }
    time_t t = (time_t)s;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, cap, "%lld", (long long)us);
        return;
    }
    char date[40];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, cap, "%s.%06lldZ", date, (long long)frac);
}

/* ---- the summary ---------------------------------------------------------------------------- */

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int summary(const char *path, int workers, bool json) {
    prw_inspect_stats s;
    prw_error err;
    prw_error_clear(&err);
    if (prw_inspect_file(path, workers, &s, &err) < 0)
        return cli_error(path, &err);
    char a[64], b[64];
    fmt_time(s.first_us, a, sizeof a);
    fmt_time(s.last_us, b, sizeof b);
    if (json) {
        printf("{\"file\": ");
        json_str(path, strlen(path));
        printf(", \"records\": %llu, \"probes\": %llu, \"measurements\": %llu, "
               "\"measurements_per_record\": {\"min\": %llu, \"median\": %llu, \"max\": %llu}, "
               "\"record_bytes\": {\"p50\": %llu, \"p99\": %llu, \"max\": %llu}, "
               "\"inner_bytes\": {\"p50\": %llu, \"p99\": %llu, \"max\": %llu}, "
               "\"codec\": \"%s\", \"group_size\": %llu, \"options\": ",
               (unsigned long long)s.records, (unsigned long long)s.probes,
               (unsigned long long)s.measurements, (unsigned long long)s.meas_min,
               (unsigned long long)s.meas_median, (unsigned long long)s.meas_max,
               (unsigned long long)s.record_bytes.p50, (unsigned long long)s.record_bytes.p99,
               (unsigned long long)s.record_bytes.max, (unsigned long long)s.inner_bytes.p50,
               (unsigned long long)s.inner_bytes.p99, (unsigned long long)s.inner_bytes.max,
               s.compression, (unsigned long long)s.group_size);
        json_str(s.options, strlen(s.options));
        printf(", \"first_timestamp_us\": %lld, \"last_timestamp_us\": %lld, "
               "\"file_size\": %llu}\n",
               (long long)s.first_us, (long long)s.last_us, (unsigned long long)s.file_size);
        return CLI_OK;
    }
    printf("%s: %llu records, %llu probes, %llu measurements, %llu bytes\n", path,
           (unsigned long long)s.records, (unsigned long long)s.probes,
           (unsigned long long)s.measurements, (unsigned long long)s.file_size);
    printf("  measurements per record  min %llu, median %llu, max %llu\n",
           (unsigned long long)s.meas_min, (unsigned long long)s.meas_median,
           (unsigned long long)s.meas_max);
    printf("  record bytes             p50 %llu, p99 %llu, max %llu\n",
           (unsigned long long)s.record_bytes.p50, (unsigned long long)s.record_bytes.p99,
           (unsigned long long)s.record_bytes.max);
    printf("  inner stream bytes       p50 %llu, p99 %llu, max %llu\n",
           (unsigned long long)s.inner_bytes.p50, (unsigned long long)s.inner_bytes.p99,
           (unsigned long long)s.inner_bytes.max);
    printf("  codec %s, group_size %llu, options \"%s\"\n", s.compression,
           (unsigned long long)s.group_size, s.options);
    if (s.records)
        printf("  time range               %s .. %s\n", a, b);
    return CLI_OK;
}

/* ---- one record ----------------------------------------------------------------------------- */

typedef struct rec_view {
    prw_ipc_decoder *outer, *inner;
    prw_ipc_batch ob, ib;
} rec_view;

static void rec_view_free(rec_view *v) {
    prw_ipc_decoder_destroy(v->outer);
    prw_ipc_decoder_destroy(v->inner);
    memset(v, 0, sizeof *v);
}

/* Decodes a record's outer row and inner batch; returns false with err filled. */
static bool rec_decode(prw_bytes rec, rec_view *v, prw_error *err) {
    memset(v, 0, sizeof *v);
    if (prw_ipc_decoder_create(rec.ptr, rec.len, &v->outer, err) < 0 ||
        prw_ipc_decoder_next(v->outer, &v->ob, err) != PRW_OK)
        return false;
    if (!prw_ipc_schema_equal(prw_ipc_decoder_schema(v->outer), prw_ipc_outer_schema()) ||
        v->ob.length != 1) {
        snprintf(err->msg, sizeof err->msg, "not a probe row (outer schema differs)");
        return false;
    }
    prw_bytes m = prw_ipc_array_bytes(&v->ob.columns[PRW_OUTER_MEASUREMENTS], 0);
    if (prw_ipc_decoder_create(m.ptr, m.len, &v->inner, err) < 0 ||
        prw_ipc_decoder_next(v->inner, &v->ib, err) != PRW_OK)
        return false;
    if (!prw_ipc_schema_equal(prw_ipc_decoder_schema(v->inner), prw_ipc_inner_schema()) ||
        v->ib.length < 1) {
        snprintf(err->msg, sizeof err->msg, "not a probe row (inner schema differs)");
        return false;
    }
    return true;
}

static void print_measurement(const prw_ipc_batch *b, int64_t r, bool json) {
    const prw_ipc_array *c = b->columns;
    char t[64];
    int64_t us = prw_ipc_array_int(&c[PRW_INNER_EVENT_TIME], r);
    fmt_time(us, t, sizeof t);
    prw_bytes dst = prw_ipc_array_bytes(&c[PRW_INNER_DST_ADDR], r);
    bool dnull = prw_ipc_array_is_null(&c[PRW_INNER_DST_ADDR], r),
         inull = prw_ipc_array_is_null(&c[PRW_INNER_IP_VERSION], r),
         rnull = prw_ipc_array_is_null(&c[PRW_INNER_RTT], r);
    if (json) {
        printf("{\"row\": %lld, \"event_time_us\": %lld, \"dst_addr\": ", (long long)r,
               (long long)us);
        if (dnull)
            printf("null");
        else
            json_str((const char *)dst.ptr, dst.len);
        if (inull)
            printf(", \"ip_version\": null");
        else
            printf(", \"ip_version\": %d", (int)prw_ipc_array_int(&c[PRW_INNER_IP_VERSION], r));
        if (rnull)
            printf(", \"rtt\": null}");
        else
            printf(", \"rtt\": %.9g}", prw_ipc_array_float(&c[PRW_INNER_RTT], r));
        return;
    }
    char ipv[8] = "NULL", rtt[32] = "NULL";
    if (!inull)
        snprintf(ipv, sizeof ipv, "%d", (int)prw_ipc_array_int(&c[PRW_INNER_IP_VERSION], r));
    if (!rnull)
        snprintf(rtt, sizeof rtt, "%.9g", prw_ipc_array_float(&c[PRW_INNER_RTT], r));
    printf("  %6lld  %s  %-40.*s  %4s  %s\n", (long long)r, t, dnull ? 4 : (int)dst.len,
           dnull ? "NULL" : (const char *)dst.ptr, ipv, rtt);
}

static void print_record(const char *path, uint64_t index, const rec_view *v, size_t rec_len,
                         bool all, bool json) {
    const prw_ipc_array *o = v->ob.columns;
    prw_bytes src = prw_ipc_array_bytes(&v->ib.columns[PRW_INNER_SRC_ADDR], 0);
    prw_bytes m = prw_ipc_array_bytes(&o[PRW_OUTER_MEASUREMENTS], 0);
    int64_t n = v->ib.length, first = prw_ipc_array_int(&o[PRW_OUTER_FIRST_TIMESTAMP], 0),
            last = prw_ipc_array_int(&o[PRW_OUTER_LAST_TIMESTAMP], 0);
    /* rows shown: all, or the first and the last */
    int64_t show[2] = {0, n - 1};
    int nshow = n > 1 ? 2 : 1;
    if (json) {
        printf("{\"file\": ");
        json_str(path, strlen(path));
        printf(", \"record\": %llu, \"src_id\": %lld, \"src_addr\": ", (unsigned long long)index,
               (long long)prw_ipc_array_int(&o[PRW_OUTER_SRC_ID], 0));
        json_str((const char *)src.ptr, src.len);
        printf(", \"n_measurements\": %lld, \"time_span_seconds\": %.17g, "
               "\"first_timestamp_us\": %lld, \"last_timestamp_us\": %lld, "
               "\"record_bytes\": %zu, \"measurements_bytes\": %zu, \"rows\": [",
               (long long)prw_ipc_array_int(&o[PRW_OUTER_N_MEASUREMENTS], 0),
               prw_ipc_array_float(&o[PRW_OUTER_TIME_SPAN_SECONDS], 0), (long long)first,
               (long long)last, rec_len, m.len);
        for (int64_t i = 0; all ? i < n : i < nshow; i++) {
            if (i)
                printf(", ");
            print_measurement(&v->ib, all ? i : show[i], true);
        }
        printf("]}\n");
        return;
    }
    char a[64], b[64];
    fmt_time(first, a, sizeof a);
    fmt_time(last, b, sizeof b);
    printf("%s record %llu (%zu bytes)\n", path, (unsigned long long)index, rec_len);
    printf("  src_id             %lld\n", (long long)prw_ipc_array_int(&o[PRW_OUTER_SRC_ID], 0));
    printf("  src_addr           %.*s\n", (int)src.len, (const char *)src.ptr);
    printf("  n_measurements     %lld\n",
           (long long)prw_ipc_array_int(&o[PRW_OUTER_N_MEASUREMENTS], 0));
    printf("  time_span_seconds  %.17g\n", prw_ipc_array_float(&o[PRW_OUTER_TIME_SPAN_SECONDS], 0));
    printf("  first_timestamp    %s\n", a);
    printf("  last_timestamp     %s\n", b);
    printf("  measurements       %zu bytes (inner Arrow IPC stream)\n", m.len);
    printf("  %6s  %-27s  %-40s  %4s  %s\n", "row", "event_time", "dst_addr", "ipv", "rtt");
    for (int64_t i = 0; all ? i < n : i < nshow; i++)
        print_measurement(&v->ib, all ? i : show[i], false);
    if (!all && n > 2)
        printf("  (%lld rows in between; --all prints every row)\n", (long long)(n - 2));
}

static int show_row(const char *path, uint64_t index, bool all, bool json) {
    prw_ar_reader *r;
    prw_error err;
    prw_error_clear(&err);
    if (prw_ar_reader_open(&r, path, &err) < 0)
        return cli_error(path, &err);
    int rc = CLI_OK;
    uint64_t n = prw_ar_reader_num_records(r);
    prw_bytes rec;
    rec_view v;
    if (index >= n) {
        rc = cli_fail("%s: --row %llu: the file has %llu records", path, (unsigned long long)index,
                      (unsigned long long)n);
    } else if (prw_ar_reader_read(r, index, &rec, &err) < 0) {
        rc = cli_error(path, &err);
    } else if (!rec_decode(rec, &v, &err)) {
        rc = cli_fail("%s: record %llu: %s", path, (unsigned long long)index, err.msg);
    } else {
        print_record(path, index, &v, rec.len, all, json);
    }
    rec_view_free(&v);
    prw_ar_reader_close(r);
    return rc;
}

/* ---- a probe's records ---------------------------------------------------------------------- */

/* Compares record i's src_addr with `want` (memcmp order, a proper prefix first). */
static bool cmp_record(prw_ar_reader *r, uint64_t i, const char *want, int *cmp, rec_view *v,
                       prw_bytes *rec, prw_error *err) {
    rec_view_free(v);
    if (prw_ar_reader_read(r, i, rec, err) < 0 || !rec_decode(*rec, v, err))
        return false;
    prw_bytes s = prw_ipc_array_bytes(&v->ib.columns[PRW_INNER_SRC_ADDR], 0);
    size_t wl = strlen(want);
    int c = memcmp(s.ptr, want, s.len < wl ? s.len : wl);
    *cmp = c ? c : (s.len > wl) - (s.len < wl);
    return true;
}

static int show_probe(const char *path, const char *want, bool json, int *found) {
    prw_ar_reader *r;
    prw_error err;
    prw_error_clear(&err);
    if (prw_ar_reader_open(&r, path, &err) < 0)
        return cli_error(path, &err);
    uint64_t lo = 0, hi = prw_ar_reader_num_records(r);
    rec_view v;
    memset(&v, 0, sizeof v);
    prw_bytes rec;
    int c = 0, rc = CLI_OK;
    /* first record whose src_addr is >= want */
    while (lo < hi && rc == CLI_OK) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (!cmp_record(r, mid, want, &c, &v, &rec, &err))
            rc = cli_fail("%s: record %llu: %s", path, (unsigned long long)mid, err.msg);
        else if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (uint64_t i = lo; rc == CLI_OK && i < prw_ar_reader_num_records(r); i++) {
        if (!cmp_record(r, i, want, &c, &v, &rec, &err)) {
            rc = cli_fail("%s: record %llu: %s", path, (unsigned long long)i, err.msg);
            break;
        }
        if (c != 0)
            break;
        const prw_ipc_array *o = v.ob.columns;
        (*found)++;
        if (json) {
            printf("{\"file\": ");
            json_str(path, strlen(path));
            printf(", \"record\": %llu, \"src_id\": %lld, \"n_measurements\": %lld, "
                   "\"first_timestamp_us\": %lld, \"last_timestamp_us\": %lld, "
                   "\"record_bytes\": %zu}\n",
                   (unsigned long long)i, (long long)prw_ipc_array_int(&o[PRW_OUTER_SRC_ID], 0),
                   (long long)prw_ipc_array_int(&o[PRW_OUTER_N_MEASUREMENTS], 0),
                   (long long)prw_ipc_array_int(&o[PRW_OUTER_FIRST_TIMESTAMP], 0),
                   (long long)prw_ipc_array_int(&o[PRW_OUTER_LAST_TIMESTAMP], 0), rec.len);
        } else {
            char a[64], b[64];
            fmt_time(prw_ipc_array_int(&o[PRW_OUTER_FIRST_TIMESTAMP], 0), a, sizeof a);
            fmt_time(prw_ipc_array_int(&o[PRW_OUTER_LAST_TIMESTAMP], 0), b, sizeof b);
            printf("%s record %llu: %lld measurements, %s .. %s, %zu bytes\n", path,
                   (unsigned long long)i,
                   (long long)prw_ipc_array_int(&o[PRW_OUTER_N_MEASUREMENTS], 0), a, b, rec.len);
        }
    }
    rec_view_free(&v);
    prw_ar_reader_close(r);
    return rc;
}

/* ---- PATH: a file or a directory ---------------------------------------------------------- */

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the *.arrayrecord* files of a directory, sorted (caller frees each and the array). */
static int list_dir(const char *dir, char ***out, size_t *n) {
    DIR *d = opendir(dir);
    if (!d)
        return cli_fail("%s: cannot open the directory", dir);
    char **v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *e;
    int rc = CLI_OK;
    while ((e = readdir(d)) && rc == CLI_OK) {
        if (!strstr(e->d_name, ".arrayrecord") || e->d_name[0] == '.')
            continue;
        if (cnt == cap) {
            cap = cap ? 2 * cap : 8;
            char **nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                rc = cli_fail("out of memory");
                break;
            }
            v = nv;
        }
        size_t l = strlen(dir) + strlen(e->d_name) + 2;
        v[cnt] = malloc(l);
        if (!v[cnt]) {
            rc = cli_fail("out of memory");
            break;
        }
        snprintf(v[cnt++], l, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (cnt)
        qsort(v, cnt, sizeof *v, cmp_str);
    *out = v;
    *n = cnt;
    return rc;
}

int cmd_inspect(int argc, char **argv) {
    const char *path = NULL, *probe = NULL;
    int64_t row = -1, workers = 0;
    bool all = false, json = false;
    for (int i = 1; i < argc; i++) {
        bool missing = false;
        const char *val;
        if (cli_is_help(argv[i])) {
            inspect_help(stdout);
            return CLI_OK;
        } else if ((val = cli_opt_value(argc, argv, &i, "--row", &missing))) {
            if (!cli_parse_i64(val, 0, INT64_MAX, &row))
                return cli_usage_error("inspect ", "--row takes a record index, got '%s'", val);
        } else if ((val = cli_opt_value(argc, argv, &i, "--probe", &missing))) {
            probe = val;
        } else if ((val = cli_opt_value(argc, argv, &i, "--workers", &missing))) {
            if (!cli_parse_i64(val, 1, 1024, &workers))
                return cli_usage_error("inspect ", "--workers takes 1..1024, got '%s'", val);
        } else if (missing) {
            return cli_usage_error("inspect ", "%s needs a value", argv[i]);
        } else if (strcmp(argv[i], "--all") == 0) {
            all = true;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("inspect ", "unknown option '%s'", argv[i]);
        } else if (path) {
            return cli_usage_error("inspect ", "one PATH only (got '%s' and '%s')", path, argv[i]);
        } else {
            path = argv[i];
        }
    }
    if (!path)
        return cli_usage_error("inspect ", "no PATH given");
    if (row >= 0 && probe)
        return cli_usage_error("inspect ", "--row and --probe exclude each other");
    if (all && row < 0)
        return cli_usage_error("inspect ", "--all goes with --row");
    struct stat sb;
    if (stat(path, &sb) != 0)
        return cli_fail("%s: no such file or directory", path);
    bool dir = S_ISDIR(sb.st_mode);
    if (row >= 0) {
        if (dir)
            return cli_usage_error("inspect ", "--row needs a file, %s is a directory", path);
        return show_row(path, (uint64_t)row, all, json);
    }
    char **files = NULL;
    size_t n = 0;
    int rc = CLI_OK;
    if (dir) {
        rc = list_dir(path, &files, &n);
        if (rc == CLI_OK && n == 0)
            rc = cli_fail("%s: no .arrayrecord files in this directory", path);
    }
    int found = 0;
    for (size_t i = 0; rc == CLI_OK && i < (dir ? n : 1); i++) {
        const char *p = dir ? files[i] : path;
        rc = probe ? show_probe(p, probe, json, &found) : summary(p, (int)workers, json);
    }
    if (rc == CLI_OK && probe && !found)
        rc = cli_fail("%s: no record of probe '%s'", dir ? path : base_name(path), probe);
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
    return rc;
}
