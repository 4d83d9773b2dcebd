/*
 * The fields of manifest.json the report shows (CONTRACT.md §5). The text is untrusted: one
 * bounded walk over it (RFC 8259 syntax, nesting depth at most 32) keeps only the integers at
 * the key paths of the table below and skips everything else. Every error names the byte
 * offset; a field that is missing or not an integer is an error naming the field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/rp_internal.h"

#define MAX_DEPTH 32

typedef struct field {
    const char *path;
    size_t off; /* offsetof in rp_manifest */
    bool required;
} field;

#define F(p, m, req)                                                                               \
    { p, offsetof(rp_manifest, m), req }
static const field g_fields[] = {
    F("options.max_row_size", max_row_size, true),
    F("options.shards", shards, true),
    F("rows_read", rows_read, true),
    F("rows_written", rows_written, false),
    F("probes_cut_into_pieces", probes_cut, false),
    F("dropped.null_src_addr", dropped_null_src, true),
    F("dropped.null_event_time", dropped_null_time, true),
    F("dropped.null_rtt", dropped_null_rtt, true),
    F("null_rtt_kept", null_rtt_kept, false),
    F("null_rtt_stored_as_failed", null_rtt_failed, false),
    F("splits.train.probes", probes[RP_TRAIN], true),
    F("splits.train.records", records[RP_TRAIN], true),
    F("splits.train.measurements", measurements[RP_TRAIN], true),
    F("splits.train.bytes", bytes[RP_TRAIN], true),
    F("splits.train.files", files[RP_TRAIN], true),
    F("splits.test.probes", probes[RP_TEST], true),
    F("splits.test.records", records[RP_TEST], true),
    F("splits.test.measurements", measurements[RP_TEST], true),
    F("splits.test.bytes", bytes[RP_TEST], true),
    F("splits.test.files", files[RP_TEST], true),
};
#define N_FIELDS (sizeof g_fields / sizeof g_fields[0])

typedef struct walker {
    const char *s;
    size_t n, i;
    char path[256];
    size_t path_len;
    rp_manifest *m;
    bool found[N_FIELDS];
    prw_error *err;
} walker;

static prw_status bad(walker *w, const char *what) {
    return prw__error_set(w->err, PRW_E_CORRUPT, (int64_t)w->i, "manifest.json: %s at byte %zu",
                          what, w->i);
}

static void skip_ws(walker *w) {
    while (w->i < w->n &&
           (w->s[w->i] == ' ' || w->s[w->i] == '\t' || w->s[w->i] == '\n' || w->s[w->i] == '\r'))
        w->i++;
}

/* A string at w->i (the opening quote); its raw bytes are s[*b, *e). */
static prw_status string(walker *w, size_t *b, size_t *e) {
    w->i++;
    *b = w->i;
    while (w->i < w->n && w->s[w->i] != '"') {
        unsigned char c = (unsigned char)w->s[w->i];
        if (c < 0x20)
            return bad(w, "control character in a string");
        w->i += c == '\\' ? 2 : 1;
    }
    if (w->i >= w->n)
        return bad(w, "unterminated string");
    *e = w->i++;
    return PRW_OK;
}

static prw_status number(walker *w) {
    size_t b = w->i;
    while (w->i < w->n && strchr("+-0123456789.eE", w->s[w->i]) && w->s[w->i])
        w->i++;
    if (w->i == b || w->i - b > 40)
        return bad(w, w->i == b ? "unexpected character" : "number too long");
    char tmp[48];
    memcpy(tmp, w->s + b, w->i - b);
    tmp[w->i - b] = 0;
    char *end;
    double d = strtod(tmp, &end);
    if (*end)
        return bad(w, "malformed number");
    for (size_t f = 0; f < N_FIELDS; f++) {
        if (strcmp(g_fields[f].path, w->path) != 0)
            continue;
        long long v = strtoll(tmp, &end, 10);
        if (*end || v < 0 || (double)v != d)
            return prw__error_set(w->err, PRW_E_CORRUPT, (int64_t)b,
                                  "manifest.json: %s is not a non-negative integer (at byte %zu)",
                                  w->path, b);
        memcpy((char *)w->m + g_fields[f].off, &(int64_t){v}, sizeof(int64_t));
        w->found[f] = true;
    }
    return PRW_OK;
}

