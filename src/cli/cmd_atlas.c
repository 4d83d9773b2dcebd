/*
 * `proberows atlas cat|stats FILE`: reads a RIPE Atlas ping dump (bzip2, gzip, zstd or plain
 * JSON lines, found by content) the way `build` does. `cat` prints the measurements as TSV in
 * the format of `parquet cat` (event_time in µs, src_addr, dst_addr, ip_version, rtt; \N for
 * NULL), so a dump and its Parquet conversion can be compared with diff. `stats` counts the
 * results by firmware and address family and the skipped lines by reason.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "proberows/atlas.h"

static void usage(FILE *out) {
    fprintf(out,
            "Usage: proberows atlas cat FILE [--details] [--limit N] [OPTIONS]\n"
            "       proberows atlas stats FILE [OPTIONS]\n\n"
            "Reads a RIPE Atlas ping dump: one JSON result per line, plain or compressed with\n"
            "bzip2 (one or several streams), gzip or zstd, found by the file's first bytes.\n\n"
            "cat    one line per measurement, tab-separated like 'parquet cat':\n"
            "       event_time (microseconds, UTC), src_addr, dst_addr, ip_version, rtt;\n"
            "       \\N for NULL. --details appends the line number and firmware version.\n"
            "stats  results by firmware and address family, skipped lines by reason.\n\n"
            "Options:\n"
            "  --rtt avg|min|max          which round-trip time becomes rtt (default avg;\n"
            "                             -1 when no reply came back)\n"
            "  --src-addr src_addr|from   the probe's key: its local src_addr (default, as the\n"
            "                             Parquet step used it; behind NAT often a private\n"
            "                             address shared by many probes) or `from`, its public\n"
            "                             address\n"
            "  --strict                   any bad line is an error (exit 1)\n"
            "  --threads N                parser threads (default: all CPUs)\n"
            "  --limit N                  cat: stop after N measurements\n\n"
            "A bad line (malformed JSON, a wrong type, no timestamp, longer than 1 MiB, binary\n"
            "bytes) is skipped and counted; the first few are reported on stderr with their\n"
            "line number and byte offset. A result without a source address is dropped and\n"
            "counted, as a NULL key is for Parquet input.\n");
}

typedef struct atlas_args {
    const char *path;
    prw_atlas_options opt;
    int64_t limit;
} atlas_args;

static int parse(int argc, char **argv, bool is_cat, atlas_args *a) {
    memset(a, 0, sizeof *a);
    a->limit = -1;
    for (int i = 2; i < argc; i++) {
        bool missing = false;
        const char *v;
        int64_t n;
        if ((v = cli_opt_value(argc, argv, &i, "--rtt", &missing)) != NULL) {
            if (strcmp(v, "avg") && strcmp(v, "min") && strcmp(v, "max"))
                return cli_usage_error("atlas ", "bad --rtt '%s' (avg, min or max)", v);
            a->opt.rtt = v[1] == 'v'   ? PRW_ATLAS_RTT_AVG
                         : v[1] == 'i' ? PRW_ATLAS_RTT_MIN
                                       : PRW_ATLAS_RTT_MAX;
        } else if ((v = cli_opt_value(argc, argv, &i, "--src-addr", &missing)) != NULL) {
            if (strcmp(v, "src_addr") && strcmp(v, "from"))
                return cli_usage_error("atlas ", "bad --src-addr '%s' (src_addr or from)", v);
            a->opt.src = v[0] == 'f' ? PRW_ATLAS_SRC_FROM : PRW_ATLAS_SRC_ADDR;
        } else if ((v = cli_opt_value(argc, argv, &i, "--threads", &missing)) != NULL) {
            if (!cli_parse_i64(v, 1, 1024, &n))
                return cli_usage_error("atlas ", "bad --threads '%s'", v);
            a->opt.threads = (int)n;
        } else if (is_cat && (v = cli_opt_value(argc, argv, &i, "--limit", &missing)) != NULL) {
            if (!cli_parse_i64(v, 0, INT64_MAX, &a->limit))
                return cli_usage_error("atlas ", "bad --limit '%s'", v);
        } else if (missing) {
            return cli_usage_error("atlas ", "option %s needs a value", argv[i]);
        } else if (strcmp(argv[i], "--strict") == 0) {
            a->opt.strict = true;
        } else if (is_cat && strcmp(argv[i], "--details") == 0) {
            a->opt.details = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("atlas ", "unknown option '%s'", argv[i]);
        } else if (!a->path) {
            a->path = argv[i];
        } else {
            return cli_usage_error("atlas ", "more than one FILE");
        }
    }
    return a->path ? CLI_OK : cli_usage_error("atlas ", "missing FILE");
}

static void put_str(const int64_t *off, const uint8_t *bytes, const uint8_t *valid, int64_t r) {
    if (valid && !valid[r])
        fputs("\\N", stdout);
    else
        fwrite(bytes + off[r], 1, (size_t)(off[r + 1] - off[r]), stdout);
}

/* Prints rows of one batch; returns how many. */
static int64_t print_batch(const prw_atlas_batch *b, int64_t limit) {
    int64_t n = limit >= 0 && limit < b->num_rows ? limit : b->num_rows;
    for (int64_t r = 0; r < n; r++) {
        printf("%" PRId64 "\t", b->event_time[r]);
        put_str(b->src_offsets, b->src_bytes, NULL, r);
        putchar('\t');
        put_str(b->dst_offsets, b->dst_bytes, b->dst_valid, r);
        if (b->ip_valid[r])
            printf("\t%d", b->ip_version[r]);
        else
            fputs("\t\\N", stdout);
        if (b->rtt_valid[r])
            printf("\t%.17g", b->rtt[r]);
        else
            fputs("\t\\N", stdout);
        if (b->line)
            printf("\t%" PRId64 "\t%" PRId32, b->line[r], b->fw[r]);
        putchar('\n');
    }
    return n;
}

