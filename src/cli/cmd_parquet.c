/*
 * `proberows parquet schema|cat|checksum FILE`: inspect a Parquet file, print its rows in the
 * canonical text of ../shared/testdata/parquet/conformance/README.md, or print per-column
 * non-NULL counts and FNV-1a 64 checksums of that text.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "proberows/parquet.h"

#define FNV_INIT 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static void usage(FILE *out) {
    fprintf(out, "Usage: proberows parquet schema FILE\n"
                 "       proberows parquet cat FILE [--columns a,b] [--limit N]\n"
                 "       proberows parquet checksum FILE\n\n"
                 "schema    columns (physical/logical types, repetition), row groups, codecs and\n"
                 "          encodings per column chunk\n"
                 "cat       one line per row, tab-separated canonical values, \\N for NULL\n"
                 "checksum  'rows N', then 'NAME NON_NULL FNV1A64' per column\n");
}

static int cmd_schema(const char *path, prw_pq_file *f) {
    printf("file %s\ncreated_by %s\nrows %" PRId64 "\nrow_groups %d\ncolumns %d\n", path,
           prw_pq_created_by(f), prw_pq_num_rows(f), prw_pq_num_row_groups(f),
           prw_pq_num_columns(f));
    static const char *const reps[] = {"REQUIRED", "OPTIONAL", "REPEATED"};
    for (int i = 0; i < prw_pq_num_columns(f); i++) {
        const prw_pq_column_info *c = prw_pq_column(f, i);
        char lt[64];
        prw_pq_logical_text(c, lt, sizeof lt);
        printf("column %d %s %s", i, c->name, prw_pq_physical_name(c->physical));
        if (c->type_length)
            printf("(%d)", c->type_length);
        printf(" %s%s%s%s\n", reps[c->repetition], lt[0] ? " " : "", lt,
               c->supported ? "" : " unsupported");
    }
    for (int rg = 0; rg < prw_pq_num_row_groups(f); rg++) {
        printf("row_group %d rows %" PRId64 "\n", rg, prw_pq_row_group_rows(f, rg));
        for (int i = 0; i < prw_pq_num_columns(f); i++) {
            prw_pq_chunk_info ci;
            prw_error err;
            prw_error_clear(&err);
            if (prw_pq_chunk(f, rg, i, &ci, &err) < 0) {
                printf("  %s: %s\n", prw_pq_column(f, i)->name, err.msg);
                continue;
            }
            printf("  %s codec %s bytes %" PRId64 " encodings", prw_pq_column(f, i)->name,
                   prw_pq_codec_name(ci.codec), ci.compressed_size);
            for (int e = 0; e < 32; e++)
                if (ci.encodings & (1u << e))
                    printf(" %s", prw_pq_encoding_name(e));
            printf("\n");
        }
    }
    return CLI_OK;
}

/* Splits "a,b" into column indices; returns the count or -1 (message printed). */
static int parse_columns(prw_pq_file *f, const char *list, int *idx, int cap) {
    int n = 0;
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char name[512];
        if (len == 0 || len >= sizeof name || n >= cap)
            return -1;
        memcpy(name, p, len);
        name[len] = 0;
        int c = prw_pq_find_column(f, name);
        if (c < 0) {
            cli_fail("%s: no column '%s'", prw_pq_path(f), name);
            return -2;
        }
        idx[n++] = c;
        p += len + (e ? 1 : 0);
    }
    return n;
}

typedef struct col_out {
    prw_pq_column_data cd;
    uint64_t fnv;
    int64_t non_null;
} col_out;

