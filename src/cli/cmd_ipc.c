/*
 * `proberows ipc cat FILE|- [--outer]`: prints an Arrow IPC stream as JSON lines — the schema,
 * then one array per row. Timestamps are integer counts of their unit, float32 `%.9g`,
 * float64 `%.17g` (NaN and infinities as the strings "nan", "inf", "-inf"), strings
 * JSON-escaped (invalid UTF-8 bytes as U+FFFD), binary as lowercase hex, null as `null`.
 * With --outer the `measurements` column of the contract's outer row is decoded too, and its
 * rows are printed under each outer row, indented by two spaces.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "proberows/arrow_ipc.h"

static void usage(FILE *out) {
    fprintf(out, "Usage: proberows ipc cat [--outer] FILE|-\n\n"
                 "Prints an Arrow IPC stream as JSON lines: the schema, then one array per row.\n\n"
                 "Options:\n"
                 "  --outer     decode the 'measurements' column of the contract's outer rows\n"
                 "              and print its rows indented under each row\n"
                 "  -h, --help  show this help\n\n"
                 "Exit status: 0 success, 1 data or I/O error, 2 usage error.\n");
}

/* Reads a whole file (or stdin for "-") into memory. */
static int read_all(const char *path, uint8_t **data, size_t *len) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return cli_fail("%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        uint8_t *bigger = cap < SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int bad = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!buf)
        return cli_fail("%s: out of memory", path);
    if (bad) {
        free(buf);
        return cli_fail("%s: read error", path);
    }
    *data = buf;
    *len = n;
    return CLI_OK;
}

/* Writes `n` bytes as a JSON string body; invalid UTF-8 becomes U+FFFD. */
static void put_json_string(FILE *out, const uint8_t *s, size_t n) {
    putc('"', out);
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        if (c < 0x80) {
            if (c == '"' || c == '\\')
                fprintf(out, "\\%c", c);
            else if (c == '\n')
                fputs("\\n", out);
            else if (c == '\t')
                fputs("\\t", out);
            else if (c == '\r')
                fputs("\\r", out);
            else if (c < 0x20 || c == 0x7f)
                fprintf(out, "\\u%04x", c);
            else
                putc(c, out);
            i++;
            continue;
        }
        /* Length and minimum code point of a well-formed sequence (RFC 3629). */
        size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
        uint32_t cp = len == 4 ? c & 7u : len == 3 ? c & 15u : c & 31u;
        bool ok = len && c < 0xf5 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++) {
            ok = (s[i + k] & 0xc0) == 0x80;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        ok = ok &&
             cp >= (len == 2   ? 0x80u
                    : len == 3 ? 0x800u
                               : 0x10000u) &&
             cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
        if (ok) {
            fwrite(s + i, 1, len, out);
            i += len;
        } else {
            fputs("\\ufffd", out);
            i++;
        }
    }
    putc('"', out);
}

static void put_float(FILE *out, double v, bool single) {
    if (isnan(v))
        fputs("\"nan\"", out);
    else if (isinf(v))
        fputs(v > 0 ? "\"inf\"" : "\"-inf\"", out);
    else
        fprintf(out, single ? "%.9g" : "%.17g", v);
}

static void put_value(FILE *out, const prw_ipc_array *a, int64_t i) {
    if (prw_ipc_array_is_null(a, i)) {
        fputs("null", out);
        return;
    }
    switch (a->type) {
    case PRW_IPC_FLOAT32:
    case PRW_IPC_FLOAT64:
        put_float(out, prw_ipc_array_float(a, i), a->type == PRW_IPC_FLOAT32);
        return;
    case PRW_IPC_UTF8: {
        prw_bytes b = prw_ipc_array_bytes(a, i);
        put_json_string(out, b.ptr, b.len);
        return;
    }
    case PRW_IPC_BINARY: {
        prw_bytes b = prw_ipc_array_bytes(a, i);
        putc('"', out);
        for (size_t k = 0; k < b.len; k++)
            fprintf(out, "%02x", b.ptr[k]);
        putc('"', out);
        return;
    }
    default:
        fprintf(out, "%lld", (long long)prw_ipc_array_int(a, i));
        return;
    }
}

