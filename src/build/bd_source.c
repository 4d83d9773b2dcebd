/*
 * The pipeline's Parquet side: open every input, resolve and type-check the five columns
 * (CONTRACT.md §1), and decode one row group at a time into fixed-size rows.
 *
 * src_addr and dst_addr are interned: for a dictionary-encoded chunk each dictionary entry is
 * hashed once and rows map through the entry's id; a plain chunk interns row by row. Either
 * way the shared table's mutex is taken once per row group and column.
 */
#include <stdio.h>
#include <sys/stat.h>

#include "build/bd_internal.h"
#include "proberows/parquet.h"

static const char *const g_logical[PRW_COL_COUNT] = {"event_time", "src_addr", "dst_addr",
                                                     "ip_version", "rtt"};

typedef struct pl_file {
    prw_pq_file *pq;
    int col[PRW_COL_COUNT];
    const prw_pq_column_info *info[PRW_COL_COUNT];
    int64_t bytes;
} pl_file;

typedef struct pl_rg {
    uint32_t file;
    int rg;
    int64_t rows;
} pl_rg;

struct prw__pl_source {
    pl_file *files;
    size_t nfiles;
    pl_rg *rgs;
    size_t nrgs;
};

/* A string's entry in an inline table (a worker's cache, the key map): one 64-byte slot, one
 * cache line, holds the hash, the global id and, for a string of up to INLINE_MAX bytes, the
 * bytes, so a hit costs one cache line, not the four dependent loads of the intern table (slot,
 * hash, offsets, bytes). Every IPv4 and IPv6 address fits; a longer string keeps the offset of
 * its bytes in the table it came from (a second load). */
#define INLINE_MAX 48
/* Rows hashed (and their slots prefetched) ahead of the lookups. */
#define PREFETCH_BATCH 32
typedef struct pl_slot {
    uint64_t hash;
    uint32_t gid;
    uint32_t len1; /* length + 1; 0 = empty */
    /* len <= INLINE_MAX: the bytes as little-endian words, the tail word as prw__pl_tail_word
     * reads it, zeros after; longer: key[0] is the offset of the bytes */
    uint64_t key[INLINE_MAX / 8];
} pl_slot;
#define SLOT_ALIGN 64

/* A worker's private view of a shared string table: local id -> global id. Row groups mostly
 * repeat the same strings, so after the first few every lookup is a hit without the lock.
 * Resolved strings are found through `fast` (a copy of their local entries, with global
 * ids); new ones get a local id in `local` and are resolved after the batch. */
typedef struct pl_cache {
    prw__intern local;
    uint32_t *global; /* by local id */
    size_t cap;
    bool init;
    void *fast_mem; /* allocation behind fast (aligned to 32 bytes) */
    pl_slot *fast;  /* open addressing, linear probing, load <= 1/2 */
    size_t nfast, nfast_used;
} pl_cache;

/* Ids written before the batch's new strings are resolved: local ids, marked by this bit. */
#define LOCAL_BIT 0x80000000u

struct prw__pl_decoder {
    prw__pl_source *src;
    prw_pq_decoder *pq;
    prw_pq_column_data cd[PRW_COL_COUNT];
    int64_t *times;
    size_t times_cap;
    uint32_t *map;
    size_t map_cap;
    uint32_t *miss; /* local ids not yet resolved in the shared table */
    size_t miss_cap;
    uint64_t *key_rows; /* key pass: rows per src id, this decoder's row groups only (zeroed) */
    size_t key_rows_cap;
    pl_cache cache[2];            /* src_addr, dst_addr */
    const prw__pl_keymap *keymap; /* when set: src_addr strings map through it, read-only */
};

/* A frozen string table's inline index: strings of up to INLINE_MAX bytes in the slot, longer
 * ones by offset. */
struct prw__pl_keymap {
    void *mem;
    pl_slot *slots;
    size_t nslots;
    const prw__intern *tab;
};

/* ---- opening and checking ------------------------------------------------------------------ */

static bool is_int(const prw_pq_column_info *c) {
    return (c->physical == PRW_PQ_INT32 || c->physical == PRW_PQ_INT64) &&
           (c->logical == PRW_PQ_LOGICAL_NONE || c->logical == PRW_PQ_LOGICAL_INT);
}

