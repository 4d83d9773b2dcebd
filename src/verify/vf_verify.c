/*
 * `proberows verify`: proves an output directory complete and correct (docs/VERIFY.md).
 *
 *   1. manifest.json is parsed (pl_json.c); it gives the options (row limit, split rule,
 *      NULL policy, shards, columns) and the totals the output must match.
 *   2. Every file is walked chunk by chunk from byte 0 (every block header, chunk header and
 *      data hash; no decompression), opened through its footer, and every record is read on
 *      a thread pool (prw_ar_reader_read_range: the data chunks decoded). Each record is
 *      checked on its own (schemas, one src_addr, src_id, times, first/last/span, NULLs,
 *      exact sizes) and leaves a small summary: src_addr, counts, first/last time, the size
 *      counts of its piece and of its first row, and a digest of its measurements.
 *   3. The summaries are walked in order: probe order and time order across pieces, greedy
 *      maximality of cut pieces, the split rule, and the totals of the manifest.
 *   4. With --input, the input is decoded again through the pipeline's own decode path
 *      (prw__pl_decode_rg: the same NULL policy and conversions) in parallel over row groups,
 *      and per probe the count and the digest must equal the output's.
 *
 * The digest of a probe is order-sensitive: a polynomial hash sum(h_i * B^i) mod 2^61 - 1 over
 * its measurements in output order (two bases), h_i a strong hash of the row's fields. A
 * record's digest uses positions from 0 and pieces combine as D1 + B^n1 * D2. The input side
 * sorts each probe's rows by (event_time, position in the input) -- a total order, so the
 * result does not depend on the sort being stable -- and hashes them the same way: equal
 * digests mean the same rows in the contract's order, ties included.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "arrayrecord/ar_internal.h"
#include "common/io.h"
#include "build/bd_internal.h"
#include "common/json.h"
#include "verify/vf_verify.h"
#include "proberows/arrayrecord.h"
#include "proberows/arrow_ipc.h"
#include "proberows/verify.h"

#define DEFAULT_KEEP 20

void prw_verify_options_init(prw_verify_options *o) {
    memset(o, 0, sizeof *o);
    o->max_failures = DEFAULT_KEEP;
}

void prw_verify_report_cleanup(prw_verify_report *r) {
    if (!r)
        return;
    prw__free(r->failures);
    r->failures = NULL;
    r->n_kept = 0;
}

/* ---- row digest ------------------------------------------------------------------------- */

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return x;
}

enum { NULL_DST = 1, NULL_IPV = 2, NULL_RTT = 4 };
#define NULL_DST_HASH 0x6E756C6C64737421ull

/* Hash of one measurement; dsth = prw__pl_hash of dst_addr's bytes (NULL_DST_HASH if null). */
static inline uint64_t row_hash(int64_t t, uint64_t dsth, int8_t ipv, uint32_t rtt_bits,
                                unsigned nulls) {
    uint64_t h = mix64((uint64_t)t ^ 0x243F6A8885A308D3ull);
    h = mix64(h ^ dsth);
    return mix64(h ^ ((uint64_t)(uint8_t)ipv | (uint64_t)nulls << 8 | (uint64_t)rtt_bits << 32));
}

/* Arithmetic modulo the Mersenne prime 2^61 - 1. */
#define M61 ((1ull << 61) - 1)
static const uint64_t g_base[2] = {0x1A2B3C4D5E6F789ull % M61, 0x0F1E2D3C4B5A6978ull % M61};

static inline uint64_t mulmod61(uint64_t a, uint64_t b) {
    unsigned __int128 p = (unsigned __int128)a * b;
    uint64_t r = ((uint64_t)p & M61) + (uint64_t)(p >> 61);
    return r >= M61 ? r - M61 : r;
}
static inline uint64_t addmod61(uint64_t a, uint64_t b) {
    uint64_t r = a + b;
    return r >= M61 ? r - M61 : r;
}
static uint64_t powmod61(uint64_t b, uint64_t e) {
    uint64_t r = 1;
    while (e) {
        if (e & 1)
            r = mulmod61(r, b);
        b = mulmod61(b, b);
        e >>= 1;
    }
    return r;
}

/* A running digest of a sequence: d[l] = sum h_i * base_l^i, pw[l] = base_l^(rows so far). */
typedef struct vdig {
    uint64_t d[2], pw[2];
} vdig;

static inline void dig_init(vdig *g) {
    g->d[0] = g->d[1] = 0;
    g->pw[0] = g->pw[1] = 1;
}
static inline void dig_add(vdig *g, uint64_t h) {
    h >>= 3; /* < 2^61 */
    if (h == M61)
        h = 0;
    for (int l = 0; l < 2; l++) {
        g->d[l] = addmod61(g->d[l], mulmod61(h, g->pw[l]));
        g->pw[l] = mulmod61(g->pw[l], g_base[l]);
    }
}
/* Appends a sequence of `n` rows with digest `tail` after `count` rows with digest `d`. */
static inline void dig_concat(uint64_t d[2], int64_t count, const uint64_t tail[2]) {
    for (int l = 0; l < 2; l++)
        d[l] = addmod61(d[l], mulmod61(powmod61(g_base[l], (uint64_t)count), tail[l]));
}

/* ---- the manifest ------------------------------------------------------------------------ */

typedef struct vman {
    bool ok;
    uint64_t max_row;
    double ratio;
    int split; /* 0 ratio, 1 hash */
    int64_t num, den;
    prw_null_rtt null_rtt;
    int shards;
    const char *columns[PRW_COL_COUNT];
    int64_t rows_read, rows_written, dropped[3], null_kept, null_failed, probes_cut;
    int64_t probes[2], records[2], meas[2], bytes[2], files[2];
    size_t n_inputs;
    int64_t *input_rows;
    prw__json json;
} vman;

/* ---- records and the verification context ------------------------------------------------ */

typedef struct vrec {
    char *src; /* copy of src_addr (prw__malloc) */
    uint32_t src_len;
    bool checked; /* decoded far enough to have a summary */
    int32_t n;
    int64_t src_id, first_t, last_t;
    prw_ipc_inner_counts counts;
    uint32_t first_dst_len;
    uint8_t first_nulls;
    uint64_t digest[2];
    int64_t null_rtt, failed_rtt;
} vrec;

typedef struct vfile {
    char name[128];
    int split;
    bool opened;
    bool bad; /* could not be read whole: totals are not compared */
    uint64_t nrec;
    uint64_t bytes;
    vrec *recs;
} vfile;

typedef struct vctx {
    const prw_verify_options *o;
    prw_verify_report *rep;
    vman man;
    int workers;
    size_t keep;
    pthread_mutex_t mu;
    size_t *key_ord; /* per kept failure: its order key (see add_failure) */
    vfile *files;
    size_t nfiles;
} vctx;

/* Failures are ordered by (ord, record): ord 0 is the manifest, 1 + i file i, then the
 * whole-output and input checks. Only the first `keep` are kept; all are counted. */
#define ORD_MANIFEST 0
#define ORD_FILE(i) (1 + (i))
#define ORD_TOTALS(v) (1 + (v)->nfiles)
#define ORD_INPUT(v) (2 + (v)->nfiles)

static void add_failure(vctx *v, size_t ord, const char *file, int64_t record, const char *check,
                        const char *fmt, ...) PRW_PRINTF(6, 7);
static void add_failure(vctx *v, size_t ord, const char *file, int64_t record, const char *check,
                        const char *fmt, ...) {
    prw_verify_failure f;
    memset(&f, 0, sizeof f);
    snprintf(f.file, sizeof f.file, "%s", file);
    f.record = record;
    f.check = check;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f.message, sizeof f.message, fmt, ap);
    va_end(ap);
    prw__mutex_lock(&v->mu);
    prw_verify_report *r = v->rep;
    r->n_failures++;
    size_t pos = r->n_kept;
    while (pos > 0 && (v->key_ord[pos - 1] > ord ||
                       (v->key_ord[pos - 1] == ord && r->failures[pos - 1].record > record)))
        pos--;
    if (pos < v->keep) {
        size_t n = r->n_kept < v->keep ? r->n_kept : v->keep - 1;
        memmove(&r->failures[pos + 1], &r->failures[pos], (n - pos) * sizeof *r->failures);
        memmove(&v->key_ord[pos + 1], &v->key_ord[pos], (n - pos) * sizeof *v->key_ord);
        r->failures[pos] = f;
        v->key_ord[pos] = ord;
        if (r->n_kept < v->keep)
            r->n_kept++;
    }
    prw__mutex_unlock(&v->mu);
}

