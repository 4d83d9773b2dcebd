/*
 * proberows pipeline: Parquet measurement shards in, per-probe Arrow IPC rows in ArrayRecord
 * files out (`train.arrayrecord`, `test.arrayrecord`, `manifest.json`), exactly as
 * ../shared/docs/CONTRACT.md says. This is what `proberows build` calls.
 */
#ifndef PROBEROWS_PIPELINE_H
#define PROBEROWS_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proberows/atlas.h"
#include "proberows/proberows.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How probes are split into train and test (CONTRACT.md §3). */
typedef enum prw_split_rule {
    PRW_SPLIT_RATIO = 0, /**< first floor(n_probes * ratio) probes in src_addr order -> train */
    PRW_SPLIT_HASH = 1   /**< train iff src_id % D < N, N/D = ratio reduced, D <= 10000 */
} prw_split_rule;

/** What to do with a NULL rtt (CONTRACT.md §2). */
typedef enum prw_null_rtt {
    PRW_NULL_RTT_KEEP = 0,  /**< keep the row, rtt is an Arrow null */
    PRW_NULL_RTT_DROP = 1,  /**< drop the row (counted) */
    PRW_NULL_RTT_FAILED = 2 /**< store -1.0, the consumer's "no reply" */
} prw_null_rtt;

/** The logical input columns, in the order of prw_build_options.columns. */
enum {
    PRW_COL_EVENT_TIME = 0,
    PRW_COL_SRC_ADDR,
    PRW_COL_DST_ADDR,
    PRW_COL_IP_VERSION,
    PRW_COL_RTT,
    PRW_COL_COUNT
};

/** A progress report, passed to prw_build_options.progress from the calling thread. */
typedef struct prw_build_progress {
    const char *phase; /**< "scan", "decode", "group", "write" */
    int64_t done;      /**< units done in this phase (rows, or row groups for scan) */
    int64_t total;     /**< units in this phase, 0 if unknown */
    double elapsed;    /**< seconds since the build started */
    bool phase_end;    /**< the last report of this phase */
} prw_build_progress;

typedef struct prw_build_options {
    const char *const *inputs; /**< globs (CONTRACT.md §1) */
    size_t n_inputs;
    const char *output_dir; /**< created if missing */
    int workers;            /**< 0: online CPUs */
    uint64_t max_row_size;  /**< inner stream limit in bytes; 0: 8 MiB */
    double train_ratio;     /**< in [0, 1]; default 0.9 */
    prw_split_rule split;
    prw_null_rtt null_rtt;
    const char *columns[PRW_COL_COUNT]; /**< source column names; NULL: the logical name */
    const char *ar_options;             /**< ArrayRecord writer options; NULL: the defaults */
    int shards;           /**< files per split; 0 or 1: one file named SPLIT.arrayrecord */
    const char *temp_dir; /**< run files of the memory-bounded mode go to a hidden folder
                               here; NULL: inside output_dir */
    /** Bytes the build may use (peak RSS stays within it + 10%); when the rows do not fit,
     *  they are spilled to run files. 0: min(physical memory, cgroup limit) / 2. */
    uint64_t memory_limit;
    const char *command_line; /**< recorded in manifest.json; may be NULL */
    /** A plan.json written by prw_plan (scaleout.h), or NULL. When set, the inputs, split,
     *  NULL policy, row size, columns and writer options are the plan's (inputs must be
     *  empty), and the shards are the plan's key ranges: shard K of each split holds the
     *  probes of range K, byte-identical to reduce task K. A different probe set in the
     *  inputs than the plan's is PRW_E_CORRUPT. */
    const char *plan;
    /** Called every few hundred milliseconds and at each phase end; may be NULL. */
    void (*progress)(void *ctx, const prw_build_progress *p);
    void *progress_ctx;
    /** Fail (PRW_E_CORRUPT, naming file, column, row group and row) on the first row that is
     *  otherwise dropped or counted for an out-of-range value: event_time outside
     *  [PRW_EVENT_TIME_MIN_US, PRW_EVENT_TIME_MAX_US), ip_version other than 4 and 6. */
    bool strict;
    /** Inputs that are RIPE Atlas dumps (proberows/atlas.h; found by content, Parquet files
     *  beside them are read as usual): which round-trip time becomes rtt (default avg) and
     *  which address is the probe's key (default src_addr, the probe's local address; `from`
     *  is its public one: behind NAT many probes share a private src_addr). With strict, a
     *  bad dump line is an error too, naming the file, line and byte offset. */
    prw_atlas_rtt atlas_rtt;
    prw_atlas_src atlas_src;
    /** Called once per input file that is read with a known writer bug worked around
     *  (PARQUET-816 files of parquet-mr < 1.2.9); may be NULL. prw_plan calls it too; a
     *  plan does not record it. stats->files_writer_bug counts those files either way. */
    prw_warning_fn warning;
    void *warning_ctx;
} prw_build_options;