static prw_status check_column(const char *path, int logical, const char *name,
                               const prw_pq_column_info *c, prw_error *err) {
    bool ok = false;
    const char *want = "";
    switch (logical) {
    case PRW_COL_EVENT_TIME:
        ok = (c->physical == PRW_PQ_INT64 && c->logical == PRW_PQ_LOGICAL_TIMESTAMP) ||
             c->physical == PRW_PQ_INT96;
        want = "an INT64 TIMESTAMP (millis, micros or nanos) or INT96";
        break;
    case PRW_COL_SRC_ADDR:
    case PRW_COL_DST_ADDR:
        ok = c->physical == PRW_PQ_BYTE_ARRAY &&
             (c->logical == PRW_PQ_LOGICAL_NONE || c->logical == PRW_PQ_LOGICAL_STRING);
        want = "a BYTE_ARRAY string";
        break;
    case PRW_COL_IP_VERSION:
        ok = is_int(c);
        want = "an INT32 or INT64 integer";
        break;
    case PRW_COL_RTT:
        ok = c->physical == PRW_PQ_FLOAT || c->physical == PRW_PQ_DOUBLE || is_int(c);
        want = "a FLOAT, DOUBLE or integer";
        break;
    default:
        break;
    }
    if (!c->supported)
        return prw__error_set(err, PRW_E_UNSUPPORTED, -1,
                              "%s: column '%s' (for %s) is nested or repeated; only flat "
                              "columns are supported",
                              path, name, g_logical[logical]);
    if (!ok) {
        char logical_text[64];
        prw_pq_logical_text(c, logical_text, sizeof logical_text);
        return prw__error_set(
            err, PRW_E_UNSUPPORTED, -1, "%s: column '%s' has type %s %s; %s must be %s", path, name,
            prw_pq_physical_name(c->physical), logical_text, g_logical[logical], want);
    }
    return PRW_OK;
}

static prw_status open_file(pl_file *f, const char *path, const prw_build_options *o,
                            bool use_pread, prw_error *err) {
    prw_pq_open_opts po = {0};
    po.use_pread = use_pread;
    PRW_TRY(prw_pq_open(&f->pq, path, &po, err));
    struct stat st;
    f->bytes = stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
    for (int c = 0; c < PRW_COL_COUNT; c++) {
        const char *name = o->columns[c] ? o->columns[c] : g_logical[c];
        f->col[c] = prw_pq_find_column(f->pq, name);
        PRW_CHECK(f->col[c] >= 0, err, PRW_E_UNSUPPORTED, -1, "%s: column '%s' not found%s", path,
                  name, o->columns[c] ? "" : " (use --column to read it from another column)");
        f->info[c] = prw_pq_column(f->pq, f->col[c]);
        PRW_TRY(check_column(path, c, name, f->info[c], err));
    }
    return PRW_OK;
}

prw_status prw__pl_source_open(prw__pl_source **out, char *const *paths, size_t npaths,
                               const prw_build_options *opts, bool use_pread, prw_error *err) {
    *out = NULL;
    prw__pl_source *s = prw__calloc(1, sizeof *s);
    if (!s)
        return prw__error_nomem(err, "input list", sizeof *s);
    s->files = prw__calloc(npaths ? npaths : 1, sizeof *s->files);
    if (!s->files) {
        prw__free(s);
        return prw__error_nomem(err, "input list", npaths * sizeof *s->files);
    }
    prw_status st = PRW_OK;
    size_t nrgs = 0;
    for (size_t i = 0; i < npaths && st == PRW_OK; i++) {
        st = open_file(&s->files[i], paths[i], opts, use_pread, err);
        s->nfiles = i + 1;
        if (st == PRW_OK)
            nrgs += (size_t)prw_pq_num_row_groups(s->files[i].pq);
    }
    if (st == PRW_OK) {
        s->rgs = prw__calloc(nrgs ? nrgs : 1, sizeof *s->rgs);
        if (!s->rgs)
            st = prw__error_nomem(err, "row group list", nrgs * sizeof *s->rgs);
    }
    for (size_t i = 0; i < s->nfiles && st == PRW_OK; i++) {
        int n = prw_pq_num_row_groups(s->files[i].pq);
        for (int g = 0; g < n; g++)
            s->rgs[s->nrgs++] = (pl_rg){(uint32_t)i, g, prw_pq_row_group_rows(s->files[i].pq, g)};
    }
    if (st < 0) {
        prw__pl_source_close(s);
        return st;
    }
    *out = s;
    return PRW_OK;
}

void prw__pl_source_close(prw__pl_source *s) {
    if (!s)
        return;
    for (size_t i = 0; i < s->nfiles; i++)
        prw_pq_close(s->files[i].pq);
    prw__free(s->files);
    prw__free(s->rgs);
    prw__free(s);
}

