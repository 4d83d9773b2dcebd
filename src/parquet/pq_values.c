/*
 * Value decoding for one data page (Encodings.md): PLAIN, dictionary indices (RLE/bit-packed
 * hybrid), DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT;
 * present values are decoded densely, then spread backwards over the NULL rows in place.
 */
#include <string.h>

#include "parquet/pq_column.h"

/* Spreads `nn` dense fixed-width values at dst over the `n` rows described by valid. */
#define PQ_SPREAD(T)                                                                               \
    do {                                                                                           \
        T *d_ = (T *)(void *)dst;                                                                  \
        size_t k_ = nn;                                                                            \
        for (size_t r = n; r-- > 0;) {                                                             \
            if (valid[r])                                                                          \
                d_[r] = d_[--k_];                                                                  \
            else                                                                                   \
                d_[r] = 0;                                                                         \
        }                                                                                          \
    } while (0)

void prw__pq_spread_fixed(uint8_t *dst, size_t w, const uint8_t *valid, size_t n, size_t nn) {
    if (nn == n)
        return;
    if (w == 1) {
        PQ_SPREAD(uint8_t);
        return;
    }
    if (w == 4) {
        PQ_SPREAD(uint32_t);
        return;
    }
    if (w == 8) {
        PQ_SPREAD(uint64_t);
        return;
    }
    size_t k = nn;
    for (size_t r = n; r-- > 0;) {
        if (valid[r]) {
            k--;
            if (k != r)
                memmove(dst + r * w, dst + k * w, w);
        } else {
            memset(dst + r * w, 0, w);
        }
    }
}

/* Spreads end offsets: dense ends of the nn values at o[1..nn] over n rows (o[0] = base). */
static void spread_offsets(int64_t *o, const uint8_t *valid, size_t n, size_t nn) {
    if (nn == n)
        return;
    size_t k = nn; /* o[k] is the end of the last unconsumed dense value */
    for (size_t r = n; r-- > 0;) {
        if (valid[r]) {
            o[r + 1] = o[k];
            k--;
        } else {
            o[r + 1] = o[k];
        }
    }
}

static void spread_u32(uint32_t *dst, const uint8_t *valid, size_t n, size_t nn) {
    if (nn == n)
        return;
    size_t k = nn;
    for (size_t r = n; r-- > 0;)
        dst[r] = valid[r] ? dst[--k] : 0;
}

/* ---- values ----------------------------------------------------------------------------- */

/* Checks dictionary indices and reports the first bad one. */
static prw_status check_indices(col_state *cs, const uint32_t *idx, size_t n) {
    /* OR of all indices bounds their maximum: one cheap pass, exact check only on failure. */
    uint32_t o0 = 0, o1 = 0, o2 = 0, o3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        o0 |= idx[i];
        o1 |= idx[i + 1];
        o2 |= idx[i + 2];
        o3 |= idx[i + 3];
    }
    for (; i < n; i++)
        o0 |= idx[i];
    if ((int64_t)(o0 | o1 | o2 | o3) < cs->dict_n)
        return PRW_OK;
    uint32_t mx = 0;
    for (i = 0; i < n; i++)
        mx = idx[i] > mx ? idx[i] : mx;
    if (n && (int64_t)mx >= cs->dict_n)
        return prw__pq_corrupt(cs, cs->page_off, "dictionary index %u out of range (%lld entries)",
                               mx, (long long)cs->dict_n);
    return PRW_OK;
}

/* Appends the strings of dense dictionary indices to the materialised output. */
static prw_status gather_strings(col_state *cs, const uint32_t *idx, size_t nn, int64_t *o) {
    prw_pq_column_store *s = cs->s;
    const int64_t *dof = (const int64_t *)(const void *)s->dict_offsets.data;
    size_t total = 0;
    for (size_t i = 0; i < nn; i++)
        total += (size_t)(dof[idx[i] + 1] - dof[idx[i]]);
    PRW_TRY(prw__buf_reserve(&s->bytes, total, cs->err));
    uint8_t *b = s->bytes.data;
    size_t pos = s->bytes.len;
    const uint8_t *db = s->dict_bytes.data;
    for (size_t i = 0; i < nn; i++) {
        size_t a = (size_t)dof[idx[i]], l = (size_t)(dof[idx[i] + 1] - dof[idx[i]]);
        memcpy(b + pos, db + a, l);
        pos += l;
        o[i + 1] = (int64_t)pos;
    }
    s->bytes.len = pos;
    return PRW_OK;
}

