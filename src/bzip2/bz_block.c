/*
 * The bzip2 block decoder, up to the BWT vector: block header, symbol map, selectors (MTF
 * coded), code lengths, Huffman decoding and the inverse MTF with RUNA/RUNB run lengths. The
 * rest (inverse BWT, RLE1, CRC) is in bz_bwt.c.
 *
 * Bits come MSB first through a 64-bit buffer refilled eight bytes at a time; past the end of
 * the data it reads zero bits and counts them, so a block that needs them is reported as
 * truncated. Huffman codes are canonical, assigned in order of (length, symbol) exactly as
 * libbz2 assigns them (also for incomplete or over-full code sets, which it accepts); a
 * 10-bit table resolves most codes in one lookup, longer ones (up to 20 bits) are found by
 * comparing with the last code of each length.
 */
#include "bzip2/bz.h"

#define FAST_BITS 10
#define MAX_CODE 20
#define MAX_GROUPS 6
#define MAX_ALPHA 258
#define GROUP_SIZE 50
#define MAX_SELECTORS 18002 /* 2 + 900000 / 50: libbz2 ignores selectors beyond */
#define MAX_RUN_BIT 21      /* libbz2 rejects a RUNA/RUNB sequence of more than 21 symbols */

typedef struct {
    const uint8_t *data, *p, *end;
    uint64_t buf; /* the next bits, MSB first; bits below the nb valid ones are zero or data */
    unsigned nb;
    size_t over; /* zero bytes supplied past the end of the data */
} bitrd;

static inline void br_refill(bitrd *b) {
    if (PRW_LIKELY(b->end - b->p >= 8)) {
        b->buf |= prw__load_be64(b->p) >> b->nb;
        b->p += (63 - b->nb) >> 3;
        b->nb |= 56;
        return;
    }
    while (b->nb <= 56) {
        uint64_t byte = 0;
        if (b->p < b->end)
            byte = *b->p++;
        else
            b->over++;
        b->buf |= byte << (56 - b->nb);
        b->nb += 8;
    }
}

/** n in 1..32 bits. */
static inline uint32_t br_get(bitrd *b, unsigned n) {
    if (b->nb < n)
        br_refill(b);
    uint32_t v = (uint32_t)(b->buf >> (64 - n));
    b->buf <<= n;
    b->nb -= n;
    return v;
}

static uint64_t br_pos(const bitrd *b) {
    return ((uint64_t)(b->p - b->data) + b->over) * 8 - b->nb;
}

static void br_init(bitrd *b, const uint8_t *data, size_t size, uint64_t bit) {
    b->data = data;
    b->p = data + (bit >> 3);
    b->end = data + size;
    b->buf = 0;
    b->nb = 0;
    b->over = 0;
    br_refill(b);
    if (bit & 7)
        (void)br_get(b, (unsigned)(bit & 7));
}

static bool br_overrun(const bitrd *b) {
    return br_pos(b) > 8 * (uint64_t)(b->end - b->data);
}

typedef struct {
    uint16_t fast[1 << FAST_BITS]; /* (symbol << 5) | length; 0: longer code or none */
    int32_t first[MAX_CODE + 1];   /* first code of each length */
    int32_t limit[MAX_CODE + 1];   /* last code of each length (first - 1 when none) */
    uint16_t cum[MAX_CODE + 1];    /* symbols with shorter codes */
    uint16_t perm[MAX_ALPHA];      /* symbols ordered by (length, symbol) */
    unsigned maxlen;
} huff;

typedef struct {
    bitrd br;
    const char *name;
    uint64_t start; /* bit offset of the block magic */
    uint8_t unseq[256];
    unsigned ninuse, ngroups, nsel;
    uint32_t orig;
    huff t[MAX_GROUPS];
} blk;