size_t prw__pl_source_files(const prw__pl_source *s) {
    return s->nfiles;
}
const char *prw__pl_source_path(const prw__pl_source *s, size_t file) {
    return prw_pq_path(s->files[file].pq);
}
int64_t prw__pl_source_file_rows(const prw__pl_source *s, size_t file) {
    return prw_pq_num_rows(s->files[file].pq);
}
int64_t prw__pl_source_file_bytes(const prw__pl_source *s, size_t file) {
    return s->files[file].bytes;
}
size_t prw__pl_source_row_groups(const prw__pl_source *s) {
    return s->nrgs;
}
int64_t prw__pl_source_rg_rows(const prw__pl_source *s, size_t rg) {
    return s->rgs[rg].rows;
}

/* A column's row r is present (decoders may omit the validity bytes of a column with no NULL). */
static inline bool present(const prw_pq_column_data *cd, size_t r) {
    return !cd->valid || cd->valid[r];
}

/* ---- decoding -------------------------------------------------------------------------------- */

prw_status prw__pl_decoder_create(prw__pl_source *s, prw__pl_decoder **out, prw_error *err) {
    prw__pl_decoder *d = prw__calloc(1, sizeof *d);
    if (!d)
        return prw__error_nomem(err, "a decoder", sizeof *d);
    d->src = s;
    for (int c = 0; c < PRW_COL_COUNT; c++)
        prw_pq_column_data_init(&d->cd[c]);
    prw_status st = prw_pq_decoder_create(&d->pq, err);
    if (st < 0) {
        prw__free(d);
        return st;
    }
    *out = d;
    return PRW_OK;
}

