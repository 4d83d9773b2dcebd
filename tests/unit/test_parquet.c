/*
 * Parquet reader tests: the conformance files against expected.json (rows, per-column non-NULL
 * counts and canonical FNV-1a 64 checksums, or a clean error), the writer matrix (identical
 * content across writer settings, and equal to DuckDB's grouped reference), the generated
 * encoding x codec x nullability cases, must-fail mutations, allocation failures and
 * concurrent decoding. The checksum is recomputed here from the README's definition.
 */
#include <pthread.h>
#include <stdlib.h>

#include "harness.h"
#include "proberows/parquet.h"

/* ---- a small JSON reader for expected.json ---------------------------------------------- */

typedef struct jv {
    char type; /* 'o' object, 'a' array, 's' string, 'n' number, 'l' null, 'b' bool */
    char *str; /* string (decoded) or number text; object keys in keys[] */
    struct jv *items;
    char **keys;
    size_t n;
} jv;

static const char *js_ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

static const char *js_parse(const char *p, jv *v);

static const char *js_string(const char *p, char **out) {
    size_t cap = 16, n = 0;
    char *s = malloc(cap);
    p++;
    while (*p && *p != '"') {
        char c = *p++;
        if (c == '\\') {
            c = *p++;
            if (c == 'n')
                c = '\n';
            else if (c == 't')
                c = '\t';
            else if (c == 'u') {
                unsigned u = (unsigned)strtoul((char[5]){p[0], p[1], p[2], p[3], 0}, NULL, 16);
                p += 4;
                c = (char)u; /* expected.json escapes only control/ASCII characters */
            }
        }
        if (n + 2 > cap)
            s = realloc(s, cap *= 2);
        s[n++] = c;
    }
    s[n] = 0;
    *out = s;
    return *p ? p + 1 : p;
}

static const char *js_parse(const char *p, jv *v) {
    memset(v, 0, sizeof *v);
    p = js_ws(p);
    if (*p == '{' || *p == '[') {
        bool obj = *p == '{';
        v->type = obj ? 'o' : 'a';
        p = js_ws(p + 1);
        size_t cap = 0;
        while (*p && *p != '}' && *p != ']') {
            if (v->n == cap) {
                cap = cap ? cap * 2 : 8;
                v->items = realloc(v->items, cap * sizeof *v->items);
                v->keys = realloc(v->keys, cap * sizeof *v->keys);
            }
            v->keys[v->n] = NULL;
            if (obj) {
                p = js_string(js_ws(p), &v->keys[v->n]);
                p = js_ws(p);
                if (*p == ':')
                    p++;
            }
            p = js_parse(p, &v->items[v->n]);
            v->n++;
            p = js_ws(p);
            if (*p == ',')
                p = js_ws(p + 1);
        }
        return *p ? p + 1 : p;
    }
    if (*p == '"') {
        v->type = 's';
        return js_string(p, &v->str);
    }
    if (!strncmp(p, "null", 4)) {
        v->type = 'l';
        return p + 4;
    }
    if (!strncmp(p, "true", 4) || !strncmp(p, "false", 5)) {
        v->type = 'b';
        return p + (*p == 't' ? 4 : 5);
    }
    v->type = 'n';
    const char *e = p;
    while (*e && strchr("+-0123456789.eE", *e))
        e++;
    v->str = strndup(p, (size_t)(e - p));
    return e;
}

