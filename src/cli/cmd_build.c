/*
 * `proberows build`: the main job, drop-in for the Python tool's command line
 * (--input --output --workers --max-row-size-mb --train-ratio --memory-limit-gb), plus the
 * options of CONTRACT.md. Progress on stderr (a bar per phase on a terminal, a plain line
 * every few seconds otherwise) and a summary at the end.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "proberows/pipeline.h"

static void build_help(FILE *out) {
    fprintf(out,
            "Usage: proberows build --input GLOB [--input GLOB...] --output DIR [--workers N]\n"
            "                       [--max-row-size-mb X] [--train-ratio R] [--split ratio|hash]\n"
            "                       [--null-rtt keep|drop|failed] [--column NAME=SOURCE...]\n"
            "                       [--ar-options STRING] [--shards N] [--plan DIR/plan.json]\n"
            "                       [--temp-dir DIR] [--memory-limit SIZE] [--strict]\n"
            "                       [--rtt avg|min|max] [--src-addr src_addr|from] [--quiet]\n\n"
            "Groups measurements by probe (src_addr), orders each probe's measurements by\n"
            "event_time, and writes one Arrow IPC row per probe (cut at the row size limit)\n"
            "to DIR/train.arrayrecord and DIR/test.arrayrecord, with DIR/manifest.json.\n"
            "Inputs are Parquet files or RIPE Atlas ping dumps (one JSON result per line:\n"
            "bzip2, gzip, zstd or plain), told apart by their content; they may be mixed.\n"
            "A dump gives the rows DuckDB's read_json conversion of it would: event_time =\n"
            "timestamp, src_addr, dst_addr, ip_version = af, rtt = avg.\n\n"
            "Options:\n"
            "  --input GLOB           Parquet files or dumps; *, ?, [..] and ** (repeatable)\n"
            "  --output DIR           output directory (created if missing)\n"
            "  --workers N            threads (default: the CPUs it may use)\n"
            "  --max-row-size-mb X    inner Arrow stream limit per row in MiB (default 8)\n"
            "  --train-ratio R        share of probes in train (default 0.9)\n"
            "  --split ratio|hash     ratio: first floor(n*R) probes in src_addr order go to\n"
            "                         train (default); hash: src_id %% D < N with N/D = R\n"
            "  --null-rtt keep|drop|failed\n"
            "                         NULL rtt: keep as null (default), drop the row, or store\n"
            "                         -1.0 (\"no reply\")\n"
            "  --column NAME=SOURCE   read logical column NAME (event_time, src_addr,\n"
            "                         dst_addr, ip_version, rtt) from column SOURCE\n"
            "  --ar-options STRING    ArrayRecord writer options (Google's grammar; default\n"
            "                         group_size:1,zstd:3,window_log:20)\n"
            "  --shards N             N files per split: SPLIT.arrayrecord-0000K-of-0000N\n"
            "  --plan DIR/plan.json   use a scale-out plan (proberows plan): its inputs and\n"
            "                         options, its key ranges as the shards; the files are\n"
            "                         byte-identical to the plan's reduce tasks' outputs\n"
            "  --temp-dir DIR         run files of the memory-bounded mode go to a hidden\n"
            "                         folder here (default: inside the output directory)\n"
            "  --memory-limit SIZE    memory budget, e.g. 512M, 2G (--memory-limit-gb X is\n"
            "                         the old spelling); default: half of the physical memory\n"
            "                         or of the cgroup limit. Rows that do not fit are spilled\n"
            "                         to compressed run files; the output is the same\n"
            "  --strict               fail on a row with event_time outside 1970..2199 or an\n"
            "                         ip_version other than 4 and 6 (default: drop such times\n"
            "                         and keep such versions, counting both), and on a bad\n"
            "                         dump line (default: skip it, counted by reason)\n"
            "  --rtt avg|min|max      dumps: the result's field that becomes rtt (default avg)\n"
            "  --src-addr src_addr|from\n"
            "                         dumps: the probe's key. src_addr (default) is its local\n"
            "                         address: behind NAT often a private one that many probes\n"
            "                         share, whose rows then merge into one; from is the\n"
            "                         public address RIPE saw\n"
            "  --quiet                no progress or summary\n"
            "  -h, --help             this help\n\n"
            "Flags of the Python tool map one to one: --input, --output, --workers,\n"
            "--max-row-size-mb, --train-ratio, --memory-limit-gb.\n"
            "Exit status: 0 success, 1 data or I/O error, 2 usage error.\n");
}

typedef struct progress_state {
    bool tty;
    bool quiet;
    double last;
    const char *phase;
} progress_state;

/*
 * Test hook for the CLI tests (an input cut short while it is read): with
 * PROBEROWS_TEST_CUT_AFTER_SCAN=SIZE:PATH in the environment, PATH is cut to SIZE bytes when the
 * scan ends, before any row is read, as another process might.
 */
