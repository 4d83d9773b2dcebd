/*
 * The fields of manifest.json the report shows (CONTRACT.md §5). The text is untrusted: it is
 * parsed by the common JSON reader (RFC 8259, bounded depth and size), then only the integers at
 * the key paths of the table below are kept. Every syntax error names the byte offset; a field
 * that is missing or not an integer is an error naming the field.
 */
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "report/rp_internal.h"

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

/* The node at a dotted path below the root, or NULL. */
static const prw__json_node *at_path(const prw__json *j, const char *path) {
    const prw__json_node *n = prw__json_root(j);
    char key[64];
    while (n && *path) {
        size_t len = strcspn(path, ".");
        if (len >= sizeof key)
            return NULL;
        memcpy(key, path, len);
        key[len] = 0;
        n = prw__json_get(j, n, key);
        path += len + (path[len] == '.');
    }
    return n;
}

/* A field of the wrong type is reported before a missing one, as it is nearer the cause. */
static prw_status take_fields(const prw__json *j, rp_manifest *m, prw_error *err) {
    const prw__json_node *nodes[N_FIELDS];
    for (size_t f = 0; f < N_FIELDS; f++) {
        const prw__json_node *n = nodes[f] = at_path(j, g_fields[f].path);
        PRW_CHECK(!n || (n->type == PRW_JSON_NUMBER && n->is_int && n->i64 >= 0), err,
                  PRW_E_CORRUPT, -1, "manifest.json: %s is not a non-negative integer",
                  g_fields[f].path);
        if (n)
            memcpy((char *)m + g_fields[f].off, &n->i64, sizeof(int64_t));
    }
    for (size_t f = 0; f < N_FIELDS; f++)
        PRW_CHECK(nodes[f] || !g_fields[f].required, err, PRW_E_CORRUPT, -1,
                  "manifest.json: no %s (is it a manifest of proberows build?)", g_fields[f].path);
    return PRW_OK;
}

prw_status prw__rp_manifest_parse(const char *text, size_t len, rp_manifest *m, prw_error *err) {
    memset(m, 0, sizeof *m);
    m->rows_written = m->probes_cut = m->null_rtt_kept = m->null_rtt_failed = -1;
    prw__json j;
    memset(&j, 0, sizeof j);
    prw_status st = prw__json_parse(text, len, &j, err);
    if (st != PRW_OK) {
        /* A manifest too deep or too long for the reader is a corrupt manifest. */
        if (st == PRW_E_NOMEM || !err)
            return st == PRW_E_NOMEM ? st : PRW_E_CORRUPT;
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        return prw__error_set(err, PRW_E_CORRUPT, err->offset, "manifest.json: %s", why);
    }
    if (prw__json_root(&j)->type != PRW_JSON_OBJECT)
        st = prw__error_set(err, PRW_E_CORRUPT, 0, "manifest.json: not a JSON object");
    else
        st = take_fields(&j, m, err);
    prw__json_cleanup(&j);
    PRW_TRY(st);
    PRW_CHECK(m->shards >= 1 && m->shards <= 99999 && m->files[0] == m->shards &&
                  m->files[1] == m->shards,
              err, PRW_E_CORRUPT, -1,
              "manifest.json: options.shards %lld does not match splits.*.files (%lld, %lld)",
              (long long)m->shards, (long long)m->files[0], (long long)m->files[1]);
    return PRW_OK;
}
