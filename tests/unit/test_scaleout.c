/*
 * Scale-out (issue 9, scaleout.h): plan -> map tasks -> reduce tasks -> finalize must give the
 * same bytes as `build --plan` for any numbers of map and reduce tasks; the union of the
 * shards must hold the records of a plain build in the same order; a map task that dies
 * mid-write and runs again gives the same files; missing, damaged or stale run files and
 * outputs fail clearly; the plan is deterministic and its files are checked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"
#include "scaleout/so_run.h"
#include "harness.h"
#include "proberows/arrayrecord.h"
#include "proberows/pipeline.h"
#include "proberows/scaleout.h"

static const char *const g_fixtures[] = {
    "tests/fixtures/all_null_src.parquet",
    "tests/fixtures/dominant_probe.parquet",
    "tests/fixtures/empty.parquet",
    "tests/fixtures/ipv6_long.parquet",
    "tests/fixtures/nulls.parquet",
    "tests/fixtures/one_probe.parquet",
    "tests/fixtures/types_ns_float.parquet",
    "tests/fixtures/verify_base.parquet",
    /* same probes and timestamps in every file: input order decides every tie */
    "tests/fixtures/scaleout/ties_*.parquet",
};
#define NFIX (sizeof g_fixtures / sizeof g_fixtures[0])

static bool same_file(const char *a, const char *b) {
    size_t na = 0, nb = 0;
    uint8_t *x = th_read(a, &na), *y = th_read(b, &nb);
    return x && y && na == nb && memcmp(x, y, na) == 0;
}

static const char *shard(const char *dir, const char *split, int k, int n) {
    if (n <= 1)
        return th_fmt("%s/%s.arrayrecord", dir, split);
    return th_fmt("%s/%s.arrayrecord-%05d-of-%05d", dir, split, k, n);
}

static prw_status plan(const char *const *in, size_t nin, const char *dir, int M, int N,
                       const prw_build_options *tweak, prw_error *err) {
    prw_build_options o;
    if (tweak)
        o = *tweak;
    else
        prw_build_options_init(&o);
    o.inputs = in;
    o.n_inputs = nin;
    o.output_dir = dir;
    return prw_plan(&o, M, N, NULL, err);
}

static prw_status build_plan(const char *plan_path, const char *out, prw_error *err) {
    prw_build_options o;
    prw_build_options_init(&o);
    o.plan = plan_path;
    o.output_dir = out;
    o.workers = 2;
    return prw_build(&o, NULL, err);
}

/* Every reduce (in reverse order: tasks are independent) of the plan in dir, whose map tasks
 * ran, then finalize and build --plan into DIR/ref; every shard must be byte-identical. */
static void reduce_and_compare(const char *dir, int N) {
    prw_error err;
    prw_error_clear(&err);
    const char *pj = th_fmt("%s/plan.json", dir);
    for (int k = N - 1; k >= 0; k--)
        ASSERT_OK(prw_reduce(pj, k, 1 + k % 2, NULL, &err), &err);
    prw_build_stats fs;
    ASSERT_OK(prw_finalize(pj, &fs, &err), &err);
    ASSERT_TRUE(access(th_fmt("%s/.runs", dir), F_OK) != 0);
    ASSERT_TRUE(access(th_fmt("%s/manifest.json", dir), F_OK) == 0);
    const char *ref = th_fmt("%s/ref", dir);
    prw_build_stats bs;
    prw_build_options o;
    prw_build_options_init(&o);
    o.plan = pj;
    o.output_dir = ref;
    o.workers = 2;
    ASSERT_OK(prw_build(&o, &bs, &err), &err);
    for (int k = 0; k < N; k++) {
        ASSERT_TRUE(same_file(shard(ref, "train", k, N), shard(dir, "train", k, N)));
        ASSERT_TRUE(same_file(shard(ref, "test", k, N), shard(dir, "test", k, N)));
    }
    for (int s = 0; s < 2; s++) {
        ASSERT_EQ_I64(fs.split[s].probes, bs.split[s].probes);
        ASSERT_EQ_I64(fs.split[s].records, bs.split[s].records);
        ASSERT_EQ_I64(fs.split[s].measurements, bs.split[s].measurements);
        ASSERT_EQ_I64(fs.split[s].bytes, bs.split[s].bytes);
    }
    ASSERT_EQ_I64(fs.rows_read, bs.rows_read);
    ASSERT_EQ_I64(fs.dropped_null_src_addr, bs.dropped_null_src_addr);
    ASSERT_EQ_I64(fs.dropped_null_rtt, bs.dropped_null_rtt);
}

