/*
 * Batches of chunks (see ar_batch.h): records copied in, chunk data and headers encoded, and the
 * chunk encoder (prw_ar_chunk_encoder_*), which builds one chunk away from a writer.
 */
#include <string.h>

#include "arrayrecord/ar_batch.h"

void prw__ar_batch_free(ar_batch *b) {
    if (!b)
        return;
    prw__buf_cleanup(&b->raw);
    prw__buf_cleanup(&b->sizes);
    prw__buf_cleanup(&b->enc);
    prw__buf_cleanup(&b->tmp);
    prw__free(b);
}

void prw__ar_batch_free_list(ar_batch *b) {
    while (b) {
        ar_batch *next = b->next;
        prw__ar_batch_free(b);
        b = next;
    }
}

/* Headroom for the compression byte, the sizes length and up to 4096 sizes of 5 bytes. */
size_t prw__ar_headroom(uint32_t group_size) {
    uint64_t g = group_size < 4096 ? group_size : 4096;
    return 11 + 5 * (size_t)g;
}

void prw__ar_batch_reset(ar_batch *b, prw_ar_writer *w, prw_ar_compression comp, size_t head) {
    prw__buf_clear(&b->raw);
    prw__buf_clear(&b->sizes);
    b->nchunks = 0;
    b->bytes = 0;
    b->head = head;
    b->comp = comp;
    b->st = PRW_OK;
    b->w = w;
    atomic_store(&b->state, B_FILLING);
}

/* Opens a new chunk at the end of the batch (the caller checked there is room). */
prw_status prw__ar_chunk_open(ar_batch *b, prw_error *err) {
    PRW_TRY(prw__buf_resize(&b->raw, b->raw.len + b->head, err));
    ar_chunk *c = &b->chunks[b->nchunks++];
    c->vals = b->raw.len;
    c->sizes = b->sizes.len;
    c->sizes_len = 0;
    c->n = 0;
    c->decoded = 0;
    return PRW_OK;
}

/* Appends a record to the batch's last chunk. */
prw_status prw__ar_chunk_add(ar_batch *b, const void *data, size_t len, prw_error *err) {
    ar_chunk *c = &b->chunks[b->nchunks - 1];
    size_t before = b->sizes.len;
    PRW_TRY(prw__buf_varint(&b->sizes, len, err));
    if (len)
        PRW_TRY(prw__buf_append(&b->raw, data, len, err));
    c->sizes_len += b->sizes.len - before;
    c->n++;
    c->decoded += len;
    b->bytes += len;
    return PRW_OK;
}

/* Compresses `n` bytes at src into b after a varint of n (a Riegeli compressed block). */
static prw_status compress_block(prw__codec_ctx *cc, prw__codec c, const prw__codec_opts *co,
                                 const uint8_t *src, size_t n, prw__buf *b, prw_error *err) {
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
        PRW_TRY(
            prw__codec_compress(cc, c, co, src, n, b->data + b->len, b->cap - b->len, &clen, err));
    b->len += clen;
    return PRW_OK;
}

/* Appends the data (§5) of a chunk with these record sizes and values to `out`, compressed
 * with `comp` (`tmp` holds the compressed sizes; `cc` is needed unless uncompressed). */
static prw_status chunk_data_put(prw__buf *out, prw__buf *tmp, prw__codec_ctx *cc,
                                 const prw_ar_options *o, prw_ar_compression comp,
                                 const uint8_t *sizes, size_t sizes_len, const uint8_t *vals,
                                 size_t nvals, prw_error *err) {
    if (comp == PRW_AR_UNCOMPRESSED) {
        PRW_TRY(prw__buf_append_u8(out, AR_COMP_NONE, err));
        PRW_TRY(prw__buf_varint(out, sizes_len, err));
        PRW_TRY(prw__buf_append(out, sizes, sizes_len, err));
        return prw__buf_append(out, vals, nvals, err);
    }
    prw__codec codec = prw__ar_codec_of(comp);
    prw__codec_opts co = {.level = o->level, .window_log = o->window_log};
    if (comp == PRW_AR_BROTLI && !o->window_log_given)
        co.window_log = 0;
    prw__buf_clear(tmp);
    PRW_TRY(compress_block(cc, codec, &co, sizes, sizes_len, tmp, err));
    PRW_TRY(prw__buf_append_u8(out, prw__ar_comp_byte(comp), err));
    PRW_TRY(prw__buf_varint(out, tmp->len, err));
    PRW_TRY(prw__buf_append(out, tmp->data, tmp->len, err));
    return compress_block(cc, codec, &co, vals, nvals, out, err);
}

