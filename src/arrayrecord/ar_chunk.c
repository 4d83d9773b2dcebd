/*
 * Riegeli chunks (ARRAYRECORD.md §3-§5): the keyed HighwayHash, block and chunk headers, the
 * chunk-end formula, reading one chunk out of a file image with the interrupting block
 * headers checked and skipped, and decoding a simple chunk into record offsets.
 *
 * Everything read from the image is untrusted: sizes are checked against the bytes that are
 * present before anything is allocated, and a decompressed size is only believed up to the
 * largest expansion the codec can achieve on the compressed bytes at hand.
 */
#include "arrayrecord/ar_internal.h"
#include "common/hash.h"

/* "Riegeli/records\n" read as two little-endian words, twice (riegeli/base/chain.h). */
static const uint64_t g_key[4] = {0x2f696c6567656952ull, 0x0a7364726f636572ull,
                                  0x2f696c6567656952ull, 0x0a7364726f636572ull};

uint64_t prw__ar_hash(const void *data, size_t n) {
    return prw__highwayhash64(g_key, data, n);
}

void prw__ar_chunk_hdr_put(uint8_t out[AR_CHUNK_HDR], const prw__ar_chunk_hdr *h) {
    prw__store_le64(out + 8, h->data_size);
    prw__store_le64(out + 16, h->data_hash);
    prw__store_le64(out + 24, (uint64_t)h->type | (h->num_records << 8));
    prw__store_le64(out + 32, h->decoded_size);
    prw__store_le64(out, prw__ar_hash(out + 8, AR_CHUNK_HDR - 8));
}

void prw__ar_block_hdr_put(uint8_t out[AR_BLOCK_HDR], uint64_t pos, uint64_t begin, uint64_t end) {
    prw__store_le64(out + 8, pos - begin);
    prw__store_le64(out + 16, end - pos);
    prw__store_le64(out, prw__ar_hash(out + 8, 16));
}

/* Number of block headers inside n chunk bytes written from pos (§4.3). */
static uint64_t add_overhead(uint64_t pos, uint64_t n) {
    uint64_t headers = (n + (pos + AR_USABLE - 1) % AR_BLOCK) / AR_USABLE;
    return pos + n + AR_BLOCK_HDR * headers;
}

/* Moves pos out of [boundary+1, boundary+24]: chunks never end inside a block header. */
static uint64_t round_up(uint64_t pos) {
    uint64_t rem = (AR_BLOCK - pos % AR_BLOCK) % AR_BLOCK;
    return rem > AR_USABLE - 1 ? pos + (rem - (AR_USABLE - 1)) : pos;
}

uint64_t prw__ar_chunk_end(uint64_t begin, uint64_t data_size, uint64_t num_records) {
    uint64_t a = add_overhead(begin, AR_CHUNK_HDR + data_size);
    uint64_t b = round_up(begin + num_records);
    return a > b ? a : b;
}

void prw__ar_chunkbuf_init(prw__ar_chunkbuf *cb) {
    memset(cb, 0, sizeof *cb);
}

void prw__ar_chunkbuf_cleanup(prw__ar_chunkbuf *cb) {
    prw__buf_cleanup(&cb->gather);
    prw__buf_cleanup(&cb->sizes);
    prw__buf_cleanup(&cb->values);
    prw__buf_cleanup(&cb->offsets);
    prw__codec_ctx_destroy(cb->codec);
    memset(cb, 0, sizeof *cb);
}

/*
 * Copies n chunk bytes from logical position *pos (skipping block headers) into dst and
 * advances *pos past them. Returns the physical offset of the first byte copied.
 */