/* plan, every map, then reduce_and_compare. */
static void run_and_compare(const char *const *in, size_t nin, const char *dir, int M, int N,
                            const prw_build_options *tweak) {
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(plan(in, nin, dir, M, N, tweak, &err), &err);
    const char *pj = th_fmt("%s/plan.json", dir);
    for (int i = 0; i < M; i++)
        ASSERT_OK(prw_map(pj, i, 0, NULL, NULL, &err), &err);
    reduce_and_compare(dir, N);
}

/* The block count in a run file's trailer. */
static uint64_t run_blocks(const char *path) {
    size_t n = 0;
    uint8_t *b = th_read(path, &n);
    return b && n >= PRW_SO_RUN_TRAILER ? prw__load_le64(b + n - PRW_SO_RUN_TRAILER + 8) : 0;
}

TEST(so_fixtures_identical_to_build_plan) {
    static const int counts[] = {1, 3, 7};
    const char *d = th_tmpdir();
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            run_and_compare(g_fixtures, NFIX, th_fmt("%s/m%d_r%d", d, counts[a], counts[b]),
                            counts[a], counts[b], NULL);
}

TEST(so_ties_across_map_tasks_keep_input_order) {
    static const int counts[] = {1, 3, 7};
    const char *ties[] = {"tests/fixtures/scaleout/ties_*.parquet"};
    const char *d = th_tmpdir();
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            run_and_compare(ties, 1, th_fmt("%s/m%d_r%d", d, counts[a], counts[b]), counts[a],
                            counts[b], NULL);
}

TEST(so_options_travel_through_the_plan) {
    const char *d = th_tmpdir();
    prw_build_options o;
    prw_build_options_init(&o);
    o.split = PRW_SPLIT_HASH;
    o.train_ratio = 0.7;
    o.null_rtt = PRW_NULL_RTT_DROP;
    o.max_row_size = 2048; /* probes cut into several records */
    o.ar_options = "group_size:3,zstd:1";
    run_and_compare(g_fixtures, NFIX, th_fmt("%s/a", d), 3, 7, &o);
    o.split = PRW_SPLIT_RATIO;
    o.null_rtt = PRW_NULL_RTT_FAILED;
    o.ar_options = "group_size:1,snappy";
    run_and_compare(g_fixtures, NFIX, th_fmt("%s/b", d), 7, 3, &o);
}

TEST(so_writer_matrix_identical_to_build_plan) {
    REQUIRE_SHARED(shared);
    const char *in[] = {
        th_fmt("%s/testdata/parquet/writers/v*.parquet", shared),
        th_fmt("%s/testdata/parquet/writers/sharded3/*.parquet", shared),
    };
    static const int counts[] = {1, 3, 7};
    const char *d = th_tmpdir();
    for (int a = 0; a < 3; a++)
        run_and_compare(in, 2, th_fmt("%s/m%d", d, counts[a]), counts[a], counts[2 - a], NULL);
    run_and_compare(in, 2, th_fmt("%s/m7b", d), 7, 7, NULL);
}