void prw__pl_decoder_destroy(prw__pl_decoder *d) {
    if (!d)
        return;
    for (int c = 0; c < PRW_COL_COUNT; c++)
        prw_pq_column_data_cleanup(&d->cd[c]);
    prw_pq_decoder_destroy(d->pq);
    prw__free(d->times);
    prw__free(d->map);
    prw__free(d->miss);
    prw__free(d->key_rows);
    for (int i = 0; i < 2; i++) {
        if (d->cache[i].init)
            prw__intern_cleanup(&d->cache[i].local);
        prw__free(d->cache[i].global);
        prw__free(d->cache[i].fast_mem);
    }
    prw__free(d);
}

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
static prw_status map_column(prw__pl_decoder *d, const prw_pq_column_data *cd, uint32_t *ids,
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
static prw_status intern_column(prw__pl_decoder *d, int which, const prw_pq_column_data *cd,
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

static int64_t int_value(const prw_pq_column_data *cd, int64_t r) {
    if (cd->value_size == 8) {
        int64_t v;
        memcpy(&v, cd->values + (size_t)r * 8, 8);
        return v;
    }
    int32_t v;
    memcpy(&v, cd->values + (size_t)r * 4, 4);
    return v;
}

static float rtt_value(const prw_pq_column_info *c, const prw_pq_column_data *cd, int64_t r) {
    if (c->physical == PRW_PQ_FLOAT) {
        float v;
        memcpy(&v, cd->values + (size_t)r * 4, 4);
        return v;
    }
    if (c->physical == PRW_PQ_DOUBLE) {
        double v;
        memcpy(&v, cd->values + (size_t)r * 8, 8);
        return (float)v;
    }
    if (c->logical == PRW_PQ_LOGICAL_INT && !c->int_signed) {
        uint64_t u =
            c->int_bits == 64 ? (uint64_t)int_value(cd, r) : (uint64_t)(uint32_t)int_value(cd, r);
        return (float)u;
    }
    return (float)int_value(cd, r);
}

prw_status prw__pl_decode_cols(prw__pl_decoder *d, size_t rg, unsigned which, prw__intern *src_tab,
                               prw__intern *dst_tab, prw_error *err) {
    const pl_rg *g = &d->src->rgs[rg];
    const pl_file *f = &d->src->files[g->file];
    const char *path = prw_pq_path(f->pq);
    for (int c = 0; c < PRW_COL_COUNT; c++) {
        bool str = c == PRW_COL_SRC_ADDR || c == PRW_COL_DST_ADDR;
        if (!(which & (str ? PRW_PL_COLS_STR : PRW_PL_COLS_NUM)))
            continue;
        PRW_TRY(prw_pq_decode_column(d->pq, f->pq, g->rg, f->col[c], str ? PRW_PQ_DECODE_DICT : 0,
                                     &d->cd[c], err));
        PRW_CHECK(d->cd[c].num_rows == g->rows, err, PRW_E_CORRUPT, -1,
                  "%s: row group %d: column '%s' has %lld rows, the row group %lld", path, g->rg,
                  f->info[c]->name, (long long)d->cd[c].num_rows, (long long)g->rows);
    }
    size_t n = (size_t)g->rows;
    /* times, then src ids and dst ids, share one scratch area of 16 bytes per row. */
    PRW_TRY(prw__reserve_array((void **)&d->times, &d->times_cap, n ? 2 * n : 1, sizeof *d->times,
                               "decode buffers", err));
    if (which & PRW_PL_COLS_NUM) {
        prw_status st = prw_pq_timestamp_micros(f->info[PRW_COL_EVENT_TIME],
                                                &d->cd[PRW_COL_EVENT_TIME], d->times, err);
        if (st < 0) {
            prw__error_prefix(err, "%s: row group %d: column '%s': ", path, g->rg,
                              f->info[PRW_COL_EVENT_TIME]->name);
            return st;
        }
    }
    if (!(which & PRW_PL_COLS_STR))
        return PRW_OK;
    uint32_t *src_ids = (uint32_t *)(d->times + n);
    uint32_t *dst_ids = src_ids + n;
    if (d->keymap) {
        prw_status st = map_column(d, &d->cd[PRW_COL_SRC_ADDR], src_ids, err);
        if (st < 0) {
            prw__error_prefix(err, "%s: row group %d: ", path, g->rg);
            return st;
        }
    } else {
        PRW_TRY(intern_column(d, 0, &d->cd[PRW_COL_SRC_ADDR], src_tab, src_ids, err));
    }
    return intern_column(d, 1, &d->cd[PRW_COL_DST_ADDR], dst_tab, dst_ids, err);
}

prw_status prw__pl_assemble_rows(const prw__pl_decoder *num, const prw__pl_decoder *str, size_t rg,
                                 size_t r0, size_t r1, prw_null_rtt policy, prw__pl_decoded *out,
                                 prw_error *err) {
    const pl_rg *g = &num->src->rgs[rg];
    const pl_file *f = &num->src->files[g->file];
    size_t n = (size_t)g->rows;
    const int64_t *times = num->times;
    const uint32_t *src_ids = (const uint32_t *)(str->times + n);
    const uint32_t *dst_ids = src_ids + n;
    const prw_pq_column_data *tv = &num->cd[PRW_COL_EVENT_TIME], *iv = &num->cd[PRW_COL_IP_VERSION],
                             *rv = &num->cd[PRW_COL_RTT];
    const prw_pq_column_info *rtt_info = f->info[PRW_COL_RTT];
    prw__pl_row *rows = out->rows;
    memset(out, 0, sizeof *out);
    out->rows = rows;
    prw__prefault(rows, (r1 - r0) * sizeof *rows); /* most rows are kept */
    size_t k = 0;
    for (size_t r = r0; r < r1; r++) {
        if (src_ids[r] == PRW_PL_NULL_ID) {
            out->dropped_null_src++;
            continue;
        }
        if (!present(tv, r)) {
            out->dropped_null_time++;
            continue;
        }
        prw__pl_row row = {0};
        row.t = times[r];
        row.key = src_ids[r];
        row.dst = dst_ids[r];
        if (present(iv, r)) {
            int64_t v = int_value(iv, (int64_t)r);
            if (v < INT8_MIN || v > INT8_MAX)
                return prw__error_set(err, PRW_E_CORRUPT, -1,
                                      "%s: column '%s', row group %d, row %zu: ip_version %lld "
                                      "does not fit int8",
                                      prw_pq_path(f->pq), f->info[PRW_COL_IP_VERSION]->name, g->rg,
                                      r, (long long)v);
            row.ipv = (int8_t)v;
        } else {
            row.flags |= PRW_PL_IPV_NULL;
        }
        if (present(rv, r)) {
            row.rtt = rtt_value(rtt_info, rv, (int64_t)r);
        } else if (policy == PRW_NULL_RTT_DROP) {
            out->dropped_null_rtt++;
            continue;
        } else if (policy == PRW_NULL_RTT_FAILED) {
            row.rtt = -1.0f;
            out->null_rtt_failed++;
        } else {
            row.flags |= PRW_PL_RTT_NULL;
            out->null_rtt_kept++;
        }
        rows[k++] = row;
    }
    out->n = k;
    return PRW_OK;
}

prw_status prw__pl_assemble_rg(const prw__pl_decoder *num, const prw__pl_decoder *str, size_t rg,
                               prw_null_rtt policy, prw__pl_decoded *out, prw_error *err) {
    memset(out, 0, sizeof *out);
    size_t n = (size_t)num->src->rgs[rg].rows;
    out->rows = prw__malloc_array(n ? n : 1, sizeof *out->rows);
    if (!out->rows)
        return prw__error_nomem(err, "decoded rows", n * sizeof *out->rows);
    prw_status st = prw__pl_assemble_rows(num, str, rg, 0, n, policy, out, err);
    if (st < 0) {
        prw__free(out->rows);
        out->rows = NULL;
    }
    return st;
}

prw_status prw__pl_decode_rg(prw__pl_decoder *d, size_t rg, prw__intern *src_tab,
                             prw__intern *dst_tab, prw_null_rtt policy, prw__pl_decoded *out,
                             prw_error *err) {
    memset(out, 0, sizeof *out);
    PRW_TRY(prw__pl_decode_cols(d, rg, PRW_PL_COLS_NUM | PRW_PL_COLS_STR, src_tab, dst_tab, err));
    return prw__pl_assemble_rg(d, d, rg, policy, out, err);
}

int64_t prw__pl_source_rg_decode_bytes(const prw__pl_source *s, size_t rg) {
    const pl_rg *g = &s->rgs[rg];
    const pl_file *f = &s->files[g->file];
    int64_t total = 0;
    for (int c = 0; c < PRW_COL_COUNT; c++) {
        prw_pq_chunk_info ci;
        if (prw_pq_chunk(f->pq, g->rg, f->col[c], &ci, NULL) == PRW_OK && ci.uncompressed_size > 0)
            total += ci.uncompressed_size;
    }
    /* Column arrays (values, validity, indices), the time and id scratch, the rows. */
    return total + g->rows * 64;
}

int64_t prw__pl_source_rg_key_bytes(const prw__pl_source *s, size_t rg) {
    const pl_rg *g = &s->rgs[rg];
    const pl_file *f = &s->files[g->file];
    int64_t total = 0;
    prw_pq_chunk_info ci;
    if (prw_pq_chunk(f->pq, g->rg, f->col[PRW_COL_SRC_ADDR], &ci, NULL) == PRW_OK)
        total = (ci.compressed_size > 0 ? ci.compressed_size : 0) +
                (ci.uncompressed_size > 0 ? ci.uncompressed_size : 0);
    /* String offsets, validity and the ids. */
    return total + g->rows * 16;
}

prw_status prw__pl_scan_keys_rg(prw__pl_decoder *d, size_t rg, prw__intern *src_tab, size_t *n,
                                prw_error *err) {
    const pl_rg *g = &d->src->rgs[rg];
    const pl_file *f = &d->src->files[g->file];
    prw_pq_column_data *cd = &d->cd[PRW_COL_SRC_ADDR];
    PRW_TRY(prw_pq_decode_column(d->pq, f->pq, g->rg, f->col[PRW_COL_SRC_ADDR], PRW_PQ_DECODE_DICT,
                                 cd, err));
    PRW_CHECK(cd->num_rows == g->rows, err, PRW_E_CORRUPT, -1,
              "%s: row group %d: column '%s' has %lld rows, the row group %lld", prw_pq_path(f->pq),
              g->rg, f->info[PRW_COL_SRC_ADDR]->name, (long long)cd->num_rows, (long long)g->rows);
    size_t rows = (size_t)g->rows;
    PRW_TRY(prw__reserve_array((void **)&d->times, &d->times_cap, rows ? (rows + 1) / 2 : 1,
                               sizeof *d->times, "decode buffers", err));
    uint32_t *ids = (uint32_t *)d->times;
    PRW_TRY(intern_column(d, 0, cd, src_tab, ids, err));
    /* Every id just returned is below the table's current size. */
    prw__mutex_lock(&src_tab->mu);
    size_t keys = src_tab->n;
    prw__mutex_unlock(&src_tab->mu);
    if (keys > d->key_rows_cap) {
        size_t cap = 2 * keys; /* keys < 2^32 ids */
        uint64_t *k = prw__realloc(d->key_rows, cap * sizeof *k);
        if (!k)
            return prw__error_nomem(err, "key counts", cap * sizeof *k);
        memset(k + d->key_rows_cap, 0, (cap - d->key_rows_cap) * sizeof *k);
        d->key_rows = k;
        d->key_rows_cap = cap;
    }
    for (size_t r = 0; r < rows; r++)
        if (ids[r] != PRW_PL_NULL_ID)
            d->key_rows[ids[r]]++;
    *n = rows;
    return PRW_OK;
}

void prw__pl_decoder_take_key_rows(prw__pl_decoder *d, uint64_t *counts, size_t n) {
    size_t m = d->key_rows_cap < n ? d->key_rows_cap : n;
    for (size_t i = 0; i < m; i++)
        counts[i] += d->key_rows[i];
    prw__free(d->key_rows);
    d->key_rows = NULL;
    d->key_rows_cap = 0;
}
