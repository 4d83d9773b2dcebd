/*
 * Column chunk decoding: pages of one column of one row group into positional columnar
 * buffers (parquet-format README "Column chunks" / "Data Pages", Encodings.md,
 * Compression.md).
 *
 * A chunk is a run of pages, each a Thrift PageHeader then compressed_page_size bytes: at most
 * one DICTIONARY_PAGE first, then DATA_PAGE (levels and values compressed together) or
 * DATA_PAGE_V2 (uncompressed levels, then optionally compressed values) pages; index pages are
 * skipped. For a flat column the definition level is 0 (NULL) or 1 (present), so levels decode
 * straight into the per-row validity bytes. The non-NULL values of a page are decoded densely
 * at the page's first row and then spread backwards over the NULL rows in place (pq_values.c).
 *
 * Nothing read from the file sizes an allocation on its own: page sizes are checked against
 * the chunk bytes (which were checked against the file size) and the configured page limit,
 * value counts against the row group's rows and the bytes present.
 */
#include <stdarg.h>
#include <stdio.h>

#include "common/hash.h"
#include "parquet/pq_column.h"

prw_status prw_pq_decoder_create(prw_pq_decoder **out, prw_error *err) {
    prw_pq_decoder *d = prw__calloc(1, sizeof *d);
    if (!d)
        return prw__error_nomem(err, "a decoder", sizeof *d);
    prw_status st = prw__codec_ctx_create(&d->codec, err);
    if (st < 0) {
        prw__free(d);
        return st;
    }
    *out = d;
    return PRW_OK;
}

void prw_pq_decoder_destroy(prw_pq_decoder *d) {
    if (!d)
        return;
    prw__codec_ctx_destroy(d->codec);
    prw__buf_cleanup(&d->chunk);
    prw__buf_cleanup(&d->page);
    prw__buf_cleanup(&d->scratch);
    prw__buf_cleanup(&d->scratch2);
    prw__free(d);
}

void prw_pq_column_data_init(prw_pq_column_data *cd) {
    memset(cd, 0, sizeof *cd);
}

void prw_pq_column_data_cleanup(prw_pq_column_data *cd) {
    if (!cd)
        return;
    prw_pq_column_store *s = cd->store_;
    if (s) {
        prw__buf *bufs[] = {&s->valid,   &s->values,      &s->offsets,      &s->bytes,
                            &s->indices, &s->dict_values, &s->dict_offsets, &s->dict_bytes};
        for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
            prw__buf_cleanup(bufs[i]);
        prw__free(s);
    }
    memset(cd, 0, sizeof *cd);
}

/* ---- decode state ----------------------------------------------------------------------- */

