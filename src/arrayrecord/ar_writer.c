/*
 * ArrayRecord writer (ARRAYRECORD.md §6.7): signature chunk, data chunks of `group_size`
 * records, optional padding after each, the footer chunk (RiegeliFooterMetadata + one
 * ArrayRecordFooter per data chunk), padding to a block boundary, the postscript chunk
 * (3 x RiegeliPostscript, always uncompressed) and the final padding to the end of its block.
 *
 * Records are copied into a batch (ar_batch.c): consecutive chunks sharing one values buffer,
 * closed after BATCH_CHUNKS chunks or BATCH_BYTES record bytes. A full batch is encoded (compressed
 * and hashed) as one task on a pool of `threads - 1` workers, or inline with one thread, so small
 * chunks (group_size:1) cost one task and one wake-up per batch rather than per record.
 * Batches are written strictly in submission order by the calling thread. At most `ring_cap`
 * batches and INFLIGHT_BYTES per thread are in flight; when that is reached the calling thread
 * encodes a pending batch itself (work-helping: it is the last of the `threads` encoders) and
 * only sleeps when every pending batch is already being encoded.
 *
 * Uncompressed chunks are built in place: each chunk's values get headroom in front, where
 * the compression byte and sizes go, so the chunk data is contiguous. Output goes through a
 * list of iovecs: chunk data of REF_MIN bytes or more is written with writev straight from the
 * batch (which is then held until the write), small pieces and the 24-byte block headers that
 * interrupt data at every 64 KiB boundary are copied into a staging buffer.
 */
#include <stdatomic.h>
#include <sys/uio.h>

#include "arrayrecord/ar_batch.h"
#include "common/io.h"
#include "common/thread.h"

#define OUT_FLUSH (1u << 20)      /* pending output written once it reaches this */
#define STAGE_CAP (128u << 10)    /* staging buffer for headers and small pieces */
#define OUT_IOV 256               /* iovecs per writev */
#define REF_MIN 2048u             /* pieces this long are written from where they lie */
#define BATCH_BYTES (256u << 10)  /* record bytes that close a batch */
#define BATCH_KEEP (16u << 20)    /* a recycled batch keeps at most this much storage */
#define INFLIGHT_BYTES (4u << 20) /* record bytes pending encoding, per thread */

struct prw_ar_writer {
    prw__wfile file;
    prw_ar_options opts;
    char opts_str[PRW_AR_OPTIONS_MAX];
    uint64_t pos;         /* file offset of the next byte */
    uint64_t chunk_begin; /* chunk being written, for block headers */
    uint64_t chunk_end;
    uint64_t num_records;
    uint64_t num_chunks;
    prw__buf fsizes; /* footer entries: sizes and serialized ArrayRecordFooter values */
    prw__buf fvals;
    /* output not yet written: iovecs into `stage`, into held batches or g_zeros */
    struct iovec iov[OUT_IOV];
    int niov;
    uint8_t *stage;
    size_t stage_len;
    size_t pending;
    size_t nref;      /* iovecs pointing into batches */
    ar_batch *held;   /* batches referenced by iov, recycled after the write */
    ar_batch *cur;    /* batch being filled */
    bool chunk_open;  /* its last chunk takes more records */
    ar_batch *free_b; /* recycled batches */
    /* in-flight ring, in submission order */
    prw__pool *pool;
    int threads;
    ar_batch **ring;
    size_t rhead, inflight, ring_cap;
    size_t inflight_bytes, max_inflight_bytes;
    pthread_mutex_t mu; /* guards ctxs; with done_cv, batches becoming B_DONE */
    pthread_cond_t done_cv;
    prw__codec_ctx **ctxs; /* idle codec contexts, one per concurrent encoder at most */
    size_t nctx, ctx_cap;
    prw__codec_ctx *main_cc; /* the calling thread's, when it encodes */
    prw_status failed;
    prw_error fail_err;
};

static const uint8_t g_zeros[AR_BLOCK];

/* ---- output with block headers ---------------------------------------------------------- */

static void release_held(prw_ar_writer *w);

static prw_status flush_out(prw_ar_writer *w, prw_error *err) {
    prw_status st = PRW_OK;
    if (w->niov > 0)
        st = prw__wfile_writev(&w->file, w->iov, w->niov, err);
    w->niov = 0;
    w->stage_len = 0;
    w->pending = 0;
    w->nref = 0;
    release_held(w);
    return st;
}

