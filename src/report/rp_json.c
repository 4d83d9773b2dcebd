/*
 * `proberows report --json`: the figures of the HTML page as one JSON object, schema
 * "proberows-report/1" (docs/REPORT.md). Histograms are {"edges": [...], "counts": [...]}
 * with counts[k] the number in [edges[k], edges[k+1]); an edge of null is +infinity. The
 * per-probe and size histograms stop after their last non-empty bin.
 */
#include <stdio.h>
#include <string.h>

#include "report/rp_internal.h"

static const char *const g_split[RP_SPLITS] = {"train", "test"};
static const char *const g_vkey[RP_VCLASSES] = {"ipv4", "ipv6", "other"};

static prw_status str(prw__buf *b, const char *s, prw_error *err) {
    PRW_TRY(prw__buf_append_u8(b, '"', err));
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c >= 0x80 ? prw__rp_utf8_len((const unsigned char *)s + i, n - i) : 1;
        if (len == 0)
            PRW_TRY(prw__buf_printf(b, err, "\\ufffd"));
        else if (c == '"' || c == '\\')
            PRW_TRY(prw__buf_printf(b, err, "\\%c", c));
        else if (c < 0x20)
            PRW_TRY(prw__buf_printf(b, err, "\\u%04x", c));
        else
            PRW_TRY(prw__buf_append(b, s + i, len, err));
        i += len ? len - 1 : 0;
    }
    return prw__buf_append_u8(b, '"', err);
}

static prw_status u64s(prw__buf *b, const uint64_t *v, size_t n, prw_error *err) {
    PRW_TRY(prw__buf_append_u8(b, '[', err));
    for (size_t i = 0; i < n; i++)
        PRW_TRY(prw__buf_printf(b, err, "%s%llu", i ? ", " : "", (unsigned long long)v[i]));
    return prw__buf_append_u8(b, ']', err);
}

/* {"edges": [...], "counts": [...]} of bins [0, last non-empty]; edges by callback. */
static prw_status hist(prw__buf *b, const char *key, const uint64_t *counts, size_t n,
                       double (*edge)(int), bool trim, prw_error *err) {
    size_t used = n;
    while (trim && used > 0 && counts[used - 1] == 0)
        used--;
    PRW_TRY(prw__buf_printf(b, err, "\"%s\": {\"edges\": [", key));
    for (size_t k = 0; k <= used && used; k++) {
        double e = edge((int)k);
        if (k == n && e <= 0)
            PRW_TRY(prw__buf_printf(b, err, "%snull", k ? ", " : ""));
        else
            PRW_TRY(prw__buf_printf(b, err, "%s%.17g", k ? ", " : "", e));
    }
    PRW_TRY(prw__buf_printf(b, err, "], \"counts\": "));
    PRW_TRY(u64s(b, counts, used, err));
    return prw__buf_printf(b, err, "}");
}

static double edge125(int k) {
    return (double)prw__rp_edge125(k);
}
static double edge_log2(int k) {
    return (double)(1ull << k);
}
static double edge_rtt(int k) {
    return k >= RP_RTT_BINS ? 0 : prw__rp_rtt_edge(k); /* 0 at the end: null, +infinity */
}

