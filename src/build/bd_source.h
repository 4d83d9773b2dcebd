/*
 * Private to the build's Parquet side: the opened inputs (bd_source.c), the per-worker
 * decoders with their string caches and the frozen key map (bd_strings.c), and the decoding
 * of a row group's columns into measurement rows (bd_columns.c).
 */
#ifndef PRW_BUILD_BD_SOURCE_H
#define PRW_BUILD_BD_SOURCE_H

#include "build/bd_internal.h"
#include "proberows/parquet.h"

/* A RIPE Atlas dump input, parsed once when the source opens into chunks of columns that the
 * decoders read like row groups (bd_dump.c). */
typedef struct pl_dump pl_dump;

typedef struct pl_file {
    prw_pq_file *pq; /* a Parquet input, or NULL */
    pl_dump *dump;   /* a dump input, or NULL */
    const char *path;
    int col[PRW_COL_COUNT];
    const prw_pq_column_info *info[PRW_COL_COUNT];
    int64_t bytes, rows;
} pl_file;

typedef struct pl_rg {
    uint32_t file;
    int rg;
    int64_t rows;
} pl_rg;

struct prw__pl_source {
    pl_file *files;
    size_t nfiles;
    pl_rg *rgs;
    size_t nrgs;
    bool strict;  /* prw_build_options.strict: out-of-range values fail instead of counting */
    int store_fd; /* the dumps' parsed chunks: an unlinked temporary file, or -1 */
    int64_t store_bytes;
};

/* A string's entry in an inline table (a worker's cache, the key map): one 64-byte slot, one
 * cache line, holds the hash, the global id and, for a string of up to INLINE_MAX bytes, the
 * bytes, so a hit costs one cache line, not the four dependent loads of the intern table (slot,
 * hash, offsets, bytes). Every IPv4 and IPv6 address fits; a longer string keeps the offset of
 * its bytes in the table it came from (a second load). */
#define INLINE_MAX 48
/* Rows hashed (and their slots prefetched) ahead of the lookups. */
#define PREFETCH_BATCH 32
typedef struct pl_slot {
    uint64_t hash;
    uint32_t gid;
    uint32_t len1; /* length + 1; 0 = empty */
    /* len <= INLINE_MAX: the bytes as little-endian words, the tail word as prw__pl_tail_word
     * reads it, zeros after; longer: key[0] is the offset of the bytes */
    uint64_t key[INLINE_MAX / 8];
} pl_slot;
#define SLOT_ALIGN 64

/* A worker's private view of a shared string table: local id -> global id. Row groups mostly
 * repeat the same strings, so after the first few every lookup is a hit without the lock.
 * Resolved strings are found through `fast` (a copy of their local entries, with global
 * ids); new ones get a local id in `local` and are resolved after the batch. */
typedef struct pl_cache {
    prw__intern local;
    uint32_t *global; /* by local id */
    size_t cap;
    bool init;
    void *fast_mem; /* allocation behind fast (aligned to 32 bytes) */
    pl_slot *fast;  /* open addressing, linear probing, load <= 1/2 */
    size_t nfast, nfast_used;
} pl_cache;

/* Ids written before the batch's new strings are resolved: local ids, marked by this bit. */
#define LOCAL_BIT 0x80000000u

struct prw__pl_decoder {
    prw__pl_source *src;
    prw_pq_decoder *pq;
    prw_pq_column_data cd[PRW_COL_COUNT];
    int64_t *times;
    size_t times_cap;
    uint32_t *map;
    size_t map_cap;
    uint32_t *miss; /* local ids not yet resolved in the shared table */
    size_t miss_cap;
    uint64_t *key_rows; /* key pass: rows per src id, this decoder's row groups only (zeroed) */
    size_t key_rows_cap;
    pl_cache cache[2];            /* src_addr, dst_addr */
    const prw__pl_keymap *keymap; /* when set: src_addr strings map through it, read-only */
    const prw__pl_keyids *keyids; /* when set: src_addr ranks are read from there */
    /* A dump chunk read back (bd_dump.c): its compressed bytes, its columns, which it is. */
    prw__buf dump_packed, dump_cols;
    prw__codec_ctx *dump_cc;
    size_t dump_rg;            /* the row group whose chunk dump_cols holds, SIZE_MAX for none */
    const int64_t *dump_lines; /* its rows' line numbers */
};

/* A frozen string table's inline index: strings of up to INLINE_MAX bytes in the slot, longer
 * ones by offset. */
struct prw__pl_keymap {
    void *mem;
    pl_slot *slots;
    size_t nslots;
    const prw__intern *tab;
};

/* ---- dump inputs (bd_dump.c) ------------------------------------------------------------ */

/* Reads the dump at `path` whole (all cores) into chunks appended to the source's store,
 * filling f (rows, bytes, the column descriptions). Errors name the file, format and offset;
 * with strict, the line. */
prw_status prw__pl_dump_open(prw__pl_source *s, pl_file *f, const char *path,
                             const prw_build_options *o, prw_error *err);
void prw__pl_dump_close(pl_file *f);
/* Row groups (chunks) of a dump and the rows of each. */
size_t prw__pl_dump_chunks(const pl_file *f);
int64_t prw__pl_dump_chunk_rows(const pl_file *f, size_t chunk);
/* Bytes a decoder holds for a chunk: compressed and unpacked. */
int64_t prw__pl_dump_chunk_bytes(const pl_file *f, size_t chunk);
/* Loads row group rg's chunk (once per decoder) and points d->cd at its columns: all five, or
 * with keys_only just src_addr. */
prw_status prw__pl_dump_columns(prw__pl_decoder *d, size_t rg, bool keys_only, prw_error *err);
/* The dump's counts into the build's statistics: the lines skipped, the results without a
 * key (as NULL src_addr), the first bad lines. */
void prw__pl_dump_add_stats(const pl_file *f, prw_build_stats *st);
const char *prw__pl_dump_format(const pl_file *f);

/* A column's row r is present (decoders may omit the validity bytes of a column with no NULL). */
static inline bool present(const prw_pq_column_data *cd, size_t r) {
    return !cd->valid || cd->valid[r];
}

/* String columns to ids (bd_strings.c): through the frozen key map, or interned into tab
 * through the decoder's cache `which` (0 src_addr, 1 dst_addr). */
prw_status prw__pl_map_column(prw__pl_decoder *d, const prw_pq_column_data *cd, uint32_t *ids,
                              prw_error *err);
prw_status prw__pl_intern_column(prw__pl_decoder *d, int which, const prw_pq_column_data *cd,
                                 prw__intern *tab, uint32_t *ids, prw_error *err);

#endif
