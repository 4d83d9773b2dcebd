/*
 * The block finder: bzip2 blocks start at any bit with the 48-bit magic 0x314159265359. A
 * magic starting d bits (0..7) before a byte boundary covers the whole 16 bits after that
 * boundary, and those 16 bits are one of eight values fixed by d. So one 16-bit load per byte
 * and a lookup in an 8 KiB bitmap of those eight values filter the data; only hits are checked
 * bit-exactly for each d. Matches can be false (the pattern may occur inside compressed data):
 * the reader accepts a candidate only where the previous block ended.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "bzip2/bz.h"

prw_status prw__bz_error(prw_error *err, prw_status code, const char *name, uint64_t bit,
                         const char *fmt, ...) {
    if (!err)
        return code;
    char what[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return prw__error_set(err, code, (int64_t)(bit / 8), "%s: bzip2: %s", name ? name : "input",
                          what);
}

uint64_t prw__bz_peek(const uint8_t *data, size_t size, uint64_t bit, unsigned n) {
    size_t at = (size_t)(bit >> 3);
    uint64_t w = 0;
    if (at < size && size - at >= 8) {
        w = prw__load_be64(data + at);
    } else {
        for (size_t k = 0; k < 8; k++)
            w = (w << 8) | (at + k < size ? data[at + k] : 0);
    }
    return (w << (bit & 7)) >> (64 - n);
}

static uint8_t g_filter[8192];
static uint16_t g_word[8];
static pthread_once_t g_filter_once = PTHREAD_ONCE_INIT;

static void filter_init(void) {
    for (unsigned d = 0; d < 8; d++) {
        g_word[d] = (uint16_t)(PRW_BZ_BLOCK_MAGIC >> (32 - d));
        g_filter[g_word[d] >> 3] |= (uint8_t)(1u << (g_word[d] & 7));
    }
}

static bool check_at(const uint8_t *data, size_t size, size_t i, uint16_t v, uint64_t **cand,
                     size_t *n, size_t *cap) {
    for (int d = 7; d >= 0; d--) { /* larger d first: ascending bit offsets */
        if (g_word[d] != v || (uint64_t)d > 8 * (uint64_t)i)
            continue;
        uint64_t bit = 8 * (uint64_t)i - (uint64_t)d;
        if (bit + 48 > 8 * (uint64_t)size ||
            prw__bz_peek(data, size, bit, 48) != PRW_BZ_BLOCK_MAGIC)
            continue;
        if (prw__grow_array((void **)cand, cap, *n + 1, sizeof **cand, "bzip2 block list", NULL) <
            0)
            return false;
        (*cand)[(*n)++] = bit;
    }
    return true;
}

bool prw__bz_scan(const uint8_t *data, size_t size, size_t from, size_t to, uint64_t **cand,
                  size_t *n, size_t *cap) {
    pthread_once(&g_filter_once, filter_init);
    if (size < 2)
        return true;
    if (to > size - 1)
        to = size - 1; /* the 16-bit load at i needs data[i + 1] */
    for (size_t i = from; i < to; i++) {
        uint16_t v = (uint16_t)((data[i] << 8) | data[i + 1]);
        if (PRW_LIKELY(!(g_filter[v >> 3] & (1u << (v & 7)))))
            continue;
        if (!check_at(data, size, i, v, cand, n, cap))
            return false;
    }
    return true;
}
