/*
 * bzip2 decoding of our own (issue #18): a block decoder (table-driven Huffman, inverse MTF,
 * inverse BWT, RLE1 undo, CRC), a block finder for the bit-aligned block magic, and an ordered
 * reader that decodes the blocks of one file on several threads with bounded memory.
 *
 * Format (as described by the bzip2 sources' documentation and Joe Tsai's "bzip2 format
 * specification"): a stream is "BZh" + '1'..'9' (block size in 100 kB), then blocks, each
 * starting at any bit with the 48-bit magic 0x314159265359, then the 48-bit end-of-stream
 * magic 0x177245385090, a 32-bit combined CRC and padding to a byte. Bits are read MSB first.
 * A block: CRC32, randomised bit, 24-bit origin pointer, the 16x16-bit map of bytes in use,
 * 3-bit group count (2..6), 15-bit selector count, unary MTF-coded selectors, delta-coded code
 * lengths (1..20) per group, then Huffman symbols in groups of 50 (RUNA/RUNB run lengths, MTF
 * indices, end of block). The decoded vector is the BWT of the RLE1-coded data.
 *
 * Errors name the input and carry the compressed byte offset in err->offset. Where libbz2
 * (1.0.8) accepts malformed input, this decoder accepts it with the same result; where it
 * rejects, this one rejects (the bz_decode fuzz target checks the two agree).
 */
#ifndef PRW_BZIP2_BZ_H
#define PRW_BZIP2_BZ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/* ---- the reader ------------------------------------------------------------------------ */

typedef struct prw__bz_reader prw__bz_reader;

/*
 * Decodes the bzip2 data held whole in data[0..size) (typically a mmap'd file): one stream or
 * several concatenated (pbzip2/lbzip2 output), on `threads` threads (1 = on the caller's
 * thread, no thread started; so is small data with a single block, which threads cannot
 * speed up). At most about `max_buffered` decoded bytes are held ahead of the
 * consumer. `name` is used in messages. `data` must stay valid until destroy.
 */
prw_status prw__bz_reader_create(const uint8_t *data, size_t size, const char *name, int threads,
                                 size_t max_buffered, prw__bz_reader **out, prw_error *err);
/*
 * The next decoded bytes, in order; *len == 0 at the end of the data. Valid until the next
 * call. A corrupt or truncated input is an error naming `name` and the compressed byte offset;
 * never a short read. Empty input, a stream header other than "BZh1".."BZh9", trailing bytes
 * after the last stream and a truncated last block are errors. After an error every further
 * call returns the same error.
 */
prw_status prw__bz_reader_next(prw__bz_reader *r, const uint8_t **data, size_t *len,
                               prw_error *err);
void prw__bz_reader_destroy(prw__bz_reader *r); /* NULL ok; stops and joins its threads */
/** The most decoded bytes held in finished blocks at once so far (0 with one thread): at most
 * max_buffered + threads blocks, as a worker starts a block ahead only below max_buffered. */
size_t prw__bz_reader_peak_buffered(prw__bz_reader *r);

/* ---- block decoder (used by the reader; exposed for tests and the bench) ------------------ */

#define PRW_BZ_BLOCK_MAGIC 0x314159265359ULL
#define PRW_BZ_EOS_MAGIC 0x177245385090ULL
#define PRW_BZ_MAX_BLOCK 900000 /* level 9: 9 x 100000 bytes before the BWT */

/** Per-thread scratch of the block decoder (a few MB, reused from block to block). */
typedef struct prw__bz_work prw__bz_work;

prw_status prw__bz_work_create(prw__bz_work **out, prw_error *err);
void prw__bz_work_destroy(prw__bz_work *w);

/** What a decoded block says about itself, checked by the caller against its stream. */
typedef struct prw__bz_block {
    uint64_t end_bit;    /* bit offset just after the block's end-of-block symbol */
    uint32_t stored_crc; /* the CRC in the block header */
    uint32_t crc;        /* the CRC of the decoded bytes (checked equal by the decoder) */
    uint32_t nblock;     /* BWT block size (limit: 100000 x the stream's level) */
    bool randomised;
} prw__bz_block;

/**
 * Decodes the block whose 48-bit magic starts at bit `bit` of data[0..size) (the magic itself
 * is not checked), appending its bytes to `out` (cleared first). `max_nblock` is 100000 times
 * the stream's level (PRW_BZ_MAX_BLOCK when unknown: the caller checks info->nblock later).
 * Errors: PRW_E_CORRUPT (structure), PRW_E_TRUNCATED (data ends inside the block),
 * PRW_E_CHECKSUM (block CRC), PRW_E_NOMEM. PRW_DONE (out and info unspecified) when
 * *w->cancel became true during the decode.
 */
