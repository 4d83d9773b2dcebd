/*
 * Scale-out subcommands (include/proberows/scaleout.h, docs/SLURM.md):
 *   proberows plan --input GLOB... --output DIR --map-tasks M --reduce-tasks N [build options]
 *   proberows map --plan DIR/plan.json [--task I] [--workers N]
 *   proberows reduce --plan DIR/plan.json [--task K] [--workers N]
 *   proberows finalize --plan DIR/plan.json
 * --task defaults to $SLURM_ARRAY_TASK_ID, so one sbatch array line runs every task.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "proberows/scaleout.h"

static void plan_help(FILE *out) {
    fprintf(out,
            "Usage: proberows plan --input GLOB... --output DIR --map-tasks M --reduce-tasks N\n"
            "                      [--train-ratio R] [--split ratio|hash] [--null-rtt POLICY]\n"
            "                      [--column NAME=SOURCE] [--max-row-size-mb X]\n"
            "                      [--ar-options STRING] [--strict] [--rtt avg|min|max]\n"
            "                      [--src-addr src_addr|from] [--workers N] [--quiet]\n\n"
            "Plans a scale-out run (Slurm job arrays or any scheduler over a shared\n"
            "filesystem): reads the src_addr column of every input once and writes\n"
            "DIR/plan.json (the inputs with sizes, M map tasks as contiguous runs of files\n"
            "balanced by bytes, the probe count, N key ranges balanced by rows, the train/test\n"
            "cut, every build option) and DIR/plan.probes (the sorted probe list).\n"
            "Then run 'proberows map' for tasks 0..M-1, 'proberows reduce' for 0..N-1 and\n"
            "'proberows finalize'. The outputs equal 'proberows build --plan DIR/plan.json'.\n\n"
            "Options:\n"
            "  --input GLOB           Parquet files or RIPE Atlas dumps (repeatable), as for\n"
            "                         'proberows build'\n"
            "  --output DIR           where plan.json, plan.probes and later the outputs go\n"
            "  --map-tasks M          map tasks (1..99999)\n"
            "  --reduce-tasks N       reduce tasks = key ranges = shards per split (1..99999)\n"
            "  --train-ratio R        as for 'proberows build' (recorded in the plan)\n"
            "  --split ratio|hash     as for 'proberows build' (recorded in the plan)\n"
            "  --null-rtt POLICY      keep|drop|failed, as for 'proberows build'\n"
            "  --column NAME=SOURCE   as for 'proberows build' (recorded in the plan)\n"
            "  --max-row-size-mb X    as for 'proberows build' (recorded in the plan)\n"
            "  --ar-options STRING    as for 'proberows build' (recorded in the plan)\n"
            "  --strict               as for 'proberows build' (recorded in the plan)\n"
            "  --rtt avg|min|max      as for 'proberows build' (recorded in the plan)\n"
            "  --src-addr src_addr|from\n"
            "                         as for 'proberows build' (recorded in the plan)\n"
            "  --workers N            threads for reading src_addr (default: the CPUs)\n"
            "  --quiet                no progress or summary\n"
            "  -h, --help             this help\n\n"
            "Exit status: 0 success, 1 data or I/O error, 2 usage error.\n");
}

static void task_help(FILE *out, const char *name) {
    if (strcmp(name, "finalize") == 0) {
        fprintf(out,
                "Usage: proberows finalize --plan DIR/plan.json\n\n"
                "Checks that every reduce task's files exist, are complete and hold the\n"
                "records the task reported, writes DIR/manifest.json and removes DIR/.runs/.\n\n"
                "Options:\n"
                "  --plan FILE    the plan.json written by 'proberows plan'\n"
                "  -h, --help     this help\n\n"
                "Exit status: 0 success, 1 a part missing or damaged, 2 usage error.\n");
        return;
    }
    bool map = strcmp(name, "map") == 0;
    fprintf(out,
            "Usage: proberows %s --plan DIR/plan.json [--task %s] [--workers N]\n\n%s\n"
            "Options:\n"
            "  --plan FILE    the plan.json written by 'proberows plan'\n"
            "  --task %s       0-based task number; default $SLURM_ARRAY_TASK_ID\n"
            "  --workers N    threads (default: %s)\n"
            "  -h, --help     this help\n\n"
            "Safe to rerun: files appear only complete (temporary + rename).\n"
            "Exit status: 0 success, 1 data or I/O error, 2 usage error.\n",
            name, map ? "I" : "K",
            map ? "Decodes the task's input files and writes one run file per key range to\n"
                  "DIR/.runs/.\n"
                : "Merges key range K's run files from every map task and writes\n"
                  "DIR/train.arrayrecord-0000K-of-0000N and DIR/test.arrayrecord-... .\n",
            map ? "I" : "K", map ? "1; N + 1 decoded row groups in memory" : "the CPUs it may use");
}

int cmd_plan(int argc, char **argv) {
    /* --map-tasks and --reduce-tasks here; everything else is a build option. */
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    if (!rest || !inputs) {
        free(rest);
        free(inputs);
        return cli_fail("out of memory");
    }
    int nrest = 0, rc = CLI_OK;
    int64_t M = 0, N = 0;
    rest[nrest++] = argv[0];
    for (int i = 1; i < argc && rc == CLI_OK; i++) {
        bool missing = false;
        const char *v;
        if ((v = cli_opt_value(argc, argv, &i, "--map-tasks", &missing))) {
            if (!cli_parse_i64(v, 1, 99999, &M))
                rc = cli_usage_error("plan ", "--map-tasks takes 1..99999, got '%s'", v);
        } else if ((v = cli_opt_value(argc, argv, &i, "--reduce-tasks", &missing))) {
            if (!cli_parse_i64(v, 1, 99999, &N))
                rc = cli_usage_error("plan ", "--reduce-tasks takes 1..99999, got '%s'", v);
        } else if (missing) {
            rc = cli_usage_error("plan ", "%s needs a value", argv[i]);
        } else {
            rest[nrest++] = argv[i];
        }
    }
    prw_build_options o;
    prw_build_options_init(&o);
    size_t ninputs = 0;
    bool quiet = false, help = false;
    if (rc == CLI_OK)
        rc = cli_build_parse("plan ", nrest, rest, &o, inputs, &ninputs, &quiet, &help);
    if (rc == CLI_OK && help) {
        plan_help(stdout);
        free(rest);
        free(inputs);
        return CLI_OK;
    }
    if (rc == CLI_OK && ninputs == 0)
        rc = cli_usage_error("plan ", "no --input given");
    if (rc == CLI_OK && !o.output_dir)
        rc = cli_usage_error("plan ", "no --output given");
    if (rc == CLI_OK && (M == 0 || N == 0))
        rc = cli_usage_error("plan ", "--map-tasks and --reduce-tasks are required");
    if (rc != CLI_OK) {
        free(rest);
        free(inputs);
        return rc;
    }
    o.inputs = inputs;
    o.n_inputs = ninputs;
    o.warning = cli_warning;
    prw_plan_stats st;
    prw_error err;
    prw_error_clear(&err);
    prw_status s = prw_plan(&o, (int)M, (int)N, &st, &err);
    free(rest);
    free(inputs);
    if (s < 0)
        return cli_status("plan ", s, &err);
    char sz[PRW_BYTES_STR_MAX];
    if (!quiet)
        fprintf(stderr,
                "proberows plan: %lld files (%s), %lld rows, %lld probes -> %s/plan.json "
                "(%lld map tasks, %lld reduce tasks) in %.2fs\n",
                (long long)st.files, prw_format_bytes((uint64_t)st.input_bytes, sz, sizeof sz),
                (long long)st.rows, (long long)st.probes, o.output_dir, (long long)M, (long long)N,
                st.seconds);
    return CLI_OK;
}

