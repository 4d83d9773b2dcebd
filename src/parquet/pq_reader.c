/*
 * Opening a Parquet file (parquet-format README "File format"): the file starts with "PAR1"
 * and ends with <FileMetaData (Thrift)> <4-byte LE footer length> "PAR1". The footer length
 * is checked against the file size before the footer is read, so no allocation here is
 * larger than the file. Also: schema accessors, names, canonical value text and timestamps.
 */
#include <math.h>
#include <stdio.h>

#include "parquet/pq_internal.h"

#define PQ_DEFAULT_MAX_ROWS ((int64_t)1 << 31)
#define PQ_DEFAULT_MAX_PAGE ((int64_t)256 << 20)

static prw_status alloc_file(prw_pq_file **out, const char *name, const prw_pq_open_opts *opts,
                             prw_error *err) {
    prw_pq_file *f = prw__calloc(1, sizeof *f);
    if (!f)
        return prw__error_nomem(err, "a Parquet file", sizeof *f);
    f->rf.fd = -1;
    f->name = prw__strdup(name ? name : "(memory)");
    if (!f->name) {
        prw__free(f);
        return prw__error_nomem(err, "a file name", 0);
    }
    if (opts)
        f->opts = *opts;
    if (f->opts.max_rows <= 0)
        f->opts.max_rows = PQ_DEFAULT_MAX_ROWS;
    if (f->opts.max_page_size <= 0)
        f->opts.max_page_size = PQ_DEFAULT_MAX_PAGE;
    prw__arena_init(&f->arena, 16384);
    *out = f;
    return PRW_OK;
}

static prw_status read_at(const prw_pq_file *f, void *dst, size_t n, int64_t off, prw_error *err) {
    if (f->mem) {
        memcpy(dst, f->mem + off, n);
        return PRW_OK;
    }
    return prw__rfile_pread(&f->rf, dst, n, off, err);
}

/*
 * Writers with a known bug whose files parquet-mr and Arrow still read, read the same way:
 * parquet-mr before 1.2.9 left the dictionary page header out of a column chunk's
 * total_compressed_size (PARQUET-816), so up to PQ_816_PAD bytes past the recorded end are
 * read (never past the file). Other files whose pages overrun their chunk are rejected.
 */
static void known_writer_bugs(prw_pq_file *f) {
    static const char prefix[] = "parquet-mr version ";
    int major = 0, minor = 0, patch = 0;
    if (!f->created_by || strncmp(f->created_by, prefix, sizeof prefix - 1) != 0 ||
        sscanf(f->created_by + sizeof prefix - 1, "%d.%d.%d", &major, &minor, &patch) != 3)
        return;
    if (major > 1 || (major == 1 && (minor > 2 || (minor == 2 && patch >= 9))))
        return;
    f->chunk_pad = PQ_816_PAD;
    f->writer_warning = "written by parquet-mr before 1.2.9, whose column chunk sizes leave out "
                        "the dictionary page header (PARQUET-816): reading up to 100 bytes past "
                        "each chunk, as parquet-mr and Arrow do";
}

static prw_status parse_file(prw_pq_file *f, prw_error *err) {
    if (f->size < 12)
        return prw__error_set(err, PRW_E_TRUNCATED, 0,
                              "%lld bytes is too small to be a Parquet file", (long long)f->size);
    uint8_t head[4], tail[8];
    PRW_TRY(read_at(f, head, 4, 0, err));
    PRW_TRY(read_at(f, tail, 8, f->size - 8, err));
    if (memcmp(tail + 4, "PARE", 4) == 0)
        return prw__error_set(err, PRW_E_UNSUPPORTED, f->size - 4,
                              "encrypted Parquet footer is not supported");
    if (memcmp(tail + 4, "PAR1", 4) != 0)
        return prw__error_set(err, PRW_E_CORRUPT, f->size - 4,
                              "no PAR1 magic at the end of the file (truncated or not Parquet)");
    if (memcmp(head, "PAR1", 4) != 0)
        return prw__error_set(err, PRW_E_CORRUPT, 0, "no PAR1 magic at the start of the file");
    uint32_t flen = prw__load_le32(tail);
    if ((int64_t)flen > f->size - 12)
        return prw__error_set(err, PRW_E_CORRUPT, f->size - 8,
                              "footer length %u exceeds the file (%lld bytes)", flen,
                              (long long)f->size);
    int64_t base = f->size - 8 - (int64_t)flen;
    if (f->mem) {
        PRW_TRY(prw__pq_parse_footer(f, f->mem + base, flen, base, err));
        known_writer_bugs(f);
        return PRW_OK;
    }
    uint8_t *buf = prw__malloc(flen ? flen : 1);
    if (!buf)
        return prw__error_nomem(err, "the footer", flen);
    prw_status st = read_at(f, buf, flen, base, err);
    if (st >= 0)
        st = prw__pq_parse_footer(f, buf, flen, base, err);
    prw__free(buf);
    if (st >= 0)
        known_writer_bugs(f);
    return st;
}