/* Leaves index mode: materialises the rows decoded so far as strings. */
static prw_status leave_index_mode(col_state *cs) {
    cs->index_mode = false;
    if (cs->done == 0)
        return PRW_OK;
    cs->fallback = true;
    int64_t *o = offs(cs);
    o[0] = 0;
    cs->s->bytes.len = 0;
    const uint32_t *idx = (const uint32_t *)(const void *)cs->s->indices.data;
    /* Rows already decoded hold index 0 for NULLs, which gathers as a string; fix after. */
    if (cs->dict_n == 0) {
        for (int64_t r = 0; r < cs->done; r++)
            o[r + 1] = 0;
        return PRW_OK;
    }
    PRW_TRY(gather_strings(cs, idx, (size_t)cs->done, o));
    /* NULL rows must be empty: rebuild the ends skipping them. */
    const uint8_t *valid = cs->s->valid.data;
    uint8_t *b = cs->s->bytes.data;
    size_t w = 0;
    int64_t prev_end = 0;
    for (int64_t r = 0; r < cs->done; r++) {
        int64_t end = o[r + 1];
        size_t l = (size_t)(end - prev_end);
        if (valid[r]) {
            memmove(b + w, b + prev_end, l);
            w += l;
        }
        prev_end = end;
        o[r + 1] = (int64_t)w;
    }
    cs->s->bytes.len = w;
    return PRW_OK;
}

static prw_status plain_strings(col_state *cs, const uint8_t *p, size_t len, size_t nn,
                                int64_t *o) {
    prw_pq_column_store *s = cs->s;
    /* The strings are shorter than the page: with SHORT_COPY bytes to spare past them, a
     * short string is moved with one fixed-size copy instead of a call to memcpy. */
    PRW_TRY(prw__buf_reserve(&s->bytes, len + SHORT_COPY, cs->err));
    uint8_t *b = s->bytes.data;
    size_t out = s->bytes.len, pos = 0;
    for (size_t i = 0; i < nn; i++) {
        if (PRW_UNLIKELY(len - pos < 4))
            return prw__pq_corrupt(cs, cs->page_off, "string %zu of %zu cut off", i, nn);
        uint32_t l = prw__load_le32(p + pos);
        pos += 4;
        if (PRW_UNLIKELY(l > len - pos))
            return prw__pq_corrupt(cs, cs->page_off, "string of %u bytes overruns the page", l);
        if (l <= SHORT_COPY && len - pos >= SHORT_COPY)
            memcpy(b + out, p + pos, SHORT_COPY);
        else
            memcpy(b + out, p + pos, l);
        pos += l;
        out += l;
        o[i + 1] = (int64_t)out;
    }
    s->bytes.len = out;
    return PRW_OK;
}

static prw_status delta_length_strings(col_state *cs, prw__rd *rd, size_t nn, int64_t *o,
                                       int64_t base) {
    PRW_TRY(prw__buf_resize(&cs->d->scratch, nn * sizeof(int64_t) + 8, cs->err));
    int64_t *lens = (int64_t *)(void *)cs->d->scratch.data;
    PRW_TRY(prw__pq_delta_decode(rd, 32, lens, nn, base, cs->err));
    size_t total = 0;
    for (size_t i = 0; i < nn; i++) {
        if (lens[i] < 0 || (uint64_t)lens[i] > prw__rd_left(rd) - total)
            return prw__pq_corrupt(cs, base + prw__rd_pos(rd),
                                   "string length %lld overruns the page", (long long)lens[i]);
        total += (size_t)lens[i];
    }
    PRW_TRY(prw__buf_append(&cs->s->bytes, rd->p, total, cs->err));
    size_t pos = cs->s->bytes.len - total;
    for (size_t i = 0; i < nn; i++) {
        pos += (size_t)lens[i];
        o[i + 1] = (int64_t)pos;
    }
    rd->p += total;
    return PRW_OK;
}

