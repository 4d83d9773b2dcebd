/*
 * RIPE Atlas ping dumps as input: one JSON ping result per line, plain or compressed with
 * bzip2 (one stream or several concatenated), gzip (one member or several) or zstd. The
 * format is found by the file's first bytes, never by its name.
 *
 * A reader decompresses the file in order, cuts it into line-aligned pieces, parses the
 * pieces on several threads and hands back the measurements as columnar batches in input
 * order, the same five values a Parquet row group of the former DuckDB ingest holds:
 * event_time (µs UTC) = timestamp, src_addr, dst_addr, ip_version = address family,
 * rtt = avg (or min / max). Every firmware generation of the ping result format is read
 * (../shared/docs/ATLAS.md). Bad lines are skipped and counted by reason; in strict mode the
 * first one is an error. Nothing holds the whole decompressed file in memory.
 */
#ifndef PROBEROWS_ATLAS_H
#define PROBEROWS_ATLAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proberows/proberows.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What a file holds, by its first bytes. */
typedef enum prw_atlas_format {
    PRW_ATLAS_FMT_JSON = 0, /**< anything else: newline-delimited JSON text */
    PRW_ATLAS_FMT_BZIP2,    /**< "BZh" + level digit + block or end-of-stream magic */
    PRW_ATLAS_FMT_GZIP,     /**< 1f 8b */
    PRW_ATLAS_FMT_ZSTD,     /**< 28 b5 2f fd (a zstd frame) */
    PRW_ATLAS_FMT_PARQUET   /**< "PAR1": not a dump */
} prw_atlas_format;

/** Sniffs the format from the first `n` bytes of a file (10 are enough). */
PRW_API prw_atlas_format prw_atlas_detect(const uint8_t *head, size_t n);
/** A static name: "json", "bzip2", "gzip", "zstd", "parquet". */
PRW_API const char *prw_atlas_format_name(prw_atlas_format f);
/**
 * Sniffs the format of the file at `path`. Errors: PRW_E_IO naming the path.
 */
PRW_API prw_status prw_atlas_detect_file(const char *path, prw_atlas_format *out, prw_error *err);

/** Which of the result's round-trip times becomes `rtt`. */
typedef enum prw_atlas_rtt {
    PRW_ATLAS_RTT_AVG = 0,
    PRW_ATLAS_RTT_MIN,
    PRW_ATLAS_RTT_MAX
} prw_atlas_rtt;

/**
 * Which address is the probe's key. `src_addr` (the default, what the Parquet step used) is
 * the probe's local source address: for probes behind NAT often a private address shared by
 * many probes. `from` is the probe's public address as RIPE saw it.
 */
typedef enum prw_atlas_src { PRW_ATLAS_SRC_ADDR = 0, PRW_ATLAS_SRC_FROM } prw_atlas_src;

/** Why a line was skipped. */
typedef enum prw_atlas_bad {
    PRW_ATLAS_BAD_JSON = 0,  /**< not valid JSON, or not an object */
    PRW_ATLAS_BAD_TYPE,      /**< a field proberows reads has the wrong JSON type */
    PRW_ATLAS_BAD_TIMESTAMP, /**< no usable `timestamp` */
    PRW_ATLAS_BAD_LONG,      /**< longer than PRW_ATLAS_MAX_LINE bytes */
    PRW_ATLAS_BAD_BINARY,    /**< control bytes or invalid UTF-8: not text */
    PRW_ATLAS_BAD_COUNT
} prw_atlas_bad;

/** A static name for a reason: "malformed_json", "wrong_type", ... */
PRW_API const char *prw_atlas_bad_name(prw_atlas_bad b);

/**
 * Longest line read (1 MiB, without its line end). A real ping result is well under 10 kB
 * (a few hundred bytes plus ~20 per packet); longer lines are skipped as PRW_ATLAS_BAD_LONG.
 */
#define PRW_ATLAS_MAX_LINE (1u << 20)

/** Options; zero-initialise, then set what differs. */
typedef struct prw_atlas_options {
    prw_atlas_rtt rtt;
    prw_atlas_src src;
    bool strict;       /**< the first bad line is an error (PRW_E_CORRUPT) */
    int threads;       /**< parser threads; 0 = the CPUs this process may use */
    size_t max_memory; /**< bytes of decompressed data in flight; 0 = 64 MiB */
    bool details;      /**< fill prw_atlas_batch.line and .fw */
} prw_atlas_options;

