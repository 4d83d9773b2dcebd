/*
 * End-to-end tests of the pipeline (prw_build): output decoded with our ArrayRecord reader and
 * Arrow IPC decoder and compared with DuckDB's grouping of the writer matrix
 * (../shared/testdata/parquet/writers/expected_grouped.tsv), byte-identity across workers,
 * shards and file cuts, split rules, cutting, edge cases and bad input.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "harness.h"
#include "proberows/arrayrecord.h"
#include "proberows/arrow_ipc.h"
#include "proberows/pipeline.h"

/* ---- decoding an output directory into text ----------------------------------------------- */

typedef struct dump {
    prw__buf grouped; /* expected_grouped.tsv format */
    prw__buf lines;   /* expected_measurements.txt format */
    int64_t records[2], probes[2], measurements[2];
    uint64_t max_inner; /* largest inner stream */
    bool order_ok;      /* times non-decreasing within each probe, probes strictly increasing */
    bool fields_ok;     /* n_measurements, first/last, span, src_id consistent */
    char problem[256];
    /* current probe */
    char cur_src[70000];
    size_t cur_len;
    int64_t cur_count, cur_first, cur_last, cur_prev_t;
    uint64_t cur_fnv;
    bool have_cur;
} dump;

static void bprintf(prw__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(prw__buf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        prw__buf_append(b, tmp, (size_t)(n < (int)sizeof tmp ? n : (int)sizeof tmp - 1), NULL);
}

static void flush_probe(dump *d) {
    if (!d->have_cur)
        return;
    prw__buf_append(&d->grouped, d->cur_src, d->cur_len, NULL);
    bprintf(&d->grouped, "\t%lld\t%lld\t%lld\t%016llx\n", (long long)d->cur_count,
            (long long)d->cur_first, (long long)d->cur_last, (unsigned long long)d->cur_fnv);
    d->have_cur = false;
}

static void fail_dump(dump *d, const char *what) {
    if (!d->problem[0])
        snprintf(d->problem, sizeof d->problem, "%s", what);
}

/* Appends one record's measurements; returns false on a decoding failure. */
static bool dump_record(dump *d, int split, const uint8_t *rec, size_t len) {
    prw_error err;
    prw_ipc_decoder *outer = NULL, *inner = NULL;
    prw_ipc_batch ob, ib;
    bool ok = false;
    if (prw_ipc_decoder_create(rec, len, &outer, &err) < 0 ||
        !prw_ipc_schema_equal(prw_ipc_decoder_schema(outer), prw_ipc_outer_schema()) ||
        prw_ipc_decoder_next(outer, &ob, &err) != PRW_OK || ob.length != 1) {
        fail_dump(d, "outer record does not decode to one row of the outer schema");
        goto out;
    }
    prw_bytes m = prw_ipc_array_bytes(&ob.columns[1], 0);
    if (m.len > d->max_inner)
        d->max_inner = m.len;
    if (prw_ipc_decoder_create(m.ptr, m.len, &inner, &err) < 0 ||
        !prw_ipc_schema_equal(prw_ipc_decoder_schema(inner), prw_ipc_inner_schema()) ||
        prw_ipc_decoder_next(inner, &ib, &err) != PRW_OK) {
        fail_dump(d, "inner stream does not decode with the inner schema");
        goto out;
    }
    int64_t n = ib.length;
    const prw_ipc_array *c = ib.columns;
    if (n < 1 || prw_ipc_array_int(&ob.columns[2], 0) != n)
        d->fields_ok = false;
    prw_bytes src = prw_ipc_array_bytes(&c[1], 0);
    if (!d->have_cur || src.len != d->cur_len || memcmp(src.ptr, d->cur_src, src.len) != 0) {
        if (d->have_cur) {
            /* probes strictly increasing in byte order within a split */
            size_t l = src.len < d->cur_len ? src.len : d->cur_len;
            int cmp = memcmp(d->cur_src, src.ptr, l);
            if (cmp > 0 || (cmp == 0 && d->cur_len >= src.len))
                d->order_ok = false;
        }
        flush_probe(d);
        if (src.len > sizeof d->cur_src) {
            fail_dump(d, "src_addr too long for the test");
            goto out;
        }
        memcpy(d->cur_src, src.ptr, src.len);
        d->cur_len = src.len;
        d->cur_count = 0;
        d->cur_fnv = PRW_FNV1A64_INIT;
        d->cur_first = prw_ipc_array_int(&c[0], 0);
        d->cur_prev_t = INT64_MIN;
        d->have_cur = true;
        d->probes[split]++;
    }
    int64_t first = prw_ipc_array_int(&c[0], 0), last = prw_ipc_array_int(&c[0], n - 1);
    if (prw_ipc_array_int(&ob.columns[4], 0) != first ||
        prw_ipc_array_int(&ob.columns[5], 0) != last ||
        prw_ipc_array_float(&ob.columns[3], 0) != (double)(last - first) / 1e6)
        d->fields_ok = false;
    for (int64_t r = 0; r < n; r++) {
        char line[70000 + 256];
        int64_t t = prw_ipc_array_int(&c[0], r);
        if (t < d->cur_prev_t)
            d->order_ok = false;
        d->cur_prev_t = t;
        prw_bytes s = prw_ipc_array_bytes(&c[1], r), dst = prw_ipc_array_bytes(&c[2], r);
        if (s.len != d->cur_len || memcmp(s.ptr, d->cur_src, s.len) != 0)
            d->fields_ok = false; /* one src_addr per record */
        char ipv[8] = "", rtt[32] = "";
        if (!prw_ipc_array_is_null(&c[3], r))
            snprintf(ipv, sizeof ipv, "%d", (int)prw_ipc_array_int(&c[3], r));
        if (!prw_ipc_array_is_null(&c[4], r))
            snprintf(rtt, sizeof rtt, "%.9g", prw_ipc_array_float(&c[4], r));
        size_t dl = prw_ipc_array_is_null(&c[2], r) ? 0 : dst.len;
        if (dl > 65000)
            dl = 65000;
        int k = snprintf(line, sizeof line, "%lld,%.*s,%.*s,%s,%s\n", (long long)t, (int)s.len,
                         (const char *)s.ptr, (int)dl, (const char *)dst.ptr, ipv, rtt);
        prw__buf_append(&d->lines, line, (size_t)k, NULL);
        d->cur_fnv = prw__fnv1a64(d->cur_fnv, line, (size_t)k);
    }
    d->cur_count += n;
    d->cur_last = last;
    d->records[split]++;
    d->measurements[split] += n;
    ok = true;
out:
    prw_ipc_decoder_destroy(outer);
    prw_ipc_decoder_destroy(inner);
    return ok;
}

static bool dump_file(dump *d, int split, const char *path) {
    prw_ar_reader *r;
    prw_error err;
    if (prw_ar_reader_open(&r, path, &err) < 0) {
        fail_dump(d, "cannot open an output file");
        return false;
    }
    bool ok = true;
    for (uint64_t i = 0; i < prw_ar_reader_num_records(r) && ok; i++) {
        prw_bytes rec;
        if (prw_ar_reader_read(r, i, &rec, &err) < 0) {
            fail_dump(d, "cannot read a record");
            ok = false;
        } else {
            ok = dump_record(d, split, rec.ptr, rec.len);
        }
    }
    prw_ar_reader_close(r);
    return ok;
}

/* Decodes DIR's train then test files (all shards, in order). */
static bool dump_dir(dump *d, const char *dir, int shards) {
    memset(d, 0, sizeof *d);
    d->order_ok = d->fields_ok = true;
    const char *names[2] = {"train", "test"};
    for (int s = 0; s < 2; s++) {
        for (int k = 0; k < (shards > 1 ? shards : 1); k++) {
            const char *p = shards > 1
                                ? th_fmt("%s/%s.arrayrecord-%05d-of-%05d", dir, names[s], k, shards)
                                : th_fmt("%s/%s.arrayrecord", dir, names[s]);
            if (!dump_file(d, s, p))
                return false;
        }
        flush_probe(d);
    }
    return true;
}

static void dump_free(dump *d) {
    prw__buf_cleanup(&d->grouped);
    prw__buf_cleanup(&d->lines);
}

static prw_status build(const char *const *inputs, size_t n, const char *out, int workers,
                        int shards, prw_build_stats *st, prw_error *err) {
    prw_build_options o;
    prw_build_options_init(&o);
    o.inputs = inputs;
    o.n_inputs = n;
    o.output_dir = out;
    o.workers = workers;
    o.shards = shards;
    return prw_build(&o, st, err);
}

/* True if files a and b have the same bytes. */
static bool same_file(const char *a, const char *b) {
    size_t na, nb;
    uint8_t *x = th_read(a, &na), *y = th_read(b, &nb);
    return x && y && na == nb && memcmp(x, y, na) == 0;
}

/* ---- the writer matrix against DuckDB's grouping ------------------------------------------ */

TEST(build_writer_matrix_equals_duckdb_grouping) {
    REQUIRE_SHARED(shared);
    const char *wdir = th_fmt("%s/testdata/parquet/writers", shared);
    size_t nexp, nlines;
    uint8_t *expected = th_read(th_fmt("%s/expected_grouped.tsv", wdir), &nexp);
    uint8_t *lines = th_read(th_fmt("%s/expected_measurements.txt", wdir), &nlines);
    ASSERT_TRUE(expected && lines);
    const char *body = strchr((const char *)expected, '\n') + 1; /* skip the header */
    size_t nbody = nexp - (size_t)(body - (const char *)expected);
    DIR *dir = opendir(wdir);
    ASSERT_TRUE(dir != NULL);
    struct dirent *e;
    int files = 0;
    const char *names[64];
    while ((e = readdir(dir)) && files < 64) {
        size_t l = strlen(e->d_name);
        if (l > 8 && strcmp(e->d_name + l - 8, ".parquet") == 0)
            names[files++] = th_fmt("%s/%s", wdir, e->d_name);
    }
    closedir(dir);
    names[files++] = th_fmt("%s/sharded3/*.parquet", wdir);
    ASSERT_TRUE(files >= 10);
    for (int i = 0; i < files; i++) {
        const char *in[1] = {names[i]};
        const char *out = th_fmt("%s/out%d", th_tmpdir(), i);
        prw_build_stats st;
        prw_error err;
        prw_error_clear(&err);
        ASSERT_OK(build(in, 1, out, 2, 1, &st, &err), &err);
        dump d;
        bool ok = dump_dir(&d, out, 1);
        bool same_grouped = d.grouped.len == nbody && memcmp(d.grouped.data, body, nbody) == 0;
        bool same_lines = d.lines.len == nlines && memcmp(d.lines.data, lines, nlines) == 0;
        int64_t probes = d.probes[0] + d.probes[1], meas = d.measurements[0] + d.measurements[1];
        bool fields = d.order_ok && d.fields_ok;
        if (!same_grouped && ok)
            th_write(th_fmt("/tmp/prw_grouped_%d.tsv", i), d.grouped.data, d.grouped.len);
        dump_free(&d);
        if (!ok || !same_grouped || !same_lines)
            th_fail(__FILE__, __LINE__, "%s: decoded=%d grouped-equal=%d lines-equal=%d (%s)",
                    names[i], ok, same_grouped, same_lines, d.problem);
        ASSERT_TRUE(ok && same_grouped && same_lines);
        ASSERT_TRUE(fields);
        ASSERT_EQ_I64(probes, 500);
        ASSERT_EQ_I64(st.split[0].probes, 450); /* floor(500 * 0.9) */
        ASSERT_EQ_I64(st.split[1].probes, 50);
        ASSERT_EQ_I64(meas, 20000);
        ASSERT_EQ_I64(st.rows_read, 20000);
    }
}

TEST(build_identical_bytes_across_workers_shards_and_cuts) {
    REQUIRE_SHARED(shared);
    const char *one[1] = {th_fmt("%s/testdata/parquet/writers/v1_snappy.parquet", shared)};
    const char *cut[1] = {th_fmt("%s/testdata/parquet/writers/sharded3/*.parquet", shared)};
    const char *rg[1] = {th_fmt("%s/testdata/parquet/writers/v1_snappy_rg1000.parquet", shared)};
    const char *d = th_tmpdir();
    prw_error err;
    prw_error_clear(&err);
    prw_build_stats st;
    ASSERT_OK(build(one, 1, th_fmt("%s/ref", d), 1, 1, &st, &err), &err);
    const int workers[] = {2, 3, 8};
    for (int i = 0; i < 3; i++) {
        const char *o = th_fmt("%s/w%d", d, workers[i]);
        ASSERT_OK(build(one, 1, o, workers[i], 1, &st, &err), &err);
        for (int s = 0; s < 2; s++) {
            const char *n = s ? "test" : "train";
            ASSERT_TRUE(same_file(th_fmt("%s/ref/%s.arrayrecord", d, n),
                                  th_fmt("%s/%s.arrayrecord", o, n)));
        }
    }
    ASSERT_OK(build(cut, 1, th_fmt("%s/cut", d), 2, 1, &st, &err), &err);
    ASSERT_OK(build(rg, 1, th_fmt("%s/rg", d), 3, 1, &st, &err), &err);
    for (int s = 0; s < 2; s++) {
        const char *n = s ? "test" : "train";
        ASSERT_TRUE(same_file(th_fmt("%s/ref/%s.arrayrecord", d, n),
                              th_fmt("%s/cut/%s.arrayrecord", d, n)));
        ASSERT_TRUE(
            same_file(th_fmt("%s/ref/%s.arrayrecord", d, n), th_fmt("%s/rg/%s.arrayrecord", d, n)));
    }
    /* Shards: the same records, in order, cut into 3 files per split. */
    ASSERT_OK(build(one, 1, th_fmt("%s/sh", d), 2, 3, &st, &err), &err);
    dump a, b;
    ASSERT_TRUE(dump_dir(&a, th_fmt("%s/ref", d), 1));
    ASSERT_TRUE(dump_dir(&b, th_fmt("%s/sh", d), 3));
    bool same = a.lines.len == b.lines.len && memcmp(a.lines.data, b.lines.data, a.lines.len) == 0;
    int64_t ra = a.records[0] + a.records[1], rb = b.records[0] + b.records[1];
    dump_free(&a);
    dump_free(&b);
    ASSERT_TRUE(same);
    ASSERT_EQ_I64(ra, rb);
    ASSERT_EQ_I64(st.split[0].files, 3);
    /* Each shard is non-empty for a 450-probe split. */
    for (int k = 0; k < 3; k++) {
        struct stat sb;
        ASSERT_TRUE(stat(th_fmt("%s/sh/train.arrayrecord-%05d-of-00003", d, k), &sb) == 0);
        ASSERT_TRUE(sb.st_size > 1000);
    }
}

TEST(build_hash_split_rule) {
    REQUIRE_SHARED(shared);
    const char *in[1] = {th_fmt("%s/testdata/parquet/writers/v1_zstd.parquet", shared)};
    prw_build_options o;
    prw_build_options_init(&o);
    o.inputs = in;
    o.n_inputs = 1;
    o.output_dir = th_fmt("%s/h", th_tmpdir());
    o.split = PRW_SPLIT_HASH;
    prw_build_stats st;
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(prw_build(&o, &st, &err), &err);
    /* Every record's src_id % 10 < 9 exactly when it is in train. */
    const char *names[2] = {"train", "test"};
    int64_t bad = 0, total = 0;
    for (int s = 0; s < 2; s++) {
        prw_ar_reader *r;
        ASSERT_OK(prw_ar_reader_open(&r, th_fmt("%s/%s.arrayrecord", o.output_dir, names[s]), &err),
                  &err);
        for (uint64_t i = 0; i < prw_ar_reader_num_records(r); i++) {
            prw_bytes rec;
            prw_ipc_decoder *dec = NULL;
            prw_ipc_batch b;
            if (prw_ar_reader_read(r, i, &rec, &err) < 0 ||
                prw_ipc_decoder_create(rec.ptr, rec.len, &dec, &err) < 0 ||
                prw_ipc_decoder_next(dec, &b, &err) != PRW_OK) {
                bad++;
            } else {
                int64_t id = prw_ipc_array_int(&b.columns[0], 0);
                if ((id % 10 < 9) != (s == 0))
                    bad++;
            }
            prw_ipc_decoder_destroy(dec);
            total++;
        }
        prw_ar_reader_close(r);
    }
    ASSERT_EQ_I64(bad, 0);
    ASSERT_EQ_I64(total, st.split[0].records + st.split[1].records);
    ASSERT_TRUE(st.split[1].probes > 20 && st.split[1].probes < 90); /* ~10% of 500 */
}

TEST(build_cutting_pieces_are_maximal) {
    REQUIRE_SHARED(shared);
    const char *in[1] = {th_fmt("%s/testdata/parquet/writers/v2_zstd.parquet", shared)};
    const uint64_t limits[] = {2048, 5000, 65536};
    for (int li = 0; li < 3; li++) {
        prw_build_options o;
        prw_build_options_init(&o);
        o.inputs = in;
        o.n_inputs = 1;
        o.output_dir = th_fmt("%s/c%d", th_tmpdir(), li);
        o.max_row_size = limits[li];
        prw_build_stats st;
        prw_error err;
        prw_error_clear(&err);
        ASSERT_OK(prw_build(&o, &st, &err), &err);
        dump d;
        ASSERT_TRUE(dump_dir(&d, o.output_dir, 1));
        uint64_t max_inner = d.max_inner;
        bool ok = d.order_ok && d.fields_ok;
        int64_t meas = d.measurements[0] + d.measurements[1];
        dump_free(&d);
        ASSERT_TRUE(ok);
        ASSERT_EQ_I64(meas, 20000);
        ASSERT_TRUE(max_inner <= limits[li]);
        ASSERT_TRUE(st.split_probes_cut > 0);
        /* Greedy maximality: each piece plus the next row of its probe exceeds the limit;
         * checked through the size function on consecutive pieces. */
        prw_ar_reader *r;
        ASSERT_OK(prw_ar_reader_open(&r, th_fmt("%s/train.arrayrecord", o.output_dir), &err), &err);
        int64_t violations = 0;
        prw_ipc_inner_counts prev = {0};
        char prev_src[64] = "";
        for (uint64_t i = 0; i < prw_ar_reader_num_records(r); i++) {
            prw_bytes rec;
            prw_ipc_decoder *o1 = NULL, *i1 = NULL;
            prw_ipc_batch ob, ib;
            ASSERT_OK(prw_ar_reader_read(r, i, &rec, &err), &err);
            ASSERT_OK(prw_ipc_decoder_create(rec.ptr, rec.len, &o1, &err), &err);
            ASSERT_OK(prw_ipc_decoder_next(o1, &ob, &err), &err);
            prw_bytes m = prw_ipc_array_bytes(&ob.columns[1], 0);
            ASSERT_OK(prw_ipc_decoder_create(m.ptr, m.len, &i1, &err), &err);
            ASSERT_OK(prw_ipc_decoder_next(i1, &ib, &err), &err);
            prw_bytes src = prw_ipc_array_bytes(&ib.columns[1], 0);
            char s[64];
            snprintf(s, sizeof s, "%.*s", (int)src.len, (const char *)src.ptr);
            if (strcmp(s, prev_src) == 0) {
                /* prev + the first row of this piece must exceed the limit */
                prw_ipc_inner_counts c = prev;
                c.rows++;
                c.src_bytes += (int64_t)src.len;
                c.dst_bytes += (int64_t)prw_ipc_array_bytes(&ib.columns[2], 0).len;
                c.null_dst += prw_ipc_array_is_null(&ib.columns[2], 0);
                c.null_ip_version += prw_ipc_array_is_null(&ib.columns[3], 0);
                c.null_rtt += prw_ipc_array_is_null(&ib.columns[4], 0);
                if (prw_ipc_stream_size(&c) <= limits[li])
                    violations++;
            }
            prw_ipc_inner_counts cur = {0};
            cur.rows = ib.length;
            cur.src_bytes = (int64_t)src.len * ib.length;
            cur.dst_bytes = ib.columns[2].data_len;
            cur.null_dst = ib.columns[2].null_count;
            cur.null_ip_version = ib.columns[3].null_count;
            cur.null_rtt = ib.columns[4].null_count;
            if (prw_ipc_stream_size(&cur) != m.len)
                violations++;
            prev = cur;
            snprintf(prev_src, sizeof prev_src, "%s", s);
            prw_ipc_decoder_destroy(o1);
            prw_ipc_decoder_destroy(i1);
        }
        prw_ar_reader_close(r);
        ASSERT_EQ_I64(violations, 0);
    }
}

/* ---- edge cases ------------------------------------------------------------------------------ */

static prw_status build_fixture(const char *name, const char *out, prw_build_options *o,
                                prw_build_stats *st, prw_error *err) {
    static const char *in[1];
    in[0] = th_fmt("tests/fixtures/%s.parquet", name);
    o->inputs = in;
    o->n_inputs = 1;
    o->output_dir = out;
    return prw_build(o, st, err);
}

TEST(build_edge_empty_and_all_null_keys) {
    const char *names[2] = {"empty", "all_null_src"};
    for (int i = 0; i < 2; i++) {
        prw_build_options o;
        prw_build_options_init(&o);
        prw_build_stats st;
        prw_error err;
        prw_error_clear(&err);
        const char *out = th_fmt("%s/e%d", th_tmpdir(), i);
        ASSERT_OK(build_fixture(names[i], out, &o, &st, &err), &err);
        ASSERT_EQ_I64(st.split[0].records + st.split[1].records, 0);
        ASSERT_EQ_I64(st.dropped_null_src_addr, i == 0 ? 0 : 10);
        ASSERT_EQ_I64(st.rows_read, i == 0 ? 0 : 10);
        for (int s = 0; s < 2; s++) {
            prw_ar_reader *r;
            ASSERT_OK(prw_ar_reader_open(&r, th_fmt("%s/%s.arrayrecord", out, s ? "test" : "train"),
                                         &err),
                      &err);
            ASSERT_EQ_I64(prw_ar_reader_num_records(r), 0);
            prw_ar_reader_close(r);
        }
        ASSERT_TRUE(access(th_fmt("%s/manifest.json", out), R_OK) == 0);
    }
}

TEST(build_edge_one_probe_ties_keep_input_order) {
    prw_build_options o;
    prw_build_options_init(&o);
    prw_build_stats st;
    prw_error err;
    prw_error_clear(&err);
    const char *out = th_fmt("%s/one", th_tmpdir());
    ASSERT_OK(build_fixture("one_probe", out, &o, &st, &err), &err);
    /* One probe: floor(1 * 0.9) = 0 train probes. */
    ASSERT_EQ_I64(st.split[0].probes, 0);
    ASSERT_EQ_I64(st.split[1].probes, 1);
    dump d;
    ASSERT_TRUE(dump_dir(&d, out, 1));
    bool ok = d.order_ok && d.fields_ok;
    /* Rows i with equal (i * 7919) % 500 keep increasing i: dst_addr cycles i % 7, so check
     * with the row text: the first two rows at time 0 are i = 0 and i = 500. */
    bool first_ok =
        d.lines.len > 0 && strncmp((const char *)d.lines.data,
                                   "1709251200000000,192.0.2.1,198.51.100.0,4,0\n", 44) == 0;
    int64_t meas = d.measurements[1];
    dump_free(&d);
    ASSERT_TRUE(ok);
    ASSERT_TRUE(first_ok);
    ASSERT_EQ_I64(meas, 3000);
}

TEST(build_edge_null_rtt_policies) {
    const prw_null_rtt pol[3] = {PRW_NULL_RTT_KEEP, PRW_NULL_RTT_DROP, PRW_NULL_RTT_FAILED};
    int64_t written[3];
    for (int p = 0; p < 3; p++) {
        prw_build_options o;
        prw_build_options_init(&o);
        o.null_rtt = pol[p];
        prw_build_stats st;
        prw_error err;
        prw_error_clear(&err);
        const char *out = th_fmt("%s/n%d", th_tmpdir(), p);
        ASSERT_OK(build_fixture("nulls", out, &o, &st, &err), &err);
        /* i in 0..199: src NULL when i % 13 == 0 (16 rows), else event_time NULL when
         * i % 11 == 0 (19 rows, less i = 0 and 143 already dropped: 17). */
        ASSERT_EQ_I64(st.dropped_null_src_addr, 16);
        ASSERT_EQ_I64(st.dropped_null_event_time, 17);
        written[p] = st.split[0].measurements + st.split[1].measurements;
        ASSERT_EQ_I64(written[p] + st.dropped_null_src_addr + st.dropped_null_event_time +
                          st.dropped_null_rtt,
                      200);
        dump d;
        ASSERT_TRUE(dump_dir(&d, out, 1));
        size_t empty_rtt = 0, failed = 0;
        for (size_t i = 0; i + 1 < d.lines.len; i++) {
            if (d.lines.data[i] == ',' && d.lines.data[i + 1] == '\n')
                empty_rtt++;
            if (d.lines.data[i] == ',' && i + 3 < d.lines.len &&
                memcmp(d.lines.data + i, ",-1\n", 4) == 0)
                failed++;
        }
        dump_free(&d);
        if (pol[p] == PRW_NULL_RTT_KEEP) {
            ASSERT_EQ_I64(empty_rtt, (size_t)st.null_rtt_kept);
            ASSERT_TRUE(st.null_rtt_kept > 0);
        } else {
            ASSERT_EQ_I64(empty_rtt, 0);
        }
        if (pol[p] == PRW_NULL_RTT_FAILED) {
            ASSERT_EQ_I64(st.null_rtt_kept, 0);
            ASSERT_TRUE(st.null_rtt_failed > 0);
            ASSERT_TRUE(failed >= (size_t)st.null_rtt_failed); /* plus the stored -1.0 rows */
        }
        if (pol[p] == PRW_NULL_RTT_DROP)
            ASSERT_TRUE(st.dropped_null_rtt > 0);
    }
    ASSERT_TRUE(written[1] < written[0]);
    ASSERT_EQ_I64(written[2], written[0]);
}

TEST(build_edge_ipv6_long_strings_and_oversized_row) {
    prw_build_options o;
    prw_build_options_init(&o);
    o.max_row_size = 16384; /* one row with a 20,000-byte dst_addr exceeds it on its own */
    prw_build_stats st;
    prw_error err;
    prw_error_clear(&err);
    const char *out = th_fmt("%s/v6", th_tmpdir());
    ASSERT_OK(build_fixture("ipv6_long", out, &o, &st, &err), &err);
    dump d;
    ASSERT_TRUE(dump_dir(&d, out, 1));
    bool ok = d.order_ok && d.fields_ok;
    int64_t meas = d.measurements[0] + d.measurements[1];
    uint64_t max_inner = d.max_inner;
    dump_free(&d);
    ASSERT_TRUE(ok);
    ASSERT_EQ_I64(meas, 300);
    ASSERT_TRUE(max_inner > 16384); /* the oversized row went out alone */
    ASSERT_TRUE(st.split_probes_cut > 0);
}

TEST(build_other_types_and_column_remap) {
    prw_build_options o;
    prw_build_options_init(&o);
    prw_build_stats st;
    prw_error err;
    prw_error_clear(&err);
    const char *out = th_fmt("%s/ns", th_tmpdir());
    ASSERT_OK(build_fixture("types_ns_float", out, &o, &st, &err), &err);
    dump d;
    ASSERT_TRUE(dump_dir(&d, out, 1));
    /* i = 1: 00:00:01 + 1001 us, rtt 0.5, ip_version from TINYINT. */
    bool has =
        strstr((const char *)d.lines.data, "1709251201001001,10.9.0.1,1.1.1.1,4,0.5\n") != NULL;
    dump_free(&d);
    ASSERT_TRUE(has);
    prw_build_options_init(&o);
    o.columns[PRW_COL_EVENT_TIME] = "ts";
    o.columns[PRW_COL_SRC_ADDR] = "probe";
    o.columns[PRW_COL_DST_ADDR] = "target";
    o.columns[PRW_COL_IP_VERSION] = "ipv";
    o.columns[PRW_COL_RTT] = "rtt_avg";
    out = th_fmt("%s/ms", th_tmpdir());
    ASSERT_OK(build_fixture("types_ms_int_renamed", out, &o, &st, &err), &err);
    ASSERT_TRUE(dump_dir(&d, out, 1));
    has = strstr((const char *)d.lines.data, "1709251203000000,10.8.0.3,1.0.0.1,4,3\n") != NULL;
    dump_free(&d);
    ASSERT_TRUE(has);
}

/* ---- bad input ---------------------------------------------------------------------------------
 */

/* Names of the entries in dir, sorted, as one string. */
static char *listing(const char *dir) {
    char *s = th_fmt("%s", "");
    DIR *d = opendir(dir);
    if (!d)
        return s;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' || strncmp(e->d_name, ".proberows", 10) == 0)
            s = th_fmt("%s%s;", s, e->d_name);
    closedir(d);
    return s;
}

TEST(build_bad_input_leaves_old_output_intact) {
    const char *d = th_tmpdir();
    const char *out = th_fmt("%s/out", d);
    prw_build_options o;
    prw_build_options_init(&o);
    prw_build_stats st;
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(build_fixture("one_probe", out, &o, &st, &err), &err);
    size_t n_old;
    uint8_t *old = th_read(th_fmt("%s/test.arrayrecord", out), &n_old);
    ASSERT_TRUE(old != NULL);
    char *before = listing(out);
    /* A corrupt file in the middle of the glob. */
    ASSERT_EQ_I64(
        th_sh(th_fmt("mkdir -p %s/in && cp tests/fixtures/one_probe.parquet %s/in/a.parquet"
                     " && cp tests/fixtures/nulls.parquet %s/in/c.parquet"
                     " && head -c 3000 tests/fixtures/one_probe.parquet > %s/in/b.parquet"
                     " && printf 'PAR1' >> %s/in/b.parquet",
                     d, d, d, d, d)),
        0);
    struct {
        const char *input;
        const char *col_rtt;
        const char *want1, *want2;
        prw_status code;
    } cases[] = {
        {th_fmt("%s/in/*.parquet", d), NULL, "b.parquet", "", 0},
        {th_fmt("%s/nothing/*.parquet", d), NULL, "nothing", "no file", PRW_E_IO},
        {"tests/fixtures/missing_rtt.parquet", NULL, "missing_rtt.parquet", "'rtt'",
         PRW_E_UNSUPPORTED},
        {"tests/fixtures/wrong_type_rtt.parquet", NULL, "wrong_type_rtt.parquet", "'rtt'",
         PRW_E_UNSUPPORTED},
        {"tests/fixtures/ip_version_300.parquet", NULL, "ip_version_300.parquet", "ip_version",
         PRW_E_CORRUPT},
        {"tests/fixtures/nulls.parquet", "no_such", "nulls.parquet", "'no_such'",
         PRW_E_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *in[1] = {cases[i].input};
        prw_build_options_init(&o);
        o.inputs = in;
        o.n_inputs = 1;
        o.output_dir = out;
        o.columns[PRW_COL_RTT] = cases[i].col_rtt;
        prw_status s = prw_build(&o, &st, &err);
        ASSERT_TRUE(s < 0);
        if (cases[i].code)
            ASSERT_ERR(s, cases[i].code);
        if (!strstr(err.msg, cases[i].want1) || !strstr(err.msg, cases[i].want2))
            th_fail(__FILE__, __LINE__, "case %zu: message '%s' lacks '%s' / '%s'", i, err.msg,
                    cases[i].want1, cases[i].want2);
        ASSERT_TRUE(strstr(err.msg, cases[i].want1) && strstr(err.msg, cases[i].want2));
        ASSERT_EQ_STR(listing(out), before);
        size_t n_now;
        uint8_t *now = th_read(th_fmt("%s/test.arrayrecord", out), &n_now);
        ASSERT_TRUE(now && n_now == n_old && memcmp(now, old, n_old) == 0);
    }
    /* An output directory that cannot be written. */
    const char *in[1] = {"tests/fixtures/one_probe.parquet"};
    prw_build_options_init(&o);
    o.inputs = in;
    o.n_inputs = 1;
    o.output_dir = "/proc/proberows-cannot-write-here";
    ASSERT_TRUE(prw_build(&o, &st, &err) < 0);
    ASSERT_TRUE(strstr(err.msg, "/proc/proberows-cannot-write-here") != NULL);
}

/* One row group and more workers than row groups: its numeric and string columns are decoded
 * by two workers at once. A failure in either half (or in both) fails the build naming the
 * column, with no output; the same file undamaged gives the bytes of one worker. */
TEST(build_split_row_group_decode_errors_name_the_column) {
    const char *d = th_tmpdir();
    struct {
        long off;
        const char *col;
    } cases[] = {{200, "event_time"}, {4620, "dst_addr"}, {4569, "src_addr"}};
    prw_build_stats st;
    prw_error err;
    prw_error_clear(&err);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *bad = th_fmt("%s/bad%zu.parquet", d, i);
        ASSERT_EQ_I64(th_sh(th_fmt("cp tests/fixtures/one_probe.parquet %s && printf "
                                   "'\\377\\377\\377\\377\\377\\377\\377\\377' | dd of=%s bs=1 "
                                   "seek=%ld conv=notrunc 2>/dev/null",
                                   bad, bad, cases[i].off)),
                      0);
        for (int w = 2; w <= 4; w += 2) {
            const char *in[1] = {bad};
            prw_build_options o;
            prw_build_options_init(&o);
            o.inputs = in;
            o.n_inputs = 1;
            o.workers = w;
            o.output_dir = th_fmt("%s/out%zu_%d", d, i, w);
            ASSERT_TRUE(prw_build(&o, &st, &err) < 0);
            ASSERT_TRUE(strstr(err.msg, "bad") && strstr(err.msg, cases[i].col));
            ASSERT_TRUE(access(th_fmt("%s/train.arrayrecord", o.output_dir), F_OK) != 0);
        }
    }
    /* Both halves damaged. */
    const char *both = th_fmt("%s/both.parquet", d);
    ASSERT_EQ_I64(th_sh(th_fmt("cp %s/bad0.parquet %s && printf '\\377\\377\\377\\377' | dd of=%s "
                               "bs=1 seek=4620 conv=notrunc 2>/dev/null",
                               d, both, both)),
                  0);
    const char *in[1] = {both};
    prw_build_options o;
    prw_build_options_init(&o);
    o.inputs = in;
    o.n_inputs = 1;
    o.workers = 3;
    o.output_dir = th_fmt("%s/outboth", d);
    ASSERT_TRUE(prw_build(&o, &st, &err) < 0);
    ASSERT_TRUE(strstr(err.msg, "event_time") || strstr(err.msg, "dst_addr"));
    /* Undamaged: one worker (whole row groups) and three (halves) give the same bytes. */
    in[0] = "tests/fixtures/one_probe.parquet";
    o.workers = 1;
    o.output_dir = th_fmt("%s/w1", d);
    ASSERT_OK(prw_build(&o, &st, &err), &err);
    o.workers = 3;
    o.output_dir = th_fmt("%s/w3", d);
    ASSERT_OK(prw_build(&o, &st, &err), &err);
    size_t n1 = 0, n3 = 0;
    uint8_t *a = th_read(th_fmt("%s/w1/train.arrayrecord", d), &n1);
    uint8_t *b = th_read(th_fmt("%s/w3/train.arrayrecord", d), &n3);
    ASSERT_TRUE(a && b && n1 == n3 && memcmp(a, b, n1) == 0);
}

/* One row group of 140,000 rows: with two or more workers its rows are built in two halves,
 * and rows dropped in the first half move the second half's down. Same bytes and counts as one
 * worker; an ip_version that does not fit int8 is reported by its row, the first one when both
 * halves have one. */
TEST(build_split_rows_drops_and_errors_match_one_worker) {
    const char *d = th_tmpdir();
    int64_t want_src = 0, want_time = 0, want_rtt = 0;
    for (int64_t i = 0; i < 140000; i++) {
        if (i % 1009 == 7)
            want_src++;
        else if (i % 997 == 3)
            want_time++;
        else if (i % 499 == 11)
            want_rtt++;
    }
    prw_build_stats st;
    prw_error err;
    prw_error_clear(&err);
    const char *in[1] = {"tests/fixtures/split_rows.parquet"};
    for (int p = 0; p < 2; p++) {
        const uint8_t *ref = NULL; /* th_read's buffers belong to the harness */
        size_t nref = 0;
        for (int w = 1; w <= 3; w++) {
            prw_build_options o;
            prw_build_options_init(&o);
            o.inputs = in;
            o.n_inputs = 1;
            o.workers = w;
            o.null_rtt = p ? PRW_NULL_RTT_DROP : PRW_NULL_RTT_KEEP;
            o.output_dir = th_fmt("%s/p%d_w%d", d, p, w);
            ASSERT_OK(prw_build(&o, &st, &err), &err);
            ASSERT_EQ_I64(st.dropped_null_src_addr, want_src);
            ASSERT_EQ_I64(st.dropped_null_event_time, want_time);
            ASSERT_EQ_I64(p ? st.dropped_null_rtt : st.null_rtt_kept, want_rtt);
            ASSERT_EQ_I64(st.split[0].measurements + st.split[1].measurements,
                          140000 - want_src - want_time - (p ? want_rtt : 0));
            size_t n = 0;
            uint8_t *a = th_read(th_fmt("%s/train.arrayrecord", o.output_dir), &n);
            ASSERT_TRUE(a != NULL);
            if (!ref) {
                ref = a;
                nref = n;
            } else {
                ASSERT_TRUE(n == nref && memcmp(a, ref, n) == 0);
            }
        }
    }
    const char *bad[2] = {"tests/fixtures/split_rows_bad_late.parquet",
                          "tests/fixtures/split_rows_bad_both.parquet"};
    for (int b = 0; b < 2; b++)
        for (int w = 1; w <= 2; w++) {
            prw_build_options o;
            prw_build_options_init(&o);
            in[0] = bad[b];
            o.inputs = in;
            o.n_inputs = 1;
            o.workers = w;
            o.output_dir = th_fmt("%s/bad%d_w%d", d, b, w);
            ASSERT_TRUE(prw_build(&o, &st, &err) < 0);
            ASSERT_TRUE(strstr(err.msg, b ? "row 30001:" : "row 120001:") != NULL);
            ASSERT_TRUE(strstr(err.msg, "ip_version") && strstr(err.msg, bad[b]));
            ASSERT_TRUE(access(th_fmt("%s/train.arrayrecord", o.output_dir), F_OK) != 0);
        }
}