static void put_schema(FILE *out, const prw_ipc_schema *s) {
    fputs("{\"schema\":[", out);
    for (size_t i = 0; i < s->n_fields; i++) {
        const prw_ipc_field *f = &s->fields[i];
        fputs(i ? ",{\"name\":" : "{\"name\":", out);
        put_json_string(out, (const uint8_t *)f->name, strlen(f->name));
        fputs(",\"type\":", out);
        char type[256];
        if (f->type == PRW_IPC_TIMESTAMP && f->timezone) {
            const char *base = prw_ipc_type_name(f->type, f->unit);
            snprintf(type, sizeof type, "%.*s, tz=%s]", (int)strlen(base) - 1, base, f->timezone);
        } else {
            snprintf(type, sizeof type, "%s", prw_ipc_type_name(f->type, f->unit));
        }
        put_json_string(out, (const uint8_t *)type, strlen(type));
        fprintf(out, ",\"nullable\":%s}", f->nullable ? "true" : "false");
    }
    fputs("]}\n", out);
}

/*
 * Prints every row of the stream in data[0..len). `indent` prefixes each row; with
 * `outer_col` >= 0 that column is decoded as an inner stream under each row.
 * `name` names the input in errors.
 */
static int cat_stream(FILE *out, const char *name, const uint8_t *data, size_t len,
                      const char *indent, bool schema, bool outer) {
    prw_error err;
    prw_error_clear(&err);
    prw_ipc_decoder *d;
    if (prw_ipc_decoder_create(data, len, &d, &err) < 0)
        return cli_error(name, &err);
    const prw_ipc_schema *s = prw_ipc_decoder_schema(d);
    if (outer && !prw_ipc_schema_equal(s, prw_ipc_outer_schema())) {
        prw_ipc_decoder_destroy(d);
        return cli_fail("%s: --outer: the stream's schema is not the outer row schema", name);
    }
    if (schema)
        put_schema(out, s);
    prw_ipc_batch b;
    prw_status st;
    int rc = CLI_OK;
    int64_t row = 0;
    while (rc == CLI_OK && (st = prw_ipc_decoder_next(d, &b, &err)) == PRW_OK) {
        for (int64_t i = 0; i < b.length && rc == CLI_OK; i++, row++) {
            fputs(indent, out);
            putc('[', out);
            for (size_t c = 0; c < b.n_columns; c++) {
                if (c)
                    putc(',', out);
                put_value(out, &b.columns[c], i);
            }
            fputs("]\n", out);
            if (outer && !prw_ipc_array_is_null(&b.columns[PRW_OUTER_MEASUREMENTS], i)) {
                prw_bytes m = prw_ipc_array_bytes(&b.columns[PRW_OUTER_MEASUREMENTS], i);
                char inner_name[1024];
                snprintf(inner_name, sizeof inner_name, "%s: measurements of row %lld", name,
                         (long long)row);
                rc = cat_stream(out, inner_name, m.ptr, m.len, "  ", false, false);
            }
        }
    }
    if (rc == CLI_OK && st < 0)
        rc = cli_error(name, &err);
    prw_ipc_decoder_destroy(d);
    return rc;
}

int cmd_ipc(int argc, char **argv) {
    if (argc < 2 || cli_is_help(argv[1])) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "cat") != 0)
        return cli_usage_error("ipc ", "unknown ipc command '%s'", argv[1]);
    const char *path = NULL;
    bool outer = false;
    for (int i = 2; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "--outer") == 0) {
            outer = true;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error("ipc ", "unknown option '%s'", argv[i]);
        } else if (path) {
            return cli_usage_error("ipc ", "more than one input file");
        } else {
            path = argv[i];
        }
    }
    if (!path)
        return cli_usage_error("ipc ", "missing input file (or - for stdin)");
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = read_all(path, &data, &len);
    if (rc != CLI_OK)
        return rc;
    rc = cat_stream(stdout, strcmp(path, "-") == 0 ? "<stdin>" : path, data, len, "", true, outer);
    free(data);
    if (fflush(stdout) != 0 && rc == CLI_OK)
        rc = cli_fail("write error on standard output");
    return rc;
}
