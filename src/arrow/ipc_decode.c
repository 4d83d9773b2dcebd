/*
 * Arrow IPC stream decoder over bytes in memory (ARROW_IPC.md §1-§4, §7).
 *
 * Framing: `ff ff ff ff` + int32 meta_len, or the legacy int32 meta_len alone; meta_len 0 (or
 * the end of the input) ends the stream. The first message must be a Schema, later ones
 * RecordBatches. Every flatbuffer access goes through the verifying reader (ipc_flatbuf.c),
 * and every value read from the input is checked before it is used as a size or an offset:
 * bodyLength against the bytes left, each Buffer against the body (8-aligned offset, length
 * at least what the column needs), null_count against the bitmap's zero bits, utf8/binary
 * offsets non-decreasing and inside the data. The only allocations are sized by the schema
 * (fields and their strings), which the input bytes bound.
 */
#include "arrow/ipc_internal.h"

struct prw_ipc_decoder {
    const uint8_t *data;
    size_t len;
    size_t pos;
    prw_ipc_schema schema;
    prw_ipc_field *fields;
    char *strings;
    prw_ipc_array *cols;
    size_t n_buffers;
    prw_status sticky; /* PRW_DONE or an error once reached */
    prw_error sticky_err;
};

/* A framed message: its flatbuffer and body. */
typedef struct message {
    prw__fbr fb;
    prw__fbt root;
    uint8_t header_type;
    prw__fbt header;
    const uint8_t *body;
    uint64_t body_len;
    int64_t body_off;
} message;

/* Reads the message at d->pos; PRW_DONE at the end-of-stream marker or the end of input. */
static prw_status read_message(prw_ipc_decoder *d, message *m, prw_error *err) {
    size_t left = d->len - d->pos;
    int64_t at = (int64_t)d->pos;
    if (left == 0)
        return PRW_DONE;
    PRW_CHECK(left >= 4, err, PRW_E_TRUNCATED, at, "stream ends inside a message header");
    uint32_t w = prw__load_le32(d->data + d->pos);
    size_t hdr = 4;
    if (w == 0xFFFFFFFFu) {
        PRW_CHECK(left >= 8, err, PRW_E_TRUNCATED, at, "stream ends inside a message header");
        w = prw__load_le32(d->data + d->pos + 4);
        hdr = 8;
    }
    if (w == 0) {
        d->pos += hdr;
        return PRW_DONE;
    }
    PRW_CHECK(w <= INT32_MAX, err, PRW_E_CORRUPT, at, "negative metadata length %d", (int32_t)w);
    PRW_CHECK(w <= left - hdr, err, PRW_E_TRUNCATED, at,
              "metadata of %u bytes runs past the end of the stream", w);
    m->fb = (prw__fbr){d->data + d->pos + hdr, w, at + (int64_t)hdr};
    PRW_TRY(prw__fbr_root(&m->fb, &m->root, err));
    uint64_t version, type, body_len;
    PRW_TRY(prw__fbr_scalar(&m->fb, &m->root, 0, 2, 0, &version, err));
    PRW_CHECK(version == PRW__IPC_VERSION_V4 || version == PRW__IPC_VERSION_V5, err,
              PRW_E_UNSUPPORTED, at, "metadata version V%d is not supported (V4 and V5 are)",
              (int)(int16_t)version + 1);
    PRW_TRY(prw__fbr_scalar(&m->fb, &m->root, 1, 1, 0, &type, err));
    PRW_TRY(prw__fbr_scalar(&m->fb, &m->root, 3, 8, 0, &body_len, err));
    bool present;
    PRW_TRY(prw__fbr_table(&m->fb, &m->root, 2, &m->header, &present, err));
    PRW_CHECK(type != 0 && present, err, PRW_E_CORRUPT, at, "message without a header");
    m->header_type = (uint8_t)type;
    size_t body_at = d->pos + hdr + w;
    PRW_CHECK(body_len <= d->len - body_at, err, PRW_E_TRUNCATED, (int64_t)body_at,
              "message body of %llu bytes runs past the end of the stream",
              (unsigned long long)body_len);
    m->body = d->data + body_at;
    m->body_len = body_len;
    m->body_off = (int64_t)body_at;
    d->pos = body_at + (size_t)body_len;
    return PRW_OK;
}

/* ---- schema ------------------------------------------------------------------------------- */

