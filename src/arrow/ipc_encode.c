/*
 * Arrow IPC stream encoder: schema message + one RecordBatch message + EOS, written straight
 * from the caller's columns into the caller's buffer (ARROW_IPC.md §1, §4).
 *
 * Body layout per column, each buffer starting 8-aligned and zero-padded to 8:
 *   validity  ⌈N/8⌉ bytes LSB-first when the rows hold a null, else {offset, 0} and no bytes
 *   values    N × width (fixed width), null slots written as 0
 *   offsets   4(N+1) bytes of int32, rebased to start at 0 (utf8/binary)
 *   data      the string bytes (utf8/binary)
 * Buffer.length is the unpadded size, as pyarrow records it.
 *
 * A batch is written in two passes over the columns: the first counts nulls and sizes the
 * body (bodyLength precedes the body), the second writes. Only validity arrays are read
 * twice; values and data are copied once with memcpy. Nothing is allocated per call.
 */
#include <pthread.h>

#include "arrow/ipc_internal.h"

struct prw_ipc_writer {
    prw_ipc_schema schema;
    prw_ipc_field *fields; /* owned copy, names and zones point into `strings` */
    char *strings;
    uint8_t *schema_msg;
    size_t schema_len;
    size_t n_buffers;
    bool is_static;
};

/* ---- validity ----------------------------------------------------------------------------- */

static int64_t count_nulls(const uint8_t *v, int64_t n) {
    int64_t z = 0;
    for (int64_t k = 0; k < n; k++)
        z += v[k] == 0;
    return z;
}

/* Packs n validity bytes (0 = null) into an LSB-first bitmap of ⌈n/8⌉ bytes. Eight bytes at a
 * time: set the high bit of every non-zero byte, then gather the eight high bits with one
 * multiplication (byte i lands on bit 56 + i, with no carries between the partial products). */
static void pack_bitmap(const uint8_t *v, int64_t n, uint8_t *out) {
    const uint64_t lo7 = 0x7f7f7f7f7f7f7f7fULL, hi = 0x8080808080808080ULL;
    int64_t k = 0;
    for (; k + 8 <= n; k += 8) {
        uint64_t x = prw__load_le64(v + k);
        uint64_t y = (x | ((x & lo7) + lo7)) & hi;
        *out++ = (uint8_t)(((y >> 7) * 0x0102040810204080ULL) >> 56);
    }
    if (k < n) {
        uint8_t byte = 0;
        for (int j = 0; k < n; k++, j++)
            byte |= (uint8_t)((v[k] != 0) << j);
        *out = byte;
    }
}

/* ---- per-column sizing -------------------------------------------------------------------- */

typedef struct col_size {
    int64_t nulls;
    uint64_t data; /* utf8/binary bytes */
} col_size;

static bool is_var(prw_ipc_type t) {
    return t == PRW_IPC_UTF8 || t == PRW_IPC_BINARY;
}

static prw_status measure(const prw_ipc_field *f, const prw_ipc_column *c, int64_t b, int64_t n,
                          col_size *cs, uint64_t *body, prw_error *err) {
    cs->nulls = c->valid ? count_nulls(c->valid + b, n) : 0;
    cs->data = 0;
    uint64_t sz = cs->nulls ? prw__ipc_pad8(((uint64_t)n + 7) / 8) : 0;
    if (is_var(f->type)) {
        PRW_CHECK(c->values || (c->offsets ? c->offsets[b + n] == c->offsets[b] : !c->const_len),
                  err, PRW_E_INVALID, -1, "column '%s' has no data", f->name);
        if (c->offsets) {
            int64_t d = c->offsets[b + n] - c->offsets[b];
            PRW_CHECK(d >= 0 && c->offsets[b] >= 0, err, PRW_E_INVALID, -1,
                      "column '%s': offsets decrease", f->name);
            cs->data = (uint64_t)d;
        } else {
            PRW_CHECK(c->const_len <= INT32_MAX, err, PRW_E_LIMIT, -1,
                      "column '%s': value over 2 GiB", f->name);
            cs->data = (uint64_t)c->const_len * (uint64_t)n;
        }
        PRW_CHECK(cs->data <= INT32_MAX, err, PRW_E_LIMIT, -1,
                  "column '%s': %llu bytes of strings exceed the 2 GiB of int32 offsets", f->name,
                  (unsigned long long)cs->data);
        sz += prw__ipc_pad8(4 * ((uint64_t)n + 1)) + prw__ipc_pad8(cs->data);
    } else {
        PRW_CHECK(c->values || n == 0, err, PRW_E_INVALID, -1, "column '%s' has no values",
                  f->name);
        sz += prw__ipc_pad8((uint64_t)n * prw_ipc_type_width(f->type));
    }
    *body += sz;
    return PRW_OK;
}