/* An iovec pointing where the bytes lie (a batch, a caller's chunk), not into the staging
 * buffer or the zeros. */
static bool referenced(const prw_ar_writer *w, const struct iovec *v) {
    const uint8_t *b = v->iov_base;
    return b != g_zeros && !(b >= w->stage && b < w->stage + STAGE_CAP);
}

/* Queues n bytes for output: referenced where they lie when `ref` and long, or when they
 * continue the last referenced piece; else copied. */
static prw_status out_piece(prw_ar_writer *w, const uint8_t *p, size_t n, bool ref,
                            prw_error *err) {
    struct iovec *prev = w->niov ? &w->iov[w->niov - 1] : NULL;
    if (ref && prev && (const uint8_t *)prev->iov_base + prev->iov_len == p &&
        referenced(w, prev)) {
        prev->iov_len += n;
        w->pending += n;
    } else if (ref && n >= REF_MIN) {
        if (w->niov == OUT_IOV)
            PRW_TRY(flush_out(w, err));
        w->iov[w->niov++] = (struct iovec){(void *)(uintptr_t)p, n};
        w->pending += n;
        w->nref += p != g_zeros;
    } else {
        while (n > 0) {
            struct iovec *last = w->niov ? &w->iov[w->niov - 1] : NULL;
            bool extend =
                last && (uint8_t *)last->iov_base + last->iov_len == w->stage + w->stage_len;
            if (w->stage_len == STAGE_CAP || (!extend && w->niov == OUT_IOV)) {
                PRW_TRY(flush_out(w, err));
                last = NULL;
                extend = false;
            }
            size_t take = STAGE_CAP - w->stage_len;
            if (take > n)
                take = n;
            memcpy(w->stage + w->stage_len, p, take);
            if (extend)
                last->iov_len += take;
            else
                w->iov[w->niov++] = (struct iovec){w->stage + w->stage_len, take};
            w->stage_len += take;
            w->pending += take;
            p += take;
            n -= take;
        }
    }
    return w->pending >= OUT_FLUSH ? flush_out(w, err) : PRW_OK;
}

/* Queues n chunk bytes (data == NULL: zeros), inserting block headers at boundaries. */
static prw_status out_bytes(prw_ar_writer *w, const uint8_t *data, size_t n, bool ref,
                            prw_error *err) {
    while (n > 0) {
        if (w->pos % AR_BLOCK == 0) {
            uint8_t bh[AR_BLOCK_HDR];
            prw__ar_block_hdr_put(bh, w->pos, w->chunk_begin, w->chunk_end);
            PRW_TRY(out_piece(w, bh, AR_BLOCK_HDR, false, err));
            w->pos += AR_BLOCK_HDR;
        }
        size_t take = AR_BLOCK - w->pos % AR_BLOCK;
        if (take > n)
            take = n;
        PRW_TRY(out_piece(w, data ? data : g_zeros, take, ref || !data, err));
        if (data)
            data += take;
        n -= take;
        w->pos += take;
    }
    return PRW_OK;
}

/* Queues a chunk; with `ref` its data may be written from where it lies (keep it alive until
 * the next flush_out). */
static prw_status write_chunk(prw_ar_writer *w, const uint8_t hdr[AR_CHUNK_HDR],
                              const uint8_t *data, size_t data_size, uint64_t num_records, bool ref,
                              prw_error *err) {
    w->chunk_begin = w->pos;
    w->chunk_end = prw__ar_chunk_end(w->pos, data_size, num_records);
    /* A header right in front of its data is referenced with it (a caller's finished chunk). */
    PRW_TRY(out_bytes(w, hdr, AR_CHUNK_HDR, ref && hdr + AR_CHUNK_HDR == data, err));
    PRW_TRY(out_bytes(w, data, data_size, ref, err));
    return out_bytes(w, NULL, (size_t)(w->chunk_end - w->pos), false, err);
}

