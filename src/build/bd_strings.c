/*
 * src_addr and dst_addr to ids: for a dictionary-encoded chunk each dictionary entry is hashed
 * once and rows map through the entry's id; a plain chunk interns row by row through the
 * decoder's cache. Either way the shared table's mutex is taken once per batch of distinct
 * strings. After the key pass of the memory-bounded mode, src_addr maps through the frozen
 * key map instead (one cache line per lookup, no lock).
 */
#include <string.h>

#include "build/bd_source.h"

static inline void inline_key(const uint8_t *p, size_t len, uint64_t key[INLINE_MAX / 8]) {
    size_t nw = len / 8;
    for (size_t i = 0; i < nw; i++)
        key[i] = prw__load_le64(p + 8 * i);
    if (len % 8)
        key[nw] = prw__pl_tail_word(p, len);
}

/* p[0, len) equals the inline key of a string of the same length. */
static inline bool inline_eq(const uint64_t *key, const uint8_t *p, size_t len) {
    size_t nw = len / 8;
    uint64_t diff = len % 8 ? key[nw] ^ prw__pl_tail_word(p, len) : 0;
    for (size_t i = 0; i < nw; i++)
        diff |= key[i] ^ prw__load_le64(p + 8 * i);
    return diff == 0;
}

/* Looks a string (hash h) up in a slot table (nslots a power of two, 0 = empty table) and
 * gives its value; false when absent. A string of up to INLINE_MAX bytes is compared with the
 * slot's copy; a longer one with the bytes at the slot's offset into `bytes`. */
static inline bool slot_find(const pl_slot *slots, size_t nslots, const uint8_t *bytes, uint64_t h,
                             const uint8_t *p, size_t len, uint32_t *val) {
    if (nslots == 0)
        return false;
    size_t mask = nslots - 1;
    for (size_t s = (size_t)h & mask;; s = (s + 1) & mask) {
        const pl_slot *e = &slots[s];
        if (e->len1 == 0)
            return false;
        if (e->hash != h || e->len1 != len + 1)
            continue;
        if (len <= INLINE_MAX ? inline_eq(e->key, p, len)
                              : memcmp(bytes + e->key[0], p, len) == 0) {
            *val = e->gid;
            return true;
        }
    }
}

/* A slot for the string p[0, len) with hash h, value gid, found at offset off of its table. */
static inline pl_slot make_slot(const uint8_t *p, size_t len, uint64_t h, uint32_t gid,
                                uint64_t off) {
    pl_slot e = {h, gid, (uint32_t)len + 1, {off}};
    if (len <= INLINE_MAX) {
        e.key[0] = 0;
        inline_key(p, len, e.key);
    }
    return e;
}

/* The first cache-line boundary in an allocation of n + 1 slots. */
static pl_slot *align_slots(void *mem) {
    return (pl_slot *)(((uintptr_t)mem + SLOT_ALIGN - 1) & ~(uintptr_t)(SLOT_ALIGN - 1));
}

static void fast_place(pl_slot *slots, size_t nslots, const pl_slot *e) {
    size_t mask = nslots - 1, s = (size_t)e->hash & mask;
    while (slots[s].len1)
        s = (s + 1) & mask;
    slots[s] = *e;
}

/* Room for `more` slots at load 1/2, grown in one step: every growth is a fresh zeroed table
 * (page faults) and a rehash of the old one. */
static prw_status fast_reserve(pl_cache *c, size_t more, prw_error *err) {
    if ((c->nfast_used + more) * 2 > c->nfast) {
        size_t n = c->nfast ? 2 * c->nfast : 1024;
        while ((c->nfast_used + more) * 2 > n)
            n *= 2;
        void *mem = prw__calloc(n + 1, sizeof(pl_slot));
        if (!mem)
            return prw__error_nomem(err, "a string cache", (n + 1) * sizeof(pl_slot));
        pl_slot *slots = align_slots(mem);
        for (size_t i = 0; i < c->nfast; i++)
            if (c->fast[i].len1)
                fast_place(slots, n, &c->fast[i]);
        prw__free(c->fast_mem);
        c->fast_mem = mem;
        c->fast = slots;
        c->nfast = n;
    }
    return PRW_OK;
}