/* Sizes the body of rows [b, e); `cs` (n_fields entries) receives the counts if not NULL. */
static prw_status measure_batch(const prw_ipc_writer *w, const prw_ipc_column *cols, int64_t b,
                                int64_t e, uint64_t *body, col_size *cs, prw_error *err) {
    PRW_CHECK(cols, err, PRW_E_INVALID, -1, "no columns");
    PRW_CHECK(b >= 0 && e >= b, err, PRW_E_INVALID, -1, "bad row range [%lld, %lld)", (long long)b,
              (long long)e);
    PRW_CHECK(e - b <= INT32_MAX, err, PRW_E_LIMIT, -1, "%lld rows in one batch (at most 2^31-1)",
              (long long)(e - b));
    *body = 0;
    for (size_t i = 0; i < w->schema.n_fields; i++) {
        col_size one;
        PRW_TRY(measure(&w->schema.fields[i], &cols[i], b, e - b, cs ? &cs[i] : &one, body, err));
    }
    return PRW_OK;
}

/* ---- writing ------------------------------------------------------------------------------ */

/* Appends one buffer entry and zero-pads the body to 8 after `len` bytes at *o. */
static void end_buffer(uint8_t *body, uint64_t *o, uint64_t len, uint8_t **entry) {
    prw__store_le64(*entry, *o);
    prw__store_le64(*entry + 8, len);
    *entry += 16;
    uint64_t end = *o + len, padded = prw__ipc_pad8(end);
    memset(body + end, 0, padded - end);
    *o = padded;
}

static void write_offsets(const prw_ipc_column *c, int64_t b, int64_t n, uint8_t *out) {
    if (c->offsets) {
        const int64_t *off = c->offsets + b, base = off[0];
        for (int64_t k = 0; k <= n; k++)
            prw__store_le32(out + 4 * k, (uint32_t)(int32_t)(off[k] - base));
    } else {
        uint32_t step = (uint32_t)c->const_len, v = 0;
        for (int64_t k = 0; k <= n; k++, v += step)
            prw__store_le32(out + 4 * k, v);
    }
}

static void write_data(const prw_ipc_column *c, int64_t b, int64_t n, uint64_t len, uint8_t *out) {
    if (len == 0)
        return;
    const uint8_t *src = (const uint8_t *)c->values;
    if (c->offsets) {
        memcpy(out, src + c->offsets[b], len);
        return;
    }
    size_t L = c->const_len;
    if (n == 1) {
        if (src != out) /* the outer record may be handed its measurements in place */
            memcpy(out, src, L);
        return;
    }
    for (int64_t k = 0; k < n; k++, out += L)
        memcpy(out, src, L);
}

static void write_column(const prw_ipc_field *f, const prw_ipc_column *c, int64_t b, int64_t n,
                         uint8_t *body, uint64_t *o, uint8_t *node, uint8_t **entry) {
    int64_t nulls = 0;
    if (c->valid) {
        /* Pack in place; if no bit is zero the bytes are simply not kept. */
        uint64_t vb = ((uint64_t)n + 7) / 8;
        pack_bitmap(c->valid + b, n, body + *o);
        int64_t ones = 0;
        for (uint64_t k = 0; k < vb; k++)
            ones += __builtin_popcount(body[*o + k]);
        nulls = n - ones;
        end_buffer(body, o, nulls ? vb : 0, entry);
    } else {
        end_buffer(body, o, 0, entry);
    }
    prw__store_le64(node, (uint64_t)n);
    prw__store_le64(node + 8, (uint64_t)nulls);
    if (is_var(f->type)) {
        write_offsets(c, b, n, body + *o);
        end_buffer(body, o, 4 * ((uint64_t)n + 1), entry);
        uint64_t len = c->offsets ? (uint64_t)(c->offsets[b + n] - c->offsets[b])
                                  : (uint64_t)c->const_len * (uint64_t)n;
        write_data(c, b, n, len, body + *o);
        end_buffer(body, o, len, entry);
        return;
    }
    size_t wd = prw_ipc_type_width(f->type);
    uint64_t len = (uint64_t)n * wd;
    uint8_t *out = body + *o;
    if (len)
        memcpy(out, (const uint8_t *)c->values + (size_t)b * wd, len);
    if (nulls) {
        const uint8_t *v = c->valid + b;
        for (int64_t k = 0; k < n; k++)
            if (!v[k])
                memset(out + (size_t)k * wd, 0, wd);
    }
    end_buffer(body, o, len, entry);
}

