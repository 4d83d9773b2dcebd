/*
 * proberows ArrayRecord: a writer and a reader of Google's ArrayRecord files (Riegeli/records
 * files with an index footer), byte-compatible with google/array_record. The on-disk format
 * is described in ../shared/docs/ARRAYRECORD.md and docs/FORMATS.md.
 *
 * Writer: records are grouped `group_size` at a time into chunks; chunks are compressed on a
 * thread pool and written in record order; the file appears under its name only on a
 * successful close. Reader: opens the postscript and footer, then reads any record by index
 * with one chunk read, verifying every hash it passes.
 */
#ifndef PROBEROWS_ARRAYRECORD_H
#define PROBEROWS_ARRAYRECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proberows/proberows.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- options ---------------------------------------------------------------------------- */

/** Chunk compression of an ArrayRecord file. */
typedef enum prw_ar_compression {
    PRW_AR_UNCOMPRESSED = 0,
    PRW_AR_ZSTD = 1,
    PRW_AR_BROTLI = 2,
    PRW_AR_SNAPPY = 3
} prw_ar_compression;

/** Longest canonical options string prw_ar_options_format can produce, with the NUL. */
#define PRW_AR_OPTIONS_MAX 256

/**
 * Writer options, as parsed from Google's options string (ArrayRecordWriter::Options).
 * Fill with prw_ar_options_parse (NULL or "" gives the defaults).
 */
typedef struct prw_ar_options {
    uint32_t group_size;            /**< records per chunk, 1..2^31-1 (default 1) */
    bool pad_to_block_boundary;     /**< pad every data chunk to a 64 KiB boundary */
    prw_ar_compression compression; /**< default PRW_AR_ZSTD */
    int level;                      /**< zstd -131072..22 (3), brotli 0..11 (6); else 0 */
    int window_log;                 /**< zstd 10..31 (20), brotli 10..30 (22); 0 = none */
    bool window_log_given;          /**< window_log appears in the canonical string */
    int max_parallelism;            /**< compression threads; 0 = auto (online CPUs) */
} prw_ar_options;

/**
 * Parses an options string with Google's grammar: comma-separated `name` or `name:value`
 * items (empty items allowed): default (first only), group_size, max_parallelism,
 * saturation_delay_ms, uncompressed, zstd[:L], brotli[:L], snappy, window_log, transpose,
 * transpose_bucket_size, pad_to_block_boundary[:true|false].
 * @param text the string; NULL or "" means the defaults (zstd:3, window_log 20, group_size 1).
 * @param out receives the options (untouched on error).
 * @return PRW_OK; PRW_E_INVALID for an unknown name, a bad or out-of-range value, a repeated
 *   option, conflicting options (two codecs, window_log with uncompressed/snappy);
 *   PRW_E_UNSUPPORTED for transpose:true. err->msg names the offending option.
 */
PRW_API prw_status prw_ar_options_parse(const char *text, prw_ar_options *out, prw_error *err);

/**
 * Writes the canonical string Google's writer stores in the footer, e.g. for the defaults
 * `group_size:1,transpose:false,pad_to_block_boundary:false,zstd:3,window_log:20,
 * max_parallelism:1` (max_parallelism is always stored as 1, as Google's writer does).
 * @param buf receives a NUL-terminated string; `cap` ≥ PRW_AR_OPTIONS_MAX always suffices.
 * @return the string length (truncated output if it is ≥ cap).
 */
PRW_API size_t prw_ar_options_format(const prw_ar_options *opts, char *buf, size_t cap);

/** Static name of a compression: "uncompressed", "zstd", "brotli", "snappy". */
PRW_API const char *prw_ar_compression_name(prw_ar_compression c);

/* ---- writer ----------------------------------------------------------------------------- */

/** An ArrayRecord writer (opaque). Not thread-safe: one thread adds records. */
typedef struct prw_ar_writer prw_ar_writer;

/**
 * Creates a writer for `path`. Bytes go to a temporary file beside `path`, renamed onto it by
 * a successful prw_ar_writer_close.
 * @param out receives the writer (NULL on error).
 * @param options Google's options string, or NULL for the defaults.
 * @return PRW_OK; PRW_E_INVALID / PRW_E_UNSUPPORTED for bad options (see
 *   prw_ar_options_parse); PRW_E_IO when the temporary file cannot be created; PRW_E_NOMEM.
 */