/* The header of a simple chunk over `size` data bytes at `data`. */
static void chunk_hdr_put(uint8_t *hdr, const uint8_t *data, size_t size, uint64_t n,
                          uint64_t decoded) {
    prw__ar_chunk_hdr h = {.data_size = size,
                           .data_hash = prw__ar_hash(data, size),
                           .type = AR_CHUNK_SIMPLE,
                           .num_records = n,
                           .decoded_size = decoded};
    prw__ar_chunk_hdr_put(hdr, &h);
}

/* Builds the data (§5) and header of chunk i. `cc` is needed for compressed chunks. */
static prw_status chunk_encode(ar_batch *b, size_t i, const prw_ar_options *o, prw__codec_ctx *cc,
                               prw_error *err) {
    ar_chunk *c = &b->chunks[i];
    const uint8_t *sizes = b->sizes.data + c->sizes;
    size_t plen = 1 + prw__varint_len(c->sizes_len) + c->sizes_len;
    if (b->comp == PRW_AR_UNCOMPRESSED && plen <= b->head) {
        uint8_t *p = b->raw.data + c->vals - plen;
        p[0] = AR_COMP_NONE;
        size_t k = 1 + prw__varint_put(p + 1, c->sizes_len);
        memcpy(p + k, sizes, c->sizes_len);
        c->in_raw = true;
        c->data = c->vals - plen;
        c->data_size = plen + (size_t)c->decoded;
    } else {
        c->in_raw = false;
        c->data = b->enc.len;
        PRW_TRY(chunk_data_put(&b->enc, &b->tmp, cc, o, b->comp, sizes, c->sizes_len,
                               b->raw.data + c->vals, (size_t)c->decoded, err));
        c->data_size = b->enc.len - c->data;
    }
    const uint8_t *data = (c->in_raw ? b->raw.data : b->enc.data) + c->data;
    chunk_hdr_put(c->hdr, data, c->data_size, c->n, c->decoded);
    return PRW_OK;
}

prw_status prw__ar_batch_encode(ar_batch *b, const prw_ar_options *o, prw__codec_ctx *cc,
                                prw_error *err) {
    prw__buf_clear(&b->enc);
    for (size_t i = 0; i < b->nchunks; i++)
        PRW_TRY(chunk_encode(b, i, o, cc, err));
    return PRW_OK;
}

const uint8_t *prw__ar_chunk_data(const ar_batch *b, const ar_chunk *c) {
    return (c->in_raw ? b->raw.data : b->enc.data) + c->data;
}

/* ---- chunks encoded away from the writer ----------------------------------------------- */

struct prw_ar_chunk_encoder {
    prw_ar_options opts;
    ar_batch *b;
    prw__codec_ctx *cc;
    prw__buf out;
};

prw_status prw_ar_chunk_encoder_create(const prw_ar_options *opts, prw_ar_chunk_encoder **out,
                                       prw_error *err) {
    *out = NULL;
    prw_ar_chunk_encoder *e = prw__calloc(1, sizeof *e);
    if (!e)
        return prw__error_nomem(err, "a chunk encoder", sizeof *e);
    prw_status st = PRW_OK;
    if (opts)
        e->opts = *opts;
    else
        st = prw_ar_options_parse(NULL, &e->opts, err);
    if (st >= 0 && !(e->b = prw__calloc(1, sizeof *e->b)))
        st = prw__error_nomem(err, "a chunk encoder", sizeof *e->b);
    if (st < 0) {
        prw_ar_chunk_encoder_destroy(e);
        return st;
    }
    *out = e;
    return PRW_OK;
}

