/*
 * proberows Arrow IPC: the stream format (schema message, record batch messages, end-of-stream
 * marker) for flat schemas of int8/16/32/64, float32/64, timestamp, utf8 and binary, written
 * byte for byte in pyarrow's layout (../shared/docs/ARROW_IPC.md), with exact sizes computed
 * in advance, and a validating decoder that yields columnar views.
 *
 * Two schemas of the output contract are built in (CONTRACT.md §4):
 *   inner: event_time timestamp[us], src_addr utf8, dst_addr utf8, ip_version int8, rtt float32
 *   outer: src_id int64, measurements binary, n_measurements int32, time_span_seconds float64,
 *          first_timestamp timestamp[us], last_timestamp timestamp[us]
 * All fields are nullable. Everything is little-endian; a whole stream is a multiple of 8 bytes.
 *
 * Column input conventions (encoders):
 *   - validity is one byte per row, 0 = null, anything else = valid; a NULL pointer means every
 *     row is valid. The encoder counts the nulls and packs the LSB-first bitmap itself; a column
 *     whose rows [begin, end) hold no null gets a zero-length validity buffer, as pyarrow does.
 *   - the value slot of a null fixed-width row is written as 0 whatever the input holds.
 *   - string/binary columns use int64 offsets into a data array: row r is
 *     data[offsets[r] .. offsets[r+1]). Offsets are absolute, so any row range [begin, end) can
 *     be encoded without copying them; the encoder rebases them to int32 starting at 0. Bytes
 *     of a null row are written as given (pass an empty slot to match pyarrow).
 *   - a string/binary column may instead be one constant value repeated on every row
 *     (offsets == NULL): no offsets array is needed.
 */
#ifndef PROBEROWS_ARROW_IPC_H
#define PROBEROWS_ARROW_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proberows/proberows.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Column types this module reads and writes. */
typedef enum prw_ipc_type {
    PRW_IPC_INT8 = 1,
    PRW_IPC_INT16,
    PRW_IPC_INT32,
    PRW_IPC_INT64,
    PRW_IPC_FLOAT32,
    PRW_IPC_FLOAT64,
    PRW_IPC_TIMESTAMP, /**< int64 counts of `unit` since the epoch */
    PRW_IPC_UTF8,
    PRW_IPC_BINARY
} prw_ipc_type;

/** Timestamp units, numbered as in Arrow's Schema.fbs. */
typedef enum prw_ipc_time_unit {
    PRW_IPC_SECOND = 0,
    PRW_IPC_MILLISECOND = 1,
    PRW_IPC_MICROSECOND = 2,
    PRW_IPC_NANOSECOND = 3
} prw_ipc_time_unit;

/** One field of a flat schema. Strings are NUL-terminated UTF-8. */
typedef struct prw_ipc_field {
    const char *name; /**< never NULL (may be empty) */
    prw_ipc_type type;
    prw_ipc_time_unit unit; /**< timestamps only */
    const char *timezone;   /**< timestamps only; NULL or "" = no time zone */
    bool nullable;
} prw_ipc_field;

/** A flat schema: `n_fields` fields, borrowed. */
typedef struct prw_ipc_schema {
    const prw_ipc_field *fields;
    size_t n_fields;
} prw_ipc_schema;

/** Name of a type as `ipc cat` prints it ("int8", "timestamp[us]", "utf8", ...); static. */
PRW_API const char *prw_ipc_type_name(prw_ipc_type type, prw_ipc_time_unit unit);

/** Byte width of a fixed-width type (1/2/4/8), 0 for utf8 and binary. */
PRW_API size_t prw_ipc_type_width(prw_ipc_type type);

/** The built-in inner schema (5 fields, prw_ipc_inner_col); static storage. */
PRW_API const prw_ipc_schema *prw_ipc_inner_schema(void);
/** The built-in outer schema (6 fields, prw_ipc_outer_col); static storage. */
PRW_API const prw_ipc_schema *prw_ipc_outer_schema(void);

/** Column indexes of the inner schema: one row per measurement. */
typedef enum prw_ipc_inner_col {
    PRW_INNER_EVENT_TIME = 0, /**< timestamp[us] */
    PRW_INNER_SRC_ADDR,       /**< utf8, the same in every row */
    PRW_INNER_DST_ADDR,       /**< utf8 */
    PRW_INNER_IP_VERSION,     /**< int8 */
    PRW_INNER_RTT,            /**< float32 */
    PRW_INNER_COLUMNS
} prw_ipc_inner_col;