/** The valid event_time range, in microseconds since the epoch: 1970-01-01T00:00:00 up to (not
 *  including) 2200-01-01T00:00:00 UTC. Rows outside it (DuckDB's +-infinity, INT64 extremes,
 *  years before 1970 or after 2199) are dropped and counted, so every span and time difference
 *  of kept rows fits easily in an int64. */
#define PRW_EVENT_TIME_MIN_US INT64_C(0)
#define PRW_EVENT_TIME_MAX_US INT64_C(7258118400000000)

/** Sets the defaults: 8 MiB rows, ratio 0.9, ratio split, keep NULL rtt, one file per split. */
PRW_API void prw_build_options_init(prw_build_options *o);

/** Per-split totals. */
typedef struct prw_build_split_stats {
    int64_t probes;
    int64_t records;      /**< rows written (pieces of probes) */
    int64_t measurements; /**< sum of n_measurements */
    int64_t bytes;        /**< size of the split's files */
    int64_t files;
} prw_build_split_stats;

/** What a build did; every dropped row is counted by reason. */
/** A skipped line of a dump input, with its file (truncated to fit). */
typedef struct prw_build_bad_line {
    char file[512];
    prw_atlas_bad_line line;
} prw_build_bad_line;

typedef struct prw_build_stats {
    int64_t files;
    int64_t files_writer_bug; /**< files read with a known writer bug worked around (warning) */
    int64_t row_groups;
    int64_t rows_read;
    int64_t input_bytes;
    int64_t dropped_null_src_addr;
    int64_t dropped_null_event_time;
    int64_t dropped_null_rtt;         /**< --null-rtt drop */
    int64_t dropped_event_time_range; /**< event_time outside the valid range (dropped) */
    int64_t null_rtt_kept;            /**< --null-rtt keep */
    int64_t null_rtt_failed;          /**< --null-rtt failed (stored as -1.0) */
    int64_t rtt_nan;                  /**< rtt NaN (kept as is) */
    int64_t rtt_inf;                  /**< rtt +-infinity (kept as is) */
    int64_t ip_version_other;         /**< ip_version not 4 or 6 (kept; strict fails) */
    int64_t split_probes_cut;         /**< probes written in more than one piece */
    prw_build_split_stats split[2];   /**< [0] train, [1] test */
    double seconds_scan, seconds_decode, seconds_group, seconds_write, seconds_total;
    int64_t peak_rss_bytes;
    int workers;
    uint64_t memory_limit;    /**< the limit in force (bytes; the default when 0 was given) */
    bool spilled;             /**< rows went through run files (the memory-bounded mode) */
    int64_t temp_bytes;       /**< bytes written to run files (0 in memory) */
    int64_t partitions;       /**< key-range partitions */
    int64_t spill_partitions; /**< partitions read back from run files */
    int64_t merged_probes;    /**< probes too large for memory, merged from sorted runs */
    double seconds_keys;      /**< the key pass of the memory-bounded mode */
    /** Before the build: temporary folders of stopped runs removed (output directory and
     *  temp_dir), with the bytes they held; interrupted publishes finished or undone. */
    int64_t leftovers_removed, leftover_bytes;
    int publishes_finished, publishes_undone;
    /** CPU seconds (user + system, all threads) of the key pass, decode, group and
     * encode+write phases: CPU / wall of a phase says how many cores it kept busy. */
    double cpu_keys, cpu_decode, cpu_group, cpu_write;
    /** RIPE Atlas dump inputs: how many, their decompressed bytes, the lines skipped by
     *  reason (indexed by prw_atlas_bad; results without the key column are in
     *  dropped_null_src_addr, as a NULL key of a Parquet input is) and the first few of
     *  them with their file. */
    int64_t dump_files, dump_bytes_decompressed;
    int64_t dump_chunk_bytes; /**< the parsed chunks' bytes in the temporary file */
    int64_t lines_skipped[PRW_ATLAS_BAD_COUNT];
    int64_t lines_skipped_total;
    prw_build_bad_line first_bad[PRW_ATLAS_FIRST_BAD];
    int nfirst_bad;
} prw_build_stats;

/**
 * Runs the whole job. Output files appear under their final names only when everything
 * succeeded; on error no new file is left in output_dir and older outputs stay intact.
 * Errors: PRW_E_INVALID (options), PRW_E_IO (files; err names the path), PRW_E_CORRUPT /
 * PRW_E_TRUNCATED / PRW_E_CHECKSUM / PRW_E_CODEC (bad input; err names file, column, row
 * group and byte offset), PRW_E_UNSUPPORTED (column types), PRW_E_NOMEM, PRW_E_LIMIT (a row too
 * large for one record, or a memory_limit too small to make progress: the message says how much is
 * needed). Run files are removed on success and on error.
 */
PRW_API prw_status prw_build(const prw_build_options *opts, prw_build_stats *stats, prw_error *err);

/**
 * Removes the temporary directories (run files, output staging) of every prw_build running in
 * this process. Async-signal-safe: meant for a SIGINT/SIGTERM handler, which should then
 * end the process (the interrupted build cannot go on).
 */
PRW_API void prw_build_remove_temp_files(void);

#ifdef __cplusplus
}
#endif
#endif