/* Finds the id of one string (hash h) through the worker's cache: *id is the global id, or
 * a local id | LOCAL_BIT resolved after the batch. Unknown strings get a local id now and
 * are queued in d->miss for one locked pass over the shared table. */
static prw_status cache_lookup(prw__pl_decoder *d, pl_cache *c, const uint8_t *p, size_t len,
                               uint64_t h, uint32_t *id, size_t *nmiss, prw_error *err) {
    if (slot_find(c->fast, c->nfast, c->local.bytes.data, h, p, len, id))
        return PRW_OK;
    size_t before = c->local.n;
    uint32_t lid = 0;
    PRW_TRY(prw__intern_get(&c->local, p, len, h, &lid, err));
    PRW_CHECK(lid < LOCAL_BIT, err, PRW_E_LIMIT, -1, "more than 2^31 distinct strings in a column");
    *id = lid | LOCAL_BIT;
    if (c->local.n == before)
        return PRW_OK;
    if (c->local.n > c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 1024;
        uint32_t *g = prw__realloc(c->global, cap * sizeof *g);
        if (!g)
            return prw__error_nomem(err, "a string cache", cap * sizeof *g);
        c->global = g;
        c->cap = cap;
    }
    if (*nmiss == d->miss_cap) {
        size_t cap = d->miss_cap ? 2 * d->miss_cap : 1024;
        uint32_t *m = prw__realloc(d->miss, cap * sizeof *m);
        if (!m)
            return prw__error_nomem(err, "a string cache", cap * sizeof *m);
        d->miss = m;
        d->miss_cap = cap;
    }
    d->miss[(*nmiss)++] = lid;
    return PRW_OK;
}

/* Resolves the queued local ids in the shared table, under its lock once, then copies the
 * short ones into the inline table. */
static prw_status cache_resolve(prw__pl_decoder *d, pl_cache *c, prw__intern *tab, size_t nmiss,
                                prw_error *err) {
    if (nmiss == 0)
        return PRW_OK;
    prw_status st = PRW_OK;
    prw__mutex_lock(&tab->mu);
    for (size_t i = 0; i < nmiss && st == PRW_OK; i++) {
        uint32_t lid = d->miss[i];
        st = prw__intern_get(tab, prw__intern_ptr(&c->local, lid), prw__intern_len(&c->local, lid),
                             c->local.hashes[lid], &c->global[lid], err);
    }
    prw__mutex_unlock(&tab->mu);
    if (st == PRW_OK)
        st = fast_reserve(c, nmiss, err);
    for (size_t i = 0; i < nmiss && st == PRW_OK; i++) {
        uint32_t lid = d->miss[i];
        size_t len = prw__intern_len(&c->local, lid);
        if (c->global[lid] >= LOCAL_BIT)
            continue; /* a global id with the top bit set would read as a local one */
        pl_slot e = make_slot(prw__intern_ptr(&c->local, lid), len, c->local.hashes[lid],
                              c->global[lid], c->local.offs[lid]);
        fast_place(c->fast, c->nfast, &e);
        c->nfast_used++;
    }
    return st;
}

static inline uint32_t cache_final(const pl_cache *c, uint32_t id) {
    return id & LOCAL_BIT ? c->global[id & ~LOCAL_BIT] : id;
}

prw_status prw__pl_keymap_build(prw__pl_keymap **out, const prw__intern *t, const uint32_t *val,
                                prw_error *err) {
    *out = NULL;
    size_t n = 1024;
    while (n < 2 * t->n)
        n *= 2;
    prw__pl_keymap *m = prw__calloc(1, sizeof *m);
    void *mem = m ? prw__calloc(n + 1, sizeof(pl_slot)) : NULL;
    if (!mem) {
        prw__free(m);
        return prw__error_nomem(err, "the key map", (n + 1) * sizeof(pl_slot));
    }
    m->mem = mem;
    m->slots = align_slots(mem);
    m->nslots = n;
    m->tab = t;
    for (uint32_t id = 0; id < t->n; id++) {
        size_t len = prw__intern_len(t, id);
        pl_slot e = make_slot(prw__intern_ptr(t, id), len, t->hashes[id], val[id], t->offs[id]);
        fast_place(m->slots, n, &e);
    }
    *out = m;
    return PRW_OK;
}