PRW_API prw_status prw_ar_writer_open(prw_ar_writer **out, const char *path, const char *options,
                                      prw_error *err);

/**
 * Like prw_ar_writer_open with parsed options and an explicit compression thread count.
 * @param opts parsed options (copied); NULL for the defaults.
 * @param threads number of compression threads; 0 uses opts->max_parallelism (0 = the number
 *   of online CPUs), counting the calling thread: with 1, chunks are encoded on the calling
 *   thread; with n > 1, on n - 1 workers and on the calling thread when they fall behind.
 */
PRW_API prw_status prw_ar_writer_open_opts(prw_ar_writer **out, const char *path,
                                           const prw_ar_options *opts, int threads, prw_error *err);

/**
 * Appends one record (its bytes are copied; `data` may be NULL when len is 0). Complete
 * groups are collected into batches of consecutive chunks (up to 128 chunks or 256 KiB of
 * records), each encoded as one task on the pool (or here, with one thread) and written in
 * order. Memory in flight stays bounded (a few MiB per thread): when too much is pending,
 * this call encodes a pending batch itself, or waits for the oldest one to be done.
 * @return PRW_OK; PRW_E_LIMIT for a record larger than 4 GiB - 1; PRW_E_IO for a write error
 *   (e.g. ENOSPC); PRW_E_CODEC; PRW_E_NOMEM. After an error the writer only accepts
 *   prw_ar_writer_abort (other calls return the first error again).
 */
PRW_API prw_status prw_ar_writer_add_record(prw_ar_writer *w, const void *data, size_t len,
                                            prw_error *err);

/**
 * Writes the last chunk, the footer and the postscript, syncs and renames the file onto its
 * name, then frees the writer (always, even on error; on error the temporary is removed).
 * @return PRW_OK or the first error (PRW_E_IO, PRW_E_CODEC, PRW_E_NOMEM, ...).
 */
PRW_API prw_status prw_ar_writer_close(prw_ar_writer *w, prw_error *err);

/** Stops the writer, removes the temporary file and frees the writer (NULL allowed). */
PRW_API void prw_ar_writer_abort(prw_ar_writer *w);

/** Number of records added so far. */
PRW_API uint64_t prw_ar_writer_num_records(const prw_ar_writer *w);

/** Bytes of the file written so far (the final file size once closed successfully). */
PRW_API uint64_t prw_ar_writer_bytes_written(const prw_ar_writer *w);

/* ---- chunks encoded away from the writer ------------------------------------------------ */

/**
 * Encodes (compresses and hashes) data chunks on any thread, so a program that produces
 * records in parallel can also compress them in parallel and hand the writer finished chunks.
 * One encoder per thread; not thread-safe.
 */
typedef struct prw_ar_chunk_encoder prw_ar_chunk_encoder;

/** Creates an encoder for `opts` (NULL: the defaults). Errors: PRW_E_NOMEM, PRW_E_INVALID. */
PRW_API prw_status prw_ar_chunk_encoder_create(const prw_ar_options *opts,
                                               prw_ar_chunk_encoder **out, prw_error *err);
/** Frees an encoder; NULL is accepted. */
PRW_API void prw_ar_chunk_encoder_destroy(prw_ar_chunk_encoder *e);

/**
 * Encodes `n` records (1 to group_size) as one simple chunk: *chunk views the chunk header
 * and data, valid until the next call on this encoder. A chunk of fewer than group_size
 * records is only valid as a file's last data chunk (the reader's index assumes full groups).
 * Errors: PRW_E_INVALID (n), PRW_E_LIMIT (a record over 4 GiB - 1), PRW_E_CODEC, PRW_E_NOMEM.
 */
PRW_API prw_status prw_ar_chunk_encode(prw_ar_chunk_encoder *e, const prw_bytes *records, size_t n,
                                       prw_bytes *chunk, prw_error *err);

/**
 * Appends a chunk made by prw_ar_chunk_encode with the same options as the writer's, after
 * every record added before it. Errors: PRW_E_INVALID (not such a chunk, or records of an
 * unfinished group are pending), PRW_E_IO; a failed writer stays failed.
 */
