/*
 * manifest.json (CONTRACT.md §5): tool version, command line, input files with row counts,
 * per split the probes, records, measurements, bytes, dropped-row counts by reason, options
 * and phase timings. Written atomically next to the outputs.
 */
#include <stdarg.h>
#include <stdio.h>

#include "common/io.h"
#include "build/bd_internal.h"
#include "proberows/arrayrecord.h"

prw_status prw__pl_json_str(prw__buf *b, const char *s, prw_error *err) {
    PRW_TRY(prw__buf_append_u8(b, '"', err));
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            PRW_TRY(prw__buf_append_u8(b, '\\', err));
            PRW_TRY(prw__buf_append_u8(b, c, err));
        } else if (c == '\n') {
            PRW_TRY(prw__buf_append(b, "\\n", 2, err));
        } else if (c == '\t') {
            PRW_TRY(prw__buf_append(b, "\\t", 2, err));
        } else if (c < 0x20) {
            PRW_TRY(prw__buf_printf(b, err, "\\u%04x", c));
        } else {
            PRW_TRY(prw__buf_append_u8(b, c, err));
        }
    }
    return prw__buf_append_u8(b, '"', err);
}

static const char *split_rule_name(prw_split_rule r) {
    return r == PRW_SPLIT_HASH ? "hash" : "ratio";
}

static const char *null_rtt_name(prw_null_rtt r) {
    return r == PRW_NULL_RTT_DROP ? "drop" : r == PRW_NULL_RTT_FAILED ? "failed" : "keep";
}

/* "lines_skipped": the dump lines skipped, in total and by reason. */
static prw_status lines_skipped(prw__buf *b, const prw_build_stats *st, prw_error *err) {
    PRW_TRY(prw__buf_printf(b, err, "  \"lines_skipped\": {\"total\": %lld",
                            (long long)st->lines_skipped_total));
    for (int k = 0; k < PRW_ATLAS_BAD_COUNT; k++)
        PRW_TRY(prw__buf_printf(b, err, ", \"%s\": %lld", prw_atlas_bad_name((prw_atlas_bad)k),
                                (long long)st->lines_skipped[k]));
    return prw__buf_printf(b, err, "},\n");
}