static prw_status delta_byte_array(col_state *cs, prw__rd *rd, size_t nn, int64_t *o,
                                   int64_t base) {
    PRW_TRY(prw__buf_resize(&cs->d->scratch2, nn * sizeof(int64_t) + 8, cs->err));
    int64_t *pre = (int64_t *)(void *)cs->d->scratch2.data;
    PRW_TRY(prw__pq_delta_decode(rd, 32, pre, nn, base, cs->err));
    PRW_TRY(prw__buf_resize(&cs->d->scratch, nn * sizeof(int64_t) + 8, cs->err));
    int64_t *suf = (int64_t *)(void *)cs->d->scratch.data;
    PRW_TRY(prw__pq_delta_decode(rd, 32, suf, nn, base, cs->err));
    prw_pq_column_store *s = cs->s;
    size_t prev_start = 0, prev_len = 0;
    size_t left = prw__rd_left(rd);
    for (size_t i = 0; i < nn; i++) {
        if (pre[i] < 0 || (size_t)pre[i] > prev_len || suf[i] < 0 || (size_t)suf[i] > left)
            return prw__pq_corrupt(
                cs, base + prw__rd_pos(rd),
                "DELTA_BYTE_ARRAY prefix %lld / suffix %lld invalid at value %zu",
                (long long)pre[i], (long long)suf[i], i);
        left -= (size_t)suf[i];
        size_t l = (size_t)pre[i] + (size_t)suf[i];
        if (l > PQ_MAX_DICT_BYTES)
            return prw__error_set(cs->err, PRW_E_LIMIT, cs->page_off, "string too long");
        PRW_TRY(prw__buf_reserve(&s->bytes, l, cs->err));
        uint8_t *b = s->bytes.data;
        size_t start = s->bytes.len;
        memmove(b + start, b + prev_start, (size_t)pre[i]);
        memcpy(b + start + (size_t)pre[i], rd->p, (size_t)suf[i]);
        rd->p += suf[i];
        s->bytes.len = start + l;
        o[i + 1] = (int64_t)s->bytes.len;
        prev_start = start;
        prev_len = l;
    }
    return PRW_OK;
}

/* Decodes nn dense BYTE_ARRAY values (materialised) at the current rows. */
static prw_status decode_strings(col_state *cs, int enc, prw__rd *rd, size_t nn, int64_t base) {
    int64_t *o = offs(cs) + cs->done;
    switch (enc) {
    case PQ_ENC_PLAIN: {
        prw_status st = plain_strings(cs, rd->p, prw__rd_left(rd), nn, o);
        return st;
    }
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
        return delta_length_strings(cs, rd, nn, o, base);
    case PQ_ENC_DELTA_BYTE_ARRAY:
        return delta_byte_array(cs, rd, nn, o, base);
    default:
        return prw__error_set(cs->err, PRW_E_UNSUPPORTED, cs->page_off,
                              "encoding %s for BYTE_ARRAY", prw_pq_encoding_name(enc));
    }
}

static void byte_stream_split(const uint8_t *src, size_t w, size_t nn, uint8_t *dst) {
    if (w == 4) {
        for (size_t i = 0; i < nn; i++) {
            dst[4 * i] = src[i];
            dst[4 * i + 1] = src[nn + i];
            dst[4 * i + 2] = src[2 * nn + i];
            dst[4 * i + 3] = src[3 * nn + i];
        }
        return;
    }
    for (size_t j = 0; j < w; j++) {
        const uint8_t *s = src + j * nn;
        for (size_t i = 0; i < nn; i++)
            dst[i * w + j] = s[i];
    }
}