size_t prw__pl_keymap_bytes(size_t nstrings) {
    size_t n = 1024;
    while (n < 2 * nstrings)
        n *= 2;
    return (n + 1) * sizeof(pl_slot);
}

void prw__pl_keymap_destroy(prw__pl_keymap *m) {
    if (!m)
        return;
    prw__free(m->mem);
    prw__free(m);
}

/* The value of a string in the map; false when absent. */
static inline bool keymap_find(const prw__pl_keymap *m, const uint8_t *p, size_t len, uint64_t h,
                               uint32_t *val) {
    return slot_find(m->slots, m->nslots, m->tab->bytes.data, h, p, len, val);
}

size_t prw__pl_decoder_cache_bytes(const prw__pl_decoder *d, int which) {
    const pl_cache *c = &d->cache[which];
    if (!c->init)
        return 0;
    const prw__intern *t = &c->local;
    return t->bytes.len + t->n * 16 + t->nslots * 4 + c->cap * 4 + (c->nfast + 1) * sizeof(pl_slot);
}

void prw__pl_decoder_set_keyids(prw__pl_decoder *d, const prw__pl_keyids *k) {
    d->keyids = k;
}

void prw__pl_decoder_set_keymap(prw__pl_decoder *d, const prw__pl_keymap *m) {
    d->keymap = m;
    pl_cache *c = &d->cache[0];
    if (c->init)
        prw__intern_cleanup(&c->local);
    prw__free(c->global);
    prw__free(c->fast_mem);
    memset(c, 0, sizeof *c);
}

/* Hashes strings [r0, r0 + k) of (bytes, offs) into h and prefetches their slots, so that a
 * batch's cache misses on the table overlap instead of stalling one string at a time. */
static inline void hash_batch(const uint8_t *bytes, const int64_t *offs, int64_t r0, int64_t k,
                              const pl_slot *slots, size_t nslots, uint64_t *h) {
    for (int64_t i = 0; i < k; i++) {
        int64_t r = r0 + i;
        h[i] = prw__pl_hash(bytes + offs[r], (size_t)(offs[r + 1] - offs[r]));
        if (nslots) {
            /* and the next slot: at load 1/2 a third of the hits are one slot further */
            __builtin_prefetch(&slots[h[i] & (nslots - 1)]);
            __builtin_prefetch(&slots[(h[i] + 1) & (nslots - 1)]);
        }
    }
}

/* A string column's rows, or a dictionary's entries (no levels), and where their ids go. */
typedef struct pl_strings {
    const uint8_t *bytes;
    const int64_t *offs;
    int64_t n;
    const prw_pq_column_data *rows; /* NULL rows by its levels; NULL for dictionary entries */
    uint32_t *ids;
} pl_strings;

/*
 * ids[r] for strings [0, n), looked up in batches (hash_batch). With a key map m: the frozen
 * ranks, where a row's string must be in the map and a dictionary entry no row uses may be new
 * (PRW_PL_NULL_ID). Otherwise through the worker's cache c: global ids, or local ones until
 * cache_resolve (*nmiss counts them). NULL rows get PRW_PL_NULL_ID.
 */