static int run_rows(prw_pq_file *f, const int *cols, int ncols, int64_t limit, bool print) {
    prw_pq_decoder *d = NULL;
    prw_error err;
    prw_error_clear(&err);
    if (prw_pq_decoder_create(&d, &err) < 0)
        return cli_error(NULL, &err);
    col_out *co = calloc((size_t)(ncols ? ncols : 1), sizeof *co);
    if (!co) {
        prw_pq_decoder_destroy(d);
        return cli_fail("out of memory");
    }
    for (int i = 0; i < ncols; i++) {
        prw_pq_column_data_init(&co[i].cd);
        co[i].fnv = FNV_INIT;
    }
    int rc = CLI_OK;
    int64_t printed = 0;
    char buf[512];
    for (int rg = 0; rg < prw_pq_num_row_groups(f) && rc == CLI_OK; rg++) {
        if (print && limit >= 0 && printed >= limit)
            break;
        for (int i = 0; i < ncols && rc == CLI_OK; i++)
            if (prw_pq_decode_column(d, f, rg, cols[i], print ? 0 : PRW_PQ_DECODE_DICT, &co[i].cd,
                                     &err) < 0)
                rc = cli_error(NULL, &err);
        if (rc != CLI_OK)
            break;
        int64_t rows = prw_pq_row_group_rows(f, rg);
        for (int64_t r = 0; r < rows; r++) {
            if (print && limit >= 0 && printed >= limit)
                break;
            for (int i = 0; i < ncols; i++) {
                const prw_pq_column_info *c = prw_pq_column(f, cols[i]);
                prw_bytes t;
                bool present = prw_pq_value_text(c, &co[i].cd, r, buf, sizeof buf, &t);
                if (print) {
                    if (i)
                        putchar('\t');
                    if (present)
                        fwrite(t.ptr, 1, t.len, stdout);
                    else
                        fputs("\\N", stdout);
                    continue;
                }
                uint64_t h = co[i].fnv;
                if (!present) {
                    h = (h ^ 0) * FNV_PRIME;
                } else {
                    co[i].non_null++;
                    uint8_t hdr[5] = {1, (uint8_t)t.len, (uint8_t)(t.len >> 8),
                                      (uint8_t)(t.len >> 16), (uint8_t)(t.len >> 24)};
                    for (int k = 0; k < 5; k++)
                        h = (h ^ hdr[k]) * FNV_PRIME;
                    for (size_t k = 0; k < t.len; k++)
                        h = (h ^ t.ptr[k]) * FNV_PRIME;
                }
                co[i].fnv = h;
            }
            if (print) {
                putchar('\n');
                printed++;
            }
        }
    }
    if (rc == CLI_OK && !print) {
        printf("rows %" PRId64 "\n", prw_pq_num_rows(f));
        for (int i = 0; i < ncols; i++)
            printf("%s %" PRId64 " %016" PRIx64 "\n", prw_pq_column(f, cols[i])->name,
                   co[i].non_null, co[i].fnv);
    }
    for (int i = 0; i < ncols; i++)
        prw_pq_column_data_cleanup(&co[i].cd);
    free(co);
    prw_pq_decoder_destroy(d);
    if (fflush(stdout) != 0 && rc == CLI_OK)
        rc = cli_fail("write error on standard output");
    return rc;
}

int cmd_parquet(int argc, char **argv) {
    if (argc >= 2 && cli_is_help(argv[1])) {
        usage(stdout);
        return CLI_OK;
    }
    if (argc < 3)
        return cli_usage_error("parquet ",
                               "expected a subcommand (schema, cat, checksum) and FILE");
    const char *sub = argv[1];
    bool is_schema = strcmp(sub, "schema") == 0, is_cat = strcmp(sub, "cat") == 0,
         is_sum = strcmp(sub, "checksum") == 0;
    if (!is_schema && !is_cat && !is_sum)
        return cli_usage_error("parquet ", "unknown subcommand '%s'", sub);
    const char *path = NULL, *columns = NULL;
    int64_t limit = -1;
    for (int i = 2; i < argc; i++) {
        bool missing = false;
        const char *v;
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return CLI_OK;
        }
        if (is_cat && (v = cli_opt_value(argc, argv, &i, "--columns", &missing)) != NULL) {
            columns = v;
        } else if (is_cat && (v = cli_opt_value(argc, argv, &i, "--limit", &missing)) != NULL) {
            if (!cli_parse_i64(v, 0, INT64_MAX, &limit))
                return cli_usage_error("parquet ", "bad --limit '%s'", v);
        } else if (missing) {
            return cli_usage_error("parquet ", "option %s needs a value", argv[i]);
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("parquet ", "unknown option '%s'", argv[i]);
        } else if (!path) {
            path = argv[i];
        } else {
            return cli_usage_error("parquet ", "more than one FILE");
        }
    }
    if (!path)
        return cli_usage_error("parquet ", "missing FILE");
    prw_error err;
    prw_error_clear(&err);
    prw_pq_file *f = NULL;
    if (prw_pq_open(&f, path, NULL, &err) < 0)
        return cli_error(NULL, &err);
    if (prw_pq_writer_warning(f))
        cli_warning(NULL, path, prw_pq_writer_warning(f));
    int rc;
    if (is_schema) {
        rc = cmd_schema(path, f);
    } else {
        int n = prw_pq_num_columns(f);
        int *idx = malloc(sizeof(int) * (size_t)(n ? n : 1) * 4);
        if (!idx) {
            prw_pq_close(f);
            return cli_fail("out of memory");
        }
        int k = n;
        if (columns) {
            k = parse_columns(f, columns, idx, n * 4);
        } else {
            for (int i = 0; i < n; i++)
                idx[i] = i;
        }
        if (k == -1)
            rc = cli_usage_error("parquet ", "bad --columns '%s'", columns);
        else if (k < 0)
            rc = CLI_FAIL;
        else
            rc = run_rows(f, idx, k, limit, is_cat);
        free(idx);
    }
    prw_pq_close(f);
    return rc;
}