/* A padding chunk up to the next block boundary (§4.5). */
static prw_status pad_to_boundary(prw_ar_writer *w, prw_error *err) {
    uint64_t len = (AR_BLOCK - w->pos % AR_BLOCK) % AR_BLOCK;
    if (len == 0)
        return PRW_OK;
    if (len < AR_CHUNK_HDR)
        len += AR_USABLE;
    prw__ar_chunk_hdr h = {.data_size = len - AR_CHUNK_HDR, .type = AR_CHUNK_PADDING};
    h.data_hash = prw__ar_hash(g_zeros, (size_t)h.data_size);
    uint8_t hdr[AR_CHUNK_HDR];
    prw__ar_chunk_hdr_put(hdr, &h);
    return write_chunk(w, hdr, g_zeros, (size_t)h.data_size, 0, true, err);
}

/* Writes a finished chunk (header + data) and records its footer entry. */
static prw_status write_encoded(prw_ar_writer *w, const uint8_t hdr[AR_CHUNK_HDR],
                                const uint8_t *data, size_t data_size, uint64_t n, uint64_t decoded,
                                bool ref, prw_error *err) {
    uint64_t off = w->pos;
    PRW_TRY(write_chunk(w, hdr, data, data_size, n, ref, err));
    uint8_t e[3 + 3 * PRW_VARINT_MAX];
    size_t k = 0;
    e[k++] = 0x08;
    k += prw__varint_put(e + k, off);
    e[k++] = 0x10;
    k += prw__varint_put(e + k, decoded);
    e[k++] = 0x18;
    k += prw__varint_put(e + k, n);
    PRW_TRY(prw__buf_varint(&w->fsizes, k, err));
    PRW_TRY(prw__buf_append(&w->fvals, e, k, err));
    w->num_chunks++;
    if (w->opts.pad_to_block_boundary)
        PRW_TRY(pad_to_boundary(w, err));
    return PRW_OK;
}

/* ---- batches ---------------------------------------------------------------------------- */

/* Takes a batch from the free list or allocates one. */
static prw_status batch_get(prw_ar_writer *w, ar_batch **out, prw_error *err) {
    ar_batch *b = w->free_b;
    if (b) {
        w->free_b = b->next;
    } else if (!(b = prw__calloc(1, sizeof *b))) {
        return prw__error_nomem(err, "an ArrayRecord batch", sizeof *b);
    }
    b->next = NULL;
    prw__ar_batch_reset(b, w, w->opts.compression, prw__ar_headroom(w->opts.group_size));
    *out = b;
    return PRW_OK;
}

/* Returns a batch to the free list. Batch structs live until the writer is destroyed (a
 * stale pool task may still look at their state); oversized storage is given back. */
static void batch_put(prw_ar_writer *w, ar_batch *b) {
    atomic_store(&b->state, B_FILLING);
    if (b->raw.cap + b->enc.cap > BATCH_KEEP) {
        prw__buf_cleanup(&b->raw);
        prw__buf_cleanup(&b->enc);
    }
    b->next = w->free_b;
    w->free_b = b;
}

static void release_held(prw_ar_writer *w) {
    while (w->held) {
        ar_batch *b = w->held;
        w->held = b->next;
        batch_put(w, b);
    }
}

/* Writes the encoded chunks of a batch in order, then holds or recycles it. */
static prw_status batch_write(prw_ar_writer *w, ar_batch *b, prw_error *err) {
    prw_status st = PRW_OK;
    for (size_t i = 0; i < b->nchunks && st >= 0; i++) {
        const ar_chunk *c = &b->chunks[i];
        st = write_encoded(w, c->hdr, prw__ar_chunk_data(b, c), c->data_size, c->n, c->decoded,
                           true, err);
    }
    if (w->nref > 0) {
        b->next = w->held;
        w->held = b;
    } else {
        batch_put(w, b);
    }
    return st;
}

/* ---- encoding on the pool --------------------------------------------------------------- */

/* Encodes a batch with a codec context from the writer's idle list (or a new one). */
static void run_encode(prw_ar_writer *w, ar_batch *b) {
    prw_error_clear(&b->err);
    prw__codec_ctx *cc = NULL;
    prw_status st = PRW_OK;
    if (b->comp != PRW_AR_UNCOMPRESSED) {
        prw__mutex_lock(&w->mu);
        if (w->nctx > 0)
            cc = w->ctxs[--w->nctx];
        prw__mutex_unlock(&w->mu);
        if (!cc)
            st = prw__codec_ctx_create(&cc, &b->err);
    }
    if (st >= 0)
        st = prw__ar_batch_encode(b, &w->opts, cc, &b->err);
    b->st = st;
    if (cc) {
        prw__mutex_lock(&w->mu);
        if (w->nctx < w->ctx_cap)
            w->ctxs[w->nctx++] = cc;
        else
            prw__codec_ctx_destroy(cc);
        prw__mutex_unlock(&w->mu);
    }
}

