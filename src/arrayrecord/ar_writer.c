/*
 * ArrayRecord writer (ARRAYRECORD.md §6.7): signature chunk, data chunks of `group_size`
 * records, optional padding after each, the footer chunk (RiegeliFooterMetadata + one
 * ArrayRecordFooter per data chunk), padding to a block boundary, the postscript chunk
 * (3 x RiegeliPostscript, always uncompressed) and the final padding to the end of its block.
 *
 * Records are copied into a job (one future chunk). A full job is encoded (compressed and
 * hashed) on the thread pool, or inline with one thread; encoded jobs are written strictly in
 * submission order by the calling thread, through an output buffer that inserts a block
 * header at every 64 KiB boundary. At most `max_inflight` jobs are pending, so memory stays
 * bounded by a few chunks per thread whatever the file size.
 *
 * For uncompressed chunks the job keeps headroom in front of the values, so the chunk data
 * (compression byte, sizes length, sizes, values) is contiguous without a second copy.
 */
#include "arrayrecord/ar_internal.h"
#include "common/io.h"
#include "common/thread.h"

#define OUT_FLUSH (1u << 20)      /* output buffer flushed once it holds this much */
#define INFLIGHT_BYTES (4u << 20) /* record bytes pending encoding, per thread */

typedef struct ar_job {
    prw__buf raw; /* `head` bytes of headroom, then the values */
    size_t head;
    prw__buf sizes; /* record sizes as varints */
    uint64_t n;
    uint64_t decoded;
    prw_ar_compression comp;
    prw__buf enc; /* encoded data when not built in place */
    prw__buf tmp; /* compressed sizes block */
    prw__codec_ctx *cc;
    const uint8_t *data;
    size_t data_size;
    uint8_t hdr[AR_CHUNK_HDR];
    prw_status st;
    prw_error err;
    bool done;
    struct prw_ar_writer *w;
} ar_job;

struct prw_ar_writer {
    prw__wfile file;
    prw_ar_options opts;
    char opts_str[PRW_AR_OPTIONS_MAX];
    prw__buf out;
    uint64_t pos;         /* file offset of the next byte */
    uint64_t chunk_begin; /* chunk being written, for block headers */
    uint64_t chunk_end;
    uint64_t num_records;
    uint64_t num_chunks;
    prw__buf fsizes; /* footer entries: sizes and serialized ArrayRecordFooter values */
    prw__buf fvals;
    ar_job *cur;
    ar_job **free_jobs;
    size_t nfree;
    size_t njobs_max;
    /* in-flight ring, in submission order */
    prw__pool *pool;
    int threads;
    ar_job **ring;
    size_t rhead, inflight, max_inflight;
    size_t inflight_bytes, max_inflight_bytes;
    pthread_mutex_t mu;
    pthread_cond_t done_cv;
    prw_status failed;
    prw_error fail_err;
};

static const uint8_t g_zeros[AR_BLOCK];

/* ---- output with block headers ---------------------------------------------------------- */

static prw_status flush_out(prw_ar_writer *w, prw_error *err) {
    if (w->out.len == 0)
        return PRW_OK;
    prw_status st = prw__wfile_write(&w->file, w->out.data, w->out.len, err);
    w->out.len = 0;
    return st;
}

/* Appends n chunk bytes (data == NULL: zeros), inserting block headers at boundaries. */
static prw_status out_bytes(prw_ar_writer *w, const uint8_t *data, size_t n, prw_error *err) {
    while (n > 0) {
        if (w->out.len >= OUT_FLUSH)
            PRW_TRY(flush_out(w, err));
        if (w->pos % AR_BLOCK == 0) {
            PRW_TRY(prw__buf_reserve(&w->out, AR_BLOCK_HDR, err));
            prw__ar_block_hdr_put(w->out.data + w->out.len, w->pos, w->chunk_begin, w->chunk_end);
            w->out.len += AR_BLOCK_HDR;
            w->pos += AR_BLOCK_HDR;
        }
        size_t take = AR_BLOCK - w->pos % AR_BLOCK;
        if (take > n)
            take = n;
        PRW_TRY(prw__buf_append(&w->out, data ? data : g_zeros, take, err));
        if (data)
            data += take;
        n -= take;
        w->pos += take;
    }
    return PRW_OK;
}

