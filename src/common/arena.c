/*
 * Bump allocator for per-page / per-batch data. Blocks are chained; reset keeps the newest
 * block (usually the largest) and frees the rest. Under ASan the unused tail of each block is
 * poisoned so overruns inside the arena are still reported.
 */
#include "common/common.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

struct prw__arena_block {
    prw__arena_block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    uint8_t data[];
};

void prw__arena_init(prw__arena *a, size_t block_size) {
    a->head = NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
    a->used_total = 0;
}

/* Carves n bytes aligned to `align` out of b, or returns NULL when b has no room. */
static void *carve(prw__arena_block *b, size_t n, size_t align) {
    uintptr_t base = (uintptr_t)b->data;
    uintptr_t at = (base + b->used + align - 1) & ~(uintptr_t)(align - 1);
    size_t start = (size_t)(at - base);
    if (start > b->size || n > b->size - start)
        return NULL;
    b->used = start + n;
    UNPOISON(b->data + start, n);
    return b->data + start;
}

void *prw__arena_alloc(prw__arena *a, size_t n, size_t align) {
    void *p = a->head ? carve(a->head, n, align) : NULL;
    if (!p) {
        size_t size = a->block_size, need;
        if (prw__add_overflow(n, align, &need))
            return NULL;
        if (need > size)
            size = need;
        size_t total;
        if (prw__add_overflow(size, sizeof(prw__arena_block), &total))
            return NULL;
        prw__arena_block *b = prw__malloc(total);
        if (!b)
            return NULL;
        b->next = a->head;
        b->size = size;
        b->used = 0;
        POISON(b->data, size);
        a->head = b;
        p = carve(b, n, align);
    }
    a->used_total += n;
    return p;
}

void prw__arena_reset(prw__arena *a) {
    prw__arena_block *b = a->head;
    if (!b)
        return;
    prw__arena_block *rest = b->next;
    while (rest) {
        prw__arena_block *next = rest->next;
        UNPOISON(rest->data, rest->size);
        prw__free(rest);
        rest = next;
    }
    b->next = NULL;
    b->used = 0;
    POISON(b->data, b->size);
    a->used_total = 0;
}

void prw__arena_cleanup(prw__arena *a) {
    prw__arena_block *b = a->head;
    while (b) {
        prw__arena_block *next = b->next;
        UNPOISON(b->data, b->size);
        prw__free(b);
        b = next;
    }
    a->head = NULL;
    a->used_total = 0;
}