/* A pool task: encodes the batch unless someone (the calling thread) already claimed it. A
 * task may outlive its batch's turn (the batch was encoded by the caller, written and
 * recycled); it then only sees a state other than B_PENDING, or the batch's next submission,
 * which it may encode as well as any other task. */
static void encode_task(void *arg) {
    ar_batch *b = arg;
    int expect = B_PENDING;
    if (!atomic_compare_exchange_strong(&b->state, &expect, B_CLAIMED))
        return;
    prw_ar_writer *w = b->w;
    run_encode(w, b);
    prw__mutex_lock(&w->mu);
    atomic_store(&b->state, B_DONE);
    prw__cond_broadcast(&w->done_cv);
    prw__mutex_unlock(&w->mu);
}

/* Writes the oldest in-flight batch, which is done. */
static prw_status drain_oldest(prw_ar_writer *w, prw_error *err) {
    ar_batch *b = w->ring[w->rhead];
    w->rhead = (w->rhead + 1) % w->ring_cap;
    w->inflight--;
    w->inflight_bytes -= (size_t)b->bytes;
    if (b->st < 0) {
        if (err)
            *err = b->err;
        prw_status st = b->st;
        batch_put(w, b);
        return st;
    }
    return batch_write(w, b, err);
}

/* Makes progress on the ring: writes the oldest batch if it is done; else encodes the oldest
 * pending batch on this thread; else sleeps until the oldest is done. */
static prw_status make_progress(prw_ar_writer *w, prw_error *err) {
    ar_batch *o = w->ring[w->rhead];
    if (atomic_load(&o->state) == B_DONE)
        return drain_oldest(w, err);
    for (size_t i = 0; i < w->inflight; i++) {
        ar_batch *b = w->ring[(w->rhead + i) % w->ring_cap];
        int expect = B_PENDING;
        if (atomic_compare_exchange_strong(&b->state, &expect, B_CLAIMED)) {
            run_encode(w, b);
            atomic_store(&b->state, B_DONE);
            return PRW_OK;
        }
    }
    prw__mutex_lock(&w->mu);
    while (atomic_load(&o->state) != B_DONE)
        prw__cond_wait(&w->done_cv, &w->mu);
    prw__mutex_unlock(&w->mu);
    return drain_oldest(w, err);
}

/* Encodes and writes the batch inline (one thread) or queues it on the pool. */
static prw_status submit(prw_ar_writer *w, ar_batch *b, prw_error *err) {
    if (!w->pool) {
        prw_status st = PRW_OK;
        if (b->comp != PRW_AR_UNCOMPRESSED && !w->main_cc)
            st = prw__codec_ctx_create(&w->main_cc, err);
        if (st >= 0)
            st = prw__ar_batch_encode(b, &w->opts, w->main_cc, err);
        if (st < 0) {
            batch_put(w, b);
            return st;
        }
        return batch_write(w, b, err);
    }
    while (w->inflight == w->ring_cap ||
           (w->inflight > 0 && w->inflight_bytes + b->bytes > w->max_inflight_bytes)) {
        prw_status st = make_progress(w, err);
        if (st < 0) {
            batch_put(w, b);
            return st;
        }
    }
    w->ring[(w->rhead + w->inflight) % w->ring_cap] = b;
    w->inflight++;
    w->inflight_bytes += (size_t)b->bytes;
    atomic_store(&b->state, B_PENDING);
    prw__pool_submit(w->pool, encode_task, b);
    while (w->inflight > 0 && atomic_load(&w->ring[w->rhead]->state) == B_DONE)
        PRW_TRY(drain_oldest(w, err));
    return PRW_OK;
}

/* Submits the batch being filled, if any. */
static prw_status submit_cur(prw_ar_writer *w, prw_error *err) {
    ar_batch *b = w->cur;
    w->cur = NULL;
    w->chunk_open = false;
    if (!b)
        return PRW_OK;
    if (b->nchunks == 0) {
        batch_put(w, b);
        return PRW_OK;
    }
    return submit(w, b, err);
}

static prw_status drain_all(prw_ar_writer *w, prw_error *err) {
    while (w->inflight > 0)
        PRW_TRY(make_progress(w, err));
    return PRW_OK;
}

