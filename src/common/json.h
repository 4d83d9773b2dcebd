/*
 * A small JSON reader for manifest.json (what `proberows verify` and `inspect` read back).
 * The whole text is parsed into a flat array of nodes; strings are decoded (escapes, \uXXXX
 * with surrogate pairs) into an arena. Limits keep hostile input cheap: nesting depth 64,
 * numbers of at most 64 characters. Errors carry the byte offset in the text.
 */
#ifndef PRW_COMMON_JSON_H
#define PRW_COMMON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

typedef enum prw__json_type {
    PRW_JSON_NULL = 0,
    PRW_JSON_BOOL,
    PRW_JSON_NUMBER,
    PRW_JSON_STRING,
    PRW_JSON_ARRAY,
    PRW_JSON_OBJECT
} prw__json_type;

/** One value. Children of an array or object are linked through `next` (node indexes). */
typedef struct prw__json_node {
    prw__json_type type;
    const char *key; /* member name inside an object (NUL-terminated), else NULL */
    const char *str; /* string value (NUL-terminated; may hold NULs, see len) */
    size_t len;      /* string length */
    double num;
    int64_t i64;  /* the value when is_int */
    bool is_int;  /* a number without fraction or exponent that fits int64 */
    bool boolean; /* PRW_JSON_BOOL */
    size_t first; /* first child, or SIZE_MAX */
    size_t next;  /* next sibling, or SIZE_MAX */
    size_t count; /* number of children */
} prw__json_node;

typedef struct prw__json {
    prw__json_node *nodes; /* nodes[0] is the root */
    size_t n, cap;
    prw__arena strings;
} prw__json;

/** Largest manifest text accepted (a manifest lists its inputs: 64 MiB is ~500k files). */
#define PRW_JSON_MAX_TEXT (64u << 20)

/** Writes code point cp (at most U+10FFFF, no surrogate) as 1-4 bytes of UTF-8; returns the
 * count. Shared with the dump reader's JSON scanner (src/atlas/at_json.c). */
size_t prw__utf8_put(void *dst, uint32_t cp);

/**
 * Parses `len` bytes of JSON (one value, surrounding white space allowed).
 * @return PRW_OK; PRW_E_CORRUPT with err->offset at the bad byte; PRW_E_LIMIT (too deep, text
 *   too long); PRW_E_NOMEM. On error `out` is left cleaned up.
 */
prw_status prw__json_parse(const char *text, size_t len, prw__json *out, prw_error *err);
/** Frees everything (safe on a zeroed struct). */
void prw__json_cleanup(prw__json *j);

/** The root value. */
static inline const prw__json_node *prw__json_root(const prw__json *j) {
    return &j->nodes[0];
}
/** Member `key` of an object (the last one if repeated), or NULL (also if obj is not an object
 * or is NULL). */
const prw__json_node *prw__json_get(const prw__json *j, const prw__json_node *obj, const char *key);
/** Child number i of an array or object, or NULL. O(i). */
const prw__json_node *prw__json_at(const prw__json *j, const prw__json_node *arr, size_t i);
/** The next sibling, or NULL. */
static inline const prw__json_node *prw__json_next(const prw__json *j, const prw__json_node *n) {
    return n->next == SIZE_MAX ? NULL : &j->nodes[n->next];
}

#endif