/**
 * One piece of measurements, in input order. Row r of every array is measurement r. Strings
 * are bytes[offsets[r] .. offsets[r+1]) with offsets[0] = 0. Results without a source
 * address are not in a batch (they are counted in dropped_no_src), so src is never NULL;
 * NULL values elsewhere have valid[r] = 0 and a zero value. Valid until the next
 * prw_atlas_reader_next or prw_atlas_reader_close.
 */
typedef struct prw_atlas_batch {
    int64_t num_rows;
    const int64_t *event_time; /**< microseconds since the epoch, UTC */
    const int64_t *src_offsets;
    const uint8_t *src_bytes;
    const int64_t *dst_offsets;
    const uint8_t *dst_bytes;
    const uint8_t *dst_valid;
    const int8_t *ip_version; /**< 4 or 6 */
    const uint8_t *ip_valid;
    const double *rtt; /**< milliseconds; -1 when no reply came back */
    const uint8_t *rtt_valid;
    const int64_t *line; /**< with options.details: 1-based line number, else NULL */
    const int32_t *fw;   /**< with options.details: firmware version, -1 if absent, else NULL */
} prw_atlas_batch;

/** The first bad lines are kept with where they are. */
#define PRW_ATLAS_FIRST_BAD 5
/** Distinct firmware versions counted one by one; the rest are summed in fw_other. */
#define PRW_ATLAS_MAX_FW 64

typedef struct prw_atlas_bad_line {
    prw_atlas_bad reason;
    int64_t line;   /**< 1-based line number */
    int64_t offset; /**< byte offset of the line's start in the decompressed stream */
    int64_t column; /**< byte offset of the problem within the line */
    char what[96];  /**< e.g. "expected ',' or '}'" or "key 'timestamp' is a string" */
} prw_atlas_bad_line;

/** Counts over everything read so far. Lines = results + dropped_no_src + bad + blank. */
typedef struct prw_atlas_stats {
    int64_t lines;          /**< line ends seen, plus a last line without one */
    int64_t blank_lines;    /**< empty or whitespace only (not bad) */
    int64_t results;        /**< measurements handed out */
    int64_t dropped_no_src; /**< results without the chosen source address (NULL key) */
    int64_t bad[PRW_ATLAS_BAD_COUNT];
    int64_t bad_total;
    int64_t family[3];            /**< results by address family: [0] unknown, [1] IPv4, [2] IPv6 */
    int64_t no_reply;             /**< results whose rtt is -1 (every packet lost) */
    int64_t null_rtt;             /**< results without the chosen rtt field */
    int64_t not_run;              /**< results with a top-level `err` or `dnserr` */
    int32_t fw[PRW_ATLAS_MAX_FW]; /**< distinct firmware versions, ascending */
    int64_t fw_count[PRW_ATLAS_MAX_FW];
    int nfw;
    int64_t fw_other;  /**< results of firmware versions beyond the first PRW_ATLAS_MAX_FW */
    int64_t bytes_in;  /**< compressed bytes of the file */
    int64_t bytes_out; /**< decompressed bytes read */
    prw_atlas_bad_line first_bad[PRW_ATLAS_FIRST_BAD];
    int nfirst_bad;
} prw_atlas_stats;

typedef struct prw_atlas_reader prw_atlas_reader;

/**
 * Opens the dump at `path`. Errors: PRW_E_IO (naming the path), PRW_E_INVALID for a Parquet
 * file or bad options, PRW_E_NOMEM.
 */
PRW_API prw_status prw_atlas_reader_open(const char *path, const prw_atlas_options *opt,
                                         prw_atlas_reader **out, prw_error *err);
/**
 * The next batch in input order: PRW_OK with *batch set (it may have 0 rows), PRW_DONE at
 * the end. Errors (the message names the file and format, err->offset the byte offset):
 * PRW_E_CORRUPT / PRW_E_TRUNCATED / PRW_E_CHECKSUM / PRW_E_CODEC for a broken compressed
 * stream, PRW_E_CORRUPT for a bad line in strict mode (naming the line), PRW_E_NOMEM.
 * After an error the reader only fails.
 */
PRW_API prw_status prw_atlas_reader_next(prw_atlas_reader *r, const prw_atlas_batch **batch,
                                         prw_error *err);
/** Counts so far (complete after PRW_DONE). */
PRW_API const prw_atlas_stats *prw_atlas_reader_stats(const prw_atlas_reader *r);
PRW_API prw_atlas_format prw_atlas_reader_format(const prw_atlas_reader *r);
/** Stops the threads and frees everything (NULL allowed). */
PRW_API void prw_atlas_reader_close(prw_atlas_reader *r);

#ifdef __cplusplus
}
#endif

#endif