static void js_free(jv *v) {
    for (size_t i = 0; i < v->n; i++) {
        js_free(&v->items[i]);
        free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
}

static const jv *js_get(const jv *o, const char *key) {
    for (size_t i = 0; o->type == 'o' && i < o->n; i++)
        if (!strcmp(o->keys[i], key))
            return &o->items[i];
    return NULL;
}

/* ---- canonical checksums ---------------------------------------------------------------- */

#define MAX_COLS 128

typedef struct file_sum {
    int64_t rows;
    int ncols;
    int64_t non_null[MAX_COLS];
    uint64_t fnv[MAX_COLS];
    char names[MAX_COLS][64];
} file_sum;

static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* Adds the rows of one decoded column to the running sums of column i. */
static void sum_column(const prw_pq_column_info *c, const prw_pq_column_data *cd, file_sum *s,
                       int i) {
    char buf[512];
    for (int64_t r = 0; r < cd->num_rows; r++) {
        prw_bytes t;
        if (!prw_pq_value_text(c, cd, r, buf, sizeof buf, &t)) {
            s->fnv[i] = fnv_bytes(s->fnv[i], "\0", 1);
            continue;
        }
        uint8_t hdr[5] = {1, (uint8_t)t.len, (uint8_t)(t.len >> 8), (uint8_t)(t.len >> 16),
                          (uint8_t)(t.len >> 24)};
        s->fnv[i] = fnv_bytes(fnv_bytes(s->fnv[i], hdr, 5), t.ptr, t.len);
        s->non_null[i]++;
    }
}

static void sum_init(file_sum *s) {
    memset(s, 0, sizeof *s);
    for (int i = 0; i < MAX_COLS; i++)
        s->fnv[i] = 0xcbf29ce484222325ULL;
}

/* Decodes every column of f into s (appending rows); returns the first error. */
static prw_status sum_file(prw_pq_file *f, unsigned flags, file_sum *s, prw_error *err) {
    prw_pq_decoder *d = NULL;
    prw_status st = prw_pq_decoder_create(&d, err);
    if (st < 0)
        return st;
    prw_pq_column_data cd;
    prw_pq_column_data_init(&cd);
    s->ncols = prw_pq_num_columns(f);
    if (s->ncols > MAX_COLS)
        s->ncols = MAX_COLS;
    for (int rg = 0; rg < prw_pq_num_row_groups(f) && st >= 0; rg++) {
        for (int i = 0; i < s->ncols && st >= 0; i++) {
            st = prw_pq_decode_column(d, f, rg, i, flags, &cd, err);
            if (st >= 0) {
                if (cd.num_rows != prw_pq_row_group_rows(f, rg))
                    st = PRW_E_INVALID;
                else
                    sum_column(prw_pq_column(f, i), &cd, s, i);
            }
        }
        s->rows += prw_pq_row_group_rows(f, rg);
    }
    for (int i = 0; i < s->ncols; i++)
        snprintf(s->names[i], sizeof s->names[i], "%s", prw_pq_column(f, i)->name);
    prw_pq_column_data_cleanup(&cd);
    prw_pq_decoder_destroy(d);
    return st;
}

static prw_status sum_path(const char *path, bool pread, unsigned flags, file_sum *s,
                           prw_error *err) {
    prw_pq_open_opts o = {.use_pread = pread};
    prw_pq_file *f = NULL;
    prw_status st = prw_pq_open(&f, path, &o, err);
    if (st < 0)
        return st;
    st = sum_file(f, flags, s, err);
    prw_pq_close(f);
    return st;
}

/* ---- conformance ------------------------------------------------------------------------ */

/*
 * Where expected.json (read with DuckDB) is known to be wrong, the correct values, with the
 * evidence. rle_boolean_encoding.parquet: its one DATA_PAGE_V2 header says num_nulls = 6 and
 * the definition levels mark rows 2, 15, 23, 38, 48 and 60 NULL (apache/parquet-testing's
 * description and other readers' tests agree: 36 true, 26 false, 6 NULL); DuckDB reports no
 * NULLs. The test below also checks those NULL positions directly.
 */
static const struct {
    const char *file, *column;
    int64_t non_null;
    const char *fnv;
} g_overrides[] = {
    {"rle_boolean_encoding.parquet", "datatype_boolean", 62, "88741dabdfeab337"},
};

TEST(pq_conformance) {
    REQUIRE_SHARED(shared);
    const char *dir = th_fmt("%s/testdata/parquet/conformance", shared);
    size_t len;
    uint8_t *text = th_read(th_fmt("%s/expected.json", dir), &len);
    ASSERT_TRUE(text != NULL);
    char *z = th_fmt("%.*s", (int)len, (const char *)text);
    jv root;
    js_parse(z, &root);
    int checked = 0, failed = 0;
    for (size_t k = 0; k < root.n; k++) {
        const jv *e = &root.items[k];
        const char *file = js_get(e, "file")->str;
        const jv *error = js_get(e, "error"), *note = js_get(e, "note");
        bool crc_note = note && strstr(note->str, "CRC");
        const char *path = th_fmt("%s/%s", dir, file);
        /* mmap and pread, dictionary indices and materialised strings: same results. */
        for (int mode = 0; mode < 4; mode++) {
            file_sum s;
            sum_init(&s);
            prw_error err;
            prw_error_clear(&err);
            prw_status st = sum_path(path, mode & 1, (mode & 2) ? PRW_PQ_DECODE_DICT : 0, &s, &err);
            if (error) {
                if (st >= 0) {
                    th_note("%s: expected an error (%s), decoded fine", file, error->str);
                    failed++;
                } else if (err.msg[0] == 0) {
                    th_note("%s: error without a message", file);
                    failed++;
                }
                continue;
            }
            if (crc_note && st == PRW_E_CHECKSUM)
                continue; /* a CRC-verifying reader rejects this file: allowed */
            if (st < 0) {
                th_note("%s: %s", file, err.msg);
                failed++;
                break;
            }
            const jv *cols = js_get(e, "columns");
            int64_t rows = strtoll(js_get(e, "rows")->str, NULL, 10);
            if (s.rows != rows || (int)cols->n != s.ncols) {
                th_note("%s: %lld rows / %d columns, expected %lld / %zu", file, (long long)s.rows,
                        s.ncols, (long long)rows, cols->n);
                failed++;
                break;
            }
            for (int i = 0; i < s.ncols; i++) {
                const jv *c = &cols->items[i];
                char hex[17];
                snprintf(hex, sizeof hex, "%016llx", (unsigned long long)s.fnv[i]);
                int64_t nn = strtoll(js_get(c, "non_null")->str, NULL, 10);
                const char *want_fnv = js_get(c, "fnv1a64")->str;
                for (size_t o = 0; o < sizeof g_overrides / sizeof g_overrides[0]; o++)
                    if (!strcmp(g_overrides[o].file, file) &&
                        !strcmp(g_overrides[o].column, s.names[i])) {
                        nn = g_overrides[o].non_null;
                        want_fnv = g_overrides[o].fnv;
                    }
                if (strcmp(js_get(c, "name")->str, s.names[i]) || nn != s.non_null[i] ||
                    strcmp(hex, want_fnv)) {
                    th_fail(__FILE__, __LINE__,
                            "%s mode %d: column %s: %lld %s, expected %s %lld %s", file, mode,
                            s.names[i], (long long)s.non_null[i], hex, js_get(c, "name")->str,
                            (long long)nn, want_fnv);
                    failed++;
                }
            }
        }
        checked++;
    }
    js_free(&root);
    ASSERT_EQ_I64(failed, 0);
    ASSERT_TRUE(checked >= 38);
}

TEST(pq_rle_boolean_nulls) {
    REQUIRE_SHARED(shared);
    prw_error err;
    prw_error_clear(&err);
    prw_pq_file *f = NULL;
    ASSERT_OK(
        prw_pq_open(&f,
                    th_fmt("%s/testdata/parquet/conformance/rle_boolean_encoding.parquet", shared),
                    NULL, &err),
        &err);
    prw_pq_decoder *d = NULL;
    ASSERT_OK(prw_pq_decoder_create(&d, &err), &err);
    prw_pq_column_data cd;
    prw_pq_column_data_init(&cd);
    ASSERT_OK(prw_pq_decode_column(d, f, 0, 0, 0, &cd, &err), &err);
    ASSERT_EQ_I64(cd.num_rows, 68);
    ASSERT_EQ_I64(cd.null_count, 6);
    static const int nulls[] = {2, 15, 23, 38, 48, 60};
    int trues = 0;
    for (int r = 0, k = 0; r < 68; r++) {
        bool is_null = k < 6 && nulls[k] == r;
        k += is_null;
        ASSERT_EQ_I64(cd.valid[r], !is_null);
        trues += cd.valid[r] && cd.values[r];
    }
    ASSERT_EQ_I64(trues, 36);
    prw_pq_column_data_cleanup(&cd);
    prw_pq_decoder_destroy(d);
    prw_pq_close(f);
}

/* The CRC-verifying reader names the checksum problem for the corrupt-CRC file. */
TEST(pq_corrupt_crc_rejected) {
    REQUIRE_SHARED(shared);
    file_sum s;
    sum_init(&s);
    prw_error err;
    prw_error_clear(&err);
    const char *p =
        th_fmt("%s/testdata/parquet/conformance/datapage_v1-corrupt-checksum.parquet", shared);
    ASSERT_ERR(sum_path(p, false, 0, &s, &err), PRW_E_CHECKSUM);
    ASSERT_TRUE(strstr(err.msg, "CRC32") != NULL);
    ASSERT_TRUE(strstr(err.msg, "column 'a'") != NULL);
    ASSERT_TRUE(err.offset > 0);
}

/* ---- writer matrix ---------------------------------------------------------------------- */

TEST(pq_writer_matrix_identical) {
    REQUIRE_SHARED(shared);
    static const char *const files[] = {"v1_brotli",
                                        "v1_gzip",
                                        "v1_lz4raw",
                                        "v1_snappy",
                                        "v1_snappy_nodict",
                                        "v1_snappy_rg1000",
                                        "v1_snappy_rg5000",
                                        "v1_uncompressed",
                                        "v1_zstd",
                                        "v1_zstd_rg1000_nodict",
                                        "v2_brotli",
                                        "v2_gzip_rg1000",
                                        "v2_lz4raw_rg1000_nodict",
                                        "v2_snappy",
                                        "v2_snappy_nodict",
                                        "v2_uncompressed",
                                        "v2_zstd"};
    const char *dir = th_fmt("%s/testdata/parquet/writers", shared);
    file_sum ref;
    sum_init(&ref);
    prw_error err;
    prw_error_clear(&err);
    /* The three shards read in order form the reference. */
    for (int i = 0; i < 3; i++)
        ASSERT_OK(sum_path(th_fmt("%s/sharded3/shard_%04d.parquet", dir, i), false,
                           PRW_PQ_DECODE_DICT, &ref, &err),
                  &err);
    ASSERT_EQ_I64(ref.rows, 20000);
    ASSERT_EQ_I64(ref.ncols, 5);
    ASSERT_EQ_I64(ref.non_null[0], 20000);
    ASSERT_TRUE(ref.non_null[4] > 19700 && ref.non_null[4] < 20000); /* ~1% NULL rtt */
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        for (int mode = 0; mode < 2; mode++) {
            file_sum s;
            sum_init(&s);
            ASSERT_OK(
                sum_path(th_fmt("%s/%s.parquet", dir, files[k]), mode, mode ? 0 : 1, &s, &err),
                &err);
            ASSERT_EQ_I64(s.rows, ref.rows);
            for (int i = 0; i < 5; i++) {
                if (s.fnv[i] != ref.fnv[i] || s.non_null[i] != ref.non_null[i])
                    th_note("%s: column %s differs", files[k], s.names[i]);
                ASSERT_EQ_U64(s.fnv[i], ref.fnv[i]);
                ASSERT_EQ_I64(s.non_null[i], ref.non_null[i]);
            }
        }
    }
}