/** Column indexes of the outer schema: one row per output record. */
typedef enum prw_ipc_outer_col {
    PRW_OUTER_SRC_ID = 0,        /**< int64 */
    PRW_OUTER_MEASUREMENTS,      /**< binary: the inner stream */
    PRW_OUTER_N_MEASUREMENTS,    /**< int32 */
    PRW_OUTER_TIME_SPAN_SECONDS, /**< float64 */
    PRW_OUTER_FIRST_TIMESTAMP,   /**< timestamp[us] */
    PRW_OUTER_LAST_TIMESTAMP,    /**< timestamp[us] */
    PRW_OUTER_COLUMNS
} prw_ipc_outer_col;

/* ---- encoder input ---------------------------------------------------------------------- */

/**
 * One input column, borrowed for the duration of an encode call. Rows are indexed in the
 * caller's arrays; an encode call reads rows [begin, end).
 *   fixed width: `values` = array of the type's C type (int8_t ... double; timestamps int64_t);
 *   utf8/binary: `values` = data bytes, `offsets` = int64 offsets (see the file comment), or
 *                `offsets` = NULL and `values`/`const_len` = one value repeated on every row.
 * `valid` = one byte per row (0 = null) or NULL for "no nulls".
 */
typedef struct prw_ipc_column {
    const void *values;
    const int64_t *offsets;
    size_t const_len;
    const uint8_t *valid;
} prw_ipc_column;

/* ---- generic writer ---------------------------------------------------------------------- */

/** A writer for one schema: holds the schema message, built once. Immutable after creation,
 * so any number of threads may encode with it at once. */
typedef struct prw_ipc_writer prw_ipc_writer;

/**
 * Creates a writer for `schema` (copied; the caller's schema may go away).
 * Errors: PRW_E_INVALID (no fields, NULL name, unknown type or unit, more than 65536 fields),
 * PRW_E_NOMEM.
 */
PRW_API prw_status prw_ipc_writer_create(const prw_ipc_schema *schema, prw_ipc_writer **out,
                                         prw_error *err);
/** Frees a writer; NULL is accepted. */
PRW_API void prw_ipc_writer_destroy(prw_ipc_writer *w);

/** The framed schema message bytes (valid while the writer lives). */
PRW_API prw_bytes prw_ipc_writer_schema_message(const prw_ipc_writer *w);

/**
 * Exact byte length of one record batch message for rows [begin, end) of `cols` (one column per
 * field). Reads the validity bytes to count nulls (O(rows) for columns with a validity array,
 * O(1) otherwise). Errors: PRW_E_INVALID (begin > end, negative, bad offsets pointer for a
 * fixed-width column), PRW_E_LIMIT (a string column over 2 GiB: int32 offsets).
 */
PRW_API prw_status prw_ipc_writer_batch_size(const prw_ipc_writer *w, const prw_ipc_column *cols,
                                             int64_t begin, int64_t end, uint64_t *size,
                                             prw_error *err);

/**
 * Writes one record batch message for rows [begin, end) into dst (capacity `cap`); *written =
 * its length, equal to prw_ipc_writer_batch_size. Errors: as batch_size, plus PRW_E_LIMIT when
 * cap is too small (nothing useful is written then).
 */
PRW_API prw_status prw_ipc_writer_write_batch(const prw_ipc_writer *w, const prw_ipc_column *cols,
                                              int64_t begin, int64_t end, uint8_t *dst, size_t cap,
                                              size_t *written, prw_error *err);

/** Exact length of a whole stream (schema, one batch of rows [begin, end), EOS). */
PRW_API prw_status prw_ipc_writer_stream_size(const prw_ipc_writer *w, const prw_ipc_column *cols,
                                              int64_t begin, int64_t end, uint64_t *size,
                                              prw_error *err);

/** Writes a whole stream (schema, one batch, EOS); errors as write_batch. */
PRW_API prw_status prw_ipc_writer_write_stream(const prw_ipc_writer *w, const prw_ipc_column *cols,
                                               int64_t begin, int64_t end, uint8_t *dst, size_t cap,
                                               size_t *written, prw_error *err);