/* Decodes one Field table into f (strings still point into the input). */
static prw_status read_field(const prw__fbr *r, const prw__fbt *ft, size_t i, prw_ipc_field *f,
                             uint32_t *name_len, uint32_t *tz_len, prw_error *err) {
    int64_t at = r->base_off + (int64_t)ft->pos;
    bool present;
    uint64_t nullable, tag;
    const char *name;
    PRW_TRY(prw__fbr_string(r, ft, 0, &name, name_len, &present, err));
    f->name = present ? name : "";
    PRW_TRY(prw__fbr_scalar(r, ft, 1, 1, 0, &nullable, err));
    f->nullable = nullable != 0;
    PRW_TRY(prw__fbr_scalar(r, ft, 2, 1, 0, &tag, err));
    prw__fbt tt, dict;
    PRW_TRY(prw__fbr_table(r, ft, 3, &tt, &present, err));
    PRW_CHECK(tag != 0 && present, err, PRW_E_CORRUPT, at, "field %zu ('%s') has no type", i,
              f->name);
    PRW_TRY(prw__fbr_table(r, ft, 4, &dict, &present, err));
    PRW_CHECK(!present, err, PRW_E_UNSUPPORTED, at, "field '%s' is dictionary-encoded", f->name);
    size_t elems;
    uint32_t nchild;
    PRW_TRY(prw__fbr_vector(r, ft, 5, 4, 4, &elems, &nchild, &present, err));
    PRW_CHECK(nchild == 0, err, PRW_E_UNSUPPORTED, at, "field '%s' has child fields", f->name);
    uint64_t a, b;
    f->timezone = NULL;
    f->unit = 0;
    *tz_len = 0;
    switch (tag) {
    case PRW__IPC_T_INT:
        PRW_TRY(prw__fbr_scalar(r, &tt, 0, 4, 0, &a, err));
        PRW_TRY(prw__fbr_scalar(r, &tt, 1, 1, 0, &b, err));
        PRW_CHECK(b && (a == 8 || a == 16 || a == 32 || a == 64), err, PRW_E_UNSUPPORTED, at,
                  "field '%s': %s int%u is not supported", f->name, b ? "signed" : "unsigned",
                  (unsigned)a);
        f->type = a == 8    ? PRW_IPC_INT8
                  : a == 16 ? PRW_IPC_INT16
                  : a == 32 ? PRW_IPC_INT32
                            : PRW_IPC_INT64;
        return PRW_OK;
    case PRW__IPC_T_FLOAT:
        PRW_TRY(prw__fbr_scalar(r, &tt, 0, 2, 0, &a, err));
        PRW_CHECK(a == 1 || a == 2, err, PRW_E_UNSUPPORTED, at,
                  "field '%s': floating point precision %u is not supported", f->name, (unsigned)a);
        f->type = a == 1 ? PRW_IPC_FLOAT32 : PRW_IPC_FLOAT64;
        return PRW_OK;
    case PRW__IPC_T_BINARY:
        f->type = PRW_IPC_BINARY;
        return PRW_OK;
    case PRW__IPC_T_UTF8:
        f->type = PRW_IPC_UTF8;
        return PRW_OK;
    case PRW__IPC_T_TIMESTAMP: {
        PRW_TRY(prw__fbr_scalar(r, &tt, 0, 2, 0, &a, err));
        PRW_CHECK(a <= 3, err, PRW_E_CORRUPT, at, "field '%s': time unit %u", f->name, (unsigned)a);
        f->type = PRW_IPC_TIMESTAMP;
        f->unit = (prw_ipc_time_unit)a;
        const char *tz;
        PRW_TRY(prw__fbr_string(r, &tt, 1, &tz, tz_len, &present, err));
        f->timezone = present && *tz_len ? tz : NULL;
        return PRW_OK;
    }
    default:
        return prw__error_set(err, PRW_E_UNSUPPORTED, at,
                              "field '%s' has Arrow type %u, which is not supported", f->name,
                              (unsigned)tag);
    }
}

