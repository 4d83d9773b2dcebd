/*
 * Fuzz target: a whole Parquet file in memory. Opens it (footer, schema, row groups) and
 * decodes every column chunk twice (dictionary indices kept, and strings materialised),
 * formatting values as canonical text: the first and last FMT_ROWS/2 of each column (all of a
 * short one; formatting every row of a long column cost more than half of each run, for no
 * new paths). Limits keep a small input from asking for huge buffers or long runs: 64 Ki rows
 * per row group, 16 MiB pages.
 */
#include "fuzz.h"
#include "proberows/parquet.h"

#define FMT_ROWS 64

FUZZ_TARGET(pq_file) {
    prw_pq_open_opts o = {.max_rows = 1 << 16, .max_page_size = 16 << 20};
    prw_error err;
    prw_error_clear(&err);
    prw_pq_file *f = NULL;
    if (prw_pq_open_memory(&f, data, size, "fuzz", &o, &err) < 0)
        return 0;
    prw_pq_decoder *d = NULL;
    if (prw_pq_decoder_create(&d, &err) < 0) {
        prw_pq_close(f);
        return 0;
    }
    prw_pq_column_data cd;
    prw_pq_column_data_init(&cd);
    char buf[256];
    for (int rg = 0; rg < prw_pq_num_row_groups(f); rg++) {
        for (int c = 0; c < prw_pq_num_columns(f); c++) {
            for (unsigned flags = 0; flags <= PRW_PQ_DECODE_DICT; flags++) {
                if (prw_pq_decode_column(d, f, rg, c, flags, &cd, &err) < 0)
                    continue;
                const prw_pq_column_info *ci = prw_pq_column(f, c);
                for (int64_t r = 0; r < cd.num_rows; r++) {
                    if (r == FMT_ROWS / 2 && cd.num_rows > FMT_ROWS)
                        r = cd.num_rows - FMT_ROWS / 2;
                    prw_bytes t;
                    prw_pq_value_text(ci, &cd, r, buf, sizeof buf, &t);
                }
                if (ci->logical == PRW_PQ_LOGICAL_TIMESTAMP || ci->physical == PRW_PQ_INT96) {
                    int64_t tmp[64];
                    if (cd.num_rows <= 64)
                        prw_pq_timestamp_micros(ci, &cd, tmp, &err);
                }
            }
        }
    }
    prw_pq_column_data_cleanup(&cd);
    prw_pq_decoder_destroy(d);
    prw_pq_close(f);
    return 0;
}