prw_status prw__pq_corrupt(col_state *cs, int64_t off, const char *fmt, ...) {
    char msg[PRW_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return prw__error_set(cs->err, PRW_E_CORRUPT, off, "%s", msg);
}

/* Ensures the output buffers hold `rows` rows. */
static prw_status reserve_rows(col_state *cs, int64_t rows) {
    size_t r = (size_t)rows;
    PRW_TRY(prw__buf_resize(&cs->s->valid, r, cs->err));
    if (cs->width)
        PRW_TRY(prw__buf_resize(&cs->s->values, r * cs->width, cs->err));
    else
        PRW_TRY(prw__buf_resize(&cs->s->offsets, (r + 1) * sizeof(int64_t), cs->err));
    if (cs->want_indices)
        PRW_TRY(prw__buf_resize(&cs->s->indices, r * sizeof(int32_t), cs->err));
    return PRW_OK;
}

/* ---- decompression ---------------------------------------------------------------------- */

static prw_status lz4_hadoop(col_state *cs, const uint8_t *src, size_t n, uint8_t *dst,
                             size_t expected) {
    /* Hadoop framing: [BE32 uncompressed][BE32 compressed][raw LZ4 block], repeated. */
    size_t in = 0, out = 0;
    prw_error tmp;
    bool ok = n >= 8;
    while (ok && in + 8 <= n) {
        uint32_t ul = prw__load_be32(src + in), cl = prw__load_be32(src + in + 4);
        in += 8;
        if (cl > n - in || ul > expected - out) {
            ok = false;
            break;
        }
        if (prw__codec_decompress(cs->d->codec, PRW_CODEC_LZ4_RAW, src + in, cl, dst + out, ul,
                                  &tmp) < 0) {
            ok = false;
            break;
        }
        in += cl;
        out += ul;
    }
    if (ok && in == n && out == expected)
        return PRW_OK;
    /* Older parquet-cpp wrote a bare LZ4 block under this codec id. */
    return prw__codec_decompress(cs->d->codec, PRW_CODEC_LZ4_RAW, src, n, dst, expected, cs->err);
}

static prw_status decompress(col_state *cs, const uint8_t *src, size_t n, uint8_t *dst,
                             size_t expected) {
    prw__codec c;
    switch (cs->m->codec) {
    case PQ_CODEC_SNAPPY:
        c = PRW_CODEC_SNAPPY;
        break;
    case PQ_CODEC_GZIP:
        c = PRW_CODEC_GZIP;
        break;
    case PQ_CODEC_BROTLI:
        c = PRW_CODEC_BROTLI;
        break;
    case PQ_CODEC_ZSTD:
        c = PRW_CODEC_ZSTD;
        break;
    case PQ_CODEC_LZ4_RAW:
        c = PRW_CODEC_LZ4_RAW;
        break;
    case PQ_CODEC_LZ4:
        return lz4_hadoop(cs, src, n, dst, expected);
    default:
        return prw__error_set(cs->err, PRW_E_UNSUPPORTED, cs->page_off,
                              "compression codec %s (%d) is not supported",
                              prw_pq_codec_name(cs->m->codec), cs->m->codec);
    }
    return prw__codec_decompress(cs->d->codec, c, src, n, dst, expected, cs->err);
}

/*
 * Produces the page body (after the header) uncompressed: `skip` leading bytes are copied
 * as stored (DATA_PAGE_V2 levels), the rest decompressed when `compressed`.
 */
static prw_status page_body(col_state *cs, const pq_page_header *h, const uint8_t *src, size_t skip,
                            bool compressed, const uint8_t **out, size_t *out_len) {
    size_t clen = (size_t)h->compressed_size, ulen = (size_t)h->uncompressed_size;
    if (!compressed || cs->m->codec == PQ_CODEC_UNCOMPRESSED) {
        if (clen != ulen)
            return prw__pq_corrupt(cs, cs->page_off,
                                   "uncompressed page of %zu bytes says it expands to %zu", clen,
                                   ulen);
        *out = src;
        *out_len = clen;
        return PRW_OK;
    }
    if ((int64_t)ulen > cs->f->opts.max_page_size)
        return prw__error_set(cs->err, PRW_E_LIMIT, cs->page_off,
                              "page of %zu bytes exceeds the page size limit of %lld", ulen,
                              (long long)cs->f->opts.max_page_size);
    /* No codec the reader accepts expands by more than ~1032x (deflate's bound); more is
     * a corrupt size, refused before allocating for it. */
    if (ulen > ((size_t)1 << 20) + clen * 1032)
        return prw__pq_corrupt(cs, cs->page_off, "page claims %zu bytes from %zu compressed", ulen,
                               clen);
    if (skip > clen || skip > ulen)
        return prw__pq_corrupt(cs, cs->page_off, "page levels (%zu bytes) exceed the page", skip);
    PRW_TRY(prw__buf_resize(&cs->d->page, ulen + 8, cs->err));
    uint8_t *dst = cs->d->page.data;
    memcpy(dst, src, skip);
    if (ulen - skip > 0 || clen - skip > 0) {
        prw_status st = decompress(cs, src + skip, clen - skip, dst + skip, ulen - skip);
        /* A codec knows offsets only within its input (or none): make it the file's. */
        if (st == PRW_E_CODEC && cs->err)
            cs->err->offset =
                cs->page_off + (int64_t)skip + (cs->err->offset > 0 ? cs->err->offset : 0);
        PRW_TRY(st);
    }
    *out = dst;
    *out_len = ulen;
    return PRW_OK;
}

/* ---- dictionary page -------------------------------------------------------------------- */

static prw_status read_dict_page(col_state *cs, const pq_page_header *h, const uint8_t *p,
                                 size_t len) {
    if (cs->has_dict)
        return prw__pq_corrupt(cs, cs->page_off, "a second dictionary page");
    if (cs->done > 0)
        return prw__pq_corrupt(cs, cs->page_off, "dictionary page after data pages");
    if (h->encoding != PQ_ENC_PLAIN && h->encoding != PQ_ENC_PLAIN_DICTIONARY)
        return prw__error_set(cs->err, PRW_E_UNSUPPORTED, cs->page_off,
                              "dictionary page encoding %s", prw_pq_encoding_name(h->encoding));
    if (h->num_values < 0)
        return prw__pq_corrupt(cs, cs->page_off, "dictionary of %d values", h->num_values);
    size_t n = (size_t)h->num_values;
    prw_pq_column_store *s = cs->s;
    if (cs->c->physical == PRW_PQ_BOOLEAN)
        return prw__error_set(cs->err, PRW_E_UNSUPPORTED, cs->page_off, "BOOLEAN dictionary");
    if (cs->width) {
        if (n > len / cs->width)
            return prw__pq_corrupt(cs, cs->page_off,
                                   "dictionary of %zu values needs %zu bytes, has %zu", n,
                                   n * cs->width, len);
        PRW_TRY(prw__buf_resize(&s->dict_values, n * cs->width + 1, cs->err));
        memcpy(s->dict_values.data, p, n * cs->width);
    } else {
        if (n > len / 4)
            return prw__pq_corrupt(cs, cs->page_off, "dictionary of %zu strings in %zu bytes", n,
                                   len);
        PRW_TRY(prw__buf_resize(&s->dict_offsets, (n + 1) * sizeof(int64_t), cs->err));
        PRW_TRY(prw__buf_resize(&s->dict_bytes, len + 1, cs->err));
        int64_t *o = (int64_t *)(void *)s->dict_offsets.data;
        uint8_t *b = s->dict_bytes.data;
        size_t pos = 0, out = 0;
        o[0] = 0;
        for (size_t i = 0; i < n; i++) {
            if (len - pos < 4)
                return prw__pq_corrupt(cs, cs->page_off + (int64_t)pos,
                                       "dictionary string %zu cut off", i);
            uint32_t l = prw__load_le32(p + pos);
            pos += 4;
            if (l > len - pos)
                return prw__pq_corrupt(cs, cs->page_off + (int64_t)pos,
                                       "dictionary string %zu of %u bytes overruns the page", i, l);
            memcpy(b + out, p + pos, l);
            pos += l;
            out += l;
            o[i + 1] = (int64_t)out;
        }
        s->dict_bytes.len = out;
    }
    cs->has_dict = true;
    cs->dict_n = (int64_t)n;
    return PRW_OK;
}

/* Definition levels of n rows into validity bytes; returns the present count in *nn. */
static prw_status decode_levels(col_state *cs, prw__rd *rd, int enc, bool v2, size_t v2_len,
                                size_t n, size_t *nn, int64_t base) {
    uint8_t *valid = cs->s->valid.data + cs->done;
    if (cs->c->repetition == PRW_PQ_REQUIRED) {
        memset(valid, 1, n);
        *nn = n;
        return v2 && v2_len ? prw__rd_skip(rd, v2_len)
                                  ? PRW_OK
                                  : prw__pq_corrupt(cs, base, "levels overrun page")
                            : PRW_OK;
    }
    if (v2) {
        if (!prw__rd_has(rd, v2_len))
            return prw__pq_corrupt(cs, base, "definition levels (%zu bytes) overrun the page",
                                   v2_len);
        prw__rd sub;
        prw__rd_init(&sub, rd->p, v2_len);
        PRW_TRY(prw__pq_rle_decode_u8(&sub, 1, valid, n, base + prw__rd_pos(rd), cs->err));
        rd->p += v2_len;
    } else if (enc == PQ_ENC_RLE) {
        uint32_t l;
        if (!prw__rd_le32(rd, &l) || l > prw__rd_left(rd))
            return prw__pq_corrupt(cs, base + prw__rd_pos(rd), "definition levels length invalid");
        prw__rd sub;
        prw__rd_init(&sub, rd->p, l);
        PRW_TRY(prw__pq_rle_decode_u8(&sub, 1, valid, n, base + prw__rd_pos(rd), cs->err));
        rd->p += l;
    } else if (enc == PQ_ENC_BIT_PACKED) {
        /* Legacy BIT_PACKED levels: most significant bit first. */
        size_t bytes = (n + 7) / 8;
        if (!prw__rd_has(rd, bytes))
            return prw__pq_corrupt(cs, base + prw__rd_pos(rd),
                                   "BIT_PACKED levels overrun the page");
        for (size_t i = 0; i < n; i++)
            valid[i] = (uint8_t)((rd->p[i >> 3] >> (7 - (i & 7))) & 1);
        rd->p += bytes;
    } else {
        return prw__error_set(cs->err, PRW_E_UNSUPPORTED, cs->page_off,
                              "definition level encoding %s", prw_pq_encoding_name(enc));
    }
    /* Levels are 0/1 bytes: sum 8 at a time (the byte sum of a word fits in its top byte). */
    size_t count = 0, i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, valid + i, 8);
        count += (size_t)((w * 0x0101010101010101ull) >> 56);
    }
    for (; i < n; i++)
        count += valid[i];
    /* Levels above the maximum (1) are invalid: the decoders above only produce 0/1 for
     * bit width 1, so count is exact. */
    *nn = count;
    return PRW_OK;
}