PRW_API prw_status prw_ar_writer_add_chunk(prw_ar_writer *w, const void *chunk, size_t len,
                                           prw_error *err);

/* ---- reader ----------------------------------------------------------------------------- */

/** An ArrayRecord reader (opaque). One thread at a time, except prw_ar_reader_read_range and
 * reads through cursors (prw_ar_cursor), which any number of threads may run at once. */
typedef struct prw_ar_reader prw_ar_reader;

/**
 * Opens `path` (memory-mapped): checks the file signature, reads the postscript and the
 * footer, and checks the chunk index (uniform group size, offsets in order, counts).
 * @return PRW_OK; PRW_E_IO (cannot open or map); PRW_E_TRUNCATED (size not a positive
 *   multiple of 65536); PRW_E_CHECKSUM (a hash mismatch; err->offset is the header or data
 *   that fails); PRW_E_CORRUPT (bad structure); PRW_E_CODEC (bad compressed footer);
 *   PRW_E_UNSUPPORTED; PRW_E_NOMEM. err->offset names the byte where the problem is.
 */
PRW_API prw_status prw_ar_reader_open(prw_ar_reader **out, const char *path, prw_error *err);

/**
 * Like prw_ar_reader_open over a file image in memory. The bytes are borrowed: they must stay
 * valid and unchanged until prw_ar_reader_close.
 */
PRW_API prw_status prw_ar_reader_open_mem(prw_ar_reader **out, const void *data, size_t len,
                                          prw_error *err);

/** Closes the reader and frees everything it returned views into (NULL allowed). */
PRW_API void prw_ar_reader_close(prw_ar_reader *r);

/** Number of user records in the file. */
PRW_API uint64_t prw_ar_reader_num_records(const prw_ar_reader *r);

/** Number of data chunks. */
PRW_API uint64_t prw_ar_reader_num_chunks(const prw_ar_reader *r);

/** Records per chunk (taken from the first footer entry, as Google's reader does; 0 if empty). */
PRW_API uint64_t prw_ar_reader_group_size(const prw_ar_reader *r);

/** The writer_options string stored in the footer (owned by the reader; "" if absent). */
PRW_API const char *prw_ar_reader_options(const prw_ar_reader *r);

/** Compression of the footer chunk, which Google's writer compresses like the data chunks. */
PRW_API prw_ar_compression prw_ar_reader_compression(const prw_ar_reader *r);

/** File size in bytes. */
PRW_API uint64_t prw_ar_reader_file_size(const prw_ar_reader *r);

/**
 * Reads record `index` (random access: one chunk read and decode, cached for the next call).
 * @param out receives a view valid until the next read/next/seek call on this reader or its
 *   close.
 * @return PRW_OK; PRW_E_INVALID (index ≥ num_records); PRW_E_CHECKSUM, PRW_E_CORRUPT,
 *   PRW_E_CODEC with err->offset at the failing chunk; PRW_E_UNSUPPORTED for a transposed
 *   chunk; PRW_E_NOMEM.
 */
PRW_API prw_status prw_ar_reader_read(prw_ar_reader *r, uint64_t index, prw_bytes *out,
                                      prw_error *err);

/** Positions sequential reading (prw_ar_reader_next) at record `index` (≤ num_records). */
PRW_API prw_status prw_ar_reader_seek(prw_ar_reader *r, uint64_t index, prw_error *err);

/**
 * Reads the next record in order (from 0, or from the last seek), asking the kernel to read
 * ahead the next chunks. Same view lifetime and errors as prw_ar_reader_read.
 * @return PRW_OK with a record; PRW_DONE at the end.
 */
PRW_API prw_status prw_ar_reader_next(prw_ar_reader *r, prw_bytes *out, prw_error *err);

/**
 * Called for each record of a range read: `data` is valid during the call only. Return
 * PRW_OK to go on; any negative status stops the read and is returned by it.
 */
typedef prw_status (*prw_ar_record_fn)(void *ctx, uint64_t index, const uint8_t *data, size_t len);

/**
 * Reads records [begin, end) on `threads` threads (0 = online CPUs), calling fn for each
 * record. Calls for one chunk come in index order from one thread; different chunks run
 * concurrently, so fn must be thread-safe when threads > 1. Other calls on the reader must
 * not run meanwhile.
 * @return PRW_OK; PRW_E_INVALID (begin > end or end > num_records); the first read error
 *   or the first negative status fn returned; PRW_E_NOMEM; PRW_E_IO if a thread cannot start.
 */