/* ---- must-fail mutations ---------------------------------------------------------------- */

/* Opens and decodes bytes in memory; returns the first error or PRW_OK. */
static prw_status decode_mem(const uint8_t *data, size_t len, prw_error *err) {
    prw_pq_open_opts o = {.max_rows = 1 << 20, .max_page_size = 16 << 20};
    prw_pq_file *f = NULL;
    prw_status st = prw_pq_open_memory(&f, data, len, "mutant", &o, err);
    if (st < 0)
        return st;
    file_sum s;
    sum_init(&s);
    st = sum_file(f, PRW_PQ_DECODE_DICT, &s, err);
    prw_pq_close(f);
    return st;
}

TEST(pq_truncations_fail_cleanly) {
    REQUIRE_SHARED(shared);
    size_t len;
    const uint8_t *orig =
        th_read(th_fmt("%s/testdata/parquet/writers/v1_snappy_rg5000.parquet", shared), &len);
    ASSERT_TRUE(orig != NULL);
    prw_error err;
    /* Every cut of the file loses the trailing magic: each must be rejected. */
    for (size_t cut = 0; cut < len; cut += (cut < 4096 || len - cut < 4096) ? 1 : 997) {
        prw_error_clear(&err);
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, orig, cut);
        prw_status st = decode_mem(copy, cut, &err);
        free(copy);
        if (st >= 0)
            th_note("truncation at %zu decoded", cut);
        ASSERT_TRUE(st < 0);
        ASSERT_TRUE(err.msg[0] != 0);
    }
}