/* ---- public API ------------------------------------------------------------------------- */

static prw_status fail(prw_ar_writer *w, prw_status st, prw_error *err) {
    w->failed = st;
    if (err)
        w->fail_err = *err;
    else
        prw__error_set(&w->fail_err, st, -1, "%s", prw_strerror(st));
    return st;
}

static prw_status replay_failure(const prw_ar_writer *w, prw_error *err) {
    if (err)
        *err = w->fail_err;
    return w->failed;
}

static prw_status write_signature(prw_ar_writer *w, prw_error *err) {
    prw__ar_chunk_hdr h = {.data_hash = prw__ar_hash(g_zeros, 0), .type = AR_CHUNK_SIGNATURE};
    uint8_t hdr[AR_CHUNK_HDR];
    prw__ar_chunk_hdr_put(hdr, &h);
    return write_chunk(w, hdr, NULL, 0, 0, false, err);
}

prw_status prw_ar_writer_open_opts(prw_ar_writer **out, const char *path,
                                   const prw_ar_options *opts, int threads, prw_error *err) {
    *out = NULL;
    prw_ar_writer *w = prw__calloc(1, sizeof *w);
    if (!w)
        return prw__error_nomem(err, "an ArrayRecord writer", sizeof *w);
    w->file.fd = -1;
    prw__mutex_init(&w->mu);
    prw__cond_init(&w->done_cv);
    prw_status st = PRW_OK;
    if (opts)
        w->opts = *opts;
    else
        st = prw_ar_options_parse(NULL, &w->opts, err);
    if (st >= 0 && w->opts.group_size == 0)
        st = prw__error_set(err, PRW_E_INVALID, -1, "group_size must be at least 1");
    if (st < 0)
        goto fail;
    prw_ar_options_format(&w->opts, w->opts_str, sizeof w->opts_str);
    if (threads <= 0)
        threads = w->opts.max_parallelism > 0 ? w->opts.max_parallelism : prw__online_cpus();
    if (threads > 256)
        threads = 256;
    w->threads = threads;
    /* A few batches per thread keep the workers busy while the caller fills the next. */
    w->ring_cap = 4 * (size_t)threads;
    w->max_inflight_bytes = INFLIGHT_BYTES * (size_t)threads;
    w->ctx_cap = (size_t)threads + 2; /* the workers and the calling thread */
    w->ring = prw__calloc(w->ring_cap, sizeof *w->ring);
    w->ctxs = prw__calloc(w->ctx_cap, sizeof *w->ctxs);
    w->stage = prw__malloc(STAGE_CAP);
    if (!w->ring || !w->ctxs || !w->stage) {
        st = prw__error_nomem(err, "an ArrayRecord writer", STAGE_CAP);
        goto fail;
    }
    /* threads - 1 workers: the calling thread is the last encoder (see make_progress), so the
     * writer keeps `threads` cores busy and no more. */
    if (threads > 1 && (st = prw__pool_create(&w->pool, threads - 1, 4 * w->ring_cap, err)) < 0)
        goto fail;
    if ((st = prw__wfile_open(&w->file, path, err)) < 0)
        goto fail;
    /* Bypass the page cache where the file system allows it (see prw__wfile_direct). */
    (void)prw__wfile_direct(&w->file);
    if ((st = write_signature(w, err)) < 0)
        goto fail;
    *out = w;
    return PRW_OK;
fail:
    prw_ar_writer_abort(w);
    return st;
}

prw_status prw_ar_writer_open(prw_ar_writer **out, const char *path, const char *options,
                              prw_error *err) {
    prw_ar_options o;
    *out = NULL;
    PRW_TRY(prw_ar_options_parse(options, &o, err));
    return prw_ar_writer_open_opts(out, path, &o, 0, err);
}

static prw_status add_record(prw_ar_writer *w, const void *data, size_t len, prw_error *err) {
    if (!w->chunk_open) {
        if (w->cur && w->cur->nchunks == BATCH_CHUNKS)
            PRW_TRY(submit_cur(w, err));
        if (!w->cur)
            PRW_TRY(batch_get(w, &w->cur, err));
        PRW_TRY(prw__ar_chunk_open(w->cur, err));
        w->chunk_open = true;
    }
    ar_batch *b = w->cur;
    PRW_TRY(prw__ar_chunk_add(b, data, len, err));
    w->num_records++;
    if (b->chunks[b->nchunks - 1].n == w->opts.group_size) {
        w->chunk_open = false;
        if (b->nchunks == BATCH_CHUNKS || b->bytes >= BATCH_BYTES)
            PRW_TRY(submit_cur(w, err));
    }
    return PRW_OK;
}

