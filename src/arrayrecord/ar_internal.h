/*
 * Internals of the ArrayRecord module: Riegeli block and chunk constants, the chunk header,
 * simple-chunk encoding and decoding, and reading chunks out of a file image with the block
 * headers skipped. Spec: ../shared/docs/ARRAYRECORD.md (§3 blocks, §4 chunks, §5 simple
 * chunks, §6 ArrayRecord footer and postscript).
 */
#ifndef PRW_ARRAYRECORD_AR_INTERNAL_H
#define PRW_ARRAYRECORD_AR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/codec.h"
#include "common/common.h"
#include "proberows/arrayrecord.h"

/* Riegeli cuts the file into 64 KiB blocks, each starting with a 24-byte block header, so a
 * reader can resynchronise after damage; chunk headers are 40 bytes. */
#define AR_BLOCK 65536u
#define AR_BLOCK_HDR 24u
#define AR_USABLE (AR_BLOCK - AR_BLOCK_HDR)
#define AR_CHUNK_HDR 40u

#define AR_CHUNK_SIGNATURE 0x73  /* 's' */
#define AR_CHUNK_METADATA 0x6d   /* 'm' */
#define AR_CHUNK_PADDING 0x70    /* 'p' */
#define AR_CHUNK_SIMPLE 0x72     /* 'r' */
#define AR_CHUNK_TRANSPOSED 0x74 /* 't' */

#define AR_COMP_NONE 0x00
#define AR_COMP_BROTLI 0x62 /* 'b' */
#define AR_COMP_ZSTD 0x7a   /* 'z' */
#define AR_COMP_SNAPPY 0x73 /* 's' */

/* RiegeliPostscript.magic */
#define AR_POSTSCRIPT_MAGIC 0x71930e704fdae05eull

/** HighwayHash-64 under Riegeli's key ("Riegeli/records\n" twice). */
uint64_t prw__ar_hash(const void *data, size_t n);

/**
 * prw_ar_chunk_encode of one record, the chunk appended to `out` (header, then data) instead
 * of returned in the encoder's buffer: a caller collecting chunks saves a copy of each.
 */
prw_status prw__ar_chunk_append(prw_ar_chunk_encoder *e, const void *record, size_t len,
                                prw__buf *out, prw_error *err);

/**
 * prw_ar_writer_add_chunk, the chunk written from where it lies: the caller keeps it unchanged
 * until prw__ar_writer_flush returns (chunks back to back in memory go out as one piece).
 */
prw_status prw__ar_writer_add_chunk_ref(prw_ar_writer *w, const void *chunk, size_t len,
                                        prw_error *err);
/** Hands the queued output to the file, after which referenced chunks may change. */
prw_status prw__ar_writer_flush(prw_ar_writer *w, prw_error *err);

/** A decoded chunk header. */
typedef struct prw__ar_chunk_hdr {
    uint64_t data_size;
    uint64_t data_hash;
    uint8_t type;
    uint64_t num_records; /* 56 bits */
    uint64_t decoded_size;
} prw__ar_chunk_hdr;

/** Serialises a chunk header (computing its header hash) into 40 bytes. */
void prw__ar_chunk_hdr_put(uint8_t out[AR_CHUNK_HDR], const prw__ar_chunk_hdr *h);

/** Fills a block header for a header at `pos` interrupting the chunk [begin, end). */
void prw__ar_block_hdr_put(uint8_t out[AR_BLOCK_HDR], uint64_t pos, uint64_t begin, uint64_t end);

/** Where the chunk beginning at `begin` with this header ends (next chunk begins), §4.3. */
uint64_t prw__ar_chunk_end(uint64_t begin, uint64_t data_size, uint64_t num_records);

/** A read-only file image (mmap or caller memory). */
typedef struct prw__ar_image {
    const uint8_t *data;
    uint64_t size;
} prw__ar_image;

/** Scratch storage for reading and decoding one chunk; reused between chunks. */
typedef struct prw__ar_chunkbuf {
    prw__buf gather;  /* chunk data when it crosses a block header */
    prw__buf sizes;   /* decompressed sizes stream */
    prw__buf values;  /* decompressed values stream */
    prw__buf offsets; /* num_records + 1 uint64 record offsets into `vals` */
    prw__codec_ctx *codec;
    /* result of the last decode */
    const uint8_t *vals;
    const uint64_t *offs;
    uint64_t num_records;
    uint8_t compression;
} prw__ar_chunkbuf;

void prw__ar_chunkbuf_init(prw__ar_chunkbuf *cb);
void prw__ar_chunkbuf_cleanup(prw__ar_chunkbuf *cb);

/**
 * Reads the chunk that begins at `begin`: checks any block header it crosses (hash and
 * distances), the chunk header hash, that the data lies inside the image and the data hash.
 * @param data receives a view of the data (into the image, or into cb->gather).
 * @param end receives where the chunk ends (§4.3), checked to lie inside the image.
 */
prw_status prw__ar_read_chunk(const prw__ar_image *img, uint64_t begin, prw__ar_chunkbuf *cb,
                              prw__ar_chunk_hdr *h, const uint8_t **data, uint64_t *end,
                              prw_error *err);

/**
 * Decodes a simple chunk's data (§5) into cb: record i is cb->vals[cb->offs[i] ..
 * cb->offs[i+1]). `off` is the chunk's file offset, for error messages. Allocations are
 * bounded by what the chunk's bytes can expand to.
 */
prw_status prw__ar_decode_simple(const prw__ar_chunk_hdr *h, const uint8_t *data, uint64_t off,
                                 prw__ar_chunkbuf *cb, prw_error *err);

/** Codec table entry for a compression; 0 (none) for uncompressed. */
prw__codec prw__ar_codec_of(prw_ar_compression c);
/** Chunk compression byte for a compression. */
uint8_t prw__ar_comp_byte(prw_ar_compression c);

#endif
