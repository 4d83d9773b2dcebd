/*
 * `proberows verify OUTDIR [--input GLOB...] [--sample N] [--workers N]`: proves an output
 * directory complete and correct (docs/VERIFY.md) and prints a report; exit 0 if every check
 * holds, 1 with the first failures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "proberows/verify.h"

static void verify_help(FILE *out) {
    fprintf(out,
            "Usage: proberows verify OUTDIR [--input GLOB...] [--sample N] [--workers N]\n"
            "                        [--max-failures N]\n\n"
            "Checks an output directory of 'proberows build' against its manifest.json:\n"
            "every ArrayRecord hash, both Arrow schemas, and per record n_measurements, one\n"
            "src_addr, src_id (md5 rule), event_time order (also across the pieces of a\n"
            "probe), first/last timestamps, time_span_seconds, NULLs against the policy, the\n"
            "exact inner size within max_row_size and greedily maximal pieces; then probe\n"
            "order, the split rule, no probe in both splits, and the manifest's totals.\n"
            "With --input, the input is read again and, per probe, the count and a digest of\n"
            "its measurements must equal the output's; rows read = written + dropped.\n\n"
            "Options:\n"
            "  --input GLOB      the build's input (repeatable); proves nothing lost/invented\n"
            "  --sample N        check about N records (in consecutive pairs) instead of all;\n"
            "                    skips the whole-output totals\n"
            "  --workers N       threads (default: the CPUs it may use)\n"
            "  --max-failures N  failures listed (default 20; all are counted)\n"
            "  -h, --help        this help\n\n"
            "Exit status: 0 all checks hold, 1 a check failed or a file could not be read,\n"
            "2 usage error.\n");
}

static void print_report(const prw_verify_report *r, const char *dir) {
    printf("verify %s\n", dir);
    printf("  files %lld, records %lld, checked %lld%s\n", (long long)r->files,
           (long long)r->records, (long long)r->records_checked,
           r->sampled ? " (sample: whole-output totals not checked)" : "");
    static const char *const names[2] = {"train", "test"};
    for (int s = 0; s < 2; s++)
        printf("  %-5s probes %lld, records %lld, measurements %lld\n", names[s],
               (long long)r->probes[s], (long long)r->records_split[s],
               (long long)r->measurements[s]);
    if (r->input_checked)
        printf("  input: %lld rows read, %lld probes; per-probe counts and digests compared\n",
               (long long)r->input_rows, (long long)r->input_probes);
    if (r->n_failures == 0) {
        printf("OK: every check holds\n");
        return;
    }
    printf("FAILED: %lld check%s failed", (long long)r->n_failures, r->n_failures == 1 ? "" : "s");
    if ((int64_t)r->n_kept < r->n_failures)
        printf(" (the first %zu listed)", r->n_kept);
    printf("\n");
    for (size_t i = 0; i < r->n_kept; i++) {
        const prw_verify_failure *f = &r->failures[i];
        printf("  %s", f->file[0] ? f->file : "output");
        if (f->record >= 0)
            printf(" record %lld", (long long)f->record);
        printf(": [%s] %s\n", f->check, f->message);
    }
}

int cmd_verify(int argc, char **argv) {
    prw_verify_options o;
    prw_verify_options_init(&o);
    const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    if (!inputs)
        return cli_fail("out of memory");
    size_t n_inputs = 0;
    int rc = CLI_OK;
    for (int i = 1; i < argc && rc == CLI_OK; i++) {
        bool missing = false;
        const char *val;
        int64_t n;
        if (cli_is_help(argv[i])) {
            verify_help(stdout);
            free(inputs);
            return CLI_OK;
        } else if ((val = cli_opt_value(argc, argv, &i, "--input", &missing))) {
            inputs[n_inputs++] = val;
        } else if ((val = cli_opt_value(argc, argv, &i, "--sample", &missing))) {
            if (!cli_parse_i64(val, 1, INT64_MAX, &n))
                rc = cli_usage_error("verify ", "--sample takes a positive count, got '%s'", val);
            o.sample = (uint64_t)n;
        } else if ((val = cli_opt_value(argc, argv, &i, "--workers", &missing))) {
            if (!cli_parse_i64(val, 1, 1024, &n))
                rc = cli_usage_error("verify ", "--workers takes 1..1024, got '%s'", val);
            o.workers = (int)n;
        } else if ((val = cli_opt_value(argc, argv, &i, "--max-failures", &missing))) {
            if (!cli_parse_i64(val, 1, 100000, &n))
                rc = cli_usage_error("verify ", "--max-failures takes 1..100000, got '%s'", val);
            o.max_failures = (size_t)n;
        } else if (missing) {
            rc = cli_usage_error("verify ", "%s needs a value", argv[i]);
        } else if (argv[i][0] == '-' && argv[i][1]) {
            rc = cli_usage_error("verify ", "unknown option '%s'", argv[i]);
        } else if (o.dir) {
            rc = cli_usage_error("verify ", "one output directory only (got '%s' and '%s')", o.dir,
                                 argv[i]);
        } else {
            o.dir = argv[i];
        }
    }
    if (rc == CLI_OK && !o.dir)
        rc = cli_usage_error("verify ", "no output directory given");
    if (rc == CLI_OK && o.sample && n_inputs)
        rc = cli_usage_error("verify ", "--sample cannot be combined with --input");
    if (rc == CLI_OK)
        rc = cli_outdir_prepare(o.dir);
    if (rc != CLI_OK) {
        free(inputs);
        return rc;
    }
    o.inputs = inputs;
    o.n_inputs = n_inputs;
    o.warning = cli_warning;
    prw_verify_report rep;
    prw_error err;
    prw_error_clear(&err);
    prw_status st = prw_verify(&o, &rep, &err);
    if (st < 0) {
        rc = cli_error(NULL, &err); /* input errors name their file */
    } else {
        print_report(&rep, o.dir);
        fprintf(stderr, "proberows verify: %.2fs\n", rep.seconds);
        rc = rep.n_failures ? CLI_FAIL : CLI_OK;
    }
    prw_verify_report_cleanup(&rep);
    free(inputs);
    return rc;
}
