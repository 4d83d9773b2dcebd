/*
 * Internals of the probe-row pipeline (`proberows build`).
 *
 * Data flow (docs/PIPELINE.md has the long version):
 *   glob -> open footers -> decode row groups in parallel into fixed-size rows (src_addr and
 *   dst_addr interned to ids) -> rank probes by src_addr bytes -> cut the probe order into
 *   key-range partitions balanced by rows -> scatter rows into partitions (input order kept)
 *   -> per partition, in parallel: counting sort by probe, stable sort by event_time, cut
 *   pieces at the exact inner-stream size, encode records -> write partitions in key order.
 * Partitions are independent and processed in byte order of src_addr, so the memory-bounded
 * mode can spill them without changing the output.
 */
#ifndef PRW_BUILD_BD_INTERNAL_H
#define PRW_BUILD_BD_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/codec.h"
#include "common/common.h"
#include "common/thread.h"
#include "proberows/pipeline.h"

/* ---- input globs ----------------------------------------------------------------------- */

/**
 * Expands the patterns into existing regular files, de-duplicated and sorted by path bytes.
 * A pattern that matches nothing is an error naming it. Free with prw__pl_free_paths.
 */
prw_status prw__pl_glob(const char *const *patterns, size_t npatterns, char ***paths,
                        size_t *npaths, prw_error *err);
void prw__pl_free_paths(char **paths, size_t n);

/* ---- string interning ------------------------------------------------------------------ */

typedef struct prw__intern {
    prw__buf bytes;   /* all strings back to back */
    uint64_t *offs;   /* n + 1 offsets into bytes */
    uint64_t *hashes; /* per id */
    uint32_t *slots;  /* id + 1, 0 = empty */
    size_t n, ncap, nslots;
    pthread_mutex_t mu; /* callers hold it around prw__intern_get on shared tables */
    bool mu_init;
} prw__intern;

/* The last n % 8 bytes of p[0, n) as a little-endian word (0 if none), read with overlapping
 * loads inside p[0, n): no byte loop and no read past its end. */
static inline uint64_t prw__pl_tail_word(const uint8_t *p, size_t n) {
    size_t t = n % 8;
    const uint8_t *q = p + (n - t);
    if (!t)
        return 0;
    if (n >= 8)
        return prw__load_le64(q + t - 8) >> (8 * (8 - t));
    if (t >= 4)
        return prw__load_le32(q) | (uint64_t)prw__load_le32(q + t - 4) << (8 * (t - 4));
    return q[0] | (uint64_t)q[t / 2] << (8 * (t / 2)) | (uint64_t)q[t - 1] << (8 * (t - 1));
}

/* The strings' hash: 8-byte words, then the tail word. Inline: the key lookups hash every row
 * of a PLAIN src_addr column. */
static inline uint64_t prw__pl_hash(const void *data, size_t n) {
    const uint8_t *p = data;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xC2B2AE3D27D4EB4Full);
    for (size_t i = 0; i + 8 <= n; i += 8) {
        h = (h ^ (prw__load_le64(p + i) * 0x87C37B91114253D5ull)) * 0x4CF5AD432745937Full;
        h ^= h >> 29;
    }
    uint64_t w = prw__pl_tail_word(p, n);
    h = (h ^ (w * 0x87C37B91114253D5ull)) * 0x4CF5AD432745937Full;
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 32;
    return h;
}
prw_status prw__intern_init(prw__intern *t, prw_error *err);
void prw__intern_cleanup(prw__intern *t);
/** Finds or adds the string; *id is dense from 0 in order of first insertion. */
prw_status prw__intern_get(prw__intern *t, const uint8_t *data, size_t len, uint64_t hash,
                           uint32_t *id, prw_error *err);
/** order[0, n) := the ids in byte order of their strings (memcmp, a proper prefix first). */
prw_status prw__intern_sort(const prw__intern *t, uint32_t *order, prw_error *err);
static inline const uint8_t *prw__intern_ptr(const prw__intern *t, uint32_t id) {
    return t->bytes.data + t->offs[id];
}
static inline size_t prw__intern_len(const prw__intern *t, uint32_t id) {
    return (size_t)(t->offs[id + 1] - t->offs[id]);
}

/* ---- rows ------------------------------------------------------------------------------- */

#define PRW_PL_NULL_ID UINT32_MAX
enum { PRW_PL_RTT_NULL = 1, PRW_PL_IPV_NULL = 2 };