/* Decodes nn dense fixed-width values at the current rows. */
static prw_status decode_fixed(col_state *cs, int enc, prw__rd *rd, size_t nn, int64_t base) {
    const size_t w = cs->width;
    uint8_t *dst = cs->s->values.data + (size_t)cs->done * w;
    const prw_pq_physical t = cs->c->physical;
    size_t left = prw__rd_left(rd);
    if (t == PRW_PQ_BOOLEAN) {
        if (enc == PQ_ENC_PLAIN) {
            if (left < (nn + 7) / 8)
                return prw__pq_corrupt(cs, cs->page_off,
                                       "%zu booleans need %zu bytes, page has %zu", nn,
                                       (nn + 7) / 8, left);
            const uint8_t *p = rd->p;
            for (size_t i = 0; i < nn; i++)
                dst[i] = (uint8_t)((p[i >> 3] >> (i & 7)) & 1);
            return PRW_OK;
        }
        if (enc == PQ_ENC_RLE) {
            uint32_t l;
            if (!prw__rd_le32(rd, &l) || l > prw__rd_left(rd))
                return prw__pq_corrupt(cs, cs->page_off, "RLE boolean length missing or too large");
            prw__rd sub;
            prw__rd_init(&sub, rd->p, l);
            return prw__pq_rle_decode_u8(&sub, 1, dst, nn, base + prw__rd_pos(rd), cs->err);
        }
        return prw__error_set(cs->err, PRW_E_UNSUPPORTED, cs->page_off, "encoding %s for BOOLEAN",
                              prw_pq_encoding_name(enc));
    }
    switch (enc) {
    case PQ_ENC_PLAIN:
        if (left / w < nn)
            return prw__pq_corrupt(cs, cs->page_off, "%zu values of %zu bytes, page has %zu", nn, w,
                                   left);
        memcpy(dst, rd->p, nn * w);
        return PRW_OK;
    case PQ_ENC_BYTE_STREAM_SPLIT:
        if (t == PRW_PQ_INT96 || left / w < nn)
            return prw__pq_corrupt(cs, cs->page_off,
                                   "BYTE_STREAM_SPLIT: %zu values of %zu bytes, %zu", nn, w, left);
        byte_stream_split(rd->p, w, nn, dst);
        return PRW_OK;
    case PQ_ENC_DELTA_BINARY_PACKED:
        if (t == PRW_PQ_INT64)
            return prw__pq_delta_decode(rd, 64, (int64_t *)(void *)dst, nn, base, cs->err);
        if (t == PRW_PQ_INT32) {
            PRW_TRY(prw__buf_resize(&cs->d->scratch, nn * sizeof(int64_t) + 8, cs->err));
            int64_t *tmp = (int64_t *)(void *)cs->d->scratch.data;
            PRW_TRY(prw__pq_delta_decode(rd, 32, tmp, nn, base, cs->err));
            int32_t *o = (int32_t *)(void *)dst;
            for (size_t i = 0; i < nn; i++)
                o[i] = (int32_t)(uint32_t)(uint64_t)tmp[i];
            return PRW_OK;
        }
        break;
    case PQ_ENC_DELTA_BYTE_ARRAY:
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
        if (t == PRW_PQ_FIXED_LEN_BYTE_ARRAY) {
            /* Decode as strings into the string buffers, then check the widths. */
            PRW_TRY(prw__buf_resize(&cs->s->offsets, (nn + 1) * sizeof(int64_t), cs->err));
            cs->s->bytes.len = 0;
            int64_t *o = offs(cs);
            o[0] = 0;
            if (enc == PQ_ENC_DELTA_BYTE_ARRAY)
                PRW_TRY(delta_byte_array(cs, rd, nn, o, base));
            else
                PRW_TRY(delta_length_strings(cs, rd, nn, o, base));
            for (size_t i = 0; i < nn; i++)
                if ((size_t)(o[i + 1] - o[i]) != w)
                    return prw__pq_corrupt(cs, cs->page_off,
                                           "value of %lld bytes in FIXED_LEN(%zu)",
                                           (long long)(o[i + 1] - o[i]), w);
            memcpy(dst, cs->s->bytes.data, nn * w);
            return PRW_OK;
        }
        break;
    default:
        break;
    }
    return prw__error_set(cs->err, PRW_E_UNSUPPORTED, cs->page_off, "encoding %s for %s",
                          prw_pq_encoding_name(enc), prw_pq_physical_name(t));
}

