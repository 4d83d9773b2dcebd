/*
 * Internals of the Parquet reader: the parsed footer, the Thrift compact-protocol cursor and
 * the bulk decoders for the encodings (RLE/bit-packed hybrid, delta, byte stream split).
 */
#ifndef PRW_PARQUET_PQ_INTERNAL_H
#define PRW_PARQUET_PQ_INTERNAL_H

#include "common/codec.h"
#include "common/common.h"
#include "common/io.h"
#include "proberows/parquet.h"

/* parquet.thrift enum values used by the reader. */
enum {
    PQ_ENC_PLAIN = 0,
    PQ_ENC_PLAIN_DICTIONARY = 2,
    PQ_ENC_RLE = 3,
    PQ_ENC_BIT_PACKED = 4,
    PQ_ENC_DELTA_BINARY_PACKED = 5,
    PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
    PQ_ENC_DELTA_BYTE_ARRAY = 7,
    PQ_ENC_RLE_DICTIONARY = 8,
    PQ_ENC_BYTE_STREAM_SPLIT = 9
};
enum {
    PQ_CODEC_UNCOMPRESSED = 0,
    PQ_CODEC_SNAPPY = 1,
    PQ_CODEC_GZIP = 2,
    PQ_CODEC_LZO = 3,
    PQ_CODEC_BROTLI = 4,
    PQ_CODEC_LZ4 = 5,
    PQ_CODEC_ZSTD = 6,
    PQ_CODEC_LZ4_RAW = 7
};
enum { PQ_PAGE_DATA = 0, PQ_PAGE_INDEX = 1, PQ_PAGE_DICT = 2, PQ_PAGE_DATA_V2 = 3 };

/* ---- Thrift compact protocol ------------------------------------------------------------ */

enum {
    PQ_T_STOP = 0,
    PQ_T_TRUE = 1,
    PQ_T_FALSE = 2,
    PQ_T_BYTE = 3,
    PQ_T_I16 = 4,
    PQ_T_I32 = 5,
    PQ_T_I64 = 6,
    PQ_T_DOUBLE = 7,
    PQ_T_BINARY = 8,
    PQ_T_LIST = 9,
    PQ_T_SET = 10,
    PQ_T_MAP = 11,
    PQ_T_STRUCT = 12
};

#define PQ_THRIFT_MAX_DEPTH 32

/** A Thrift reader over untrusted bytes; `base` is the file offset of rd.base. */
typedef struct pq_thrift {
    prw__rd rd;
    int64_t base;
    int depth;
    prw_error *err;
} pq_thrift;

static inline int64_t pq_thrift_off(const pq_thrift *t) {
    return t->base + prw__rd_pos(&t->rd);
}

/**
 * Reads the next field header of a struct: *type = PQ_T_STOP at the end; *id follows the
 * compact protocol's delta encoding from *last_id (updated).
 */
prw_status prw__pq_t_field(pq_thrift *t, int16_t *last_id, int16_t *id, int *type);
prw_status prw__pq_t_i64(pq_thrift *t, int type, int64_t *out);
prw_status prw__pq_t_i32(pq_thrift *t, int type, int32_t *out);
prw_status prw__pq_t_bool(pq_thrift *t, int type, bool *out);
/** A binary/string field as a view into the input. */
prw_status prw__pq_t_binary(pq_thrift *t, int type, const uint8_t **p, size_t *n);
/** A list header: element type and count (checked against the bytes left). */
prw_status prw__pq_t_list(pq_thrift *t, int type, int *elem_type, int64_t *count);
/** Skips a value of the given type (bounded depth). */
prw_status prw__pq_t_skip(pq_thrift *t, int type);
/** Enters / leaves a nested struct (depth check). */
prw_status prw__pq_t_enter(pq_thrift *t, int type);
static inline void pq_t_leave(pq_thrift *t) {
    t->depth--;
}

/* ---- file metadata ---------------------------------------------------------------------- */

typedef struct pq_chunk_meta {
    bool has_meta;
    bool external; /* file_path set: the chunk lives in another file */
    int32_t physical;
    int32_t codec;
    uint32_t encodings;
    int64_t num_values;
    int64_t total_compressed;
    int64_t total_uncompressed;
    int64_t data_page_offset;
    int64_t dict_page_offset; /* -1 when absent */
} pq_chunk_meta;

typedef struct pq_row_group {
    int64_t num_rows;
    pq_chunk_meta *chunks; /* one per leaf column */
} pq_row_group;

struct prw_pq_file {
    prw__rfile rf;      /* fd < 0 when opened from memory */
    const uint8_t *mem; /* whole file in memory (mmap or caller bytes), or NULL */
    int64_t size;
    char *name;
    prw_pq_open_opts opts;
    prw__arena arena; /* metadata: column infos, names, row groups */
    int ncols;
    prw_pq_column_info *cols;
    int nrg;
    pq_row_group *rgs;
    int64_t num_rows;
    const char *created_by;
    /* A known writer bug this reader works around (prw_pq_writer_warning), or NULL. */
    const char *writer_warning;
    int64_t chunk_pad; /* bytes read past each column chunk's recorded end (PARQUET-816) */
};

/** Bytes past a column chunk that files of parquet-mr < 1.2.9 need (PARQUET-816; as Arrow). */
#define PQ_816_PAD 100

/** Parses the FileMetaData at footer[0..len) (file offset `base`) into f. */
prw_status prw__pq_parse_footer(prw_pq_file *f, const uint8_t *footer, size_t len, int64_t base,
                                prw_error *err);

/** Parses a PageHeader. */
typedef struct pq_page_header {
    int32_t type;
    int32_t uncompressed_size;
    int32_t compressed_size;
    bool has_crc;
    uint32_t crc;
    int32_t num_values;
    int32_t encoding;
    int32_t def_encoding;
    /* DATA_PAGE_V2 */
    int32_t num_nulls;
    int32_t num_rows;
    int32_t def_len;
    int32_t rep_len;
    bool v2_compressed;
    bool has_sub; /* the header for `type` was present */
} pq_page_header;

prw_status prw__pq_parse_page_header(pq_thrift *t, pq_page_header *h);

/* ---- bulk decoders ---------------------------------------------------------------------- */

/**
 * Decodes `n` values of the RLE/bit-packed hybrid (bit width `bw` <= 32) from rd into out.
 * Fails with PRW_E_CORRUPT/TRUNCATED (offset = base + position) when the runs end early.
 */
prw_status prw__pq_rle_decode_u32(prw__rd *rd, int bw, uint32_t *out, size_t n, int64_t base,
                                  prw_error *err);
/** Same, into bytes (bw <= 8): definition levels and RLE booleans. */
prw_status prw__pq_rle_decode_u8(prw__rd *rd, int bw, uint8_t *out, size_t n, int64_t base,
                                 prw_error *err);
/** Unpacks n little-endian bit-packed values of width bw (<= 64) from `src` (enough bytes). */
void prw__pq_unpack64(const uint8_t *src, size_t src_len, int bw, uint64_t *out, size_t n);

/**
 * DELTA_BINARY_PACKED: decodes exactly `n` values (as 64-bit, wrapping; `bits` 32 or 64 limits
 * the widths accepted) into out; on return rd is just past the encoded values.
 */
prw_status prw__pq_delta_decode(prw__rd *rd, int bits, int64_t *out, size_t n, int64_t base,
                                prw_error *err);
/** Reads the header of a DELTA_BINARY_PACKED stream to learn its value count. */
prw_status prw__pq_delta_count(const prw__rd *rd, size_t *count, int64_t base, prw_error *err);

#endif
