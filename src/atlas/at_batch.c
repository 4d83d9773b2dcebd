/*
 * The parse step of the dump reader: one line-aligned piece of text -> a columnar batch of
 * measurements plus the piece's counts (results, drops, bad lines by reason, families,
 * firmware versions, the first bad lines). Runs on a worker thread; touches only its chunk.
 * Line numbers are relative to the piece here; the reader adds the piece's first line number
 * when it hands the batch out in order.
 */
#include "atlas/at_chunk.h"

void prw__at_chunk_cleanup(prw__at_chunk *c) {
    prw__free(c->data);
    prw__free(c->scratch);
    prw__free(c->time);
    prw__free(c->src_off);
    prw__free(c->dst_off);
    prw__free(c->ip);
    prw__free(c->rtt);
    prw__free(c->dst_valid);
    prw__free(c->ip_valid);
    prw__free(c->rtt_valid);
    prw__free(c->line);
    prw__free(c->fw);
    prw__buf_cleanup(&c->src_bytes);
    prw__buf_cleanup(&c->dst_bytes);
    prw__at_ping_cleanup(&c->ping);
    memset(c, 0, sizeof *c);
}

void prw__at_note_bad(prw_atlas_stats *s, prw_atlas_bad why, int64_t line, int64_t offset,
                      int64_t column, const char *what) {
    s->bad[why]++;
    s->bad_total++;
    if (s->nfirst_bad >= PRW_ATLAS_FIRST_BAD)
        return;
    prw_atlas_bad_line *b = &s->first_bad[s->nfirst_bad++];
    b->reason = why;
    b->line = line;
    b->offset = offset;
    b->column = column;
    snprintf(b->what, sizeof b->what, "%s", what ? what : "");
}

void prw__at_note_fw(prw_atlas_stats *s, int32_t fw, int64_t count) {
    int i = 0;
    while (i < s->nfw && s->fw[i] < fw)
        i++;
    if (i < s->nfw && s->fw[i] == fw) {
        s->fw_count[i] += count;
        return;
    }
    if (s->nfw == PRW_ATLAS_MAX_FW) {
        s->fw_other += count;
        return;
    }
    memmove(s->fw + i + 1, s->fw + i, (size_t)(s->nfw - i) * sizeof *s->fw);
    memmove(s->fw_count + i + 1, s->fw_count + i, (size_t)(s->nfw - i) * sizeof *s->fw_count);
    s->fw[i] = fw;
    s->fw_count[i] = count;
    s->nfw++;
}

/* Room for one more row in every column. */
static prw_status grow_rows(prw__at_chunk *c, bool details, prw_error *err) {
    if (c->rows < c->rows_cap)
        return PRW_OK;
    size_t cap = c->rows_cap ? 2 * c->rows_cap : 1024;
    struct {
        void **p;
        size_t size;
        bool on;
    } cols[] = {{(void **)&c->time, 8, true},     {(void **)&c->src_off, 8, true},
                {(void **)&c->dst_off, 8, true},  {(void **)&c->ip, 1, true},
                {(void **)&c->rtt, 8, true},      {(void **)&c->dst_valid, 1, true},
                {(void **)&c->ip_valid, 1, true}, {(void **)&c->rtt_valid, 1, true},
                {(void **)&c->line, 8, details},  {(void **)&c->fw, 4, details}};
    for (size_t k = 0; k < sizeof cols / sizeof *cols; k++) {
        if (!cols[k].on)
            continue;
        /* offsets carry one entry more than rows */
        void *n = prw__realloc(*cols[k].p, (cap + 1) * cols[k].size);
        if (!n)
            return prw__error_nomem(err, "dump batch", (cap + 1) * cols[k].size);
        *cols[k].p = n;
    }
    c->rows_cap = cap;
    return PRW_OK;
}

static prw_status add_row(prw__at_chunk *c, const prw__at_row *row, int64_t rel_line,
                          const prw_atlas_options *opt, prw_error *err) {
    PRW_TRY(grow_rows(c, opt->details, err));
    size_t r = c->rows;
    PRW_TRY(prw__buf_append(&c->src_bytes, row->src.p, row->src.n, err));
    if (row->dst.n)
        PRW_TRY(prw__buf_append(&c->dst_bytes, row->dst.p, row->dst.n, err));
    c->time[r] = row->event_time;
    c->src_off[r + 1] = (int64_t)c->src_bytes.len;
    c->dst_off[r + 1] = (int64_t)c->dst_bytes.len;
    c->ip[r] = (int8_t)row->ip_version;
    c->rtt[r] = row->has_rtt ? row->rtt : 0;
    c->dst_valid[r] = row->dst.n > 0;
    c->ip_valid[r] = row->ip_version != 0;
    c->rtt_valid[r] = row->has_rtt;
    if (opt->details) {
        c->line[r] = rel_line;
        c->fw[r] = row->fw;
    }
    c->rows++;
    return PRW_OK;
}