prw_status prw_pq_open(prw_pq_file **out, const char *path, const prw_pq_open_opts *opts,
                       prw_error *err) {
    *out = NULL;
    prw_pq_file *f;
    PRW_TRY(alloc_file(&f, path, opts, err));
    prw_status st = prw__rfile_open(&f->rf, path, !f->opts.use_pread, err);
    if (st < 0) {
        prw_pq_close(f);
        return st;
    }
    f->size = f->rf.size;
    f->mem = f->rf.map;
    st = parse_file(f, err);
    if (st < 0) {
        prw__error_prefix(err, "%s: ", path);
        prw_pq_close(f);
        return st;
    }
    *out = f;
    return PRW_OK;
}

prw_status prw_pq_open_memory(prw_pq_file **out, const void *data, size_t len, const char *name,
                              const prw_pq_open_opts *opts, prw_error *err) {
    *out = NULL;
    prw_pq_file *f;
    PRW_TRY(alloc_file(&f, name, opts, err));
    f->mem = data;
    f->size = (int64_t)len;
    prw_status st = parse_file(f, err);
    if (st < 0) {
        prw__error_prefix(err, "%s: ", f->name);
        prw_pq_close(f);
        return st;
    }
    *out = f;
    return PRW_OK;
}

void prw_pq_close(prw_pq_file *f) {
    if (!f)
        return;
    if (f->rf.fd >= 0 || f->rf.map)
        prw__rfile_close(&f->rf);
    prw__arena_cleanup(&f->arena);
    prw__free(f->name);
    prw__free(f);
}

const char *prw_pq_path(const prw_pq_file *f) {
    return f->name;
}
prw_status prw_pq_check_unchanged(const prw_pq_file *f, prw_error *err) {
    return f->rf.fd >= 0 ? prw__rfile_check_unchanged(&f->rf, err) : PRW_OK;
}
int prw_pq_num_columns(const prw_pq_file *f) {
    return f->ncols;
}
const prw_pq_column_info *prw_pq_column(const prw_pq_file *f, int i) {
    return i >= 0 && i < f->ncols ? &f->cols[i] : NULL;
}
int prw_pq_find_column(const prw_pq_file *f, const char *name) {
    for (int i = 0; i < f->ncols; i++)
        if (strcmp(f->cols[i].name, name) == 0)
            return i;
    return -1;
}
/* ASCII case-insensitive equality of a and the first n bytes of b, b[n] being '\0' or '.'. */
static bool same_ci(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y || !x)
            return false;
    }
    return a[n] == '\0';
}

/* What a group's leaf path says the group is, by the spec's naming conventions. */
static const char *group_kind(const char *leaf, size_t n) {
    const char *rest = leaf + n;
    if (strncmp(rest, ".list.", 6) == 0 || strncmp(rest, ".bag.", 5) == 0 ||
        strcmp(rest, ".element") == 0 || strcmp(rest, ".array") == 0)
        return "LIST";
    if (strncmp(rest, ".key_value.", 11) == 0 || strncmp(rest, ".map.", 5) == 0)
        return "MAP";
    return "STRUCT";
}

prw_status prw_pq_resolve_column(const prw_pq_file *f, const char *name, int *col, prw_error *err) {
    *col = -1;
    int exact = prw_pq_find_column(f, name), ci = -1, nci = 0, group = -1;
    size_t n = strlen(name);
    for (int i = 0; i < f->ncols && exact < 0; i++) {
        const char *c = f->cols[i].name;
        size_t cl = strlen(c);
        if (cl == n && same_ci(name, c, n)) {
            if (nci++ == 0)
                ci = i;
            else
                return prw__error_set(err, PRW_E_UNSUPPORTED, -1,
                                      "column '%s' is ambiguous: '%s' and '%s' match it ignoring "
                                      "case; name one exactly",
                                      name, f->cols[ci].name, c);
        } else if (cl > n && c[n] == '.' && group < 0 && same_ci(name, c, n)) {
            group = i;
        }
    }
    int k = exact >= 0 ? exact : ci;
    if (k < 0 && group >= 0)
        return prw__error_set(err, PRW_E_UNSUPPORTED, -1,
                              "column '%s' is a nested %s column (leaf '%s'); only flat columns "
                              "are read",
                              name, group_kind(f->cols[group].name, n), f->cols[group].name);
    if (k < 0)
        return prw__error_set(err, PRW_E_UNSUPPORTED, -1, "column '%s' not found", name);
    *col = k;
    return PRW_OK;
}

