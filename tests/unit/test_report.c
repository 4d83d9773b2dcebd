/*
 * `proberows report`: its figures equal those of inspect and verify (and of the DuckDB-made
 * sample data's README) on build outputs of the fixtures; internal sums hold (every
 * measurement lands in exactly one time bin, one rtt class, one version class); sampling,
 * the manifest reader's errors, bad files, allocation failures and atomic writes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "proberows/pipeline.h"
#include "proberows/report.h"
#include "proberows/verify.h"
#include "report/rp_internal.h"

static prw_status build_one(const char *const *in, size_t n_in, const char *out, uint64_t max_row,
                            prw_split_rule split, int shards, prw_error *err) {
    prw_build_options o;
    prw_build_options_init(&o);
    o.inputs = in;
    o.n_inputs = n_in;
    o.output_dir = out;
    o.workers = 2;
    o.max_row_size = max_row;
    o.split = split;
    o.shards = shards;
    return prw_build(&o, NULL, err);
}

static prw_status report_of(const char *dir, uint64_t sample, prw_report **r, prw_error *err) {
    prw_report_options o;
    prw_report_options_init(&o);
    o.dir = dir;
    o.sample = sample;
    o.workers = 2;
    return prw_report_create(&o, r, err);
}

/* Every measurement of split s is in exactly one hour, version class and (for all splits
 * together) rtt class; the histograms hold every probe and record. */
static bool sums_hold(const prw_report *r) {
    uint64_t meas = 0, rtt = 0;
    for (int s = 0; s < RP_SPLITS; s++) {
        const rp_split *sp = &r->split[s];
        uint64_t hours = r->acc.null_time[s] + r->acc.time_outside[s], v = 0, p1 = 0, p2 = 0;
        uint64_t sizes = 0, pc = 0;
        for (size_t h = 0; h < r->acc.hours[s].n; h++)
            hours += r->acc.hours[s].count[h];
        for (int c = 0; c < RP_VCLASSES; c++)
            v += r->acc.meas[s][c];
        for (int k = 0; k < RP_125_BINS; k++)
            p1 += sp->meas_per_probe[k], p2 += sp->recs_per_probe[k];
        for (int k = 0; k < RP_SIZE_BINS; k++)
            sizes += sp->inner_size[k];
        for (int c = 0; c < RP_PCLASSES; c++)
            pc += sp->probes_by_class[c];
        if (hours != sp->measurements || v != sp->measurements || p1 != sp->probes ||
            p2 != sp->probes || pc != sp->probes || sizes != sp->read) {
            th_note("split %d: measurements %llu, hours %llu, versions %llu, probes %llu/%llu/"
                    "%llu/%llu, sizes %llu of %llu",
                    s, (unsigned long long)sp->measurements, (unsigned long long)hours,
                    (unsigned long long)v, (unsigned long long)sp->probes, (unsigned long long)p1,
                    (unsigned long long)p2, (unsigned long long)pc, (unsigned long long)sizes,
                    (unsigned long long)sp->read);
            return false;
        }
        meas += sp->measurements;
    }
    for (int c = 0; c < RP_VCLASSES; c++) {
        rtt += r->acc.rtt_failed[c] + r->acc.rtt_null[c] + r->acc.rtt_invalid[c];
        for (int k = 0; k < RP_RTT_BINS; k++)
            rtt += r->acc.rtt_bins[c][k];
    }
    return rtt == meas;
}

