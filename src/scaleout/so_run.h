/* The run files of scale-out map tasks (format in so_run.c): written by map, read by reduce. */
#ifndef PRW_SCALEOUT_SO_RUN_H
#define PRW_SCALEOUT_SO_RUN_H

#include "scaleout/so_plan.h"

#define PRW_SO_RUN_MAGIC "PRWRUN02"
#define PRW_SO_RUN_END_MAGIC "PRWEND02"
#define PRW_SO_RUN_HEADER 32
#define PRW_SO_RUN_BLOCK_HEADER 20
#define PRW_SO_RUN_TRAILER 24
#define PRW_SO_RUN_BLOCK_ROWS 65536u
#define PRW_SO_RUN_BLOCK_MAX (32u << 20) /* raw bytes of one block; readers refuse more */
#define PRW_SO_RUN_DICT_TAG UINT32_MAX   /* the tag of a dictionary block */
#define PRW_SO_RUN_ROW_BYTES 24
/* A key range is cut into at most about this many parts, each of at most PRW_SO_RUN_PART_MAX_ROWS
 * rows unless one probe holds more. */
#define PRW_SO_RUN_PARTS_PER_RANGE 64u
#define PRW_SO_RUN_PART_MAX_ROWS (4u << 20)

/** Test hook: map tasks write every part's pending rows once `rows` are pending (0: the
 * default, 1Ki rows per part between 2Mi and 16Mi). Not thread-safe; set before running. */
void prw__map_set_pending_rows(size_t rows);

/** DIR/.runs/map-IIIII-range-KKKKK.run */
void prw__run_name(const prw__plan *p, char *buf, size_t cap, uint32_t map, uint32_t range);

/**
 * Cuts n probes with rows[0..n) rows each (in rank order) into parts of consecutive probes
 * balanced by rows: part_key (n + 1 entries) receives the part bounds. Returns the part count
 * (at least 1). Map and reduce both cut each range this way from plan.probes.
 */
size_t prw__run_parts(const uint64_t *rows, uint32_t n, uint32_t *part_key);
/** A 32-bit digest of the part bounds, stored in each run file's header. */
uint32_t prw__run_parts_digest(const uint32_t *part_key, size_t nparts);
/** The block CRC: crc32 over the header's first 16 bytes, then the compressed bytes. */
uint32_t prw__run_block_crc(const uint8_t *header, const uint8_t *data, size_t len);

/** One range's run files of every map task, indexed by part (read-only once complete). */
typedef struct prw__run_set prw__run_set;

/** Per-worker state for reading parts. Zeroed to start; prw__run_cursor_cleanup frees it. */
typedef struct prw__run_cursor {
    prw__codec_ctx *cc;
    uint8_t *raw;
    size_t raw_cap;
    uint8_t *rec; /* a block's rows unshuffled into 24-byte records */
    size_t rec_cap;
} prw__run_cursor;
void prw__run_cursor_cleanup(prw__run_cursor *c);

/**
 * A set for range `range` of plan plan_id with `nmaps` map tasks, cut into nparts parts by
 * part_key (local ranks; copied). Dictionary strings are interned into dst_tab as files are
 * added.
 */
prw_status prw__run_set_create(prw__run_set **out, uint64_t plan_id, uint32_t range, uint32_t nmaps,
                               const uint32_t *part_key, size_t nparts, prw_error *err);
/**
 * Adds map task `map`'s run file (f, len bytes, which stay valid until the set is destroyed;
 * `path` names it in errors). Files are added in map order. The header, trailer, every block
 * header and the dictionary blocks are checked here; row blocks when their part is read.
 * Errors: PRW_E_CORRUPT, PRW_E_TRUNCATED, PRW_E_CHECKSUM, PRW_E_CODEC (with the byte
 * offset), PRW_E_NOMEM.
 */
prw_status prw__run_set_add(prw__run_set *rs, uint32_t map, const char *path, const uint8_t *f,
                            size_t len, prw__intern *dst_tab, prw_error *err);
/** Opens (maps) and adds a run file; the mapping is closed with the set. */
prw_status prw__run_set_open(prw__run_set *rs, uint32_t map, const char *path, prw__intern *dst_tab,
                             prw_error *err);
/** Rows of part p over all files added (complete once every map task's file is). */
size_t prw__run_set_part_rows(const prw__run_set *rs, size_t p);
/**
 * Once every map task's file is added: reads part p's rows, in input order, into dst (room for
 * prw__run_set_part_rows rows); keys are local ranks. If probe_rows is not NULL, adds each row to
 * probe_rows[key] and 28 plus its dst_addr length (from dst_tab) to probe_bytes[key]. Safe to call
 * from several threads at once with their own cursors. Errors as prw__run_set_add.
 */
prw_status prw__run_read_part(const prw__run_set *rs, prw__run_cursor *c, size_t p,
                              prw__pl_row *dst, const prw__intern *dst_tab, uint64_t *probe_rows,
                              uint64_t *probe_bytes, prw_error *err);
void prw__run_set_destroy(prw__run_set *rs);

#endif