static prw_status write_chunk(prw_ar_writer *w, const uint8_t hdr[AR_CHUNK_HDR],
                              const uint8_t *data, size_t data_size, uint64_t num_records,
                              prw_error *err) {
    w->chunk_begin = w->pos;
    w->chunk_end = prw__ar_chunk_end(w->pos, data_size, num_records);
    PRW_TRY(out_bytes(w, hdr, AR_CHUNK_HDR, err));
    PRW_TRY(out_bytes(w, data, data_size, err));
    return out_bytes(w, NULL, (size_t)(w->chunk_end - w->pos), err);
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
    return write_chunk(w, hdr, g_zeros, (size_t)h.data_size, 0, err);
}

/* ---- jobs ------------------------------------------------------------------------------- */

static void job_free(ar_job *j) {
    if (!j)
        return;
    prw__buf_cleanup(&j->raw);
    prw__buf_cleanup(&j->sizes);
    prw__buf_cleanup(&j->enc);
    prw__buf_cleanup(&j->tmp);
    prw__codec_ctx_destroy(j->cc);
    prw__free(j);
}

/* Takes a job from the free list or allocates one; resets it for a new chunk. */
static prw_status job_get(prw_ar_writer *w, ar_job **out, prw_error *err) {
    ar_job *j = w->nfree ? w->free_jobs[--w->nfree] : prw__calloc(1, sizeof *j);
    if (!j)
        return prw__error_nomem(err, "an ArrayRecord chunk", sizeof *j);
    j->w = w;
    /* Headroom for the compression byte, the sizes length and up to 4096 sizes of 5 bytes. */
    uint64_t g = w->opts.group_size < 4096 ? w->opts.group_size : 4096;
    j->head = 11 + 5 * (size_t)g;
    prw_status st = prw__buf_resize(&j->raw, j->head, err);
    if (st < 0) {
        job_free(j);
        return st;
    }
    prw__buf_clear(&j->sizes);
    j->n = 0;
    j->decoded = 0;
    j->comp = w->opts.compression;
    j->done = false;
    j->st = PRW_OK;
    *out = j;
    return PRW_OK;
}

static void job_put(prw_ar_writer *w, ar_job *j) {
    w->free_jobs[w->nfree++] = j;
}

static prw_status job_add(ar_job *j, const void *data, size_t len, prw_error *err) {
    PRW_TRY(prw__buf_varint(&j->sizes, len, err));
    if (len)
        PRW_TRY(prw__buf_append(&j->raw, data, len, err));
    j->n++;
    j->decoded += len;
    return PRW_OK;
}

/* Compresses `n` bytes at src into b after a varint of n (a Riegeli compressed block). */
static prw_status compress_block(ar_job *j, const prw__codec_opts *co, const uint8_t *src, size_t n,
                                 prw__buf *b, prw_error *err) {
    prw__codec c = prw__ar_codec_of(j->comp);
    size_t bound = prw__codec_bound(c, n);
    PRW_CHECK(bound > 0 || n == 0, err, PRW_E_LIMIT, -1, "%zu bytes are too many for %s", n,
              prw__codec_name(c));
    PRW_TRY(prw__buf_reserve(b, PRW_VARINT_MAX + bound + 16, err));
    b->len += prw__varint_put(b->data + b->len, n);
    size_t clen;
    if (c == PRW_CODEC_BROTLI)
        PRW_TRY(prw__codec_compress_brotli(co->level, co->window_log, src, n, b->data + b->len,
                                           b->cap - b->len, &clen, err));
    else
        PRW_TRY(prw__codec_compress(j->cc, c, co, src, n, b->data + b->len, b->cap - b->len, &clen,
                                    err));
    b->len += clen;
    return PRW_OK;
}

