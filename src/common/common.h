/*
 * Internal basics for every module: error helpers and propagation macros, the allocation
 * functions, little-endian loads/stores, varints, a bounds-checked byte cursor, a growable
 * buffer and an arena. Internal non-static names start with `prw__`.
 */
#ifndef PRW_COMMON_COMMON_H
#define PRW_COMMON_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proberows/proberows.h"

#if defined(__GNUC__)
#define PRW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define PRW_LIKELY(x) __builtin_expect(!!(x), 1)
#define PRW_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define PRW_PRINTF(f, a)
#define PRW_LIKELY(x) (x)
#define PRW_UNLIKELY(x) (x)
#endif

/* ---- errors ---------------------------------------------------------------------------- */

/** Fills `err` (if not NULL) and returns `code`. `offset` is -1 when unknown. */
prw_status prw__error_set(prw_error *err, prw_status code, int64_t offset, const char *fmt, ...)
    PRW_PRINTF(4, 5);

/** Like prw__error_set for PRW_E_IO, appending strerror(sys_errno) and keeping it. */
prw_status prw__error_sys(prw_error *err, int sys_errno, const char *fmt, ...) PRW_PRINTF(3, 4);

/** Prefixes context ("row group 3, column 'rtt': ") to an already filled message. */
void prw__error_prefix(prw_error *err, const char *fmt, ...) PRW_PRINTF(2, 3);

/**
 * Replaces err by `cause` (an error that explains it, such as an input changed meanwhile),
 * keeping err's message after it in brackets; returns cause's code.
 */
prw_status prw__error_caused_by(prw_error *err, const prw_error *cause);

/** Returns a negative status to the caller. */
#define PRW_TRY(expr)                                                                              \
    do {                                                                                           \
        prw_status prw_try_st_ = (expr);                                                           \
        if (PRW_UNLIKELY(prw_try_st_ < 0))                                                         \
            return prw_try_st_;                                                                    \
    } while (0)

/** Guard on untrusted input: if `cond` is false, fill `err` and return `code`. */
#define PRW_CHECK(cond, err, code, off, ...)                                                       \
    do {                                                                                           \
        if (PRW_UNLIKELY(!(cond)))                                                                 \
            return prw__error_set((err), (code), (off), __VA_ARGS__);                              \
    } while (0)

/* ---- allocation ------------------------------------------------------------------------- */

void *prw__malloc(size_t size);
void *prw__calloc(size_t n, size_t size);
void *prw__realloc(void *ptr, size_t size);
void prw__free(void *ptr);
char *prw__strdup(const char *s);

/**
 * Makes libc's allocator hand back freed big buffers at once (glibc: a fixed mmap threshold of
 * budget/256, clamped to 128 KiB..32 MiB), so that the resident set follows what is
 * allocated. Process-wide; called by the memory-bounded build. No effect with a caller's own
 * allocator or another libc.
 */
void prw__alloc_bound_retention(uint64_t budget);

/**
 * Maps in the pages of p[0, n) at once, ahead of writing all of it (Linux
 * MADV_POPULATE_WRITE: one call instead of a page fault per page, about half the cost of
 * first touches on a VM). Only a hint; does nothing for small ranges or where unsupported.
 */
void prw__prefault(void *p, size_t n);

/** Allocates n*size bytes, failing (NULL) on overflow as well as on lack of memory. */
void *prw__malloc_array(size_t n, size_t size);

/**
 * Makes *p (of *cap items of `size` bytes) hold at least n items: a scratch array that only
 * grows, its contents not kept. On failure *p is NULL, *cap 0, and err names `what`.
 */
prw_status prw__reserve_array(void **p, size_t *cap, size_t n, size_t size, const char *what,
                              prw_error *err);
/**
 * Ensures *p holds at least n elements of `size` bytes, keeping its contents: grows to
 * max(n, 2 × *cap, 64). On failure *p and *cap are unchanged; PRW_E_NOMEM names `what`.
 */
prw_status prw__grow_array(void **p, size_t *cap, size_t n, size_t size, const char *what,
                           prw_error *err);