static prw_status read_logical(const prw__ar_image *img, uint64_t *pos, uint8_t *dst, size_t n,
                               uint64_t chunk_begin, uint64_t *first, prw_error *err) {
    uint64_t p = *pos;
    bool first_set = false;
    while (n > 0) {
        if (p % AR_BLOCK == 0)
            p += AR_BLOCK_HDR;
        if (!first_set) {
            *first = p;
            first_set = true;
        }
        uint64_t take = AR_BLOCK - p % AR_BLOCK;
        if (take > n)
            take = n;
        PRW_CHECK(p <= img->size && take <= img->size - p, err, PRW_E_TRUNCATED,
                  (int64_t)chunk_begin, "chunk at %llu is cut off by the end of the file",
                  (unsigned long long)chunk_begin);
        memcpy(dst, img->data + p, take);
        dst += take;
        n -= take;
        p += take;
    }
    *pos = p;
    return PRW_OK;
}

/* Checks every block header inside [begin, end): hash and the distances to the chunk. */
static prw_status check_block_headers(const prw__ar_image *img, uint64_t begin, uint64_t end,
                                      prw_error *err) {
    uint64_t p = (begin + AR_BLOCK - 1) / AR_BLOCK * AR_BLOCK;
    for (; p < end; p += AR_BLOCK) {
        const uint8_t *b = img->data + p;
        PRW_CHECK(prw__load_le64(b) == prw__ar_hash(b + 8, 16), err, PRW_E_CHECKSUM, (int64_t)p,
                  "block header hash mismatch at %llu", (unsigned long long)p);
        uint64_t prev = prw__load_le64(b + 8), next = prw__load_le64(b + 16);
        PRW_CHECK(prev == p - begin && next == end - p, err, PRW_E_CORRUPT, (int64_t)p,
                  "block header at %llu points to a chunk at %llu..%llu, expected %llu..%llu",
                  (unsigned long long)p, (unsigned long long)(p - prev),
                  (unsigned long long)(p + next), (unsigned long long)begin,
                  (unsigned long long)end);
    }
    return PRW_OK;
}

prw_status prw__ar_read_chunk(const prw__ar_image *img, uint64_t begin, prw__ar_chunkbuf *cb,
                              prw__ar_chunk_hdr *h, const uint8_t **data, uint64_t *end,
                              prw_error *err) {
    uint8_t hdr[AR_CHUNK_HDR];
    uint64_t pos = begin, hdr_at = 0;
    PRW_CHECK(begin < img->size, err, PRW_E_TRUNCATED, (int64_t)begin,
              "chunk offset %llu is beyond the end of the file (%llu bytes)",
              (unsigned long long)begin, (unsigned long long)img->size);
    if (begin % AR_BLOCK == 0 && begin + AR_BLOCK_HDR <= img->size) {
        const uint8_t *b = img->data + begin;
        PRW_CHECK(prw__load_le64(b) == prw__ar_hash(b + 8, 16), err, PRW_E_CHECKSUM, (int64_t)begin,
                  "block header hash mismatch at %llu", (unsigned long long)begin);
    }
    PRW_TRY(read_logical(img, &pos, hdr, sizeof hdr, begin, &hdr_at, err));
    PRW_CHECK(prw__load_le64(hdr) == prw__ar_hash(hdr + 8, AR_CHUNK_HDR - 8), err, PRW_E_CHECKSUM,
              (int64_t)hdr_at, "chunk header hash mismatch at %llu", (unsigned long long)hdr_at);
    h->data_size = prw__load_le64(hdr + 8);
    h->data_hash = prw__load_le64(hdr + 16);
    uint64_t tr = prw__load_le64(hdr + 24);
    h->type = (uint8_t)tr;
    h->num_records = tr >> 8;
    h->decoded_size = prw__load_le64(hdr + 32);
    PRW_CHECK(h->data_size <= img->size && h->num_records <= img->size, err, PRW_E_CORRUPT,
              (int64_t)hdr_at,
              "chunk at %llu announces %llu data bytes and %llu records, more than the file "
              "holds",
              (unsigned long long)begin, (unsigned long long)h->data_size,
              (unsigned long long)h->num_records);
    uint64_t e = prw__ar_chunk_end(begin, h->data_size, h->num_records);
    PRW_CHECK(e <= img->size, err, PRW_E_TRUNCATED, (int64_t)begin,
              "chunk at %llu ends at %llu, beyond the end of the file (%llu bytes)",
              (unsigned long long)begin, (unsigned long long)e, (unsigned long long)img->size);
    PRW_TRY(check_block_headers(img, begin, e, err));
    uint64_t dpos = pos;
    if (h->data_size > 0 && dpos % AR_BLOCK == 0)
        dpos += AR_BLOCK_HDR;
    if (h->data_size <= AR_BLOCK - dpos % AR_BLOCK) {
        *data = img->data + dpos;
    } else {
        PRW_TRY(prw__buf_resize(&cb->gather, (size_t)h->data_size, err));
        uint64_t ignored;
        PRW_TRY(
            read_logical(img, &pos, cb->gather.data, (size_t)h->data_size, begin, &ignored, err));
        *data = cb->gather.data;
    }
    PRW_CHECK(prw__ar_hash(*data, (size_t)h->data_size) == h->data_hash, err, PRW_E_CHECKSUM,
              (int64_t)dpos, "chunk data hash mismatch in the chunk at %llu (data at %llu)",
              (unsigned long long)begin, (unsigned long long)dpos);
    *end = e;
    return PRW_OK;
}