/* Builds the chunk data (§5) and header of a job. */
static prw_status job_encode(ar_job *j, const prw_ar_options *o, prw_error *err) {
    const uint8_t *vals = j->raw.data + j->head;
    size_t nvals = j->raw.len - j->head;
    if (j->comp == PRW_AR_UNCOMPRESSED) {
        size_t plen = 1 + prw__varint_len(j->sizes.len) + j->sizes.len;
        if (plen <= j->head) {
            uint8_t *p = j->raw.data + j->head - plen;
            p[0] = AR_COMP_NONE;
            size_t k = 1 + prw__varint_put(p + 1, j->sizes.len);
            memcpy(p + k, j->sizes.data, j->sizes.len);
            j->data = p;
            j->data_size = plen + nvals;
        } else {
            prw__buf_clear(&j->enc);
            PRW_TRY(prw__buf_append_u8(&j->enc, AR_COMP_NONE, err));
            PRW_TRY(prw__buf_varint(&j->enc, j->sizes.len, err));
            PRW_TRY(prw__buf_append(&j->enc, j->sizes.data, j->sizes.len, err));
            PRW_TRY(prw__buf_append(&j->enc, vals, nvals, err));
            j->data = j->enc.data;
            j->data_size = j->enc.len;
        }
    } else {
        if (!j->cc)
            PRW_TRY(prw__codec_ctx_create(&j->cc, err));
        prw__codec_opts co = {.level = o->level, .window_log = o->window_log};
        if (j->comp == PRW_AR_BROTLI && !o->window_log_given)
            co.window_log = 0;
        prw__buf_clear(&j->tmp);
        PRW_TRY(compress_block(j, &co, j->sizes.data, j->sizes.len, &j->tmp, err));
        prw__buf_clear(&j->enc);
        PRW_TRY(prw__buf_append_u8(&j->enc, prw__ar_comp_byte(j->comp), err));
        PRW_TRY(prw__buf_varint(&j->enc, j->tmp.len, err));
        PRW_TRY(prw__buf_append(&j->enc, j->tmp.data, j->tmp.len, err));
        PRW_TRY(compress_block(j, &co, vals, nvals, &j->enc, err));
        j->data = j->enc.data;
        j->data_size = j->enc.len;
    }
    prw__ar_chunk_hdr h = {.data_size = j->data_size,
                           .data_hash = prw__ar_hash(j->data, j->data_size),
                           .type = AR_CHUNK_SIMPLE,
                           .num_records = j->n,
                           .decoded_size = j->decoded};
    prw__ar_chunk_hdr_put(j->hdr, &h);
    return PRW_OK;
}

static void encode_task(void *arg) {
    ar_job *j = arg;
    prw_error_clear(&j->err);
    prw_status st = job_encode(j, &j->w->opts, &j->err);
    prw__mutex_lock(&j->w->mu);
    j->st = st;
    j->done = true;
    prw__cond_broadcast(&j->w->done_cv);
    prw__mutex_unlock(&j->w->mu);
}

static prw_status write_encoded(prw_ar_writer *w, const uint8_t hdr[AR_CHUNK_HDR],
                                const uint8_t *data, size_t data_size, uint64_t n, uint64_t decoded,
                                prw_error *err);

/* Writes an encoded data chunk and records its footer entry. */
static prw_status write_data_job(prw_ar_writer *w, ar_job *j, prw_error *err) {
    return write_encoded(w, j->hdr, j->data, j->data_size, j->n, j->decoded, err);
}

/* Waits for the oldest in-flight job and writes it. */
static prw_status drain_one(prw_ar_writer *w, prw_error *err) {
    ar_job *j = w->ring[w->rhead];
    prw__mutex_lock(&w->mu);
    while (!j->done)
        prw__cond_wait(&w->done_cv, &w->mu);
    prw__mutex_unlock(&w->mu);
    w->rhead = (w->rhead + 1) % w->max_inflight;
    w->inflight--;
    w->inflight_bytes -= (size_t)j->decoded;
    prw_status st = j->st;
    if (st < 0) {
        if (err)
            *err = j->err;
    } else {
        st = write_data_job(w, j, err);
    }
    job_put(w, j);
    return st;
}

static bool oldest_done(prw_ar_writer *w) {
    if (w->inflight == 0)
        return false;
    prw__mutex_lock(&w->mu);
    bool d = w->ring[w->rhead]->done;
    prw__mutex_unlock(&w->mu);
    return d;
}

static prw_status submit(prw_ar_writer *w, ar_job *j, prw_error *err) {
    if (!w->pool) {
        prw_status st = job_encode(j, &w->opts, err);
        if (st >= 0)
            st = write_data_job(w, j, err);
        job_put(w, j);
        return st;
    }
    while (w->inflight == w->max_inflight ||
           (w->inflight > 0 && w->inflight_bytes + j->decoded > w->max_inflight_bytes)) {
        prw_status st = drain_one(w, err);
        if (st < 0) {
            job_put(w, j);
            return st;
        }
    }
    w->ring[(w->rhead + w->inflight) % w->max_inflight] = j;
    w->inflight++;
    w->inflight_bytes += (size_t)j->decoded;
    prw__pool_submit(w->pool, encode_task, j);
    while (oldest_done(w))
        PRW_TRY(drain_one(w, err));
    return PRW_OK;
}