static prw_status read_data_page(col_state *cs, const pq_page_header *h, const uint8_t *src) {
    bool v2 = h->type == PQ_PAGE_DATA_V2;
    if (!h->has_sub)
        return prw__pq_corrupt(cs, cs->page_off, "data page without its data page header");
    if (h->num_values < 0 ||
        (v2 && (h->num_nulls < 0 || h->num_rows < 0 || h->def_len < 0 || h->rep_len < 0)))
        return prw__pq_corrupt(cs, cs->page_off, "negative count in data page header");
    if (v2 && h->num_rows != h->num_values)
        return prw__pq_corrupt(cs, cs->page_off,
                               "DATA_PAGE_V2 of a flat column with %d rows, %d values", h->num_rows,
                               h->num_values);
    size_t n = (size_t)h->num_values;
    if ((int64_t)n > cs->rows - cs->done)
        return prw__pq_corrupt(
            cs, cs->page_off, "page of %zu values exceeds the row group's %lld rows (%lld decoded)",
            n, (long long)cs->rows, (long long)cs->done);
    PRW_TRY(reserve_rows(cs, cs->done + (int64_t)n));
    size_t skip = v2 ? (size_t)h->def_len + (size_t)h->rep_len : 0;
    const uint8_t *body;
    size_t blen;
    PRW_TRY(page_body(cs, h, src, skip, v2 ? h->v2_compressed : true, &body, &blen));
    prw__rd rd;
    prw__rd_init(&rd, body, blen);
    size_t nn = 0;
    /* A flat column's repetition levels are all 0; some writers still store them. */
    if (v2 && !prw__rd_skip(&rd, (size_t)h->rep_len))
        return prw__pq_corrupt(cs, cs->page_off, "repetition levels overrun the page");
    PRW_TRY(decode_levels(cs, &rd, h->def_encoding, v2, (size_t)h->def_len, n, &nn, cs->page_off));
    if (v2 && (size_t)h->num_nulls != n - nn)
        return prw__pq_corrupt(cs, cs->page_off, "DATA_PAGE_V2 says %d NULLs, levels give %zu",
                               h->num_nulls, n - nn);
    PRW_TRY(prw__pq_decode_values(cs, h->encoding, rd.p, prw__rd_left(&rd), n, nn,
                                  cs->page_off + (int64_t)(rd.p - body)));
    cs->nulls += (int64_t)(n - nn);
    cs->done += (int64_t)n;
    return PRW_OK;
}