/*
 * A file whose footer is kept but whose data region is cut (the footer copied after fewer
 * page bytes) makes the chunks overrun: rejected with an offset.
 */
TEST(pq_page_region_cut_fails) {
    REQUIRE_SHARED(shared);
    size_t len;
    const uint8_t *orig =
        th_read(th_fmt("%s/testdata/parquet/writers/v1_uncompressed.parquet", shared), &len);
    ASSERT_TRUE(orig != NULL);
    uint32_t flen = (uint32_t)orig[len - 8] | (uint32_t)orig[len - 7] << 8 |
                    (uint32_t)orig[len - 6] << 16 | (uint32_t)orig[len - 5] << 24;
    size_t data_end = len - 8 - flen;
    /* The column chunks end before data_end (DuckDB writes bloom filters after them). */
    prw_error err0;
    prw_pq_file *f0 = NULL;
    ASSERT_OK(prw_pq_open_memory(&f0, orig, len, "orig", NULL, &err0), &err0);
    size_t chunk_end = 0;
    for (int i = 0; i < prw_pq_num_columns(f0); i++) {
        prw_pq_chunk_info ci;
        ASSERT_OK(prw_pq_chunk(f0, 0, i, &ci, &err0), &err0);
        if ((size_t)(ci.offset + ci.compressed_size) > chunk_end)
            chunk_end = (size_t)(ci.offset + ci.compressed_size);
    }
    prw_pq_close(f0);
    ASSERT_TRUE(chunk_end > 100000 && chunk_end <= data_end);
    for (size_t keep = 4; keep < chunk_end; keep += chunk_end / 50 + 1) {
        size_t n = keep + flen + 8;
        uint8_t *copy = malloc(n);
        memcpy(copy, orig, keep);
        memcpy(copy + keep, orig + data_end, flen + 8);
        prw_error err;
        prw_error_clear(&err);
        prw_status st = decode_mem(copy, n, &err);
        free(copy);
        if (st >= 0)
            th_fail(__FILE__, __LINE__, "data cut to %zu of %zu bytes decoded", keep, data_end);
        ASSERT_TRUE(st < 0);
        ASSERT_TRUE(err.msg[0] != 0);
    }
}

