/* `proberows verify`: manifest.json read back (options and totals), every problem recorded as
 * a failure of the manifest (docs/VERIFY.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/io.h"
#include "verify/vf_internal.h"

static bool man_i64(vctx *v, const prw__json_node *obj, const char *key, const char *where,
                    int64_t *out) {
    const prw__json_node *n = prw__json_get(&v->man.json, obj, key);
    if (!n || n->type != PRW_JSON_NUMBER || !n->is_int || n->i64 < 0) {
        prw__vf_fail(v, ORD_MANIFEST, "manifest.json", -1, "manifest",
                     "%s%s is missing or not a non-negative integer", where, key);
        return false;
    }
    *out = n->i64;
    return true;
}

static const char *man_str(vctx *v, const prw__json_node *obj, const char *key) {
    const prw__json_node *n = prw__json_get(&v->man.json, obj, key);
    if (!n || n->type != PRW_JSON_STRING) {
        prw__vf_fail(v, ORD_MANIFEST, "manifest.json", -1, "manifest",
                     "\"%s\" is missing or not a string", key);
        return NULL;
    }
    return n->str;
}

static bool parse_options(vctx *v, const prw__json_node *opt) {
    vman *m = &v->man;
    const prw__json *j = &m->json;
    int64_t max_row = 0, shards = 0;
    bool ok = man_i64(v, opt, "max_row_size", "options.", &max_row) &&
              man_i64(v, opt, "shards", "options.", &shards);
    const prw__json_node *ratio = prw__json_get(j, opt, "train_ratio");
    const char *split = man_str(v, opt, "split");
    const char *rule = man_str(v, opt, "split_hash_rule");
    const char *null_rtt = man_str(v, opt, "null_rtt");
    if (!ok || !ratio || ratio->type != PRW_JSON_NUMBER || !split || !rule || !null_rtt) {
        if (ok && (!ratio || ratio->type != PRW_JSON_NUMBER))
            prw__vf_fail(v, ORD_MANIFEST, "manifest.json", -1, "manifest",
                         "options.train_ratio is missing or not a number");
        return false;
    }
    m->max_row = (uint64_t)max_row;
    m->ratio = ratio->num;
    long long den = 0, num = 0;
    char tail;
    if (sscanf(rule, "src_id %% %lld < %lld%c", &den, &num, &tail) != 2 || den < 1 || den > 10000 ||
        num < 0 || num > den) {
        prw__vf_fail(v, ORD_MANIFEST, "manifest.json", -1, "manifest",
                     "options.split_hash_rule \"%s\" is not \"src_id %% D < N\"", rule);
        return false;
    }
    m->den = den;
    m->num = num;
    int64_t rn = 0, rd = 1;
    prw__pl_ratio_fraction(m->ratio, &rn, &rd);
    if (rn != m->num || rd != m->den)
        prw__vf_fail(v, ORD_MANIFEST, "manifest.json", -1, "manifest",
                     "split_hash_rule \"%s\" does not match train_ratio %.17g (%lld/%lld)", rule,
                     m->ratio, (long long)rn, (long long)rd);
    bool good = true;
    if (strcmp(split, "ratio") == 0 || strcmp(split, "hash") == 0) {
        m->split = split[0] == 'h';
    } else {
        prw__vf_fail(v, ORD_MANIFEST, "manifest.json", -1, "manifest",
                     "options.split \"%s\" is neither ratio nor hash", split);
        good = false;
    }
    if (strcmp(null_rtt, "keep") == 0)
        m->null_rtt = PRW_NULL_RTT_KEEP;
    else if (strcmp(null_rtt, "drop") == 0)
        m->null_rtt = PRW_NULL_RTT_DROP;
    else if (strcmp(null_rtt, "failed") == 0)
        m->null_rtt = PRW_NULL_RTT_FAILED;
    else {
        prw__vf_fail(v, ORD_MANIFEST, "manifest.json", -1, "manifest",
                     "options.null_rtt \"%s\" is not keep, drop or failed", null_rtt);
        good = false;
    }
    if (shards < 1 || shards > 99999) {
        prw__vf_fail(v, ORD_MANIFEST, "manifest.json", -1, "manifest",
                     "options.shards %lld is not in 1..99999", (long long)shards);
        good = false;
    }
    m->shards = (int)shards;
    static const char *const logical[PRW_COL_COUNT] = {"event_time", "src_addr", "dst_addr",
                                                       "ip_version", "rtt"};
    const prw__json_node *cols = prw__json_get(j, opt, "columns");
    for (int c = 0; c < PRW_COL_COUNT; c++) {
        const prw__json_node *n = prw__json_get(j, cols, logical[c]);
        m->columns[c] = n && n->type == PRW_JSON_STRING ? n->str : logical[c];
    }
    /* How dump inputs were read (absent before issue #18: the defaults). */
    const prw__json_node *rtt_n = prw__json_get(j, opt, "dump_rtt");
    const prw__json_node *src_n = prw__json_get(j, opt, "dump_src_addr");
    const char *rtt = rtt_n && rtt_n->type == PRW_JSON_STRING ? rtt_n->str : NULL;
    const char *src = src_n && src_n->type == PRW_JSON_STRING ? src_n->str : NULL;
    m->atlas_rtt = !rtt || strcmp(rtt, "avg") == 0 ? PRW_ATLAS_RTT_AVG
                   : strcmp(rtt, "min") == 0       ? PRW_ATLAS_RTT_MIN
                                                   : PRW_ATLAS_RTT_MAX;
    m->atlas_src = src && strcmp(src, "from") == 0 ? PRW_ATLAS_SRC_FROM : PRW_ATLAS_SRC_ADDR;
    return good;
}

