/*
 * The reference for our bzip2 decoder: libbz2 itself, over one stream or several concatenated
 * ones and nothing after them (the semantics of prw__bz_reader). Shared by the bz_decode fuzz
 * target and tests/unit/test_bzip2.c.
 */
#ifndef PRW_FUZZ_BZ_REF_H
#define PRW_FUZZ_BZ_REF_H

#include <bzlib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/**
 * Decodes data[0..size) with libbz2 into a malloc'd *out of *len bytes (free() it; NULL when
 * empty). Returns 0 on success, -1 when libbz2 rejects the data (or it is empty, or bytes
 * follow the last stream), 1 when the output would exceed `cap` bytes (nothing returned).
 */
int prw_fuzz_bz_ref(const uint8_t *data, size_t size, size_t cap, uint8_t **out, size_t *len);

/** Decodes with prw__bz_reader on `threads` threads; the same return values as the above. */
int prw_fuzz_bz_ours(const uint8_t *data, size_t size, int threads, size_t max_buffered, size_t cap,
                     uint8_t **out, size_t *len);

/*
 * A cache of the blocks libbz2 allocates (its ~64 KB state and its block array of up to
 * 3.6 MB for a level-9 stream), for a fuzz target that runs libbz2 once per input: under ASan
 * a fresh block of megabytes is a fresh mapping whose shadow is written when it is freed, and
 * that was about a third of the CPU of the bz_decode and at_reader targets. Set a stream's
 * bzalloc and bzfree to these and its opaque to a zeroed cache; blocks go back to the cache
 * and are handed out again (the smallest that fits), never returned to the system. Not
 * thread-safe: one cache per thread.
 */
#define PRW_FUZZ_BZ_CACHE_SLOTS 4

typedef struct prw_fuzz_bz_cache {
    void *block[PRW_FUZZ_BZ_CACHE_SLOTS]; /* each begins with its size; NULL: empty slot */
} prw_fuzz_bz_cache;

#define PRW_FUZZ_BZ_CACHE_HEAD 16 /* the size before a block, keeping it 16-byte aligned */

static inline size_t prw_fuzz_bz_cache_size(const void *block) {
    return *(const size_t *)block;
}

static inline void *prw_fuzz_bz_cache_alloc(void *opaque, int items, int size) {
    prw_fuzz_bz_cache *c = opaque;
    if (items < 0 || size < 0)
        return NULL;
    size_t need = (size_t)items * (size_t)size;
    int best = -1;
    for (int i = 0; i < PRW_FUZZ_BZ_CACHE_SLOTS; i++)
        if (c->block[i] && prw_fuzz_bz_cache_size(c->block[i]) >= need &&
            (best < 0 ||
             prw_fuzz_bz_cache_size(c->block[i]) < prw_fuzz_bz_cache_size(c->block[best])))
            best = i;
    void *b;
    if (best >= 0) {
        b = c->block[best];
        c->block[best] = NULL;
    } else {
        b = malloc(PRW_FUZZ_BZ_CACHE_HEAD + need);
        if (!b)
            return NULL;
        *(size_t *)b = need;
    }
    return (char *)b + PRW_FUZZ_BZ_CACHE_HEAD;
}

/* Keeps the block in an empty slot, else in place of the smallest cached one if that is
 * smaller; frees what is left over. */
static inline void prw_fuzz_bz_cache_free(void *opaque, void *p) {
    prw_fuzz_bz_cache *c = opaque;
    if (!p)
        return;
    void *b = (char *)p - PRW_FUZZ_BZ_CACHE_HEAD;
    int low = 0;
    for (int i = 0; i < PRW_FUZZ_BZ_CACHE_SLOTS; i++) {
        if (!c->block[i]) {
            c->block[i] = b;
            return;
        }
        if (prw_fuzz_bz_cache_size(c->block[i]) < prw_fuzz_bz_cache_size(c->block[low]))
            low = i;
    }
    if (prw_fuzz_bz_cache_size(c->block[low]) < prw_fuzz_bz_cache_size(b)) {
        void *t = c->block[low];
        c->block[low] = b;
        b = t;
    }
    free(b);
}

/** Makes s (zeroed by the caller) allocate through cache c. */
static inline void prw_fuzz_bz_cache_use(bz_stream *s, prw_fuzz_bz_cache *c) {
    s->bzalloc = prw_fuzz_bz_cache_alloc;
    s->bzfree = prw_fuzz_bz_cache_free;
    s->opaque = c;
}

#endif
