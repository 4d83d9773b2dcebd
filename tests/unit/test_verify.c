/*
 * Tests of prw_verify and prw_inspect_file: verify passes on the outputs the build tests make
 * (all split rules, NULL policies, cut pieces, shards, edge cases, with --input), and each
 * corruption is caught with a failure naming it: a flipped byte, a swapped record, a missing
 * record, an edited manifest, a truncated file, a row removed from (or changed in) the input.
 * Also the manifest's JSON reader on good and bad text.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "harness.h"
#include "common/json.h"
#include "verify/vf_verify.h"
#include "proberows/arrayrecord.h"
#include "proberows/arrow_ipc.h"
#include "proberows/pipeline.h"
#include "proberows/verify.h"

/* ---- helpers ----------------------------------------------------------------------------------
 */

static prw_status build_one(const char *input, const char *out, uint64_t max_row,
                            prw_split_rule split, prw_null_rtt policy, int shards, prw_error *err) {
    prw_build_options o;
    prw_build_options_init(&o);
    const char *in[1] = {input};
    o.inputs = in;
    o.n_inputs = 1;
    o.output_dir = out;
    o.workers = 2;
    o.max_row_size = max_row;
    o.split = split;
    o.null_rtt = policy;
    o.shards = shards;
    return prw_build(&o, NULL, err);
}

/* Runs verify (with `input` re-read when not NULL); the report is left for the caller. */
static prw_status run_verify(const char *dir, const char *input, prw_verify_report *rep,
                             prw_error *err) {
    prw_verify_options o;
    prw_verify_options_init(&o);
    const char *in[1] = {input};
    o.dir = dir;
    if (input) {
        o.inputs = in;
        o.n_inputs = 1;
    }
    o.workers = 2;
    return prw_verify(&o, rep, err);
}

/* True if the report holds a failure of `check` in `file` (NULL: any) whose message contains
 * `text` (NULL: any). Prints the failures when not. */
static bool has_failure(const prw_verify_report *r, const char *check, const char *file,
                        const char *text) {
    for (size_t i = 0; i < r->n_kept; i++) {
        const prw_verify_failure *f = &r->failures[i];
        if (strcmp(f->check, check) == 0 && (!file || strcmp(f->file, file) == 0) &&
            (!text || strstr(f->message, text)))
            return true;
    }
    for (size_t i = 0; i < r->n_kept; i++)
        th_note("  %s #%lld [%s] %s", r->failures[i].file, (long long)r->failures[i].record,
                r->failures[i].check, r->failures[i].message);
    return false;
}

static void print_failures(const prw_verify_report *r) {
    for (size_t i = 0; i < r->n_kept; i++)
        th_note("  %s #%lld [%s] %s", r->failures[i].file, (long long)r->failures[i].record,
                r->failures[i].check, r->failures[i].message);
}

/* Rewrites an ArrayRecord file through `map`: record i of the new file is old record map[i]
 * (n entries), with the default options (those of the build). */
static bool rewrite_records(const char *path, const uint64_t *map, uint64_t n) {
    size_t len;
    uint8_t *img = th_read(path, &len);
    prw_ar_reader *r = NULL;
    prw_ar_writer *w = NULL;
    prw_error err;
    if (!img || prw_ar_reader_open_mem(&r, img, len, &err) < 0)
        return false;
    const char *tmp = th_fmt("%s.new", path);
    bool ok = prw_ar_writer_open(&w, tmp, NULL, &err) == PRW_OK;
    for (uint64_t i = 0; i < n && ok; i++) {
        prw_bytes rec;
        ok = prw_ar_reader_read(r, map[i], &rec, &err) == PRW_OK &&
             prw_ar_writer_add_record(w, rec.ptr, rec.len, &err) == PRW_OK;
    }
    prw_ar_reader_close(r);
    if (!ok) {
        prw_ar_writer_abort(w);
        return false;
    }
    return prw_ar_writer_close(w, &err) == PRW_OK && rename(tmp, path) == 0;
}

static uint64_t num_records(const char *path) {
    prw_ar_reader *r;
    prw_error err;
    if (prw_ar_reader_open(&r, path, &err) < 0)
        return 0;
    uint64_t n = prw_ar_reader_num_records(r);
    prw_ar_reader_close(r);
    return n;
}