prw_status prw_ar_writer_add_record(prw_ar_writer *w, const void *data, size_t len,
                                    prw_error *err) {
    if (w->failed < 0)
        return replay_failure(w, err);
    if (len > UINT32_MAX)
        return fail(w,
                    prw__error_set(err, PRW_E_LIMIT, -1,
                                   "record %llu has %zu bytes; records are limited to 4 GiB - 1",
                                   (unsigned long long)w->num_records, len),
                    err);
    prw_status st = add_record(w, data, len, err);
    return st < 0 ? fail(w, st, err) : PRW_OK;
}
/* Serialises the footer's first record, RiegeliFooterMetadata (§6.1). */
static prw_status footer_metadata(prw_ar_writer *w, prw__buf *b, prw_error *err) {
    size_t olen = strlen(w->opts_str);
    size_t inner = 1 + 1 + 1 + prw__varint_len(w->num_chunks) + 1 +
                   prw__varint_len(w->num_records) + 1 + prw__varint_len(olen) + olen;
    PRW_TRY(prw__buf_append_u8(b, 0x0a, err));
    PRW_TRY(prw__buf_varint(b, inner, err));
    const uint8_t version[2] = {0x08, 0x01};
    PRW_TRY(prw__buf_append(b, version, 2, err));
    PRW_TRY(prw__buf_append_u8(b, 0x10, err));
    PRW_TRY(prw__buf_varint(b, w->num_chunks, err));
    PRW_TRY(prw__buf_append_u8(b, 0x18, err));
    PRW_TRY(prw__buf_varint(b, w->num_records, err));
    PRW_TRY(prw__buf_append_u8(b, 0x22, err));
    PRW_TRY(prw__buf_varint(b, olen, err));
    return prw__buf_append(b, w->opts_str, olen, err);
}

/* Encodes the one chunk of `b` on the calling thread and writes it (copied). */
static prw_status write_single(prw_ar_writer *w, ar_batch *b, prw_error *err) {
    if (b->comp != PRW_AR_UNCOMPRESSED && !w->main_cc)
        PRW_TRY(prw__codec_ctx_create(&w->main_cc, err));
    PRW_TRY(prw__ar_batch_encode(b, &w->opts, w->main_cc, err));
    const ar_chunk *c = &b->chunks[0];
    PRW_TRY(write_chunk(w, c->hdr, prw__ar_chunk_data(b, c), c->data_size, c->n, false, err));
    return pad_to_boundary(w, err);
}

static prw_status write_tail(prw_ar_writer *w, prw_error *err) {
    PRW_TRY(submit_cur(w, err));
    PRW_TRY(drain_all(w, err));
    /* Footer: the metadata record then one entry per data chunk, compressed like the data. */
    ar_batch *b;
    PRW_TRY(batch_get(w, &b, err));
    w->cur = b; /* freed by abort */
    PRW_TRY(prw__ar_chunk_open(b, err));
    ar_chunk *c = &b->chunks[0];
    size_t before = b->raw.len;
    PRW_TRY(footer_metadata(w, &b->raw, err));
    PRW_TRY(prw__buf_varint(&b->sizes, b->raw.len - before, err));
    PRW_TRY(prw__buf_append(&b->sizes, w->fsizes.data, w->fsizes.len, err));
    PRW_TRY(prw__buf_append(&b->raw, w->fvals.data, w->fvals.len, err));
    c->sizes_len = b->sizes.len;
    c->n = 1 + w->num_chunks;
    c->decoded = b->raw.len - c->vals;
    uint64_t footer_offset = w->pos;
    PRW_TRY(write_single(w, b, err));
    /* Postscript: three identical RiegeliPostscript records, never compressed. */
    prw__ar_batch_reset(b, w, PRW_AR_UNCOMPRESSED, prw__ar_headroom(3));
    PRW_TRY(prw__ar_chunk_open(b, err));
    uint8_t ps[2 + 2 * PRW_VARINT_MAX];
    size_t k = 0;
    ps[k++] = 0x08;
    k += prw__varint_put(ps + k, footer_offset);
    ps[k++] = 0x10;
    k += prw__varint_put(ps + k, AR_POSTSCRIPT_MAGIC);
    for (int i = 0; i < 3; i++)
        PRW_TRY(prw__ar_chunk_add(b, ps, k, err));
    PRW_TRY(write_single(w, b, err));
    return flush_out(w, err);
}