static void test_cut_after_scan(const prw_build_progress *p) {
    const char *v = getenv("PROBEROWS_TEST_CUT_AFTER_SCAN");
    if (!v || !p->phase_end || strcmp(p->phase, "scan") != 0)
        return;
    char *end;
    long long size = strtoll(v, &end, 10);
    if (*end == ':' && truncate(end + 1, (off_t)size) != 0)
        perror("PROBEROWS_TEST_CUT_AFTER_SCAN");
}

static void on_progress(void *ctx, const prw_build_progress *p) {
    progress_state *ps = ctx;
    test_cut_after_scan(p);
    if (ps->quiet)
        return;
    if (ps->tty) {
        double frac = p->total > 0 ? (double)p->done / (double)p->total : (p->phase_end ? 1 : 0);
        if (frac > 1)
            frac = 1;
        int width = 30, fill = (int)(frac * width);
        double rate = p->elapsed > 0 ? (double)p->done / p->elapsed : 0;
        fprintf(stderr, "\r%-7s [", p->phase);
        for (int i = 0; i < width; i++)
            fputc(i < fill ? '#' : '.', stderr);
        fprintf(stderr, "] %5.1f%%  %.1fs", frac * 100, p->elapsed);
        if (rate > 0 && p->total > 0 && !p->phase_end)
            fprintf(stderr, "  %.2fM/s", rate / 1e6);
        fputs("   ", stderr);
        if (p->phase_end)
            fputc('\n', stderr);
    } else if (p->phase_end || p->elapsed - ps->last >= 5.0) {
        if (p->total > 0)
            fprintf(stderr, "proberows: %s %lld/%lld (%.1fs)\n", p->phase, (long long)p->done,
                    (long long)p->total, p->elapsed);
        else if (p->phase_end)
            fprintf(stderr, "proberows: %s done (%.1fs)\n", p->phase, p->elapsed);
        ps->last = p->elapsed;
    }
    ps->phase = p->phase;
}

/* What the run did to the directory before building: printed even with --quiet. */
static void print_housekeeping(const prw_build_stats *s, const char *outdir) {
    char b[PRW_BYTES_STR_MAX];
    if (s->publishes_finished)
        fprintf(stderr, "proberows: %s: finished a publish that a stopped run left halfway\n",
                outdir);
    if (s->publishes_undone)
        fprintf(stderr,
                "proberows: %s: undid a publish that a stopped run left halfway (the "
                "previous output was back before this build)\n",
                outdir);
    if (s->leftovers_removed)
        fprintf(stderr, "proberows: removed %lld leftover folder%s of stopped runs, %s freed\n",
                (long long)s->leftovers_removed, s->leftovers_removed == 1 ? "" : "s",
                prw_format_bytes((uint64_t)s->leftover_bytes, b, sizeof b));
}