/** One measurement: 24 bytes, moved as a unit by scatter and sort. */
typedef struct prw__pl_row {
    int64_t t;    /* event_time, microseconds since the epoch */
    uint32_t key; /* src_addr: intern id, then probe rank */
    uint32_t dst; /* dst_addr intern id, PRW_PL_NULL_ID for NULL */
    float rtt;
    int8_t ipv;
    uint8_t flags; /* PRW_PL_RTT_NULL | PRW_PL_IPV_NULL */
    uint16_t pad;
} prw__pl_row;

/* ---- grouping ----------------------------------------------------------------------------- */

/** A run of rows in memory. */
typedef struct prw__pl_seg {
    const prw__pl_row *rows;
    size_t n;
} prw__pl_seg;

/**
 * Groups the rows of segs[0..nsegs), read as one sequence in that order (all with key in
 * [k0, k0 + nkeys)): a stable sort by key into `out`, then each key's run stably by t with
 * `tmp` as merge space. out and tmp hold the segments' total rows; tmp may be the memory of a
 * segment (it is written only after the segments were read). `starts` (nkeys + 1 entries)
 * receives each key's first index in out. A key outside the range is an internal error.
 */
prw_status prw__pl_group(const prw__pl_seg *segs, size_t nsegs, prw__pl_row *out, prw__pl_row *tmp,
                         uint32_t k0, uint32_t nkeys, size_t *starts, prw_error *err);

/** Stable sort of rows[0..n) by t (merge sort through tmp); O(n) when already sorted. */
void prw__pl_sort_by_time(prw__pl_row *rows, prw__pl_row *tmp, size_t n);

/* ---- split and ids ------------------------------------------------------------------------ */

/** src_id: the top 60 bits of md5(src_addr), big-endian (the first 15 hex digits). */
int64_t prw__pl_src_id(const uint8_t *src, size_t len);

/** Reduces ratio to N/D with D ≤ 10000 (0.9 -> 9/10). */
void prw__pl_ratio_fraction(double ratio, int64_t *num, int64_t *den);

/** One step of the probe-list hash: fnv1a64 over (le32 length, bytes) of each probe. */
uint64_t prw__pl_probe_hash(uint64_t h, const uint8_t *s, size_t len);

/** Number of train probes of the ratio rule: floor(n_probes * ratio) in double precision. */
int64_t prw__pl_ratio_train_count(int64_t n_probes, double ratio);

/* ---- the Parquet side (pl_source.c) -------------------------------------------------------- */

/** All input files, opened, with the five columns resolved and checked in each. */
typedef struct prw__pl_source prw__pl_source;

/**
 * Opens every file's footer and resolves the columns (by name, remapped by opts->columns),
 * checking their types (CONTRACT.md §1). With use_pread the files are read with pread
 * instead of mapped (mapped pages count in the resident set). Errors name the file and the
 * column.
 */
prw_status prw__pl_source_open(prw__pl_source **out, char *const *paths, size_t npaths,
                               const prw_build_options *opts, bool use_pread, prw_error *err);
/** Estimated bytes decoding row group rg needs (its uncompressed chunks and row arrays). */
int64_t prw__pl_source_rg_decode_bytes(const prw__pl_source *s, size_t rg);
void prw__pl_source_close(prw__pl_source *s);
size_t prw__pl_source_files(const prw__pl_source *s);
/** Reopens the Parquet inputs to be read with pread (the memory-bounded mode: mapped pages
 * count in the resident set); the dumps stay as parsed. */
prw_status prw__pl_source_use_pread(prw__pl_source *s, const prw_build_options *opts,
                                    prw_error *err);
/** PRW_OK while no Parquet input was written to since it was opened (prw_pq_check_unchanged):
 * called when the inputs have been read, so rows of two versions of a file fail the build. */
prw_status prw__pl_source_check_unchanged(const prw__pl_source *s, prw_error *err);
/** st, or when it is an error and an input changed, that change (prw__error_caused_by). */
prw_status prw__pl_source_blame_change(const prw__pl_source *s, prw_status st, prw_error *err);
const char *prw__pl_source_path(const prw__pl_source *s, size_t file);
/** "parquet", or the dump's compression ("bzip2", "gzip", "zstd", "json"). */
const char *prw__pl_source_format(const prw__pl_source *s, size_t file);
/** Adds the inputs' files, rows, bytes and the dumps' counts (lines skipped, results without
 * a key) to st. */