/* Bit flips anywhere: never a crash (ASan run), and every error carries a message. */
TEST(pq_bit_flips_clean) {
    REQUIRE_SHARED(shared);
    static const char *const names[] = {"v2_snappy.parquet", "v1_uncompressed.parquet"};
    for (int k = 0; k < 2; k++) {
        size_t len;
        const uint8_t *orig =
            th_read(th_fmt("%s/testdata/parquet/writers/%s", shared, names[k]), &len);
        ASSERT_TRUE(orig != NULL);
        uint8_t *copy = malloc(len);
        uint64_t seed = 42 + (uint64_t)k;
        int errors = 0;
        for (int i = 0; i < 300; i++) {
            memcpy(copy, orig, len);
            /* Half the flips in the footer, half anywhere. */
            size_t pos = (i & 1) ? th_rand(&seed) % len : len - 1 - th_rand(&seed) % 2048;
            copy[pos] ^= (uint8_t)(1u << (th_rand(&seed) % 8));
            prw_error err;
            prw_error_clear(&err);
            prw_status st = decode_mem(copy, len, &err);
            if (st < 0) {
                errors++;
                if (!err.msg[0])
                    free(copy);
                ASSERT_TRUE(err.msg[0] != 0);
            }
        }
        free(copy);
        ASSERT_TRUE(errors > 0);
    }
}