static void print_summary(const prw_build_stats *s, const char *outdir) {
    const char *names[2] = {"train", "test"};
    fprintf(stderr, "\nproberows build: %lld rows from %lld files (%lld row groups) -> %s\n",
            (long long)s->rows_read, (long long)s->files, (long long)s->row_groups, outdir);
    char b1[PRW_BYTES_STR_MAX], b2[PRW_BYTES_STR_MAX];
    for (int i = 0; i < 2; i++) {
        const prw_build_split_stats *x = &s->split[i];
        fprintf(stderr,
                "  %-5s  probes %lld, rows written %lld, measurements %lld, "
                "avg %.1f measurements/row, %s in %lld file%s\n",
                names[i], (long long)x->probes, (long long)x->records, (long long)x->measurements,
                x->records ? (double)x->measurements / (double)x->records : 0.0,
                prw_format_bytes((uint64_t)x->bytes, b1, sizeof b1), (long long)x->files,
                x->files == 1 ? "" : "s");
    }
    fprintf(stderr,
            "  dropped: %lld NULL src_addr, %lld NULL event_time, %lld NULL rtt (drop), %lld "
            "event_time outside 1970..2199\n",
            (long long)s->dropped_null_src_addr, (long long)s->dropped_null_event_time,
            (long long)s->dropped_null_rtt, (long long)s->dropped_event_time_range);
    if (s->rtt_nan || s->rtt_inf || s->ip_version_other)
        fprintf(stderr,
                "  kept as read: %lld rtt NaN, %lld rtt +-infinity, %lld ip_version "
                "other than 4 and 6\n",
                (long long)s->rtt_nan, (long long)s->rtt_inf, (long long)s->ip_version_other);
    if (s->dump_files) {
        fprintf(stderr,
                "  dumps: %lld file%s, %s decompressed, parsed into %s of chunks; lines "
                "skipped: %lld",
                (long long)s->dump_files, s->dump_files == 1 ? "" : "s",
                prw_format_bytes((uint64_t)s->dump_bytes_decompressed, b1, sizeof b1),
                prw_format_bytes((uint64_t)s->dump_chunk_bytes, b2, sizeof b2),
                (long long)s->lines_skipped_total);
        const char *sep = " (";
        for (int k = 0; k < PRW_ATLAS_BAD_COUNT; k++)
            if (s->lines_skipped[k]) {
                fprintf(stderr, "%s%s %lld", sep, prw_atlas_bad_name((prw_atlas_bad)k),
                        (long long)s->lines_skipped[k]);
                sep = ", ";
            }
        fprintf(stderr, "%s\n", s->lines_skipped_total ? ")" : "");
        for (int i = 0; i < s->nfirst_bad; i++) {
            const prw_build_bad_line *b = &s->first_bad[i];
            fprintf(stderr, "    %s: line %lld (byte %lld, column %lld): %s: %s\n", b->file,
                    (long long)b->line.line, (long long)b->line.offset, (long long)b->line.column,
                    prw_atlas_bad_name(b->line.reason), b->line.what);
        }
    }
    if (s->null_rtt_kept || s->null_rtt_failed)
        fprintf(stderr, "  NULL rtt: %lld kept as null, %lld stored as -1.0\n",
                (long long)s->null_rtt_kept, (long long)s->null_rtt_failed);
    fprintf(stderr, "  probes cut into several rows: %lld\n", (long long)s->split_probes_cut);
    fprintf(stderr,
            "  time: scan %.3fs, decode %.3fs, group %.3fs, encode+write %.3fs; total %.3fs "
            "with %d workers\n",
            s->seconds_scan, s->seconds_decode, s->seconds_group, s->seconds_write,
            s->seconds_total, s->workers);
    prw_format_bytes((uint64_t)s->memory_limit, b1, sizeof b1);
    if (s->spilled)
        fprintf(stderr,
                "  memory: limit %s, spilled %lld partitions (%lld probes merged from "
                "runs), temp %s, key pass %.3fs\n",
                b1, (long long)s->spill_partitions, (long long)s->merged_probes,
                prw_format_bytes((uint64_t)s->temp_bytes, b2, sizeof b2), s->seconds_keys);
    else
        fprintf(stderr, "  memory: limit %s, in memory (no spill)\n", b1);
    fprintf(stderr,
            "  cpu: key pass %.3fs, decode %.3fs, group %.3fs, encode+write %.3fs (cores busy: "
            "%.2f, %.2f, %.2f, %.2f)\n",
            s->cpu_keys, s->cpu_decode, s->cpu_group, s->cpu_write,
            s->seconds_keys > 0 ? s->cpu_keys / s->seconds_keys : 0.0,
            s->seconds_decode > 0 ? s->cpu_decode / s->seconds_decode : 0.0,
            s->seconds_group > 0 ? s->cpu_group / s->seconds_group : 0.0,
            s->seconds_write > 0 ? s->cpu_write / s->seconds_write : 0.0);
    double meas = (double)(s->split[0].measurements + s->split[1].measurements);
    fprintf(stderr, "  throughput: %.0f measurements/s; peak RSS %s\n",
            s->seconds_total > 0 ? meas / s->seconds_total : 0.0,
            prw_format_bytes((uint64_t)s->peak_rss_bytes, b2, sizeof b2));
}