/* ---- reading the manifest ------------------------------------------------------------------ */

static bool man_i64(vctx *v, const prw__json_node *obj, const char *key, const char *where,
                    int64_t *out) {
    const prw__json_node *n = prw__json_get(&v->man.json, obj, key);
    if (!n || n->type != PRW_JSON_NUMBER || !n->is_int || n->i64 < 0) {
        add_failure(v, ORD_MANIFEST, "manifest.json", -1, "manifest",
                    "%s%s is missing or not a non-negative integer", where, key);
        return false;
    }
    *out = n->i64;
    return true;
}

static const char *man_str(vctx *v, const prw__json_node *obj, const char *key) {
    const prw__json_node *n = prw__json_get(&v->man.json, obj, key);
    if (!n || n->type != PRW_JSON_STRING) {
        add_failure(v, ORD_MANIFEST, "manifest.json", -1, "manifest",
                    "\"%s\" is missing or not a string", key);
        return NULL;
    }
    return n->str;
}

static bool parse_options(vctx *v, const prw__json_node *opt) {
    vman *m = &v->man;
    const prw__json *j = &m->json;
    int64_t max_row = 0, shards = 0;
    bool ok = man_i64(v, opt, "max_row_size", "options.", &max_row) &&
              man_i64(v, opt, "shards", "options.", &shards);
    const prw__json_node *ratio = prw__json_get(j, opt, "train_ratio");
    const char *split = man_str(v, opt, "split");
    const char *rule = man_str(v, opt, "split_hash_rule");
    const char *null_rtt = man_str(v, opt, "null_rtt");
    if (!ok || !ratio || ratio->type != PRW_JSON_NUMBER || !split || !rule || !null_rtt) {
        if (ok && (!ratio || ratio->type != PRW_JSON_NUMBER))
            add_failure(v, ORD_MANIFEST, "manifest.json", -1, "manifest",
                        "options.train_ratio is missing or not a number");
        return false;
    }
    m->max_row = (uint64_t)max_row;
    m->ratio = ratio->num;
    long long den = 0, num = 0;
    char tail;
    if (sscanf(rule, "src_id %% %lld < %lld%c", &den, &num, &tail) != 2 || den < 1 || den > 10000 ||
        num < 0 || num > den) {
        add_failure(v, ORD_MANIFEST, "manifest.json", -1, "manifest",
                    "options.split_hash_rule \"%s\" is not \"src_id %% D < N\"", rule);
        return false;
    }
    m->den = den;
    m->num = num;
    int64_t rn = 0, rd = 1;
    prw__pl_ratio_fraction(m->ratio, &rn, &rd);
    if (rn != m->num || rd != m->den)
        add_failure(v, ORD_MANIFEST, "manifest.json", -1, "manifest",
                    "split_hash_rule \"%s\" does not match train_ratio %.17g (%lld/%lld)", rule,
                    m->ratio, (long long)rn, (long long)rd);
    bool good = true;
    if (strcmp(split, "ratio") == 0 || strcmp(split, "hash") == 0) {
        m->split = split[0] == 'h';
    } else {
        add_failure(v, ORD_MANIFEST, "manifest.json", -1, "manifest",
                    "options.split \"%s\" is neither ratio nor hash", split);
        good = false;
    }
    if (strcmp(null_rtt, "keep") == 0)
        m->null_rtt = PRW_NULL_RTT_KEEP;
    else if (strcmp(null_rtt, "drop") == 0)
        m->null_rtt = PRW_NULL_RTT_DROP;
    else if (strcmp(null_rtt, "failed") == 0)
        m->null_rtt = PRW_NULL_RTT_FAILED;
    else {
        add_failure(v, ORD_MANIFEST, "manifest.json", -1, "manifest",
                    "options.null_rtt \"%s\" is not keep, drop or failed", null_rtt);
        good = false;
    }
    if (shards < 1 || shards > 99999) {
        add_failure(v, ORD_MANIFEST, "manifest.json", -1, "manifest",
                    "options.shards %lld is not in 1..99999", (long long)shards);
        good = false;
    }
    m->shards = (int)shards;
    static const char *const logical[PRW_COL_COUNT] = {"event_time", "src_addr", "dst_addr",
                                                       "ip_version", "rtt"};
    const prw__json_node *cols = prw__json_get(j, opt, "columns");
    for (int c = 0; c < PRW_COL_COUNT; c++) {
        const prw__json_node *n = prw__json_get(j, cols, logical[c]);
        m->columns[c] = n && n->type == PRW_JSON_STRING ? n->str : logical[c];
    }
    return good;
}

static bool parse_counts(vctx *v, const prw__json_node *root) {
    vman *m = &v->man;
    const prw__json *j = &m->json;
    bool ok = man_i64(v, root, "rows_read", "", &m->rows_read) &&
              man_i64(v, root, "rows_written", "", &m->rows_written) &&
              man_i64(v, root, "null_rtt_kept", "", &m->null_kept) &&
              man_i64(v, root, "null_rtt_stored_as_failed", "", &m->null_failed) &&
              man_i64(v, root, "probes_cut_into_pieces", "", &m->probes_cut);
    const prw__json_node *dr = prw__json_get(j, root, "dropped");
    ok = ok && man_i64(v, dr, "null_src_addr", "dropped.", &m->dropped[0]) &&
         man_i64(v, dr, "null_event_time", "dropped.", &m->dropped[1]) &&
         man_i64(v, dr, "null_rtt", "dropped.", &m->dropped[2]);
    const prw__json_node *sp = prw__json_get(j, root, "splits");
    static const char *const names[2] = {"train", "test"};
    for (int s = 0; s < 2 && ok; s++) {
        const prw__json_node *x = prw__json_get(j, sp, names[s]);
        char where[32];
        snprintf(where, sizeof where, "splits.%s.", names[s]);
        ok = man_i64(v, x, "probes", where, &m->probes[s]) &&
             man_i64(v, x, "records", where, &m->records[s]) &&
             man_i64(v, x, "measurements", where, &m->meas[s]) &&
             man_i64(v, x, "bytes", where, &m->bytes[s]) &&
             man_i64(v, x, "files", where, &m->files[s]);
    }
    const prw__json_node *in = prw__json_get(j, root, "inputs");
    if (ok && (!in || in->type != PRW_JSON_ARRAY)) {
        add_failure(v, ORD_MANIFEST, "manifest.json", -1, "manifest", "inputs is not an array");
        ok = false;
    }
    if (ok) {
        m->n_inputs = in->count;
        m->input_rows = prw__calloc(in->count ? in->count : 1, sizeof *m->input_rows);
        if (!m->input_rows)
            return false;
        size_t i = 0;
        for (const prw__json_node *e = prw__json_at(j, in, 0); e && ok; e = prw__json_next(j, e))
            ok = man_i64(v, e, "rows", "inputs[].", &m->input_rows[i++]);
    }
    return ok;
}

/* Reads DIR/manifest.json; failures are reported, and defaults stand in for what is unusable
 * (8 MiB rows, ratio 0.9, one shard), so the records are still checked. */