static prw_status corrupt(blk *k, prw_error *err, const char *what) {
    if (br_overrun(&k->br))
        return prw__bz_error(err, PRW_E_TRUNCATED, k->name, 8 * (uint64_t)(k->br.end - k->br.data),
                             "data ends inside the block at byte %llu",
                             (unsigned long long)(k->start / 8));
    return prw__bz_error(err, PRW_E_CORRUPT, k->name, br_pos(&k->br),
                         "%s in the block at byte %llu", what, (unsigned long long)(k->start / 8));
}

static void huff_build(huff *h, const uint8_t *len, unsigned alpha) {
    unsigned count[MAX_CODE + 2] = {0};
    for (unsigned s = 0; s < alpha; s++)
        count[len[s]]++;
    unsigned n = 0;
    h->maxlen = 0;
    for (unsigned l = 1; l <= MAX_CODE; l++) {
        h->cum[l] = (uint16_t)n;
        for (unsigned s = 0; s < alpha; s++)
            if (len[s] == l)
                h->perm[n++] = (uint16_t)s;
        if (count[l])
            h->maxlen = l;
    }
    int32_t next = 0; /* libbz2's canonical assignment: first(l) = 2 * (limit(l - 1) + 1) */
    for (unsigned l = 1; l <= MAX_CODE; l++) {
        h->first[l] = next;
        h->limit[l] = next + (int32_t)count[l] - 1;
        next = 2 * (h->limit[l] + 1);
    }
    memset(h->fast, 0, sizeof h->fast);
    for (unsigned l = 1; l <= FAST_BITS && l <= h->maxlen; l++) {
        int32_t last = h->limit[l] < (1 << l) - 1 ? h->limit[l] : (1 << l) - 1;
        for (int32_t c = h->first[l]; c <= last; c++) {
            uint16_t e = (uint16_t)((h->perm[h->cum[l] + (c - h->first[l])] << 5) | l);
            unsigned lo = (unsigned)c << (FAST_BITS - l), hi = (unsigned)(c + 1) << (FAST_BITS - l);
            for (unsigned i = lo; i < hi; i++)
                h->fast[i] = e;
        }
    }
}

/** The next symbol, or -1 for a bit string that is no code. Needs nb >= MAX_CODE. */
static inline int huff_decode(const huff *h, bitrd *b) {
    unsigned e = h->fast[b->buf >> (64 - FAST_BITS)];
    if (PRW_LIKELY(e)) {
        b->buf <<= e & 31;
        b->nb -= e & 31;
        return (int)(e >> 5);
    }
    for (unsigned l = FAST_BITS + 1; l <= h->maxlen; l++) {
        int32_t v = (int32_t)(b->buf >> (64 - l));
        if (v <= h->limit[l]) {
            b->buf <<= l;
            b->nb -= l;
            return h->perm[h->cum[l] + (v - h->first[l])];
        }
    }
    return -1;
}

static prw_status read_map(blk *k, prw_error *err) {
    unsigned used16 = br_get(&k->br, 16);
    memset(k->unseq, 0, sizeof k->unseq);
    k->ninuse = 0;
    for (unsigned i = 0; i < 16; i++) {
        if (!(used16 & (0x8000u >> i)))
            continue;
        unsigned bits = br_get(&k->br, 16);
        for (unsigned j = 0; j < 16; j++)
            if (bits & (0x8000u >> j))
                k->unseq[k->ninuse++] = (uint8_t)(16 * i + j);
    }
    if (k->ninuse == 0)
        return corrupt(k, err, "no byte values in use");
    return PRW_OK;
}