/* SIGINT/SIGTERM: remove the run files and staged output, then die of the same signal. */
static void on_signal(int sig) {
    prw_build_remove_temp_files();
    signal(sig, SIG_DFL);
    raise(sig);
}

static bool parse_double(const char *s, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static int set_column(const char *cmd, prw_build_options *o, const char *spec) {
    static const char *const names[PRW_COL_COUNT] = {"event_time", "src_addr", "dst_addr",
                                                     "ip_version", "rtt"};
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        return cli_usage_error(cmd, "--column takes NAME=SOURCE, got '%s'", spec);
    for (int c = 0; c < PRW_COL_COUNT; c++) {
        if (strlen(names[c]) == (size_t)(eq - spec) && strncmp(names[c], spec, eq - spec) == 0) {
            o->columns[c] = eq + 1;
            return CLI_OK;
        }
    }
    return cli_usage_error(cmd,
                           "--column: unknown column '%.*s' (one of event_time, "
                           "src_addr, dst_addr, ip_version, rtt)",
                           (int)(eq - spec), spec);
}

/* --rtt avg|min|max and --src-addr src_addr|from: how dump inputs are read. */
static int set_dump_option(const char *cmd, prw_build_options *o, const char *opt, const char *v) {
    if (strcmp(opt, "--rtt") == 0) {
        static const char *const names[] = {"avg", "min", "max"};
        for (int k = 0; k < 3; k++)
            if (strcmp(v, names[k]) == 0) {
                o->atlas_rtt = (prw_atlas_rtt)k;
                return CLI_OK;
            }
        return cli_usage_error(cmd, "--rtt takes avg, min or max, got '%s'", v);
    }
    if (strcmp(v, "src_addr") == 0 || strcmp(v, "from") == 0) {
        o->atlas_src = v[0] == 'f' ? PRW_ATLAS_SRC_FROM : PRW_ATLAS_SRC_ADDR;
        return CLI_OK;
    }
    return cli_usage_error(cmd, "--src-addr takes src_addr or from, got '%s'", v);
}

/* Joins argv into one string for the manifest (caller frees). */
static char *join_args(int argc, char **argv) {
    size_t n = strlen("proberows") + 1;
    for (int i = 0; i < argc; i++)
        n += strlen(argv[i]) + 3;
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    strcpy(s, "proberows");
    for (int i = 0; i < argc; i++) {
        strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

int cli_build_parse(const char *cmd, int argc, char **argv, prw_build_options *out,
                    const char **inputs, size_t *ninputs, bool *quiet, bool *help) {
    prw_build_options o = *out;
    int rc = CLI_OK;
    *help = false;
    for (int i = 1; i < argc && rc == CLI_OK; i++) {
        const char *a = argv[i], *v;
        bool missing = false;
        int64_t n = 0;
        double d = 0;
        uint64_t sz = 0;
        if (cli_is_help(a)) {
            *help = true;
            return CLI_OK;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            *quiet = true;
        } else if (strcmp(a, "--strict") == 0) {
            o.strict = true;
        } else if ((v = cli_opt_value(argc, argv, &i, "--input", &missing))) {
            inputs[(*ninputs)++] = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--output", &missing))) {
            o.output_dir = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--workers", &missing))) {
            if (!cli_parse_i64(v, 1, 1024, &n))
                rc = cli_usage_error(cmd, "--workers takes 1..1024, got '%s'", v);
            o.workers = (int)n;
        } else if ((v = cli_opt_value(argc, argv, &i, "--max-row-size-mb", &missing))) {
            if (!parse_double(v, &d) || d < 0.001 || d > 2047)
                rc = cli_usage_error(cmd,
                                     "--max-row-size-mb takes a size in MiB "
                                     "(0.001..2047), got '%s'",
                                     v);
            o.max_row_size = (uint64_t)(d * 1024 * 1024);
        } else if ((v = cli_opt_value(argc, argv, &i, "--train-ratio", &missing))) {
            if (!parse_double(v, &d) || d < 0 || d > 1)
                rc = cli_usage_error(cmd, "--train-ratio takes 0..1, got '%s'", v);
            o.train_ratio = d;
        } else if ((v = cli_opt_value(argc, argv, &i, "--split", &missing))) {
            if (strcmp(v, "ratio") == 0)
                o.split = PRW_SPLIT_RATIO;
            else if (strcmp(v, "hash") == 0)
                o.split = PRW_SPLIT_HASH;
            else
                rc = cli_usage_error(cmd, "--split takes ratio or hash, got '%s'", v);
        } else if ((v = cli_opt_value(argc, argv, &i, "--null-rtt", &missing))) {
            if (strcmp(v, "keep") == 0)
                o.null_rtt = PRW_NULL_RTT_KEEP;
            else if (strcmp(v, "drop") == 0)
                o.null_rtt = PRW_NULL_RTT_DROP;
            else if (strcmp(v, "failed") == 0)
                o.null_rtt = PRW_NULL_RTT_FAILED;
            else
                rc = cli_usage_error(cmd, "--null-rtt takes keep, drop or failed, got '%s'", v);
        } else if ((v = cli_opt_value(argc, argv, &i, "--column", &missing))) {
            rc = set_column(cmd, &o, v);
        } else if ((v = cli_opt_value(argc, argv, &i, "--ar-options", &missing))) {
            o.ar_options = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--shards", &missing))) {
            if (!cli_parse_i64(v, 1, 99999, &n))
                rc = cli_usage_error(cmd, "--shards takes 1..99999, got '%s'", v);
            o.shards = (int)n;
        } else if ((v = cli_opt_value(argc, argv, &i, "--plan", &missing))) {
            o.plan = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--rtt", &missing))) {
            rc = set_dump_option(cmd, &o, "--rtt", v);
        } else if ((v = cli_opt_value(argc, argv, &i, "--src-addr", &missing))) {
            rc = set_dump_option(cmd, &o, "--src-addr", v);
        } else if ((v = cli_opt_value(argc, argv, &i, "--temp-dir", &missing))) {
            o.temp_dir = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--memory-limit-gb", &missing))) {
            if (!parse_double(v, &d) || d <= 0)
                rc = cli_usage_error(cmd,
                                     "--memory-limit-gb takes a positive number, "
                                     "got '%s'",
                                     v);
            o.memory_limit = (uint64_t)(d * 1024 * 1024 * 1024);
        } else if ((v = cli_opt_value(argc, argv, &i, "--memory-limit", &missing))) {
            if (!cli_parse_size(v, &sz) || sz == 0)
                rc = cli_usage_error(cmd,
                                     "--memory-limit takes a size like 512M or 2G, "
                                     "got '%s'",
                                     v);
            o.memory_limit = sz;
        } else if (missing) {
            rc = cli_usage_error(cmd, "%s needs a value", a);
        } else {
            rc = cli_usage_error(cmd, "unknown option '%s'", a);
        }
    }
    *out = o;
    return rc;
}

int cmd_build(int argc, char **argv) {
    prw_build_options o;
    prw_build_options_init(&o);
    const char **inputs = calloc((size_t)argc, sizeof *inputs);
    if (!inputs)
        return cli_fail("out of memory");
    size_t ninputs = 0;
    bool quiet = false, help = false;
    int rc = cli_build_parse("build ", argc, argv, &o, inputs, &ninputs, &quiet, &help);
    if (help) {
        build_help(stdout);
        free(inputs);
        return CLI_OK;
    }
    if (rc == CLI_OK && ninputs == 0 && !o.plan)
        rc = cli_usage_error("build ", "no --input given");
    if (rc == CLI_OK && !o.output_dir)
        rc = cli_usage_error("build ", "no --output given");
    if (rc != CLI_OK) {
        free(inputs);
        return rc;
    }
    o.inputs = inputs;
    o.n_inputs = ninputs;
    char *cmdline = join_args(argc, argv);
    o.command_line = cmdline;
    progress_state ps = {isatty(2) != 0, quiet, 0, NULL};
    o.progress = on_progress;
    o.progress_ctx = &ps;
    o.warning = cli_warning;
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    prw_build_stats stats;
    prw_error err;
    prw_error_clear(&err);
    prw_status st = prw_build(&o, &stats, &err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    free(cmdline);
    free(inputs);
    print_housekeeping(&stats, o.output_dir);
    if (st < 0)
        return cli_status("build ", st, &err);
    if (!quiet)
        print_summary(&stats, o.output_dir);
    return CLI_OK;
}