static prw_status decode_chunk(col_state *cs, const uint8_t *chunk, size_t len, int64_t start) {
    prw__rd rd;
    prw__rd_init(&rd, chunk, len);
    int page = 0;
    while (cs->done < cs->rows) {
        if (prw__rd_left(&rd) == 0)
            return prw__error_set(cs->err, PRW_E_TRUNCATED, start + (int64_t)len,
                                  "column chunk ends after %lld of %lld rows", (long long)cs->done,
                                  (long long)cs->rows);
        pq_thrift t = {.base = start + prw__rd_pos(&rd), .depth = 0, .err = cs->err};
        prw__rd_init(&t.rd, rd.p, prw__rd_left(&rd));
        pq_page_header h;
        prw_status st = prw__pq_parse_page_header(&t, &h);
        if (st < 0) {
            prw__error_prefix(cs->err, "page %d header: ", page);
            return st;
        }
        rd.p = t.rd.p;
        cs->page_off = start + prw__rd_pos(&rd);
        const uint8_t *src;
        if (!prw__rd_take(&rd, (size_t)h.compressed_size, &src))
            return prw__error_set(cs->err, PRW_E_TRUNCATED, cs->page_off,
                                  "page %d of %d bytes overruns the column chunk", page,
                                  h.compressed_size);
        if (h.has_crc) {
            uint32_t crc = prw__crc32(0, src, (size_t)h.compressed_size);
            if (crc != h.crc)
                return prw__error_set(cs->err, PRW_E_CHECKSUM, cs->page_off,
                                      "page %d CRC32 is %08x, header says %08x", page, crc, h.crc);
        }
        switch (h.type) {
        case PQ_PAGE_DICT: {
            if (!h.has_sub)
                return prw__pq_corrupt(cs, cs->page_off, "dictionary page without its header");
            const uint8_t *body;
            size_t blen;
            PRW_TRY(page_body(cs, &h, src, 0, true, &body, &blen));
            PRW_TRY(read_dict_page(cs, &h, body, blen));
            break;
        }
        case PQ_PAGE_DATA:
        case PQ_PAGE_DATA_V2:
            st = read_data_page(cs, &h, src);
            if (st < 0) {
                prw__error_prefix(cs->err, "page %d: ", page);
                return st;
            }
            break;
        default: /* index pages and unknown kinds carry no values */
            break;
        }
        page++;
    }
    return PRW_OK;
}