static prw_status read_schema(prw_ipc_decoder *d, const message *m, prw_error *err) {
    int64_t at = m->fb.base_off;
    PRW_CHECK(m->header_type == PRW__IPC_MSG_SCHEMA, err, PRW_E_CORRUPT, at,
              "the stream does not start with a schema message (header type %u)", m->header_type);
    uint64_t endian;
    PRW_TRY(prw__fbr_scalar(&m->fb, &m->header, 0, 2, 0, &endian, err));
    PRW_CHECK(endian == 0, err, PRW_E_UNSUPPORTED, at, "big-endian streams are not supported");
    size_t elems;
    uint32_t n;
    bool present;
    PRW_TRY(prw__fbr_vector(&m->fb, &m->header, 1, 4, 4, &elems, &n, &present, err));
    PRW_CHECK(present, err, PRW_E_CORRUPT, at, "schema without fields");
    PRW_CHECK(n > 0, err, PRW_E_UNSUPPORTED, at, "schema with no fields");
    PRW_CHECK(n <= PRW__IPC_MAX_FIELDS, err, PRW_E_LIMIT, at, "schema with %u fields (at most %d)",
              n, PRW__IPC_MAX_FIELDS);
    d->fields = prw__calloc(n, sizeof *d->fields);
    d->cols = prw__calloc(n, sizeof *d->cols);
    uint32_t *lens = prw__calloc(2 * (size_t)n, sizeof *lens);
    if (!d->fields || !d->cols || !lens) {
        prw__free(lens);
        return prw__error_nomem(err, "schema fields", (size_t)n * sizeof *d->fields);
    }
    prw_status st = PRW_OK;
    size_t strings = 0;
    for (uint32_t i = 0; i < n && st >= 0; i++) {
        prw__fbt ft;
        st = prw__fbr_table_at(&m->fb, elems + 4 * (size_t)i, &ft, err);
        if (st >= 0)
            st = read_field(&m->fb, &ft, i, &d->fields[i], &lens[2 * i], &lens[2 * i + 1], err);
        strings += (size_t)lens[2 * i] + lens[2 * i + 1] + 2;
        d->n_buffers += prw__ipc_type_buffers(d->fields[i].type);
    }
    /* Copy names and zones: the schema must not depend on the input staying mapped. */
    if (st >= 0 && !(d->strings = prw__malloc(strings)))
        st = prw__error_nomem(err, "schema names", strings);
    char *s = d->strings;
    for (uint32_t i = 0; i < n && st >= 0; i++) {
        prw_ipc_field *f = &d->fields[i];
        memcpy(s, f->name, lens[2 * i]);
        s[lens[2 * i]] = 0;
        f->name = s;
        s += lens[2 * i] + 1;
        if (f->timezone) {
            memcpy(s, f->timezone, lens[2 * i + 1]);
            s[lens[2 * i + 1]] = 0;
            f->timezone = s;
            s += lens[2 * i + 1] + 1;
        }
    }
    prw__free(lens);
    d->schema.fields = d->fields;
    d->schema.n_fields = n;
    return st;
}

/* ---- record batches ----------------------------------------------------------------------- */

/* Checks buffer k and returns its bytes; `need` is the minimum length. */
static prw_status get_buffer(const message *m, size_t bufs, uint32_t k, uint64_t need,
                             const uint8_t **p, uint64_t *len, prw_error *err) {
    const uint8_t *e = m->fb.p + bufs + 16 * (size_t)k;
    uint64_t off = prw__load_le64(e), l = prw__load_le64(e + 8);
    int64_t at = m->fb.base_off + (int64_t)(bufs + 16 * (size_t)k);
    PRW_CHECK(off % 8 == 0, err, PRW_E_CORRUPT, at, "buffer %u starts at %llu, not 8-aligned", k,
              (unsigned long long)off);
    PRW_CHECK(off <= m->body_len && l <= m->body_len - off, err, PRW_E_CORRUPT, at,
              "buffer %u (offset %llu, length %llu) lies outside the %llu-byte body", k,
              (unsigned long long)off, (unsigned long long)l, (unsigned long long)m->body_len);
    PRW_CHECK(l >= need, err, PRW_E_CORRUPT, at, "buffer %u has %llu bytes, its column needs %llu",
              k, (unsigned long long)l, (unsigned long long)need);
    *p = m->body + off;
    *len = l;
    return PRW_OK;
}

static int64_t count_zero_bits(const uint8_t *bm, int64_t n) {
    int64_t ones = 0, full = n / 8;
    for (int64_t k = 0; k < full; k++)
        ones += __builtin_popcount(bm[k]);
    if (n % 8)
        ones += __builtin_popcount(bm[full] & ((1u << (n % 8)) - 1));
    return n - ones;
}