static prw_status read_manifest(vctx *v, prw_error *err) {
    vman *m = &v->man;
    m->max_row = 8u << 20;
    m->ratio = 0.9;
    m->num = 9;
    m->den = 10;
    m->shards = 1;
    static const char *const logical[PRW_COL_COUNT] = {"event_time", "src_addr", "dst_addr",
                                                       "ip_version", "rtt"};
    memcpy(m->columns, logical, sizeof m->columns);
    char path[PRW_PATH_BUF];
    snprintf(path, sizeof path, "%s/manifest.json", v->o->dir);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        add_failure(v, ORD_MANIFEST, "manifest.json", -1, "manifest", "cannot be read: %s",
                    strerror(errno));
        return PRW_OK;
    }
    if ((uint64_t)sb.st_size > PRW_JSON_MAX_TEXT) {
        add_failure(v, ORD_MANIFEST, "manifest.json", -1, "manifest",
                    "%lld bytes: too large for a manifest", (long long)sb.st_size);
        return PRW_OK;
    }
    uint8_t *text = NULL;
    size_t len = 0;
    prw_error e;
    prw_error_clear(&e);
    prw_status st = prw__read_file(path, &text, &len, &e);
    if (st == PRW_E_NOMEM)
        return prw__error_nomem(err, "manifest.json", (size_t)sb.st_size);
    if (st < 0) {
        add_failure(v, ORD_MANIFEST, "manifest.json", -1, "manifest", "cannot be read: %s", e.msg);
        return PRW_OK;
    }
    st = prw__json_parse((const char *)text, len, &m->json, &e);
    prw__free(text);
    if (st == PRW_E_NOMEM)
        return prw__error_nomem(err, "manifest.json", len);
    if (st < 0) {
        add_failure(v, ORD_MANIFEST, "manifest.json", e.offset, "manifest", "not valid JSON: %s",
                    e.msg);
        return PRW_OK;
    }
    const prw__json_node *root = prw__json_root(&m->json);
    const prw__json_node *tool = prw__json_get(&m->json, root, "tool");
    if (!tool || tool->type != PRW_JSON_STRING || strcmp(tool->str, "proberows") != 0) {
        add_failure(v, ORD_MANIFEST, "manifest.json", -1, "manifest",
                    "\"tool\" is not \"proberows\"");
        return PRW_OK;
    }
    bool ok = parse_options(v, prw__json_get(&m->json, root, "options"));
    ok = parse_counts(v, root) && ok;
    if (!m->input_rows && m->n_inputs)
        return prw__error_nomem(err, "manifest inputs", m->n_inputs * 8);
    m->ok = ok;
    return PRW_OK;
}

/* ---- one record ----------------------------------------------------------------------------- */

typedef struct vread {
    vctx *v;
    size_t fi;
    vfile *f;
} vread;

#define RFAIL(check, ...) add_failure(v, ORD_FILE(fi), f->name, (int64_t)index, check, __VA_ARGS__)

/* Outer record: one row of the outer schema, no NULL, exact layout. */
static bool check_outer(vctx *v, size_t fi, vfile *f, uint64_t index, const uint8_t *data,
                        size_t len, prw_ipc_decoder **dec, prw_ipc_batch *ob) {
    prw_error e;
    prw_error_clear(&e);
    if (prw_ipc_decoder_create(data, len, dec, &e) < 0) {
        RFAIL("schema", "the record is not an Arrow IPC stream: %s", e.msg);
        return false;
    }
    if (!prw_ipc_schema_equal(prw_ipc_decoder_schema(*dec), prw_ipc_outer_schema())) {
        RFAIL("schema", "the outer schema is not src_id int64, measurements binary, "
                        "n_measurements int32, time_span_seconds float64, first_timestamp "
                        "timestamp[us], last_timestamp timestamp[us]");
        return false;
    }
    prw_status st = prw_ipc_decoder_next(*dec, ob, &e);
    if (st != PRW_OK || ob->length != 1) {
        RFAIL("schema", "the outer stream does not hold one batch of one row%s%s",
              st < 0 ? ": " : "", st < 0 ? e.msg : "");
        return false;
    }
    for (size_t c = 0; c < ob->n_columns; c++)
        if (ob->columns[c].null_count != 0) {
            RFAIL("nulls", "outer field %s is NULL", prw_ipc_outer_schema()->fields[c].name);
            return false;
        }
    prw_bytes m = prw_ipc_array_bytes(&ob->columns[1], 0);
    if (prw_ipc_outer_size(m.len) != len) {
        RFAIL("schema",
              "record of %zu bytes, the layout of an outer row with %zu bytes of "
              "measurements has %llu",
              len, m.len, (unsigned long long)prw_ipc_outer_size(m.len));
        return false;
    }
    prw_ipc_batch extra;
    if (prw_ipc_decoder_next(*dec, &extra, &e) != PRW_DONE) {
        RFAIL("schema", "the outer stream holds more than one batch");
        return false;
    }
    return true;
}

static inline int64_t ld_i64(const uint8_t *p, int64_t i) {
    return (int64_t)prw__load_le64(p + 8 * i);
}
static inline int32_t ld_i32(const uint8_t *p, int64_t i) {
    return (int32_t)prw__load_le32(p + 4 * i);
}

/* Inner stream: schema, one src_addr, times in order, NULL policy, digest and size counts. */
static bool check_inner(vctx *v, size_t fi, vfile *f, uint64_t index, const prw_ipc_batch *ob,
                        vrec *rec) {
    const vman *m = &v->man;
    prw_bytes mb = prw_ipc_array_bytes(&ob->columns[1], 0);
    prw_ipc_decoder *dec = NULL;
    prw_error e;
    prw_error_clear(&e);
    bool ok = false;
    prw_ipc_batch ib, extra;
    if (prw_ipc_decoder_create(mb.ptr, mb.len, &dec, &e) < 0) {
        RFAIL("schema", "measurements is not an Arrow IPC stream: %s", e.msg);
        goto out;
    }
    if (!prw_ipc_schema_equal(prw_ipc_decoder_schema(dec), prw_ipc_inner_schema())) {
        RFAIL("schema", "the inner schema is not event_time timestamp[us], src_addr utf8, "
                        "dst_addr utf8, ip_version int8, rtt float32");
        goto out;
    }
    if (prw_ipc_decoder_next(dec, &ib, &e) != PRW_OK) {
        RFAIL("schema", "measurements holds no record batch%s%s", e.msg[0] ? ": " : "", e.msg);
        goto out;
    }
    const prw_ipc_array *c = ib.columns;
    int64_t n = ib.length;
    int32_t nm = (int32_t)prw_ipc_array_int(&ob->columns[2], 0);
    if (n != nm || n < 1) {
        RFAIL("n_measurements", "n_measurements is %d, the measurements hold %lld rows", (int)nm,
              (long long)n);
        goto out;
    }
    if (c[0].null_count || c[1].null_count) {
        RFAIL("nulls", "%s is NULL in %lld rows", c[0].null_count ? "event_time" : "src_addr",
              (long long)(c[0].null_count ? c[0].null_count : c[1].null_count));
        goto out;
    }
    if (m->null_rtt != PRW_NULL_RTT_KEEP && c[4].null_count) {
        RFAIL("nulls", "rtt is NULL in %lld rows, which --null-rtt %s does not allow",
              (long long)c[4].null_count, m->null_rtt == PRW_NULL_RTT_DROP ? "drop" : "failed");
        goto out;
    }
    /* One src_addr: every row equal to row 0. */
    prw_bytes src = prw_ipc_array_bytes(&c[1], 0);
    for (int64_t r = 1; r < n; r++) {
        prw_bytes s = prw_ipc_array_bytes(&c[1], r);
        if (s.len != src.len || memcmp(s.ptr, src.ptr, s.len) != 0) {
            RFAIL("src_addr", "row %lld has src_addr '%.*s', row 0 '%.*s'", (long long)r,
                  (int)(s.len > 64 ? 64 : s.len), (const char *)s.ptr,
                  (int)(src.len > 64 ? 64 : src.len), (const char *)src.ptr);
            goto out;
        }
    }
    int64_t src_id = prw_ipc_array_int(&ob->columns[0], 0);
    int64_t want_id = prw__pl_src_id(src.ptr, src.len);
    if (src_id != want_id) {
        RFAIL("src_id", "src_id %lld, the top 60 bits of md5('%.*s') are %lld", (long long)src_id,
              (int)(src.len > 64 ? 64 : src.len), (const char *)src.ptr, (long long)want_id);
        goto out;
    }
    /* Times, digest and null counts in one pass over raw little-endian values. */
    const uint8_t *tv = c[0].values, *dv = c[2].values, *doff = c[2].offsets;
    const uint8_t *iv = c[3].values, *rv = c[4].values;
    vdig dg;
    dig_init(&dg);
    int64_t prev = INT64_MIN, failed = 0;
    for (int64_t r = 0; r < n; r++) {
        int64_t t = ld_i64(tv, r);
        if (t < prev) {
            RFAIL("order", "event_time decreases at row %lld (%lld after %lld)", (long long)r,
                  (long long)t, (long long)prev);
            goto out;
        }
        prev = t;
        unsigned nulls = 0;
        uint64_t dh = NULL_DST_HASH;
        if (prw_ipc_array_is_null(&c[2], r)) {
            nulls |= NULL_DST;
        } else {
            int32_t a = ld_i32(doff, r), b = ld_i32(doff, r + 1);
            dh = prw__pl_hash(dv + a, (size_t)(b - a));
        }
        int8_t ipv = 0;
        if (prw_ipc_array_is_null(&c[3], r))
            nulls |= NULL_IPV;
        else
            ipv = (int8_t)iv[r];
        uint32_t rb = 0;
        if (prw_ipc_array_is_null(&c[4], r))
            nulls |= NULL_RTT;
        else
            rb = prw__load_le32(rv + 4 * r);
        failed += rb == 0xBF800000u; /* -1.0f */
        dig_add(&dg, row_hash(t, dh, ipv, rb, nulls));
    }
    int64_t first = ld_i64(tv, 0), last = ld_i64(tv, n - 1);
    int64_t of = prw_ipc_array_int(&ob->columns[4], 0), ol = prw_ipc_array_int(&ob->columns[5], 0);
    if (of != first || ol != last) {
        RFAIL("first_last", "first/last_timestamp %lld/%lld, the measurements run %lld..%lld",
              (long long)of, (long long)ol, (long long)first, (long long)last);
        goto out;
    }
    double span = prw_ipc_array_float(&ob->columns[3], 0);
    double want = (double)(last - first) / 1e6;
    if (!(fabs(span - want) <= 0.01) || span != want) {
        RFAIL("span", "time_span_seconds %.17g, (last - first) / 1e6 is %.17g", span, want);
        goto out;
    }
    /* Exact size of the inner stream and the row limit. */
    prw_ipc_inner_counts k = {0};
    k.rows = n;
    k.src_bytes = (int64_t)src.len * n;
    k.dst_bytes = c[2].data_len;
    k.null_dst = c[2].null_count;
    k.null_ip_version = c[3].null_count;
    k.null_rtt = c[4].null_count;
    uint64_t size = prw_ipc_stream_size(&k);
    if (size != mb.len) {
        RFAIL("schema", "measurements is %zu bytes, the layout of these rows has %llu", mb.len,
              (unsigned long long)size);
        goto out;
    }
    if (size > m->max_row && n > 1) {
        RFAIL("row_size", "measurements of %llu bytes exceed max_row_size %llu with %lld rows",
              (unsigned long long)size, (unsigned long long)m->max_row, (long long)n);
        goto out;
    }
    if (prw_ipc_decoder_next(dec, &extra, &e) != PRW_DONE) {
        RFAIL("schema", "measurements holds more than one batch");
        goto out;
    }
    rec->src = prw__malloc(src.len ? src.len : 1);
    if (!rec->src) {
        RFAIL("arrayrecord", "out of memory keeping src_addr");
        goto out;
    }
    memcpy(rec->src, src.ptr, src.len);
    rec->src_len = (uint32_t)src.len;
    rec->n = nm;
    rec->src_id = src_id;
    rec->first_t = first;
    rec->last_t = last;
    rec->counts = k;
    rec->first_nulls = (uint8_t)((prw_ipc_array_is_null(&c[2], 0) ? NULL_DST : 0) |
                                 (prw_ipc_array_is_null(&c[3], 0) ? NULL_IPV : 0) |
                                 (prw_ipc_array_is_null(&c[4], 0) ? NULL_RTT : 0));
    rec->first_dst_len =
        (rec->first_nulls & NULL_DST) ? 0 : (uint32_t)(ld_i32(doff, 1) - ld_i32(doff, 0));
    rec->digest[0] = dg.d[0];
    rec->digest[1] = dg.d[1];
    rec->null_rtt = c[4].null_count;
    rec->failed_rtt = failed;
    rec->checked = true;
    ok = true;
out:
    prw_ipc_decoder_destroy(dec);
    return ok;
}