static prw_status read_selectors(blk *k, uint8_t *sel, prw_error *err) {
    k->ngroups = br_get(&k->br, 3);
    if (k->ngroups < 2 || k->ngroups > MAX_GROUPS)
        return corrupt(k, err, "bad Huffman group count");
    unsigned nsel = br_get(&k->br, 15);
    if (nsel < 1)
        return corrupt(k, err, "no selectors");
    uint8_t mtf[MAX_GROUPS] = {0, 1, 2, 3, 4, 5};
    for (unsigned i = 0; i < nsel; i++) {
        unsigned j = 0;
        while (br_get(&k->br, 1)) {
            if (++j >= k->ngroups)
                return corrupt(k, err, "bad selector");
        }
        if (i < MAX_SELECTORS) {
            uint8_t v = mtf[j];
            for (; j > 0; j--)
                mtf[j] = mtf[j - 1];
            mtf[0] = v;
            sel[i] = v;
        }
    }
    k->nsel = nsel < MAX_SELECTORS ? nsel : MAX_SELECTORS;
    return PRW_OK;
}

static prw_status read_tables(blk *k, prw_error *err) {
    unsigned alpha = k->ninuse + 2;
    uint8_t len[MAX_ALPHA];
    for (unsigned t = 0; t < k->ngroups; t++) {
        unsigned curr = br_get(&k->br, 5);
        for (unsigned s = 0; s < alpha; s++) {
            for (;;) {
                if (curr < 1 || curr > MAX_CODE)
                    return corrupt(k, err, "bad Huffman code length");
                if (!br_get(&k->br, 1))
                    break;
                curr = br_get(&k->br, 1) ? curr - 1 : curr + 1;
            }
            len[s] = (uint8_t)curr;
        }
        huff_build(&k->t[t], len, alpha);
    }
    if (br_overrun(&k->br))
        return corrupt(k, err, "");
    return PRW_OK;
}

/* The MTF list holds byte values; moving index i to the front. */
static inline uint8_t mtf_take(uint8_t *mtf, unsigned i) {
    uint8_t v = mtf[i];
    if (i < 16) {
        for (; i > 0; i--)
            mtf[i] = mtf[i - 1];
    } else {
        memmove(mtf + 1, mtf, i);
    }
    mtf[0] = v;
    return v;
}

/* Grows w->ll (keeping its bytes) to more than `need` bytes if that is at most `max`, by
 * doubling from 64 KiB; *lim becomes what ll now holds, capped at max. */
static prw_status grow_ll(prw__bz_work *w, uint64_t need, uint32_t max, uint32_t *lim,
                          prw_error *err) {
    void *p = w->ll;
    size_t cap = w->ll_cap;
    PRW_TRY(
        prw__grow_capped(&p, &cap, need < max ? (size_t)need + 1 : max, max, "bzip2 block", err));
    w->ll = p;
    w->ll_cap = (uint32_t)cap;
    *lim = w->ll_cap;
    return PRW_OK;
}

/** Huffman symbols -> block bytes in w->ll and their counts; returns nblock via *nblock. */
static prw_status decode_symbols(blk *k, prw__bz_work *w, uint32_t max, uint32_t *nblock,
                                 prw_error *err) {
    uint8_t mtf[256];
    memcpy(mtf, k->unseq, 256);
    memset(w->counts, 0, sizeof w->counts);
    /* ll holds lim bytes; past that it grows, up to max: only there is the block too long */
    uint32_t lim = w->ll_cap < max ? w->ll_cap : max;
    uint8_t *ll = w->ll;
    const int eob = (int)k->ninuse + 1;
    uint32_t n = 0, run = 0, runbit = 0;
    unsigned g = 0, left = 0;
    const huff *h = NULL;
    bitrd b = k->br;
    for (;;) {
        if (left == 0) {
            if (g >= k->nsel || br_overrun(&b)) {
                k->br = b;
                return corrupt(k, err, "selectors exhausted");
            }
            h = &k->t[w->selectors[g++]];
            left = GROUP_SIZE;
        }
        left--;
        if (b.nb < MAX_CODE)
            br_refill(&b);
        int sym = huff_decode(h, &b);
        if (PRW_UNLIKELY(sym < 0)) {
            k->br = b;
            return corrupt(k, err, "bad Huffman code");
        }
        if (sym <= 1) { /* RUNA, RUNB: bijective base-2 digits of a run length */
            if (runbit >= MAX_RUN_BIT) {
                k->br = b;
                return corrupt(k, err, "run too long");
            }
            run += (uint32_t)(sym + 1) << runbit++;
            continue;
        }
        if (runbit) {
            if (run > lim - n) {
                if (run > max - n) {
                    k->br = b;
                    return corrupt(k, err, "block longer than its level allows");
                }
                PRW_TRY(grow_ll(w, (uint64_t)n + run, max, &lim, err));
                ll = w->ll;
            }
            memset(ll + n, mtf[0], run);
            w->counts[mtf[0]] += run;
            n += run;
            run = runbit = 0;
        }
        if (sym == eob)
            break;
        if (n >= lim) {
            if (n >= max) {
                k->br = b;
                return corrupt(k, err, "block longer than its level allows");
            }
            PRW_TRY(grow_ll(w, n, max, &lim, err));
            ll = w->ll;
        }
        uint8_t v = mtf_take(mtf, (unsigned)sym - 1);
        ll[n++] = v;
        w->counts[v]++;
    }
    k->br = b;
    if (br_overrun(&b))
        return corrupt(k, err, "");
    *nblock = n;
    return PRW_OK;
}