static prw_status value(walker *w, int depth);

static prw_status members(walker *w, int depth, bool object) {
    char close = object ? '}' : ']';
    w->i++;
    skip_ws(w);
    if (w->i < w->n && w->s[w->i] == close) {
        w->i++;
        return PRW_OK;
    }
    size_t keep = w->path_len;
    for (;;) {
        skip_ws(w);
        if (object) {
            size_t b, e;
            if (w->i >= w->n || w->s[w->i] != '"')
                return bad(w, "expected a member name");
            PRW_TRY(string(w, &b, &e));
            int len = snprintf(w->path + keep, sizeof w->path - keep, "%s%.*s", keep ? "." : "",
                               (int)(e - b), w->s + b);
            w->path_len = len < 0 ? keep : keep + (size_t)len;
            if (w->path_len >= sizeof w->path)
                w->path_len = sizeof w->path - 1;
            skip_ws(w);
            if (w->i >= w->n || w->s[w->i] != ':')
                return bad(w, "expected ':'");
            w->i++;
        } else {
            snprintf(w->path + keep, sizeof w->path - keep, "%s[]", keep ? "." : "");
        }
        PRW_TRY(value(w, depth + 1));
        w->path_len = keep;
        w->path[keep] = 0;
        skip_ws(w);
        if (w->i < w->n && w->s[w->i] == ',') {
            w->i++;
            continue;
        }
        if (w->i < w->n && w->s[w->i] == close) {
            w->i++;
            return PRW_OK;
        }
        return bad(w, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static prw_status literal(walker *w, const char *word) {
    size_t n = strlen(word);
    if (w->n - w->i < n || memcmp(w->s + w->i, word, n) != 0)
        return bad(w, "unexpected character");
    w->i += n;
    return PRW_OK;
}

static prw_status value(walker *w, int depth) {
    if (depth > MAX_DEPTH)
        return bad(w, "nesting too deep");
    skip_ws(w);
    if (w->i >= w->n)
        return bad(w, "unexpected end");
    size_t b, e;
    switch (w->s[w->i]) {
    case '{':
        return members(w, depth, true);
    case '[':
        return members(w, depth, false);
    case '"':
        return string(w, &b, &e);
    case 't':
        return literal(w, "true");
    case 'f':
        return literal(w, "false");
    case 'n':
        return literal(w, "null");
    default:
        return number(w);
    }
}

prw_status prw__rp_manifest_parse(const char *text, size_t len, rp_manifest *m, prw_error *err) {
    memset(m, 0, sizeof *m);
    walker w;
    memset(&w, 0, sizeof w);
    w.s = text;
    w.n = len;
    w.m = m;
    w.err = err;
    m->rows_written = m->probes_cut = m->null_rtt_kept = m->null_rtt_failed = -1;
    skip_ws(&w);
    if (w.i >= w.n || w.s[w.i] != '{')
        return bad(&w, "not a JSON object");
    PRW_TRY(value(&w, 0));
    skip_ws(&w);
    if (w.i != w.n)
        return bad(&w, "text after the object");
    for (size_t f = 0; f < N_FIELDS; f++)
        PRW_CHECK(w.found[f] || !g_fields[f].required, err, PRW_E_CORRUPT, -1,
                  "manifest.json: no %s (is it a manifest of proberows build?)", g_fields[f].path);
    PRW_CHECK(m->shards >= 1 && m->shards <= 99999 && m->files[0] == m->shards &&
                  m->files[1] == m->shards,
              err, PRW_E_CORRUPT, -1,
              "manifest.json: options.shards %lld does not match splits.*.files (%lld, %lld)",
              (long long)m->shards, (long long)m->files[0], (long long)m->files[1]);
    return PRW_OK;
}
