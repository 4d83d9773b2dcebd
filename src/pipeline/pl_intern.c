/*
 * String interning: each distinct byte string gets a dense 32-bit id, its bytes stored once.
 * Used for src_addr (probe keys) and dst_addr (targets), so rows are fixed-size records and
 * every distinct string is hashed and compared a handful of times, not once per row: decoders
 * intern a row group's dictionary (or its distinct values) and map rows through it.
 * Open addressing with linear probing over a power-of-two slot array, load ≤ 1/2.
 * Not thread-safe by itself; the pipeline serialises access with `mu` per batch.
 */
#include "pipeline/pl_internal.h"

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