/** Length of the end-of-stream marker (ff ff ff ff 00 00 00 00). */
#define PRW_IPC_EOS_SIZE 8

/* ---- the inner stream (one probe's measurements) ---------------------------------------- */

/**
 * Columns of the inner schema, borrowed. Arrays are indexed by the caller's row numbers.
 * `src_addr` is usually one constant per probe: set src_offsets = NULL and give the string in
 * src_data/src_const_len. Any validity pointer may be NULL (no nulls).
 */
typedef struct prw_ipc_inner_columns {
    const int64_t *event_time; /**< microseconds since the epoch */
    const uint8_t *event_time_valid;
    const int64_t *src_offsets; /**< NULL: src_data[0..src_const_len) on every row */
    const char *src_data;
    size_t src_const_len;
    const uint8_t *src_valid;
    const int64_t *dst_offsets; /**< never NULL */
    const char *dst_data;
    const uint8_t *dst_valid;
    const int8_t *ip_version;
    const uint8_t *ip_version_valid;
    const float *rtt;
    const uint8_t *rtt_valid;
} prw_ipc_inner_columns;

/**
 * What the exact inner size depends on, for rows [i, j): the pipeline keeps prefix sums of
 * string bytes and null counts and takes differences.
 */
typedef struct prw_ipc_inner_counts {
    int64_t rows;      /**< j - i */
    int64_t src_bytes; /**< total bytes of src_addr over the rows */
    int64_t dst_bytes; /**< total bytes of dst_addr over the rows */
    int64_t null_event_time, null_src, null_dst, null_ip_version, null_rtt;
} prw_ipc_inner_counts;

/**
 * Exact byte length of the inner stream (schema, one batch, EOS) the encoder writes for rows
 * with these counts, in O(1):
 *   792 + 8N + 2·P(4(N+1)) + P(Ssrc) + P(Sdst) + P(N) + P(4N) + Σ_{columns with nulls} P(⌈N/8⌉)
 * with P = round up to 8. Returns 0 for impossible counts (negative values, null counts above
 * rows), never a real size.
 */
PRW_API uint64_t prw_ipc_stream_size(const prw_ipc_inner_counts *counts);

/**
 * Encodes rows [begin, end) of `cols` as a whole inner stream into dst (capacity cap; use
 * prw_ipc_stream_size, or prw_ipc_inner_size for the counts read from the arrays). *written =
 * bytes written, always equal to prw_ipc_stream_size of the rows' counts. No allocation.
 * Errors: PRW_E_INVALID (bad range, missing arrays), PRW_E_LIMIT (cap too small, a string
 * column over 2 GiB in these rows).
 */
PRW_API prw_status prw_ipc_encode_inner(const prw_ipc_inner_columns *cols, int64_t begin,
                                        int64_t end, uint8_t *dst, size_t cap, size_t *written,
                                        prw_error *err);

/** Counts (by reading the validity arrays) the prw_ipc_inner_counts of rows [begin, end). */
PRW_API prw_status prw_ipc_inner_count(const prw_ipc_inner_columns *cols, int64_t begin,
                                       int64_t end, prw_ipc_inner_counts *counts, prw_error *err);

/* ---- the outer one-row record ------------------------------------------------------------ */

/** One outer row; no field is null. */
typedef struct prw_ipc_outer_row {
    int64_t src_id;
    const uint8_t *measurements; /**< the inner stream; see PRW_IPC_OUTER_INNER_OFFSET */
    size_t measurements_len;
    int32_t n_measurements;
    double time_span_seconds;
    int64_t first_timestamp; /**< microseconds */
    int64_t last_timestamp;  /**< microseconds */
} prw_ipc_outer_row;

/**
 * Where the measurements bytes sit inside an encoded outer record. A caller may encode the
 * inner stream straight to dst + PRW_IPC_OUTER_INNER_OFFSET and pass that pointer as
 * `measurements`: prw_ipc_encode_outer then copies nothing.
 */
#define PRW_IPC_OUTER_INNER_OFFSET 952

/** Exact length of the outer record for an inner stream of `measurements_len` bytes:
 * 992 + measurements_len rounded up to 8; 0 if that overflows. */
PRW_API uint64_t prw_ipc_outer_size(size_t measurements_len);

