/*
 * Shared helpers of the command-line front end. The CLI sees only the public headers
 * plus this header; exit codes are 0 success, 1 data or I/O error, 2 usage error.
 */
#ifndef PRW_CLI_CLI_H
#define PRW_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "proberows/outdir.h"
#include "proberows/pipeline.h"
#include "proberows/proberows.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/** A subcommand: argv[0] is its own name. */
typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command;

/** Prints `proberows: FILE: message (at byte N)` for a library error; returns CLI_FAIL. */
int cli_error(const char *file, const prw_error *err);
/** Prints `proberows: message` (printf-style) to stderr; returns CLI_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** A prw_warning_fn (ctx unused): prints `proberows: warning: PATH: message` to stderr. */
void cli_warning(void *ctx, const char *path, const char *message);
/** Prints `proberows: message` and `Try '...--help'`; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * The exit code for a library call's status: CLI_OK on success, a usage error (naming `cmd`,
 * e.g. "build ") for PRW_E_INVALID, which the library returns for bad options, else the error
 * printed as `proberows: message (at byte N)`.
 */
int cli_status(const char *cmd, prw_status st, const prw_error *err);

/**
 * Before reading output directory `dir` (verify, inspect): recovers a publish a killed writer
 * left halfway and notes on stderr what it did, or that a build is writing `dir` now. Returns
 * CLI_OK, or CLI_FAIL after printing the error.
 */
int cli_outdir_prepare(const char *dir);

/** True if argv[i] is --help or -h. */
bool cli_is_help(const char *arg);

/** Parses a whole decimal integer in [min, max]; false on anything else. */
bool cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/** Parses a size such as 512M, 2G, 1.5G, 100k, 4096 (bytes; powers of 1024). */
bool cli_parse_size(const char *s, uint64_t *out);

/**
 * For an option that takes a value: accepts `--name VALUE` and `--name=VALUE`. Returns the
 * value and advances *i when argv[*i] is that option; NULL otherwise. Sets *missing when
 * the option is present without a value.
 */
const char *cli_opt_value(int argc, char **argv, int *i, const char *name, bool *missing);

/* Subcommands, one per cmd_NAME.c. */

/** `proberows build`: the main job (cmd_build.c). */
int cmd_build(int argc, char **argv);
/** `proberows ipc cat`: prints an Arrow IPC stream as JSON lines (cmd_ipc.c). */
int cmd_ipc(int argc, char **argv);
/** `proberows parquet schema|cat|checksum FILE` (cmd_parquet.c). */
int cmd_parquet(int argc, char **argv);
/** `proberows atlas cat|stats FILE`: read a RIPE Atlas ping dump (cmd_atlas.c). */
int cmd_atlas(int argc, char **argv);
/** `proberows ar`: ArrayRecord info, cat, pack and verify (cmd_ar.c). */
int cmd_ar(int argc, char **argv);
/** `proberows verify OUTDIR`: proves an output directory complete and correct (cmd_verify.c). */
int cmd_verify(int argc, char **argv);
/**
 * Parses the options of `proberows build` (also used by `plan`): fills *o, appends --input
 * values to inputs (argc entries), sets *quiet and *help. `cmd` prefixes usage errors
 * ("build "). Returns CLI_OK or CLI_USAGE (message printed).
 */
int cli_build_parse(const char *cmd, int argc, char **argv, prw_build_options *o,
                    const char **inputs, size_t *ninputs, bool *quiet, bool *help);
/** `proberows plan`: a scale-out plan (cmd_plan.c). */
int cmd_plan(int argc, char **argv);
/** `proberows map --plan P --task I`: one map task (cmd_plan.c). */
int cmd_map(int argc, char **argv);
/** `proberows reduce --plan P --task K`: one reduce task (cmd_plan.c). */
int cmd_reduce(int argc, char **argv);
/** `proberows finalize --plan P`: checks the parts, writes manifest.json (cmd_plan.c). */
int cmd_finalize(int argc, char **argv);
/** `proberows inspect PATH`: summarises output files, decodes records (cmd_inspect.c). */
int cmd_inspect(int argc, char **argv);
/** `proberows report OUTDIR`: the dataset report, HTML or JSON (cmd_report.c). */
int cmd_report(int argc, char **argv);

#endif