static void count_row(prw__at_chunk *c, const prw__at_row *row) {
    prw_atlas_stats *s = &c->stats;
    s->results++;
    s->family[row->ip_version == 4 ? 1 : row->ip_version == 6 ? 2 : 0]++;
    s->no_reply += row->has_rtt && row->rtt == -1;
    s->null_rtt += !row->has_rtt;
    s->not_run += c->ping.not_run;
    if (c->last_fw_n && c->last_fw == row->fw) {
        c->last_fw_n++;
    } else {
        if (c->last_fw_n)
            prw__at_note_fw(s, c->last_fw, c->last_fw_n);
        c->last_fw = row->fw;
        c->last_fw_n = 1;
    }
}

/* One line (no line end) at decompressed offset `off`, relative line number `rel`. */
static prw_status one_line(prw__at_chunk *c, const uint8_t *p, size_t n, int64_t off, int64_t rel,
                           const prw_atlas_options *opt, prw_error *err) {
    prw_atlas_stats *s = &c->stats;
    s->lines++;
    if (n > PRW_ATLAS_MAX_LINE) {
        prw__at_note_bad(s, PRW_ATLAS_BAD_LONG, rel, off, 0, "line longer than 1 MiB");
        return PRW_OK;
    }
    prw__at_row row;
    prw__at_json j;
    switch (prw__at_parse_line(p, n, c->scratch, opt, &c->ping, &row, &j)) {
    case PRW_AT_BLANK:
        s->blank_lines++;
        return PRW_OK;
    case PRW_AT_NO_SRC:
        s->dropped_no_src++;
        return PRW_OK;
    case PRW_AT_BAD:
        if (j.what && strcmp(j.what, "out of memory") == 0)
            return prw__error_nomem(err, "packet list", 0);
        prw__at_note_bad(s, j.bad, rel, off, (int64_t)(j.at - p), j.what);
        return PRW_OK;
    case PRW_AT_ROW:
        break;
    }
    PRW_TRY(add_row(c, &row, rel, opt, err));
    count_row(c, &row);
    return PRW_OK;
}

prw_status prw__at_chunk_parse(prw__at_chunk *c, const prw_atlas_options *opt, prw_error *err) {
    c->rows = 0;
    c->last_fw_n = 0;
    prw__buf_clear(&c->src_bytes);
    prw__buf_clear(&c->dst_bytes);
    prw_atlas_stats *s = &c->stats;
    memset(s, 0, sizeof *s);
    PRW_TRY(grow_rows(c, opt->details, err));
    c->src_off[0] = c->dst_off[0] = 0;
    size_t need = c->len < PRW_ATLAS_MAX_LINE ? c->len : PRW_ATLAS_MAX_LINE; /* longest line */
    PRW_TRY(prw__reserve_array((void **)&c->scratch, &c->scratch_cap, need ? need : 1, 1,
                               "line scratch", err));
    c->ping.want_pkts = false;
    for (int k = 0; k < c->npre_long; k++) { /* over-long lines the splitter skipped */
        s->lines++;
        prw__at_note_bad(s, PRW_ATLAS_BAD_LONG, k, c->pre_long_off[k], 0, "line longer than 1 MiB");
    }
    int64_t extra = c->nlong_total - c->npre_long; /* beyond the few kept with offsets */
    s->lines += extra;
    s->bad[PRW_ATLAS_BAD_LONG] += extra;
    s->bad_total += extra;
    int64_t rel = c->nlong_total;
    const uint8_t *p = c->data, *end = c->data + c->len;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *e = nl ? nl : end;
        size_t n = (size_t)(e - p);
        if (n && p[n - 1] == '\r')
            n--; /* CRLF line ends */
        PRW_TRY(one_line(c, p, n, c->offset + (p - c->data), rel++, opt, err));
        p = nl ? nl + 1 : end;
    }
    if (c->last_fw_n)
        prw__at_note_fw(s, c->last_fw, c->last_fw_n);
    return PRW_OK;
}