/* With page CRCs, any flip in page data is a checksum error naming the page. */
TEST(pq_crc_detects_flips) {
    REQUIRE_SHARED(shared);
    size_t len;
    const uint8_t *orig = th_read(
        th_fmt("%s/testdata/parquet/conformance/datapage_v1-uncompressed-checksum.parquet", shared),
        &len);
    ASSERT_TRUE(orig != NULL);
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(decode_mem(orig, len, &err), &err);
    uint8_t *copy = malloc(len);
    /* Bytes 100..2000 lie inside the first page's values. */
    for (size_t pos = 100; pos < 2000; pos += 97) {
        memcpy(copy, orig, len);
        copy[pos] ^= 0x10;
        prw_error_clear(&err);
        prw_status st = decode_mem(copy, len, &err);
        if (st != PRW_E_CHECKSUM)
            free(copy);
        ASSERT_ERR(st, PRW_E_CHECKSUM);
    }
    free(copy);
}

/* Specific corruptions of the footer: clean, specific errors. */
TEST(pq_footer_corruptions) {
    REQUIRE_SHARED(shared);
    size_t len;
    const uint8_t *orig =
        th_read(th_fmt("%s/testdata/parquet/writers/v1_zstd.parquet", shared), &len);
    ASSERT_TRUE(orig != NULL);
    uint8_t *copy = malloc(len);
    prw_error err;
    /* footer length beyond the file */
    memcpy(copy, orig, len);
    copy[len - 5] = 0x7f;
    prw_error_clear(&err);
    prw_status st = decode_mem(copy, len, &err);
    ASSERT_TRUE(st == PRW_E_CORRUPT && err.offset == (int64_t)len - 8);
    /* footer length 0 */
    memset(copy + len - 8, 0, 4);
    prw_error_clear(&err);
    st = decode_mem(copy, len, &err);
    ASSERT_TRUE(st < 0);
    /* head magic broken */
    memcpy(copy, orig, len);
    copy[0] = 'X';
    prw_error_clear(&err);
    st = decode_mem(copy, len, &err);
    ASSERT_TRUE(st == PRW_E_CORRUPT && err.offset == 0);
    /* encrypted footer magic */
    memcpy(copy, orig, len);
    copy[len - 1] = 'E';
    prw_error_clear(&err);
    ASSERT_ERR(decode_mem(copy, len, &err), PRW_E_UNSUPPORTED);
    free(copy);
}

/* Every allocation failure is reported as PRW_E_NOMEM, never a crash or a leak. */
TEST(pq_alloc_failures) {
    REQUIRE_SHARED(shared);
    const char *p = th_fmt("%s/testdata/parquet/conformance/alltypes_dictionary.parquet", shared);
    int nomem = 0;
    for (int64_t n = 1; n < 400; n++) {
        prw_error err;
        prw_error_clear(&err);
        file_sum s;
        sum_init(&s);
        prw_alloc_fail_after(n);
        prw_status st = sum_path(p, n & 1, PRW_PQ_DECODE_DICT, &s, &err);
        prw_alloc_fail_after(0);
        if (st >= 0)
            break;
        ASSERT_ERR(st, PRW_E_NOMEM);
        nomem++;
    }
    ASSERT_TRUE(nomem > 5);
}

/* ---- threads ---------------------------------------------------------------------------- */

typedef struct thr_arg {
    prw_pq_file *f;
    int first_rg, step;
    file_sum s;
    prw_status st;
} thr_arg;

static void *thr_main(void *p) {
    thr_arg *a = p;
    prw_pq_decoder *d = NULL;
    prw_error err;
    prw_error_clear(&err);
    a->st = prw_pq_decoder_create(&d, &err);
    prw_pq_column_data cd;
    prw_pq_column_data_init(&cd);
    int nc = prw_pq_num_columns(a->f);
    for (int rg = a->first_rg; a->st >= 0 && rg < prw_pq_num_row_groups(a->f); rg += a->step)
        for (int i = 0; i < nc && a->st >= 0; i++) {
            a->st = prw_pq_decode_column(d, a->f, rg, i, PRW_PQ_DECODE_DICT, &cd, &err);
            if (a->st >= 0)
                sum_column(prw_pq_column(a->f, i), &cd, &a->s, i);
        }
    prw_pq_column_data_cleanup(&cd);
    prw_pq_decoder_destroy(d);
    return NULL;
}