/**
 * Ensures the byte buffer *p (of *cap bytes) holds at least `need` bytes, keeping its
 * contents: doubling from 64 KiB, but never beyond `most` (need <= most), so small data gets
 * a small buffer and large data few copies. On failure *p and *cap are unchanged;
 * PRW_E_NOMEM names `what`.
 */
prw_status prw__grow_capped(void **p, size_t *cap, size_t need, size_t most, const char *what,
                            prw_error *err);

/** prw_format_bytes rounded up to its printed tenth: the figure printed is never below
 * `bytes` (a limit named as enough is enough). */
const char *prw__format_bytes_up(uint64_t bytes, char *buf, size_t cap);

/** Sets PRW_E_NOMEM with a message naming `what` and `size`; returns PRW_E_NOMEM. */
prw_status prw__error_nomem(prw_error *err, const char *what, size_t size);

static inline bool prw__mul_overflow(size_t a, size_t b, size_t *out) {
    return __builtin_mul_overflow(a, b, out);
}
static inline bool prw__add_overflow(size_t a, size_t b, size_t *out) {
    return __builtin_add_overflow(a, b, out);
}

/**
 * A span (last - first microseconds) in seconds, without signed overflow: false when the
 * difference does not fit an int64 or is negative (last before first).
 */
static inline bool prw__span_seconds(int64_t first_us, int64_t last_us, double *out) {
    int64_t d;
    if (__builtin_sub_overflow(last_us, first_us, &d) || d < 0)
        return false;
    *out = (double)d / 1e6;
    return true;
}

/* ---- little-endian / big-endian loads and stores (memcpy: no alignment, no aliasing) ----- */

static inline uint16_t prw__load_le16(const void *p) {
    const uint8_t *b = (const uint8_t *)p;
    return (uint16_t)(b[0] | (b[1] << 8));
}
static inline uint32_t prw__load_le32(const void *p) {
    uint32_t v;
    memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}
static inline uint64_t prw__load_le64(const void *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}
static inline uint32_t prw__load_be32(const void *p) {
    return __builtin_bswap32(prw__load_le32(p));
}
static inline uint64_t prw__load_be64(const void *p) {
    return __builtin_bswap64(prw__load_le64(p));
}
static inline void prw__store_le16(void *p, uint16_t v) {
    uint8_t *b = (uint8_t *)p;
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
}
static inline void prw__store_le32(void *p, uint32_t v) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    memcpy(p, &v, 4);
}
static inline void prw__store_le64(void *p, uint64_t v) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}
static inline void prw__store_be32(void *p, uint32_t v) {
    prw__store_le32(p, __builtin_bswap32(v));
}
static inline void prw__store_be64(void *p, uint64_t v) {
    prw__store_le64(p, __builtin_bswap64(v));
}

/* ---- varints (LEB128, as in protobuf and Thrift compact) --------------------------------- */

#define PRW_VARINT_MAX 10

/** Writes `v` as a LEB128 varint to dst (room for PRW_VARINT_MAX bytes); returns the length. */
size_t prw__varint_put(uint8_t *dst, uint64_t v);
/** Number of bytes prw__varint_put writes for `v`. */
size_t prw__varint_len(uint64_t v);