/* All records of a split, shard after shard, equal the single-file build's records. */
static void expect_same_records(const char *one, const char *dir, const char *split, int N) {
    prw_error err;
    prw_error_clear(&err);
    prw_ar_reader *r = NULL;
    ASSERT_OK(prw_ar_reader_open(&r, th_fmt("%s/%s.arrayrecord", one, split), &err), &err);
    uint64_t total = prw_ar_reader_num_records(r), seen = 0;
    for (int k = 0; k < N; k++) {
        prw_ar_reader *s = NULL;
        ASSERT_OK(prw_ar_reader_open(&s, shard(dir, split, k, N), &err), &err);
        prw_bytes a, b;
        for (uint64_t i = 0; i < prw_ar_reader_num_records(s); i++, seen++) {
            ASSERT_OK(prw_ar_reader_read(s, i, &a, &err), &err);
            ASSERT_OK(prw_ar_reader_read(r, seen, &b, &err), &err);
            ASSERT_EQ_U64(a.len, b.len);
            ASSERT_TRUE(memcmp(a.ptr, b.ptr, a.len) == 0);
        }
        prw_ar_reader_close(s);
    }
    ASSERT_EQ_U64(seen, total);
    prw_ar_reader_close(r);
}

/* Map tasks that write every part's pending rows often (small blocks, many per part) give the
 * same output; the budget only changes how the run files are cut into blocks. */
TEST(so_small_pending_budget_gives_same_output) {
    const char *dir = th_fmt("%s/p", th_tmpdir());
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(plan(g_fixtures, NFIX, dir, 2, 3, NULL, &err), &err);
    const char *pj = th_fmt("%s/plan.json", dir);
    const char *run = th_fmt("%s/.runs/map-00001-range-00001.run", dir);
    ASSERT_OK(prw_map(pj, 1, 0, NULL, NULL, &err), &err);
    uint64_t blocks = run_blocks(run);
    prw__map_set_pending_rows(700);
    prw_status st = prw_map(pj, 0, 0, NULL, NULL, &err);
    if (st == PRW_OK)
        st = prw_map(pj, 1, 0, NULL, NULL, &err);
    prw__map_set_pending_rows(0);
    ASSERT_OK(st, &err);
    ASSERT_TRUE(blocks > 0 && run_blocks(run) > blocks);
    reduce_and_compare(dir, 3);
}

/* The run files of map tasks decoding on 2 or 3 threads are those of one thread, byte for
 * byte (a file's dictionary follows its rows' order, not the string ids' order). */
TEST(so_map_workers_write_the_same_run_files) {
    const char *d = th_tmpdir();
    const char *in[NFIX + 1];
    memcpy(in, g_fixtures, sizeof g_fixtures);
    size_t nin = NFIX;
    const char *shared = th_shared_dir();
    if (shared)
        in[nin++] = th_fmt("%s/testdata/parquet/writers/v*.parquet", shared);
    prw_error err;
    prw_error_clear(&err);
    const char *dir = th_fmt("%s/p", d), *pj = th_fmt("%s/p/plan.json", d);
    ASSERT_OK(plan(in, nin, dir, 2, 3, NULL, &err), &err);
    static const int workers[] = {1, 2, 3};
    for (int w = 0; w < 3; w++) {
        for (int t = 0; t < 2; t++)
            ASSERT_OK(prw_map(pj, t, workers[w], NULL, NULL, &err), &err);
        ASSERT_EQ_I64(
            th_sh(th_fmt("mkdir -p '%s/w%d' && cp '%s'/.runs/* '%s/w%d/'", d, w, dir, d, w)), 0);
    }
    for (int w = 1; w < 3; w++)
        for (int t = 0; t < 2; t++) {
            ASSERT_TRUE(same_file(th_fmt("%s/w0/map-%05d.json", d, t),
                                  th_fmt("%s/w%d/map-%05d.json", d, w, t)));
            for (int k = 0; k < 3; k++) {
                const char *name = th_fmt("map-%05d-range-%05d.run", t, k);
                ASSERT_TRUE(
                    same_file(th_fmt("%s/w0/%s", d, name), th_fmt("%s/w%d/%s", d, w, name)));
            }
        }
    reduce_and_compare(dir, 3);
}

