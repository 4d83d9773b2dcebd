/*
 * The back end of a bzip2 block: inverse BWT, de-randomisation (old format) and RLE1.
 *
 * Inverse BWT: with C[c] the number of block bytes smaller than c, the i-th occurrence of c in
 * the last column L (the decoded vector) is row C[c] + i of the sorted matrix. One pass over L
 * stores, at that row, i (the row whose rotation starts one byte later) packed with c (the
 * byte the row starts with), so walking the chain from the origin row reads each output byte
 * and the next row from one 32-bit word. The chain is followed for exactly nblock steps from
 * the origin, as libbz2 does, whatever the permutation's cycles (several chains at once, see
 * inverse_bwt).
 *
 * RLE1: after four equal bytes comes a count (0..255) of further copies; a block that ends
 * right after four equal bytes is corrupt (libbz2 rejects it too).
 */
#include "bzip2/bz.h"

static void build_links(prw__bz_work *w, uint32_t n) {
    uint32_t cft[256];
    uint32_t sum = 0;
    for (unsigned c = 0; c < 256; c++) {
        cft[c] = sum;
        sum += w->counts[c];
    }
    const uint8_t *ll = w->ll;
    uint32_t *tt = w->tt;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t c = ll[i];
        tt[cft[c]++] = (i << 8) | c;
    }
}

/* The plain walk: n steps from the origin (libbz2's order, whatever the cycles). */
static void walk_one(const uint32_t *tt, uint8_t *t, uint32_t n, uint32_t orig) {
    uint32_t p = orig;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t x = tt[p];
        t[i] = (uint8_t)x;
        p = x >> 8;
    }
}

typedef struct {
    uint32_t pos, first, cur; /* row; first and current chunk of its output */
    uint8_t *wp, *we;
    int succ; /* the chain whose start row this one ran into */
} chain;

static bool chain_chunk(prw__bz_work *w, chain *c, uint32_t *next_free) {
    if (*next_free >= w->chunks)
        return false;
    w->links[c->cur] = *next_free;
    c->cur = (*next_free)++;
    c->wp = w->pool + (size_t)c->cur * PRW_BZ_CHUNK;
    c->we = c->wp + PRW_BZ_CHUNK;
    return true;
}

/* Walks the chains in lockstep until each reaches a marked row; false if chunks ran out. */
static bool walk_chains(prw__bz_work *w, chain *ch, int k, const uint32_t *start) {
    const uint32_t *tt = w->tt;
    const uint8_t *mark = w->mark;
    uint32_t next_free = (uint32_t)k;
    int active[PRW_BZ_CHAINS], nact = k;
    for (int c = 0; c < k; c++)
        active[c] = c;
    while (nact > 0) {
        for (int a = 0; a < nact;) {
            chain *c = &ch[active[a]];
            uint32_t x = tt[c->pos];
            *c->wp++ = (uint8_t)x;
            c->pos = x >> 8;
            if (PRW_UNLIKELY(c->wp == c->we) && !chain_chunk(w, c, &next_free))
                return false;
            if (PRW_LIKELY(!(mark[c->pos >> 3] & (1u << (c->pos & 7))))) {
                a++;
                continue;
            }
            for (c->succ = 0; start[c->succ] != c->pos; c->succ++)
                ;
            active[a] = active[--nact];
        }
    }
    return true;
}

/* Concatenates the chains' outputs from the origin's; false unless that gives n bytes. */
static bool stitch(prw__bz_work *w, const chain *ch, int k, uint8_t *t, uint32_t n) {
    size_t at = 0;
    int c = 0;
    for (int seen = 0; seen < k; seen++) {
        for (uint32_t q = ch[c].first;; q = w->links[q]) {
            const uint8_t *src = w->pool + (size_t)q * PRW_BZ_CHUNK;
            size_t len = q == ch[c].cur ? (size_t)(ch[c].wp - src) : PRW_BZ_CHUNK;
            if (len > n - at)
                return false;
            memcpy(t + at, src, len);
            at += len;
            if (q == ch[c].cur)
                break;
        }
        c = ch[c].succ;
        if (c == 0)
            break;
    }
    return c == 0 && at == n;
}

/* Grows tt to n rows and, for the chain walk (n >= 64 x PRW_BZ_CHAINS), mark, pool and links
 * with it. The old contents are not kept (mark is all zero between blocks). */
