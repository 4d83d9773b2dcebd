/* The run files of scale-out map tasks (format in pl_map.c); shared by map and reduce. */
#ifndef PRW_PIPELINE_PL_RUN_H
#define PRW_PIPELINE_PL_RUN_H

#include "pipeline/pl_internal.h"

#define RUN_MAGIC "PRWRUN01"
#define RUN_END_MAGIC "PRWEND01"
#define RUN_HEADER 32
#define RUN_BLOCK_HEADER 20
#define RUN_TRAILER 24
#define RUN_BLOCK_ROWS 65536u
#define RUN_BLOCK_MAX (32u << 20) /* raw bytes of one block; readers refuse more */

/** DIR/.runs/map-IIIII-range-KKKKK.run */
void prw__run_name(const prw__plan *p, char *buf, size_t cap, uint32_t map, uint32_t range);

/** Reusable state for parsing run files: dst strings go to dst_tab. */
typedef struct prw__run_reader {
    prw__intern *dst_tab;
    prw__codec_ctx *cc;
    uint8_t *raw;
    size_t raw_cap;
    uint32_t *dict_ids;
    size_t dict_cap;
    uint8_t *rec; /* a block's rows unshuffled into 24-byte records */
    size_t rec_cap;
} prw__run_reader;

/**
 * Parses a whole run file (f, len bytes; `path` names it in errors) that must carry plan_id,
 * map task `map` and range `range`, appending its rows (keys < nkeys) to g (*cap rows
 * allocated). Every length is checked before use; a block allocates at most
 * 2 × RUN_BLOCK_MAX bytes. Errors: PRW_E_CORRUPT, PRW_E_TRUNCATED, PRW_E_CHECKSUM,
 * PRW_E_CODEC (with the byte offset), PRW_E_NOMEM.
 */
prw_status prw__run_parse(prw__run_reader *r, const char *path, const uint8_t *f, size_t len,
                          uint64_t plan_id, uint32_t map, uint32_t range, uint32_t nkeys,
                          prw__pl_decoded *g, size_t *cap, prw_error *err);
/** Frees the reader's buffers (not dst_tab). Safe on a zeroed struct. */
void prw__run_reader_cleanup(prw__run_reader *r);

#endif