/* An input changed after planning fails the map task with the same message on any number of
 * threads (the first failing row group in input order), and nothing leaks of the row groups
 * still decoding. */
TEST(so_map_workers_fail_like_one_thread) {
    const char *d = th_tmpdir();
    const char *a = th_fmt("%s/a.parquet", d), *b = th_fmt("%s/b.parquet", d);
    ASSERT_EQ_I64(th_sh(th_fmt("cp tests/fixtures/verify_base.parquet '%s' && "
                               "cp tests/fixtures/nulls.parquet '%s'",
                               a, b)),
                  0);
    const char *ins[] = {a, b, "tests/fixtures/dominant_probe.parquet"};
    prw_error err;
    prw_error_clear(&err);
    const char *dir = th_fmt("%s/p", d), *pj = th_fmt("%s/p/plan.json", d);
    ASSERT_OK(plan(ins, 3, dir, 1, 2, NULL, &err), &err);
    ASSERT_EQ_I64(th_sh(th_fmt("cp tests/fixtures/one_probe.parquet '%s'", b)), 0);
    ASSERT_ERR(prw_map(pj, 0, 1, NULL, NULL, &err), PRW_E_CORRUPT);
    char one[sizeof err.msg];
    memcpy(one, err.msg, sizeof one);
    ASSERT_TRUE(strstr(one, "b.parquet") != NULL);
    for (int w = 2; w <= 4; w++) {
        ASSERT_ERR(prw_map(pj, 0, w, NULL, NULL, &err), PRW_E_CORRUPT);
        ASSERT_TRUE(strcmp(err.msg, one) == 0);
    }
    ASSERT_ERR(prw_map(pj, 0, -1, NULL, NULL, &err), PRW_E_INVALID);
}

TEST(so_union_of_shards_equals_plain_build) {
    const char *d = th_tmpdir();
    run_and_compare(g_fixtures, NFIX, th_fmt("%s/p", d), 3, 7, NULL);
    prw_build_options o;
    prw_build_options_init(&o);
    o.inputs = g_fixtures;
    o.n_inputs = NFIX;
    o.output_dir = th_fmt("%s/one", d);
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(prw_build(&o, NULL, &err), &err);
    expect_same_records(o.output_dir, th_fmt("%s/p", d), "train", 7);
    expect_same_records(o.output_dir, th_fmt("%s/p", d), "test", 7);
}

TEST(so_plan_is_deterministic_and_balanced) {
    const char *d = th_tmpdir();
    prw_error err;
    prw_error_clear(&err);
    prw_plan_stats st;
    prw_build_options o;
    prw_build_options_init(&o);
    o.inputs = g_fixtures;
    o.n_inputs = NFIX;
    o.output_dir = th_fmt("%s/a", d);
    ASSERT_OK(prw_plan(&o, 3, 4, &st, &err), &err);
    o.output_dir = th_fmt("%s/b", d);
    ASSERT_OK(prw_plan(&o, 3, 4, NULL, &err), &err);
    ASSERT_TRUE(same_file(th_fmt("%s/a/plan.json", d), th_fmt("%s/b/plan.json", d)));
    ASSERT_TRUE(same_file(th_fmt("%s/a/plan.probes", d), th_fmt("%s/b/plan.probes", d)));
    ASSERT_EQ_I64(st.files, (int64_t)NFIX + 4);
    /* The probe count and cut equal the single-machine build's. */
    prw_build_stats bs;
    o.output_dir = th_fmt("%s/build", d);
    ASSERT_OK(prw_build(&o, &bs, &err), &err);
    ASSERT_EQ_I64(st.probes, bs.split[0].probes + bs.split[1].probes);
    ASSERT_EQ_I64(st.train_probes, bs.split[0].probes);
    /* Bad task counts and options. */
    ASSERT_ERR(prw_plan(&o, 0, 4, NULL, &err), PRW_E_INVALID);
    ASSERT_ERR(prw_plan(&o, 3, 100000, NULL, &err), PRW_E_INVALID);
    o.shards = 3;
    ASSERT_ERR(prw_plan(&o, 3, 4, NULL, &err), PRW_E_INVALID);
}

