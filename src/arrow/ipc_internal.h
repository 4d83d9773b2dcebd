/*
 * Internals of the Arrow IPC module: a minimal flatbuffer builder (fixed capacity, no
 * allocation, the layout recipe of ARROW_IPC.md §5) and a bounds-checked flatbuffer reader
 * that applies the checks of the flatbuffers Verifier pyarrow runs on every message.
 */
#ifndef PRW_ARROW_IPC_INTERNAL_H
#define PRW_ARROW_IPC_INTERNAL_H

#include "common/common.h"
#include "proberows/arrow_ipc.h"

/* Message header union tags (Message.fbs) and Type union tags (Schema.fbs). */
enum {
    PRW__IPC_MSG_SCHEMA = 1,
    PRW__IPC_MSG_DICTIONARY = 2,
    PRW__IPC_MSG_RECORD_BATCH = 3,
};
enum {
    PRW__IPC_T_INT = 2,
    PRW__IPC_T_FLOAT = 3,
    PRW__IPC_T_BINARY = 4,
    PRW__IPC_T_UTF8 = 5,
    PRW__IPC_T_TIMESTAMP = 10,
};
/* MetadataVersion V5 (the enum counts V1 = 0). */
#define PRW__IPC_VERSION_V5 4
#define PRW__IPC_VERSION_V4 3
/* Upper bound on the fields of a schema we accept or write. */
#define PRW__IPC_MAX_FIELDS 65536

static inline uint64_t prw__ipc_pad8(uint64_t x) {
    return (x + 7) & ~(uint64_t)7;
}

/* ---- builder ------------------------------------------------------------------------------ */

/** A flatbuffer being written into caller memory; positions count from `p`. */
typedef struct prw__fbb {
    uint8_t *p;
    size_t cap;
    size_t len;
    bool overflow; /* set instead of writing past cap */
} prw__fbb;

/** A table slot to write: size 0 = absent, else 1/2/4/8 bytes of `value`. A uoffset is size 4,
 * value 0, and patched later with prw__fbb_patch. */
typedef struct prw__fb_slot {
    uint8_t size;
    uint64_t value;
} prw__fb_slot;

void prw__fbb_init(prw__fbb *b, uint8_t *p, size_t cap);
/** Appends zero bytes until len % align == rem. */
void prw__fbb_pad(prw__fbb *b, size_t align, size_t rem);
/** Appends n bytes (or zeros when data is NULL); returns their position. */
size_t prw__fbb_put(prw__fbb *b, const void *data, size_t n);
void prw__fbb_put_u32(prw__fbb *b, uint32_t v);
/**
 * Writes a vtable then its table (ARROW_IPC.md §5 recipe: vtable right before the table,
 * fields largest first). field_pos[k] receives the absolute position of slot k (0 if absent).
 * Returns the table position.
 */
size_t prw__fbb_table(prw__fbb *b, const prw__fb_slot *slots, int nslots, size_t *field_pos);
/** Stores the uoffset at `at` so that it points to `target`. */
void prw__fbb_patch(prw__fbb *b, size_t at, size_t target);
/** Writes a string (length, bytes, NUL); returns the position of its length word. */
size_t prw__fbb_string(prw__fbb *b, const char *s, size_t n);

/* ---- reader ------------------------------------------------------------------------------- */

/** A flatbuffer to read: `base_off` is its offset in the input, for error messages. */
typedef struct prw__fbr {
    const uint8_t *p;
    size_t len;
    int64_t base_off;
} prw__fbr;

/** A verified table: its position, vtable position and sizes. */
typedef struct prw__fbt {
    size_t pos;
    size_t vt;
    uint16_t vt_len;
    uint16_t inline_len;
} prw__fbt;

/** Verifies the root table. */
prw_status prw__fbr_root(const prw__fbr *r, prw__fbt *t, prw_error *err);
/** Reads an optional scalar of `size` bytes (aligned, inside the table) or `dflt`. */
prw_status prw__fbr_scalar(const prw__fbr *r, const prw__fbt *t, int slot, size_t size,
                           uint64_t dflt, uint64_t *out, prw_error *err);
/** Follows an optional uoffset field to a table; *present false when absent. */
prw_status prw__fbr_table(const prw__fbr *r, const prw__fbt *t, int slot, prw__fbt *child,
                          bool *present, prw_error *err);
/**
 * Follows an optional uoffset field to a vector of `elem_size`-byte elements aligned to
 * `elem_align`; *elems = position of element 0, *count its length.
 */
prw_status prw__fbr_vector(const prw__fbr *r, const prw__fbt *t, int slot, size_t elem_size,
                           size_t elem_align, size_t *elems, uint32_t *count, bool *present,
                           prw_error *err);
/** Follows the uoffset stored at absolute position `at` (a vector element) to a table. */
prw_status prw__fbr_table_at(const prw__fbr *r, size_t at, prw__fbt *t, prw_error *err);
/** Follows an optional uoffset field to a NUL-terminated string. */
prw_status prw__fbr_string(const prw__fbr *r, const prw__fbt *t, int slot, const char **s,
                           uint32_t *n, bool *present, prw_error *err);

/* ---- messages ----------------------------------------------------------------------------- */

/** Upper bound of the framed schema message for `s`. */
size_t prw__ipc_schema_message_bound(const prw_ipc_schema *s);
/** Writes the framed schema message (continuation, meta_len, flatbuffer, padding). */
prw_status prw__ipc_schema_message(const prw_ipc_schema *s, uint8_t *dst, size_t cap, size_t *len,
                                   prw_error *err);
/** Checks a schema the writer is given: names, types, units. */
prw_status prw__ipc_schema_check(const prw_ipc_schema *s, prw_error *err);

/** Length of the RecordBatch flatbuffer (= meta_len) for n columns and nb buffers. */
static inline size_t prw__ipc_batch_meta_len(size_t n, size_t nb) {
    return 88 + 16 * (n + nb);
}

/** Buffers of one column: validity + values (+ data for utf8/binary). */
static inline size_t prw__ipc_type_buffers(prw_ipc_type t) {
    return (t == PRW_IPC_UTF8 || t == PRW_IPC_BINARY) ? 3 : 2;
}

/**
 * Writes the framing and the fixed parts of the RecordBatch flatbuffer at dst (8 + meta_len
 * bytes in all). The caller fills FieldNode i ({length, null_count}, int64 each) at
 * prw__ipc_batch_node(dst, i) and Buffer k ({offset, length}) at prw__ipc_batch_buf(dst, n, k).
 */
void prw__ipc_batch_header(uint8_t *dst, int64_t length, int64_t body_len, size_t n, size_t nb);
static inline uint8_t *prw__ipc_batch_node(uint8_t *dst, size_t i) {
    return dst + 8 + 0x50 + 16 * i;
}
static inline uint8_t *prw__ipc_batch_buf(uint8_t *dst, size_t n, size_t k) {
    return dst + 8 + 0x58 + 16 * n + 16 * k;
}

#endif
