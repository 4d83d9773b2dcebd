/*
 * Known writer bugs through the pipeline: every call that opens Parquet inputs (prw_build in
 * memory and bounded, build --plan, prw_plan, prw_map, prw_verify with inputs) passes each file
 * read with a workaround to its warning callback exactly once, and the build counts it in
 * prw_build_stats.files_writer_bug; an intact file gives no call. The fixture is
 * tests/fixtures/verify_base.parquet with a PARQUET-816 footer
 * (tests/cli/build_known_writer_bug.cmd says how it was made).
 */
#include <string.h>

#include "harness.h"
#include "proberows/pipeline.h"
#include "proberows/scaleout.h"
#include "proberows/verify.h"

#define MR "tests/fixtures/faults/probes_parquet_mr_816.parquet"
#define INTACT "tests/fixtures/verify_base.parquet"

typedef struct seen {
    int calls;
    char path[512];
    char message[512];
} seen;

static void on_warning(void *ctx, const char *path, const char *message) {
    seen *s = ctx;
    s->calls++;
    snprintf(s->path, sizeof s->path, "%s", path);
    snprintf(s->message, sizeof s->message, "%s", message);
}

static prw_status build(const char *const *in, size_t nin, const char *out, uint64_t limit, seen *s,
                        prw_build_stats *st, prw_error *err) {
    prw_build_options o;
    prw_build_options_init(&o);
    o.inputs = in;
    o.n_inputs = nin;
    o.output_dir = out;
    o.workers = 2;
    o.memory_limit = limit;
    o.warning = on_warning;
    o.warning_ctx = s;
    return prw_build(&o, st, err);
}

TEST(writer_bug_build_warns_once_per_file_and_counts) {
    const char *in[] = {MR, INTACT};
    const uint64_t limits[] = {0, 40u << 20}; /* in memory; bounded (the inputs are reopened) */
    for (int i = 0; i < 2; i++) {
        seen s = {0};
        prw_build_stats st;
        prw_error err;
        prw_error_clear(&err);
        ASSERT_OK(build(in, 2, th_fmt("%s/b%d", th_tmpdir(), i), limits[i], &s, &st, &err), &err);
        ASSERT_EQ_I64(s.calls, 1);
        ASSERT_EQ_STR(s.path, MR);
        ASSERT_TRUE(strstr(s.message, "parquet-mr before 1.2.9") != NULL);
        ASSERT_TRUE(strstr(s.message, "PARQUET-816") != NULL);
        ASSERT_EQ_I64(st.files_writer_bug, 1);
        ASSERT_EQ_I64(st.files, 2);
        ASSERT_EQ_I64(st.spilled, i == 1);
    }
    /* Two affected files: one call each; a file matched twice is one file. */
    const char *copy = th_fmt("%s/copy.parquet", th_tmpdir());
    ASSERT_EQ_I64(th_sh(th_fmt("cp %s %s", MR, copy)), 0);
    const char *two[] = {MR, INTACT, MR, copy};
    seen s = {0};
    prw_build_stats st;
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(build(two, 4, th_fmt("%s/b2", th_tmpdir()), 0, &s, &st, &err), &err);
    ASSERT_EQ_I64(st.files, 3);
    ASSERT_EQ_I64(s.calls, 2);
    ASSERT_EQ_I64(st.files_writer_bug, 2);
    /* No callback: still counted. An intact file: neither. */
    prw_build_options o;
    prw_build_options_init(&o);
    o.inputs = in;
    o.n_inputs = 1;
    o.output_dir = th_fmt("%s/b3", th_tmpdir());
    ASSERT_OK(prw_build(&o, &st, &err), &err);
    ASSERT_EQ_I64(st.files_writer_bug, 1);
    memset(&s, 0, sizeof s);
    ASSERT_OK(build(in + 1, 1, th_fmt("%s/b4", th_tmpdir()), 0, &s, &st, &err), &err);
    ASSERT_EQ_I64(s.calls, 0);
    ASSERT_EQ_I64(st.files_writer_bug, 0);
}

TEST(writer_bug_plan_map_build_plan_and_verify_warn_once) {
    const char *in[] = {MR};
    const char *dir = th_fmt("%s/so", th_tmpdir());
    prw_error err;
    prw_error_clear(&err);
    seen s = {0};
    prw_build_options o;
    prw_build_options_init(&o);
    o.inputs = in;
    o.n_inputs = 1;
    o.output_dir = dir;
    o.warning = on_warning;
    o.warning_ctx = &s;
    ASSERT_OK(prw_plan(&o, 1, 1, NULL, &err), &err);
    ASSERT_EQ_I64(s.calls, 1);
    ASSERT_TRUE(strstr(s.path, MR) != NULL); /* the plan's paths are absolute */
    const char *pj = th_fmt("%s/plan.json", dir);
    memset(&s, 0, sizeof s);
    ASSERT_OK(prw_map(pj, 0, 0, on_warning, &s, &err), &err);
    ASSERT_EQ_I64(s.calls, 1);
    ASSERT_OK(prw_map(pj, 0, 0, NULL, NULL, &err), &err); /* no callback: fine */
    ASSERT_OK(prw_reduce(pj, 0, 1, NULL, &err), &err);
    ASSERT_OK(prw_finalize(pj, NULL, &err), &err);

    memset(&s, 0, sizeof s);
    prw_build_options_init(&o);
    o.plan = pj;
    o.output_dir = th_fmt("%s/ref", dir);
    o.warning = on_warning;
    o.warning_ctx = &s;
    prw_build_stats st;
    ASSERT_OK(prw_build(&o, &st, &err), &err);
    ASSERT_EQ_I64(s.calls, 1);
    ASSERT_EQ_I64(st.files_writer_bug, 1);

    memset(&s, 0, sizeof s);
    prw_verify_options vo;
    prw_verify_options_init(&vo);
    vo.dir = dir;
    vo.inputs = in;
    vo.n_inputs = 1;
    vo.workers = 2;
    vo.warning = on_warning;
    vo.warning_ctx = &s;
    prw_verify_report rep;
    ASSERT_OK(prw_verify(&vo, &rep, &err), &err);
    ASSERT_EQ_I64(rep.n_failures, 0);
    ASSERT_TRUE(rep.input_checked);
    prw_verify_report_cleanup(&rep);
    ASSERT_EQ_I64(s.calls, 1);
    ASSERT_EQ_STR(s.path, MR);
}
