/* Codec table over libzstd, snappy, libdeflate, liblz4 and brotli (see codec.h). */
#include <brotli/decode.h>
#include <brotli/encode.h>
#include <libdeflate.h>
#include <lz4.h>
#include <snappy-c.h>
#include <zstd.h>

#include "common/codec.h"

struct prw__codec_ctx {
    ZSTD_CCtx *zc;
    ZSTD_DCtx *zd;
    struct libdeflate_decompressor *gd;
    struct libdeflate_compressor *gc;
    int gc_level;
};

prw_status prw__codec_ctx_create(prw__codec_ctx **out, prw_error *err) {
    *out = prw__calloc(1, sizeof **out);
    if (!*out)
        return prw__error_nomem(err, "a codec context", sizeof **out);
    return PRW_OK;
}

void prw__codec_ctx_destroy(prw__codec_ctx *ctx) {
    if (!ctx)
        return;
    ZSTD_freeCCtx(ctx->zc);
    ZSTD_freeDCtx(ctx->zd);
    if (ctx->gd)
        libdeflate_free_decompressor(ctx->gd);
    if (ctx->gc)
        libdeflate_free_compressor(ctx->gc);
    prw__free(ctx);
}

const char *prw__codec_name(prw__codec c) {
    static const char *const names[PRW_CODEC_COUNT] = {"none", "snappy",  "gzip",
                                                       "zstd", "lz4_raw", "brotli"};
    return (unsigned)c < PRW_CODEC_COUNT ? names[c] : "unknown";
}

size_t prw__codec_bound(prw__codec c, size_t n) {
    switch (c) {
    case PRW_CODEC_NONE:
        return n;
    case PRW_CODEC_SNAPPY:
        return snappy_max_compressed_length(n);
    case PRW_CODEC_GZIP:
        return n + n / 1000 + 64 + 18 * (n / 65536 + 1);
    case PRW_CODEC_ZSTD:
        return ZSTD_compressBound(n);
    case PRW_CODEC_LZ4_RAW:
        return n > LZ4_MAX_INPUT_SIZE ? 0 : (size_t)LZ4_compressBound((int)n);
    case PRW_CODEC_BROTLI:
        return BrotliEncoderMaxCompressedSize(n);
    default:
        return 0;
    }
}

static prw_status zstd_compress(prw__codec_ctx *ctx, const prw__codec_opts *o, const void *src,
                                size_t n, void *dst, size_t cap, size_t *out_len, prw_error *err) {
    ZSTD_CCtx *zc = ctx ? ctx->zc : NULL;
    if (!zc) {
        zc = ZSTD_createCCtx();
        if (!zc)
            return prw__error_nomem(err, "a zstd context", 0);
        if (ctx)
            ctx->zc = zc;
    }
    ZSTD_CCtx_reset(zc, ZSTD_reset_session_and_parameters);
    int level = o && o->level ? o->level : 3;
    ZSTD_CCtx_setParameter(zc, ZSTD_c_compressionLevel, level);
    if (o && o->window_log)
        ZSTD_CCtx_setParameter(zc, ZSTD_c_windowLog, o->window_log);
    size_t r = ZSTD_compress2(zc, dst, cap, src, n);
    if (!ctx)
        ZSTD_freeCCtx(zc);
    if (ZSTD_isError(r))
        return prw__error_set(err, PRW_E_CODEC, -1, "zstd compression failed: %s",
                              ZSTD_getErrorName(r));
    *out_len = r;
    return PRW_OK;
}

static prw_status gzip_compress(prw__codec_ctx *ctx, const prw__codec_opts *o, const void *src,
                                size_t n, void *dst, size_t cap, size_t *out_len, prw_error *err) {
    int level = o && o->level ? o->level : 6;
    struct libdeflate_compressor *gc = NULL;
    if (ctx && ctx->gc && ctx->gc_level == level)
        gc = ctx->gc;
    if (!gc) {
        gc = libdeflate_alloc_compressor(level);
        if (!gc)
            return prw__error_set(err, PRW_E_CODEC, -1, "bad gzip level %d", level);
        if (ctx) {
            if (ctx->gc)
                libdeflate_free_compressor(ctx->gc);
            ctx->gc = gc;
            ctx->gc_level = level;
        }
    }
    size_t r = libdeflate_gzip_compress(gc, src, n, dst, cap);
    if (!ctx)
        libdeflate_free_compressor(gc);
    if (r == 0)
        return prw__error_set(err, PRW_E_CODEC, -1, "gzip output exceeds %zu bytes", cap);
    *out_len = r;
    return PRW_OK;
}