static prw_status read_column(const message *m, const prw_ipc_field *f, size_t node, size_t bufs,
                              uint32_t *k, int64_t rows, prw_ipc_array *a, prw_error *err) {
    uint64_t len = prw__load_le64(m->fb.p + node), nulls = prw__load_le64(m->fb.p + node + 8);
    int64_t at = m->fb.base_off + (int64_t)node;
    PRW_CHECK(len == (uint64_t)rows, err, PRW_E_CORRUPT, at,
              "column '%s' has %lld rows, the batch %lld", f->name, (long long)len,
              (long long)rows);
    PRW_CHECK(nulls <= len, err, PRW_E_CORRUPT, at, "column '%s': null count %lld of %lld rows",
              f->name, (long long)nulls, (long long)len);
    *a = (prw_ipc_array){.type = f->type, .length = rows, .null_count = (int64_t)nulls};
    uint64_t n = (uint64_t)rows, bl;
    const uint8_t *p;
    PRW_TRY(get_buffer(m, bufs, (*k)++, nulls ? (n + 7) / 8 : 0, &p, &bl, err));
    if (nulls) {
        int64_t z = count_zero_bits(p, rows);
        PRW_CHECK(z == (int64_t)nulls, err, PRW_E_CORRUPT, at,
                  "column '%s': null count %lld but the bitmap has %lld zero bits", f->name,
                  (long long)nulls, (long long)z);
        a->validity = p;
    }
    if (f->type != PRW_IPC_UTF8 && f->type != PRW_IPC_BINARY) {
        uint64_t w = prw_ipc_type_width(f->type);
        PRW_CHECK(n <= m->body_len / w, err, PRW_E_CORRUPT, at,
                  "column '%s': %lld rows cannot fit the body", f->name, (long long)rows);
        PRW_TRY(get_buffer(m, bufs, (*k)++, n * w, &a->values, &bl, err));
        return PRW_OK;
    }
    static const uint8_t zero_offset[4] = {0, 0, 0, 0};
    PRW_CHECK(n < m->body_len / 4 || n == 0, err, PRW_E_CORRUPT, at,
              "column '%s': %lld rows cannot fit the body", f->name, (long long)rows);
    const uint8_t *offs, *data;
    uint64_t data_len;
    PRW_TRY(get_buffer(m, bufs, (*k)++, n ? 4 * (n + 1) : 0, &offs, &bl, err));
    PRW_TRY(get_buffer(m, bufs, (*k)++, 0, &data, &data_len, err));
    a->offsets = bl ? offs : zero_offset; /* 0 rows with an empty offsets buffer */
    a->values = data;
    uint32_t prev = prw__load_le32(a->offsets);
    PRW_CHECK(prev <= INT32_MAX, err, PRW_E_CORRUPT, at, "column '%s': negative first offset",
              f->name);
    for (uint64_t i = 1; i <= n; i++) {
        uint32_t o = prw__load_le32(a->offsets + 4 * i);
        PRW_CHECK(o >= prev && o <= INT32_MAX, err, PRW_E_CORRUPT, at,
                  "column '%s': offset %llu (%d) is below the previous one (%u)", f->name,
                  (unsigned long long)i, (int32_t)o, prev);
        prev = o;
    }
    PRW_CHECK(prev <= data_len, err, PRW_E_CORRUPT, at,
              "column '%s': offsets reach %u but the data buffer has %llu bytes", f->name, prev,
              (unsigned long long)data_len);
    a->data_len = prev;
    return PRW_OK;
}

static prw_status read_batch(prw_ipc_decoder *d, const message *m, prw_ipc_batch *batch,
                             prw_error *err) {
    int64_t at = m->fb.base_off;
    PRW_CHECK(m->header_type != PRW__IPC_MSG_DICTIONARY, err, PRW_E_UNSUPPORTED, at,
              "dictionary batches are not supported");
    PRW_CHECK(m->header_type == PRW__IPC_MSG_RECORD_BATCH, err,
              m->header_type == PRW__IPC_MSG_SCHEMA ? PRW_E_CORRUPT : PRW_E_UNSUPPORTED, at,
              "unexpected message type %u after the schema", m->header_type);
    const prw__fbr *r = &m->fb;
    const prw__fbt *t = &m->header;
    uint64_t rows;
    PRW_TRY(prw__fbr_scalar(r, t, 0, 8, 0, &rows, err));
    PRW_CHECK(rows <= INT64_MAX, err, PRW_E_CORRUPT, at, "negative batch length");
    prw__fbt comp;
    bool present;
    PRW_TRY(prw__fbr_table(r, t, 3, &comp, &present, err));
    PRW_CHECK(!present, err, PRW_E_UNSUPPORTED, at, "compressed record batches are not supported");
    size_t nodes, bufs;
    uint32_t nn, nb;
    PRW_TRY(prw__fbr_vector(r, t, 1, 16, 8, &nodes, &nn, &present, err));
    PRW_TRY(prw__fbr_vector(r, t, 2, 16, 8, &bufs, &nb, &present, err));
    PRW_CHECK(nn == d->schema.n_fields, err, PRW_E_CORRUPT, at,
              "record batch has %u field nodes for %zu fields", nn, d->schema.n_fields);
    PRW_CHECK(nb == d->n_buffers, err, PRW_E_CORRUPT, at,
              "record batch has %u buffers, the schema needs %zu", nb, d->n_buffers);
    uint32_t k = 0;
    for (size_t i = 0; i < nn; i++) {
        prw_status st = read_column(m, &d->fields[i], nodes + 16 * i, bufs, &k, (int64_t)rows,
                                    &d->cols[i], err);
        if (st < 0) {
            prw__error_prefix(err, "record batch at byte %lld: ", (long long)(at - 8));
            return st;
        }
    }
    *batch = (prw_ipc_batch){(int64_t)rows, nn, d->cols};
    return PRW_OK;
}