static inline uint64_t prw__zigzag_enc(int64_t v) {
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t prw__zigzag_dec(uint64_t v) {
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* ---- bounds-checked cursor over untrusted bytes ------------------------------------------ */

/** A read cursor: `base` is where offsets count from, `p` the position, `end` one past. */
typedef struct prw__rd {
    const uint8_t *base;
    const uint8_t *p;
    const uint8_t *end;
} prw__rd;

static inline void prw__rd_init(prw__rd *rd, const void *data, size_t len) {
    rd->base = (const uint8_t *)data;
    rd->p = rd->base;
    rd->end = rd->base + len;
}
static inline size_t prw__rd_left(const prw__rd *rd) {
    return (size_t)(rd->end - rd->p);
}
static inline int64_t prw__rd_pos(const prw__rd *rd) {
    return (int64_t)(rd->p - rd->base);
}
static inline bool prw__rd_has(const prw__rd *rd, size_t n) {
    return (size_t)(rd->end - rd->p) >= n;
}
/** Takes n bytes as a view; false (cursor unchanged) if fewer are left. */
static inline bool prw__rd_take(prw__rd *rd, size_t n, const uint8_t **out) {
    if (!prw__rd_has(rd, n))
        return false;
    *out = rd->p;
    rd->p += n;
    return true;
}
static inline bool prw__rd_skip(prw__rd *rd, size_t n) {
    if (!prw__rd_has(rd, n))
        return false;
    rd->p += n;
    return true;
}
static inline bool prw__rd_u8(prw__rd *rd, uint8_t *out) {
    if (rd->p >= rd->end)
        return false;
    *out = *rd->p++;
    return true;
}
static inline bool prw__rd_le32(prw__rd *rd, uint32_t *out) {
    if (!prw__rd_has(rd, 4))
        return false;
    *out = prw__load_le32(rd->p);
    rd->p += 4;
    return true;
}
static inline bool prw__rd_le64(prw__rd *rd, uint64_t *out) {
    if (!prw__rd_has(rd, 8))
        return false;
    *out = prw__load_le64(rd->p);
    rd->p += 8;
    return true;
}
/**
 * Reads a LEB128 varint of at most 10 bytes; false (cursor unchanged) when truncated, longer
 * than 10 bytes, or when the 10th byte carries bits beyond 64.
 */
bool prw__rd_varint(prw__rd *rd, uint64_t *out);

/* ---- growable buffer --------------------------------------------------------------------- */

typedef struct prw__buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} prw__buf;

static inline void prw__buf_init(prw__buf *b) {
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
/** Frees the storage; safe on a zeroed or already cleaned-up buffer. */
void prw__buf_cleanup(prw__buf *b);
/** Ensures room for `extra` more bytes after len (amortised doubling). */
prw_status prw__buf_reserve(prw__buf *b, size_t extra, prw_error *err);
/** Sets len to `len`, growing if needed; new bytes are uninitialised. */
prw_status prw__buf_resize(prw__buf *b, size_t len, prw_error *err);
prw_status prw__buf_append(prw__buf *b, const void *data, size_t n, prw_error *err);
static inline prw_status prw__buf_append_u8(prw__buf *b, uint8_t v, prw_error *err) {
    return prw__buf_append(b, &v, 1, err);
}
static inline void prw__buf_clear(prw__buf *b) {
    b->len = 0;
}
/** Appends zero bytes until len is a multiple of `align` (a power of two). */
prw_status prw__buf_pad(prw__buf *b, size_t align, prw_error *err);
/** Appends a varint. */
prw_status prw__buf_varint(prw__buf *b, uint64_t v, prw_error *err);
/** Appends printf output (no NUL; one spare byte stays reserved after len). */
prw_status prw__buf_printf(prw__buf *b, prw_error *err, const char *fmt, ...) PRW_PRINTF(3, 4);

/* ---- arena ------------------------------------------------------------------------------- */

typedef struct prw__arena_block prw__arena_block;

/**
 * A bump allocator for data that dies together (a page, a row group). Reset keeps the first
 * block for reuse. Under ASan the unused space is poisoned.
 */
typedef struct prw__arena {
    prw__arena_block *head;
    size_t block_size;
    size_t used_total; /* bytes handed out since the last reset */
} prw__arena;

void prw__arena_init(prw__arena *a, size_t block_size);
/** Returns `n` bytes aligned to `align` (a power of two, ≤ 64), or NULL when out of memory. */
void *prw__arena_alloc(prw__arena *a, size_t n, size_t align);
void prw__arena_reset(prw__arena *a);
void prw__arena_cleanup(prw__arena *a);

/* ---- misc -------------------------------------------------------------------------------- */

/** FNV-1a 64-bit over `n` bytes, continuing from `h` (start with PRW_FNV1A64_INIT). */
#define PRW_FNV1A64_INIT 0xcbf29ce484222325ULL
static inline uint64_t prw__fnv1a64(uint64_t h, const void *data, size_t n) {
    const uint8_t *p = (const uint8_t *)data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/** Monotonic clock in seconds. */
double prw__now(void);

#endif