prw_status prw_ar_writer_close(prw_ar_writer *w, prw_error *err) {
    if (!w)
        return prw__error_set(err, PRW_E_INVALID, -1, "no writer");
    prw_status st = w->failed < 0 ? replay_failure(w, err) : write_tail(w, err);
    if (st >= 0)
        st = prw__wfile_commit(&w->file, err);
    prw_ar_writer_abort(w);
    return st;
}

void prw_ar_writer_abort(prw_ar_writer *w) {
    if (!w)
        return;
    prw__pool_destroy(w->pool); /* no task runs from here on */
    for (size_t i = 0; i < w->inflight; i++)
        prw__ar_batch_free(w->ring[(w->rhead + i) % w->ring_cap]);
    prw__ar_batch_free(w->cur);
    prw__ar_batch_free_list(w->held);
    prw__ar_batch_free_list(w->free_b);
    for (size_t i = 0; i < w->nctx; i++)
        prw__codec_ctx_destroy(w->ctxs[i]);
    prw__codec_ctx_destroy(w->main_cc);
    prw__wfile_abort(&w->file);
    prw__free(w->stage);
    prw__buf_cleanup(&w->fsizes);
    prw__buf_cleanup(&w->fvals);
    prw__free(w->ctxs);
    prw__free(w->ring);
    prw__mutex_destroy(&w->mu);
    prw__cond_destroy(&w->done_cv);
    prw__free(w);
}

uint64_t prw_ar_writer_num_records(const prw_ar_writer *w) {
    return w->num_records;
}

uint64_t prw_ar_writer_bytes_written(const prw_ar_writer *w) {
    return w->pos;
}

/* Checks that c is a finished simple chunk and queues it after the records before it. */
static prw_status place_chunk(prw_ar_writer *w, const uint8_t *c, size_t len, bool ref,
                              prw_error *err) {
    if (len < AR_CHUNK_HDR || prw__load_le64(c + 8) != len - AR_CHUNK_HDR ||
        (prw__load_le64(c + 24) & 0xff) != AR_CHUNK_SIMPLE ||
        prw__load_le64(c) != prw__ar_hash(c + 8, AR_CHUNK_HDR - 8))
        return prw__error_set(err, PRW_E_INVALID, -1,
                              "not a chunk made by prw_ar_chunk_encode (%zu bytes)", len);
    uint64_t n = prw__load_le64(c + 24) >> 8, decoded = prw__load_le64(c + 32);
    if (w->chunk_open)
        return prw__error_set(err, PRW_E_INVALID, -1,
                              "a chunk cannot follow a partial group of records");
    PRW_TRY(submit_cur(w, err));
    PRW_TRY(drain_all(w, err));
    PRW_TRY(write_encoded(w, c, c + AR_CHUNK_HDR, len - AR_CHUNK_HDR, n, decoded, ref, err));
    w->num_records += n;
    return PRW_OK;
}

/* place_chunk on a writer that has not failed; a failure fails the writer. */
static prw_status add_chunk(prw_ar_writer *w, const void *chunk, size_t len, bool ref,
                            prw_error *err) {
    if (w->failed < 0)
        return replay_failure(w, err);
    prw_status st = place_chunk(w, chunk, len, ref, err);
    return st < 0 ? fail(w, st, err) : PRW_OK;
}

prw_status prw_ar_writer_add_chunk(prw_ar_writer *w, const void *chunk, size_t len,
                                   prw_error *err) {
    return add_chunk(w, chunk, len, false, err);
}

prw_status prw__ar_writer_add_chunk_ref(prw_ar_writer *w, const void *chunk, size_t len,
                                        prw_error *err) {
    return add_chunk(w, chunk, len, true, err);
}

prw_status prw__ar_writer_flush(prw_ar_writer *w, prw_error *err) {
    if (w->failed < 0)
        return replay_failure(w, err);
    prw_status st = flush_out(w, err);
    return st < 0 ? fail(w, st, err) : PRW_OK;
}
