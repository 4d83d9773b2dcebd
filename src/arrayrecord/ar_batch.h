/*
 * A batch of ArrayRecord chunks (ar_batch.c): records are copied into consecutive chunks that
 * share one values buffer, then each chunk's data (ARRAYRECORD.md §5) and header are encoded.
 * The writer (ar_writer.c) fills, encodes and writes batches; the chunk encoder API encodes one
 * chunk with the same code away from any writer.
 */
#ifndef PRW_AR_BATCH_H
#define PRW_AR_BATCH_H

#include <stdatomic.h>

#include "arrayrecord/ar_internal.h"
#include "common/thread.h"

#define BATCH_CHUNKS 128 /* chunks that close a batch */

enum { B_FILLING, B_PENDING, B_CLAIMED, B_DONE };

/* One chunk of a batch. Offsets, not pointers: the buffers may move while they grow. */
typedef struct ar_chunk {
    size_t vals;  /* values start in b->raw (after `head` bytes of headroom) */
    size_t sizes; /* sizes varints start in b->sizes */
    size_t sizes_len;
    uint64_t n;
    uint64_t decoded;
    bool in_raw; /* encoded data lies in b->raw (built in place), else in b->enc */
    size_t data;
    size_t data_size;
    uint8_t hdr[AR_CHUNK_HDR];
} ar_chunk;

typedef struct ar_batch {
    struct ar_batch *next; /* free or held list */
    prw__buf raw;          /* per chunk: headroom, then the values */
    prw__buf sizes;        /* record sizes as varints */
    prw__buf enc;          /* encoded chunk data not built in place */
    prw__buf tmp;          /* a compressed sizes block */
    ar_chunk chunks[BATCH_CHUNKS];
    size_t nchunks;
    size_t head;    /* headroom in front of each chunk's values */
    uint64_t bytes; /* record bytes */
    prw_ar_compression comp;
    _Atomic int state;
    prw_status st;
    prw_error err;
    struct prw_ar_writer *w;
} ar_batch;

void prw__ar_batch_free(ar_batch *b);
void prw__ar_batch_free_list(ar_batch *b);
size_t prw__ar_headroom(uint32_t group_size);
void prw__ar_batch_reset(ar_batch *b, prw_ar_writer *w, prw_ar_compression comp, size_t head);
prw_status prw__ar_chunk_open(ar_batch *b, prw_error *err);
prw_status prw__ar_chunk_add(ar_batch *b, const void *data, size_t len, prw_error *err);
prw_status prw__ar_batch_encode(ar_batch *b, const prw_ar_options *o, prw__codec_ctx *cc,
                                prw_error *err);
const uint8_t *prw__ar_chunk_data(const ar_batch *b, const ar_chunk *c);

#endif
