/*
 * Fuzz target for the bzip2 decoder (src/bzip2: block finder, block decoder, ordered reader):
 * any bytes -> decode with ours (1 thread, and 2 threads with a tiny buffer for small inputs)
 * and with libbz2; both must agree: the same bytes, or both fail.
 *
 * Inputs that libbz2 decodes (as far as it gets) to more than 2 MiB are not decoded by ours:
 * a few hundred bytes can declare 900 kB blocks that RLE1 expands to 45 MB each, and the few
 * such inputs in the corpus took two thirds of this target's time (100-200 ms each). Every
 * path of the decoder is reached by smaller outputs too (a block of 900 kB rows and little
 * RLE1 is below the cap), and tests/unit/test_bzip2.c decodes large files against libbz2.
 *
 * The 2-thread pass is there for the threaded reader's own logic (blocks decoded ahead, false
 * block magics, errors handed over in order), which does not depend on how large a block is.
 * It runs for inputs of at most 4 kB with at least two block magics (with fewer the reader
 * decodes on the caller's thread, so the pass would repeat the first one) whose blocks are
 * all small: decoded on its own with SMALL_ROWS as its limit, the block at every magic has
 * at most SMALL_BYTES bytes or fails for a reason other than that limit. The workers decode
 * every magic's block ahead, also those the walk never reaches (libbz2 stops at the first
 * error), and such large blocks kept this target at 200-400 execs/s.
 */
#include <bzlib.h>
#include <stdlib.h>
#include <string.h>

#include "bz_ref.h"
#include "bzip2/bz.h"
#include "fuzz.h"

/* Appends n bytes to a malloc'd *out; false when that would pass cap or memory runs out. */
static bool append(uint8_t **out, size_t *len, size_t *cap_now, const void *p, size_t n,
                   size_t cap) {
    if (n > cap - *len)
        return false;
    if (*len + n > *cap_now) {
        size_t c = *cap_now ? *cap_now : 65536;
        while (c < *len + n)
            c *= 2;
        uint8_t *q = realloc(*out, c);
        if (!q)
            return false;
        *out = q;
        *cap_now = c;
    }
    if (n)
        memcpy(*out + *len, p, n);
    *len += n;
    return true;
}

/* libbz2's output: bytes p[0, len) of cap. The target keeps one from input to input, as a
 * fresh buffer of megabytes per input costs page faults under ASan. */
typedef struct {
    uint8_t *p;
    size_t len, cap;
} refbuf;

/* Room for a byte or more after b->len: doubling from 64 KiB, up to `limit` bytes in all;
 * false when b holds limit bytes already or memory runs out. */
static bool ref_room(refbuf *b, size_t limit) {
    if (b->len < b->cap)
        return true;
    if (b->cap >= limit)
        return false;
    size_t c = b->cap ? 2 * b->cap : 65536;
    c = c < limit ? c : limit;
    uint8_t *q = realloc(b->p, c);
    if (!q)
        return false;
    b->p = q;
    b->cap = c;
    return true;
}

/* One libbz2 stream from data[0..size), appended to b straight from libbz2: its length in
 * *used; 0, -1 or 1 as prw_fuzz_bz_ref. cache: for libbz2's blocks (NULL: malloc and free). */
static int ref_stream(const uint8_t *data, size_t size, size_t cap, refbuf *b,
                      prw_fuzz_bz_cache *cache, size_t *used) {
    bz_stream s;
    memset(&s, 0, sizeof s);
    if (cache)
        prw_fuzz_bz_cache_use(&s, cache);
    if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK)
        return -1;
    s.next_in = (char *)(uintptr_t)data;
    s.avail_in = (unsigned)size;
    int rc, res = 0;
    do {
        if (b->len > cap || !ref_room(b, cap + 1)) {
            res = 1;
            break;
        }
        size_t room = b->cap - b->len;
        room = room < 0xffffffffu ? room : 0xffffffffu;
        s.next_out = (char *)b->p + b->len;
        s.avail_out = (unsigned)room;
        rc = BZ2_bzDecompress(&s);
        b->len += room - s.avail_out;
        if (rc == BZ_OK && s.avail_in == 0 && s.avail_out > 0)
            rc = BZ_UNEXPECTED_EOF; /* libbz2 waits for more input: the data is truncated */
    } while (rc == BZ_OK);
    if (res == 0 && b->len > cap)
        res = 1;
    if (res == 0 && rc != BZ_STREAM_END)
        res = -1;
    *used = size - s.avail_in;
    BZ2_bzDecompressEnd(&s);
    return res;
}

/* prw_fuzz_bz_ref into b (cleared first; its bytes are meaningful only when 0 is returned). */
static int ref_decode(const uint8_t *data, size_t size, size_t cap, refbuf *b,
                      prw_fuzz_bz_cache *cache) {
    b->len = 0;
    size_t pos = 0;
    int res = size == 0 || size > 0xffffffffu ? -1 : 0;
    while (res == 0 && pos < size) {
        size_t used = 0;
        res = ref_stream(data + pos, size - pos, cap, b, cache, &used);
        pos += used;
    }
    return res;
}

