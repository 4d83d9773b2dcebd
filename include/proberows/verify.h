/*
 * proberows verify and inspect: prove that an output directory of `proberows build` is
 * complete and correct (docs/VERIFY.md says what each check proves), and summarise
 * ArrayRecord files of probe rows. What `proberows verify` and `proberows inspect` call.
 */
#ifndef PROBEROWS_VERIFY_H
#define PROBEROWS_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proberows/proberows.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- verify ------------------------------------------------------------------------------ */

typedef struct prw_verify_options {
    const char *dir;           /**< the output directory (holds manifest.json) */
    const char *const *inputs; /**< globs of the input to re-read; NULL / 0: output only */
    size_t n_inputs;
    uint64_t sample;     /**< 0: every record; else about this many records (in pairs) */
    int workers;         /**< threads; 0: online CPUs */
    size_t max_failures; /**< failures kept in the report (all are counted); 0: 20 */
    /** Called once per input file read with a known writer bug worked around (as
     *  prw_build_options.warning); may be NULL. */
    prw_warning_fn warning;
    void *warning_ctx;
} prw_verify_options;

/** Sets the defaults: every record, online CPUs, 20 failures kept. */
PRW_API void prw_verify_options_init(prw_verify_options *o);

/** One failed check. */
typedef struct prw_verify_failure {
    char file[256];    /**< file name inside dir ("train.arrayrecord", "manifest.json"), an
                            input path, or "" for a whole-output check */
    int64_t record;    /**< record index in that file, or -1 */
    const char *check; /**< static short name: "arrayrecord", "schema", "n_measurements",
                            "src_addr", "src_id", "order", "first_last", "span", "nulls",
                            "row_size", "greedy", "split", "totals", "manifest", "input" */
    char message[384]; /**< what and why, one line */
} prw_verify_failure;

/** What prw_verify checked and found. Free with prw_verify_report_cleanup. */
typedef struct prw_verify_report {
    int64_t files;           /**< ArrayRecord files opened */
    int64_t records;         /**< records in those files */
    int64_t records_checked; /**< records decoded and checked (all unless sampled) */
    int64_t probes[2], records_split[2], measurements[2]; /**< [0] train, [1] test */
    bool sampled;         /**< --sample: whole-output totals were not checked */
    bool input_checked;   /**< the input was re-read */
    int64_t input_rows;   /**< rows read from the input */
    int64_t input_probes; /**< distinct src_addr kept from the input */
    int64_t n_failures;   /**< every failed check found */
    size_t n_kept;        /**< failures[0..n_kept): the first ones in (file, record) order */
    prw_verify_failure *failures;
    double seconds;
} prw_verify_report;

/**
 * Verifies the output directory opts->dir against its manifest.json and, with opts->inputs,
 * against the input (CONTRACT.md; docs/VERIFY.md lists the checks). Problems of the output
 * (a bad hash, a wrong field, a missing file, a manifest that disagrees) are failures in the
 * report, not errors: the call returns PRW_OK and report->n_failures says whether all held.
 * @param report receives the counts and the first failures (caller storage; free its
 *   contents with prw_verify_report_cleanup, even after an error).
 * @return PRW_OK when the verification ran; PRW_E_INVALID (no dir, bad options, --sample with
 *   inputs); errors reading the input (PRW_E_IO, PRW_E_CORRUPT, ... naming the file);
 *   PRW_E_NOMEM.
 */
PRW_API prw_status prw_verify(const prw_verify_options *opts, prw_verify_report *report,
                              prw_error *err);

/** Frees the failures of a report (safe on a zeroed report). */
PRW_API void prw_verify_report_cleanup(prw_verify_report *report);

/* ---- inspect ------------------------------------------------------------------------------ */

/** p50 / p99 / max of a size distribution. */
typedef struct prw_inspect_dist {
    uint64_t p50, p99, max;
} prw_inspect_dist;

/** Summary of one ArrayRecord file of probe rows. */
typedef struct prw_inspect_stats {
    uint64_t records;
    uint64_t probes;       /**< runs of consecutive records with the same src_addr */
    uint64_t measurements; /**< sum of n_measurements */
    uint64_t meas_min, meas_median, meas_max; /**< measurements per record */
    prw_inspect_dist record_bytes;            /**< whole outer records */
    prw_inspect_dist inner_bytes;             /**< the measurements (inner stream) */
    int64_t first_us, last_us;                /**< time range (microseconds); 0 if empty */
    uint64_t file_size;
    uint64_t group_size;
    char compression[16]; /**< "zstd", ... */
    char options[256];    /**< the stored writer options string */
} prw_inspect_stats;

/**
 * Reads every record of `path` (on `workers` threads, 0 = online CPUs) and summarises it.
 * @return PRW_OK; the reader's errors (PRW_E_IO, PRW_E_CHECKSUM, PRW_E_CORRUPT, ...), or
 *   PRW_E_CORRUPT when a record is not a probe row (err->msg names the record); PRW_E_NOMEM.
 */
PRW_API prw_status prw_inspect_file(const char *path, int workers, prw_inspect_stats *stats,
                                    prw_error *err);

#ifdef __cplusplus
}
#endif
#endif
