/*
 * The back end of a bzip2 block: inverse BWT, de-randomisation (old format) and RLE1.
 *
 * Inverse BWT: with C[c] the number of block bytes smaller than c, the i-th occurrence of c in
 * the last column L (the decoded vector) is row C[c] + i of the sorted matrix. One pass over L
 * stores, at that row, i (the row whose rotation starts one byte later) packed with c (the
 * byte the row starts with), so walking the chain from the origin row reads each output byte
 * and the next row from one 32-bit word. The chain is followed for exactly nblock steps from
 * the origin, as libbz2 does, whatever the permutation's cycles. The last column L is also
 * linked backwards (the LF mapping), which gives the output from its end.
 *
 * RLE1: after four equal bytes comes a count (0..255) of further copies; a block that ends
 * right after four equal bytes is corrupt (libbz2 rejects it too).
 */
#include "bzip2/bz.h"

static void inverse_bwt(prw__bz_work *w, uint32_t n, uint32_t orig) {
    uint32_t cft[256];
    uint32_t sum = 0;
    for (unsigned c = 0; c < 256; c++) {
        cft[c] = sum;
        sum += w->counts[c];
    }
    const uint8_t *ll = w->ll;
    uint32_t *tt = w->tt, *lf = w->lf;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t c = ll[i];
        uint32_t j = cft[c]++;
        tt[j] = (i << 8) | c;
        lf[i] = (j << 8) | c;
    }
    /* Two independent chains, so that two cache misses are in flight at once: forwards from
     * the origin for the first half, backwards (LF) from it for the second. */
    uint8_t *t = w->ll; /* the last column is no longer needed: the output goes there */
    uint32_t half = n / 2, p = orig, q = orig;
    for (uint32_t i = 0; i < half; i++) {
        uint32_t x = tt[p], y = lf[q];
        t[i] = (uint8_t)x;
        t[n - 1 - i] = (uint8_t)y;
        p = x >> 8;
        q = y >> 8;
    }
    if (n & 1) {
        t[half] = (uint8_t)tt[p];
        p = tt[p] >> 8;
    }
    if (p == q)
        return;
    /* The chains did not meet: the links are not one cycle (corrupt data). Walk forwards only,
     * as libbz2 does, so that the CRC check sees the bytes libbz2 would. */
    p = orig;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t x = tt[p];
        t[i] = (uint8_t)x;
        p = x >> 8;
    }
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
    inverse_bwt(w, nblock, orig);
    if (randomised)
        derandomise(w->ll, nblock);
    return rle1(w->ll, nblock, name, bit, out, err);
}