int prw_pq_num_row_groups(const prw_pq_file *f) {
    return f->nrg;
}
int64_t prw_pq_row_group_rows(const prw_pq_file *f, int rg) {
    return rg >= 0 && rg < f->nrg ? f->rgs[rg].num_rows : -1;
}
int64_t prw_pq_num_rows(const prw_pq_file *f) {
    return f->num_rows;
}
const char *prw_pq_created_by(const prw_pq_file *f) {
    return f->created_by ? f->created_by : "";
}
const char *prw_pq_writer_warning(const prw_pq_file *f) {
    return f->writer_warning;
}

prw_status prw_pq_chunk(const prw_pq_file *f, int rg, int col, prw_pq_chunk_info *out,
                        prw_error *err) {
    if (rg < 0 || rg >= f->nrg || col < 0 || col >= f->ncols)
        return prw__error_set(err, PRW_E_INVALID, -1, "no row group %d / column %d", rg, col);
    const pq_chunk_meta *m = &f->rgs[rg].chunks[col];
    if (!m->has_meta || m->external)
        return prw__error_set(err, PRW_E_UNSUPPORTED, -1,
                              "column chunk without metadata or in another file");
    out->codec = m->codec;
    out->encodings = m->encodings;
    out->num_values = m->num_values;
    out->offset = m->data_page_offset;
    if (m->dict_page_offset > 0 && m->dict_page_offset < out->offset)
        out->offset = m->dict_page_offset;
    out->compressed_size = m->total_compressed;
    out->uncompressed_size = m->total_uncompressed;
    return PRW_OK;
}

const char *prw_pq_codec_name(int32_t codec) {
    static const char *const names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                        "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
    return codec >= 0 && codec < 8 ? names[codec] : "?";
}