static prw_status on_record(void *ctx, uint64_t index, const uint8_t *data, size_t len) {
    vread *rd = ctx;
    vctx *v = rd->v;
    size_t fi = rd->fi;
    vfile *f = rd->f;
    prw_ipc_decoder *dec = NULL;
    prw_ipc_batch ob;
    if (check_outer(v, fi, f, index, data, len, &dec, &ob))
        check_inner(v, fi, f, index, &ob, &f->recs[index]);
    prw_ipc_decoder_destroy(dec);
    return PRW_OK;
}

/* ---- files ----------------------------------------------------------------------------------- */

static prw_status setup_files(vctx *v, prw_error *err) {
    int shards = v->man.shards;
    v->nfiles = 2 * (size_t)shards;
    v->files = prw__calloc(v->nfiles, sizeof *v->files);
    if (!v->files)
        return prw__error_nomem(err, "file list", v->nfiles * sizeof *v->files);
    static const char *const names[2] = {"train", "test"};
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < shards; k++) {
            vfile *f = &v->files[(size_t)s * (size_t)shards + (size_t)k];
            f->split = s;
            if (shards == 1)
                snprintf(f->name, sizeof f->name, "%s.arrayrecord", names[s]);
            else
                snprintf(f->name, sizeof f->name, "%s.arrayrecord-%05d-of-%05d", names[s], k,
                         shards);
        }
    return PRW_OK;
}

/* Walks every chunk of the file from byte 0 to the end: every block header (hash and
 * distances), chunk header hash and data hash, and the chunk types. The data is not
 * decompressed here: the record pass decodes every data chunk (checking its hashes again). */
static prw_status walk_file(const char *path, prw_error *err) {
    prw__rfile rf;
    PRW_TRY(prw__rfile_open(&rf, path, true, err));
    prw_status st = PRW_OK;
    if (rf.size < AR_BLOCK || rf.size % AR_BLOCK != 0 || !rf.map)
        st = prw__error_set(err, PRW_E_TRUNCATED, rf.size,
                            "file size %lld is not a positive multiple of 65536: truncated or "
                            "not an ArrayRecord file",
                            (long long)rf.size);
    prw__ar_image img = {rf.map, (size_t)rf.size};
    prw__ar_chunkbuf cb;
    prw__ar_chunkbuf_init(&cb);
    uint64_t pos = 0;
    while (st == PRW_OK && pos < (uint64_t)rf.size) {
        prw__ar_chunk_hdr h;
        const uint8_t *data;
        uint64_t end;
        st = prw__ar_read_chunk(&img, pos, &cb, &h, &data, &end, err);
        if (st < 0)
            break;
        bool sig = h.type == AR_CHUNK_SIGNATURE;
        if (sig != (pos == 0))
            st = prw__error_set(err, PRW_E_CORRUPT, (int64_t)pos,
                                pos ? "a file signature chunk at byte %llu"
                                    : "the first chunk is not a file signature (byte %llu)",
                                (unsigned long long)pos);
        else if (h.type != AR_CHUNK_SIMPLE && h.type != AR_CHUNK_PADDING && !sig &&
                 h.type != AR_CHUNK_METADATA)
            st = prw__error_set(err, PRW_E_CORRUPT, (int64_t)pos,
                                "chunk at byte %llu has type 0x%02x", (unsigned long long)pos,
                                h.type);
        pos = end;
    }
    prw__ar_chunkbuf_cleanup(&cb);
    prw__rfile_close(&rf);
    return st;
}

/* Record indexes a sample reads: pairs (i, i+1) spread evenly, so the checks between
 * consecutive records still run on them. */
