/*
 * The state of one column chunk being decoded, shared by the page reader (pq_column.c) and the
 * value decoders (pq_values.c).
 */
#ifndef PRW_PQ_COLUMN_H
#define PRW_PQ_COLUMN_H

#include "parquet/pq_internal.h"

struct prw_pq_decoder {
    prw__codec_ctx *codec;
    prw__buf chunk;   /* chunk bytes when reading with pread */
    prw__buf page;    /* decompressed page */
    prw__buf scratch; /* dense indices, deltas */
    prw__buf scratch2;
};

struct prw_pq_column_store {
    prw__buf valid, values, offsets, bytes, indices;
    prw__buf dict_values, dict_offsets, dict_bytes;
};

typedef struct col_state {
    const prw_pq_file *f;
    const prw_pq_column_info *c;
    const pq_chunk_meta *m;
    prw_pq_decoder *d;
    prw_pq_column_store *s;
    prw_error *err;
    size_t width; /* value bytes; 0 for BYTE_ARRAY */
    int64_t rows; /* rows of the row group */
    int64_t done; /* rows decoded */
    int64_t nulls;
    bool has_dict;
    int64_t dict_n;
    bool want_indices; /* BYTE_ARRAY and PRW_PQ_DECODE_DICT */
    bool index_mode;   /* output is still dictionary indices */
    bool fallback;
    int64_t page_off; /* file offset of the current page's data */
} col_state;

#define PQ_MAX_DICT_BYTES ((size_t)1 << 31)
/* Strings up to this length are copied with one fixed-size move (plain_strings). */
#define SHORT_COPY 32

static inline int64_t *offs(col_state *cs) {
    return (int64_t *)(void *)cs->s->offsets.data;
}

/** A PRW_E_CORRUPT error at file offset `off`, message formatted like printf. */
prw_status prw__pq_corrupt(col_state *cs, int64_t off, const char *fmt, ...) PRW_PRINTF(3, 4);
/** Spreads `nn` dense values of `w` bytes at dst over the `n` rows described by valid. */
void prw__pq_spread_fixed(uint8_t *dst, size_t w, const uint8_t *valid, size_t n, size_t nn);
/** Decodes the values of a data page: n rows, of which nn present (validity already set). */
prw_status prw__pq_decode_values(col_state *cs, int enc, const uint8_t *p, size_t len, size_t n,
                                 size_t nn, int64_t base);

#endif