static prw_status split(prw__buf *b, const prw_report *r, int s, prw_error *err) {
    const rp_split *sp = &r->split[s];
    char t0[32], t1[32];
    PRW_TRY(prw__buf_printf(
        b, err,
        "    \"%s\": {\"files\": %zu, \"records\": %llu, \"records_read\": %llu, "
        "\"bytes\": %llu, \"probes\": %llu, \"measurements\": %llu, \"probes_cut\": %llu,\n"
        "      \"first_timestamp_us\": %lld, \"last_timestamp_us\": %lld, "
        "\"first_day\": \"%s\", \"last_day\": \"%s\",\n"
        "      \"measurements_per_record\": {\"min\": %llu, \"median\": %llu, \"max\": %llu},\n"
        "      \"record_bytes\": {\"p50\": %llu, \"p99\": %llu, \"max\": %llu},\n"
        "      \"inner_bytes\": {\"p50\": %llu, \"p99\": %llu, \"max\": %llu},\n"
        "      \"probes_by_ip\": {\"ipv4\": %llu, \"ipv6\": %llu, \"mixed\": %llu},\n"
        "      \"measurements_by_ip\": {\"ipv4\": %llu, \"ipv6\": %llu, \"other\": %llu},\n"
        "      \"null_event_time\": %llu, \"time_outside_window\": %llu,\n      ",
        g_split[s], sp->n_files, (unsigned long long)sp->records, (unsigned long long)sp->read,
        (unsigned long long)sp->bytes, (unsigned long long)sp->probes,
        (unsigned long long)sp->measurements, (unsigned long long)sp->cut_probes,
        (long long)sp->first_us, (long long)sp->last_us,
        prw__rp_fmt_date(sp->first_us, false, t0, sizeof t0),
        prw__rp_fmt_date(sp->last_us, false, t1, sizeof t1), (unsigned long long)sp->meas_min,
        (unsigned long long)sp->meas_median, (unsigned long long)sp->meas_max,
        (unsigned long long)sp->rec_p50, (unsigned long long)sp->rec_p99,
        (unsigned long long)sp->rec_max, (unsigned long long)sp->inner_p50,
        (unsigned long long)sp->inner_p99, (unsigned long long)sp->inner_max,
        (unsigned long long)sp->probes_by_class[0], (unsigned long long)sp->probes_by_class[1],
        (unsigned long long)sp->probes_by_class[2], (unsigned long long)r->acc.meas[s][0],
        (unsigned long long)r->acc.meas[s][1], (unsigned long long)r->acc.meas[s][2],
        (unsigned long long)r->acc.null_time[s], (unsigned long long)r->acc.time_outside[s]));
    PRW_TRY(hist(b, "measurements_per_probe", sp->meas_per_probe, RP_125_BINS, edge125, true, err));
    PRW_TRY(prw__buf_printf(b, err, ",\n      "));
    PRW_TRY(hist(b, "records_per_probe", sp->recs_per_probe, RP_125_BINS, edge125, true, err));
    PRW_TRY(prw__buf_printf(b, err, ",\n      "));
    PRW_TRY(hist(b, "inner_bytes_hist", sp->inner_size, RP_SIZE_BINS, edge_log2, true, err));
    return prw__buf_printf(b, err, "}%s\n", s + 1 < RP_SPLITS ? "," : "");
}

static prw_status manifest(prw__buf *b, const rp_manifest *m, prw_error *err) {
    PRW_TRY(prw__buf_printf(
        b, err,
        "  \"manifest\": {\"rows_read\": %lld, \"rows_written\": %lld, \"dropped\": "
        "{\"null_src_addr\": %lld, \"null_event_time\": %lld, \"null_rtt\": %lld}, "
        "\"null_rtt_kept\": %lld, \"null_rtt_stored_as_failed\": %lld, "
        "\"probes_cut_into_pieces\": %lld, \"max_row_size\": %lld, \"shards\": %lld,\n"
        "    \"splits\": {",
        (long long)m->rows_read, (long long)m->rows_written, (long long)m->dropped_null_src,
        (long long)m->dropped_null_time, (long long)m->dropped_null_rtt,
        (long long)m->null_rtt_kept, (long long)m->null_rtt_failed, (long long)m->probes_cut,
        (long long)m->max_row_size, (long long)m->shards));
    for (int s = 0; s < RP_SPLITS; s++)
        PRW_TRY(prw__buf_printf(b, err,
                                "%s\"%s\": {\"probes\": %lld, \"records\": %lld, "
                                "\"measurements\": %lld, \"bytes\": %lld, \"files\": %lld}",
                                s ? ", " : "", g_split[s], (long long)m->probes[s],
                                (long long)m->records[s], (long long)m->measurements[s],
                                (long long)m->bytes[s], (long long)m->files[s]));
    return prw__buf_printf(b, err, "}},\n");
}