void prw__pl_source_add_stats(const prw__pl_source *s, prw_build_stats *st);
int64_t prw__pl_source_file_rows(const prw__pl_source *s, size_t file);
int64_t prw__pl_source_file_bytes(const prw__pl_source *s, size_t file);
/** Passes each file read with a known writer bug worked around (prw_pq_writer_warning) to fn
 * (may be NULL), in input order; returns how many there are. */
int64_t prw__pl_source_warn(const prw__pl_source *s, prw_warning_fn fn, void *ctx);
/** Row groups of all files, numbered in input order. */
size_t prw__pl_source_row_groups(const prw__pl_source *s);
int64_t prw__pl_source_rg_rows(const prw__pl_source *s, size_t rg);
/** Bytes a key pass (prw__pl_scan_keys_rg) of row group `rg` needs: its src_addr chunk read
 * and decompressed, offsets and ids. */
int64_t prw__pl_source_rg_key_bytes(const prw__pl_source *s, size_t rg);

/** What decoding a row group produced. rows is owned by the caller (prw__free). */
typedef struct prw__pl_decoded {
    prw__pl_row *rows;
    size_t n;
    int64_t dropped_null_src, dropped_null_time, dropped_null_rtt;
    int64_t null_rtt_kept, null_rtt_failed;
    int64_t dropped_time_range, rtt_nan, rtt_inf, ip_version_other;
} prw__pl_decoded;

/** Adds the counts of what decoding dropped or changed (not the rows) of x into d. */
static inline void prw__pl_decoded_add_counts(prw__pl_decoded *d, const prw__pl_decoded *x) {
    d->dropped_null_src += x->dropped_null_src;
    d->dropped_null_time += x->dropped_null_time;
    d->dropped_null_rtt += x->dropped_null_rtt;
    d->null_rtt_kept += x->null_rtt_kept;
    d->null_rtt_failed += x->null_rtt_failed;
    d->dropped_time_range += x->dropped_time_range;
    d->rtt_nan += x->rtt_nan;
    d->rtt_inf += x->rtt_inf;
    d->ip_version_other += x->ip_version_other;
}
/** The same counts into the build's statistics. */
static inline void prw__pl_stats_add_counts(prw_build_stats *st, const prw__pl_decoded *x) {
    st->dropped_null_src_addr += x->dropped_null_src;
    st->dropped_null_event_time += x->dropped_null_time;
    st->dropped_null_rtt += x->dropped_null_rtt;
    st->null_rtt_kept += x->null_rtt_kept;
    st->null_rtt_failed += x->null_rtt_failed;
    st->dropped_event_time_range += x->dropped_time_range;
    st->rtt_nan += x->rtt_nan;
    st->rtt_inf += x->rtt_inf;
    st->ip_version_other += x->ip_version_other;
}

/** Per-worker decoding state (buffers, codec contexts). */
typedef struct prw__pl_decoder prw__pl_decoder;
prw_status prw__pl_decoder_create(prw__pl_source *s, prw__pl_decoder **out, prw_error *err);
void prw__pl_decoder_destroy(prw__pl_decoder *d);

/**
 * Decodes row group `rg` into rows in input order, interning src_addr and dst_addr into the
 * shared tables (taking their mutexes once per batch of distinct strings), applying the NULL
 * policy. Errors name the file, column, row group and byte offset.
 */
prw_status prw__pl_decode_rg(prw__pl_decoder *d, size_t rg, prw__intern *src_tab,
                             prw__intern *dst_tab, prw_null_rtt policy, prw__pl_decoded *out,
                             prw_error *err);

/* The two halves of a row group's columns, which two decoders may decode at once. */
#define PRW_PL_COLS_NUM 1u /* event_time, ip_version, rtt */
#define PRW_PL_COLS_STR 2u /* src_addr, dst_addr (interned or mapped to ids) */
/**
 * prw__pl_decode_rg in parts: decodes the columns of row group rg named by `which` into d,
 * then prw__pl_assemble_rg builds the rows from the decoder holding the numeric columns and
 * the one holding the strings (the same decoder or two).
 */
prw_status prw__pl_decode_cols(prw__pl_decoder *d, size_t rg, unsigned which, prw__intern *src_tab,
                               prw__intern *dst_tab, prw_error *err);
prw_status prw__pl_assemble_rg(const prw__pl_decoder *num, const prw__pl_decoder *str, size_t rg,
                               prw_null_rtt policy, prw__pl_decoded *out, prw_error *err);
/**
 * prw__pl_assemble_rg for the input rows [r0, r1) of the row group only, into out->rows, which
 * the caller allocated with room for r1 - r0 rows: sets out->n and the counts. Two workers
 * build the two halves of a row group at once this way.
 */
