/*
 * prw_pq_resolve_column on DuckDB-written files (tools/gen_faults_fixtures.mjs): exact names
 * first, else one case-insensitive match; ambiguous and nested names are errors that say so.
 */
#include "harness.h"
#include "proberows/parquet.h"

static prw_pq_file *open_fixture(const char *name) {
    prw_pq_file *f = NULL;
    prw_error err;
    if (prw_pq_open(&f, th_fmt("tests/fixtures/faults/%s.parquet", name), NULL, &err) < 0)
        th_note("%s", err.msg);
    return f;
}

TEST(pq_resolve_ignores_case_when_unambiguous) {
    prw_pq_file *f = open_fixture("column_case");
    ASSERT_TRUE(f);
    prw_error err;
    int col = -1;
    ASSERT_OK(prw_pq_resolve_column(f, "event_time", &col, &err), &err);
    ASSERT_EQ_STR(prw_pq_column(f, col)->name, "Event_Time");
    ASSERT_OK(prw_pq_resolve_column(f, "rtt", &col, &err), &err);
    ASSERT_EQ_STR(prw_pq_column(f, col)->name, "RTT");
    ASSERT_OK(prw_pq_resolve_column(f, "SRC_ADDR", &col, &err), &err); /* exact */
    ASSERT_EQ_I64(col, 1);
    ASSERT_ERR(prw_pq_resolve_column(f, "rtt_ms", &col, &err), PRW_E_UNSUPPORTED);
    ASSERT_EQ_STR(err.msg, "column 'rtt_ms' not found");
    ASSERT_EQ_I64(col, -1);
    prw_pq_close(f);
}

TEST(pq_resolve_ambiguous_and_exact) {
    prw_pq_file *f = open_fixture("column_ambiguous");
    ASSERT_TRUE(f);
    prw_error err;
    int col = -1;
    ASSERT_ERR(prw_pq_resolve_column(f, "rtt", &col, &err), PRW_E_UNSUPPORTED);
    ASSERT_EQ_STR(err.msg, "column 'rtt' is ambiguous: 'Rtt' and 'RTT' match it ignoring case; "
                           "name one exactly");
    ASSERT_OK(prw_pq_resolve_column(f, "RTT", &col, &err), &err); /* an exact name decides */
    ASSERT_EQ_I64(col, 5);
    prw_pq_close(f);
}

TEST(pq_resolve_names_nested_columns) {
    prw_pq_file *f = open_fixture("column_nested");
    ASSERT_TRUE(f);
    prw_error err;
    int col = -1;
    ASSERT_ERR(prw_pq_resolve_column(f, "rtt", &col, &err), PRW_E_UNSUPPORTED);
    ASSERT_EQ_STR(err.msg, "column 'rtt' is a nested LIST column (leaf 'rtt.list.element'); only "
                           "flat columns are read");
    ASSERT_ERR(prw_pq_resolve_column(f, "IP_VERSION", &col, &err), PRW_E_UNSUPPORTED);
    ASSERT_EQ_STR(err.msg, "column 'IP_VERSION' is a nested STRUCT column (leaf 'ip_version.v'); "
                           "only flat columns are read");
    prw_pq_close(f);
}

/* Millisecond times beyond the int64 microsecond range saturate, never wrap. */
TEST(pq_timestamp_micros_saturates) {
    int64_t ms[4] = {9300000000000000LL, -9300000000000000LL, 1700000000000LL, -1};
    uint8_t valid[4] = {1, 1, 1, 1};
    prw_pq_column_info c = {.name = "t",
                            .physical = PRW_PQ_INT64,
                            .logical = PRW_PQ_LOGICAL_TIMESTAMP,
                            .time_unit = PRW_PQ_MILLIS};
    prw_pq_column_data cd = {.num_rows = 4, .valid = valid, .values = (const uint8_t *)ms};
    int64_t us[4];
    prw_error err;
    ASSERT_OK(prw_pq_timestamp_micros(&c, &cd, us, &err), &err);
    ASSERT_EQ_I64(us[0], INT64_MAX);
    ASSERT_EQ_I64(us[1], INT64_MIN);
    ASSERT_EQ_I64(us[2], 1700000000000000LL);
    ASSERT_EQ_I64(us[3], -1000);
}
