/*
 * proberows Parquet reader: opens a Parquet file, exposes its flat schema and row groups, and
 * decodes one column chunk of one row group at a time into caller-owned, reusable columnar
 * buffers (values + validity; strings as offsets + bytes; dictionary-encoded strings also as
 * dictionary + int32 indices, so a caller can hash each distinct string once).
 *
 * Threads: a prw_pq_file is read-only after prw_pq_open and may be shared by any number of
 * threads; each thread decodes with its own prw_pq_decoder into its own prw_pq_column_data.
 * There is no global state.
 *
 * Spec: https://github.com/apache/parquet-format (parquet.thrift, Encodings.md, Compression.md).
 */
#ifndef PROBEROWS_PARQUET_H
#define PROBEROWS_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proberows/proberows.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Physical types; values as in parquet.thrift `Type`. */
typedef enum prw_pq_physical {
    PRW_PQ_BOOLEAN = 0,
    PRW_PQ_INT32 = 1,
    PRW_PQ_INT64 = 2,
    PRW_PQ_INT96 = 3,
    PRW_PQ_FLOAT = 4,
    PRW_PQ_DOUBLE = 5,
    PRW_PQ_BYTE_ARRAY = 6,
    PRW_PQ_FIXED_LEN_BYTE_ARRAY = 7
} prw_pq_physical;

/**
 * How values are to be read: the logical type when present, else the converted type (legacy
 * annotation) mapped to its logical equivalent, else PRW_PQ_LOGICAL_NONE. Unknown or
 * unsupported annotations fall back to NONE (the physical type), as readers must.
 */
typedef enum prw_pq_logical {
    PRW_PQ_LOGICAL_NONE = 0,
    PRW_PQ_LOGICAL_STRING,    /**< STRING / UTF8 / ENUM / JSON: bytes */
    PRW_PQ_LOGICAL_INT,       /**< INT(bits, signed): int_bits, int_signed */
    PRW_PQ_LOGICAL_DATE,      /**< days since the epoch (INT32) */
    PRW_PQ_LOGICAL_TIMESTAMP, /**< time_unit, utc (INT64) */
    PRW_PQ_LOGICAL_TIME,      /**< time of day, time_unit */
    PRW_PQ_LOGICAL_DECIMAL,   /**< precision, scale */
    PRW_PQ_LOGICAL_FLOAT16,   /**< IEEE half on FIXED_LEN_BYTE_ARRAY(2) */
    PRW_PQ_LOGICAL_UUID       /**< FIXED_LEN_BYTE_ARRAY(16) */
} prw_pq_logical;

typedef enum prw_pq_time_unit {
    PRW_PQ_MILLIS = 0,
    PRW_PQ_MICROS = 1,
    PRW_PQ_NANOS = 2
} prw_pq_time_unit;

typedef enum prw_pq_repetition {
    PRW_PQ_REQUIRED = 0,
    PRW_PQ_OPTIONAL = 1,
    PRW_PQ_REPEATED = 2
} prw_pq_repetition;

/** One leaf column of the schema. Owned by the file; valid until prw_pq_close. */
typedef struct prw_pq_column_info {
    const char *name; /**< dotted path from the root, e.g. "rtt" or "a.b" */
    prw_pq_physical physical;
    int32_t type_length; /**< FIXED_LEN_BYTE_ARRAY width, else 0 */
    prw_pq_repetition repetition;
    prw_pq_logical logical;
    int32_t converted_type;     /**< parquet.thrift ConvertedType, or -1 when absent */
    bool has_logical_type;      /**< a LogicalType was present in the schema (known or not) */
    int int_bits;               /**< LOGICAL_INT: 8, 16, 32 or 64 */
    bool int_signed;            /**< LOGICAL_INT */
    prw_pq_time_unit time_unit; /**< LOGICAL_TIMESTAMP / LOGICAL_TIME */
    bool utc;                   /**< LOGICAL_TIMESTAMP / TIME: isAdjustedToUTC */
    int32_t precision, scale;   /**< LOGICAL_DECIMAL */
    /** False for columns inside a group or REPEATED: decoding them is PRW_E_UNSUPPORTED. */
    bool supported;
} prw_pq_column_info;

/** Per-column-chunk facts from the footer (for `parquet schema`). */
typedef struct prw_pq_chunk_info {
    int32_t codec;           /**< parquet.thrift CompressionCodec */
    uint32_t encodings;      /**< bit (1u << e) for each parquet.thrift Encoding e listed */
    int64_t num_values;      /**< values (incl. NULLs) per the footer */
    int64_t offset;          /**< first byte of the chunk in the file */
    int64_t compressed_size; /**< bytes of the chunk in the file */
    int64_t uncompressed_size;
} prw_pq_chunk_info;