int prw_fuzz_bz_ref(const uint8_t *data, size_t size, size_t cap, uint8_t **out, size_t *len) {
    refbuf b = {NULL, 0, 0};
    int res = ref_decode(data, size, cap, &b, NULL);
    if (res != 0 || b.len == 0) {
        free(b.p);
        b.p = NULL;
        b.len = 0;
    }
    *out = b.p;
    *len = b.len;
    return res;
}

/* Decodes with prw__bz_reader: appends to *out, or (out NULL) compares with expect[0, nexpect)
 * on the way, *same turning false at the first difference. *len: the bytes decoded. The same
 * return values as prw_fuzz_bz_ref. */
static int ours_run(const uint8_t *data, size_t size, int threads, size_t max_buffered, size_t cap,
                    uint8_t **out, size_t *len, const uint8_t *expect, size_t nexpect, bool *same) {
    if (out)
        *out = NULL;
    *len = 0;
    size_t cap_now = 0;
    prw__bz_reader *r = NULL;
    if (prw__bz_reader_create(data, size, "fuzz", threads, max_buffered, &r, NULL) != PRW_OK)
        return -1;
    int res = 0;
    for (;;) {
        const uint8_t *p;
        size_t n;
        prw_error err;
        if (prw__bz_reader_next(r, &p, &n, &err) != PRW_OK) {
            /* every error names the input and an offset within it */
            if (strncmp(err.msg, "fuzz: bzip2: ", 13) != 0 || err.offset < 0 ||
                (uint64_t)err.offset > size)
                abort();
            res = -1;
            break;
        }
        if (n == 0)
            break;
        if (out ? !append(out, len, &cap_now, p, n, cap) : n > cap - *len) {
            res = 1;
            break;
        }
        if (!out) {
            if (*same && (n > nexpect - *len || memcmp(expect + *len, p, n) != 0))
                *same = false;
            *len += n;
        }
    }
    prw__bz_reader_destroy(r);
    if (res != 0 && out) {
        free(*out);
        *out = NULL;
        *len = 0;
    }
    return res;
}

int prw_fuzz_bz_ours(const uint8_t *data, size_t size, int threads, size_t max_buffered, size_t cap,
                     uint8_t **out, size_t *len) {
    return ours_run(data, size, threads, max_buffered, cap, out, len, NULL, 0, NULL);
}

/* Decodes with ours and checks the result against libbz2's (rr, ref, nref) as the bytes come,
 * without a copy: the same bytes, or both fail, unless either is beyond cap. */
static void check_ours(const uint8_t *data, size_t size, int threads, size_t max_buffered,
                       size_t cap, int rr, const uint8_t *ref, size_t nref) {
    size_t n = 0;
    bool same = true;
    int ro = ours_run(data, size, threads, max_buffered, cap, NULL, &n, ref, nref, &same);
    if (rr == 1 || ro == 1)
        return; /* too large to compare */
    if (ro != rr || (ro == 0 && (!same || n != nref)))
        abort();
}

#define SMALL_ROWS 65536u
#define SMALL_BYTES (1u << 20)

/* Whether data holds two block magics or more, and the block at each is small (see above). A
 * block decoded with SMALL_ROWS as its limit stops there, so this costs little. The work area
 * and the output are kept for the next input, as the reader keeps them from block to block. */
static bool small_blocks(const uint8_t *data, size_t size) {
    static prw__bz_work *w;
    static prw__buf out;
    static uint64_t *cand;
    static size_t cap;
    size_t n = 0;
    bool ok = prw__bz_scan(data, size, 0, size, &cand, &n, &cap) && n >= 2 &&
              (w || prw__bz_work_create(&w, NULL) == PRW_OK);
    for (size_t i = 0; ok && i < n; i++) {
        prw__bz_block info;
        prw_error err;
        prw_status st =
            prw__bz_decode_block(data, size, cand[i], SMALL_ROWS, "p", w, &out, &info, &err);
        /* past the limit: "block longer than its level allows", or an origin pointer beyond
         * it (which a larger block may hold) */
        ok = st == PRW_OK ? out.len <= SMALL_BYTES
                          : st != PRW_E_NOMEM && !strstr(err.msg, "longer than its level") &&
                                !strstr(err.msg, "origin pointer");
    }
    return ok;
}

FUZZ_TARGET(bz_decode) {
    static refbuf ref;              /* libbz2's output, kept for the next input */
    static prw_fuzz_bz_cache cache; /* libbz2's state and block array, likewise */
    const size_t cap = 2u << 20;
    int rr = ref_decode(data, size, cap, &ref, &cache);
    if (rr == 1)
        return 0; /* beyond cap (see above) */
    size_t nref = rr == 0 ? ref.len : 0;
    check_ours(data, size, 1, 1u << 20, cap, rr, ref.p, nref);
    if (size <= 4096 && small_blocks(data, size))
        check_ours(data, size, 2, 1, cap, rr, ref.p, nref);
    return 0;
}