static size_t batch_header_len(const prw_ipc_writer *w) {
    return 8 + prw__ipc_batch_meta_len(w->schema.n_fields, w->n_buffers);
}

prw_status prw_ipc_writer_batch_size(const prw_ipc_writer *w, const prw_ipc_column *cols,
                                     int64_t begin, int64_t end, uint64_t *size, prw_error *err) {
    uint64_t body;
    PRW_TRY(measure_batch(w, cols, begin, end, &body, NULL, err));
    *size = batch_header_len(w) + body;
    return PRW_OK;
}

prw_status prw_ipc_writer_stream_size(const prw_ipc_writer *w, const prw_ipc_column *cols,
                                      int64_t begin, int64_t end, uint64_t *size, prw_error *err) {
    PRW_TRY(prw_ipc_writer_batch_size(w, cols, begin, end, size, err));
    *size += w->schema_len + PRW_IPC_EOS_SIZE;
    return PRW_OK;
}

/* Writes the batch whose body size is known. */
static void write_batch(const prw_ipc_writer *w, const prw_ipc_column *cols, int64_t b, int64_t e,
                        uint64_t body_len, uint8_t *dst) {
    size_t n = w->schema.n_fields;
    prw__ipc_batch_header(dst, e - b, (int64_t)body_len, n, w->n_buffers);
    uint8_t *body = dst + batch_header_len(w);
    uint8_t *entry = prw__ipc_batch_buf(dst, n, 0);
    uint64_t o = 0;
    for (size_t i = 0; i < n; i++)
        write_column(&w->schema.fields[i], &cols[i], b, e - b, body, &o,
                     prw__ipc_batch_node(dst, i), &entry);
}

prw_status prw_ipc_writer_write_batch(const prw_ipc_writer *w, const prw_ipc_column *cols,
                                      int64_t begin, int64_t end, uint8_t *dst, size_t cap,
                                      size_t *written, prw_error *err) {
    uint64_t body;
    PRW_TRY(measure_batch(w, cols, begin, end, &body, NULL, err));
    uint64_t size = batch_header_len(w) + body;
    PRW_CHECK(size <= cap, err, PRW_E_LIMIT, -1, "record batch of %llu bytes exceeds %zu",
              (unsigned long long)size, cap);
    write_batch(w, cols, begin, end, body, dst);
    *written = (size_t)size;
    return PRW_OK;
}

static const uint8_t g_eos[PRW_IPC_EOS_SIZE] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};

prw_status prw_ipc_writer_write_stream(const prw_ipc_writer *w, const prw_ipc_column *cols,
                                       int64_t begin, int64_t end, uint8_t *dst, size_t cap,
                                       size_t *written, prw_error *err) {
    uint64_t body;
    PRW_TRY(measure_batch(w, cols, begin, end, &body, NULL, err));
    uint64_t batch = batch_header_len(w) + body;
    uint64_t size = w->schema_len + batch + PRW_IPC_EOS_SIZE;
    PRW_CHECK(size <= cap, err, PRW_E_LIMIT, -1, "stream of %llu bytes exceeds %zu",
              (unsigned long long)size, cap);
    memcpy(dst, w->schema_msg, w->schema_len);
    write_batch(w, cols, begin, end, body, dst + w->schema_len);
    memcpy(dst + w->schema_len + batch, g_eos, PRW_IPC_EOS_SIZE);
    *written = (size_t)size;
    return PRW_OK;
}

