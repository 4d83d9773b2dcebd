/*
 * Scale-out over a shared filesystem (Slurm job arrays or any scheduler): plan, map, reduce,
 * finalize. docs/SLURM.md describes the files and the job scripts.
 *
 *   prw_plan      one pass over src_addr -> DIR/plan.json + DIR/plan.probes
 *   prw_map       task I of M: decodes its contiguous run of input files and writes one run
 *                 file per key range to DIR/.runs/
 *   prw_reduce    task K of N: merges range K's runs of all map tasks (map order = input
 *                 order) and writes DIR/train.arrayrecord-0000K-of-0000N and test....
 *   prw_finalize  checks every part, writes DIR/manifest.json, removes DIR/.runs/
 *
 * Every task writes through temporary files renamed into place, so a task killed at any
 * point and run again produces the same bytes. The union of the reduce outputs is
 * byte-identical to prw_build() with prw_build_options.plan set to the same plan.
 */
#ifndef PROBEROWS_SCALEOUT_H
#define PROBEROWS_SCALEOUT_H

#include <stdint.h>

#include "proberows/pipeline.h"
#include "proberows/proberows.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What prw_plan found. */
typedef struct prw_plan_stats {
    int64_t files;
    int64_t input_bytes;
    int64_t rows;   /**< rows with a non-NULL src_addr */
    int64_t probes; /**< distinct src_addr */
    int64_t train_probes;
    double seconds;
} prw_plan_stats;

/**
 * Plans a scale-out run: expands opts->inputs, reads the src_addr column of every row group
 * (the key pass of the memory-bounded build), and writes opts->output_dir/plan.probes (the
 * sorted distinct src_addr strings) and opts->output_dir/plan.json (the input files with
 * sizes, their assignment to map_tasks contiguous runs balanced by bytes, the probe count and
 * the hash of plan.probes, reduce_tasks key ranges balanced by rows, the ratio split's
 * train/test cut and every build option). Deterministic; both files are written atomically.
 * opts->shards must be 0, 1 or reduce_tasks (the ranges are the shards); opts->plan must be
 * NULL. `stats` may be NULL.
 * Errors: PRW_E_INVALID (options; task counts outside 1..99999), PRW_E_IO, the decoding
 * errors of prw_build (naming file, column, row group, offset), PRW_E_NOMEM.
 */
PRW_API prw_status prw_plan(const prw_build_options *opts, int map_tasks, int reduce_tasks,
                            prw_plan_stats *stats, prw_error *err);

/**
 * Runs map task `task` (0-based) of the plan at `plan_path`: decodes its input files and
 * writes DIR/.runs/map-IIIII-range-KKKKK.run for every key range K (rows in input order,
 * keys as probe ranks, dst_addr strings in a per-block dictionary, zstd-compressed blocks with
 * CRC-32). Each run file appears atomically; running the task again rewrites identical
 * files, for any `workers`: threads decoding row groups ahead while the calling thread writes
 * (0 or 1: none, the calling thread does both); the task then holds workers + 1 decoded row
 * groups.
 * `warning` (may be NULL) gets each of the task's files read with a known writer bug worked
 * around, as prw_build_options.warning.
 * Errors: PRW_E_INVALID (task out of range), PRW_E_CORRUPT (plan damaged, or an input holds
 * a src_addr missing from the plan: the inputs changed since planning), PRW_E_CHECKSUM
 * (plan.probes does not match plan.json), PRW_E_IO, decoding errors, PRW_E_NOMEM.
 */
PRW_API prw_status prw_map(const char *plan_path, int task, int workers, prw_warning_fn warning,
                           void *warning_ctx, prw_error *err);

/**
 * Runs reduce task `task` (0-based) of the plan: reads range `task`'s run file from every map
 * task, in map order, groups and encodes exactly like prw_build, and writes
 * DIR/train.arrayrecord-KKKKK-of-NNNNN and DIR/test.arrayrecord-KKKKK-of-NNNNN (atomically)
 * plus a small DIR/.runs/reduce-KKKKK.json with its counts. All rows of the range are held in
 * memory (about 64 bytes per row): choose reduce_tasks so a range fits a task's memory.
 * `workers`: threads, 0 = online CPUs. `stats` may be NULL.
 * Errors: PRW_E_IO (a run file missing: the message names it), PRW_E_CORRUPT /
 * PRW_E_TRUNCATED / PRW_E_CHECKSUM / PRW_E_CODEC (a damaged run file, with its path and
 * offset, or one written for another plan), PRW_E_LIMIT, PRW_E_NOMEM.
 */
PRW_API prw_status prw_reduce(const char *plan_path, int task, int workers, prw_build_stats *stats,
                              prw_error *err);

/**
 * Finishes a run: checks that every reduce task's two output files and counts exist and that
 * each output file's ArrayRecord footer is intact with the record count its reduce task
 * reported, writes DIR/manifest.json (published in one step with the shards: files of another
 * shard count and an old manifest go), and removes DIR/.runs/. Holds DIR's lock exclusively.
 * Run again after it succeeded (no .runs/, manifest.json and every part present) it does
 * nothing and returns PRW_DONE (stats stay zero). `stats` (may be NULL) receives the summed
 * counts. Errors: PRW_E_IO (a part missing: named),
 * PRW_E_CORRUPT (a part incomplete or disagreeing with its counts), PRW_E_NOMEM.
 */
PRW_API prw_status prw_finalize(const char *plan_path, prw_build_stats *stats, prw_error *err);

#ifdef __cplusplus
}
#endif
#endif