/* Brotli with an explicit quality and window (the one-shot API has no window parameter). */
prw_status prw__codec_compress_brotli(int quality, int window_log, const void *src, size_t n,
                                      void *dst, size_t cap, size_t *out_len, prw_error *err) {
    BrotliEncoderState *s = BrotliEncoderCreateInstance(NULL, NULL, NULL);
    if (!s)
        return prw__error_nomem(err, "a brotli encoder", 0);
    int w = window_log ? window_log : BROTLI_DEFAULT_WINDOW;
    bool ok = BrotliEncoderSetParameter(s, BROTLI_PARAM_QUALITY, (uint32_t)quality) &&
              BrotliEncoderSetParameter(s, BROTLI_PARAM_LARGE_WINDOW, w > BROTLI_MAX_WINDOW_BITS) &&
              BrotliEncoderSetParameter(s, BROTLI_PARAM_LGWIN, (uint32_t)w) &&
              BrotliEncoderSetParameter(s, BROTLI_PARAM_SIZE_HINT,
                                        n > UINT32_MAX ? UINT32_MAX : (uint32_t)n);
    size_t avail_in = n, avail_out = cap;
    const uint8_t *next_in = src;
    uint8_t *next_out = dst;
    ok = ok && BrotliEncoderCompressStream(s, BROTLI_OPERATION_FINISH, &avail_in, &next_in,
                                           &avail_out, &next_out, NULL);
    ok = ok && BrotliEncoderIsFinished(s);
    BrotliEncoderDestroyInstance(s);
    if (!ok)
        return prw__error_set(err, PRW_E_CODEC, -1,
                              "brotli compression failed (quality %d, window %d)", quality, w);
    *out_len = cap - avail_out;
    return PRW_OK;
}

/* Brotli decoding with "large window" streams accepted (Riegeli writes them for window_log
 * above 24). The ring buffer grows with the output actually produced, bounded by `expected`. */
static prw_status brotli_decompress(const uint8_t *src, size_t n, uint8_t *dst, size_t expected,
                                    prw_error *err) {
    BrotliDecoderState *s = BrotliDecoderCreateInstance(NULL, NULL, NULL);
    if (!s)
        return prw__error_nomem(err, "a brotli decoder", 0);
    BrotliDecoderSetParameter(s, BROTLI_DECODER_PARAM_LARGE_WINDOW, 1);
    size_t avail_in = n, avail_out = expected;
    const uint8_t *next_in = src;
    uint8_t *next_out = dst;
    BrotliDecoderResult r =
        BrotliDecoderDecompressStream(s, &avail_in, &next_in, &avail_out, &next_out, NULL);
    BrotliDecoderDestroyInstance(s);
    PRW_CHECK(r == BROTLI_DECODER_RESULT_SUCCESS, err, PRW_E_CODEC, -1,
              "malformed brotli data or more than the expected %zu bytes", expected);
    PRW_CHECK(avail_out == 0 && avail_in == 0, err, PRW_E_CODEC, -1,
              "brotli data gives %zu bytes from %zu of %zu input bytes, expected %zu",
              expected - avail_out, n - avail_in, n, expected);
    return PRW_OK;
}

prw_status prw__codec_compress(prw__codec_ctx *ctx, prw__codec c, const prw__codec_opts *opts,
                               const void *src, size_t n, void *dst, size_t cap, size_t *out_len,
                               prw_error *err) {
    switch (c) {
    case PRW_CODEC_NONE:
        PRW_CHECK(cap >= n, err, PRW_E_LIMIT, -1, "output buffer too small");
        if (n)
            memcpy(dst, src, n);
        *out_len = n;
        return PRW_OK;
    case PRW_CODEC_SNAPPY: {
        size_t len = cap;
        if (snappy_compress(src, n, dst, &len) != SNAPPY_OK)
            return prw__error_set(err, PRW_E_CODEC, -1, "snappy compression failed");
        *out_len = len;
        return PRW_OK;
    }
    case PRW_CODEC_GZIP:
        return gzip_compress(ctx, opts, src, n, dst, cap, out_len, err);
    case PRW_CODEC_ZSTD:
        return zstd_compress(ctx, opts, src, n, dst, cap, out_len, err);
    case PRW_CODEC_LZ4_RAW: {
        PRW_CHECK(n <= LZ4_MAX_INPUT_SIZE && cap <= INT32_MAX * 1ull, err, PRW_E_LIMIT, -1,
                  "input of %zu bytes too large for lz4", n);
        int r = LZ4_compress_default(src, dst, (int)n, (int)cap);
        if (r <= 0)
            return prw__error_set(err, PRW_E_CODEC, -1, "lz4 compression failed");
        *out_len = (size_t)r;
        return PRW_OK;
    }
    case PRW_CODEC_BROTLI: {
        size_t len = cap;
        int q = opts && opts->level ? opts->level : BROTLI_DEFAULT_QUALITY;
        if (!BrotliEncoderCompress(q, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, n, src, &len,
                                   dst))
            return prw__error_set(err, PRW_E_CODEC, -1, "brotli compression failed");
        *out_len = len;
        return PRW_OK;
    }
    default:
        return prw__error_set(err, PRW_E_INVALID, -1, "unknown codec %d", (int)c);
    }
}