prw_status prw__bz_decode_block(const uint8_t *data, size_t size, uint64_t bit, uint32_t max_nblock,
                                const char *name, prw__bz_work *w, prw__buf *out,
                                prw__bz_block *info, prw_error *err) {
    blk k;
    k.name = name;
    k.start = bit;
    out->len = 0;
    br_init(&k.br, data, size, bit + 48);
    info->stored_crc = br_get(&k.br, 32);
    info->randomised = br_get(&k.br, 1) != 0;
    k.orig = br_get(&k.br, 24);
    if (k.orig > max_nblock + 10)
        return corrupt(&k, err, "origin pointer out of range");
    PRW_TRY(read_map(&k, err));
    PRW_TRY(read_selectors(&k, w->selectors, err));
    PRW_TRY(read_tables(&k, err));
    uint32_t n = 0;
    PRW_TRY(decode_symbols(&k, w, max_nblock, &n, err));
    if (k.orig >= n)
        return corrupt(&k, err, "origin pointer out of range");
    info->end_bit = br_pos(&k.br);
    info->nblock = n;
    if (prw__bz_cancelled(w))
        return PRW_DONE;
    PRW_TRY(prw__bz_bwt_output(w, n, k.orig, info->randomised, name, bit, out, err));
    if (prw__bz_cancelled(w))
        return PRW_DONE;
    info->crc = prw__bz_crc_final(prw__bz_crc_update(prw__bz_crc_init(), out->data, out->len));
    if (info->crc != info->stored_crc)
        return prw__bz_error(err, PRW_E_CHECKSUM, name, bit,
                             "block CRC mismatch (stored 0x%08x, computed 0x%08x)",
                             info->stored_crc, info->crc);
    return PRW_OK;
}

prw_status prw__bz_work_create(prw__bz_work **out, prw_error *err) {
    prw__bz_work *w = prw__calloc(1, sizeof *w);
    if (!w)
        return prw__error_nomem(err, "bzip2 work area", sizeof *w);
    w->selectors = prw__malloc(MAX_SELECTORS); /* the block arrays come with the first block */
    if (!w->selectors) {
        prw__bz_work_destroy(w);
        return prw__error_nomem(err, "bzip2 work area", MAX_SELECTORS);
    }
    *out = w;
    return PRW_OK;
}

void prw__bz_work_destroy(prw__bz_work *w) {
    if (!w)
        return;
    prw__free(w->ll);
    prw__free(w->tt);
    prw__free(w->pool);
    prw__free(w->links);
    prw__free(w->mark);
    prw__free(w->selectors);
    prw__free(w);
}