/* The skipped lines, on stderr: a count by reason and the first few with where they are. */
static void report_bad(const char *path, const prw_atlas_stats *s) {
    if (s->bad_total == 0)
        return;
    for (int k = 0; k < s->nfirst_bad; k++) {
        const prw_atlas_bad_line *b = &s->first_bad[k];
        fprintf(stderr, "proberows: %s: line %" PRId64 " (byte %" PRId64 "): %s: %s\n", path,
                b->line, b->offset + b->column, prw_atlas_bad_name(b->reason), b->what);
    }
    fprintf(stderr, "proberows: %s: %" PRId64 " bad lines skipped (", path, s->bad_total);
    const char *sep = "";
    for (int k = 0; k < PRW_ATLAS_BAD_COUNT; k++)
        if (s->bad[k]) {
            fprintf(stderr, "%s%s %" PRId64, sep, prw_atlas_bad_name(k), s->bad[k]);
            sep = ", ";
        }
    fputs(")\n", stderr);
}

static void print_stats(const char *path, prw_atlas_format f, const prw_atlas_stats *s) {
    printf("file %s\nformat %s\nbytes_in %" PRId64 "\nbytes_out %" PRId64 "\nlines %" PRId64
           "\nresults %" PRId64 "\nblank_lines %" PRId64 "\ndropped_no_src %" PRId64
           "\nbad_lines %" PRId64 "\n",
           path, prw_atlas_format_name(f), s->bytes_in, s->bytes_out, s->lines, s->results,
           s->blank_lines, s->dropped_no_src, s->bad_total);
    for (int k = 0; k < PRW_ATLAS_BAD_COUNT; k++)
        printf("bad %s %" PRId64 "\n", prw_atlas_bad_name(k), s->bad[k]);
    printf("family ipv4 %" PRId64 "\nfamily ipv6 %" PRId64 "\nfamily unknown %" PRId64
           "\nno_reply %" PRId64 "\nnull_rtt %" PRId64 "\nnot_run %" PRId64 "\n",
           s->family[1], s->family[2], s->family[0], s->no_reply, s->null_rtt, s->not_run);
    for (int k = 0; k < s->nfw; k++)
        printf("fw %" PRId32 " %" PRId64 "\n", s->fw[k], s->fw_count[k]);
    if (s->fw_other)
        printf("fw other %" PRId64 "\n", s->fw_other);
    for (int k = 0; k < s->nfirst_bad; k++)
        printf("first_bad line %" PRId64 " byte %" PRId64 " %s: %s\n", s->first_bad[k].line,
               s->first_bad[k].offset + s->first_bad[k].column,
               prw_atlas_bad_name(s->first_bad[k].reason), s->first_bad[k].what);
}

int cmd_atlas(int argc, char **argv) {
    if (argc >= 2 && cli_is_help(argv[1])) {
        usage(stdout);
        return CLI_OK;
    }
    for (int i = 2; i < argc; i++)
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return CLI_OK;
        }
    if (argc < 3)
        return cli_usage_error("atlas ", "expected a subcommand (cat, stats) and FILE");
    bool is_cat = strcmp(argv[1], "cat") == 0;
    if (!is_cat && strcmp(argv[1], "stats") != 0)
        return cli_usage_error("atlas ", "unknown subcommand '%s'", argv[1]);
    atlas_args a;
    int rc = parse(argc, argv, is_cat, &a);
    if (rc != CLI_OK)
        return rc;
    prw_error err;
    prw_error_clear(&err);
    prw_atlas_reader *r = NULL;
    if (prw_atlas_reader_open(a.path, &a.opt, &r, &err) < 0)
        return cli_error(NULL, &err);
    const prw_atlas_batch *b;
    prw_status st;
    int64_t left = a.limit;
    while ((st = prw_atlas_reader_next(r, &b, &err)) == PRW_OK) {
        if (!is_cat)
            continue;
        left -= print_batch(b, left);
        if (left == 0)
            break;
    }
    if (st < 0) {
        rc = cli_error(NULL, &err);
    } else if (!is_cat) {
        print_stats(a.path, prw_atlas_reader_format(r), prw_atlas_reader_stats(r));
    }
    if (st >= 0 && left != 0)
        report_bad(a.path, prw_atlas_reader_stats(r));
    prw_atlas_reader_close(r);
    if (fflush(stdout) != 0 && rc == CLI_OK)
        rc = cli_fail("write error on standard output");
    return rc;
}