/* ---- writer lifecycle --------------------------------------------------------------------- */

static size_t count_buffers(const prw_ipc_schema *s) {
    size_t nb = 0;
    for (size_t i = 0; i < s->n_fields; i++)
        nb += prw__ipc_type_buffers(s->fields[i].type);
    return nb;
}

prw_status prw_ipc_writer_create(const prw_ipc_schema *schema, prw_ipc_writer **out,
                                 prw_error *err) {
    *out = NULL;
    PRW_TRY(prw__ipc_schema_check(schema, err));
    size_t strings = 0, nf = schema->n_fields;
    for (size_t i = 0; i < nf; i++) {
        const prw_ipc_field *f = &schema->fields[i];
        strings += strlen(f->name) + 1 + (f->timezone ? strlen(f->timezone) + 1 : 0);
    }
    size_t bound = prw__ipc_schema_message_bound(schema);
    prw_ipc_writer *w = prw__calloc(1, sizeof *w);
    if (!w)
        return prw__error_nomem(err, "an IPC writer", sizeof *w);
    w->fields = prw__malloc_array(nf, sizeof *w->fields);
    w->strings = prw__malloc(strings);
    w->schema_msg = prw__malloc(bound);
    if (!w->fields || !w->strings || !w->schema_msg) {
        prw_ipc_writer_destroy(w);
        return prw__error_nomem(err, "an IPC writer", bound + strings);
    }
    char *s = w->strings;
    for (size_t i = 0; i < nf; i++) {
        const prw_ipc_field *f = &schema->fields[i];
        w->fields[i] = *f;
        size_t n = strlen(f->name) + 1;
        w->fields[i].name = memcpy(s, f->name, n);
        s += n;
        if (f->timezone) {
            n = strlen(f->timezone) + 1;
            w->fields[i].timezone = memcpy(s, f->timezone, n);
            s += n;
        }
    }
    w->schema.fields = w->fields;
    w->schema.n_fields = nf;
    w->n_buffers = count_buffers(&w->schema);
    prw_status st = prw__ipc_schema_message(&w->schema, w->schema_msg, bound, &w->schema_len, err);
    if (st < 0) {
        prw_ipc_writer_destroy(w);
        return st;
    }
    *out = w;
    return PRW_OK;
}

void prw_ipc_writer_destroy(prw_ipc_writer *w) {
    if (!w || w->is_static)
        return;
    prw__free(w->fields);
    prw__free(w->strings);
    prw__free(w->schema_msg);
    prw__free(w);
}

prw_bytes prw_ipc_writer_schema_message(const prw_ipc_writer *w) {
    return (prw_bytes){w->schema_msg, w->schema_len};
}

/* ---- the two contract schemas: writers built once, in static storage ------------------------ */

#define INNER_SCHEMA_LEN 416
#define OUTER_SCHEMA_LEN 536
static uint8_t g_inner_msg[INNER_SCHEMA_LEN + 64], g_outer_msg[OUTER_SCHEMA_LEN + 64];
static prw_ipc_writer g_inner_w, g_outer_w;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void init_static(prw_ipc_writer *w, const prw_ipc_schema *s, uint8_t *msg, size_t cap) {
    w->schema = *s;
    w->is_static = true;
    w->n_buffers = count_buffers(s);
    w->schema_msg = msg;
    /* Cannot fail: the schema is valid and the buffer is large enough (checked by tests). */
    if (prw__ipc_schema_message(s, msg, cap, &w->schema_len, NULL) < 0)
        w->schema_len = 0;
}

static void init_builtins(void) {
    init_static(&g_inner_w, prw_ipc_inner_schema(), g_inner_msg, sizeof g_inner_msg);
    init_static(&g_outer_w, prw_ipc_outer_schema(), g_outer_msg, sizeof g_outer_msg);
}

static const prw_ipc_writer *inner_writer(void) {
    pthread_once(&g_once, init_builtins);
    return &g_inner_w;
}
static const prw_ipc_writer *outer_writer(void) {
    pthread_once(&g_once, init_builtins);
    return &g_outer_w;
}

/* ---- inner ---------------------------------------------------------------------------------- */