/* Dictionary-encoded values: one bit-width byte, then hybrid-encoded indices. */
static prw_status decode_dict_values(col_state *cs, prw__rd *rd, size_t n, size_t nn,
                                     int64_t base) {
    if (!cs->has_dict)
        return prw__pq_corrupt(cs, cs->page_off,
                               "dictionary-encoded page without a dictionary page");
    uint8_t bw = 0;
    if (nn > 0 && !prw__rd_u8(rd, &bw))
        return prw__pq_corrupt(cs, cs->page_off, "dictionary indices lack their bit width");
    uint32_t *idx;
    bool to_output = cs->index_mode;
    if (to_output)
        idx = (uint32_t *)(void *)cs->s->indices.data + cs->done;
    else {
        PRW_TRY(prw__buf_resize(&cs->d->scratch, nn * sizeof(uint32_t) + 8, cs->err));
        idx = (uint32_t *)(void *)cs->d->scratch.data;
    }
    PRW_TRY(prw__pq_rle_decode_u32(rd, bw, idx, nn, base, cs->err));
    PRW_TRY(check_indices(cs, idx, nn));
    const uint8_t *valid = cs->s->valid.data + cs->done;
    if (to_output) {
        spread_u32(idx, valid, n, nn);
        return PRW_OK;
    }
    if (cs->width) {
        const size_t w = cs->width;
        uint8_t *dst = cs->s->values.data + (size_t)cs->done * w;
        const uint8_t *dv = cs->s->dict_values.data;
        if (w == 4) {
            const uint32_t *d4 = (const uint32_t *)(const void *)dv;
            uint32_t *o = (uint32_t *)(void *)dst;
            for (size_t i = 0; i < nn; i++)
                o[i] = d4[idx[i]];
        } else if (w == 8) {
            const uint64_t *d8 = (const uint64_t *)(const void *)dv;
            uint64_t *o = (uint64_t *)(void *)dst;
            for (size_t i = 0; i < nn; i++)
                o[i] = d8[idx[i]];
        } else {
            for (size_t i = 0; i < nn; i++)
                memcpy(dst + i * w, dv + (size_t)idx[i] * w, w);
        }
        prw__pq_spread_fixed(dst, w, valid, n, nn);
        return PRW_OK;
    }
    int64_t *o = offs(cs) + cs->done;
    PRW_TRY(gather_strings(cs, idx, nn, o));
    spread_offsets(o, valid, n, nn);
    return PRW_OK;
}

/* Decodes the values of a data page: n rows, of which nn present (validity already set). */
prw_status prw__pq_decode_values(col_state *cs, int enc, const uint8_t *p, size_t len, size_t n,
                                 size_t nn, int64_t base) {
    prw__rd rd;
    prw__rd_init(&rd, p, len);
    bool dict = enc == PQ_ENC_PLAIN_DICTIONARY || enc == PQ_ENC_RLE_DICTIONARY;
    if (cs->index_mode && !dict)
        PRW_TRY(leave_index_mode(cs));
    if (dict)
        return decode_dict_values(cs, &rd, n, nn, base);
    if (cs->width) {
        PRW_TRY(decode_fixed(cs, enc, &rd, nn, base));
        prw__pq_spread_fixed(cs->s->values.data + (size_t)cs->done * cs->width, cs->width,
                             cs->s->valid.data + cs->done, n, nn);
        return PRW_OK;
    }
    if (cs->has_dict)
        cs->fallback = true;
    PRW_TRY(decode_strings(cs, enc, &rd, nn, base));
    spread_offsets(offs(cs) + cs->done, cs->s->valid.data + cs->done, n, nn);
    return PRW_OK;
}