#define BASE "tests/fixtures/verify_base.parquet"

/* An output with cut pieces (2 KiB limit) to corrupt. */
static const char *fresh_output(const char *name, prw_error *err) {
    const char *out = th_fmt("%s/%s", th_tmpdir(), name);
    if (build_one(BASE, out, 2048, PRW_SPLIT_RATIO, PRW_NULL_RTT_KEEP, 1, err) < 0)
        return NULL;
    return out;
}

/* ---- verify passes on good outputs --------------------------------------------------------- */

TEST(verify_passes_on_build_outputs_of_fixtures) {
    static const struct {
        const char *input;
        uint64_t max_row;
        prw_split_rule split;
        prw_null_rtt policy;
        int shards;
    } cases[] = {
        {BASE, 0, PRW_SPLIT_RATIO, PRW_NULL_RTT_KEEP, 1},
        {BASE, 2048, PRW_SPLIT_RATIO, PRW_NULL_RTT_KEEP, 1},
        {BASE, 3000, PRW_SPLIT_HASH, PRW_NULL_RTT_DROP, 3},
        {BASE, 0, PRW_SPLIT_HASH, PRW_NULL_RTT_FAILED, 2},
        {"tests/fixtures/nulls.parquet", 0, PRW_SPLIT_RATIO, PRW_NULL_RTT_KEEP, 1},
        {"tests/fixtures/nulls.parquet", 1024, PRW_SPLIT_RATIO, PRW_NULL_RTT_DROP, 1},
        {"tests/fixtures/one_probe.parquet", 4096, PRW_SPLIT_RATIO, PRW_NULL_RTT_KEEP, 1},
        {"tests/fixtures/ipv6_long.parquet", 16384, PRW_SPLIT_RATIO, PRW_NULL_RTT_KEEP, 1},
        {"tests/fixtures/empty.parquet", 0, PRW_SPLIT_RATIO, PRW_NULL_RTT_KEEP, 1},
        {"tests/fixtures/all_null_src.parquet", 0, PRW_SPLIT_HASH, PRW_NULL_RTT_KEEP, 2},
        {"tests/fixtures/types_ns_float.parquet", 0, PRW_SPLIT_RATIO, PRW_NULL_RTT_KEEP, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *out = th_fmt("%s/ok%zu", th_tmpdir(), i);
        prw_error err;
        prw_error_clear(&err);
        ASSERT_OK(build_one(cases[i].input, out, cases[i].max_row, cases[i].split, cases[i].policy,
                            cases[i].shards, &err),
                  &err);
        prw_verify_report rep;
        prw_status st = run_verify(out, cases[i].input, &rep, &err);
        int64_t fails = rep.n_failures;
        if (fails)
            print_failures(&rep);
        bool input = rep.input_checked;
        prw_verify_report_cleanup(&rep);
        ASSERT_OK(st, &err);
        if (fails)
            th_note("case %zu (%s)", i, cases[i].input);
        ASSERT_EQ_I64(fails, 0);
        ASSERT_TRUE(input);
    }
}

TEST(verify_passes_on_shared_writer_matrix_outputs) {
    REQUIRE_SHARED(shared);
    const char *inputs[] = {"v1_snappy.parquet", "v2_zstd.parquet", "sharded3/*.parquet"};
    const uint64_t limits[] = {0, 5000, 65536};
    for (int i = 0; i < 3; i++) {
        const char *in = th_fmt("%s/testdata/parquet/writers/%s", shared, inputs[i]);
        const char *out = th_fmt("%s/w%d", th_tmpdir(), i);
        prw_error err;
        prw_error_clear(&err);
        ASSERT_OK(build_one(in, out, limits[i], PRW_SPLIT_RATIO, PRW_NULL_RTT_KEEP, i + 1, &err),
                  &err);
        prw_verify_report rep;
        ASSERT_OK(run_verify(out, in, &rep, &err), &err);
        int64_t fails = rep.n_failures, meas = rep.measurements[0] + rep.measurements[1];
        if (fails)
            print_failures(&rep);
        prw_verify_report_cleanup(&rep);
        ASSERT_EQ_I64(fails, 0);
        ASSERT_EQ_I64(meas, 20000);
    }
}

TEST(verify_sample_checks_pairs_and_rejects_input) {
    prw_error err;
    prw_error_clear(&err);
    const char *out = fresh_output("s", &err);
    ASSERT_TRUE(out != NULL);
    prw_verify_options o;
    prw_verify_options_init(&o);
    o.dir = out;
    o.sample = 6;
    prw_verify_report rep;
    ASSERT_OK(prw_verify(&o, &rep, &err), &err);
    int64_t fails = rep.n_failures, checked = rep.records_checked, all = rep.records;
    bool sampled = rep.sampled;
    prw_verify_report_cleanup(&rep);
    ASSERT_EQ_I64(fails, 0);
    ASSERT_TRUE(sampled);
    ASSERT_TRUE(checked >= 6 && checked < all);
    const char *in[1] = {BASE};
    o.inputs = in;
    o.n_inputs = 1;
    ASSERT_ERR(prw_verify(&o, &rep, &err), PRW_E_INVALID);
    prw_verify_report_cleanup(&rep);
}

/* ---- each corruption is caught ------------------------------------------------------------- */

TEST(verify_catches_flipped_byte) {
    prw_error err;
    prw_error_clear(&err);
    const char *out = fresh_output("flip", &err);
    ASSERT_TRUE(out != NULL);
    const char *path = th_fmt("%s/train.arrayrecord", out);
    size_t len;
    uint8_t *img = th_read(path, &len);
    ASSERT_TRUE(img && len > 70000);
    img[70000] ^= 0x20; /* inside a data chunk of the second block */
    ASSERT_TRUE(th_write(path, img, len));
    prw_verify_report rep;
    ASSERT_OK(run_verify(out, NULL, &rep, &err), &err);
    bool found = has_failure(&rep, "arrayrecord", "train.arrayrecord", "hash");
    prw_verify_report_cleanup(&rep);
    ASSERT_TRUE(found);
}

TEST(verify_catches_swapped_records) {
    prw_error err;
    prw_error_clear(&err);
    const char *out = fresh_output("swap", &err);
    ASSERT_TRUE(out != NULL);
    const char *path = th_fmt("%s/train.arrayrecord", out);
    uint64_t n = num_records(path);
    ASSERT_TRUE(n > 10);
    uint64_t *map = calloc(n, sizeof *map);
    ASSERT_TRUE(map != NULL);
    for (uint64_t i = 0; i < n; i++)
        map[i] = i;
    map[5] = 9; /* records of different probes trade places */
    map[9] = 5;
    bool ok = rewrite_records(path, map, n);
    free(map);
    ASSERT_TRUE(ok);
    prw_verify_report rep;
    ASSERT_OK(run_verify(out, BASE, &rep, &err), &err);
    bool found = has_failure(&rep, "order", "train.arrayrecord", NULL);
    bool greedy_or_order = rep.n_failures >= 2;
    prw_verify_report_cleanup(&rep);
    ASSERT_TRUE(found);
    ASSERT_TRUE(greedy_or_order);
}

TEST(verify_catches_missing_record) {
    prw_error err;
    prw_error_clear(&err);
    const char *out = fresh_output("miss", &err);
    ASSERT_TRUE(out != NULL);
    const char *path = th_fmt("%s/train.arrayrecord", out);
    uint64_t n = num_records(path);
    ASSERT_TRUE(n > 10);
    uint64_t *map = calloc(n, sizeof *map);
    ASSERT_TRUE(map != NULL);
    for (uint64_t i = 0, k = 0; i < n; i++)
        if (i != 7)
            map[k++] = i;
    bool ok = rewrite_records(path, map, n - 1);
    free(map);
    ASSERT_TRUE(ok);
    prw_verify_report rep;
    ASSERT_OK(run_verify(out, BASE, &rep, &err), &err);
    bool totals = has_failure(&rep, "totals", NULL, "train holds");
    bool input = has_failure(&rep, "input", NULL, "rows");
    prw_verify_report_cleanup(&rep);
    ASSERT_TRUE(totals);
    ASSERT_TRUE(input);
}

TEST(verify_catches_edited_manifest) {
    prw_error err;
    prw_error_clear(&err);
    const char *out = fresh_output("man", &err);
    ASSERT_TRUE(out != NULL);
    const char *path = th_fmt("%s/manifest.json", out);
    size_t len;
    char *text = (char *)th_read(path, &len);
    ASSERT_TRUE(text != NULL);
    /* rows_read 3000 -> 3001 */
    char *p = strstr(text, "\"rows_read\": 3000");
    ASSERT_TRUE(p != NULL);
    p[strlen("\"rows_read\": 300")] = '1';
    ASSERT_TRUE(th_write(path, text, len));
    prw_verify_report rep;
    ASSERT_OK(run_verify(out, NULL, &rep, &err), &err);
    bool found = has_failure(&rep, "totals", NULL, "rows_read 3001");
    prw_verify_report_cleanup(&rep);
    ASSERT_TRUE(found);
    /* Not JSON at all: the failure names manifest.json and the byte. */
    ASSERT_TRUE(th_write(path, "{\"tool\": \"proberows\",, }", 24));
    ASSERT_OK(run_verify(out, NULL, &rep, &err), &err);
    found = has_failure(&rep, "manifest", "manifest.json", "not valid JSON");
    prw_verify_report_cleanup(&rep);
    ASSERT_TRUE(found);
    /* Missing. */
    ASSERT_TRUE(unlink(path) == 0);
    ASSERT_OK(run_verify(out, NULL, &rep, &err), &err);
    found = has_failure(&rep, "manifest", "manifest.json", "cannot be read");
    prw_verify_report_cleanup(&rep);
    ASSERT_TRUE(found);
}

TEST(verify_catches_truncated_and_missing_files) {
    prw_error err;
    prw_error_clear(&err);
    const char *out = fresh_output("trunc", &err);
    ASSERT_TRUE(out != NULL);
    const char *path = th_fmt("%s/test.arrayrecord", out);
    struct stat sb;
    ASSERT_TRUE(stat(path, &sb) == 0);
    ASSERT_TRUE(truncate(path, sb.st_size - 1000) == 0);
    prw_verify_report rep;
    ASSERT_OK(run_verify(out, NULL, &rep, &err), &err);
    bool found = has_failure(&rep, "arrayrecord", "test.arrayrecord", "truncated");
    prw_verify_report_cleanup(&rep);
    ASSERT_TRUE(found);
    ASSERT_TRUE(unlink(path) == 0);
    ASSERT_OK(run_verify(out, NULL, &rep, &err), &err);
    found = has_failure(&rep, "arrayrecord", "test.arrayrecord", NULL);
    prw_verify_report_cleanup(&rep);
    ASSERT_TRUE(found);
}

TEST(verify_catches_row_removed_or_changed_in_input) {
    prw_error err;
    prw_error_clear(&err);
    const char *out = fresh_output("in", &err);
    ASSERT_TRUE(out != NULL);
    prw_verify_report rep;
    ASSERT_OK(run_verify(out, "tests/fixtures/verify_row_removed.parquet", &rep, &err), &err);
    /* Row 1234 belongs to probe 10.20.34.1 (i % 40 = 34). */
    bool probe = has_failure(&rep, "input", NULL, "probe '10.20.34.1': 74 rows in the input, 75");
    bool rows = has_failure(&rep, "input", NULL, "2999 rows");
    prw_verify_report_cleanup(&rep);
    ASSERT_TRUE(probe);
    ASSERT_TRUE(rows);
    ASSERT_OK(run_verify(out, "tests/fixtures/verify_rtt_changed.parquet", &rep, &err), &err);
    int64_t fails = rep.n_failures;
    bool digest = has_failure(&rep, "input", NULL, "probe '10.20.34.1': the digest");
    prw_verify_report_cleanup(&rep);
    ASSERT_TRUE(digest);
    ASSERT_EQ_I64(fails, 1); /* counts all agree: only the digest can tell */
}

TEST(verify_reports_first_failures_in_order_and_counts_all) {
    prw_error err;
    prw_error_clear(&err);
    const char *out = fresh_output("many", &err);
    ASSERT_TRUE(out != NULL);
    const char *path = th_fmt("%s/train.arrayrecord", out);
    uint64_t n = num_records(path);
    uint64_t *map = calloc(n, sizeof *map);
    ASSERT_TRUE(map != NULL);
    for (uint64_t i = 0; i < n; i++)
        map[i] = n - 1 - i; /* reversed: every record out of order */
    bool ok = rewrite_records(path, map, n);
    free(map);
    ASSERT_TRUE(ok);
    prw_verify_options o;
    prw_verify_options_init(&o);
    o.dir = out;
    o.max_failures = 5;
    prw_verify_report rep;
    ASSERT_OK(prw_verify(&o, &rep, &err), &err);
    int64_t total = rep.n_failures;
    size_t kept = rep.n_kept;
    bool sorted = true;
    for (size_t i = 1; i < rep.n_kept; i++)
        if (rep.failures[i].record < rep.failures[i - 1].record)
            sorted = false;
    prw_verify_report_cleanup(&rep);
    ASSERT_EQ_I64(kept, 5);
    ASSERT_TRUE(total > 10);
    ASSERT_TRUE(sorted);
}

/* ---- inspect ------------------------------------------------------------------------------ */

TEST(inspect_summarises_a_file) {
    prw_error err;
    prw_error_clear(&err);
    const char *out = fresh_output("insp", &err);
    ASSERT_TRUE(out != NULL);
    prw_inspect_stats a, b;
    ASSERT_OK(prw_inspect_file(th_fmt("%s/train.arrayrecord", out), 2, &a, &err), &err);
    ASSERT_OK(prw_inspect_file(th_fmt("%s/test.arrayrecord", out), 1, &b, &err), &err);
    ASSERT_EQ_I64(a.probes + b.probes, 40);
    ASSERT_EQ_I64(a.probes, 36); /* floor(40 * 0.9) */
    ASSERT_EQ_I64(a.measurements + b.measurements, 3000);
    ASSERT_TRUE(a.records > a.probes); /* 2 KiB pieces */
    ASSERT_TRUE(a.meas_min >= 1 && a.meas_min <= a.meas_median && a.meas_median <= a.meas_max);
    ASSERT_TRUE(a.inner_bytes.max <= 2048);
    ASSERT_TRUE(a.record_bytes.p50 <= a.record_bytes.p99 &&
                a.record_bytes.p99 <= a.record_bytes.max);
    ASSERT_EQ_STR(a.compression, "zstd");
    ASSERT_EQ_STR(a.options, "group_size:1,transpose:false,pad_to_block_boundary:false,zstd:3,"
                             "window_log:20,max_parallelism:1");
    ASSERT_EQ_I64(a.first_us, 1709251200000000LL); /* 2024-03-01 00:00:00 */
    ASSERT_TRUE(a.last_us <= 1709251200000000LL + 899000000LL);
    /* Not a probe-row file: a clean error naming the record. */
    ASSERT_ERR(prw_inspect_file("tests/fixtures/empty.parquet", 1, &a, &err), PRW_E_TRUNCATED);
}

/* ---- the manifest's JSON reader ------------------------------------------------------------- */

TEST(verify_json_reader_values_and_errors) {
    const char *good = " {\"a\": [1, -2.5e3, true, null, \"x\\u00e9\\ud83d\\ude00\\n\"],"
                       " \"b\": {\"c\": 9007199254740993}, \"a\": 7} ";
    prw__json j;
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(prw__json_parse(good, strlen(good), &j, &err), &err);
    const prw__json_node *root = prw__json_root(&j);
    const prw__json_node *a = prw__json_get(&j, root, "a"); /* the last one */
    bool last = a && a->type == PRW_JSON_NUMBER && a->is_int && a->i64 == 7;
    const prw__json_node *arr = prw__json_at(&j, root, 0);
    const prw__json_node *s = prw__json_at(&j, arr, 4);
    bool str = s && s->type == PRW_JSON_STRING && s->len == 8 &&
               memcmp(s->str, "x\xc3\xa9\xf0\x9f\x98\x80\n", 8) == 0;
    const prw__json_node *f = prw__json_at(&j, arr, 1);
    bool num = f && !f->is_int && f->num == -2500.0;
    const prw__json_node *c = prw__json_get(&j, prw__json_get(&j, root, "b"), "c");
    bool big = c && c->is_int && c->i64 == 9007199254740993LL;
    size_t count = arr ? arr->count : 0;
    prw__json_cleanup(&j);
    ASSERT_TRUE(last && str && num && big);
    ASSERT_EQ_I64(count, 5);
    static const struct {
        const char *text;
        prw_status code;
        int64_t offset;
    } bad[] = {
        {"", PRW_E_CORRUPT, 0},      {"{\"a\" 1}", PRW_E_CORRUPT, 5},
        {"[1,]", PRW_E_CORRUPT, 3},  {"[01]", PRW_E_CORRUPT, 1},
        {"\"abc", PRW_E_CORRUPT, 0}, {"\"\\ud800\"", PRW_E_CORRUPT, 7},
        {"{} x", PRW_E_CORRUPT, 3},  {"\"a\tb\"", PRW_E_CORRUPT, 2},
        {"[1.]", PRW_E_CORRUPT, 3},  {"tru", PRW_E_CORRUPT, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        prw_error_clear(&err);
        ASSERT_ERR(prw__json_parse(bad[i].text, strlen(bad[i].text), &j, &err), bad[i].code);
        if (err.offset != bad[i].offset)
            th_note("case %zu: %s", i, err.msg);
        ASSERT_EQ_I64(err.offset, bad[i].offset);
    }
    char deep[200];
    memset(deep, '[', sizeof deep);
    ASSERT_ERR(prw__json_parse(deep, sizeof deep, &j, &err), PRW_E_LIMIT);
}

TEST(verify_input_uses_the_manifests_column_mapping) {
    prw_build_options o;
    prw_build_options_init(&o);
    const char *in[1] = {"tests/fixtures/types_ms_int_renamed.parquet"};
    o.inputs = in;
    o.n_inputs = 1;
    o.output_dir = th_fmt("%s/remap", th_tmpdir());
    o.columns[PRW_COL_EVENT_TIME] = "ts";
    o.columns[PRW_COL_SRC_ADDR] = "probe";
    o.columns[PRW_COL_DST_ADDR] = "target";
    o.columns[PRW_COL_IP_VERSION] = "ipv";
    o.columns[PRW_COL_RTT] = "rtt_avg";
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(prw_build(&o, NULL, &err), &err);
    prw_verify_report rep;
    ASSERT_OK(run_verify(o.output_dir, in[0], &rep, &err), &err);
    int64_t fails = rep.n_failures, rows = rep.input_rows;
    if (fails)
        print_failures(&rep);
    prw_verify_report_cleanup(&rep);
    ASSERT_EQ_I64(fails, 0);
    ASSERT_EQ_I64(rows, 100);
    /* Without the mapping the input cannot be read: a clean error naming the column. */
    const char *path = th_fmt("%s/manifest.json", o.output_dir);
    size_t len;
    char *text = (char *)th_read(path, &len);
    ASSERT_TRUE(text != NULL);
    char *p = strstr(text, "\"rtt\": \"rtt_avg\"");
    ASSERT_TRUE(p != NULL);
    memcpy(p + 8, "xtt_avg", 7);
    ASSERT_TRUE(th_write(path, text, len));
    ASSERT_ERR(run_verify(o.output_dir, in[0], &rep, &err), PRW_E_UNSUPPORTED);
    prw_verify_report_cleanup(&rep);
    ASSERT_TRUE(strstr(err.msg, "xtt_avg") != NULL);
}

/* Re-encodes record `rec` (one probe row) with inner rows a and b swapped into a new buffer
 * (malloc); *out_len its size. Returns NULL when the record does not decode. */
static uint8_t *swap_rows(prw_bytes rec, int64_t a, int64_t b, size_t *out_len) {
    prw_ipc_decoder *od = NULL, *id = NULL;
    prw_ipc_batch ob, ib;
    prw_error err;
    uint8_t *out = NULL;
    if (prw_ipc_decoder_create(rec.ptr, rec.len, &od, &err) < 0 ||
        prw_ipc_decoder_next(od, &ob, &err) != PRW_OK)
        goto done;
    prw_bytes m = prw_ipc_array_bytes(&ob.columns[1], 0);
    if (prw_ipc_decoder_create(m.ptr, m.len, &id, &err) < 0 ||
        prw_ipc_decoder_next(id, &ib, &err) != PRW_OK)
        goto done;
    int64_t n = ib.length;
    const prw_ipc_array *c = ib.columns;
    int64_t *t = calloc((size_t)n, 8), *doff = calloc((size_t)n + 1, 8);
    int8_t *ipv = calloc((size_t)n, 1);
    float *rtt = calloc((size_t)n, 4);
    uint8_t *dv = calloc((size_t)n, 1), *iv = calloc((size_t)n, 1), *rv = calloc((size_t)n, 1);
    char *dbytes = calloc((size_t)c[2].data_len + 1, 1);
    size_t pos = 0;
    for (int64_t k = 0; k < n; k++) {
        int64_t r = k == a ? b : k == b ? a : k;
        t[k] = prw_ipc_array_int(&c[0], r);
        prw_bytes d = prw_ipc_array_bytes(&c[2], r);
        dv[k] = !prw_ipc_array_is_null(&c[2], r);
        if (dv[k]) {
            memcpy(dbytes + pos, d.ptr, d.len);
            pos += d.len;
        }
        doff[k + 1] = (int64_t)pos;
        iv[k] = !prw_ipc_array_is_null(&c[3], r);
        ipv[k] = iv[k] ? (int8_t)prw_ipc_array_int(&c[3], r) : 0;
        rv[k] = !prw_ipc_array_is_null(&c[4], r);
        rtt[k] = rv[k] ? (float)prw_ipc_array_float(&c[4], r) : 0.0f;
    }
    prw_bytes src = prw_ipc_array_bytes(&c[1], 0);
    prw_ipc_inner_columns cols = {0};
    cols.event_time = t;
    cols.src_data = (const char *)src.ptr;
    cols.src_const_len = src.len;
    cols.dst_offsets = doff;
    cols.dst_data = dbytes;
    cols.dst_valid = c[2].null_count ? dv : NULL;
    cols.ip_version = ipv;
    cols.ip_version_valid = c[3].null_count ? iv : NULL;
    cols.rtt = rtt;
    cols.rtt_valid = c[4].null_count ? rv : NULL;
    size_t cap = m.len, wrote = 0, total = 0;
    uint8_t *inner = malloc(cap);
    out = malloc(rec.len);
    prw_ipc_outer_row row = {prw_ipc_array_int(&ob.columns[0], 0),   inner, 0,       (int32_t)n,
                             prw_ipc_array_float(&ob.columns[3], 0), t[0],  t[n - 1]};
    if (!inner || !out || prw_ipc_encode_inner(&cols, 0, n, inner, cap, &wrote, &err) < 0) {
        free(out);
        out = NULL;
    } else {
        row.measurements_len = wrote;
        if (prw_ipc_encode_outer(&row, out, rec.len, &total, &err) < 0) {
            free(out);
            out = NULL;
        }
        *out_len = total;
    }
    free(inner);
    free(t);
    free(doff);
    free(ipv);
    free(rtt);
    free(dv);
    free(iv);
    free(rv);
    free(dbytes);
done:
    prw_ipc_decoder_destroy(od);
    prw_ipc_decoder_destroy(id);
    return out;
}

TEST(verify_input_digest_catches_tied_rows_out_of_input_order) {
    prw_error err;
    prw_error_clear(&err);
    const char *out = th_fmt("%s/ties", th_tmpdir());
    ASSERT_OK(build_one(BASE, out, 0, PRW_SPLIT_RATIO, PRW_NULL_RTT_KEEP, 1, &err), &err);
    const char *path = th_fmt("%s/train.arrayrecord", out);
    /* Record 0: find two neighbouring rows with the same event_time. */
    prw_ar_reader *r;
    ASSERT_OK(prw_ar_reader_open(&r, path, &err), &err);
    uint64_t n = prw_ar_reader_num_records(r);
    prw_bytes rec;
    ASSERT_OK(prw_ar_reader_read(r, 0, &rec, &err), &err);
    prw_ipc_decoder *od, *id;
    prw_ipc_batch ob, ib;
    ASSERT_OK(prw_ipc_decoder_create(rec.ptr, rec.len, &od, &err), &err);
    ASSERT_OK(prw_ipc_decoder_next(od, &ob, &err), &err);
    prw_bytes m = prw_ipc_array_bytes(&ob.columns[1], 0);
    ASSERT_OK(prw_ipc_decoder_create(m.ptr, m.len, &id, &err), &err);
    ASSERT_OK(prw_ipc_decoder_next(id, &ib, &err), &err);
    int64_t tie = -1;
    for (int64_t k = 0; k + 1 < ib.length && tie < 0; k++)
        if (prw_ipc_array_int(&ib.columns[0], k) == prw_ipc_array_int(&ib.columns[0], k + 1) &&
            prw_ipc_array_float(&ib.columns[4], k) != prw_ipc_array_float(&ib.columns[4], k + 1))
            tie = k;
    prw_ipc_decoder_destroy(id);
    prw_ipc_decoder_destroy(od);
    size_t len = 0;
    uint8_t *swapped = tie >= 0 ? swap_rows(rec, tie, tie + 1, &len) : NULL;
    prw_ar_reader_close(r);
    ASSERT_TRUE(tie >= 0);
    ASSERT_TRUE(swapped != NULL);
    /* Write the file again with record 0 replaced. */
    size_t flen;
    uint8_t *img = th_read(path, &flen);
    ASSERT_TRUE(img != NULL);
    prw_ar_reader *src;
    prw_ar_writer *w;
    ASSERT_OK(prw_ar_reader_open_mem(&src, img, flen, &err), &err);
    ASSERT_OK(prw_ar_writer_open(&w, th_fmt("%s.new", path), NULL, &err), &err);
    bool ok = prw_ar_writer_add_record(w, swapped, len, &err) == PRW_OK;
    free(swapped);
    for (uint64_t i = 1; i < n && ok; i++)
        ok = prw_ar_reader_read(src, i, &rec, &err) == PRW_OK &&
             prw_ar_writer_add_record(w, rec.ptr, rec.len, &err) == PRW_OK;
    prw_ar_reader_close(src);
    ASSERT_TRUE(ok);
    ASSERT_OK(prw_ar_writer_close(w, &err), &err);
    ASSERT_TRUE(rename(th_fmt("%s.new", path), path) == 0);
    /* The output alone is still consistent (times non-decreasing, same counts)... */
    prw_verify_report rep;
    ASSERT_OK(run_verify(out, NULL, &rep, &err), &err);
    int64_t fails = rep.n_failures;
    prw_verify_report_cleanup(&rep);
    ASSERT_EQ_I64(fails, 0);
    /* ...but the tie is not in input order: only the input digest can tell. */
    ASSERT_OK(run_verify(out, BASE, &rep, &err), &err);
    fails = rep.n_failures;
    bool digest = has_failure(&rep, "input", NULL, "the digest");
    prw_verify_report_cleanup(&rep);
    ASSERT_TRUE(digest);
    ASSERT_EQ_I64(fails, 1);
}

TEST(verify_record_checks_on_fuzz_seeds) {
    size_t len;
    uint8_t *rec = th_read("fuzz/corpus/pl_verify_record/base_piece0.bin", &len);
    ASSERT_TRUE(rec != NULL && len > 1000);
    ASSERT_EQ_I64(prw__pl_verify_one_record(rec, len), 0);
    /* Each mutation of a field the record's own bytes can contradict is caught. */
    uint8_t *copy = malloc(len);
    ASSERT_TRUE(copy != NULL);
    int64_t caught = 0, tried = 0;
    for (size_t at = 0; at < len; at += 7) {
        memcpy(copy, rec, len);
        copy[at] ^= 0x01;
        tried++;
        caught += prw__pl_verify_one_record(copy, len) == 1;
    }
    memcpy(copy, rec, len);
    int64_t truncated = prw__pl_verify_one_record(copy, len - 8);
    free(copy);
    ASSERT_EQ_I64(truncated, 1);
    /* Bits of padding and of rtt/dst/ip_version values are free to change (the record stays
     * valid: only --input can tell); the rest is covered by a check. */
    ASSERT_TRUE(caught * 2 > tried);
}