static prw_status read_file(vctx *v, size_t fi, uint64_t sample_here, prw_error *err) {
    vfile *f = &v->files[fi];
    char path[PRW_PATH_BUF];
    snprintf(path, sizeof path, "%s/%s", v->o->dir, f->name);
    prw_error e;
    prw_error_clear(&e);
    prw_ar_reader *r = NULL;
    if (!v->o->sample) {
        prw_status st = walk_file(path, &e);
        if (st == PRW_E_NOMEM)
            return prw__error_nomem(err, f->name, 0);
        if (st < 0) {
            f->bad = true;
            add_failure(v, ORD_FILE(fi), f->name, -1, "arrayrecord", "%s (at byte %lld)", e.msg,
                        (long long)e.offset);
            return PRW_OK;
        }
    }
    prw_status st = prw_ar_reader_open(&r, path, &e);
    if (st == PRW_E_NOMEM)
        return prw__error_nomem(err, f->name, 0);
    if (st < 0) {
        f->bad = true;
        add_failure(v, ORD_FILE(fi), f->name, -1, "arrayrecord", "%s (at byte %lld)", e.msg,
                    (long long)e.offset);
        return PRW_OK;
    }
    /* The summaries take ~100 bytes per record, so the count read from the footer is bounded
     * before it sizes an allocation: a probe row is at least 992 bytes, and no real file
     * compresses its records below one byte each. */
    if (prw_ar_reader_num_records(r) > prw_ar_reader_file_size(r)) {
        f->bad = true;
        add_failure(v, ORD_FILE(fi), f->name, -1, "arrayrecord",
                    "the footer claims %llu records in a file of %llu bytes",
                    (unsigned long long)prw_ar_reader_num_records(r),
                    (unsigned long long)prw_ar_reader_file_size(r));
        prw_ar_reader_close(r);
        return PRW_OK;
    }
    f->opened = true;
    f->nrec = prw_ar_reader_num_records(r);
    f->bytes = prw_ar_reader_file_size(r);
    v->rep->files++;
    v->rep->records += (int64_t)f->nrec;
    f->recs = prw__calloc(f->nrec ? f->nrec : 1, sizeof *f->recs);
    if (!f->recs) {
        prw_ar_reader_close(r);
        return prw__error_nomem(err, "record summaries", f->nrec * sizeof *f->recs);
    }
    vread rd = {v, fi, f};
    if (!v->o->sample || f->nrec <= sample_here) {
        st = prw_ar_reader_read_range(r, 0, f->nrec, v->workers, on_record, &rd, &e);
        v->rep->records_checked += (int64_t)f->nrec;
    } else {
        uint64_t pairs = (sample_here + 1) / 2, stride = f->nrec / pairs; /* stride >= 2 */
        for (uint64_t p = 0; p < pairs && st == PRW_OK; p++) {
            st = prw_ar_reader_read_range(r, p * stride, p * stride + 2, 1, on_record, &rd, &e);
            v->rep->records_checked += 2;
        }
    }
    prw_ar_reader_close(r);
    if (st == PRW_E_NOMEM)
        return prw__error_nomem(err, f->name, 0);
    if (st < 0) {
        f->bad = true;
        add_failure(v, ORD_FILE(fi), f->name, -1, "arrayrecord", "%s (at byte %lld)", e.msg,
                    (long long)e.offset);
    }
    return PRW_OK;
}

/* ---- checks across records ------------------------------------------------------------------- */

static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c)
        return c;
    return al < bl ? -1 : al > bl;
}

/* One probe of the output, for the split and input checks. */
typedef struct vprobe {
    const char *src;
    uint32_t len;
    uint8_t split;
    int64_t count;
    uint64_t digest[2];
} vprobe;

typedef struct vprobes {
    vprobe *p;
    size_t n, cap;
} vprobes;

static bool probes_push(vprobes *ps, const vrec *r, int split) {
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? 2 * ps->cap : 1024;
        vprobe *np = prw__realloc(ps->p, cap * sizeof *np);
        if (!np)
            return false;
        ps->p = np;
        ps->cap = cap;
    }
    ps->p[ps->n++] = (vprobe){r->src, r->src_len, (uint8_t)split, 0, {0, 0}};
    return true;
}

/* Per-split totals gathered by the walk. */
typedef struct vtotals {
    int64_t probes[2], records[2], meas[2], cut, null_rtt, failed_rtt;
} vtotals;

/* Two consecutive pieces of one probe: times go on, and the first piece is greedily
 * maximal (adding the next row of the probe would exceed the limit). */
static void check_pieces(vctx *v, const vrec *prev, size_t prev_fi, uint64_t prev_i, const vrec *r,
                         size_t fi, uint64_t i) {
    const vman *m = &v->man;
    if (r->first_t < prev->last_t)
        add_failure(v, ORD_FILE(fi), v->files[fi].name, (int64_t)i, "order",
                    "first_timestamp %lld is before the last_timestamp %lld of the previous "
                    "piece of this probe",
                    (long long)r->first_t, (long long)prev->last_t);
    prw_ipc_inner_counts k = prev->counts;
    k.rows++;
    k.src_bytes += r->src_len;
    k.dst_bytes += r->first_dst_len;
    k.null_dst += (r->first_nulls & NULL_DST) != 0;
    k.null_ip_version += (r->first_nulls & NULL_IPV) != 0;
    k.null_rtt += (r->first_nulls & NULL_RTT) != 0;
    uint64_t grown = prw_ipc_stream_size(&k);
    if (grown <= m->max_row)
        add_failure(v, ORD_FILE(prev_fi), v->files[prev_fi].name, (int64_t)prev_i, "greedy",
                    "the piece is not maximal: with the next row of its probe it would be %llu "
                    "bytes, within max_row_size %llu",
                    (unsigned long long)grown, (unsigned long long)m->max_row);
}

/* Walks the records of both splits in order (shards concatenated): probe order, time order
 * and greedy cuts across pieces, the hash rule, and the probe list. */
static prw_status walk(vctx *v, vprobes *ps, vtotals *t, prw_error *err) {
    const vman *m = &v->man;
    for (int s = 0; s < 2; s++) {
        const vrec *prev = NULL;
        size_t prev_fi = 0;
        uint64_t prev_i = 0;
        int64_t pieces = 0;
        for (size_t fi = 0; fi < v->nfiles; fi++) {
            vfile *f = &v->files[fi];
            if (f->split != s || !f->opened)
                continue;
            for (uint64_t i = 0; i < f->nrec; i++) {
                const vrec *r = &f->recs[i];
                if (!r->checked)
                    continue;
                t->records[s]++;
                t->meas[s] += r->n;
                t->null_rtt += r->null_rtt;
                t->failed_rtt += r->failed_rtt;
                if (m->split == PRW_SPLIT_HASH && m->den > 0 &&
                    ((r->src_id % m->den) < m->num) != (s == 0))
                    add_failure(v, ORD_FILE(fi), f->name, (int64_t)i, "split",
                                "src_id %lld %% %lld = %lld puts this probe in %s, not %s",
                                (long long)r->src_id, (long long)m->den,
                                (long long)(r->src_id % m->den), s ? "train" : "test",
                                s ? "test" : "train");
                /* Consecutive in the file order? (A sample reads pairs.) */
                bool adjacent =
                    prev && ((prev_fi == fi && prev_i + 1 == i) ||
                             (prev_fi + 1 == fi && i == 0 && prev_i + 1 == v->files[prev_fi].nrec));
                int c = prev ? cmp_bytes(prev->src, prev->src_len, r->src, r->src_len) : -1;
                if (c > 0)
                    add_failure(v, ORD_FILE(fi), f->name, (int64_t)i, "order",
                                "src_addr '%.*s' comes after '%.*s': probes are not in byte "
                                "order (or a probe's pieces are not consecutive)",
                                (int)(r->src_len > 64 ? 64 : r->src_len), r->src,
                                (int)(prev->src_len > 64 ? 64 : prev->src_len), prev->src);
                if (c == 0) {
                    pieces++;
                    if (adjacent)
                        check_pieces(v, prev, prev_fi, prev_i, r, fi, i);
                } else {
                    if (pieces > 1)
                        t->cut++;
                    pieces = 1;
                    t->probes[s]++;
                    if (!probes_push(ps, r, s))
                        return prw__error_nomem(err, "the probe list", ps->cap * sizeof *ps->p);
                }
                vprobe *p = &ps->p[ps->n - 1];
                dig_concat(p->digest, p->count, r->digest);
                p->count += r->n;
                prev = r;
                prev_fi = fi;
                prev_i = i;
            }
        }
        if (pieces > 1)
            t->cut++;
    }
    return PRW_OK;
}

static int cmp_probe(const void *a, const void *b) {
    const vprobe *x = a, *y = b;
    int c = cmp_bytes(x->src, x->len, y->src, y->len);
    return c ? c : (x->split > y->split) - (x->split < y->split);
}

#define TFAIL(check, ...) add_failure(v, ORD_TOTALS(v), "", -1, check, __VA_ARGS__)