static prw_status manifest_body(prw__buf *b, const prw_build_options *o, const prw_build_stats *st,
                                const prw__pl_input *in, size_t nf, prw_error *err) {
    static const char *const logical[PRW_COL_COUNT] = {"event_time", "src_addr", "dst_addr",
                                                       "ip_version", "rtt"};
    PRW_TRY(prw__buf_printf(b, err, "{\n  \"tool\": \"proberows\",\n  \"version\": \"%s\",\n",
                            PRW_VERSION_STRING));
    PRW_TRY(prw__buf_printf(b, err, "  \"command_line\": "));
    PRW_TRY(prw__pl_json_str(b, o->command_line ? o->command_line : "", err));
    PRW_TRY(prw__buf_printf(b, err, ",\n  \"inputs\": ["));
    for (size_t f = 0; f < nf; f++) {
        PRW_TRY(prw__buf_printf(b, err, "%s\n    {\"path\": ", f ? "," : ""));
        PRW_TRY(prw__pl_json_str(b, in[f].path, err));
        PRW_TRY(prw__buf_printf(b, err, ", \"format\": \"%s\", \"rows\": %lld, \"bytes\": %lld}",
                                in[f].format, (long long)in[f].rows, (long long)in[f].bytes));
    }
    char ar[PRW_AR_OPTIONS_MAX] = "";
    prw_ar_options aro;
    if (prw_ar_options_parse(o->ar_options ? o->ar_options : "", &aro, NULL) == PRW_OK)
        prw_ar_options_format(&aro, ar, sizeof ar);
    int64_t num = 0, den = 1;
    prw__pl_ratio_fraction(o->train_ratio, &num, &den);
    PRW_TRY(prw__buf_printf(b, err,
                            "\n  ],\n  \"options\": {\n    \"max_row_size\": %llu,\n"
                            "    \"train_ratio\": %.17g,\n    \"split\": \"%s\",\n"
                            "    \"split_hash_rule\": \"src_id %% %lld < %lld\",\n"
                            "    \"null_rtt\": \"%s\",\n    \"shards\": %d,\n"
                            "    \"workers\": %d,\n    \"ar_options\": ",
                            (unsigned long long)(o->max_row_size ? o->max_row_size : (8ull << 20)),
                            o->train_ratio, split_rule_name(o->split), (long long)den,
                            (long long)num, null_rtt_name(o->null_rtt),
                            o->shards > 1 ? o->shards : 1, st->workers));
    PRW_TRY(prw__pl_json_str(b, ar, err));
    static const char *const rtt[] = {"avg", "min", "max"}, *const src[] = {"src_addr", "from"};
    PRW_TRY(prw__buf_printf(b, err,
                            ",\n    \"strict\": %s,\n    \"dump_rtt\": \"%s\",\n"
                            "    \"dump_src_addr\": \"%s\"",
                            o->strict ? "true" : "false", rtt[o->atlas_rtt], src[o->atlas_src]));
    PRW_TRY(prw__buf_printf(b, err, ",\n    \"columns\": {"));
    for (int c = 0; c < PRW_COL_COUNT; c++) {
        PRW_TRY(prw__buf_printf(b, err, "%s\"%s\": ", c ? ", " : "", logical[c]));
        PRW_TRY(prw__pl_json_str(b, o->columns[c] ? o->columns[c] : logical[c], err));
    }
    PRW_TRY(prw__buf_printf(
        b, err,
        "}\n  },\n  \"rows_read\": %lld,\n  \"rows_written\": %lld,\n  \"dropped\": {"
        "\"null_src_addr\": %lld, \"null_event_time\": %lld, \"null_rtt\": %lld, "
        "\"event_time_out_of_range\": %lld},\n"
        "  \"kept_odd_values\": {\"rtt_nan\": %lld, \"rtt_inf\": %lld, \"ip_version_other\": "
        "%lld},\n"
        "  \"null_rtt_kept\": %lld,\n  \"null_rtt_stored_as_failed\": %lld,\n"
        "  \"probes_cut_into_pieces\": %lld,\n"
        "  \"memory\": {\"limit\": %llu, \"spilled\": %s, \"temp_bytes\": %lld, "
        "\"partitions\": %lld, \"spilled_partitions\": %lld, \"merged_probes\": %lld},\n",
        (long long)st->rows_read,
        (long long)(st->split[0].measurements + st->split[1].measurements),
        (long long)st->dropped_null_src_addr, (long long)st->dropped_null_event_time,
        (long long)st->dropped_null_rtt, (long long)st->dropped_event_time_range,
        (long long)st->rtt_nan, (long long)st->rtt_inf, (long long)st->ip_version_other,
        (long long)st->null_rtt_kept, (long long)st->null_rtt_failed,
        (long long)st->split_probes_cut, (unsigned long long)st->memory_limit,
        st->spilled ? "true" : "false", (long long)st->temp_bytes, (long long)st->partitions,
        (long long)(st->spilled ? st->spill_partitions : 0), (long long)st->merged_probes));
    PRW_TRY(lines_skipped(b, st, err));
    PRW_TRY(prw__buf_printf(b, err, "  \"splits\": {"));
    static const char *const names[2] = {"train", "test"};
    for (int s = 0; s < 2; s++) {
        const prw_build_split_stats *ss = &st->split[s];
        PRW_TRY(prw__buf_printf(
            b, err,
            "%s\n    \"%s\": {\"probes\": %lld, \"records\": %lld, \"measurements\": %lld, "
            "\"bytes\": %lld, \"files\": %lld}",
            s ? "," : "", names[s], (long long)ss->probes, (long long)ss->records,
            (long long)ss->measurements, (long long)ss->bytes, (long long)ss->files));
    }
    PRW_TRY(prw__buf_printf(b, err,
                            "\n  },\n  \"seconds\": {\"scan\": %.3f, \"decode\": %.3f, "
                            "\"group\": %.3f, \"encode_write\": %.3f}\n}\n",
                            st->seconds_scan, st->seconds_decode, st->seconds_group,
                            st->seconds_write));
    return PRW_OK;
}

prw_status prw__pl_write_manifest(const prw_build_options *o, const prw_build_stats *st,
                                  const prw__pl_input *in, size_t nin, const char *dir,
                                  prw_error *err) {
    prw__buf b;
    prw__buf_init(&b);
    prw_status s = manifest_body(&b, o, st, in, nin, err);
    prw__buf pb;
    prw__buf_init(&pb);
    if (s == PRW_OK)
        s = prw__buf_printf(&pb, err, "%s/manifest.json%c", dir, 0);
    const char *path = (const char *)pb.data;
    prw__wfile w;
    if (s == PRW_OK)
        s = prw__wfile_open(&w, path, err);
    if (s == PRW_OK) {
        s = prw__wfile_write(&w, b.data, b.len, err);
        if (s == PRW_OK)
            s = prw__wfile_commit(&w, err);
        else
            prw__wfile_abort(&w);
    }
    prw__buf_cleanup(&b);
    prw__buf_cleanup(&pb);
    return s;
}