static void copy_tree_files(const char *from, const char *to) {
    ASSERT_EQ_I64(th_sh(th_fmt("rm -rf '%s' && cp -r '%s' '%s'", to, from, to)), 0);
}

TEST(so_map_failed_mid_write_then_rerun_gives_same_files) {
    const char *d = th_tmpdir();
    const char *dir = th_fmt("%s/p", d), *pj = th_fmt("%s/p/plan.json", d);
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(plan(g_fixtures, NFIX, dir, 2, 3, NULL, &err), &err);
    ASSERT_OK(prw_map(pj, 0, 0, NULL, NULL, &err), &err);
    copy_tree_files(th_fmt("%s/.runs", dir), th_fmt("%s/clean", d));
    ASSERT_EQ_I64(th_sh(th_fmt("rm -rf '%s/.runs'", dir)), 0);
    /* ENOSPC after a few KiB: the task fails naming the file and leaves no run file. */
    prw__io_inject_write_fault(3000, ENOSPC);
    prw_status st = prw_map(pj, 0, 0, NULL, NULL, &err);
    prw__io_inject_write_fault(-1, 0);
    ASSERT_ERR(st, PRW_E_IO);
    ASSERT_TRUE(strstr(err.msg, ".runs/") != NULL);
    for (int k = 0; k < 3; k++)
        ASSERT_TRUE(access(th_fmt("%s/.runs/map-00000-range-%05d.run", dir, k), F_OK) != 0);
    ASSERT_OK(prw_map(pj, 0, 0, NULL, NULL, &err), &err);
    for (int k = 0; k < 3; k++)
        ASSERT_TRUE(same_file(th_fmt("%s/.runs/map-00000-range-%05d.run", dir, k),
                              th_fmt("%s/clean/map-00000-range-%05d.run", d, k)));
    /* Rerunning a finished task rewrites the same bytes. */
    ASSERT_OK(prw_map(pj, 0, 0, NULL, NULL, &err), &err);
    for (int k = 0; k < 3; k++)
        ASSERT_TRUE(same_file(th_fmt("%s/.runs/map-00000-range-%05d.run", dir, k),
                              th_fmt("%s/clean/map-00000-range-%05d.run", d, k)));
}

TEST(so_map_killed_by_signal_then_rerun_gives_same_output) {
    const char *d = th_tmpdir();
    const char *dir = th_fmt("%s/p", d), *pj = th_fmt("%s/p/plan.json", d);
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(plan(g_fixtures, NFIX, dir, 1, 3, NULL, &err), &err);
    ASSERT_OK(build_plan(pj, th_fmt("%s/ref", d), &err), &err);
    /* A separate process killed (SIGKILL) after a random short time, then run again. */
    for (int t = 0; t < 4; t++)
        th_sh(th_fmt("%s map --plan '%s' --task 0 & p=$!; sleep 0.00%d; kill -9 $p 2>/dev/null; "
                     "wait $p 2>/dev/null",
                     th_cli(), pj, t * 3));
    ASSERT_EQ_I64(th_sh(th_fmt("%s map --plan '%s' --task 0", th_cli(), pj)), 0);
    for (int k = 0; k < 3; k++)
        ASSERT_OK(prw_reduce(pj, k, 2, NULL, &err), &err);
    ASSERT_OK(prw_finalize(pj, NULL, &err), &err);
    for (int k = 0; k < 3; k++) {
        ASSERT_TRUE(
            same_file(shard(th_fmt("%s/ref", d), "train", k, 3), shard(dir, "train", k, 3)));
        ASSERT_TRUE(same_file(shard(th_fmt("%s/ref", d), "test", k, 3), shard(dir, "test", k, 3)));
    }
}

