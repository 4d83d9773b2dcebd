/*
 * Fuzz target for the bzip2 decoder (src/bzip2: block finder, block decoder, ordered reader):
 * any bytes -> decode with ours (1 thread, and 2 threads with a tiny buffer for small inputs)
 * and with libbz2; both must agree: the same bytes, or both fail. Outputs beyond 64 MB (a
 * bzip2 "bomb" of a few kB can reach that) are not compared.
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

/* One libbz2 stream from data[0..size): its length in *used; 0, -1 or 1 as prw_fuzz_bz_ref. */
static int ref_stream(const uint8_t *data, size_t size, size_t cap, uint8_t **out, size_t *len,
                      size_t *cap_now, size_t *used) {
    bz_stream s;
    memset(&s, 0, sizeof s);
    if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK)
        return -1;
    s.next_in = (char *)(uintptr_t)data;
    s.avail_in = (unsigned)size;
    char chunk[65536];
    int rc, res = 0;
    do {
        s.next_out = chunk;
        s.avail_out = sizeof chunk;
        rc = BZ2_bzDecompress(&s);
        size_t got = sizeof chunk - s.avail_out;
        if (!append(out, len, cap_now, chunk, got, cap)) {
            res = 1;
            break;
        }
        if (rc == BZ_OK && s.avail_in == 0 && got < sizeof chunk)
            rc = BZ_UNEXPECTED_EOF; /* libbz2 waits for more input: the data is truncated */
    } while (rc == BZ_OK);
    if (res == 0 && rc != BZ_STREAM_END)
        res = -1;
    *used = size - s.avail_in;
    BZ2_bzDecompressEnd(&s);
    return res;
}

int prw_fuzz_bz_ref(const uint8_t *data, size_t size, size_t cap, uint8_t **out, size_t *len) {
    *out = NULL;
    *len = 0;
    size_t cap_now = 0, pos = 0;
    int res = size == 0 || size > 0xffffffffu ? -1 : 0;
    while (res == 0 && pos < size) {
        size_t used = 0;
        res = ref_stream(data + pos, size - pos, cap, out, len, &cap_now, &used);
        pos += used;
    }
    if (res != 0) {
        free(*out);
        *out = NULL;
        *len = 0;
    }
    return res;
}

int prw_fuzz_bz_ours(const uint8_t *data, size_t size, int threads, size_t max_buffered, size_t cap,
                     uint8_t **out, size_t *len) {
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
        if (!append(out, len, &cap_now, p, n, cap)) {
            res = 1;
            break;
        }
    }
    prw__bz_reader_destroy(r);
    if (res != 0) {
        free(*out);
        *out = NULL;
        *len = 0;
    }
    return res;
}

static void agree(int ra, const uint8_t *a, size_t na, int rb, const uint8_t *b, size_t nb) {
    if (ra == 1 || rb == 1)
        return; /* too large to compare */
    if (ra != rb || na != nb || (na && memcmp(a, b, na) != 0))
        abort();
}

FUZZ_TARGET(bz_decode) {
    const size_t cap = 64u << 20;
    uint8_t *ref = NULL, *ours = NULL;
    size_t nref = 0, nours = 0;
    int rr = prw_fuzz_bz_ref(data, size, cap, &ref, &nref);
    int ro = prw_fuzz_bz_ours(data, size, 1, 1u << 20, cap, &ours, &nours);
    agree(rr, ref, nref, ro, ours, nours);
    free(ours);
    if (size <= 4096) {
        ro = prw_fuzz_bz_ours(data, size, 2, 1, cap, &ours, &nours);
        agree(rr, ref, nref, ro, ours, nours);
        free(ours);
    }
    free(ref);
    return 0;
}