/* The report's figures of split s against prw_inspect_file of its (single) file. */
static bool equals_inspect(const rp_split *sp) {
    prw_inspect_stats st;
    prw_error err;
    if (prw_inspect_file(sp->files[0], 2, &st, &err) < 0) {
        th_note("inspect: %s", err.msg);
        return false;
    }
    const uint64_t got[] = {sp->records,
                            sp->probes,
                            sp->measurements,
                            sp->meas_min,
                            sp->meas_median,
                            sp->meas_max,
                            sp->rec_p50,
                            sp->rec_p99,
                            sp->rec_max,
                            sp->inner_p50,
                            sp->inner_p99,
                            sp->inner_max,
                            sp->bytes,
                            (uint64_t)sp->first_us,
                            (uint64_t)sp->last_us};
    const uint64_t want[] = {st.records,          st.probes,
                             st.measurements,     st.meas_min,
                             st.meas_median,      st.meas_max,
                             st.record_bytes.p50, st.record_bytes.p99,
                             st.record_bytes.max, st.inner_bytes.p50,
                             st.inner_bytes.p99,  st.inner_bytes.max,
                             st.file_size,        (uint64_t)st.first_us,
                             (uint64_t)st.last_us};
    for (size_t i = 0; i < sizeof got / sizeof got[0]; i++)
        if (got[i] != want[i]) {
            th_note("%s: figure %zu is %llu, inspect says %llu", sp->files[0], i,
                    (unsigned long long)got[i], (unsigned long long)want[i]);
            return false;
        }
    return true;
}

/* Against prw_verify (every record checked) and the manifest. */
static bool equals_verify(const prw_report *r) {
    prw_verify_options o;
    prw_verify_options_init(&o);
    o.dir = r->dir;
    o.workers = 2;
    prw_verify_report v;
    prw_error err;
    prw_status st = prw_verify(&o, &v, &err);
    bool ok = st == PRW_OK && v.n_failures == 0;
    for (int s = 0; ok && s < RP_SPLITS; s++)
        ok = (int64_t)r->split[s].probes == v.probes[s] &&
             (int64_t)r->split[s].records == v.records_split[s] &&
             (int64_t)r->split[s].measurements == v.measurements[s] &&
             (int64_t)r->split[s].bytes == r->man.bytes[s] &&
             (int64_t)r->split[s].probes == r->man.probes[s];
    if (!ok)
        th_note("%s: verify %d, %lld failures; or a split's figures differ", r->dir, st,
                (long long)v.n_failures);
    prw_verify_report_cleanup(&v);
    return ok;
}