/* A planned and mapped directory with M map tasks and N reduce tasks. */
static const char *mapped(const char *dir, int M, int N) {
    prw_error err;
    prw_error_clear(&err);
    const char *pj = th_fmt("%s/plan.json", dir);
    if (plan(g_fixtures, NFIX, dir, M, N, NULL, &err) != PRW_OK)
        return NULL;
    for (int i = 0; i < M; i++)
        if (prw_map(pj, i, 0, NULL, NULL, &err) != PRW_OK)
            return NULL;
    return pj;
}

TEST(so_missing_run_file_fails_clearly) {
    const char *d = th_tmpdir();
    const char *pj = mapped(d, 2, 2);
    ASSERT_TRUE(pj != NULL);
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(prw_reduce(pj, 0, 1, NULL, &err), &err);
    ASSERT_OK(prw_reduce(pj, 1, 1, NULL, &err), &err);
    ASSERT_EQ_I64(unlink(th_fmt("%s/.runs/map-00001-range-00001.run", d)), 0);
    ASSERT_ERR(prw_reduce(pj, 1, 1, NULL, &err), PRW_E_IO);
    ASSERT_TRUE(strstr(err.msg, "map-00001-range-00001.run") != NULL);
    ASSERT_TRUE(strstr(err.msg, "map task 1") != NULL);
    ASSERT_ERR(prw_finalize(pj, NULL, &err), PRW_E_IO);
    ASSERT_TRUE(strstr(err.msg, "map-00001-range-00001.run") != NULL);
    ASSERT_TRUE(access(th_fmt("%s/manifest.json", d), F_OK) != 0);
}

TEST(so_finalize_checks_every_part) {
    const char *d = th_tmpdir();
    const char *pj = mapped(d, 1, 3);
    ASSERT_TRUE(pj != NULL);
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(prw_reduce(pj, 0, 1, NULL, &err), &err);
    ASSERT_OK(prw_reduce(pj, 2, 1, NULL, &err), &err);
    /* Reduce task 1 never ran. */
    ASSERT_ERR(prw_finalize(pj, NULL, &err), PRW_E_IO);
    ASSERT_TRUE(strstr(err.msg, "reduce-00001.json") != NULL);
    ASSERT_OK(prw_reduce(pj, 1, 1, NULL, &err), &err);
    /* An output cut short (e.g. copied back partially). */
    const char *t1 = shard(d, "train", 1, 3);
    size_t n = 0;
    uint8_t *b = th_read(t1, &n);
    ASSERT_TRUE(b && n > 100);
    ASSERT_TRUE(th_write(t1, b, n - 100));
    ASSERT_TRUE(prw_finalize(pj, NULL, &err) < 0);
    ASSERT_TRUE(strstr(err.msg, "train.arrayrecord-00001-of-00003") != NULL);
    ASSERT_TRUE(th_write(t1, b, n));
    /* An output removed. */
    ASSERT_EQ_I64(rename(shard(d, "test", 2, 3), th_fmt("%s/moved", d)), 0);
    ASSERT_ERR(prw_finalize(pj, NULL, &err), PRW_E_IO);
    ASSERT_TRUE(strstr(err.msg, "test.arrayrecord-00002-of-00003") != NULL);
    ASSERT_EQ_I64(rename(th_fmt("%s/moved", d), shard(d, "test", 2, 3)), 0);
    ASSERT_OK(prw_finalize(pj, NULL, &err), &err);
    ASSERT_EQ_I64(th_sh(th_fmt("%s verify '%s' >/dev/null 2>&1", th_cli(), d)), 0);
    /* A second finalize (a requeued job) succeeds without touching anything... */
    size_t mn = 0;
    uint8_t *m = th_read(th_fmt("%s/manifest.json", d), &mn);
    ASSERT_TRUE(m && th_write(th_fmt("%s/manifest.saved", d), m, mn));
    ASSERT_OK(prw_finalize(pj, NULL, &err), &err);
    ASSERT_TRUE(same_file(th_fmt("%s/manifest.json", d), th_fmt("%s/manifest.saved", d)));
    /* ...but not when a part has gone since. */
    ASSERT_EQ_I64(unlink(shard(d, "train", 0, 3)), 0);
    ASSERT_TRUE(prw_finalize(pj, NULL, &err) < 0);
}

