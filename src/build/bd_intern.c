/*
 * String interning: each distinct byte string gets a dense 32-bit id, its bytes stored once.
 * Used for src_addr (probe keys) and dst_addr (targets), so rows are fixed-size records and
 * every distinct string is hashed and compared a handful of times, not once per row: decoders
 * intern a row group's dictionary (or its distinct values) and map rows through it.
 * Open addressing with linear probing over a power-of-two slot array, load ≤ 1/2.
 * Not thread-safe by itself; the pipeline serialises access with `mu` per batch.
 */
#include <stdlib.h>

#include "build/bd_internal.h"

prw_status prw__intern_init(prw__intern *t, prw_error *err) {
    memset(t, 0, sizeof *t);
    prw__buf_init(&t->bytes);
    t->nslots = 1024;
    t->slots = prw__calloc(t->nslots, sizeof *t->slots);
    t->ncap = 512;
    t->offs = prw__malloc_array(t->ncap + 1, sizeof *t->offs);
    t->hashes = prw__malloc_array(t->ncap, sizeof *t->hashes);
    /* The bytes buffer exists from the start, so an empty first string's pointer is not
     * NULL + 0 (undefined behaviour, found by fuzz_pl_run). */
    if (!t->slots || !t->offs || !t->hashes || prw__buf_reserve(&t->bytes, 256, NULL) != PRW_OK) {
        prw__intern_cleanup(t);
        return prw__error_nomem(err, "a string table", 1024 * 8);
    }
    t->offs[0] = 0;
    prw__mutex_init(&t->mu);
    t->mu_init = true;
    return PRW_OK;
}

void prw__intern_cleanup(prw__intern *t) {
    prw__buf_cleanup(&t->bytes);
    prw__free(t->slots);
    prw__free(t->offs);
    prw__free(t->hashes);
    if (t->mu_init)
        prw__mutex_destroy(&t->mu);
    memset(t, 0, sizeof *t);
}

static prw_status grow_slots(prw__intern *t, prw_error *err) {
    size_t nslots = t->nslots * 2;
    uint32_t *slots = prw__calloc(nslots, sizeof *slots);
    if (!slots)
        return prw__error_nomem(err, "a string table", nslots * sizeof *slots);
    size_t mask = nslots - 1;
    for (uint32_t id = 0; id < t->n; id++) {
        size_t s = (size_t)t->hashes[id] & mask;
        while (slots[s])
            s = (s + 1) & mask;
        slots[s] = id + 1;
    }
    prw__free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    return PRW_OK;
}

prw_status prw__intern_get(prw__intern *t, const uint8_t *data, size_t len, uint64_t hash,
                           uint32_t *id, prw_error *err) {
    size_t mask = t->nslots - 1;
    size_t s = (size_t)hash & mask;
    for (;;) {
        uint32_t v = t->slots[s];
        if (!v)
            break;
        uint32_t k = v - 1;
        if (t->hashes[k] == hash && t->offs[k + 1] - t->offs[k] == len &&
            memcmp(t->bytes.data + t->offs[k], data, len) == 0) {
            *id = k;
            return PRW_OK;
        }
        s = (s + 1) & mask;
    }
    PRW_CHECK(t->n < UINT32_MAX - 1, err, PRW_E_LIMIT, -1, "more than 4 billion distinct strings");
    if (t->n == t->ncap) {
        size_t ncap = t->ncap * 2;
        uint64_t *offs = prw__realloc(t->offs, (ncap + 1) * sizeof *offs);
        if (!offs)
            return prw__error_nomem(err, "a string table", ncap * 8);
        t->offs = offs;
        uint64_t *hashes = prw__realloc(t->hashes, ncap * sizeof *hashes);
        if (!hashes)
            return prw__error_nomem(err, "a string table", ncap * 8);
        t->hashes = hashes;
        t->ncap = ncap;
    }
    PRW_TRY(prw__buf_append(&t->bytes, data, len, err));
    uint32_t k = (uint32_t)t->n++;
    t->offs[k + 1] = t->bytes.len;
    t->hashes[k] = hash;
    t->slots[s] = k + 1;
    if (t->n * 2 > t->nslots)
        PRW_TRY(grow_slots(t, err));
    *id = k;
    return PRW_OK;
}

/* ---- byte order ------------------------------------------------------------------------- */

/* A string in the sort: its 8 bytes from the current depth, big-endian, zeros past its end
 * (so comparing words compares those bytes), and its id. */
typedef struct sort_item {
    uint64_t w;
    uint32_t id;
} sort_item;