prw_status prw__pl_assemble_rows(const prw__pl_decoder *num, const prw__pl_decoder *str, size_t rg,
                                 size_t r0, size_t r1, prw_null_rtt policy, prw__pl_decoded *out,
                                 prw_error *err);

/**
 * Frees the decoder's buffers of the columns named by `which` (PRW_PL_COLS_*), and with both
 * its id and time scratch too, so a decoder between row groups (or between the two halves of
 * one, decoded strings first) holds no more than it needs (bd_rgparts.c).
 */
void prw__pl_decoder_release_cols(prw__pl_decoder *d, unsigned which);
/** Bytes one decoder holds decoding row group rg in parts (strings, then numbers; with
 * `release` the strings' buffers freed between them), without the assembled rows. */
uint64_t prw__pl_source_rg_parts_bytes(const prw__pl_source *s, size_t rg, bool release);

/**
 * The key pass (memory-bounded build, plan): decodes only src_addr of row group rg and interns
 * it (exactly as prw__pl_decode_rg does, dictionary entries included), and adds its rows per
 * src id to the decoder's own counts, so workers never share a counter. *n: the rows read;
 * *ids: their src ids (PRW_PL_NULL_ID for NULL), valid until the decoder's next use.
 */
prw_status prw__pl_scan_keys_rg(prw__pl_decoder *d, size_t rg, prw__intern *src_tab, size_t *n,
                                const uint32_t **ids, prw_error *err);
/** Adds the decoder's key-pass counts to counts[0, n) (by src id) and frees them. */
void prw__pl_decoder_take_key_rows(prw__pl_decoder *d, uint64_t *counts, size_t n);

/**
 * A frozen string table's read-only index (the memory-bounded mode builds it from the src
 * table after the key pass): string -> val[id], one cache line per lookup, no lock.
 * `t` must outlive the map and not change. Errors: PRW_E_NOMEM.
 */
typedef struct prw__pl_keymap prw__pl_keymap;
prw_status prw__pl_keymap_build(prw__pl_keymap **out, const prw__intern *t, const uint32_t *val,
                                prw_error *err);
/** Bytes the key map of nstrings strings takes. */
size_t prw__pl_keymap_bytes(size_t nstrings);
void prw__pl_keymap_destroy(prw__pl_keymap *m);
/**
 * From now on prw__pl_decode_rg maps src_addr through m (row keys become m's values) and
 * the decoder's own src cache is freed. A string missing from m fails with PRW_E_CORRUPT.
 */
void prw__pl_decoder_set_keymap(prw__pl_decoder *d, const prw__pl_keymap *m);
/*
 * The key pass's src ids of every row group, in files of the spill folder (bd_keyids.c):
 * `nfiles` writers (one per decoder: put from one thread per file), then, after finish with
 * the id -> rank table, read by any thread. A decoder given them (set_keyids) takes src_addr
 * of a row group from there, as ranks, and does not decode the column again.
 */
typedef struct prw__pl_keyids prw__pl_keyids;
prw_status prw__pl_keyids_create(prw__pl_keyids **out, const char *dir, size_t nfiles, size_t nrg,
                                 prw_error *err);
prw_status prw__pl_keyids_put(prw__pl_keyids *k, size_t file, size_t rg, const uint32_t *ids,
                              size_t n, prw_error *err);
prw_status prw__pl_keyids_finish(prw__pl_keyids *k, const uint32_t *rank, prw_error *err);
/** ids[0, n) := the ranks of row group rg's src_addr (PRW_PL_NULL_ID for NULL). */
prw_status prw__pl_keyids_get(const prw__pl_keyids *k, size_t rg, uint32_t *ids, size_t n,
                              prw_error *err);
int64_t prw__pl_keyids_bytes(const prw__pl_keyids *k);
void prw__pl_keyids_destroy(prw__pl_keyids *k);
void prw__pl_decoder_set_keyids(prw__pl_decoder *d, const prw__pl_keyids *k);
/** Bytes of the decoder's string cache `which` (0 src_addr, 1 dst_addr); set_keymap (with m
 * NULL too) frees the src cache. */
size_t prw__pl_decoder_cache_bytes(const prw__pl_decoder *d, int which);

/* ---- manifest.json (pl_manifest.c) ------------------------------------------------------ */

/** An input as the manifest lists it. */
typedef struct prw__pl_input {
    const char *path;
    const char *format; /* prw__pl_source_format */
    int64_t rows, bytes;
} prw__pl_input;