/* Largest expansion a codec can achieve (ratio) plus a constant, to bound allocations by
 * the compressed bytes present: zstd's RLE blocks give 4 bytes -> 128 KiB, snappy's copies
 * 3 bytes -> 64 bytes, brotli's single-symbol codes with 24-bit copy lengths ~3 bytes -> 16
 * MiB. */
static uint64_t max_expansion(uint8_t comp, uint64_t clen) {
    switch (comp) {
    case AR_COMP_ZSTD:
        return clen * (1u << 16) + 64;
    case AR_COMP_SNAPPY:
        return clen * 32 + 64;
    case AR_COMP_BROTLI:
        return clen * (1u << 22) + 64;
    default:
        return clen;
    }
}

static prw__codec codec_of_byte(uint8_t comp) {
    switch (comp) {
    case AR_COMP_ZSTD:
        return PRW_CODEC_ZSTD;
    case AR_COMP_SNAPPY:
        return PRW_CODEC_SNAPPY;
    case AR_COMP_BROTLI:
        return PRW_CODEC_BROTLI;
    default:
        return PRW_CODEC_NONE;
    }
}

/* Decompresses one block (varint uncompressed length + stream) into out. */
static prw_status decompress_block(prw__ar_chunkbuf *cb, uint8_t comp, const uint8_t *p, size_t n,
                                   prw__buf *out, const uint8_t **res, uint64_t *len,
                                   const char *what, uint64_t off, prw_error *err) {
    prw__rd rd;
    prw__rd_init(&rd, p, n);
    uint64_t raw;
    PRW_CHECK(prw__rd_varint(&rd, &raw), err, PRW_E_CORRUPT, (int64_t)off,
              "bad %s length in the chunk at %llu", what, (unsigned long long)off);
    size_t clen = prw__rd_left(&rd);
    PRW_CHECK(raw <= max_expansion(comp, clen) && raw <= SIZE_MAX / 2, err, PRW_E_CORRUPT,
              (int64_t)off, "%s of the chunk at %llu claims %llu bytes from %zu compressed", what,
              (unsigned long long)off, (unsigned long long)raw, clen);
    if (!cb->codec)
        PRW_TRY(prw__codec_ctx_create(&cb->codec, err));
    PRW_TRY(prw__buf_resize(out, (size_t)raw, err));
    prw_status st =
        prw__codec_decompress(cb->codec, codec_of_byte(comp), rd.p, clen, out->data, raw, err);
    if (st < 0) {
        prw__error_prefix(err, "%s of the chunk at %llu: ", what, (unsigned long long)off);
        if (err)
            err->offset = (int64_t)off;
        return st;
    }
    static const uint8_t empty[1];
    *res = raw ? out->data : empty; /* an empty buffer may have no storage */
    *len = raw;
    return PRW_OK;
}