TEST(so_damaged_or_stale_run_files_are_refused) {
    const char *d = th_tmpdir();
    const char *pj = mapped(d, 1, 2);
    ASSERT_TRUE(pj != NULL);
    const char *run = th_fmt("%s/.runs/map-00000-range-00000.run", d);
    size_t n = 0;
    uint8_t *orig = th_read(run, &n);
    ASSERT_TRUE(orig && n > 200);
    uint8_t *b = malloc(n);
    ASSERT_TRUE(b != NULL);
    prw_error err;
    prw_error_clear(&err);
    /* Every single-byte change and every truncation fails cleanly (never a crash). */
    uint64_t rng = 9;
    for (int it = 0; it < 300; it++) {
        memcpy(b, orig, n);
        size_t len = n;
        size_t at = (size_t)(th_rand(&rng) % n);
        if (it % 3 == 0)
            len = at;
        else
            b[at] ^= (uint8_t)(1 + th_rand(&rng) % 255);
        ASSERT_TRUE(th_write(run, b, len));
        prw_status st = prw_reduce(pj, 0, 1, NULL, &err);
        ASSERT_TRUE(st < 0);
        ASSERT_TRUE(strstr(err.msg, "map-00000-range-00000.run") != NULL);
    }
    /* A block's bytes changed: the CRC says so, with the block's offset. */
    memcpy(b, orig, n);
    b[32 + 20 + 3] ^= 0x40;
    ASSERT_TRUE(th_write(run, b, n));
    ASSERT_ERR(prw_reduce(pj, 0, 1, NULL, &err), PRW_E_CHECKSUM);
    ASSERT_EQ_I64(err.offset, 32);
    /* The run file of range 1 handed to range 0. */
    size_t n1 = 0;
    uint8_t *r1 = th_read(th_fmt("%s/.runs/map-00000-range-00001.run", d), &n1);
    ASSERT_TRUE(r1 && th_write(run, r1, n1));
    ASSERT_ERR(prw_reduce(pj, 0, 1, NULL, &err), PRW_E_CORRUPT);
    /* Runs of an older plan: plan again with other options, keep the old runs. */
    ASSERT_TRUE(th_write(run, orig, n));
    prw_build_options o;
    prw_build_options_init(&o);
    o.train_ratio = 0.5;
    ASSERT_OK(plan(g_fixtures, NFIX, d, 1, 2, &o, &err), &err);
    ASSERT_ERR(prw_reduce(pj, 0, 1, NULL, &err), PRW_E_CORRUPT);
    ASSERT_TRUE(strstr(err.msg, "another plan") != NULL);
    free(b);
}

