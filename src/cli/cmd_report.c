/*
 * `proberows report OUTDIR [-o FILE] [--json] [--sample N] [--workers N]`: a dataset report
 * of an output directory, as one self-contained HTML page (default OUTDIR/report.html) or,
 * with --json, the same figures as JSON (default: standard output). docs/REPORT.md.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "proberows/report.h"

static void report_help(FILE *out) {
    fprintf(out,
            "Usage: proberows report OUTDIR [-o FILE] [--json] [--sample N] [--workers N]\n\n"
            "Reads OUTDIR/manifest.json and every record of the split files in one parallel\n"
            "pass and writes a dataset report: per split the probes, records, measurements,\n"
            "bytes and dropped rows; measurements and records per probe and the top 20\n"
            "probes; record sizes against the row size limit; measurements per hour or day;\n"
            "rtt replies (log bins), failures (-1) and nulls by IP version; IPv4/IPv6\n"
            "shares. The HTML page is one file (inline SVG and CSS, no script, no network).\n\n"
            "Options:\n"
            "  -o, --output FILE  where to write (default OUTDIR/report.html; with --json,\n"
            "                     standard output)\n"
            "  --json             the same figures as JSON (schema in docs/REPORT.md)\n"
            "  --sample N         read N records per split, evenly spaced, instead of all\n"
            "                     (the page says so; totals come from the manifest)\n"
            "  --workers N        threads (default: the CPUs it may use)\n"
            "  -h, --help         this help\n\n"
            "Exit status: 0 written, 1 a file could not be read or is not build output,\n"
            "2 usage error.\n");
}

static int emit(const prw_report *r, bool json, const char *out, const char *dir) {
    prw_error err;
    prw_error_clear(&err);
    prw_report_format f = json ? PRW_REPORT_JSON : PRW_REPORT_HTML;
    if (json && (!out || strcmp(out, "-") == 0)) {
        char *text;
        size_t len;
        if (prw_report_render(r, f, &text, &len, &err) < 0)
            return cli_error(NULL, &err);
        int rc = fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0
                     ? CLI_OK
                     : cli_fail("cannot write the report to standard output");
        prw_report_free_text(text);
        return rc;
    }
    char path[4096];
    if (!out) {
        snprintf(path, sizeof path, "%s/report.html", dir);
        out = path;
    }
    if (prw_report_write(r, f, out, &err) < 0)
        return cli_error(NULL, &err);
    printf("report: %s\n", out);
    return CLI_OK;
}

int cmd_report(int argc, char **argv) {
    prw_report_options o;
    prw_report_options_init(&o);
    const char *out = NULL;
    bool json = false;
    int rc = CLI_OK;
    for (int i = 1; i < argc && rc == CLI_OK; i++) {
        bool missing = false;
        const char *val;
        int64_t n;
        if (cli_is_help(argv[i])) {
            report_help(stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if ((val = cli_opt_value(argc, argv, &i, "-o", &missing)) ||
                   (val = cli_opt_value(argc, argv, &i, "--output", &missing))) {
            out = val;
        } else if ((val = cli_opt_value(argc, argv, &i, "--sample", &missing))) {
            if (!cli_parse_i64(val, 1, INT64_MAX, &n))
                rc = cli_usage_error("report ", "--sample takes a positive count, got '%s'", val);
            o.sample = (uint64_t)n;
        } else if ((val = cli_opt_value(argc, argv, &i, "--workers", &missing))) {
            if (!cli_parse_i64(val, 1, 1024, &n))
                rc = cli_usage_error("report ", "--workers takes 1..1024, got '%s'", val);
            o.workers = (int)n;
        } else if (missing) {
            rc = cli_usage_error("report ", "%s needs a value", argv[i]);
        } else if (argv[i][0] == '-' && argv[i][1]) {
            rc = cli_usage_error("report ", "unknown option '%s'", argv[i]);
        } else if (o.dir) {
            rc = cli_usage_error("report ", "one output directory only (got '%s' and '%s')", o.dir,
                                 argv[i]);
        } else {
            o.dir = argv[i];
        }
    }
    if (rc == CLI_OK && !o.dir)
        rc = cli_usage_error("report ", "no output directory given");
    if (rc != CLI_OK)
        return rc;
    prw_report *r;
    prw_error err;
    prw_error_clear(&err);
    if (prw_report_create(&o, &r, &err) < 0)
        return cli_error(NULL, &err); /* errors name their file */
    rc = emit(r, json, out, o.dir);
    prw_report_destroy(r);
    return rc;
}