static prw_status top(prw__buf *b, const prw_report *r, prw_error *err) {
    PRW_TRY(prw__buf_printf(b, err, "  \"top_probes\": ["));
    for (size_t i = 0; i < r->n_top; i++) {
        PRW_TRY(prw__buf_printf(b, err, "%s\n    {\"src_addr\": ", i ? "," : ""));
        PRW_TRY(str(b, r->top[i].src_addr, err));
        PRW_TRY(prw__buf_printf(
            b, err, ", \"split\": \"%s\", \"measurements\": %llu, \"records\": %llu}",
            g_split[r->top[i].split], (unsigned long long)r->top[i].measurements,
            (unsigned long long)r->top[i].records));
    }
    return prw__buf_printf(b, err, "\n  ],\n");
}

static prw_status timeline(prw__buf *b, const prw_report *r, prw_error *err) {
    rp_timeline t;
    PRW_TRY(prw__rp_timeline(r, &t, err));
    char d[32];
    prw_status st =
        prw__buf_printf(b, err,
                        "  \"time\": {\"unit\": \"%s\", \"start_us\": %lld, \"step_us\": %lld, "
                        "\"start\": \"%s\", \"counts\": {",
                        t.step_us > 3600000000LL ? "day" : "hour", (long long)t.start_us,
                        (long long)t.step_us, prw__rp_fmt_date(t.start_us, true, d, sizeof d));
    for (int s = 0; s < RP_SPLITS && st == PRW_OK; s++) {
        st = prw__buf_printf(b, err, "%s\"%s\": [", s ? ", " : "", g_split[s]);
        for (size_t i = 0; i < t.n && st == PRW_OK; i++)
            st = prw__buf_printf(b, err, "%s%.0f", i ? ", " : "", t.count[s][i]);
        if (st == PRW_OK)
            st = prw__buf_printf(b, err, "]");
    }
    if (st == PRW_OK)
        st = prw__buf_printf(b, err, "}},\n");
    prw__rp_timeline_cleanup(&t);
    return st;
}

static prw_status rtt(prw__buf *b, const rp_acc *a, prw_error *err) {
    PRW_TRY(prw__buf_printf(b, err, "  \"rtt\": {"));
    for (int v = 0; v < RP_VCLASSES; v++) {
        PRW_TRY(prw__buf_printf(b, err,
                                "%s\n    \"%s\": {\"failed\": %llu, \"null\": %llu, "
                                "\"invalid\": %llu, ",
                                v ? "," : "", g_vkey[v], (unsigned long long)a->rtt_failed[v],
                                (unsigned long long)a->rtt_null[v],
                                (unsigned long long)a->rtt_invalid[v]));
        uint64_t n = 0;
        for (int k = 0; k < RP_RTT_BINS; k++)
            n += a->rtt_bins[v][k];
        PRW_TRY(prw__buf_printf(b, err, "\"replies\": %llu, ", (unsigned long long)n));
        /* every bin, so the edges are the same for all versions */
        PRW_TRY(hist(b, "replies_ms", a->rtt_bins[v], RP_RTT_BINS, edge_rtt, false, err));
        PRW_TRY(prw__buf_printf(b, err, "}"));
    }
    return prw__buf_printf(b, err, "\n  }\n}\n");
}

prw_status prw__rp_json(const prw_report *r, prw__buf *b, prw_error *err) {
    PRW_TRY(prw__buf_printf(b, err, "{\n  \"schema\": \"proberows-report/1\",\n  \"dir\": "));
    PRW_TRY(str(b, r->dir, err));
    PRW_TRY(prw__buf_printf(b, err, ",\n  \"sampled\": %s, \"sample_per_split\": %llu,\n",
                            r->sample ? "true" : "false", (unsigned long long)r->sample));
    PRW_TRY(manifest(b, &r->man, err));
    PRW_TRY(prw__buf_printf(b, err, "  \"splits\": {\n"));
    for (int s = 0; s < RP_SPLITS; s++)
        PRW_TRY(split(b, r, s, err));
    PRW_TRY(prw__buf_printf(b, err, "  },\n"));
    PRW_TRY(top(b, r, err));
    PRW_TRY(timeline(b, r, err));
    return rtt(b, &r->acc, err);
}
