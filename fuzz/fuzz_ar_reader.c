/*
 * Fuzz target for the ArrayRecord reader and verifier. An ArrayRecord file is at least two
 * 64 KiB blocks and mostly zeros, so the input describes a sparse image: byte 0 picks the
 * size (2..5 blocks), bytes 1-2 (u16le) how many of the remaining bytes go at offset 0; the
 * rest goes at the start of the last block, where the postscript lives. Everything else is
 * zero. tools/gen_ar_fuzz_seeds.mjs turns real files into such inputs.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proberows/arrayrecord.h"

#define BLOCK 65536u

static prw_status count_cb(void *ctx, uint64_t index, const uint8_t *data, size_t len) {
    (void)index;
    if (len)
        atomic_fetch_add((_Atomic uint64_t *)ctx, data[0] + data[len - 1]);
    return PRW_OK;
}

FUZZ_TARGET(ar_reader) {
    if (size < 3)
        return 0;
    size_t fsize = BLOCK * (2 + (data[0] & 3u));
    size_t split = (size_t)data[1] | (size_t)data[2] << 8;
    data += 3;
    size -= 3;
    if (split > size)
        split = size;
    size_t tail = size - split > BLOCK ? BLOCK : size - split;
    uint8_t *img = calloc(1, fsize);
    if (!img)
        return 0;
    memcpy(img, data, split);
    memcpy(img + fsize - BLOCK, data + split, tail);

    prw_error err;
    prw_ar_verify_stats vs;
    (void)prw_ar_verify_mem(img, fsize, &vs, &err);
    prw_ar_reader *r;
    if (prw_ar_reader_open_mem(&r, img, fsize, &err) == PRW_OK) {
        uint64_t n = prw_ar_reader_num_records(r), sum = 0;
        prw_bytes b;
        for (uint64_t i = 0; i < n && i < 2000; i++) {
            uint64_t idx = (i * 7919) % n;
            if (prw_ar_reader_read(r, idx, &b, &err) == PRW_OK && b.len)
                sum += b.ptr[0] + b.ptr[b.len - 1];
        }
        (void)prw_ar_reader_seek(r, 0, &err);
        for (uint64_t i = 0; i < 2000 && prw_ar_reader_next(r, &b, &err) == PRW_OK; i++)
            sum += b.len;
        _Atomic uint64_t asum = 0; /* the callback runs on two threads */
        (void)prw_ar_reader_read_range(r, 0, n < 2000 ? n : 2000, 2, count_cb, &asum, &err);
        (void)prw_ar_options_parse(prw_ar_reader_options(r), &(prw_ar_options){0}, &err);
        prw_ar_reader_close(r);
        (void)sum;
    }
    free(img);
    return 0;
}
