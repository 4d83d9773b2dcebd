/*
 * TEMPORARY adapter (see at_bz2_shim.h): the prw__bz_reader API over libbz2's streaming
 * BZ2_bzDecompress, one thread, until the parallel decoder of src/bzip2/ is merged.
 *
 * Concatenated streams (pbzip2, lbzip2 -c a b): after BZ_STREAM_END the decoder is restarted
 * on the remaining bytes, which must begin with another stream header. A stream that ends
 * before its end-of-stream marker is PRW_E_TRUNCATED; libbz2's data and CRC errors are
 * PRW_E_CORRUPT / PRW_E_CHECKSUM, each naming the file and the compressed offset reached.
 */
#include <bzlib.h>
#include <limits.h>

#include "atlas/at_bz2_shim.h"
#include "common/common.h"

#define OUT_SIZE (1u << 20) /* decompressed bytes handed out per call */

struct prw__bz_reader {
    bz_stream bz;
    bool active; /* bz holds an initialised decoder */
    const uint8_t *data;
    size_t size, pos; /* pos: compressed bytes consumed */
    const char *name;
    uint8_t *out;
    bool done;
};

static bool stream_header(const uint8_t *p, size_t n) {
    return n >= 4 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' && p[3] >= '1' && p[3] <= '9';
}

static prw_status start_stream(prw__bz_reader *r, prw_error *err) {
    memset(&r->bz, 0, sizeof r->bz);
    PRW_CHECK(stream_header(r->data + r->pos, r->size - r->pos), err, PRW_E_CORRUPT,
              (int64_t)r->pos, "%s: bzip2: no stream header", r->name);
    int rc = BZ2_bzDecompressInit(&r->bz, 0, 0);
    if (rc != BZ_OK)
        return prw__error_nomem(err, "bzip2 decoder", sizeof r->bz);
    r->active = true;
    return PRW_OK;
}

prw_status prw__bz_reader_create(const uint8_t *data, size_t size, const char *name, int threads,
                                 size_t max_buffered, prw__bz_reader **out, prw_error *err) {
    (void)threads;
    (void)max_buffered;
    *out = NULL;
    prw__bz_reader *r = prw__calloc(1, sizeof *r);
    if (!r)
        return prw__error_nomem(err, "bzip2 reader", sizeof *r);
    r->data = data;
    r->size = size;
    r->name = name ? name : "input";
    r->out = prw__malloc(OUT_SIZE);
    if (!r->out) {
        prw__bz_reader_destroy(r);
        return prw__error_nomem(err, "bzip2 output", OUT_SIZE);
    }
    prw_status st = start_stream(r, err);
    if (st < 0) {
        prw__bz_reader_destroy(r);
        return st;
    }
    *out = r;
    return PRW_OK;
}

static prw_status bz_fail(prw__bz_reader *r, int rc, prw_error *err) {
    if (rc == BZ_MEM_ERROR)
        return prw__error_nomem(err, "bzip2 decoder", 0);
    prw_status code =
        rc == BZ_DATA_ERROR_MAGIC || rc == BZ_DATA_ERROR ? PRW_E_CORRUPT : PRW_E_CODEC;
    const char *what = rc == BZ_DATA_ERROR_MAGIC ? "bad stream magic"
                       : rc == BZ_DATA_ERROR     ? "corrupt data or CRC mismatch"
                                                 : "decoder error";
    return prw__error_set(err, code, (int64_t)r->pos, "%s: bzip2: %s", r->name, what);
}

prw_status prw__bz_reader_next(prw__bz_reader *r, const uint8_t **data, size_t *len,
                               prw_error *err) {
    *data = r->out;
    *len = 0;
    while (!r->done && *len == 0) {
        if (!r->active)
            PRW_TRY(start_stream(r, err));
        size_t left = r->size - r->pos;
        unsigned avail = left > UINT_MAX ? UINT_MAX : (unsigned)left;
        r->bz.next_in = (char *)(uintptr_t)(r->data + r->pos);
        r->bz.avail_in = avail;
        r->bz.next_out = (char *)r->out;
        r->bz.avail_out = OUT_SIZE;
        int rc = BZ2_bzDecompress(&r->bz);
        r->pos += avail - r->bz.avail_in;
        *len = OUT_SIZE - r->bz.avail_out;
        if (rc == BZ_STREAM_END) {
            BZ2_bzDecompressEnd(&r->bz);
            r->active = false;
            r->done = r->pos == r->size;
        } else if (rc != BZ_OK) {
            return bz_fail(r, rc, err);
        } else if (*len == 0 && r->pos == r->size) {
            return prw__error_set(err, PRW_E_TRUNCATED, (int64_t)r->pos,
                                  "%s: bzip2: stream truncated (no end-of-stream "
                                  "marker)",
                                  r->name);
        }
    }
    return PRW_OK;
}

void prw__bz_reader_destroy(prw__bz_reader *r) {
    if (!r)
        return;
    if (r->active)
        BZ2_bzDecompressEnd(&r->bz);
    prw__free(r->out);
    prw__free(r);
}