/**
 * Writes the outer stream (schema, one batch of one row, EOS) into dst (capacity cap);
 * *written = prw_ipc_outer_size(row->measurements_len). `measurements` may overlap dst only
 * by being exactly dst + PRW_IPC_OUTER_INNER_OFFSET. Errors: PRW_E_LIMIT (cap too small or
 * measurements over 2 GiB), PRW_E_INVALID (NULL measurements with a non-zero length).
 */
PRW_API prw_status prw_ipc_encode_outer(const prw_ipc_outer_row *row, uint8_t *dst, size_t cap,
                                        size_t *written, prw_error *err);

/* ---- decoder ------------------------------------------------------------------------------ */

/**
 * A decoded column of one record batch: borrowed views into the stream bytes, valid until the
 * next prw_ipc_decoder_next / destroy and while the input bytes live. Pointers may be
 * unaligned: read them with the accessors below (or memcpy). All lengths have been checked
 * against the buffers, and offsets are non-decreasing and within the data.
 */
typedef struct prw_ipc_array {
    prw_ipc_type type;
    int64_t length;
    int64_t null_count;
    const uint8_t *validity; /**< LSB-first bitmap, 1 = valid; NULL when null_count == 0 */
    const uint8_t *values;   /**< fixed-width values, or the utf8/binary data bytes */
    const uint8_t *offsets;  /**< utf8/binary: length+1 int32 little-endian, else NULL */
    int64_t data_len;        /**< utf8/binary: bytes of `values` covered by the offsets */
} prw_ipc_array;

/** A record batch: `n_columns` arrays in schema order, same lifetime as its arrays. */
typedef struct prw_ipc_batch {
    int64_t length;
    size_t n_columns;
    const prw_ipc_array *columns;
} prw_ipc_batch;

/** True if row `i` of `a` is null. */
static inline bool prw_ipc_array_is_null(const prw_ipc_array *a, int64_t i) {
    return a->validity && !((a->validity[i >> 3] >> (i & 7)) & 1);
}
/** Value of row `i` of an integer or timestamp column, sign-extended. */
PRW_API int64_t prw_ipc_array_int(const prw_ipc_array *a, int64_t i);
/** Value of row `i` of a float32 or float64 column. */
PRW_API double prw_ipc_array_float(const prw_ipc_array *a, int64_t i);
/** Row `i` of a utf8/binary column: a view of its bytes (same lifetime as the array). */
PRW_API prw_bytes prw_ipc_array_bytes(const prw_ipc_array *a, int64_t i);

typedef struct prw_ipc_decoder prw_ipc_decoder;

/**
 * Opens a stream held in memory (borrowed: it must outlive the decoder) and reads its schema
 * message. Accepts the continuation framing and the legacy one (no 0xFFFFFFFF), metadata
 * versions V4 and V5. Every flatbuffer is verified (bounds, alignment, NUL-terminated strings,
 * union tags) before use. Errors (err->offset = byte offset in `data`): PRW_E_TRUNCATED,
 * PRW_E_CORRUPT, PRW_E_UNSUPPORTED (dictionaries, compression, big endian, nested or other
 * types), PRW_E_LIMIT (more than 65536 fields), PRW_E_NOMEM.
 */
PRW_API prw_status prw_ipc_decoder_create(const uint8_t *data, size_t len, prw_ipc_decoder **out,
                                          prw_error *err);
/** Frees a decoder; NULL is accepted. */
PRW_API void prw_ipc_decoder_destroy(prw_ipc_decoder *d);

/** The decoded schema; strings and fields live as long as the decoder. */
PRW_API const prw_ipc_schema *prw_ipc_decoder_schema(const prw_ipc_decoder *d);

/**
 * Decodes the next record batch into *batch. Returns PRW_OK, PRW_DONE at the end-of-stream
 * marker (or at the end of the input), or an error as for create; after an error or PRW_DONE
 * further calls return the same. Buffers are checked: 8-aligned offsets inside the body, lengths
 * large enough, null_count equal to the zero bits of the bitmap, valid offsets.
 */
PRW_API prw_status prw_ipc_decoder_next(prw_ipc_decoder *d, prw_ipc_batch *batch, prw_error *err);

/** True if `s` is field for field the same schema as `expect` (names, types, units, zones). */
PRW_API bool prw_ipc_schema_equal(const prw_ipc_schema *s, const prw_ipc_schema *expect);

#ifdef __cplusplus
}
#endif
#endif