/* Below this many items a run is sorted by insertion; above, by radix. */
#define SORT_SMALL 48
/* Deeper than this the rest of a run is compared whole (bounds the recursion). */
#define SORT_MAX_DEPTH 64

static uint64_t word_at(const prw__intern *t, uint32_t id, size_t depth) {
    size_t len = prw__intern_len(t, id);
    const uint8_t *p = prw__intern_ptr(t, id) + depth;
    if (len >= depth + 8)
        return prw__load_be64(p);
    return len > depth ? __builtin_bswap64(prw__pl_tail_word(p, len - depth)) : 0;
}

/* Stable LSD radix sort of v[0, n) by w, a byte at a time; tmp holds n items. Bytes where
 * every item falls in one bucket are skipped. */
static void radix_words(sort_item *v, sort_item *tmp, size_t n) {
    size_t cnt[8][256];
    memset(cnt, 0, sizeof cnt);
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 8; b++)
            cnt[b][(v[i].w >> (8 * b)) & 0xff]++;
    sort_item *src = v, *dst = tmp;
    for (int b = 0; b < 8; b++) {
        size_t *c = cnt[b], sum = 0;
        if (c[(src[0].w >> (8 * b)) & 0xff] == n)
            continue;
        for (int k = 0; k < 256; k++) {
            size_t x = c[k];
            c[k] = sum;
            sum += x;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[(src[i].w >> (8 * b)) & 0xff]++] = src[i];
        sort_item *s = src;
        src = dst;
        dst = s;
    }
    if (src != v)
        memcpy(v, src, n * sizeof *v);
}

static void insertion_words(sort_item *v, size_t n) {
    for (size_t i = 1; i < n; i++) {
        sort_item x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1].w > x.w; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

typedef struct whole_key {
    const uint8_t *p;
    size_t len;
    uint32_t id;
} whole_key;

static int cmp_whole(const void *a, const void *b) {
    const whole_key *x = a, *y = b;
    int c = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* v[0, n): strings whose bytes before `depth` are equal, sorted by the rest. */
static prw_status sort_run(const prw__intern *t, sort_item *v, sort_item *tmp, size_t n,
                           size_t depth, prw_error *err) {
    if (depth >= SORT_MAX_DEPTH) {
        whole_key *k = prw__malloc_array(n, sizeof *k);
        if (!k)
            return prw__error_nomem(err, "a string sort", n * sizeof *k);
        for (size_t i = 0; i < n; i++)
            k[i] = (whole_key){prw__intern_ptr(t, v[i].id), prw__intern_len(t, v[i].id), v[i].id};
        qsort(k, n, sizeof *k, cmp_whole);
        for (size_t i = 0; i < n; i++)
            v[i].id = k[i].id;
        prw__free(k);
        return PRW_OK;
    }
    for (size_t i = 0; i < n; i++)
        v[i].w = word_at(t, v[i].id, depth);
    if (n < SORT_SMALL)
        insertion_words(v, n);
    else
        radix_words(v, tmp, n);
    for (size_t a = 0, e; a < n; a = e) {
        for (e = a + 1; e < n && v[e].w == v[a].w;)
            e++;
        if (e - a < 2)
            continue;
        /* Equal words: a string ending inside this one is a proper prefix of every longer
         * string here, so the ended ones come first, shortest first (no two have the same
         * length: they would be equal), and the longer ones are ordered by what follows. */
        size_t k = a;
        for (size_t i = a; i < e; i++)
            if (prw__intern_len(t, v[i].id) <= depth + 8) {
                sort_item x = v[i];
                v[i] = v[k];
                v[k++] = x;
            }
        for (size_t i = a + 1; i < k; i++) {
            sort_item x = v[i];
            size_t j = i;
            for (; j > a && prw__intern_len(t, v[j - 1].id) > prw__intern_len(t, x.id); j--)
                v[j] = v[j - 1];
            v[j] = x;
        }
        if (e - k > 1)
            PRW_TRY(sort_run(t, v + k, tmp + k, e - k, depth + 8, err));
    }
    return PRW_OK;
}

prw_status prw__intern_sort(const prw__intern *t, uint32_t *order, prw_error *err) {
    size_t n = t->n;
    if (n == 0)
        return PRW_OK;
    sort_item *v = prw__malloc_array(2 * n, sizeof *v);
    if (!v)
        return prw__error_nomem(err, "a string sort", 2 * n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i].id = (uint32_t)i;
    prw_status st = sort_run(t, v, v + n, n, 0, err);
    for (size_t i = 0; i < n && st == PRW_OK; i++)
        order[i] = v[i].id;
    prw__free(v);
    return st;
}
