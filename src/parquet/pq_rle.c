/*
 * Bit-level decoders (parquet-format Encodings.md):
 *  - the RLE / bit-packed hybrid: runs introduced by a ULEB128 header; header & 1 = 1 is a
 *    bit-packed run of (header >> 1) groups of 8 values, LSB first; else an RLE run of
 *    (header >> 1) copies of one value stored in ceil(bw / 8) little-endian bytes;
 *  - DELTA_BINARY_PACKED: <block size> <miniblocks per block> <total count> <first value>
 *    then blocks of <min delta> <bit width per miniblock> <miniblocks>, each miniblock
 *    bit-packed like the hybrid's bit-packed runs and padded to whole miniblocks.
 * Values are unpacked in bulk straight into the destination arrays: one unaligned 64-bit load
 * per value while at least 8 bytes remain, a byte-wise tail after that.
 */
#include "parquet/pq_internal.h"

/* Loads up to 8 bytes at p (fewer when near `end`) as a little-endian word. */
static inline uint64_t load_tail(const uint8_t *p, const uint8_t *end) {
    uint64_t v = 0;
    size_t n = (size_t)(end - p);
    if (n > 8)
        n = 8;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Unpacks n values of width bw (1..32) from src (src_len bytes, at least ceil(n*bw/8)). */
static void unpack32(const uint8_t *src, size_t src_len, int bw, uint32_t *out, size_t n) {
    const uint64_t mask = (bw == 32) ? 0xffffffffull : ((1ull << bw) - 1);
    const uint8_t *end = src + src_len;
    size_t i = 0;
    /* Fast part: the 8-byte load at bit position i*bw stays inside src. */
    size_t fast = 0;
    if (src_len >= 8)
        fast = ((src_len - 8) * 8) / (size_t)bw; /* values whose load starts <= src_len - 8 */
    if (fast > n)
        fast = n;
    for (; i < fast; i++) {
        size_t bit = i * (size_t)bw;
        uint64_t w = prw__load_le64(src + (bit >> 3));
        out[i] = (uint32_t)((w >> (bit & 7)) & mask);
    }
    for (; i < n; i++) {
        size_t bit = i * (size_t)bw;
        uint64_t w = load_tail(src + (bit >> 3), end);
        out[i] = (uint32_t)((w >> (bit & 7)) & mask);
    }
}

void prw__pq_unpack64(const uint8_t *src, size_t src_len, int bw, uint64_t *out, size_t n) {
    if (bw == 0) {
        memset(out, 0, n * sizeof *out);
        return;
    }
    const uint8_t *end = src + src_len;
    const uint64_t mask = (bw == 64) ? ~0ull : ((1ull << bw) - 1);
    for (size_t i = 0; i < n; i++) {
        size_t bit = i * (size_t)bw;
        const uint8_t *p = src + (bit >> 3);
        unsigned sh = (unsigned)(bit & 7);
        uint64_t lo = (size_t)(end - p) >= 8 ? prw__load_le64(p) : load_tail(p, end);
        uint64_t v = lo >> sh;
        if (sh && sh + (unsigned)bw > 64) {
            const uint8_t *q = p + 8;
            uint64_t hi = q < end ? *q : 0;
            v |= hi << (64 - sh);
        }
        out[i] = v & mask;
    }
}

static prw_status rle_err(prw__rd *rd, int64_t base, prw_error *err, const char *what, size_t got,
                          size_t want) {
    return prw__error_set(err, PRW_E_CORRUPT, base + prw__rd_pos(rd),
                          "RLE/bit-packed data %s after %zu of %zu values", what, got, want);
}

prw_status prw__pq_rle_decode_u32(prw__rd *rd, int bw, uint32_t *out, size_t n, int64_t base,
                                  prw_error *err) {
    if (bw < 0 || bw > 32)
        return prw__error_set(err, PRW_E_CORRUPT, base + prw__rd_pos(rd), "bit width %d > 32", bw);
    size_t got = 0;
    const size_t vbytes = ((size_t)bw + 7) / 8;
    while (got < n) {
        uint64_t h;
        if (!prw__rd_varint(rd, &h))
            return rle_err(rd, base, err, "ends", got, n);
        uint64_t count = h >> 1;
        if (h & 1) {
            /* bit-packed: count groups of 8 */
            if (count == 0 || count > (uint64_t)SIZE_MAX / 8 / 64)
                return rle_err(rd, base, err, "has an empty or huge bit-packed run", got, n);
            size_t vals = (size_t)count * 8;
            size_t bytes = (size_t)count * (size_t)bw;
            size_t take = vals < n - got ? vals : n - got;
            size_t avail = prw__rd_left(rd);
            /* A final run may be cut short after the last value needed. */
            size_t need = (take * (size_t)bw + 7) / 8;
            if (avail < need)
                return rle_err(rd, base, err, "is truncated in a bit-packed run", got, n);
            if (bw == 0)
                memset(out + got, 0, take * sizeof *out);
            else
                unpack32(rd->p, avail < bytes ? avail : bytes, bw, out + got, take);
            rd->p += avail < bytes ? avail : bytes;
            got += take;
        } else {
            if (count == 0)
                return rle_err(rd, base, err, "has an empty RLE run", got, n);
            uint32_t v = 0;
            if (!prw__rd_has(rd, vbytes))
                return rle_err(rd, base, err, "is truncated in an RLE run", got, n);
            for (size_t i = 0; i < vbytes; i++)
                v |= (uint32_t)rd->p[i] << (8 * i);
            rd->p += vbytes;
            if (bw < 32 && (v >> bw) != 0)
                return rle_err(rd, base, err, "has an RLE value wider than its bit width", got, n);
            size_t take = count < n - got ? (size_t)count : n - got;
            uint32_t *o = out + got;
            for (size_t i = 0; i < take; i++)
                o[i] = v;
            got += take;
        }
    }
    return PRW_OK;
}

prw_status prw__pq_rle_decode_u8(prw__rd *rd, int bw, uint8_t *out, size_t n, int64_t base,
                                 prw_error *err) {
    if (bw < 0 || bw > 8)
        return prw__error_set(err, PRW_E_CORRUPT, base + prw__rd_pos(rd), "bit width %d > 8", bw);
    size_t got = 0;
    uint32_t tmp[256];
    while (got < n) {
        uint64_t h;
        if (!prw__rd_varint(rd, &h))
            return rle_err(rd, base, err, "ends", got, n);
        uint64_t count = h >> 1;
        if (h & 1) {
            if (count == 0 || count > (uint64_t)SIZE_MAX / 8 / 64)
                return rle_err(rd, base, err, "has an empty or huge bit-packed run", got, n);
            size_t vals = (size_t)count * 8;
            size_t bytes = (size_t)count * (size_t)bw;
            size_t take = vals < n - got ? vals : n - got;
            size_t avail = prw__rd_left(rd);
            size_t need = (take * (size_t)bw + 7) / 8;
            if (avail < need)
                return rle_err(rd, base, err, "is truncated in a bit-packed run", got, n);
            const uint8_t *src = rd->p;
            size_t src_len = avail < bytes ? avail : bytes;
            if (bw == 1) {
                /* The common case (definition levels, booleans): bit i of byte i/8. */
                uint8_t *o = out + got;
                size_t full = take / 8;
                for (size_t b = 0; b < full; b++) {
                    unsigned x = src[b];
                    for (int k = 0; k < 8; k++)
                        o[b * 8 + (size_t)k] = (uint8_t)((x >> k) & 1);
                }
                for (size_t i = full * 8; i < take; i++)
                    o[i] = (uint8_t)((src[i >> 3] >> (i & 7)) & 1);
            } else if (bw == 0) {
                memset(out + got, 0, take);
            } else {
                size_t done = 0;
                while (done < take) {
                    size_t k = take - done < 256 ? take - done : 256;
                    /* k is a multiple of 8 except at the end, so byte offsets stay exact. */
                    size_t off = done * (size_t)bw / 8;
                    unpack32(src + off, src_len - off, bw, tmp, k);
                    for (size_t i = 0; i < k; i++)
                        out[got + done + i] = (uint8_t)tmp[i];
                    done += k;
                }
            }
            rd->p += src_len;
            got += take;
        } else {
            if (count == 0)
                return rle_err(rd, base, err, "has an empty RLE run", got, n);
            uint8_t v = 0;
            if (bw > 0) {
                if (!prw__rd_u8(rd, &v))
                    return rle_err(rd, base, err, "is truncated in an RLE run", got, n);
                if (bw < 8 && (v >> bw) != 0)
                    return rle_err(rd, base, err, "has an RLE value wider than its bit width", got,
                                   n);
            }
            size_t take = count < n - got ? (size_t)count : n - got;
            memset(out + got, v, take);
            got += take;
        }
    }
    return PRW_OK;
}

/* ---- DELTA_BINARY_PACKED ---------------------------------------------------------------- */

typedef struct delta_hdr {
    uint64_t block_size, miniblocks, total;
    int64_t first;
} delta_hdr;

static prw_status delta_header(prw__rd *rd, delta_hdr *h, int64_t base, prw_error *err) {
    uint64_t first;
    int64_t at = base + prw__rd_pos(rd);
    if (!prw__rd_varint(rd, &h->block_size) || !prw__rd_varint(rd, &h->miniblocks) ||
        !prw__rd_varint(rd, &h->total) || !prw__rd_varint(rd, &first))
        return prw__error_set(err, PRW_E_CORRUPT, at, "DELTA_BINARY_PACKED header truncated");
    h->first = prw__zigzag_dec(first);
    if (h->block_size == 0 || h->block_size % 128 != 0 || h->block_size > (1u << 20) ||
        h->miniblocks == 0 || h->block_size % h->miniblocks != 0 ||
        (h->block_size / h->miniblocks) % 32 != 0)
        return prw__error_set(err, PRW_E_CORRUPT, at,
                              "DELTA_BINARY_PACKED block size %llu / %llu miniblocks invalid",
                              (unsigned long long)h->block_size, (unsigned long long)h->miniblocks);
    return PRW_OK;
}

prw_status prw__pq_delta_count(const prw__rd *rd, size_t *count, int64_t base, prw_error *err) {
    prw__rd r = *rd;
    delta_hdr h;
    PRW_TRY(delta_header(&r, &h, base, err));
    if (h.total > (uint64_t)INT32_MAX)
        return prw__error_set(err, PRW_E_CORRUPT, base + prw__rd_pos(rd),
                              "DELTA_BINARY_PACKED count %llu too large",
                              (unsigned long long)h.total);
    *count = (size_t)h.total;
    return PRW_OK;
}

prw_status prw__pq_delta_decode(prw__rd *rd, int bits, int64_t *out, size_t n, int64_t base,
                                prw_error *err) {
    delta_hdr h;
    PRW_TRY(delta_header(rd, &h, base, err));
    if (h.total != n)
        return prw__error_set(err, PRW_E_CORRUPT, base + prw__rd_pos(rd),
                              "DELTA_BINARY_PACKED holds %llu values, the page needs %zu",
                              (unsigned long long)h.total, n);
    if (n == 0)
        return PRW_OK;
    const size_t mb_size = (size_t)(h.block_size / h.miniblocks);
    const size_t nmb = (size_t)h.miniblocks;
    uint64_t cur = (uint64_t)h.first;
    out[0] = (int64_t)cur;
    size_t got = 1;
    uint64_t buf[1024]; /* mb_size <= block_size; decode a miniblock in slices */
    while (got < n) {
        uint64_t zz;
        int64_t at = base + prw__rd_pos(rd);
        if (!prw__rd_varint(rd, &zz) || !prw__rd_has(rd, nmb))
            return prw__error_set(err, PRW_E_CORRUPT, at,
                                  "DELTA_BINARY_PACKED block header truncated");
        uint64_t min_delta = (uint64_t)prw__zigzag_dec(zz);
        const uint8_t *widths = rd->p;
        rd->p += nmb;
        for (size_t m = 0; m < nmb && got < n; m++) {
            int bw = widths[m];
            if (bw > bits)
                return prw__error_set(err, PRW_E_CORRUPT, base + prw__rd_pos(rd),
                                      "DELTA_BINARY_PACKED bit width %d > %d", bw, bits);
            size_t mb_bytes = mb_size * (size_t)bw / 8;
            size_t take = mb_size < n - got ? mb_size : n - got;
            size_t avail = prw__rd_left(rd);
            size_t need = (take * (size_t)bw + 7) / 8;
            if (avail < need)
                return prw__error_set(err, PRW_E_TRUNCATED, base + prw__rd_pos(rd),
                                      "DELTA_BINARY_PACKED miniblock truncated");
            size_t src_len = avail < mb_bytes ? avail : mb_bytes;
            size_t done = 0;
            while (done < take) {
                size_t k = take - done < 1024 ? take - done : 1024;
                size_t off = done * (size_t)bw / 8; /* done is a multiple of 8 */
                prw__pq_unpack64(rd->p + off, src_len - off, bw, buf, k);
                int64_t *o = out + got + done;
                for (size_t i = 0; i < k; i++) {
                    cur += min_delta + buf[i];
                    o[i] = (int64_t)cur;
                }
                done += k;
            }
            rd->p += src_len;
            got += take;
        }
    }
    return PRW_OK;
}
