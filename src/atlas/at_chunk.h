/*
 * A line-aligned piece of a dump's text and the batch parsed from it (at_batch.c), shared by
 * the splitter and the workers of at_reader.c.
 */
#ifndef PRW_ATLAS_AT_CHUNK_H
#define PRW_ATLAS_AT_CHUNK_H

#include <stdio.h>

#include "atlas/at_internal.h"

typedef struct prw__at_chunk {
    /* input, filled by the splitter */
    uint8_t *data;       /* whole lines; the last may lack its line end at the end of the file */
    size_t len, cap;     /* cap: bytes allocated, grown as lines come in */
    int64_t offset;      /* decompressed offset of data[0] */
    int64_t nlong_total; /* over-long lines skipped right before data[0] */
    int npre_long;       /* ... of which the first few, with their offsets: */
    int64_t pre_long_off[PRW_ATLAS_FIRST_BAD];
    /* output, filled by prw__at_chunk_parse */
    size_t rows, rows_cap;
    int64_t *time, *src_off, *dst_off, *line;
    int8_t *ip;
    double *rtt;
    uint8_t *dst_valid, *ip_valid, *rtt_valid;
    int32_t *fw;
    prw__buf src_bytes, dst_bytes;
    prw_atlas_stats stats; /* first_bad[].line relative to the chunk's first line (0) */
    /* worker state */
    uint8_t *scratch; /* scratch_cap >= the longest line parsed (at most PRW_ATLAS_MAX_LINE) */
    size_t scratch_cap;
    prw__at_ping ping;
    int32_t last_fw;
    int64_t last_fw_n;
} prw__at_chunk;

/** Parses c->data into the batch columns and c->stats. Errors: PRW_E_NOMEM. */
prw_status prw__at_chunk_parse(prw__at_chunk *c, const prw_atlas_options *opt, prw_error *err);
void prw__at_chunk_cleanup(prw__at_chunk *c);

/** Counts a bad line and keeps it if it is one of the first few. */
void prw__at_note_bad(prw_atlas_stats *s, prw_atlas_bad why, int64_t line, int64_t offset,
                      int64_t column, const char *what);
/** Adds `count` results of firmware `fw` to the sorted histogram. */
void prw__at_note_fw(prw_atlas_stats *s, int32_t fw, int64_t count);

#endif