TEST(report_figures_equal_inspect_and_verify) {
    static const struct {
        const char *input;
        uint64_t max_row;
        prw_split_rule split;
        int shards;
    } cases[] = {
        {"examples/*.parquet", 0, PRW_SPLIT_RATIO, 1},
        {"tests/fixtures/verify_base.parquet", 0, PRW_SPLIT_RATIO, 1},
        {"tests/fixtures/verify_base.parquet", 2048, PRW_SPLIT_RATIO, 1},
        {"tests/fixtures/verify_base.parquet", 3000, PRW_SPLIT_HASH, 3},
        {"tests/fixtures/nulls.parquet", 1024, PRW_SPLIT_RATIO, 1},
        {"tests/fixtures/one_probe.parquet", 4096, PRW_SPLIT_RATIO, 1},
        {"tests/fixtures/ipv6_long.parquet", 16384, PRW_SPLIT_RATIO, 1},
        {"tests/fixtures/empty.parquet", 0, PRW_SPLIT_RATIO, 1},
        {"tests/fixtures/all_null_src.parquet", 0, PRW_SPLIT_HASH, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *out = th_fmt("%s/rep%zu", th_tmpdir(), i);
        prw_error err;
        prw_error_clear(&err);
        ASSERT_OK(build_one(&cases[i].input, 1, out, cases[i].max_row, cases[i].split,
                            cases[i].shards, &err),
                  &err);
        prw_report *r;
        ASSERT_OK(report_of(out, 0, &r, &err), &err);
        bool ok = sums_hold(r) && equals_verify(r);
        for (int s = 0; ok && s < RP_SPLITS && cases[i].shards == 1; s++)
            ok = equals_inspect(&r->split[s]);
        char *html = NULL, *json = NULL;
        size_t hl, jl;
        prw_status hs = prw_report_render(r, PRW_REPORT_HTML, &html, &hl, &err);
        prw_status js = prw_report_render(r, PRW_REPORT_JSON, &json, &jl, &err);
        bool clean = hs == PRW_OK && js == PRW_OK && !strstr(html, "<script") &&
                     !strstr(html, "href=") && !strstr(html, "src=") && strlen(html) == hl;
        prw_report_free_text(html);
        prw_report_free_text(json);
        prw_report_destroy(r);
        if (!ok || !clean)
            th_note("case %zu (%s)", i, cases[i].input);
        ASSERT_TRUE(ok);
        ASSERT_TRUE(clean);
    }
}

/* examples/README.md states figures of the sample data that DuckDB computed when it made it. */
TEST(report_examples_match_the_duckdb_figures_of_their_readme) {
    const char *in[1] = {"examples/*.parquet"};
    const char *out = th_fmt("%s/ex", th_tmpdir());
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(build_one(in, 1, out, 0, PRW_SPLIT_RATIO, 1, &err), &err);
    prw_report *r;
    ASSERT_OK(report_of(out, 0, &r, &err), &err);
    const rp_split *t = &r->split[0], *e = &r->split[1];
    uint64_t failed = 0, nulls = 0;
    for (int c = 0; c < RP_VCLASSES; c++)
        failed += r->acc.rtt_failed[c], nulls += r->acc.rtt_null[c];
    uint64_t v6_probes = t->probes_by_class[RP_P_V6] + e->probes_by_class[RP_P_V6];
    uint64_t v6_rows = r->acc.meas[0][RP_V6] + r->acc.meas[1][RP_V6];
    uint64_t largest = r->n_top ? r->top[0].measurements : 0;
    int64_t hours = r->acc.hours[0].n ? (int64_t)r->acc.hours[0].n : -1;
    uint64_t probes = t->probes + e->probes, meas = t->measurements + e->measurements;
    prw_report_destroy(r);
    ASSERT_EQ_I64(probes, 400);
    ASSERT_EQ_I64(meas, 20000);
    ASSERT_EQ_I64(v6_probes, 160);
    ASSERT_EQ_I64(v6_rows, 7843);
    ASSERT_EQ_I64(largest, 1997);
    ASSERT_EQ_I64(failed, 2509);
    ASSERT_EQ_I64(nulls, 20);
    ASSERT_EQ_I64(hours, 2); /* 2024-03-01 00:00-02:00 */
}

TEST(report_sample_reads_n_records_per_split) {
    const char *in[1] = {"tests/fixtures/verify_base.parquet"};
    const char *out = th_fmt("%s/sample", th_tmpdir());
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(build_one(in, 1, out, 2048, PRW_SPLIT_RATIO, 2, &err), &err);
    prw_report *r;
    ASSERT_OK(report_of(out, 5, &r, &err), &err);
    uint64_t read[2] = {r->split[0].read, r->split[1].read};
    uint64_t recs[2] = {r->split[0].records, r->split[1].records};
    bool sums = sums_hold(r);
    char *html;
    size_t len;
    ASSERT_OK(prw_report_render(r, PRW_REPORT_HTML, &html, &len, &err), &err);
    bool says = strstr(html, "Sampled: ") != NULL;
    prw_report_free_text(html);
    prw_report_destroy(r);
    for (int s = 0; s < 2; s++)
        ASSERT_EQ_I64(read[s], recs[s] < 5 ? recs[s] : 5);
    ASSERT_TRUE(sums);
    ASSERT_TRUE(says);
}

TEST(report_rtt_bins_follow_their_published_edges) {
    for (int k = 1; k < RP_RTT_BINS; k++) {
        float e = (float)prw__rp_rtt_edge(k);
        ASSERT_TRUE((double)e == prw__rp_rtt_edge(k)); /* edges are floats: exact compares */
        ASSERT_EQ_I64(prw__rp_rtt_bin(e), k);
        ASSERT_EQ_I64(prw__rp_rtt_bin(nextafterf(e, 0)), k - 1);
    }
    ASSERT_EQ_I64(prw__rp_rtt_bin(0.0f), 0);
    ASSERT_EQ_I64(prw__rp_rtt_bin(1e30f), RP_RTT_BINS - 1);
    ASSERT_EQ_I64(prw__rp_bin125(1), 0);
    ASSERT_EQ_I64(prw__rp_bin125(4), 1);
    ASSERT_EQ_I64(prw__rp_bin125(5), 2);
    ASSERT_EQ_I64(prw__rp_bin125(1999), 9);
    ASSERT_EQ_I64(prw__rp_bin_log2(8388608), 23);
    ASSERT_EQ_I64(prw__rp_bin_log2(8388607), 22);
}

TEST(report_formats_numbers_for_people) {
    char b[32];
    ASSERT_EQ_STR(prw__rp_fmt_count(950, b, sizeof b), "950");
    ASSERT_EQ_STR(prw__rp_fmt_count(1234567, b, sizeof b), "1.23M");
    ASSERT_EQ_STR(prw__rp_fmt_count(12300, b, sizeof b), "12.3k");
    ASSERT_EQ_STR(prw__rp_fmt_count(999999, b, sizeof b), "1M");
    ASSERT_EQ_STR(prw__rp_fmt_count(0.5, b, sizeof b), "0.5");
    ASSERT_EQ_STR(prw__rp_fmt_bytes(3.4 * 1073741824.0, b, sizeof b), "3.4 GiB");
    ASSERT_EQ_STR(prw__rp_fmt_bytes(8388608, b, sizeof b), "8 MiB");
    ASSERT_EQ_STR(prw__rp_fmt_bytes(512, b, sizeof b), "512 B");
    ASSERT_EQ_STR(prw__rp_fmt_ms(0.25, b, sizeof b), "0.25 ms");
    ASSERT_EQ_STR(prw__rp_fmt_ms(1500, b, sizeof b), "1.5 s");
    ASSERT_EQ_STR(prw__rp_fmt_date(1772323200000000LL, false, b, sizeof b), "2026-03-01");
    ASSERT_EQ_STR(prw__rp_fmt_date(1772323200000000LL + 3600000000LL * 14, true, b, sizeof b),
                  "2026-03-01 14:00");
    ASSERT_EQ_STR(prw__rp_fmt_pct(0.125, b, sizeof b), "12.5%");
    ASSERT_EQ_STR(prw__rp_fmt_pct(0.0001, b, sizeof b), "<0.1%");
}

TEST(report_manifest_reader_errors_name_field_and_offset) {
    rp_manifest m;
    prw_error err;
    prw_error_clear(&err);
    const char *good =
        "{\"options\": {\"max_row_size\": 100, \"shards\": 1, \"x\": [1, {\"a\": null}]},"
        " \"rows_read\": 9, \"dropped\": {\"null_src_addr\": 1, \"null_event_time\": 2,"
        " \"null_rtt\": 3}, \"splits\": {\"train\": {\"probes\": 1, \"records\": 2,"
        " \"measurements\": 4, \"bytes\": 5, \"files\": 1}, \"test\": {\"probes\": 0,"
        " \"records\": 0, \"measurements\": 0, \"bytes\": 6, \"files\": 1}}, \"s\": \"a\\\"}\"}";
    ASSERT_OK(prw__rp_manifest_parse(good, strlen(good), &m, &err), &err);
    ASSERT_EQ_I64(m.max_row_size, 100);
    ASSERT_EQ_I64(m.dropped_null_rtt, 3);
    ASSERT_EQ_I64(m.bytes[1], 6);
    ASSERT_EQ_I64(m.rows_written, -1); /* optional, absent */
    const char *missing = "{\"options\": {\"max_row_size\": 1}}";
    ASSERT_ERR(prw__rp_manifest_parse(missing, strlen(missing), &m, &err), PRW_E_CORRUPT);
    ASSERT_TRUE(strstr(err.msg, "options.shards") != NULL);
    const char *bad = "{\"rows_read\": 1,, }";
    ASSERT_ERR(prw__rp_manifest_parse(bad, strlen(bad), &m, &err), PRW_E_CORRUPT);
    ASSERT_EQ_I64(err.offset, 16);
    const char *frac = "{\"rows_read\": 1.5}";
    ASSERT_ERR(prw__rp_manifest_parse(frac, strlen(frac), &m, &err), PRW_E_CORRUPT);
    ASSERT_TRUE(strstr(err.msg, "rows_read is not a non-negative integer") != NULL);
    char deep[200];
    memset(deep, '[', sizeof deep);
    deep[0] = '{';
    ASSERT_ERR(prw__rp_manifest_parse(deep, sizeof deep, &m, &err), PRW_E_CORRUPT);
    const char *cut = "{\"rows_read\": \"ab";
    ASSERT_ERR(prw__rp_manifest_parse(cut, strlen(cut), &m, &err), PRW_E_CORRUPT);
}

static bool flip_byte(const char *path, long at) {
    FILE *f = fopen(path, "r+b");
    if (!f)
        return false;
    int c = fseek(f, at, SEEK_SET) == 0 ? fgetc(f) : EOF;
    bool ok = c != EOF && fseek(f, at, SEEK_SET) == 0 && fputc(c ^ 0x55, f) != EOF;
    return fclose(f) == 0 && ok;
}

TEST(report_errors_name_the_file_and_leave_no_output) {
    const char *in[1] = {"tests/fixtures/verify_base.parquet"};
    const char *out = th_fmt("%s/bad", th_tmpdir());
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(build_one(in, 1, out, 0, PRW_SPLIT_RATIO, 1, &err), &err);
    prw_report *r = NULL;
    ASSERT_ERR(report_of(th_fmt("%s/nothing", th_tmpdir()), 0, &r, &err), PRW_E_IO);
    ASSERT_TRUE(strstr(err.msg, "manifest.json") != NULL);
    ASSERT_TRUE(r == NULL);
    ASSERT_ERR(report_of(NULL, 0, &r, &err), PRW_E_INVALID);
    /* A record's data changed: the reader's hash catches it, the message names the file. */
    ASSERT_TRUE(flip_byte(th_fmt("%s/train.arrayrecord", out), 200));
    prw_status st = report_of(out, 0, &r, &err);
    ASSERT_TRUE(st < 0);
    ASSERT_TRUE(strstr(err.msg, "train.arrayrecord") != NULL);
    /* A write that cannot happen leaves nothing behind. */
    const char *good = th_fmt("%s/good", th_tmpdir());
    ASSERT_OK(build_one(in, 1, good, 0, PRW_SPLIT_RATIO, 1, &err), &err);
    ASSERT_OK(report_of(good, 0, &r, &err), &err);
    const char *dest = th_fmt("%s/no/such/dir/report.html", th_tmpdir());
    st = prw_report_write(r, PRW_REPORT_HTML, dest, &err);
    prw_status fmt =
        prw_report_render(r, (prw_report_format)7, &(char *){NULL}, &(size_t){0}, &err);
    prw_report_destroy(r);
    ASSERT_ERR(st, PRW_E_IO);
    ASSERT_ERR(fmt, PRW_E_INVALID);
    ASSERT_TRUE(fopen(dest, "rb") == NULL);
}

TEST(report_survives_every_allocation_failure) {
    const char *in[1] = {"tests/fixtures/verify_base.parquet"};
    const char *out = th_fmt("%s/oom", th_tmpdir());
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(build_one(in, 1, out, 2048, PRW_SPLIT_RATIO, 2, &err), &err);
    bool completed = false;
    for (int64_t n = 1; n < 5000 && !completed; n++) {
        prw_alloc_fail_after(n);
        prw_report *r = NULL;
        prw_report_options o;
        prw_report_options_init(&o);
        o.dir = out;
        o.workers = 1;
        prw_status st = prw_report_create(&o, &r, &err);
        char *text = NULL;
        size_t len;
        if (st == PRW_OK)
            st = prw_report_render(r, PRW_REPORT_HTML, &text, &len, &err);
        prw_report_free_text(text);
        text = NULL;
        if (st == PRW_OK)
            st = prw_report_render(r, PRW_REPORT_JSON, &text, &len, &err);
        prw_report_free_text(text);
        prw_report_destroy(r);
        prw_alloc_fail_after(0);
        if (st < 0 && st != PRW_E_NOMEM)
            th_note("n=%lld: %s", (long long)n, err.msg);
        if (st < 0)
            ASSERT_ERR(st, PRW_E_NOMEM);
        completed = st == PRW_OK;
    }
    ASSERT_TRUE(completed);
}