/** Options for prw_pq_open; zero or NULL means the defaults given. */
typedef struct prw_pq_open_opts {
    bool use_pread;        /**< read with pread instead of mapping the file (default: mmap) */
    int64_t max_rows;      /**< row-group row limit (default 1 << 31); larger is PRW_E_LIMIT */
    int64_t max_page_size; /**< largest (uncompressed) page accepted (default 256 MiB) */
} prw_pq_open_opts;

typedef struct prw_pq_file prw_pq_file;

/**
 * Opens a Parquet file and parses its footer (magic, Thrift FileMetaData, schema, row groups).
 * `opts` may be NULL. On success *out owns the file (close with prw_pq_close).
 * Errors: PRW_E_IO (cannot open/read), PRW_E_TRUNCATED (too small, footer cut off),
 * PRW_E_CORRUPT (bad magic, malformed Thrift, inconsistent metadata), PRW_E_UNSUPPORTED
 * (encrypted footer), PRW_E_LIMIT (a count beyond the limits), PRW_E_NOMEM. The message names
 * the file and err->offset the byte.
 */
PRW_API prw_status prw_pq_open(prw_pq_file **out, const char *path, const prw_pq_open_opts *opts,
                               prw_error *err);

/**
 * Like prw_pq_open over bytes in memory (borrowed: they must outlive the file). `name` is used
 * in messages (may be NULL). Same errors except PRW_E_IO.
 */
PRW_API prw_status prw_pq_open_memory(prw_pq_file **out, const void *data, size_t len,
                                      const char *name, const prw_pq_open_opts *opts,
                                      prw_error *err);

/** Closes the file and frees everything it owns; NULL allowed. No decode may be running. */
PRW_API void prw_pq_close(prw_pq_file *f);

/** The path (or name) the file was opened with. */
PRW_API const char *prw_pq_path(const prw_pq_file *f);
/**
 * PRW_OK while a file opened from a path has the size and modification time it had when
 * opened (what was read of it is of one version); PRW_E_IO naming it when it was written to
 * since. A file opened from memory is always unchanged.
 */
PRW_API prw_status prw_pq_check_unchanged(const prw_pq_file *f, prw_error *err);
/** Number of leaf columns. */
PRW_API int prw_pq_num_columns(const prw_pq_file *f);
/** Leaf column `i` (0-based, schema order), or NULL when out of range. */
PRW_API const prw_pq_column_info *prw_pq_column(const prw_pq_file *f, int i);
/** Index of the leaf column named `name` (dotted path), or -1. */
PRW_API int prw_pq_find_column(const prw_pq_file *f, const char *name);
/**
 * The column a user means by `name`, as DuckDB and pyarrow users expect: the column of exactly
 * that name, else the one column whose name equals it ignoring ASCII case. *col is its index.
 * Errors, PRW_E_UNSUPPORTED with a message naming the column: not found; ambiguous (several
 * columns match ignoring case, none exactly); or nested (the name is a LIST, MAP or STRUCT
 * group, whose leaves this reader does not decode).
 */
PRW_API prw_status prw_pq_resolve_column(const prw_pq_file *f, const char *name, int *col,
                                         prw_error *err);
/** Number of row groups. */
PRW_API int prw_pq_num_row_groups(const prw_pq_file *f);
/** Rows in row group `rg`, or -1 when out of range. */
PRW_API int64_t prw_pq_row_group_rows(const prw_pq_file *f, int rg);
/** Total rows (sum over the row groups). */
PRW_API int64_t prw_pq_num_rows(const prw_pq_file *f);
/** The writer's created_by string, or "" when absent. */
PRW_API const char *prw_pq_created_by(const prw_pq_file *f);
/**
 * NULL, or one sentence on a known bug of the file's writer that the reader works around the way
 * parquet-mr and Arrow do (today: parquet-mr < 1.2.9 undercounting column chunk sizes,
 * PARQUET-816). Callers print it once per file as a warning.
 */
PRW_API const char *prw_pq_writer_warning(const prw_pq_file *f);
/**
 * Footer facts of one column chunk. Errors: PRW_E_INVALID (rg/col out of range),
 * PRW_E_UNSUPPORTED (chunk stored in another file or without metadata).
 */
PRW_API prw_status prw_pq_chunk(const prw_pq_file *f, int rg, int col, prw_pq_chunk_info *out,
                                prw_error *err);
/** Name of a parquet.thrift CompressionCodec ("SNAPPY") or Encoding ("PLAIN"); "?" if unknown. */
PRW_API const char *prw_pq_codec_name(int32_t codec);
PRW_API const char *prw_pq_encoding_name(int32_t encoding);
/** Name of a physical type ("INT64"). */
PRW_API const char *prw_pq_physical_name(prw_pq_physical t);
/** Writes a short description of the annotation ("TIMESTAMP(MICROS,utc)", "" if none). */
PRW_API void prw_pq_logical_text(const prw_pq_column_info *c, char *buf, size_t cap);

/**
 * Per-thread decoding state (decompression contexts, page scratch). Not thread-safe: use one
 * per thread. Errors: PRW_E_NOMEM.
 */