/* Writes a finished chunk (header + data) and records its footer entry. */
static prw_status write_encoded(prw_ar_writer *w, const uint8_t hdr[AR_CHUNK_HDR],
                                const uint8_t *data, size_t data_size, uint64_t n, uint64_t decoded,
                                prw_error *err) {
    uint64_t off = w->pos;
    PRW_TRY(write_chunk(w, hdr, data, data_size, n, err));
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
    return write_chunk(w, hdr, NULL, 0, 0, err);
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
    /* Deep enough that workers rarely sleep on tiny (group_size:1) chunks; bytes in flight
     * are capped separately (INFLIGHT_BYTES per thread). */
    w->max_inflight = 32 * (size_t)threads;
    w->max_inflight_bytes = INFLIGHT_BYTES * (size_t)threads;
    w->njobs_max = w->max_inflight + 2;
    w->free_jobs = prw__calloc(w->njobs_max, sizeof *w->free_jobs);
    w->ring = prw__calloc(w->max_inflight, sizeof *w->ring);
    if (!w->free_jobs || !w->ring) {
        st = prw__error_nomem(err, "an ArrayRecord writer", w->njobs_max * sizeof(void *));
        goto fail;
    }
    if (threads > 1 && (st = prw__pool_create(&w->pool, threads, w->max_inflight, err)) < 0)
        goto fail;
    if ((st = prw__wfile_open(&w->file, path, err)) < 0)
        goto fail;
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
    prw_status st;
    if (!w->cur && (st = job_get(w, &w->cur, err)) < 0)
        return fail(w, st, err);
    if ((st = job_add(w->cur, data, len, err)) < 0)
        return fail(w, st, err);
    w->num_records++;
    if (w->cur->n == w->opts.group_size) {
        ar_job *j = w->cur;
        w->cur = NULL;
        if ((st = submit(w, j, err)) < 0)
            return fail(w, st, err);
    }
    return PRW_OK;
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

static prw_status write_tail(prw_ar_writer *w, prw_error *err) {
    if (w->cur && w->cur->n > 0) {
        ar_job *j = w->cur;
        w->cur = NULL;
        PRW_TRY(submit(w, j, err));
    }
    while (w->inflight > 0)
        PRW_TRY(drain_one(w, err));
    /* Footer: the metadata record then one entry per data chunk, compressed like the data. */
    ar_job *j;
    PRW_TRY(job_get(w, &j, err));
    w->cur = j;
    size_t before = j->raw.len;
    PRW_TRY(footer_metadata(w, &j->raw, err));
    PRW_TRY(prw__buf_varint(&j->sizes, j->raw.len - before, err));
    PRW_TRY(prw__buf_append(&j->sizes, w->fsizes.data, w->fsizes.len, err));
    PRW_TRY(prw__buf_append(&j->raw, w->fvals.data, w->fvals.len, err));
    j->n = 1 + w->num_chunks;
    j->decoded = j->raw.len - j->head;
    uint64_t footer_offset = w->pos;
    PRW_TRY(job_encode(j, &w->opts, err));
    PRW_TRY(write_chunk(w, j->hdr, j->data, j->data_size, j->n, err));
    PRW_TRY(pad_to_boundary(w, err));
    /* Postscript: three identical RiegeliPostscript records, never compressed. */
    job_put(w, j);
    w->cur = NULL;
    PRW_TRY(job_get(w, &j, err));
    w->cur = j;
    j->comp = PRW_AR_UNCOMPRESSED;
    uint8_t ps[2 + 2 * PRW_VARINT_MAX];
    size_t k = 0;
    ps[k++] = 0x08;
    k += prw__varint_put(ps + k, footer_offset);
    ps[k++] = 0x10;
    k += prw__varint_put(ps + k, AR_POSTSCRIPT_MAGIC);
    for (int i = 0; i < 3; i++)
        PRW_TRY(job_add(j, ps, k, err));
    PRW_TRY(job_encode(j, &w->opts, err));
    PRW_TRY(write_chunk(w, j->hdr, j->data, j->data_size, j->n, err));
    PRW_TRY(pad_to_boundary(w, err));
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
    prw__pool_destroy(w->pool);
    for (size_t i = 0; i < w->inflight; i++)
        job_free(w->ring[(w->rhead + i) % w->max_inflight]);
    for (size_t i = 0; i < w->nfree; i++)
        job_free(w->free_jobs[i]);
    job_free(w->cur);
    prw__wfile_abort(&w->file);
    prw__buf_cleanup(&w->out);
    prw__buf_cleanup(&w->fsizes);
    prw__buf_cleanup(&w->fvals);
    prw__free(w->free_jobs);
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

/* ---- chunks encoded away from the writer ----------------------------------------------- */

struct prw_ar_chunk_encoder {
    prw_ar_options opts;
    ar_job job;
    prw__buf out;
};

prw_status prw_ar_chunk_encoder_create(const prw_ar_options *opts, prw_ar_chunk_encoder **out,
                                       prw_error *err) {
    *out = NULL;
    prw_ar_chunk_encoder *e = prw__calloc(1, sizeof *e);
    if (!e)
        return prw__error_nomem(err, "a chunk encoder", sizeof *e);
    if (opts) {
        e->opts = *opts;
    } else {
        prw_status st = prw_ar_options_parse(NULL, &e->opts, err);
        if (st < 0) {
            prw__free(e);
            return st;
        }
    }
    *out = e;
    return PRW_OK;
}

void prw_ar_chunk_encoder_destroy(prw_ar_chunk_encoder *e) {
    if (!e)
        return;
    prw__buf_cleanup(&e->job.raw);
    prw__buf_cleanup(&e->job.sizes);
    prw__buf_cleanup(&e->job.enc);
    prw__buf_cleanup(&e->job.tmp);
    prw__codec_ctx_destroy(e->job.cc);
    prw__buf_cleanup(&e->out);
    prw__free(e);
}

prw_status prw_ar_chunk_encode(prw_ar_chunk_encoder *e, const prw_bytes *records, size_t n,
                               prw_bytes *chunk, prw_error *err) {
    PRW_CHECK(n >= 1 && n <= e->opts.group_size, err, PRW_E_INVALID, -1,
              "a chunk holds 1 to group_size (%u) records, not %zu", e->opts.group_size, n);
    ar_job *j = &e->job;
    uint64_t g = e->opts.group_size < 4096 ? e->opts.group_size : 4096;
    j->head = 11 + 5 * (size_t)g;
    PRW_TRY(prw__buf_resize(&j->raw, j->head, err));
    prw__buf_clear(&j->sizes);
    j->n = 0;
    j->decoded = 0;
    j->comp = e->opts.compression;
    for (size_t i = 0; i < n; i++) {
        PRW_CHECK(records[i].len <= UINT32_MAX, err, PRW_E_LIMIT, -1,
                  "a record of %zu bytes; records are limited to 4 GiB - 1", records[i].len);
        PRW_TRY(job_add(j, records[i].ptr, records[i].len, err));
    }
    PRW_TRY(job_encode(j, &e->opts, err));
    prw__buf_clear(&e->out);
    PRW_TRY(prw__buf_reserve(&e->out, AR_CHUNK_HDR + j->data_size, err));
    memcpy(e->out.data, j->hdr, AR_CHUNK_HDR);
    memcpy(e->out.data + AR_CHUNK_HDR, j->data, j->data_size);
    e->out.len = AR_CHUNK_HDR + j->data_size;
    chunk->ptr = e->out.data;
    chunk->len = e->out.len;
    return PRW_OK;
}

prw_status prw_ar_writer_add_chunk(prw_ar_writer *w, const void *chunk, size_t len,
                                   prw_error *err) {
    if (w->failed < 0)
        return replay_failure(w, err);
    const uint8_t *c = chunk;
    prw_status st;
    if (len < AR_CHUNK_HDR || prw__load_le64(c + 8) != len - AR_CHUNK_HDR ||
        (prw__load_le64(c + 24) & 0xff) != AR_CHUNK_SIMPLE ||
        prw__load_le64(c) != prw__ar_hash(c + 8, AR_CHUNK_HDR - 8))
        return fail(w,
                    prw__error_set(err, PRW_E_INVALID, -1,
                                   "not a chunk made by prw_ar_chunk_encode (%zu bytes)", len),
                    err);
    uint64_t n = prw__load_le64(c + 24) >> 8, decoded = prw__load_le64(c + 32);
    if (w->cur && w->cur->n > 0)
        return fail(w,
                    prw__error_set(err, PRW_E_INVALID, -1,
                                   "a chunk cannot follow a partial group of records"),
                    err);
    while (w->inflight > 0)
        if ((st = drain_one(w, err)) < 0)
            return fail(w, st, err);
    if ((st = write_encoded(w, c, c + AR_CHUNK_HDR, len - AR_CHUNK_HDR, n, decoded, err)) < 0)
        return fail(w, st, err);
    w->num_records += n;
    return PRW_OK;
}