const char *prw_pq_encoding_name(int32_t e) {
    static const char *const names[] = {
        "PLAIN",          "GROUP_VAR_INT",       "PLAIN_DICTIONARY",        "RLE",
        "BIT_PACKED",     "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
        "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
    return e >= 0 && e < 10 ? names[e] : "?";
}

const char *prw_pq_physical_name(prw_pq_physical t) {
    static const char *const names[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                        "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return (int)t >= 0 && (int)t < 8 ? names[t] : "?";
}

void prw_pq_logical_text(const prw_pq_column_info *c, char *buf, size_t cap) {
    static const char *const units[] = {"MILLIS", "MICROS", "NANOS"};
    switch (c->logical) {
    case PRW_PQ_LOGICAL_STRING:
        snprintf(buf, cap, "STRING");
        break;
    case PRW_PQ_LOGICAL_INT:
        snprintf(buf, cap, "INT(%d,%s)", c->int_bits, c->int_signed ? "signed" : "unsigned");
        break;
    case PRW_PQ_LOGICAL_DATE:
        snprintf(buf, cap, "DATE");
        break;
    case PRW_PQ_LOGICAL_TIMESTAMP:
        snprintf(buf, cap, "TIMESTAMP(%s,%s)", units[c->time_unit], c->utc ? "utc" : "local");
        break;
    case PRW_PQ_LOGICAL_TIME:
        snprintf(buf, cap, "TIME(%s,%s)", units[c->time_unit], c->utc ? "utc" : "local");
        break;
    case PRW_PQ_LOGICAL_DECIMAL:
        snprintf(buf, cap, "DECIMAL(%d,%d)", c->precision, c->scale);
        break;
    case PRW_PQ_LOGICAL_FLOAT16:
        snprintf(buf, cap, "FLOAT16");
        break;
    case PRW_PQ_LOGICAL_UUID:
        snprintf(buf, cap, "UUID");
        break;
    default:
        snprintf(buf, cap, "%s", "");
        break;
    }
}

/* ---- canonical value text --------------------------------------------------------------- */

static size_t fmt_float(char *buf, size_t cap, double v, int prec) {
    if (isnan(v))
        return (size_t)snprintf(buf, cap, "nan");
    return (size_t)snprintf(buf, cap, "%.*g", prec, v);
}

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while (!(man & 0x400));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Writes digits (most significant first, no sign) with `scale` digits after the point. */
static size_t place_point(char *buf, size_t cap, bool neg, const char *digits, size_t nd,
                          int scale) {
    size_t k = 0;
    size_t need = nd + (size_t)scale + 4;
    if (need > cap)
        return (size_t)snprintf(buf, cap, "?");
    if (neg)
        buf[k++] = '-';
    size_t s = (size_t)scale;
    if (s == 0) {
        memcpy(buf + k, digits, nd);
        k += nd;
    } else if (nd <= s) {
        buf[k++] = '0';
        buf[k++] = '.';
        for (size_t i = nd; i < s; i++)
            buf[k++] = '0';
        memcpy(buf + k, digits, nd);
        k += nd;
    } else {
        memcpy(buf + k, digits, nd - s);
        k += nd - s;
        buf[k++] = '.';
        memcpy(buf + k, digits + nd - s, s);
        k += s;
    }
    buf[k] = 0;
    return k;
}

static size_t fmt_decimal_i64(char *buf, size_t cap, int64_t v, int scale) {
    char d[24];
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    int n = snprintf(d, sizeof d, "%llu", (unsigned long long)mag);
    return place_point(buf, cap, v < 0, d, (size_t)n, scale);
}

/* Big-endian two's complement bytes → decimal text. */
static size_t fmt_decimal_bytes(char *buf, size_t cap, const uint8_t *p, size_t n, int scale) {
    uint8_t mag[64];
    char d[160];
    if (n == 0)
        return place_point(buf, cap, false, "0", 1, scale);
    if (n > sizeof mag)
        return (size_t)snprintf(buf, cap, "?");
    bool neg = p[0] & 0x80;
    memcpy(mag, p, n);
    if (neg) { /* two's complement negate */
        for (size_t i = 0; i < n; i++)
            mag[i] = (uint8_t)~mag[i];
        for (size_t i = n; i-- > 0;)
            if (++mag[i] != 0)
                break;
    }
    size_t nd = 0;
    for (;;) {
        bool zero = true;
        unsigned rem = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned cur = rem * 256 + mag[i];
            mag[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
            zero = zero && mag[i] == 0;
        }
        d[nd++] = (char)('0' + rem);
        if (zero || nd == sizeof d)
            break;
    }
    for (size_t i = 0; i < nd / 2; i++) {
        char t = d[i];
        d[i] = d[nd - 1 - i];
        d[nd - 1 - i] = t;
    }
    bool is_zero = nd == 1 && d[0] == '0';
    return place_point(buf, cap, neg && !is_zero, d, nd, scale);
}

/* a * b + c exactly (128 bits), saturated to INT64_MIN / INT64_MAX. */
static int64_t sat_mul_add(int64_t a, int64_t b, int64_t c) {
    __int128 r = (__int128)a * b + c;
    return r > INT64_MAX ? INT64_MAX : r < INT64_MIN ? INT64_MIN : (int64_t)r;
}

static int64_t int96_micros(const uint8_t *p) {
    int64_t nanos = (int64_t)prw__load_le64(p);
    int32_t jd = (int32_t)prw__load_le32(p + 8);
    int64_t us = nanos / 1000;
    if (nanos % 1000 < 0)
        us--;
    /* Modulo 2^64 on purpose: Spark computes INT96 from int64 microseconds with wrapping
     * arithmetic, so its far dates (parquet-testing's int96_from_spark) come back only so. */
    return (int64_t)((uint64_t)((int64_t)jd - 2440588) * 86400000000ull + (uint64_t)us);
}

static prw_bytes text(const char *buf, size_t n) {
    return (prw_bytes){(const uint8_t *)buf, n};
}

bool prw_pq_value_text(const prw_pq_column_info *c, const prw_pq_column_data *cd, int64_t r,
                       char *buf, size_t cap, prw_bytes *out) {
    if (!cd->valid[r])
        return false;
    const uint8_t *v = cd->values ? cd->values + (size_t)r * cd->value_size : NULL;
    switch (c->physical) {
    case PRW_PQ_BOOLEAN:
        *out = text(v[0] ? "1" : "0", 1);
        return true;
    case PRW_PQ_INT32: {
        int32_t x = (int32_t)prw__load_le32(v);
        size_t n;
        if (c->logical == PRW_PQ_LOGICAL_DECIMAL)
            n = fmt_decimal_i64(buf, cap, x, c->scale);
        else if (c->logical == PRW_PQ_LOGICAL_INT && !c->int_signed)
            n = (size_t)snprintf(buf, cap, "%u", (uint32_t)x);
        else
            n = (size_t)snprintf(buf, cap, "%d", x);
        *out = text(buf, n);
        return true;
    }
    case PRW_PQ_INT64: {
        int64_t x = (int64_t)prw__load_le64(v);
        size_t n;
        if (c->logical == PRW_PQ_LOGICAL_DECIMAL)
            n = fmt_decimal_i64(buf, cap, x, c->scale);
        else if (c->logical == PRW_PQ_LOGICAL_INT && !c->int_signed)
            n = (size_t)snprintf(buf, cap, "%llu", (unsigned long long)x);
        else if (c->logical == PRW_PQ_LOGICAL_TIMESTAMP && c->time_unit == PRW_PQ_MILLIS)
            n = (size_t)snprintf(buf, cap, "%lld", (long long)(int64_t)((uint64_t)x * 1000u));
        else
            n = (size_t)snprintf(buf, cap, "%lld", (long long)x);
        *out = text(buf, n);
        return true;
    }
    case PRW_PQ_INT96:
        *out = text(buf, (size_t)snprintf(buf, cap, "%lld", (long long)int96_micros(v)));
        return true;
    case PRW_PQ_FLOAT: {
        float f;
        memcpy(&f, v, 4);
        *out = text(buf, fmt_float(buf, cap, (double)f, 9));
        return true;
    }
    case PRW_PQ_DOUBLE: {
        double d;
        memcpy(&d, v, 8);
        *out = text(buf, fmt_float(buf, cap, d, 17));
        return true;
    }
    case PRW_PQ_BYTE_ARRAY: {
        const uint8_t *p;
        size_t n;
        if (cd->dict_encoded) {
            int32_t i = cd->indices[r];
            p = cd->dict_bytes + cd->dict_offsets[i];
            n = (size_t)(cd->dict_offsets[i + 1] - cd->dict_offsets[i]);
        } else {
            p = cd->bytes + cd->offsets[r];
            n = (size_t)(cd->offsets[r + 1] - cd->offsets[r]);
        }
        if (c->logical == PRW_PQ_LOGICAL_DECIMAL)
            *out = text(buf, fmt_decimal_bytes(buf, cap, p, n, c->scale));
        else
            *out = (prw_bytes){p, n};
        return true;
    }
    case PRW_PQ_FIXED_LEN_BYTE_ARRAY:
        if (c->logical == PRW_PQ_LOGICAL_FLOAT16)
            *out = text(buf, fmt_float(buf, cap, (double)half_to_float(prw__load_le16(v)), 9));
        else if (c->logical == PRW_PQ_LOGICAL_DECIMAL)
            *out = text(buf, fmt_decimal_bytes(buf, cap, v, cd->value_size, c->scale));
        else
            *out = (prw_bytes){v, cd->value_size};
        return true;
    }
    return false;
}

prw_status prw_pq_timestamp_micros(const prw_pq_column_info *c, const prw_pq_column_data *cd,
                                   int64_t *dst, prw_error *err) {
    const int64_t n = cd->num_rows;
    if (c->physical == PRW_PQ_INT96) {
        for (int64_t r = 0; r < n; r++)
            dst[r] = cd->valid[r] ? int96_micros(cd->values + (size_t)r * 12) : 0;
        return PRW_OK;
    }
    if (c->physical != PRW_PQ_INT64 || c->logical != PRW_PQ_LOGICAL_TIMESTAMP)
        return prw__error_set(err, PRW_E_INVALID, -1, "column '%s' is not a timestamp", c->name);
    const int64_t *v = (const int64_t *)(const void *)cd->values;
    switch (c->time_unit) {
    case PRW_PQ_MILLIS:
        for (int64_t r = 0; r < n; r++)
            dst[r] = sat_mul_add(v[r], 1000, 0);
        break;
    case PRW_PQ_MICROS:
        memcpy(dst, v, (size_t)n * sizeof *dst);
        break;
    case PRW_PQ_NANOS:
        for (int64_t r = 0; r < n; r++) {
            int64_t q = v[r] / 1000;
            dst[r] = q - (v[r] % 1000 < 0);
        }
        break;
    }
    return PRW_OK;
}