/* Common options of map, reduce and finalize. */
static int parse_task(int argc, char **argv, const char **plan, int64_t *task, int64_t *workers,
                      bool want_task, bool *help) {
    char cmd[32];
    snprintf(cmd, sizeof cmd, "%s ", argv[0]);
    *help = false;
    *task = -1;
    for (int i = 1; i < argc; i++) {
        bool missing = false;
        const char *v;
        if (cli_is_help(argv[i])) {
            *help = true;
            return CLI_OK;
        } else if ((v = cli_opt_value(argc, argv, &i, "--plan", &missing))) {
            *plan = v;
        } else if (want_task && (v = cli_opt_value(argc, argv, &i, "--task", &missing))) {
            if (!cli_parse_i64(v, 0, 99998, task))
                return cli_usage_error(cmd, "--task takes 0..99998, got '%s'", v);
        } else if (workers && (v = cli_opt_value(argc, argv, &i, "--workers", &missing))) {
            if (!cli_parse_i64(v, 1, 1024, workers))
                return cli_usage_error(cmd, "--workers takes 1..1024, got '%s'", v);
        } else if (missing) {
            return cli_usage_error(cmd, "%s needs a value", argv[i]);
        } else {
            return cli_usage_error(cmd, "unknown option '%s'", argv[i]);
        }
    }
    if (!*plan)
        return cli_usage_error(cmd, "no --plan given");
    if (want_task && *task < 0) {
        const char *env = getenv("SLURM_ARRAY_TASK_ID");
        if (!env)
            return cli_usage_error(cmd, "no --task given and SLURM_ARRAY_TASK_ID is not set");
        if (!cli_parse_i64(env, 0, 99998, task))
            return cli_usage_error(cmd, "SLURM_ARRAY_TASK_ID is not a task number: '%s'", env);
    }
    return CLI_OK;
}