/** The source's inputs (free with prw__free). Errors: PRW_E_NOMEM. */
prw_status prw__pl_source_inputs(const prw__pl_source *s, prw__pl_input **out, prw_error *err);

/** Writes DIR/manifest.json (atomically) describing the run over inputs in[0, nin). */
prw_status prw__pl_write_manifest(const prw_build_options *o, const prw_build_stats *st,
                                  const prw__pl_input *in, size_t nin, const char *dir,
                                  prw_error *err);

/** Appends s as a JSON string literal (quoted, escaped). */
prw_status prw__pl_json_str(prw__buf *b, const char *s, prw_error *err);

/* ---- run files of the memory-bounded mode (pl_spill.c) ------------------------------------ */

/** Run files in one temp directory: one file per writer, an index by (row group, partition). */
typedef struct prw__spill prw__spill;

/**
 * Creates `nfiles` run files in `dir` (an existing directory) for nrg row groups and nparts
 * partitions; blocks hold at most block_rows rows. Errors: PRW_E_IO, PRW_E_NOMEM.
 */
prw_status prw__spill_create(prw__spill **out, const char *dir, size_t nfiles, size_t nrg,
                             size_t nparts, size_t block_rows, prw_error *err);
/** Closes and removes every run file (not the directory). Accepts NULL. */
void prw__spill_destroy(prw__spill *s);
/**
 * Byte planes: n records of `width` bytes (src) become `width` planes of n bytes (dst), plane
 * k holding byte k of each record, which compress far better; unshuffle reverses it. The
 * loops run plane by plane, so every store (shuffle) or load (unshuffle) is sequential.
 */
void prw__pl_shuffle(const uint8_t *src, uint8_t *dst, size_t n, size_t width);
void prw__pl_unshuffle(const uint8_t *src, uint8_t *dst, size_t n, size_t width);

/** Scratch bytes one put or read needs (shuffle + compressed block). */
size_t prw__spill_scratch_bytes(size_t block_rows);
/**
 * Appends rows[0..n) as the extent of (rg, part) to run file `file` (one thread per file).
 * Each (rg, part) is put at most once. Errors: PRW_E_IO (ENOSPC etc., naming the file),
 * PRW_E_CODEC, PRW_E_NOMEM.
 */
prw_status prw__spill_put(prw__spill *s, size_t file, prw__codec_ctx *cc, size_t rg, size_t part,
                          const prw__pl_row *rows, size_t n, prw__buf *scratch, prw_error *err);
/** Ends writing and opens the files for reading. */
prw_status prw__spill_finish(prw__spill *s, prw_error *err);
/** Bytes written to the run files so far. */
int64_t prw__spill_bytes(const prw__spill *s);
uint64_t prw__spill_rows(const prw__spill *s, size_t rg, size_t part);
/**
 * Reads partition `part` back in row-group order into dst (cap rows; cap must exceed the
 * partition's rows by one block). Errors: PRW_E_CORRUPT (a block disagrees with the index),
 * PRW_E_IO, PRW_E_CODEC, PRW_E_NOMEM.
 */
prw_status prw__spill_read_part(prw__spill *s, prw__codec_ctx *cc, size_t part, prw__pl_row *dst,
                                size_t cap, size_t *n, prw__buf *scratch, prw_error *err);

/** A cursor over one extent, one block at a time (for the k-way merge). */
typedef struct prw__spill_run {
    uint64_t off, end, left;
    uint32_t file;
    prw__pl_row *rows; /* the current block */
    size_t n, pos;
} prw__spill_run;
prw_status prw__spill_run_open(prw__spill *s, size_t rg, size_t part, prw__spill_run *run,
                               prw_error *err);
/** Loads the next block (run->n = 0 at the end). */
prw_status prw__spill_run_next(prw__spill *s, prw__codec_ctx *cc, prw__spill_run *run,
                               prw__buf *scratch, prw_error *err);
void prw__spill_run_close(prw__spill_run *run);

/* ---- memory budget and temp cleanup (pl_memory.c) ----------------------------------------- */

/** min(physical memory, cgroup memory.max) / 2; 1 GiB if neither can be read. */
uint64_t prw__pl_default_memory_limit(void);
/** Current and peak resident set (bytes) of this process; 0 if unknown. */
int64_t prw__pl_peak_rss(void);
/**
 * Registers a directory whose files are removed (then the directory) by
 * prw_build_remove_temp_files, e.g. from a signal handler. Returns a slot for unregister.
 */
int prw__pl_temp_register(const char *dir);
void prw__pl_temp_unregister(int slot);

#endif
