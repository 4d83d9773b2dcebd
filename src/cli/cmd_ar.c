/*
 * `proberows ar`: inspect, dump, build and check ArrayRecord files.
 *
 *   ar info FILE                 records, chunks, group size, codec, options string, size
 *   ar cat FILE [--range I:J]    records I..J-1 to stdout, each as u32le length + bytes
 *   ar pack [--options S] OUT    the same framing from stdin into a new file (atomic)
 *   ar verify FILE               every block, chunk and hash; exit 1 at the first problem
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "proberows/arrayrecord.h"

static void usage(FILE *out) {
    fprintf(out,
            "Usage: proberows ar info FILE\n"
            "       proberows ar cat FILE [--range I:J]\n"
            "       proberows ar pack [--options STRING] OUT\n"
            "       proberows ar verify FILE\n\n"
            "Inspects, dumps, builds and checks ArrayRecord (Riegeli) files.\n\n"
            "  info     print records, chunks holding records (from the footer), group size,\n"
            "           compression, options string, size\n"
            "  cat      write records I..J-1 (default: all) to stdout, each framed as a\n"
            "           4-byte little-endian length followed by the bytes\n"
            "  pack     read records framed the same way from stdin into a new file OUT,\n"
            "           written under a temporary name and renamed when complete\n"
            "  verify   walk every block header and chunk, check every hash and record; counts\n"
            "           record chunks (as info) and all chunks\n\n"
            "Options:\n"
            "  --range I:J        records from I to J-1 (I: = to the end)\n"
            "  --options STRING   ArrayRecord writer options, Google's syntax, e.g.\n"
            "                     'group_size:64,zstd:3' or 'uncompressed' (default: zstd:3,\n"
            "                     group_size:1)\n"
            "  -h, --help         show this help\n\n"
            "Exit status: 0 success, 1 data or I/O error, 2 usage error.\n");
}

static int ar_info(const char *path) {
    prw_error err;
    prw_error_clear(&err);
    prw_ar_reader *r;
    if (prw_ar_reader_open(&r, path, &err) < 0)
        return cli_error(path, &err);
    printf("file: %s\n", path);
    printf("size: %" PRIu64 "\n", prw_ar_reader_file_size(r));
    printf("records: %" PRIu64 "\n", prw_ar_reader_num_records(r));
    printf("chunks: %" PRIu64 " (holding records; 'ar verify' also counts the signature, "
           "metadata, index and padding chunks)\n",
           prw_ar_reader_num_chunks(r));
    printf("group_size: %" PRIu64 "\n", prw_ar_reader_group_size(r));
    printf("compression: %s\n", prw_ar_compression_name(prw_ar_reader_compression(r)));
    printf("options: %s\n", prw_ar_reader_options(r));
    prw_ar_reader_close(r);
    return CLI_OK;
}

static bool parse_range(const char *s, uint64_t *lo, uint64_t *hi, bool *has_hi) {
    const char *colon = strchr(s, ':');
    if (!colon)
        return false;
    char buf[32];
    size_t n = (size_t)(colon - s);
    int64_t v;
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (!cli_parse_i64(buf, 0, INT64_MAX, &v))
        return false;
    *lo = (uint64_t)v;
    *has_hi = colon[1] != '\0';
    if (*has_hi) {
        if (!cli_parse_i64(colon + 1, 0, INT64_MAX, &v))
            return false;
        *hi = (uint64_t)v;
    }
    return !*has_hi || *hi >= *lo;
}

static int ar_cat(const char *path, const char *range) {
    uint64_t lo = 0, hi = 0;
    bool has_hi = false;
    if (range && !parse_range(range, &lo, &hi, &has_hi))
        return cli_usage_error("ar ", "bad --range '%s' (expected I:J with I <= J)", range);
    prw_error err;
    prw_error_clear(&err);
    prw_ar_reader *r;
    if (prw_ar_reader_open(&r, path, &err) < 0)
        return cli_error(path, &err);
    uint64_t n = prw_ar_reader_num_records(r);
    if (!has_hi)
        hi = n;
    int rc = CLI_OK;
    if (lo > n || hi > n) {
        rc = cli_usage_error(
            "ar ", "range %" PRIu64 ":%" PRIu64 " is beyond the %" PRIu64 " records of %s", lo, hi,
            n, path);
        goto out;
    }
    static char obuf[1 << 20];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    if (prw_ar_reader_seek(r, lo, &err) < 0) {
        rc = cli_error(path, &err);
        goto out;
    }
    for (uint64_t i = lo; i < hi; i++) {
        prw_bytes b;
        if (prw_ar_reader_next(r, &b, &err) != PRW_OK) {
            rc = cli_error(path, &err);
            goto out;
        }
        if (b.len > UINT32_MAX) {
            rc = cli_fail("%s: record %" PRIu64 " is too long for the 4-byte framing", path, i);
            goto out;
        }
        uint8_t hdr[4] = {(uint8_t)b.len, (uint8_t)(b.len >> 8), (uint8_t)(b.len >> 16),
                          (uint8_t)(b.len >> 24)};
        if (fwrite(hdr, 1, 4, stdout) != 4 || (b.len && fwrite(b.ptr, 1, b.len, stdout) != b.len)) {
            rc = cli_fail("cannot write to stdout");
            goto out;
        }
    }
    if (fflush(stdout) != 0)
        rc = cli_fail("cannot write to stdout");
out:
    prw_ar_reader_close(r);
    return rc;
}

static int ar_pack(const char *out, const char *options) {
    prw_error err;
    prw_error_clear(&err);
    prw_ar_options o;
    if (prw_ar_options_parse(options, &o, &err) < 0)
        return cli_usage_error("ar ", "%s", err.msg);
    prw_ar_writer *w;
    if (prw_ar_writer_open_opts(&w, out, &o, 0, &err) < 0)
        return cli_error(out, &err);
    size_t cap = 1 << 16;
    uint8_t *buf = malloc(cap);
    int rc = CLI_OK;
    uint64_t at = 0;
    if (!buf) {
        prw_ar_writer_abort(w);
        return cli_fail("out of memory");
    }
    for (;;) {
        uint8_t hdr[4];
        size_t got = fread(hdr, 1, 4, stdin);
        if (got == 0 && feof(stdin))
            break;
        if (got != 4) {
            rc = cli_fail("stdin: truncated record length (at byte %" PRIu64 ")", at);
            break;
        }
        size_t len =
            (size_t)hdr[0] | (size_t)hdr[1] << 8 | (size_t)hdr[2] << 16 | (size_t)hdr[3] << 24;
        if (len > cap) {
            uint8_t *nb = realloc(buf, len);
            if (!nb) {
                rc = cli_fail("out of memory for a record of %zu bytes", len);
                break;
            }
            buf = nb;
            cap = len;
        }
        if (fread(buf, 1, len, stdin) != len) {
            rc = cli_fail("stdin: truncated record of %zu bytes (at byte %" PRIu64 ")", len, at);
            break;
        }
        at += 4 + len;
        if (prw_ar_writer_add_record(w, buf, len, &err) < 0) {
            rc = cli_error(out, &err);
            break;
        }
    }
    free(buf);
    if (rc != CLI_OK) {
        prw_ar_writer_abort(w);
        return rc;
    }
    if (prw_ar_writer_close(w, &err) < 0)
        return cli_error(out, &err);
    return CLI_OK;
}

static int ar_verify(const char *path) {
    prw_error err;
    prw_error_clear(&err);
    prw_ar_verify_stats vs;
    if (prw_ar_verify(path, &vs, &err) < 0)
        return cli_error(path, &err);
    printf("%s: ok: %" PRIu64 " records in %" PRIu64 " record chunks; %" PRIu64
           " chunks in all (with signature, metadata, index, padding), %" PRIu64 " blocks, %" PRIu64
           " bytes\n",
           path, vs.records, vs.record_chunks, vs.chunks, vs.blocks, vs.file_size);
    return CLI_OK;
}

int cmd_ar(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *sub = argv[1];
    if (cli_is_help(sub)) {
        usage(stdout);
        return CLI_OK;
    }
    const char *range = NULL, *options = NULL, *file = NULL;
    for (int i = 2; i < argc; i++) {
        bool missing = false;
        const char *v;
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return CLI_OK;
        } else if ((v = cli_opt_value(argc, argv, &i, "--range", &missing)) != NULL) {
            range = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--options", &missing)) != NULL) {
            options = v;
        } else if (missing) {
            return cli_usage_error("ar ", "option %s needs a value", argv[i]);
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error("ar ", "unknown option '%s'", argv[i]);
        } else if (file) {
            return cli_usage_error("ar ", "unexpected argument '%s'", argv[i]);
        } else {
            file = argv[i];
        }
    }
    bool is_cat = strcmp(sub, "cat") == 0, is_pack = strcmp(sub, "pack") == 0;
    if (!is_cat && !is_pack && strcmp(sub, "info") != 0 && strcmp(sub, "verify") != 0)
        return cli_usage_error("ar ", "unknown ar command '%s'", sub);
    if (!file)
        return cli_usage_error("ar ", "ar %s needs a file", sub);
    if ((range && !is_cat) || (options && !is_pack))
        return cli_usage_error("ar ", "option %s does not apply to ar %s",
                               range ? "--range" : "--options", sub);
    if (is_cat)
        return ar_cat(file, range);
    if (is_pack)
        return ar_pack(file, options);
    if (strcmp(sub, "info") == 0)
        return ar_info(file);
    return ar_verify(file);
}