prw_status prw__ar_decode_simple(const prw__ar_chunk_hdr *h, const uint8_t *data, uint64_t off,
                                 prw__ar_chunkbuf *cb, prw_error *err) {
    unsigned long long o = (unsigned long long)off;
    PRW_CHECK(h->type == AR_CHUNK_SIMPLE, err,
              h->type == AR_CHUNK_TRANSPOSED ? PRW_E_UNSUPPORTED : PRW_E_CORRUPT, (int64_t)off,
              h->type == AR_CHUNK_TRANSPOSED
                  ? "chunk at %llu is transposed (type 't'), which is unsupported"
                  : "chunk at %llu has type 0x%02x, expected a simple chunk ('r')",
              o, h->type);
    prw__rd rd;
    prw__rd_init(&rd, data, (size_t)h->data_size);
    uint8_t comp;
    uint64_t sizes_len;
    PRW_CHECK(prw__rd_u8(&rd, &comp), err, PRW_E_CORRUPT, (int64_t)off,
              "simple chunk at %llu has no data", o);
    PRW_CHECK(comp == AR_COMP_NONE || comp == AR_COMP_ZSTD || comp == AR_COMP_BROTLI ||
                  comp == AR_COMP_SNAPPY,
              err, PRW_E_CORRUPT, (int64_t)off, "chunk at %llu has unknown compression type 0x%02x",
              o, comp);
    PRW_CHECK(prw__rd_varint(&rd, &sizes_len) && sizes_len <= prw__rd_left(&rd), err, PRW_E_CORRUPT,
              (int64_t)off, "bad sizes length in the chunk at %llu", o);
    const uint8_t *sizes = rd.p, *vals = rd.p + sizes_len;
    uint64_t nsizes = sizes_len, nvals = prw__rd_left(&rd) - sizes_len;
    if (comp != AR_COMP_NONE) {
        PRW_TRY(decompress_block(cb, comp, sizes, (size_t)sizes_len, &cb->sizes, &sizes, &nsizes,
                                 "sizes", off, err));
        PRW_TRY(decompress_block(cb, comp, vals, (size_t)nvals, &cb->values, &vals, &nvals,
                                 "values", off, err));
    }
    PRW_CHECK(nvals == h->decoded_size, err, PRW_E_CORRUPT, (int64_t)off,
              "chunk at %llu holds %llu value bytes, its header says %llu", o,
              (unsigned long long)nvals, (unsigned long long)h->decoded_size);
    /* Each size takes at least one byte, so the offsets array is bounded by the sizes. */
    PRW_CHECK(h->num_records <= nsizes, err, PRW_E_CORRUPT, (int64_t)off,
              "chunk at %llu announces %llu records but has %llu bytes of sizes", o,
              (unsigned long long)h->num_records, (unsigned long long)nsizes);
    PRW_TRY(prw__buf_resize(&cb->offsets, ((size_t)h->num_records + 1) * sizeof(uint64_t), err));
    uint64_t *offs = (uint64_t *)(void *)cb->offsets.data;
    prw__rd sr;
    prw__rd_init(&sr, sizes, (size_t)nsizes);
    uint64_t acc = 0;
    offs[0] = 0;
    for (uint64_t i = 0; i < h->num_records; i++) {
        uint64_t len;
        PRW_CHECK(prw__rd_varint(&sr, &len), err, PRW_E_CORRUPT, (int64_t)off,
                  "chunk at %llu: bad size of record %llu", o, (unsigned long long)i);
        PRW_CHECK(len <= nvals - acc, err, PRW_E_CORRUPT, (int64_t)off,
                  "chunk at %llu: record %llu overruns the values", o, (unsigned long long)i);
        acc += len;
        offs[i + 1] = acc;
    }
    PRW_CHECK(prw__rd_left(&sr) == 0 && acc == nvals, err, PRW_E_CORRUPT, (int64_t)off,
              "chunk at %llu: the record sizes do not account for its %llu value bytes", o,
              (unsigned long long)nvals);
    cb->vals = vals;
    cb->offs = offs;
    cb->num_records = h->num_records;
    cb->compression = comp;
    return PRW_OK;
}