static prw_status reserve_rows(prw__bz_work *w, uint32_t n, prw_error *err) {
    bool chains = n >= 64 * PRW_BZ_CHAINS;
    if (n <= w->rows && (!chains || w->pool))
        return PRW_OK;
    uint32_t rows = n > w->rows ? n : w->rows;
    prw__free(w->tt);
    w->tt = prw__malloc_array(rows, sizeof *w->tt);
    w->rows = w->tt ? rows : 0;
    if (!w->tt)
        return prw__error_nomem(err, "bzip2 block links", (size_t)rows * sizeof *w->tt);
    prw__free(w->mark);
    prw__free(w->pool);
    prw__free(w->links);
    w->mark = NULL;
    w->pool = NULL;
    w->links = NULL;
    w->chunks = 0;
    if (!chains)
        return PRW_OK;
    uint32_t chunks = PRW_BZ_CHUNKS(rows);
    w->mark = prw__calloc(rows / 8 + 1, 1);
    w->pool = prw__malloc_array(chunks, PRW_BZ_CHUNK);
    w->links = prw__malloc_array(chunks, sizeof *w->links);
    if (!w->mark || !w->pool || !w->links) {
        prw__free(w->pool); /* keeps "pool set" meaning all three are there */
        w->pool = NULL;
        return prw__error_nomem(err, "bzip2 chain pool", (size_t)chunks * PRW_BZ_CHUNK);
    }
    w->chunks = chunks;
    return PRW_OK;
}

/*
 * The chain is one cycle through all n rows (for valid data), so walking it from k rows at once
 * keeps k cache misses in flight. Chain 0 starts at the origin, the others at rows spread over
 * the block; each stops at the next start row (a bit in w->mark), and the pieces are then
 * joined in the order the chains ran into each other. If they do not form one cycle of n steps
 * (corrupt data), the plain walk gives libbz2's bytes instead.
 */
static void inverse_bwt(prw__bz_work *w, uint32_t n, uint32_t orig) {
    build_links(w, n);
    uint8_t *t = w->ll; /* the last column is no longer needed: the output goes there */
    if (n < 64 * PRW_BZ_CHAINS) {
        walk_one(w->tt, t, n, orig);
        return;
    }
    chain ch[PRW_BZ_CHAINS];
    uint32_t start[PRW_BZ_CHAINS];
    int k = 0;
    for (int c = 0; c < PRW_BZ_CHAINS; c++) {
        uint32_t s = c == 0 ? orig : (uint32_t)((uint64_t)c * n / PRW_BZ_CHAINS);
        if (c > 0 && (s == orig || s == start[k - 1]))
            continue;
        start[k] = s;
        ch[k].pos = s;
        ch[k].first = ch[k].cur = (uint32_t)k;
        ch[k].wp = w->pool + (size_t)k * PRW_BZ_CHUNK;
        ch[k].we = ch[k].wp + PRW_BZ_CHUNK;
        w->mark[s >> 3] |= (uint8_t)(1u << (s & 7));
        k++;
    }
    bool ok = walk_chains(w, ch, k, start) && stitch(w, ch, k, t, n);
    for (int c = 0; c < k; c++)
        w->mark[start[c] >> 3] = 0;
    if (!ok)
        walk_one(w->tt, t, n, orig);
}

/* Old-format randomisation: flips the low bit of the bytes at the gaps of prw__bz_rnums. */
static void derandomise(uint8_t *t, uint32_t n) {
    unsigned togo = 0, k = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (togo == 0) {
            togo = prw__bz_rnums[k];
            k = (k + 1) & 511;
        }
        togo--;
        if (togo == 1)
            t[i] ^= 1;
    }
}

static prw_status rle1(const uint8_t *t, uint32_t n, const char *name, uint64_t bit, prw__buf *out,
                       prw_error *err) {
    PRW_TRY(prw__buf_reserve(out, (size_t)n + 64, err));
    uint8_t *o = out->data + out->len;
    size_t room = out->cap - out->len; /* invariant: room >= n - i */
    int prev = -1;
    unsigned same = 0;
    for (uint32_t i = 0; i < n;) {
        uint8_t b = t[i++];
        *o++ = b;
        room--;
        if (b != prev) {
            prev = b;
            same = 1;
            continue;
        }
        if (++same < 4)
            continue;
        if (i >= n)
            return prw__bz_error(err, PRW_E_CORRUPT, name, bit,
                                 "run of four bytes without a count at the end of the block at "
                                 "byte %llu",
                                 (unsigned long long)(bit / 8));
        size_t extra = t[i++];
        if (room < extra + (n - i)) {
            out->len = (size_t)(o - out->data);
            PRW_TRY(prw__buf_reserve(out, extra + (n - i) + (out->len >> 1), err));
            o = out->data + out->len;
            room = out->cap - out->len;
        }
        memset(o, b, extra);
        o += extra;
        room -= extra;
        prev = -1;
    }
    out->len = (size_t)(o - out->data);
    return PRW_OK;
}

prw_status prw__bz_bwt_output(prw__bz_work *w, uint32_t nblock, uint32_t orig, bool randomised,
                              const char *name, uint64_t bit, prw__buf *out, prw_error *err) {
    PRW_TRY(reserve_rows(w, nblock, err));
    inverse_bwt(w, nblock, orig);
    if (prw__bz_cancelled(w))
        return PRW_DONE;
    if (randomised)
        derandomise(w->ll, nblock);
    return rle1(w->ll, nblock, name, bit, out, err);
}