PRW_API prw_status prw_ar_reader_read_range(prw_ar_reader *r, uint64_t begin, uint64_t end,
                                            int threads, prw_ar_record_fn fn, void *ctx,
                                            prw_error *err);

/* ---- thread-safe positional reads -------------------------------------------------------- */

/**
 * Per-thread read state over an open reader: its own chunk buffer and decompression context,
 * and a cache of the last chunk it decoded. Any number of cursors over one reader may read at
 * once from different threads (the reader itself is only read); one cursor serves one thread
 * at a time. Cursors must be destroyed before their reader is closed.
 */
typedef struct prw_ar_cursor prw_ar_cursor;

/** Creates a cursor over `r`. Errors: PRW_E_NOMEM. */
PRW_API prw_status prw_ar_cursor_create(const prw_ar_reader *r, prw_ar_cursor **out,
                                        prw_error *err);

/** Frees a cursor; NULL is accepted. */
PRW_API void prw_ar_cursor_destroy(prw_ar_cursor *c);

/**
 * Reads record `index` like prw_ar_reader_read, through the cursor's cache: the view is valid
 * until the next read on this cursor or its destruction. Errors as prw_ar_reader_read.
 */
PRW_API prw_status prw_ar_cursor_read(prw_ar_cursor *c, uint64_t index, prw_bytes *out,
                                      prw_error *err);

/**
 * Called by prw_ar_read_batch for slot `pos` of the index list, on the thread that owns
 * cursors[worker]; `data` is valid during the call only. Return PRW_OK to go on; a negative
 * status stops the batch and is returned by it.
 */
typedef prw_status (*prw_ar_batch_fn)(void *ctx, int worker, size_t pos, const uint8_t *data,
                                      size_t len);

/**
 * Reads records indices[0..n) (any order, repeats allowed) with `n_cursors` cursors over the
 * same reader, cursors[0] on the calling thread and each other one on a thread of its own
 * (fewer when n is small). Slots are handed out in runs of consecutive positions, so a sorted
 * or chunk-local list decodes each chunk once per run. Every index is checked before any
 * read. Several batches may run at once on one reader with disjoint cursors.
 * @return PRW_OK; PRW_E_INVALID (an index ≥ num_records: err names the slot and the index;
 *   cursors of different readers; n_cursors < 1); the first read error (as
 *   prw_ar_reader_read) or negative status of fn; PRW_E_IO if a thread cannot start.
 */
/** Fewest slots prw_ar_read_batch gives a thread of its own (n / this = threads used). */
#define PRW_AR_BATCH_PER_THREAD 256u

PRW_API prw_status prw_ar_read_batch(prw_ar_cursor *const *cursors, int n_cursors,
                                     const uint64_t *indices, size_t n, prw_ar_batch_fn fn,
                                     void *ctx, prw_error *err);

/* ---- verification ----------------------------------------------------------------------- */

/** What prw_ar_verify walked. */
typedef struct prw_ar_verify_stats {
    uint64_t blocks;  /**< block headers checked */
    uint64_t chunks;  /**< chunks of every type, signature to final padding */
    uint64_t records; /**< user records decoded through the footer index */
    uint64_t file_size;
} prw_ar_verify_stats;

/**
 * Walks every block header and chunk of `path` from offset 0 to the end, checking every
 * header hash, data hash, block-header distance and chunk encoding, then opens the file
 * through its footer and decodes every record.
 * @param stats receives counts (may be NULL); filled as far as the walk got.
 * @return PRW_OK; otherwise the first problem (PRW_E_CHECKSUM, PRW_E_CORRUPT,
 *   PRW_E_TRUNCATED, PRW_E_CODEC, PRW_E_UNSUPPORTED, PRW_E_IO) with err->offset at it.
 */
PRW_API prw_status prw_ar_verify(const char *path, prw_ar_verify_stats *stats, prw_error *err);

/** Like prw_ar_verify over a file image in memory (borrowed for the call). */
PRW_API prw_status prw_ar_verify_mem(const void *data, size_t len, prw_ar_verify_stats *stats,
                                     prw_error *err);

#ifdef __cplusplus
}
#endif
#endif