static prw_status lookup_strings(prw__pl_decoder *d, pl_cache *c, const prw__pl_keymap *m,
                                 const pl_strings *in, size_t *nmiss, prw_error *err) {
    uint64_t h[PREFETCH_BATCH];
    for (int64_t r0 = 0; r0 < in->n; r0 += PREFETCH_BATCH) {
        int64_t k = in->n - r0 < PREFETCH_BATCH ? in->n - r0 : PREFETCH_BATCH;
        hash_batch(in->bytes, in->offs, r0, k, m ? m->slots : c->fast, m ? m->nslots : c->nfast, h);
        for (int64_t i = 0; i < k; i++) {
            int64_t r = r0 + i;
            uint32_t *id = &in->ids[r];
            if (in->rows && !present(in->rows, (size_t)r)) {
                *id = PRW_PL_NULL_ID;
                continue;
            }
            const uint8_t *p = in->bytes + in->offs[r];
            size_t len = (size_t)(in->offs[r + 1] - in->offs[r]);
            if (!m) {
                PRW_TRY(cache_lookup(d, c, p, len, h[i], id, nmiss, err));
            } else if (!keymap_find(m, p, len, h[i], id)) {
                PRW_CHECK(!in->rows, err, PRW_E_CORRUPT, -1,
                          "src_addr of row %lld was not seen by the key pass (input changed?)",
                          (long long)r);
                *id = PRW_PL_NULL_ID;
            }
        }
    }
    return PRW_OK;
}

/* src_addr through the frozen key map: every string must have been seen by the key pass. */
prw_status prw__pl_map_column(prw__pl_decoder *d, const prw_pq_column_data *cd, uint32_t *ids,
                              prw_error *err) {
    const prw__pl_keymap *m = d->keymap;
    int64_t n = cd->num_rows;
    if (!cd->dict_encoded)
        return lookup_strings(d, NULL, m, &(pl_strings){cd->bytes, cd->offsets, n, cd, ids}, NULL,
                              err);
    size_t nd = (size_t)cd->dict_count;
    PRW_TRY(prw__reserve_array((void **)&d->map, &d->map_cap, nd ? nd : 1, sizeof *d->map,
                               "decode buffers", err));
    PRW_TRY(lookup_strings(
        d, NULL, m, &(pl_strings){cd->dict_bytes, cd->dict_offsets, (int64_t)nd, NULL, d->map},
        NULL, err));
    for (int64_t r = 0; r < n; r++) {
        ids[r] = present(cd, (size_t)r) ? d->map[cd->indices[r]] : PRW_PL_NULL_ID;
        PRW_CHECK(!present(cd, (size_t)r) || ids[r] != PRW_PL_NULL_ID, err, PRW_E_CORRUPT, -1,
                  "src_addr of row %lld was not seen by the key pass (input changed?)",
                  (long long)r);
    }
    return PRW_OK;
}

/* Interns the strings of a decoded BYTE_ARRAY column: ids[r] per row (PRW_PL_NULL_ID for
 * NULL). Dictionary chunks look each entry up once; plain chunks look up every row. */
prw_status prw__pl_intern_column(prw__pl_decoder *d, int which, const prw_pq_column_data *cd,
                                 prw__intern *tab, uint32_t *ids, prw_error *err) {
    pl_cache *c = &d->cache[which];
    if (!c->init) {
        PRW_TRY(prw__intern_init(&c->local, err));
        c->init = true;
    }
    int64_t n = cd->num_rows;
    size_t nmiss = 0;
    if (cd->dict_encoded) {
        size_t nd = (size_t)cd->dict_count;
        PRW_TRY(prw__reserve_array((void **)&d->map, &d->map_cap, nd ? nd : 1, sizeof *d->map,
                                   "decode buffers", err));
        PRW_TRY(lookup_strings(
            d, c, NULL, &(pl_strings){cd->dict_bytes, cd->dict_offsets, (int64_t)nd, NULL, d->map},
            &nmiss, err));
        PRW_TRY(cache_resolve(d, c, tab, nmiss, err));
        for (size_t i = 0; i < nd; i++)
            d->map[i] = cache_final(c, d->map[i]);
        for (int64_t r = 0; r < n; r++)
            ids[r] = present(cd, (size_t)r) ? d->map[cd->indices[r]] : PRW_PL_NULL_ID;
        return PRW_OK;
    }
    PRW_TRY(
        lookup_strings(d, c, NULL, &(pl_strings){cd->bytes, cd->offsets, n, cd, ids}, &nmiss, err));
    PRW_TRY(cache_resolve(d, c, tab, nmiss, err));
    for (int64_t r = 0; r < n; r++)
        if (ids[r] != PRW_PL_NULL_ID)
            ids[r] = cache_final(c, ids[r]);
    return PRW_OK;
}