void prw_ar_chunk_encoder_destroy(prw_ar_chunk_encoder *e) {
    if (!e)
        return;
    prw__ar_batch_free(e->b);
    prw__codec_ctx_destroy(e->cc);
    prw__buf_cleanup(&e->out);
    prw__free(e);
}

prw_status prw__ar_chunk_append(prw_ar_chunk_encoder *e, const void *record, size_t len,
                                prw__buf *out, prw_error *err) {
    PRW_CHECK(len <= UINT32_MAX, err, PRW_E_LIMIT, -1,
              "a record of %zu bytes; records are limited to 4 GiB - 1", len);
    if (e->opts.compression != PRW_AR_UNCOMPRESSED && !e->cc)
        PRW_TRY(prw__codec_ctx_create(&e->cc, err));
    uint8_t size[PRW_VARINT_MAX];
    size_t size_len = prw__varint_put(size, len);
    size_t start = out->len;
    PRW_TRY(prw__buf_resize(out, start + AR_CHUNK_HDR, err));
    prw_status st = chunk_data_put(out, &e->b->tmp, e->cc, &e->opts, e->opts.compression, size,
                                   size_len, record, len, err);
    if (st < 0) {
        out->len = start;
        return st;
    }
    chunk_hdr_put(out->data + start, out->data + start + AR_CHUNK_HDR,
                  out->len - start - AR_CHUNK_HDR, 1, len);
    return PRW_OK;
}

prw_status prw_ar_chunk_encode(prw_ar_chunk_encoder *e, const prw_bytes *records, size_t n,
                               prw_bytes *chunk, prw_error *err) {
    PRW_CHECK(n >= 1 && n <= e->opts.group_size, err, PRW_E_INVALID, -1,
              "a chunk holds 1 to group_size (%u) records, not %zu", e->opts.group_size, n);
    ar_batch *b = e->b;
    if (n == 1) { /* built in place: the record is compressed from the caller's memory */
        prw__buf_clear(&e->out);
        PRW_TRY(prw__ar_chunk_append(e, records[0].ptr, records[0].len, &e->out, err));
        chunk->ptr = e->out.data;
        chunk->len = e->out.len;
        return PRW_OK;
    }
    if (e->opts.compression != PRW_AR_UNCOMPRESSED && !e->cc)
        PRW_TRY(prw__codec_ctx_create(&e->cc, err));
    prw__ar_batch_reset(b, NULL, e->opts.compression, prw__ar_headroom(e->opts.group_size));
    PRW_TRY(prw__ar_chunk_open(b, err));
    for (size_t i = 0; i < n; i++) {
        PRW_CHECK(records[i].len <= UINT32_MAX, err, PRW_E_LIMIT, -1,
                  "a record of %zu bytes; records are limited to 4 GiB - 1", records[i].len);
        PRW_TRY(prw__ar_chunk_add(b, records[i].ptr, records[i].len, err));
    }
    PRW_TRY(prw__ar_batch_encode(b, &e->opts, e->cc, err));
    const ar_chunk *c = &b->chunks[0];
    prw__buf_clear(&e->out);
    PRW_TRY(prw__buf_reserve(&e->out, AR_CHUNK_HDR + c->data_size, err));
    memcpy(e->out.data, c->hdr, AR_CHUNK_HDR);
    memcpy(e->out.data + AR_CHUNK_HDR, prw__ar_chunk_data(b, c), c->data_size);
    e->out.len = AR_CHUNK_HDR + c->data_size;
    chunk->ptr = e->out.data;
    chunk->len = e->out.len;
    return PRW_OK;
}
