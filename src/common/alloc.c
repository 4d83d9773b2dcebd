/*
 * The one allocation path of the library (STYLE.md §2.6): every internal allocation goes
 * through prw__malloc/realloc/free, which call the process-wide prw_allocator. Tests use
 * prw_alloc_fail_after to make the n-th allocation fail and walk every out-of-memory path.
 */
#define _GNU_SOURCE /* MADV_POPULATE_WRITE */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "common/common.h"

static void *libc_realloc(void *ctx, void *ptr, size_t size) {
    (void)ctx;
    return realloc(ptr, size);
}
static void libc_free(void *ctx, void *ptr) {
    (void)ctx;
    free(ptr);
}

static prw_allocator g_alloc = {libc_realloc, libc_free, NULL};
static _Atomic int64_t g_fail_at; /* absolute allocation number that fails first; 0 = off */
static _Atomic int64_t g_count;

void prw_set_allocator(const prw_allocator *alloc) {
    if (alloc && alloc->realloc && alloc->free)
        g_alloc = *alloc;
    else
        g_alloc = (prw_allocator){libc_realloc, libc_free, NULL};
}

void prw_alloc_fail_after(int64_t n) {
    atomic_store(&g_fail_at, n > 0 ? atomic_load(&g_count) + n : 0);
}

int64_t prw_alloc_count(void) {
    return atomic_load(&g_count);
}

static bool should_fail(void) {
    int64_t k = atomic_fetch_add(&g_count, 1) + 1;
    int64_t at = atomic_load_explicit(&g_fail_at, memory_order_relaxed);
    return at > 0 && k >= at;
}

void prw__alloc_bound_retention(uint64_t budget) {
#ifdef __GLIBC__
    /* Only for libc's allocator: a caller's own allocator keeps its own policy. */
    if (g_alloc.realloc != libc_realloc)
        return;
    /* glibc raises its mmap threshold (up to 32 MiB) each time a mapped block is freed, after
     * which big buffers come from the heaps and freed ones stay resident, fragmented: +10-15%
     * of RSS on a 256 MiB budget. A fixed threshold (which also stops the raising) keeps big
     * buffers mapped, so freeing one returns it to the system at once. */
    uint64_t t = budget / 256;
    t = t < (128u << 10) ? (128u << 10) : t > (32u << 20) ? (32u << 20) : t;
    mallopt(M_MMAP_THRESHOLD, (int)t);
    mallopt(M_TRIM_THRESHOLD, (int)(2 * t));
#else
    (void)budget;
#endif
}

void prw__prefault(void *p, size_t n) {
#ifdef MADV_POPULATE_WRITE
    long ps = sysconf(_SC_PAGESIZE);
    size_t page = ps > 0 ? (size_t)ps : 4096;
    uintptr_t a = ((uintptr_t)p + page - 1) & ~(uintptr_t)(page - 1);
    uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)(page - 1);
    if (e > a + 16 * page) /* a hint: kernels before 5.14 refuse it, and that is fine */
        (void)madvise((void *)a, e - a, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)n;
#endif
}

void *prw__realloc(void *ptr, size_t size) {
    if (should_fail())
        return NULL;
    return g_alloc.realloc(g_alloc.ctx, ptr, size ? size : 1);
}

void *prw__malloc(size_t size) {
    return prw__realloc(NULL, size);
}

void *prw__calloc(size_t n, size_t size) {
    size_t total;
    if (prw__mul_overflow(n, size, &total))
        return NULL;
    void *p = prw__malloc(total);
    if (p)
        memset(p, 0, total);
    return p;
}

void *prw__malloc_array(size_t n, size_t size) {
    size_t total;
    if (prw__mul_overflow(n, size, &total))
        return NULL;
    return prw__malloc(total);
}

prw_status prw__reserve_array(void **p, size_t *cap, size_t n, size_t size, const char *what,
                              prw_error *err) {
    if (n <= *cap)
        return PRW_OK;
    prw__free(*p);
    *p = prw__malloc_array(n, size);
    if (!*p) {
        *cap = 0;
        return prw__error_nomem(err, what, n * size);
    }
    *cap = n;
    return PRW_OK;
}

prw_status prw__grow_array(void **p, size_t *cap, size_t n, size_t size, const char *what,
                           prw_error *err) {
    if (n <= *cap)
        return PRW_OK;
    size_t c = *cap > SIZE_MAX / 2 ? n : *cap * 2;
    c = c < n ? n : c < 64 ? 64 : c;
    if (size && c > SIZE_MAX / size)
        return prw__error_nomem(err, what, SIZE_MAX);
    void *q = prw__realloc(*p, c * size);
    if (!q)
        return prw__error_nomem(err, what, c * size);
    *p = q;
    *cap = c;
    return PRW_OK;
}

prw_status prw__grow_capped(void **p, size_t *cap, size_t need, size_t most, const char *what,
                            prw_error *err) {
    if (need <= *cap)
        return PRW_OK;
    size_t c = *cap ? *cap : 65536;
    while (c < need && c < most)
        c *= 2;
    c = c < most ? c : most;
    void *q = prw__realloc(*p, c);
    if (!q)
        return prw__error_nomem(err, what, c);
    *p = q;
    *cap = c;
    return PRW_OK;
}

void prw__free(void *ptr) {
    if (ptr)
        g_alloc.free(g_alloc.ctx, ptr);
}

char *prw__strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = prw__malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}