typedef struct prw_pq_decoder prw_pq_decoder;
PRW_API prw_status prw_pq_decoder_create(prw_pq_decoder **out, prw_error *err);
/** Frees the decoder; NULL allowed. */
PRW_API void prw_pq_decoder_destroy(prw_pq_decoder *d);

typedef struct prw_pq_column_store prw_pq_column_store;

/**
 * One decoded column chunk: caller storage, reused across decodes (buffers only grow).
 * Initialise with prw_pq_column_data_init and free with prw_pq_column_data_cleanup. Every
 * pointer stays valid until the next decode into this struct or cleanup.
 *
 * Rows are positional: row r of the row group is element r of every array. NULL rows have
 * valid[r] = 0 and zero bytes / zero length / index 0 as their value.
 */
typedef struct prw_pq_column_data {
    int64_t num_rows;
    int64_t null_count;
    const uint8_t *valid; /**< num_rows bytes, 1 = present, 0 = NULL */
    /**
     * Fixed-width values (all types but BYTE_ARRAY): num_rows * value_size bytes, native
     * little-endian. BOOLEAN: one byte 0/1; INT32/FLOAT: 4; INT64/DOUBLE: 8; INT96: 12 (as
     * stored); FIXED_LEN_BYTE_ARRAY: type_length bytes.
     */
    const uint8_t *values;
    size_t value_size;
    /**
     * BYTE_ARRAY materialised (dict_encoded false): value r is bytes[offsets[r] ..
     * offsets[r+1]); offsets has num_rows + 1 entries, offsets[0] = 0.
     */
    const int64_t *offsets;
    const uint8_t *bytes;
    /**
     * BYTE_ARRAY with PRW_PQ_DECODE_DICT, when every data page of the chunk is dictionary
     * encoded: value r is dictionary entry indices[r] (0 <= index < dict_count, checked), entry
     * i is dict_bytes[dict_offsets[i] .. dict_offsets[i+1]). offsets/bytes are then NULL.
     */
    bool dict_encoded;
    const int32_t *indices;
    int64_t dict_count;
    const int64_t *dict_offsets;
    const uint8_t *dict_bytes;
    /** True when a dictionary-encoded chunk fell back to PLAIN pages (strings materialised). */
    bool dict_fallback;
    prw_pq_column_store *store_; /**< private buffers */
} prw_pq_column_data;

PRW_API void prw_pq_column_data_init(prw_pq_column_data *cd);
/** Frees the buffers; safe on an initialised or zeroed struct and twice. */
PRW_API void prw_pq_column_data_cleanup(prw_pq_column_data *cd);

/** Decode flag: keep dictionary-encoded BYTE_ARRAY chunks as dictionary + indices. */
#define PRW_PQ_DECODE_DICT 1u

/**
 * Decodes column `col` of row group `rg` (reading only that chunk's bytes) into `out`.
 * `flags`: 0 or PRW_PQ_DECODE_DICT. Page CRCs are verified when present.
 * Errors (message names the file, row group, column and page; err->offset the file byte):
 * PRW_E_INVALID (rg/col out of range), PRW_E_UNSUPPORTED (nested/repeated column, unknown
 * encoding or codec, chunk in another file), PRW_E_CORRUPT, PRW_E_TRUNCATED, PRW_E_CHECKSUM
 * (page CRC mismatch), PRW_E_CODEC, PRW_E_LIMIT, PRW_E_IO, PRW_E_NOMEM. On error `out` holds
 * no usable rows (num_rows 0).
 */
PRW_API prw_status prw_pq_decode_column(prw_pq_decoder *d, const prw_pq_file *f, int rg, int col,
                                        unsigned flags, prw_pq_column_data *out, prw_error *err);

/**
 * Converts a decoded timestamp column (INT64 TIMESTAMP millis/micros/nanos, or INT96) to
 * microseconds since the epoch in `dst` (num_rows entries; nanoseconds are floored; NULL rows
 * give 0). Milliseconds beyond the int64 microsecond range (year ~292,000) saturate to
 * INT64_MIN / INT64_MAX instead of wrapping into a plausible value; INT96 is computed modulo
 * 2^64 as Spark writes it. Errors: PRW_E_INVALID when the column is not a timestamp.
 */
PRW_API prw_status prw_pq_timestamp_micros(const prw_pq_column_info *c,
                                           const prw_pq_column_data *cd, int64_t *dst,
                                           prw_error *err);

/**
 * The canonical text of row r (see ../shared/testdata/parquet/conformance/README.md): into
 * `buf` (at least 64 bytes, more for long decimals) or, for bytes, a view into `cd`. Returns
 * false for a NULL row. The view is valid until `buf` or `cd` changes.
 */
PRW_API bool prw_pq_value_text(const prw_pq_column_info *c, const prw_pq_column_data *cd, int64_t r,
                               char *buf, size_t cap, prw_bytes *out);

#ifdef __cplusplus
}
#endif
#endif