TEST(so_damaged_plan_and_changed_inputs_are_refused) {
    const char *d = th_tmpdir();
    prw_error err;
    prw_error_clear(&err);
    const char *in = th_fmt("%s/in.parquet", d);
    ASSERT_EQ_I64(th_sh(th_fmt("cp tests/fixtures/verify_base.parquet '%s'", in)), 0);
    const char *ins[] = {in};
    const char *dir = th_fmt("%s/p", d), *pj = th_fmt("%s/p/plan.json", d);
    ASSERT_OK(plan(ins, 1, dir, 1, 2, NULL, &err), &err);
    /* plan.probes edited: its hash no longer matches plan.json. */
    const char *pp = th_fmt("%s/plan.probes", dir);
    size_t n = 0;
    uint8_t *probes = th_read(pp, &n);
    ASSERT_TRUE(probes && n > 20);
    uint8_t *b = malloc(n);
    ASSERT_TRUE(b != NULL);
    memcpy(b, probes, n);
    b[n - 9] ^= 1; /* inside the last probe's string */
    ASSERT_TRUE(th_write(pp, b, n));
    ASSERT_ERR(prw_map(pj, 0, 0, NULL, NULL, &err), PRW_E_CHECKSUM);
    ASSERT_TRUE(th_write(pp, probes, n));
    /* plan.json cut at every length: an error, never a crash. */
    size_t jn = 0;
    uint8_t *js = th_read(pj, &jn);
    ASSERT_TRUE(js != NULL);
    for (size_t cut = 0; cut < jn; cut += 7) {
        ASSERT_TRUE(th_write(pj, js, cut));
        ASSERT_TRUE(prw_map(pj, 0, 0, NULL, NULL, &err) < 0);
    }
    ASSERT_TRUE(th_write(pj, js, jn));
    ASSERT_ERR(prw_map(pj, 1, 0, NULL, NULL, &err), PRW_E_INVALID);
    ASSERT_ERR(prw_reduce(pj, 2, 0, NULL, &err), PRW_E_INVALID);
    /* The input rewritten after planning with the same probes and rows (other rtt values):
     * the map task refuses it by its size. */
    ASSERT_EQ_I64(th_sh(th_fmt("cp tests/fixtures/verify_rtt_changed.parquet '%s'", in)), 0);
    ASSERT_ERR(prw_map(pj, 0, 0, NULL, NULL, &err), PRW_E_CORRUPT);
    ASSERT_TRUE(strstr(err.msg, "in.parquet changed since the plan: plan.json records 10627 "
                                "bytes and ") != NULL);
    ASSERT_TRUE(strstr(err.msg, "the file has 10633 bytes") != NULL);
    /* The input replaced after planning: map and build --plan refuse it. */
    ASSERT_EQ_I64(th_sh(th_fmt("cp tests/fixtures/verify_rtt_changed.parquet '%s' && "
                               "cp tests/fixtures/one_probe.parquet '%s'",
                               th_fmt("%s/x", d), in)),
                  0);
    ASSERT_ERR(prw_map(pj, 0, 0, NULL, NULL, &err), PRW_E_CORRUPT);
    ASSERT_ERR(build_plan(pj, th_fmt("%s/ref", d), &err), PRW_E_CORRUPT);
    ASSERT_TRUE(strstr(err.msg, "changed since planning") != NULL);
    /* build --plan with --input is a usage error. */
    prw_build_options o;
    prw_build_options_init(&o);
    o.plan = pj;
    o.inputs = ins;
    o.n_inputs = 1;
    o.output_dir = th_fmt("%s/ref", d);
    ASSERT_ERR(prw_build(&o, NULL, &err), PRW_E_INVALID);
    free(b);
}

TEST(so_build_plan_in_spill_mode_equals_reduce_outputs) {
    const char *d = th_tmpdir();
    const char *dir = th_fmt("%s/p", d);
    const char *in[] = {"tests/fixtures/scaleout/ties_*.parquet", "tests/fixtures/nulls.parquet",
                        "tests/fixtures/verify_base.parquet"};
    run_and_compare(in, 3, dir, 3, 3, NULL);
    prw_build_options o;
    prw_build_options_init(&o);
    o.plan = th_fmt("%s/plan.json", dir);
    o.output_dir = th_fmt("%s/spilled", d);
    o.workers = 2;
    o.memory_limit = 40u << 20; /* forces the memory-bounded mode */
    prw_build_stats st;
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(prw_build(&o, &st, &err), &err);
    ASSERT_TRUE(st.spilled);
    for (int k = 0; k < 3; k++) {
        ASSERT_TRUE(same_file(shard(o.output_dir, "train", k, 3), shard(dir, "train", k, 3)));
        ASSERT_TRUE(same_file(shard(o.output_dir, "test", k, 3), shard(dir, "test", k, 3)));
    }
}
