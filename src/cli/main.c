/*
 * proberows command line: a dispatch table only. Each subcommand lives in cmd_<name>.c and
 * handles its own --help. Only subcommands that work are listed here.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const cli_command g_commands[] = {
    {"build", cmd_build, "Parquet shards -> per-probe rows in train/test ArrayRecord files"},
    {"plan", cmd_plan, "scale-out: plan map and reduce tasks over the inputs (plan.json)"},
    {"map", cmd_map, "scale-out: run one map task of a plan"},
    {"reduce", cmd_reduce, "scale-out: run one reduce task of a plan (shard K of both splits)"},
    {"finalize", cmd_finalize, "scale-out: check every part, write manifest.json"},
    {"ipc", cmd_ipc, "print an Arrow IPC stream as JSON lines (ipc cat)"},
    {"parquet", cmd_parquet, "inspect a Parquet file: schema, cat, checksum"},
    {"atlas", cmd_atlas, "read a RIPE Atlas ping dump: cat (TSV), stats"},
    {"ar", cmd_ar, "inspect, dump, pack and verify ArrayRecord files"},
    {"verify", cmd_verify, "prove an output directory complete and correct"},
    {"inspect", cmd_inspect, "summarise output files; decode a record or a probe's records"},
    {"report", cmd_report, "a dataset report of an output directory: HTML charts or JSON"},
    {NULL, NULL, NULL},
};

static void print_help(FILE *out) {
    fprintf(out, "Usage: proberows COMMAND [OPTIONS]\n\n"
                 "Turns Parquet measurement shards into per-probe ArrayRecord rows.\n\n"
                 "Commands:\n");
    for (const cli_command *c = g_commands; c->name; c++)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fprintf(out, "\nOptions:\n"
                 "  -h, --help     show this help\n"
                 "  --version      print the version\n\n"
                 "Run 'proberows COMMAND --help' for a command's options.\n"
                 "Exit status: 0 success, 1 data or I/O error, 2 usage error.\n");
}

/* rc, or CLI_FAIL when a read of a mapped file found it cut short (prw_guard_mapped_reads):
 * what the command made of the zeros it read instead is not to be trusted. */
static int check_mapped_reads(int rc) {
    char path[4096];
    int64_t at = 0;
    if (!prw_mapped_read_failed(path, sizeof path, &at))
        return rc;
    fprintf(stderr,
            "proberows: %s could not be read from byte offset %lld on: it was cut short while "
            "it was read (or its device failed), and those bytes read as zeros; %s\n",
            path, (long long)at,
            rc == CLI_OK ? "what was printed from it is wrong" : "the error above follows from it");
    return rc == CLI_OK ? CLI_FAIL : rc;
}

int main(int argc, char **argv) {
    /* An input cut short by another process while it is read is then an error, not a crash. */
    (void)prw_guard_mapped_reads(NULL);
    if (argc < 2) {
        print_help(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (cli_is_help(cmd) || strcmp(cmd, "help") == 0) {
        print_help(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("proberows %s\n", PRW_VERSION_STRING);
        return CLI_OK;
    }
    for (const cli_command *c = g_commands; c->name; c++)
        if (strcmp(c->name, cmd) == 0)
            return check_mapped_reads(c->run(argc - 1, argv + 1));
    return cli_usage_error(NULL, "unknown command '%s'", cmd);
}