static bool parse_counts(vctx *v, const prw__json_node *root) {
    vman *m = &v->man;
    const prw__json *j = &m->json;
    bool ok = man_i64(v, root, "rows_read", "", &m->rows_read) &&
              man_i64(v, root, "rows_written", "", &m->rows_written) &&
              man_i64(v, root, "null_rtt_kept", "", &m->null_kept) &&
              man_i64(v, root, "null_rtt_stored_as_failed", "", &m->null_failed) &&
              man_i64(v, root, "probes_cut_into_pieces", "", &m->probes_cut);
    const prw__json_node *dr = prw__json_get(j, root, "dropped");
    ok = ok && man_i64(v, dr, "null_src_addr", "dropped.", &m->dropped[0]) &&
         man_i64(v, dr, "null_event_time", "dropped.", &m->dropped[1]) &&
         man_i64(v, dr, "null_rtt", "dropped.", &m->dropped[2]);
    /* Manifests before issue #20 have no out-of-range count: none were dropped then. */
    m->dropped[3] = 0;
    if (ok && prw__json_get(j, dr, "event_time_out_of_range"))
        ok = man_i64(v, dr, "event_time_out_of_range", "dropped.", &m->dropped[3]);
    const prw__json_node *sp = prw__json_get(j, root, "splits");
    static const char *const names[2] = {"train", "test"};
    for (int s = 0; s < 2 && ok; s++) {
        const prw__json_node *x = prw__json_get(j, sp, names[s]);
        char where[32];
        snprintf(where, sizeof where, "splits.%s.", names[s]);
        ok = man_i64(v, x, "probes", where, &m->probes[s]) &&
             man_i64(v, x, "records", where, &m->records[s]) &&
             man_i64(v, x, "measurements", where, &m->meas[s]) &&
             man_i64(v, x, "bytes", where, &m->bytes[s]) &&
             man_i64(v, x, "files", where, &m->files[s]);
    }
    const prw__json_node *in = prw__json_get(j, root, "inputs");
    if (ok && (!in || in->type != PRW_JSON_ARRAY)) {
        prw__vf_fail(v, ORD_MANIFEST, "manifest.json", -1, "manifest", "inputs is not an array");
        ok = false;
    }
    if (ok) {
        m->n_inputs = in->count;
        m->input_rows = prw__calloc(in->count ? in->count : 1, sizeof *m->input_rows);
        if (!m->input_rows)
            return false;
        size_t i = 0;
        for (const prw__json_node *e = prw__json_at(j, in, 0); e && ok; e = prw__json_next(j, e))
            ok = man_i64(v, e, "rows", "inputs[].", &m->input_rows[i++]);
    }
    return ok;
}

/* Reads DIR/manifest.json; failures are reported, and defaults stand in for what is unusable
 * (8 MiB rows, ratio 0.9, one shard), so the records are still checked. */
prw_status prw__vf_read_manifest(vctx *v, prw_error *err) {
    vman *m = &v->man;
    m->max_row = 8u << 20;
    m->ratio = 0.9;
    m->num = 9;
    m->den = 10;
    m->shards = 1;
    static const char *const logical[PRW_COL_COUNT] = {"event_time", "src_addr", "dst_addr",
                                                       "ip_version", "rtt"};
    memcpy(m->columns, logical, sizeof m->columns);
    char path[PRW_PATH_BUF];
    snprintf(path, sizeof path, "%s/manifest.json", v->o->dir);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        prw__vf_fail(v, ORD_MANIFEST, "manifest.json", -1, "manifest", "cannot be read: %s",
                     strerror(errno));
        return PRW_OK;
    }
    if ((uint64_t)sb.st_size > PRW_JSON_MAX_TEXT) {
        prw__vf_fail(v, ORD_MANIFEST, "manifest.json", -1, "manifest",
                     "%lld bytes: too large for a manifest", (long long)sb.st_size);
        return PRW_OK;
    }
    uint8_t *text = NULL;
    size_t len = 0;
    prw_error e;
    prw_error_clear(&e);
    prw_status st = prw__read_file(path, &text, &len, &e);
    if (st == PRW_E_NOMEM)
        return prw__error_nomem(err, "manifest.json", (size_t)sb.st_size);
    if (st < 0) {
        prw__vf_fail(v, ORD_MANIFEST, "manifest.json", -1, "manifest", "cannot be read: %s", e.msg);
        return PRW_OK;
    }
    st = prw__json_parse((const char *)text, len, &m->json, &e);
    prw__free(text);
    if (st == PRW_E_NOMEM)
        return prw__error_nomem(err, "manifest.json", len);
    if (st < 0) {
        prw__vf_fail(v, ORD_MANIFEST, "manifest.json", e.offset, "manifest", "not valid JSON: %s",
                     e.msg);
        return PRW_OK;
    }
    const prw__json_node *root = prw__json_root(&m->json);
    const prw__json_node *tool = prw__json_get(&m->json, root, "tool");
    if (!tool || tool->type != PRW_JSON_STRING || strcmp(tool->str, "proberows") != 0) {
        prw__vf_fail(v, ORD_MANIFEST, "manifest.json", -1, "manifest",
                     "\"tool\" is not \"proberows\"");
        return PRW_OK;
    }
    bool ok = parse_options(v, prw__json_get(&m->json, root, "options"));
    ok = parse_counts(v, root) && ok;
    if (!m->input_rows && m->n_inputs)
        return prw__error_nomem(err, "manifest inputs", m->n_inputs * sizeof *m->input_rows);
    m->ok = ok;
    return PRW_OK;
}