uint64_t prw_ipc_stream_size(const prw_ipc_inner_counts *c) {
    int64_t n = c->rows;
    const int64_t nulls[5] = {c->null_event_time, c->null_src, c->null_dst, c->null_ip_version,
                              c->null_rtt};
    if (n < 0 || n > INT32_MAX || c->src_bytes < 0 || c->dst_bytes < 0 ||
        c->src_bytes > INT32_MAX || c->dst_bytes > INT32_MAX)
        return 0;
    uint64_t N = (uint64_t)n, v = prw__ipc_pad8((N + 7) / 8);
    uint64_t size = 792 + 8 * N + 2 * prw__ipc_pad8(4 * (N + 1)) +
                    prw__ipc_pad8((uint64_t)c->src_bytes) + prw__ipc_pad8((uint64_t)c->dst_bytes) +
                    prw__ipc_pad8(N) + prw__ipc_pad8(4 * N);
    for (int i = 0; i < 5; i++) {
        if (nulls[i] < 0 || nulls[i] > n)
            return 0;
        size += nulls[i] ? v : 0;
    }
    return size;
}

static prw_status inner_cols(const prw_ipc_inner_columns *c, prw_ipc_column out[5],
                             prw_error *err) {
    PRW_CHECK(c && c->dst_offsets, err, PRW_E_INVALID, -1, "inner columns: no dst_addr offsets");
    out[0] = (prw_ipc_column){c->event_time, NULL, 0, c->event_time_valid};
    out[1] = (prw_ipc_column){c->src_data, c->src_offsets, c->src_const_len, c->src_valid};
    out[2] = (prw_ipc_column){c->dst_data, c->dst_offsets, 0, c->dst_valid};
    out[3] = (prw_ipc_column){c->ip_version, NULL, 0, c->ip_version_valid};
    out[4] = (prw_ipc_column){c->rtt, NULL, 0, c->rtt_valid};
    return PRW_OK;
}

prw_status prw_ipc_encode_inner(const prw_ipc_inner_columns *cols, int64_t begin, int64_t end,
                                uint8_t *dst, size_t cap, size_t *written, prw_error *err) {
    prw_ipc_column c[5];
    PRW_TRY(inner_cols(cols, c, err));
    return prw_ipc_writer_write_stream(inner_writer(), c, begin, end, dst, cap, written, err);
}

prw_status prw_ipc_inner_count(const prw_ipc_inner_columns *cols, int64_t begin, int64_t end,
                               prw_ipc_inner_counts *counts, prw_error *err) {
    prw_ipc_column c[5];
    PRW_TRY(inner_cols(cols, c, err));
    const prw_ipc_writer *w = inner_writer();
    uint64_t body;
    col_size cs[5];
    PRW_TRY(measure_batch(w, c, begin, end, &body, cs, err));
    *counts =
        (prw_ipc_inner_counts){end - begin, (int64_t)cs[1].data, (int64_t)cs[2].data, cs[0].nulls,
                               cs[1].nulls, cs[2].nulls,         cs[3].nulls,         cs[4].nulls};
    return PRW_OK;
}

/* ---- outer ---------------------------------------------------------------------------------- */

uint64_t prw_ipc_outer_size(size_t measurements_len) {
    if (measurements_len > INT32_MAX)
        return 0;
    return 992 + prw__ipc_pad8(measurements_len);
}

prw_status prw_ipc_encode_outer(const prw_ipc_outer_row *row, uint8_t *dst, size_t cap,
                                size_t *written, prw_error *err) {
    PRW_CHECK(row && (row->measurements || row->measurements_len == 0), err, PRW_E_INVALID, -1,
              "outer row without measurements");
    static const uint8_t empty = 0;
    prw_ipc_column c[6] = {
        {&row->src_id, NULL, 0, NULL},
        {row->measurements ? row->measurements : &empty, NULL, row->measurements_len, NULL},
        {&row->n_measurements, NULL, 0, NULL},
        {&row->time_span_seconds, NULL, 0, NULL},
        {&row->first_timestamp, NULL, 0, NULL},
        {&row->last_timestamp, NULL, 0, NULL},
    };
    return prw_ipc_writer_write_stream(outer_writer(), c, 0, 1, dst, cap, written, err);
}