/* Row groups decoded by 4 threads sharing one file give the same values as one thread. */
TEST(pq_threads_share_file) {
    REQUIRE_SHARED(shared);
    const char *p = th_fmt("%s/testdata/parquet/writers/v1_snappy_rg1000.parquet", shared);
    prw_error err;
    prw_error_clear(&err);
    prw_pq_file *f = NULL;
    ASSERT_OK(prw_pq_open(&f, p, NULL, &err), &err);
    thr_arg a[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        memset(&a[i], 0, sizeof a[i]);
        a[i].f = f;
        a[i].first_rg = i;
        a[i].step = 4;
        sum_init(&a[i].s);
        pthread_create(&t[i], NULL, thr_main, &a[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    /* Reference: the same row groups in the same per-thread order, decoded serially. */
    for (int i = 0; i < 4; i++) {
        ASSERT_OK(a[i].st, NULL);
        thr_arg b;
        memset(&b, 0, sizeof b);
        b.f = f;
        b.first_rg = i;
        b.step = 4;
        sum_init(&b.s);
        thr_main(&b);
        ASSERT_OK(b.st, NULL);
        for (int c = 0; c < 5; c++)
            ASSERT_EQ_U64(a[i].s.fnv[c], b.s.fnv[c]);
    }
    prw_pq_close(f);
}

/* ---- API details ------------------------------------------------------------------------ */

TEST(pq_schema_and_timestamps) {
    REQUIRE_SHARED(shared);
    const char *p =
        th_fmt("%s/testdata/parquet/conformance/duckdb_ts_units_zstd_v2.parquet", shared);
    prw_error err;
    prw_error_clear(&err);
    prw_pq_file *f = NULL;
    ASSERT_OK(prw_pq_open(&f, p, NULL, &err), &err);
    ASSERT_EQ_I64(prw_pq_num_columns(f), 8);
    ASSERT_EQ_I64(prw_pq_num_rows(f), 5000);
    int us = prw_pq_find_column(f, "ts_us"), ms = prw_pq_find_column(f, "ts_ms"),
        ns = prw_pq_find_column(f, "ts_ns");
    ASSERT_TRUE(us >= 0 && ms >= 0 && ns >= 0);
    ASSERT_EQ_I64(prw_pq_find_column(f, "nope"), -1);
    const prw_pq_column_info *c = prw_pq_column(f, ns);
    ASSERT_EQ_I64(c->logical, PRW_PQ_LOGICAL_TIMESTAMP);
    ASSERT_EQ_I64(c->time_unit, PRW_PQ_NANOS);
    ASSERT_TRUE(!c->utc);
    ASSERT_EQ_I64(c->repetition, PRW_PQ_OPTIONAL);
    prw_pq_decoder *d = NULL;
    ASSERT_OK(prw_pq_decoder_create(&d, &err), &err);
    prw_pq_column_data a, b;
    prw_pq_column_data_init(&a);
    prw_pq_column_data_init(&b);
    ASSERT_OK(prw_pq_decode_column(d, f, 0, ms, 0, &a, &err), &err);
    ASSERT_OK(prw_pq_decode_column(d, f, 0, ns, 0, &b, &err), &err);
    int64_t *ta = malloc(5000 * sizeof *ta), *tb = malloc(5000 * sizeof *tb);
    ASSERT_OK(prw_pq_timestamp_micros(prw_pq_column(f, ms), &a, ta, &err), &err);
    ASSERT_OK(prw_pq_timestamp_micros(prw_pq_column(f, ns), &b, tb, &err), &err);
    /* first rows per expected.json: ms 1704067201001000 (row 1); ns 1704067200000999000 */
    bool ok = ta[1] == 1704067201001000LL && tb[1] == 1704067200000999LL;
    free(ta);
    free(tb);
    ASSERT_TRUE(ok);
    ASSERT_ERR(prw_pq_timestamp_micros(prw_pq_column(f, 0), &a, NULL, &err), PRW_E_INVALID);
    ASSERT_ERR(prw_pq_decode_column(d, f, 1, 0, 0, &a, &err), PRW_E_INVALID);
    ASSERT_EQ_I64(a.num_rows, 0);
    prw_pq_column_data_cleanup(&a);
    prw_pq_column_data_cleanup(&b);
    prw_pq_decoder_destroy(d);
    prw_pq_close(f);
}

/* Dictionary-encoded string chunks come back as dictionary + indices with PRW_PQ_DECODE_DICT,
 * and the strings they index equal the materialised ones. */
TEST(pq_dictionary_indices) {
    REQUIRE_SHARED(shared);
    const char *p = th_fmt("%s/testdata/parquet/writers/v1_snappy.parquet", shared);
    prw_error err;
    prw_error_clear(&err);
    prw_pq_file *f = NULL;
    ASSERT_OK(prw_pq_open(&f, p, NULL, &err), &err);
    int col = prw_pq_find_column(f, "src_addr");
    ASSERT_TRUE(col >= 0);
    prw_pq_decoder *d = NULL;
    ASSERT_OK(prw_pq_decoder_create(&d, &err), &err);
    prw_pq_column_data a, b;
    prw_pq_column_data_init(&a);
    prw_pq_column_data_init(&b);
    ASSERT_OK(prw_pq_decode_column(d, f, 0, col, PRW_PQ_DECODE_DICT, &a, &err), &err);
    ASSERT_OK(prw_pq_decode_column(d, f, 0, col, 0, &b, &err), &err);
    ASSERT_TRUE(a.dict_encoded && !a.offsets && !a.dict_fallback);
    ASSERT_EQ_I64(a.dict_count, 500); /* 500 probes */
    ASSERT_TRUE(!b.dict_encoded && b.offsets);
    int bad = 0;
    for (int64_t r = 0; r < a.num_rows; r++) {
        int32_t i = a.indices[r];
        size_t la = (size_t)(a.dict_offsets[i + 1] - a.dict_offsets[i]);
        size_t lb = (size_t)(b.offsets[r + 1] - b.offsets[r]);
        bad += la != lb || memcmp(a.dict_bytes + a.dict_offsets[i], b.bytes + b.offsets[r], la);
    }
    prw_pq_column_data_cleanup(&a);
    prw_pq_column_data_cleanup(&b);
    prw_pq_decoder_destroy(d);
    prw_pq_close(f);
    ASSERT_EQ_I64(bad, 0);
}

/* ---- generated cases (tools/gen_parquet_cases.mjs, DuckDB) ------------------------------ */

/* Every generated file (codec x V1/V2 encodings x dictionary x nullability, small row groups,
 * zero rows) decodes to the checksums DuckDB's reading gave, in both string modes. */
TEST(pq_generated_cases) {
    size_t len;
    uint8_t *text = th_read("tests/data/parquet/expected.tsv", &len);
    ASSERT_TRUE(text != NULL);
    char *z = th_fmt("%.*s", (int)len, (const char *)text);
    int files = 0, lines = 0;
    char cur[256] = "";
    file_sum s[2];
    for (char *line = strtok(z, "\n"); line; line = strtok(NULL, "\n")) {
        char file[256], col[64], hex[17];
        long long rows, nn;
        ASSERT_EQ_I64(
            sscanf(line, "%255[^\t]\t%lld\t%63[^\t]\t%lld\t%16s", file, &rows, col, &nn, hex), 5);
        if (strcmp(file, cur)) {
            snprintf(cur, sizeof cur, "%s", file);
            for (int m = 0; m < 2; m++) {
                sum_init(&s[m]);
                prw_error err;
                prw_error_clear(&err);
                ASSERT_OK(sum_path(th_fmt("tests/data/parquet/%s", file), m,
                                   m ? PRW_PQ_DECODE_DICT : 0, &s[m], &err),
                          &err);
                ASSERT_EQ_I64(s[m].rows, rows);
            }
            files++;
        }
        int i = 0;
        while (i < s[0].ncols && strcmp(s[0].names[i], col))
            i++;
        ASSERT_TRUE(i < s[0].ncols);
        for (int m = 0; m < 2; m++) {
            char got[17];
            snprintf(got, sizeof got, "%016llx", (unsigned long long)s[m].fnv[i]);
            if (strcmp(got, hex) || s[m].non_null[i] != nn)
                th_fail(__FILE__, __LINE__, "%s column %s: %lld %s, expected %lld %s", file, col,
                        (long long)s[m].non_null[i], got, nn, hex);
        }
        lines++;
    }
    ASSERT_TRUE(files >= 30);
    ASSERT_TRUE(lines >= 250);
}
