/*
 * The compression table shared by the formats: whole-buffer compress and decompress for
 * none / snappy / gzip / zstd / lz4 (raw block) / brotli. Decompression always targets an
 * exact, caller-known size that the caller has bounded first: nothing here trusts a size read
 * from a file, and producing more or fewer bytes than expected is an error.
 */
#ifndef PRW_COMMON_CODEC_H
#define PRW_COMMON_CODEC_H

#include <stddef.h>

#include "common/common.h"

typedef enum prw__codec {
    PRW_CODEC_NONE = 0,
    PRW_CODEC_SNAPPY,
    PRW_CODEC_GZIP,    /* RFC 1952; concatenated members are decoded in sequence */
    PRW_CODEC_ZSTD,    /* one or more frames */
    PRW_CODEC_LZ4_RAW, /* one LZ4 block, no framing */
    PRW_CODEC_BROTLI,
    PRW_CODEC_COUNT
} prw__codec;

/** Compression settings; 0 means the codec's default. */
typedef struct prw__codec_opts {
    int level;
    int window_log; /* zstd only */
} prw__codec_opts;

/** Per-thread reusable codec state (zstd/libdeflate contexts). Not thread-safe. */
typedef struct prw__codec_ctx prw__codec_ctx;

prw_status prw__codec_ctx_create(prw__codec_ctx **out, prw_error *err);
void prw__codec_ctx_destroy(prw__codec_ctx *ctx);

const char *prw__codec_name(prw__codec c);

/** Largest compressed size for n input bytes (0 if n is too large for the codec). */
size_t prw__codec_bound(prw__codec c, size_t n);

/**
 * Compresses src into dst (capacity cap, at least prw__codec_bound). `ctx` may be NULL.
 * Errors: PRW_E_CODEC, PRW_E_LIMIT (input too large for the codec), PRW_E_NOMEM.
 */
prw_status prw__codec_compress(prw__codec_ctx *ctx, prw__codec c, const prw__codec_opts *opts,
                               const void *src, size_t n, void *dst, size_t cap, size_t *out_len,
                               prw_error *err);

/**
 * Brotli with an explicit quality (0..11, 0 included) and window (10..30; above 24 brotli's
 * non-standard "large window" mode, which Riegeli uses). Errors: PRW_E_CODEC, PRW_E_NOMEM.
 */
prw_status prw__codec_compress_brotli(int quality, int window_log, const void *src, size_t n,
                                      void *dst, size_t cap, size_t *out_len, prw_error *err);

/**
 * Decompresses exactly `expected` bytes into dst. Fewer or more bytes, or malformed input,
 * is PRW_E_CODEC (or PRW_E_CORRUPT for a framing error). `ctx` may be NULL.
 */
prw_status prw__codec_decompress(prw__codec_ctx *ctx, prw__codec c, const void *src, size_t n,
                                 void *dst, size_t expected, prw_error *err);

#endif