/* Split rule and totals against the manifest. ps is sorted by src_addr on return. */
static void check_totals(vctx *v, vprobes *ps, const vtotals *t) {
    const vman *m = &v->man;
    static const char *const names[2] = {"train", "test"};
    /* No probe in both splits. */
    if (ps->n > 1)
        qsort(ps->p, ps->n, sizeof *ps->p, cmp_probe);
    for (size_t i = 1; i < ps->n; i++)
        if (ps->p[i - 1].split != ps->p[i].split &&
            cmp_bytes(ps->p[i - 1].src, ps->p[i - 1].len, ps->p[i].src, ps->p[i].len) == 0)
            TFAIL("split", "probe '%.*s' is in both train and test",
                  (int)(ps->p[i].len > 64 ? 64 : ps->p[i].len), ps->p[i].src);
    /* Counts of a file that could not be read whole would only repeat its failure. */
    bool bad = false;
    for (size_t fi = 0; fi < v->nfiles; fi++)
        bad |= v->files[fi].bad;
    if (v->o->sample || !m->ok || bad)
        return;
    int64_t n_probes = t->probes[0] + t->probes[1];
    if (m->split == PRW_SPLIT_RATIO) {
        int64_t want = prw__pl_ratio_train_count(n_probes, m->ratio);
        if (t->probes[0] != want)
            TFAIL("split", "train has %lld probes, the ratio rule floor(%lld * %.17g) gives %lld",
                  (long long)t->probes[0], (long long)n_probes, m->ratio, (long long)want);
        /* Byte order: every train probe before every test probe. */
        for (size_t i = 1; i < ps->n; i++)
            if (ps->p[i - 1].split == 1 && ps->p[i].split == 0) {
                TFAIL("split", "test probe '%.*s' sorts before train probe '%.*s'",
                      (int)(ps->p[i - 1].len > 64 ? 64 : ps->p[i - 1].len), ps->p[i - 1].src,
                      (int)(ps->p[i].len > 64 ? 64 : ps->p[i].len), ps->p[i].src);
                break;
            }
    }
    for (int s = 0; s < 2; s++) {
        const vfile *f0 = &v->files[(size_t)s * (size_t)m->shards];
        int64_t bytes = 0;
        for (int k = 0; k < m->shards; k++)
            bytes += (int64_t)f0[k].bytes;
        if (t->probes[s] != m->probes[s] || t->records[s] != m->records[s] ||
            t->meas[s] != m->meas[s])
            TFAIL("totals",
                  "%s holds %lld probes, %lld records, %lld measurements; the manifest says "
                  "%lld, %lld, %lld",
                  names[s], (long long)t->probes[s], (long long)t->records[s],
                  (long long)t->meas[s], (long long)m->probes[s], (long long)m->records[s],
                  (long long)m->meas[s]);
        if (m->files[s] != m->shards)
            TFAIL("totals", "%s: the manifest lists %lld files, options.shards is %d", names[s],
                  (long long)m->files[s], m->shards);
        if (bytes != m->bytes[s])
            TFAIL("totals", "%s files hold %lld bytes, the manifest says %lld", names[s],
                  (long long)bytes, (long long)m->bytes[s]);
    }
    int64_t written = t->meas[0] + t->meas[1];
    int64_t dropped = m->dropped[0] + m->dropped[1] + m->dropped[2];
    if (m->rows_written != written)
        TFAIL("totals", "the output holds %lld measurements, manifest rows_written is %lld",
              (long long)written, (long long)m->rows_written);
    if (m->rows_read != m->rows_written + dropped)
        TFAIL("totals",
              "manifest rows_read %lld != rows_written %lld + dropped %lld (NULL src_addr "
              "%lld, NULL event_time %lld, NULL rtt %lld)",
              (long long)m->rows_read, (long long)m->rows_written, (long long)dropped,
              (long long)m->dropped[0], (long long)m->dropped[1], (long long)m->dropped[2]);
    int64_t in_rows = 0;
    for (size_t i = 0; i < m->n_inputs; i++)
        in_rows += m->input_rows[i];
    if (in_rows != m->rows_read)
        TFAIL("totals", "the manifest's input files hold %lld rows, rows_read is %lld",
              (long long)in_rows, (long long)m->rows_read);
    if (t->cut != m->probes_cut)
        TFAIL("totals", "%lld probes are cut into pieces, the manifest says %lld",
              (long long)t->cut, (long long)m->probes_cut);
    if (m->null_rtt == PRW_NULL_RTT_KEEP && t->null_rtt != m->null_kept)
        TFAIL("nulls", "the output holds %lld NULL rtt, the manifest says %lld were kept",
              (long long)t->null_rtt, (long long)m->null_kept);
    if (m->null_rtt == PRW_NULL_RTT_FAILED && t->failed_rtt < m->null_failed)
        TFAIL("nulls", "the output holds %lld rtt of -1.0, the manifest stored %lld NULL rtt so",
              (long long)t->failed_rtt, (long long)m->null_failed);
}

/* ---- the input, read again ------------------------------------------------------------------ */

/* One kept input row, reduced to what the digest needs. seq = row group << 32 | row index
 * among its kept rows: increasing in input order. */
typedef struct vin_row {
    int64_t t;
    uint64_t seq;
    uint64_t h;
} vin_row;

typedef struct vin_rg {
    vin_row *rows;
    uint32_t *keys; /* src intern id per row */
    size_t n;
} vin_rg;

typedef struct vin {
    vctx *v;
    prw__pl_source *src;
    prw__intern src_tab, dst_tab;
    prw__pl_decoder **decs;
    size_t ndecs, *free_decs, nfree;
    vin_rg *rgs;
    size_t nrgs;
    pthread_mutex_t mu;
    prw__pl_decoded counts; /* what decoding dropped or changed, over all row groups */
    int64_t rows_kept;
    /* after grouping: rows by probe (intern id), starts[id] .. starts[id + 1] */
    vin_row *all;
    size_t *starts;
    uint64_t (*digest)[2];
    size_t nkeys;
} vin;

typedef struct vin_task {
    vin *in;
    size_t index;
    size_t end; /* group tasks: keys [index, end) */
} vin_task;

/* Decodes row group rg with the pipeline's decoder and hashes each kept row. The dst_addr
 * table may grow under other workers, so its hashes are read under its lock (held once per
 * row group). */
static prw_status input_rg(vin *in, prw__pl_decoder *dec, size_t rg, prw_error *err) {
    prw__pl_decoded d;
    PRW_TRY(prw__pl_decode_rg(dec, rg, &in->src_tab, &in->dst_tab, in->v->man.null_rtt, &d, err));
    vin_rg *g = &in->rgs[rg];
    g->rows = prw__malloc_array(d.n ? d.n : 1, sizeof *g->rows);
    g->keys = prw__malloc_array(d.n ? d.n : 1, sizeof *g->keys);
    if (!g->rows || !g->keys) {
        prw__free(d.rows);
        return prw__error_nomem(err, "input rows", d.n * sizeof *g->rows);
    }
    g->n = d.n;
    prw__mutex_lock(&in->dst_tab.mu);
    const uint64_t *dh = in->dst_tab.hashes;
    for (size_t i = 0; i < d.n; i++) {
        const prw__pl_row *r = &d.rows[i];
        unsigned nulls = (r->dst == PRW_PL_NULL_ID ? NULL_DST : 0) |
                         (r->flags & PRW_PL_IPV_NULL ? NULL_IPV : 0) |
                         (r->flags & PRW_PL_RTT_NULL ? NULL_RTT : 0);
        uint32_t rb = 0;
        if (!(nulls & NULL_RTT))
            memcpy(&rb, &r->rtt, 4);
        uint64_t dsth = r->dst == PRW_PL_NULL_ID ? NULL_DST_HASH : dh[r->dst];
        g->rows[i] = (vin_row){r->t, (uint64_t)rg << 32 | i,
                               row_hash(r->t, dsth, (nulls & NULL_IPV) ? 0 : r->ipv, rb, nulls)};
        g->keys[i] = r->key;
    }
    prw__mutex_unlock(&in->dst_tab.mu);
    prw__free(d.rows);
    prw__mutex_lock(&in->mu);
    prw__pl_decoded_add_counts(&in->counts, &d);
    in->rows_kept += (int64_t)d.n;
    prw__mutex_unlock(&in->mu);
    return PRW_OK;
}

static prw_status input_task(void *ctx, size_t rg, prw_error *err) {
    vin *in = ctx;
    prw__mutex_lock(&in->mu);
    size_t di = in->free_decs[--in->nfree];
    prw__mutex_unlock(&in->mu);
    prw_status st = input_rg(in, in->decs[di], rg, err);
    prw__mutex_lock(&in->mu);
    in->free_decs[in->nfree++] = di;
    prw__mutex_unlock(&in->mu);
    return st;
}