static prw_status gzip_decompress(prw__codec_ctx *ctx, const uint8_t *src, size_t n, uint8_t *dst,
                                  size_t expected, prw_error *err) {
    struct libdeflate_decompressor *gd = ctx ? ctx->gd : NULL;
    if (!gd) {
        gd = libdeflate_alloc_decompressor();
        if (!gd)
            return prw__error_nomem(err, "a gzip decompressor", 0);
        if (ctx)
            ctx->gd = gd;
    }
    prw_status st = PRW_OK;
    size_t in_pos = 0, out_pos = 0;
    /* A gzip stream may be several members back to back (e.g. written in parts). */
    do {
        size_t in_used = 0, out_used = 0;
        enum libdeflate_result r = libdeflate_gzip_decompress_ex(
            gd, src + in_pos, n - in_pos, dst + out_pos, expected - out_pos, &in_used, &out_used);
        if (r != LIBDEFLATE_SUCCESS) {
            st = prw__error_set(err, PRW_E_CODEC, (int64_t)in_pos,
                                r == LIBDEFLATE_INSUFFICIENT_SPACE
                                    ? "gzip data expands beyond the expected %zu bytes"
                                    : "malformed gzip data (expected %zu bytes)",
                                expected);
            break;
        }
        in_pos += in_used;
        out_pos += out_used;
    } while (in_pos < n && out_pos < expected);
    if (st == PRW_OK && (out_pos != expected || in_pos != n))
        st = prw__error_set(err, PRW_E_CODEC, -1,
                            "gzip data gives %zu bytes from %zu of %zu input bytes, expected %zu",
                            out_pos, in_pos, n, expected);
    if (!ctx)
        libdeflate_free_decompressor(gd);
    return st;
}

static prw_status zstd_decompress(prw__codec_ctx *ctx, const void *src, size_t n, void *dst,
                                  size_t expected, prw_error *err) {
    ZSTD_DCtx *zd = ctx ? ctx->zd : NULL;
    if (!zd) {
        zd = ZSTD_createDCtx();
        if (!zd)
            return prw__error_nomem(err, "a zstd context", 0);
        if (ctx)
            ctx->zd = zd;
    }
    size_t r = ZSTD_decompressDCtx(zd, dst, expected, src, n);
    if (!ctx)
        ZSTD_freeDCtx(zd);
    if (ZSTD_isError(r))
        return prw__error_set(err, PRW_E_CODEC, -1,
                              "malformed zstd data: %s (%zu compressed bytes, expected %zu)",
                              ZSTD_getErrorName(r), n, expected);
    if (r != expected)
        return prw__error_set(err, PRW_E_CODEC, -1, "zstd data gives %zu bytes, expected %zu", r,
                              expected);
    return PRW_OK;
}

prw_status prw__codec_decompress(prw__codec_ctx *ctx, prw__codec c, const void *src, size_t n,
                                 void *dst, size_t expected, prw_error *err) {
    switch (c) {
    case PRW_CODEC_NONE:
        PRW_CHECK(n == expected, err, PRW_E_CORRUPT, -1,
                  "uncompressed data has %zu bytes, expected %zu", n, expected);
        if (n)
            memcpy(dst, src, n);
        return PRW_OK;
    case PRW_CODEC_SNAPPY: {
        size_t len = 0;
        PRW_CHECK(snappy_uncompressed_length(src, n, &len) == SNAPPY_OK, err, PRW_E_CODEC, -1,
                  "malformed snappy header (%zu compressed bytes)", n);
        PRW_CHECK(len == expected, err, PRW_E_CODEC, -1,
                  "snappy data announces %zu bytes, expected %zu", len, expected);
        len = expected;
        PRW_CHECK(snappy_uncompress(src, n, dst, &len) == SNAPPY_OK && len == expected, err,
                  PRW_E_CODEC, -1, "malformed snappy data (%zu compressed bytes, expected %zu)", n,
                  expected);
        return PRW_OK;
    }
    case PRW_CODEC_GZIP:
        return gzip_decompress(ctx, src, n, dst, expected, err);
    case PRW_CODEC_ZSTD:
        return zstd_decompress(ctx, src, n, dst, expected, err);
    case PRW_CODEC_LZ4_RAW: {
        PRW_CHECK(n <= INT32_MAX && expected <= INT32_MAX, err, PRW_E_LIMIT, -1,
                  "lz4 block too large");
        int r = LZ4_decompress_safe(src, dst, (int)n, (int)expected);
        PRW_CHECK(r >= 0, err, PRW_E_CODEC, -1,
                  "malformed lz4 block (%zu compressed bytes, expected %zu)", n, expected);
        PRW_CHECK((size_t)r == expected, err, PRW_E_CODEC, -1,
                  "lz4 block gives %d bytes, expected %zu", r, expected);
        return PRW_OK;
    }
    case PRW_CODEC_BROTLI:
        return brotli_decompress(src, n, dst, expected, err);
    default:
        return prw__error_set(err, PRW_E_INVALID, -1, "unknown codec %d", (int)c);
    }
}