/* ---- public ------------------------------------------------------------------------------- */

prw_status prw_ipc_decoder_create(const uint8_t *data, size_t len, prw_ipc_decoder **out,
                                  prw_error *err) {
    *out = NULL;
    PRW_CHECK(data || len == 0, err, PRW_E_INVALID, -1, "no input");
    prw_ipc_decoder *d = prw__calloc(1, sizeof *d);
    if (!d)
        return prw__error_nomem(err, "an IPC decoder", sizeof *d);
    d->data = data;
    d->len = len;
    message m;
    prw_status st = read_message(d, &m, err);
    if (st == PRW_DONE)
        st = prw__error_set(err, PRW_E_TRUNCATED, 0, "stream has no schema message");
    if (st >= 0)
        st = read_schema(d, &m, err);
    if (st < 0) {
        prw_ipc_decoder_destroy(d);
        return st;
    }
    *out = d;
    return PRW_OK;
}

void prw_ipc_decoder_destroy(prw_ipc_decoder *d) {
    if (!d)
        return;
    prw__free(d->fields);
    prw__free(d->cols);
    prw__free(d->strings);
    prw__free(d);
}

const prw_ipc_schema *prw_ipc_decoder_schema(const prw_ipc_decoder *d) {
    return &d->schema;
}

prw_status prw_ipc_decoder_next(prw_ipc_decoder *d, prw_ipc_batch *batch, prw_error *err) {
    if (d->sticky) {
        if (err && d->sticky < 0)
            *err = d->sticky_err;
        return d->sticky;
    }
    message m;
    prw_error local;
    prw_error *e = err ? err : &local;
    prw_status st = read_message(d, &m, e);
    if (st == PRW_OK)
        st = read_batch(d, &m, batch, e);
    if (st != PRW_OK) {
        d->sticky = st;
        if (st < 0)
            d->sticky_err = *e;
    }
    return st;
}

int64_t prw_ipc_array_int(const prw_ipc_array *a, int64_t i) {
    const uint8_t *p = a->values + (size_t)i * prw_ipc_type_width(a->type);
    switch (a->type) {
    case PRW_IPC_INT8:
        return (int8_t)p[0];
    case PRW_IPC_INT16:
        return (int16_t)prw__load_le16(p);
    case PRW_IPC_INT32:
        return (int32_t)prw__load_le32(p);
    case PRW_IPC_INT64:
    case PRW_IPC_TIMESTAMP:
        return (int64_t)prw__load_le64(p);
    default:
        return 0;
    }
}

double prw_ipc_array_float(const prw_ipc_array *a, int64_t i) {
    if (a->type == PRW_IPC_FLOAT32) {
        uint32_t u = prw__load_le32(a->values + 4 * (size_t)i);
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    if (a->type == PRW_IPC_FLOAT64) {
        uint64_t u = prw__load_le64(a->values + 8 * (size_t)i);
        double v;
        memcpy(&v, &u, 8);
        return v;
    }
    return 0;
}

prw_bytes prw_ipc_array_bytes(const prw_ipc_array *a, int64_t i) {
    if (!a->offsets)
        return (prw_bytes){NULL, 0};
    uint32_t o = prw__load_le32(a->offsets + 4 * (size_t)i);
    uint32_t e = prw__load_le32(a->offsets + 4 * (size_t)i + 4);
    return (prw_bytes){a->values + o, e - o};
}