static int cmp_vin_row(const void *a, const void *b) {
    const vin_row *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Keys [index, end): sorts each probe's rows by (event_time, input position) -- the
 * contract's order, as a total order -- and digests them. Rows arrive in input order, so an
 * already time-ordered probe needs no sort. */
static void group_task(void *arg) {
    vin_task *t = arg;
    vin *in = t->in;
    for (size_t k = t->index; k < t->end; k++) {
        vin_row *r = in->all + in->starts[k];
        size_t n = in->starts[k + 1] - in->starts[k];
        size_t i = 1;
        while (i < n && r[i - 1].t <= r[i].t)
            i++;
        if (i < n)
            qsort(r, n, sizeof *r, cmp_vin_row);
        vdig g;
        dig_init(&g);
        for (i = 0; i < n; i++)
            dig_add(&g, r[i].h);
        in->digest[k][0] = g.d[0];
        in->digest[k][1] = g.d[1];
    }
}

/* Groups the hashed rows by probe (a counting scatter in input order) and digests each probe
 * on the pool. Frees the per-row-group arrays. */
static prw_status group_input(vin *in, prw__pool *pool, size_t nrg, prw_error *err) {
    size_t nk = in->src_tab.n, total = 0;
    in->nkeys = nk;
    in->starts = prw__calloc(nk + 2, sizeof *in->starts);
    in->digest = prw__calloc(nk ? nk : 1, sizeof *in->digest);
    for (size_t g = 0; g < nrg; g++)
        total += in->rgs[g].n;
    in->all = prw__malloc_array(total ? total : 1, sizeof *in->all);
    if (!in->starts || !in->digest || !in->all)
        return prw__error_nomem(err, "grouped input rows", total * sizeof *in->all);
    for (size_t g = 0; g < nrg; g++)
        for (size_t i = 0; i < in->rgs[g].n; i++)
            in->starts[in->rgs[g].keys[i] + 2]++;
    for (size_t k = 0; k < nk; k++)
        in->starts[k + 2] += in->starts[k + 1];
    /* starts[k + 1] is now the cursor of key k; after the scatter it is key k's end. */
    for (size_t g = 0; g < nrg; g++) {
        vin_rg *rg = &in->rgs[g];
        for (size_t i = 0; i < rg->n; i++)
            in->all[in->starts[rg->keys[i] + 1]++] = rg->rows[i];
        prw__free(rg->rows);
        prw__free(rg->keys);
        rg->rows = NULL;
        rg->keys = NULL;
    }
    size_t ntasks = (size_t)in->v->workers * 8;
    vin_task *tasks = prw__calloc(ntasks, sizeof *tasks);
    if (!tasks)
        return prw__error_nomem(err, "tasks", ntasks * sizeof *tasks);
    size_t k = 0, per = total / ntasks + 1, acc = 0, nt = 0;
    while (k < nk && nt < ntasks) {
        size_t begin = k;
        while (k < nk && (acc < per || nt + 1 == ntasks)) {
            acc += in->starts[k + 1] - in->starts[k];
            k++;
        }
        acc = 0;
        tasks[nt] = (vin_task){in, begin, k};
        prw__pool_submit(pool, group_task, &tasks[nt]);
        nt++;
    }
    prw__pool_wait(pool);
    prw__free(tasks);
    return PRW_OK;
}

typedef struct vkey {
    const uint8_t *p;
    size_t len;
    uint32_t id;
} vkey;

#define IFAIL(...) add_failure(v, ORD_INPUT(v), "input", -1, "input", __VA_ARGS__)

/* Per probe, the input's count and digest against the output's (ps sorted by src_addr). */
static prw_status compare_probes(vin *in, const vprobes *ps, prw_error *err) {
    vctx *v = in->v;
    size_t n = in->nkeys;
    vkey *keys = prw__malloc_array(n ? n : 1, sizeof *keys);
    if (!keys)
        return prw__error_nomem(err, "probe keys", n * sizeof *keys);
    uint32_t *order = prw__malloc_array(n ? n : 1, sizeof *order);
    prw_status st = order ? prw__intern_sort(&in->src_tab, order, err)
                          : prw__error_nomem(err, "probe keys", n * sizeof *order);
    if (st < 0) {
        prw__free(order);
        prw__free(keys);
        return st;
    }
    size_t nk = 0;
    for (size_t r = 0; r < n; r++) {
        uint32_t i = order[r];
        if (in->starts[i + 1] > in->starts[i])
            keys[nk++] =
                (vkey){prw__intern_ptr(&in->src_tab, i), prw__intern_len(&in->src_tab, i), i};
    }
    prw__free(order);
    v->rep->input_probes = (int64_t)nk;
    size_t a = 0, b = 0;
    while (a < nk || b < ps->n) {
        /* the output side, a probe found in both splits taken as one sequence */
        vprobe o = b < ps->n ? ps->p[b] : (vprobe){0};
        size_t b2 = b + 1;
        while (b < ps->n && b2 < ps->n &&
               cmp_bytes(o.src, o.len, ps->p[b2].src, ps->p[b2].len) == 0) {
            dig_concat(o.digest, o.count, ps->p[b2].digest);
            o.count += ps->p[b2].count;
            b2++;
        }
        int c = a >= nk      ? 1
                : b >= ps->n ? -1
                             : cmp_bytes((const char *)keys[a].p, keys[a].len, o.src, o.len);
        int64_t in_count =
            a < nk ? (int64_t)(in->starts[keys[a].id + 1] - in->starts[keys[a].id]) : 0;
        if (c < 0) {
            IFAIL("probe '%.*s' has %lld rows in the input and none in the output: rows lost",
                  (int)(keys[a].len > 64 ? 64 : keys[a].len), (const char *)keys[a].p,
                  (long long)in_count);
            a++;
        } else if (c > 0) {
            IFAIL("probe '%.*s' has %lld rows in the output and none in the input: rows invented",
                  (int)(o.len > 64 ? 64 : o.len), o.src, (long long)o.count);
            b = b2;
        } else {
            const uint64_t *d = in->digest[keys[a].id];
            if (in_count != o.count)
                IFAIL("probe '%.*s': %lld rows in the input, %lld in the output",
                      (int)(o.len > 64 ? 64 : o.len), o.src, (long long)in_count,
                      (long long)o.count);
            else if (d[0] != o.digest[0] || d[1] != o.digest[1])
                IFAIL("probe '%.*s': the digest of its %lld measurements differs between input "
                      "and output (a value changed, or rows are not in (event_time, input) "
                      "order)",
                      (int)(o.len > 64 ? 64 : o.len), o.src, (long long)o.count);
            a++;
            b = b2;
        }
    }
    prw__free(keys);
    return PRW_OK;
}

static prw_status run_input(vin *in, const vprobes *ps, const vtotals *t, prw_error *err) {
    vctx *v = in->v;
    const vman *m = &v->man;
    char **paths = NULL;
    size_t npaths = 0;
    PRW_TRY(prw__pl_glob(v->o->inputs, v->o->n_inputs, &paths, &npaths, err));
    prw_build_options bo;
    prw_build_options_init(&bo);
    memcpy(bo.columns, m->columns, sizeof bo.columns);
    bo.null_rtt = m->null_rtt;
    prw_status st = prw__pl_source_open(&in->src, paths, npaths, &bo, false, err);
    prw__pl_free_paths(paths, npaths);
    PRW_TRY(st);
    size_t nf = prw__pl_source_files(in->src), nrg = prw__pl_source_row_groups(in->src);
    int64_t rows = 0;
    for (size_t f = 0; f < nf; f++) {
        int64_t fr = prw__pl_source_file_rows(in->src, f);
        rows += fr;
        if (m->ok && f < m->n_inputs && fr != m->input_rows[f])
            IFAIL("input file %s has %lld rows, the manifest's input %zu had %lld",
                  prw__pl_source_path(in->src, f), (long long)fr, f + 1,
                  (long long)m->input_rows[f]);
    }
    if (m->ok && nf != m->n_inputs)
        IFAIL("%zu input files match, the manifest lists %zu", nf, m->n_inputs);
    v->rep->input_rows = rows;
    PRW_TRY(prw__intern_init(&in->src_tab, err));
    PRW_TRY(prw__intern_init(&in->dst_tab, err));
    in->ndecs = (size_t)v->workers;
    in->decs = prw__calloc(in->ndecs, sizeof *in->decs);
    in->free_decs = prw__calloc(in->ndecs, sizeof *in->free_decs);
    in->rgs = prw__calloc(nrg ? nrg : 1, sizeof *in->rgs);
    if (!in->decs || !in->free_decs || !in->rgs)
        return prw__error_nomem(err, "input workers",
                                in->ndecs * (sizeof *in->decs + sizeof *in->free_decs) +
                                    (nrg ? nrg : 1) * sizeof *in->rgs);
    in->nrgs = nrg;
    for (size_t i = 0; i < in->ndecs; i++) {
        PRW_TRY(prw__pl_decoder_create(in->src, &in->decs[i], err));
        in->free_decs[in->nfree++] = i;
    }
    prw__pool *pool = NULL;
    st = prw__pool_create(&pool, v->workers, (size_t)v->workers * 2 + 2, err);
    if (st == PRW_OK)
        st = prw__pool_run_all(pool, nrg, input_task, in, NULL, NULL, err);
    if (st == PRW_OK)
        st = group_input(in, pool, nrg, err);
    prw__pool_destroy(pool);
    PRW_TRY(st);
    v->rep->input_checked = true;
    int64_t written = t->meas[0] + t->meas[1];
    const int64_t in_dropped[3] = {in->counts.dropped_null_src, in->counts.dropped_null_time,
                                   in->counts.dropped_null_rtt};
    int64_t dropped = in_dropped[0] + in_dropped[1] + in_dropped[2];
    if (rows != in->rows_kept + dropped)
        IFAIL("%lld rows read, %lld kept + %lld dropped", (long long)rows, (long long)in->rows_kept,
              (long long)dropped);
    if (in->rows_kept != written)
        IFAIL("the input keeps %lld rows (read %lld, dropped %lld), the output holds %lld",
              (long long)in->rows_kept, (long long)rows, (long long)dropped, (long long)written);
    if (m->ok) {
        if (rows != m->rows_read)
            IFAIL("the input has %lld rows, the manifest's rows_read is %lld", (long long)rows,
                  (long long)m->rows_read);
        static const char *const why[3] = {"NULL src_addr", "NULL event_time", "NULL rtt"};
        for (int k = 0; k < 3; k++)
            if (in_dropped[k] != m->dropped[k])
                IFAIL("the input has %lld rows dropped for %s, the manifest says %lld",
                      (long long)in_dropped[k], why[k], (long long)m->dropped[k]);
    }
    return compare_probes(in, ps, err);
}

static void input_cleanup(vin *in) {
    for (size_t i = 0; i < in->ndecs; i++)
        prw__pl_decoder_destroy(in->decs[i]);
    for (size_t g = 0; g < in->nrgs; g++) {
        prw__free(in->rgs[g].rows);
        prw__free(in->rgs[g].keys);
    }
    prw__free(in->rgs);
    prw__free(in->decs);
    prw__free(in->free_decs);
    prw__free(in->all);
    prw__free(in->starts);
    prw__free(in->digest);
    prw__pl_source_close(in->src);
    prw__intern_cleanup(&in->src_tab);
    prw__intern_cleanup(&in->dst_tab);
    prw__mutex_destroy(&in->mu);
}

/* ---- the whole verification ----------------------------------------------------------------- */

static void ctx_cleanup(vctx *v) {
    for (size_t fi = 0; fi < v->nfiles; fi++) {
        vfile *f = &v->files[fi];
        if (f->recs)
            for (uint64_t i = 0; i < f->nrec; i++)
                prw__free(f->recs[i].src);
        prw__free(f->recs);
    }
    prw__free(v->files);
    prw__free(v->key_ord);
    prw__free(v->man.input_rows);
    prw__json_cleanup(&v->man.json);
    prw__mutex_destroy(&v->mu);
}

static prw_status verify_run(vctx *v, prw_error *err) {
    const prw_verify_options *o = v->o;
    PRW_TRY(read_manifest(v, err));
    PRW_TRY(setup_files(v, err));
    uint64_t per_file = o->sample ? (o->sample + v->nfiles - 1) / v->nfiles : 0;
    if (per_file == 1)
        per_file = 2;
    for (size_t fi = 0; fi < v->nfiles; fi++)
        PRW_TRY(read_file(v, fi, per_file, err));
    vprobes ps = {0};
    vtotals t;
    memset(&t, 0, sizeof t);
    prw_status st = walk(v, &ps, &t, err);
    if (st == PRW_OK) {
        check_totals(v, &ps, &t);
        for (int s = 0; s < 2; s++) {
            v->rep->probes[s] = t.probes[s];
            v->rep->records_split[s] = t.records[s];
            v->rep->measurements[s] = t.meas[s];
        }
    }
    if (st == PRW_OK && o->n_inputs) {
        vin in;
        memset(&in, 0, sizeof in);
        in.v = v;
        prw__mutex_init(&in.mu);
        st = run_input(&in, &ps, &t, err);
        input_cleanup(&in);
    }
    prw__free(ps.p);
    return st;
}

prw_status prw_verify(const prw_verify_options *opts, prw_verify_report *report, prw_error *err) {
    memset(report, 0, sizeof *report);
    PRW_CHECK(opts && opts->dir && opts->dir[0], err, PRW_E_INVALID, -1, "no output directory");
    PRW_CHECK(strlen(opts->dir) < PRW_PATH_BUF - 256, err, PRW_E_INVALID, -1,
              "output directory path too long");
    PRW_CHECK(!(opts->sample && opts->n_inputs), err, PRW_E_INVALID, -1,
              "--sample cannot be combined with --input (the input check needs every record)");
    PRW_CHECK(opts->n_inputs == 0 || opts->inputs, err, PRW_E_INVALID, -1, "no input globs");
    PRW_CHECK(opts->workers >= 0 && opts->workers <= 1024, err, PRW_E_INVALID, -1,
              "--workers must be between 1 and 1024");
    double t0 = prw__now();
    vctx v;
    memset(&v, 0, sizeof v);
    v.o = opts;
    v.rep = report;
    v.keep = opts->max_failures ? opts->max_failures : DEFAULT_KEEP;
    if (v.keep > 100000)
        v.keep = 100000;
    v.workers = opts->workers > 0 ? opts->workers : prw__online_cpus();
    prw__mutex_init(&v.mu);
    report->sampled = opts->sample != 0;
    report->failures = prw__calloc(v.keep, sizeof *report->failures);
    v.key_ord = prw__calloc(v.keep, sizeof *v.key_ord);
    prw_status st;
    if (!report->failures || !v.key_ord)
        st = prw__error_nomem(err, "the report", v.keep * sizeof *report->failures);
    else
        st = verify_run(&v, err);
    ctx_cleanup(&v);
    report->seconds = prw__now() - t0;
    return st;
}

int prw__pl_verify_one_record(const uint8_t *data, size_t len) {
    prw_verify_options o;
    prw_verify_options_init(&o);
    o.dir = "fuzz";
    prw_verify_report rep;
    memset(&rep, 0, sizeof rep);
    vctx v;
    memset(&v, 0, sizeof v);
    v.o = &o;
    v.rep = &rep;
    v.keep = 1;
    v.man.max_row = 8u << 20;
    v.man.null_rtt = PRW_NULL_RTT_KEEP;
    prw__mutex_init(&v.mu);
    vfile f;
    memset(&f, 0, sizeof f);
    snprintf(f.name, sizeof f.name, "fuzz");
    f.nrec = 1;
    vrec rec;
    memset(&rec, 0, sizeof rec);
    f.recs = &rec;
    v.files = &f;
    v.nfiles = 1;
    rep.failures = prw__calloc(1, sizeof *rep.failures);
    v.key_ord = prw__calloc(1, sizeof *v.key_ord);
    int result = -1;
    if (rep.failures && v.key_ord) {
        vread rd = {&v, 0, &f};
        on_record(&rd, 0, data, len);
        result = (int)rep.n_failures;
    }
    prw__free(rec.src);
    prw__free(rep.failures);
    prw__free(v.key_ord);
    prw__mutex_destroy(&v.mu);
    return result;
}