prw_status prw__bz_decode_block(const uint8_t *data, size_t size, uint64_t bit, uint32_t max_nblock,
                                const char *name, prw__bz_work *w, prw__buf *out,
                                prw__bz_block *info, prw_error *err);

/* ---- internals shared between the files of this folder ----------------------------------- */

/** Fills err: "NAME: bzip2: MSG" with the compressed byte offset bit / 8. */
prw_status prw__bz_error(prw_error *err, prw_status code, const char *name, uint64_t bit,
                         const char *fmt, ...) PRW_PRINTF(5, 6);

/** The bzip2 CRC-32 (MSB first, polynomial 0x04c11db7) of n bytes, continuing `crc`. */
uint32_t prw__bz_crc_update(uint32_t crc, const uint8_t *p, size_t n);
static inline uint32_t prw__bz_crc_init(void) {
    return 0xffffffffu;
}
static inline uint32_t prw__bz_crc_final(uint32_t crc) {
    return ~crc;
}
/** The stream CRC: every block's CRC folded in with a 1-bit rotation. */
static inline uint32_t prw__bz_combine(uint32_t combined, uint32_t block_crc) {
    return ((combined << 1) | (combined >> 31)) ^ block_crc;
}

/** The table of the randomised-block (pre-0.9.5) format: gaps between flipped bytes. */
extern const uint16_t prw__bz_rnums[512];

/** The n ≤ 57 bits at bit offset `bit` (MSB first), zero bits past the end of the data. */
uint64_t prw__bz_peek(const uint8_t *data, size_t size, uint64_t bit, unsigned n);

/**
 * Finds the block magics whose first aligned byte lies in [from, to) (byte offsets): appends
 * the bit offset of each magic start to *cand (ascending). Returns false on lack of memory.
 */
bool prw__bz_scan(const uint8_t *data, size_t size, size_t from, size_t to, uint64_t **cand,
                  size_t *n, size_t *cap);

/** Undoes the BWT, randomisation and RLE1 of a decoded block vector into out (bz_bwt.c). */
prw_status prw__bz_bwt_output(prw__bz_work *w, uint32_t nblock, uint32_t orig, bool randomised,
                              const char *name, uint64_t bit, prw__buf *out, prw_error *err);

/* The inverse BWT walks PRW_BZ_CHAINS pieces of the chain at once, each writing its bytes into
 * chunks of PRW_BZ_CHUNK bytes from a pool (every chain's last chunk is part full). A block of
 * n rows needs at most PRW_BZ_CHUNKS(n) chunks when the chain is one cycle. */
#define PRW_BZ_CHAINS 32
#define PRW_BZ_CHUNK 4096u
#define PRW_BZ_CHUNKS(n) ((n) / PRW_BZ_CHUNK + PRW_BZ_CHAINS + 1)

/**
 * Scratch arrays; the block decoder fills ll[0..nblock) and counts[256]. They grow to the
 * largest block decoded so far (ll while the symbols are decoded, the others once nblock is
 * known), so a reader of small blocks never holds the few MB a 900 kB block needs.
 */
struct prw__bz_work {
    uint8_t *ll;     /* block bytes as decoded (the BWT's last column), then the BWT output */
    uint32_t *tt;    /* inverse-BWT links */
    uint8_t *pool;   /* PRW_BZ_CHUNKS(rows) chunks of chain output */
    uint32_t *links; /* the chunk after each chunk of the same chain */
    uint8_t *mark;   /* one bit per row: where a chain starts (all zero between blocks) */
    uint32_t ll_cap; /* bytes in ll */
    uint32_t rows;   /* rows tt and mark hold */
    uint32_t chunks; /* chunks in pool and links: PRW_BZ_CHUNKS(rows) */
    uint32_t counts[256];
    uint8_t *selectors; /* up to 18002 */
    /* Set by a caller that may give up on a block (the reader's speculative decodes): once it
     * reads true, prw__bz_decode_block stops between stages and returns PRW_DONE. */
    const atomic_bool *cancel;
};

static inline bool prw__bz_cancelled(const prw__bz_work *w) {
    return w->cancel && atomic_load_explicit(w->cancel, memory_order_relaxed);
}

#endif