int cmd_map(int argc, char **argv) {
    const char *plan = NULL;
    int64_t task = -1, workers = 0;
    bool help = false;
    int rc = parse_task(argc, argv, &plan, &task, &workers, true, &help);
    if (help) {
        task_help(stdout, "map");
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    prw_error err;
    prw_error_clear(&err);
    prw_status s = prw_map(plan, (int)task, (int)workers, cli_warning, NULL, &err);
    return cli_status("map ", s, &err);
}

int cmd_reduce(int argc, char **argv) {
    const char *plan = NULL;
    int64_t task = -1, workers = 0;
    bool help = false;
    int rc = parse_task(argc, argv, &plan, &task, &workers, true, &help);
    if (help) {
        task_help(stdout, "reduce");
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    prw_error err;
    prw_error_clear(&err);
    prw_build_stats st;
    prw_status s = prw_reduce(plan, (int)task, (int)workers, &st, &err);
    return cli_status("reduce ", s, &err);
}

int cmd_finalize(int argc, char **argv) {
    const char *plan = NULL;
    int64_t task = -1;
    bool help = false;
    int rc = parse_task(argc, argv, &plan, &task, NULL, false, &help);
    if (help) {
        task_help(stdout, "finalize");
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    prw_error err;
    prw_error_clear(&err);
    prw_build_stats st;
    prw_status s = prw_finalize(plan, &st, &err);
    if (s < 0)
        return cli_error(NULL, &err);
    if (s == PRW_DONE) { /* a requeued job after success: say so, not "0 probes" */
        fprintf(stderr, "proberows finalize: already finalized (manifest.json and every part are "
                        "there, the run files removed); nothing to do\n");
        return CLI_OK;
    }
    fprintf(stderr, "proberows finalize: train %lld probes, test %lld probes; manifest written\n",
            (long long)st.split[0].probes, (long long)st.split[1].probes);
    return CLI_OK;
}