static prw_status decode_column(prw_pq_decoder *d, const prw_pq_file *f, int rg, int col,
                                unsigned flags, prw_pq_column_data *out, prw_error *err) {
    const prw_pq_column_info *c = &f->cols[col];
    const pq_chunk_meta *m = &f->rgs[rg].chunks[col];
    if (!c->supported)
        return prw__error_set(err, PRW_E_UNSUPPORTED, -1,
                              "nested or repeated column is not supported");
    if (!m->has_meta || m->external)
        return prw__error_set(err, PRW_E_UNSUPPORTED, -1,
                              "column chunk without metadata or in another file");
    if (m->physical != (int32_t)c->physical)
        return prw__error_set(err, PRW_E_CORRUPT, -1, "chunk type %d differs from the schema's %s",
                              m->physical, prw_pq_physical_name(c->physical));
    if (!out->store_) {
        out->store_ = prw__calloc(1, sizeof *out->store_);
        if (!out->store_)
            return prw__error_nomem(err, "column buffers", sizeof *out->store_);
    }
    col_state cs = {.f = f, .c = c, .m = m, .d = d, .s = out->store_, .err = err};
    switch (c->physical) {
    case PRW_PQ_BOOLEAN:
        cs.width = 1;
        break;
    case PRW_PQ_INT32:
    case PRW_PQ_FLOAT:
        cs.width = 4;
        break;
    case PRW_PQ_INT64:
    case PRW_PQ_DOUBLE:
        cs.width = 8;
        break;
    case PRW_PQ_INT96:
        cs.width = 12;
        break;
    case PRW_PQ_FIXED_LEN_BYTE_ARRAY:
        cs.width = (size_t)c->type_length;
        break;
    case PRW_PQ_BYTE_ARRAY:
        cs.width = 0;
        break;
    }
    cs.rows = f->rgs[rg].num_rows;
    cs.want_indices = cs.width == 0 && (flags & PRW_PQ_DECODE_DICT);
    cs.index_mode = cs.want_indices;
    cs.s->bytes.len = 0;
    /* Buffers grow page by page with the rows actually present, not by the footer's claim. */
    PRW_TRY(reserve_rows(&cs, cs.rows < (1 << 16) ? cs.rows : (1 << 16)));
    if (!cs.width)
        offs(&cs)[0] = 0;

    if (cs.rows == 0)
        goto done;
    int64_t start = m->data_page_offset;
    if (m->dict_page_offset > 0 && m->dict_page_offset < start)
        start = m->dict_page_offset;
    int64_t len = m->total_compressed;
    if (start < 4 || len < 0 || start > f->size || len > f->size - start)
        return prw__error_set(err, PRW_E_CORRUPT, start,
                              "column chunk at %lld of %lld bytes lies outside the file "
                              "(%lld bytes)",
                              (long long)start, (long long)len, (long long)f->size);
    len += f->size - start - len < f->chunk_pad ? f->size - start - len : f->chunk_pad;
    if (f->mem) {
        PRW_TRY(decode_chunk(&cs, f->mem + start, (size_t)len, start));
    } else {
        PRW_TRY(prw__buf_resize(&d->chunk, (size_t)len, err));
        PRW_TRY(prw__rfile_pread(&f->rf, d->chunk.data, (size_t)len, start, err));
        PRW_TRY(decode_chunk(&cs, d->chunk.data, (size_t)len, start));
    }
done:

    out->num_rows = cs.rows;
    out->null_count = cs.nulls;
    out->valid = cs.s->valid.data;
    out->value_size = cs.width;
    out->values = cs.width ? cs.s->values.data : NULL;
    out->dict_encoded = cs.index_mode;
    out->dict_fallback = cs.fallback;
    if (cs.width == 0 && !cs.index_mode) {
        out->offsets = offs(&cs);
        out->bytes = cs.s->bytes.data ? cs.s->bytes.data : (const uint8_t *)"";
    }
    if (cs.index_mode) {
        out->indices = (const int32_t *)(const void *)cs.s->indices.data;
        out->dict_count = cs.dict_n;
        out->dict_offsets = (const int64_t *)(const void *)cs.s->dict_offsets.data;
        out->dict_bytes = cs.s->dict_bytes.data ? cs.s->dict_bytes.data : (const uint8_t *)"";
        if (cs.rows == 0) {
            out->dict_count = 0;
            out->dict_offsets = NULL;
        }
    }
    return PRW_OK;
}

prw_status prw_pq_decode_column(prw_pq_decoder *d, const prw_pq_file *f, int rg, int col,
                                unsigned flags, prw_pq_column_data *out, prw_error *err) {
    if (!out)
        return prw__error_set(err, PRW_E_INVALID, -1, "no output column");
    prw_pq_column_store *keep = out->store_;
    memset(out, 0, sizeof *out);
    out->store_ = keep;
    if (!d || !f || rg < 0 || rg >= f->nrg || col < 0 || col >= f->ncols)
        return prw__error_set(err, PRW_E_INVALID, -1, "no row group %d / column %d", rg, col);
    prw_status st = decode_column(d, f, rg, col, flags, out, err);
    if (st < 0) {
        keep = out->store_;
        memset(out, 0, sizeof *out);
        out->store_ = keep;
        prw__error_prefix(err, "%s: row group %d, column '%s': ", f->name, rg, f->cols[col].name);
    }
    return st;
}
