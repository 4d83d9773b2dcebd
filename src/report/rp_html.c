/*
 * The HTML page: one self-contained file (inline CSS and SVG, no script, no external
 * resource), well-formed XML (XHTML syntax), so it opens from a file:// URL, prints, and
 * parses with any XML parser. One section per question, each a chart with its numbers beside
 * it in a table.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/rp_internal.h"

static const char *const g_split[RP_SPLITS] = {"train", "test"};
static const char *const g_vname[RP_VCLASSES] = {"IPv4", "IPv6", "other or null"};

static const char g_css[] =
    "body{font-family:sans-serif;color:#111;max-width:1100px;margin:1.5em auto;padding:0 1em}"
    "h1{font-size:1.5em;margin-bottom:0.2em}h2{font-size:1.15em;border-bottom:1px solid #999;"
    "margin-top:1.6em}p.meta{color:#333;margin:0.2em 0}p.note{font-weight:bold}"
    ".fig{display:flex;flex-wrap:wrap;gap:1.2em;align-items:flex-start;margin:0.6em 0;"
    "break-inside:avoid;page-break-inside:avoid}"
    "svg.chart{max-width:100%;height:auto;border:1px solid #ddd;background:#fff}"
    "table{border-collapse:collapse;font-size:0.85em}th,td{padding:2px 8px;text-align:right;"
    "border-bottom:1px solid #ddd}th:first-child,td:first-child{text-align:left}"
    "td.addr{font-family:monospace;text-align:left}"
    "text{font-family:sans-serif;fill:#111}text.title{font-size:13px;font-weight:bold}"
    "text.tick{font-size:11px}text.label{font-size:11px;fill:#333}"
    "text.cat{font-size:10px;font-family:monospace}"
    ".grid{stroke:#e3e3e3;stroke-width:1}.axis{stroke:#333;stroke-width:1}"
    ".limit{stroke:#BB5566;stroke-width:2;stroke-dasharray:6 3}"
    "@media print{body{max-width:none;margin:0}h2{break-after:avoid}svg.chart{border:none}}";

typedef struct page {
    const prw_report *r;
    prw__buf *b;
    prw_error *err;
} page;

static prw_status esc(page *p, const char *s) {
    return prw__rp_xml_text(p->b, s, strlen(s), p->err);
}

static prw_status row(page *p, const char *name, const double *v, size_t n, bool bytes) {
    char num[32];
    PRW_TRY(prw__buf_printf(p->b, p->err, "<tr><td>"));
    PRW_TRY(esc(p, name));
    PRW_TRY(prw__buf_printf(p->b, p->err, "</td>"));
    for (size_t i = 0; i < n; i++)
        PRW_TRY(prw__buf_printf(p->b, p->err, "<td>%s</td>",
                                v[i] < 0 ? "n/a"
                                : bytes  ? prw__rp_fmt_bytes(v[i], num, sizeof num)
                                         : prw__rp_fmt_count(v[i], num, sizeof num)));
    return prw__buf_printf(p->b, p->err, "</tr>\n");
}

static prw_status row3(page *p, const char *name, double train, double test, bool bytes) {
    double v[3] = {train, test, train + test};
    return row(p, name, v, 3, bytes);
}

static prw_status head(page *p, const char *first, const char *const *cols, size_t n) {
    PRW_TRY(prw__buf_printf(p->b, p->err, "<table><tr><th>%s</th>", first));
    for (size_t i = 0; i < n; i++)
        PRW_TRY(prw__buf_printf(p->b, p->err, "<th>%s</th>", cols[i]));
    return prw__buf_printf(p->b, p->err, "</tr>\n");
}

/* A histogram of the bins [first, last] that hold data, ylog when the counts span decades;
 * "no data" when there is none. */
static prw_status hist(page *p, rp_chart c) {
    size_t lo = c.n, hi = 0;
    double mn = INFINITY, mx = 0;
    for (size_t s = 0; s < c.n_series; s++)
        for (size_t i = 0; i < c.n; i++)
            if (c.y[s][i] > 0) {
                lo = i < lo ? i : lo;
                hi = i > hi ? i : hi;
                mn = c.y[s][i] < mn ? c.y[s][i] : mn;
                mx = c.y[s][i] > mx ? c.y[s][i] : mx;
            }
    if (lo > hi)
        return prw__buf_printf(p->b, p->err, "<p class=\"note\">%s: no data</p>\n", c.title);
    for (size_t k = hi + 1; c.vline > 0 && k < c.n; k++) /* the limit stays in view */
        if (c.edges[k] <= c.vline)
            hi = k;
    c.edges += lo;
    for (size_t s = 0; s < c.n_series; s++)
        c.y[s] += lo;
    c.n = hi - lo + 1;
    c.ylog = mx / mn >= 100;
    return prw__rp_svg_chart(p->b, &c, p->err);
}

static prw_status sec(page *p, const char *id, const char *title) {
    return prw__buf_printf(p->b, p->err, "<section id=\"%s\"><h2>%s</h2>\n<div class=\"fig\">\n",
                           id, title);
}

static prw_status sec_end(page *p) {
    return prw__buf_printf(p->b, p->err, "</div></section>\n");
}

static prw_status intro(page *p) {
    const prw_report *r = p->r;
    char a[32], b2[32];
    PRW_TRY(prw__buf_printf(p->b, p->err, "<h1>proberows report</h1>\n<p class=\"meta\">"));
    PRW_TRY(esc(p, r->dir));
    uint64_t recs = r->split[0].records + r->split[1].records;
    uint64_t read = r->split[0].read + r->split[1].read;
    PRW_TRY(prw__buf_printf(p->b, p->err, ": %s records in %lld files, read in %.2f s</p>\n",
                            prw__rp_fmt_count((double)recs, a, sizeof a),
                            (long long)(2 * r->man.shards), r->seconds));
    if (r->sample)
        PRW_TRY(prw__buf_printf(p->b, p->err,
                                "<p class=\"note\">Sampled: %s of %s records read (--sample %llu "
                                "per split, evenly spaced). Totals are the manifest's; the "
                                "charts and per-probe figures describe the sample.</p>\n",
                                prw__rp_fmt_count((double)read, a, sizeof a),
                                prw__rp_fmt_count((double)recs, b2, sizeof b2),
                                (unsigned long long)r->sample));
    bool agree = true;
    for (int s = 0; s < RP_SPLITS; s++)
        agree = agree && (int64_t)r->split[s].records == r->man.records[s] &&
                (r->sample || ((int64_t)r->split[s].measurements == r->man.measurements[s] &&
                               (int64_t)r->split[s].probes == r->man.probes[s]));
    return prw__buf_printf(p->b, p->err, "<p class=\"%s\">%s</p>\n", agree ? "meta" : "note",
                           agree ? "The records agree with manifest.json."
                                 : "The records disagree with manifest.json: run proberows "
                                   "verify.");
}

static prw_status sec_splits(page *p) {
    const prw_report *r = p->r;
    const rp_split *t = &r->split[0], *e = &r->split[1];
    double y0[4] = {(double)t->probes, (double)t->records, (double)t->measurements,
                    (double)t->bytes};
    double y1[4] = {(double)e->probes, (double)e->records, (double)e->measurements,
                    (double)e->bytes};
    if (r->sample) /* the sample's probe and measurement counts say little: the manifest's */
        y0[0] = (double)r->man.probes[0], y1[0] = (double)r->man.probes[1],
        y0[2] = (double)r->man.measurements[0], y1[2] = (double)r->man.measurements[1];
    const char *cats[4] = {"probes", "records", "measurements", "bytes"};
    rp_chart c = {.kind = RP_STACK,
                  .title = "Share of train and test",
                  .n = 4,
                  .cats = cats,
                  .n_series = 2,
                  .names = {"train", "test"},
                  .y = {y0, y1}};
    PRW_TRY(sec(p, "splits", "Splits"));
    PRW_TRY(prw__rp_svg_chart(p->b, &c, p->err));
    const char *cols[3] = {"train", "test", "total"};
    PRW_TRY(head(p, "per split", cols, 3));
    PRW_TRY(row3(p, "probes", y0[0], y1[0], false));
    PRW_TRY(row3(p, "records", y0[1], y1[1], false));
    PRW_TRY(row3(p, "measurements", y0[2], y1[2], false));
    PRW_TRY(row3(p, "bytes", y0[3], y1[3], true));
    PRW_TRY(row3(p, "probes cut into pieces", (double)t->cut_probes, (double)e->cut_probes, false));
    PRW_TRY(prw__buf_printf(p->b, p->err, "</table>\n"));
    const rp_manifest *m = &r->man;
    const char *mc[1] = {"rows"};
    PRW_TRY(head(p, "input rows (manifest.json)", mc, 1));
    const struct {
        const char *name;
        int64_t v;
    } rows[] = {{"read", m->rows_read},
                {"written", m->rows_written},
                {"dropped: null src_addr", m->dropped_null_src},
                {"dropped: null event_time", m->dropped_null_time},
                {"dropped: null rtt", m->dropped_null_rtt},
                {"null rtt kept", m->null_rtt_kept},
                {"null rtt stored as -1", m->null_rtt_failed}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        PRW_TRY(row(p, rows[i].name, &(double){(double)rows[i].v}, 1, false));
    PRW_TRY(prw__buf_printf(p->b, p->err, "</table>\n"));
    return sec_end(p);
}

static prw_status top_table(page *p) {
    const prw_report *r = p->r;
    const char *cols[4] = {"split", "measurements", "records", ""};
    PRW_TRY(head(p, "probe (src_addr)", cols, 3));
    char a[32], b2[32];
    for (size_t i = 0; i < r->n_top; i++) {
        PRW_TRY(prw__buf_printf(p->b, p->err, "<tr><td class=\"addr\">"));
        PRW_TRY(esc(p, r->top[i].src_addr));
        PRW_TRY(prw__buf_printf(p->b, p->err, "</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
                                g_split[r->top[i].split],
                                prw__rp_fmt_count((double)r->top[i].measurements, a, sizeof a),
                                prw__rp_fmt_count((double)r->top[i].records, b2, sizeof b2)));
    }
    return prw__buf_printf(p->b, p->err, "</table>\n");
}

/* A histogram of per-probe counts (1-2-5 bins) over both splits. */
static prw_status probe_hist(page *p, const uint64_t *train, const uint64_t *test,
                             const char *title, const char *xlabel) {
    double edges[RP_125_BINS + 1], y[RP_125_BINS];
    for (int k = 0; k <= RP_125_BINS; k++)
        edges[k] = (double)prw__rp_edge125(k);
    for (int k = 0; k < RP_125_BINS; k++)
        y[k] = (double)(train[k] + test[k]);
    rp_chart c = {.kind = RP_HIST,
                  .title = title,
                  .xlabel = xlabel,
                  .ylabel = "probes",
                  .n = RP_125_BINS,
                  .edges = edges,
                  .n_series = 1,
                  .y = {y},
                  .xlog = true};
    return hist(p, c);
}

static prw_status sec_probes(page *p) {
    const prw_report *r = p->r;
    PRW_TRY(sec(p, "probes", "Measurements per probe"));
    PRW_TRY(probe_hist(p, r->split[0].meas_per_probe, r->split[1].meas_per_probe,
                       "Measurements per probe", "measurements per probe (log bins 1-2-5)"));
    const char *cols[3] = {"train", "test", "total"};
    PRW_TRY(head(p, "", cols, 3));
    const rp_split *t = &r->split[0], *e = &r->split[1];
    PRW_TRY(row3(p, "probes", (double)t->probes, (double)e->probes, false));
    PRW_TRY(row3(p, "measurements", (double)t->measurements, (double)e->measurements, false));
    double mt = t->probes ? (double)t->measurements / (double)t->probes : 0;
    double me = e->probes ? (double)e->measurements / (double)e->probes : 0;
    uint64_t pr = t->probes + e->probes;
    double v[3] = {mt, me, pr ? (double)(t->measurements + e->measurements) / (double)pr : 0};
    PRW_TRY(row(p, "mean per probe", v, 3, false));
    PRW_TRY(prw__buf_printf(p->b, p->err, "</table>\n"));
    PRW_TRY(sec_end(p));
    if (r->n_top == 0)
        return PRW_OK;
    const char *cats[RP_TOP];
    double top[RP_TOP];
    for (size_t i = 0; i < r->n_top; i++)
        cats[i] = r->top[i].src_addr, top[i] = (double)r->top[i].measurements;
    rp_chart h = {.kind = RP_HBAR,
                  .title = "Top probes by measurements",
                  .xlabel = "measurements",
                  .ylabel = "",
                  .n = r->n_top,
                  .cats = cats,
                  .n_series = 1,
                  .y = {top}};
    PRW_TRY(sec(p, "top", "Top probes"));
    PRW_TRY(prw__rp_svg_chart(p->b, &h, p->err));
    PRW_TRY(top_table(p));
    return sec_end(p);
}

static prw_status sec_records(page *p) {
    const prw_report *r = p->r;
    PRW_TRY(sec(p, "records", "Records and record sizes"));
    PRW_TRY(probe_hist(p, r->split[0].recs_per_probe, r->split[1].recs_per_probe,
                       "Records per probe", "records per probe (log bins 1-2-5)"));
    double se[RP_SIZE_BINS + 1], sy[RP_SIZE_BINS];
    for (int k = 0; k <= RP_SIZE_BINS; k++)
        se[k] = ldexp(1, k);
    for (int k = 0; k < RP_SIZE_BINS; k++)
        sy[k] = (double)(r->split[0].inner_size[k] + r->split[1].inner_size[k]);
    char lim[48], num[32];
    snprintf(lim, sizeof lim, "limit %s",
             prw__rp_fmt_bytes((double)r->man.max_row_size, num, sizeof num));
    rp_chart s = {.kind = RP_HIST,
                  .title = "Record sizes against the row size limit",
                  .xlabel = "measurements bytes per record (inner Arrow stream, octaves)",
                  .ylabel = "records",
                  .n = RP_SIZE_BINS,
                  .edges = se,
                  .n_series = 1,
                  .y = {sy},
                  .xlog = true,
                  .xfmt = RP_FMT_BYTES,
                  .vline = (double)r->man.max_row_size,
                  .vline_label = lim};
    PRW_TRY(hist(p, s));
    const rp_split *t = &r->split[0], *e = &r->split[1];
    const char *cols[2] = {"train", "test"};
    PRW_TRY(head(p, "per record", cols, 2));
    const struct {
        const char *name;
        uint64_t a, b;
        bool bytes;
    } rows[] = {{"measurements min", t->meas_min, e->meas_min, false},
                {"measurements median", t->meas_median, e->meas_median, false},
                {"measurements max", t->meas_max, e->meas_max, false},
                {"record bytes p50", t->rec_p50, e->rec_p50, true},
                {"record bytes p99", t->rec_p99, e->rec_p99, true},
                {"record bytes max", t->rec_max, e->rec_max, true},
                {"inner stream bytes p50", t->inner_p50, e->inner_p50, true},
                {"inner stream bytes p99", t->inner_p99, e->inner_p99, true},
                {"inner stream bytes max", t->inner_max, e->inner_max, true}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        PRW_TRY(row(p, rows[i].name, (double[2]){(double)rows[i].a, (double)rows[i].b}, 2,
                    rows[i].bytes));
    PRW_TRY(row(p, "row size limit", &(double){(double)r->man.max_row_size}, 1, true));
    PRW_TRY(prw__buf_printf(p->b, p->err, "</table>\n"));
    return sec_end(p);
}

static prw_status sec_time(page *p) {
    rp_timeline tl;
    PRW_TRY(prw__rp_timeline(p->r, &tl, p->err));
    prw_status st = sec(p, "time", "Measurements over time");
    double *edges = prw__malloc_array(tl.n + 1, sizeof *edges);
    if (!edges)
        st = prw__error_nomem(p->err, "time edges", (tl.n + 1) * sizeof *edges);
    for (size_t i = 0; st == PRW_OK && i <= tl.n; i++)
        edges[i] = (double)tl.start_us + (double)i * (double)tl.step_us;
    bool daily = tl.step_us > 3600000000LL;
    rp_chart c = {.kind = RP_HIST,
                  .title = daily ? "Measurements per day (UTC)" : "Measurements per hour (UTC)",
                  .xlabel = "event_time (UTC)",
                  .ylabel = daily ? "measurements per day" : "measurements per hour",
                  .n = tl.n,
                  .edges = edges,
                  .n_series = 2,
                  .names = {"train", "test"},
                  .y = {tl.count[0], tl.count[1]},
                  .xfmt = RP_FMT_DATE};
    if (st == PRW_OK && tl.n)
        st = prw__rp_svg_chart(p->b, &c, p->err); /* linear counts: gaps must show as gaps */
    else if (st == PRW_OK)
        st = prw__buf_printf(p->b, p->err, "<p class=\"note\">no measurements</p>\n");
    const char *cols[2] = {"train", "test"};
    char a[32], b2[32];
    if (st == PRW_OK)
        st = head(p, "", cols, 2);
    const rp_split *t = &p->r->split[0], *e = &p->r->split[1];
    if (st == PRW_OK)
        st = prw__buf_printf(p->b, p->err, "<tr><td>first</td><td>%s</td><td>%s</td></tr>\n",
                             prw__rp_fmt_date(t->first_us, true, a, sizeof a),
                             prw__rp_fmt_date(e->first_us, true, b2, sizeof b2));
    if (st == PRW_OK)
        st = prw__buf_printf(p->b, p->err, "<tr><td>last</td><td>%s</td><td>%s</td></tr>\n",
                             prw__rp_fmt_date(t->last_us, true, a, sizeof a),
                             prw__rp_fmt_date(e->last_us, true, b2, sizeof b2));
    const rp_acc *ac = &p->r->acc;
    if (st == PRW_OK)
        st = row(p, "without event_time",
                 (double[2]){(double)ac->null_time[0], (double)ac->null_time[1]}, 2, false);
    if (st == PRW_OK)
        st = row(p, "beyond 239 years",
                 (double[2]){(double)ac->time_outside[0], (double)ac->time_outside[1]}, 2, false);
    if (st == PRW_OK)
        st = prw__buf_printf(p->b, p->err, "</table>\n");
    prw__free(edges);
    prw__rp_timeline_cleanup(&tl);
    return st == PRW_OK ? sec_end(p) : st;
}

static uint64_t replies(const rp_acc *a, int v) {
    uint64_t n = 0;
    for (int k = 0; k < RP_RTT_BINS; k++)
        n += a->rtt_bins[v][k];
    return n;
}

static prw_status rtt_table(page *p) {
    const rp_acc *a = &p->r->acc;
    PRW_TRY(head(p, "rtt", g_vname, RP_VCLASSES));
    double v[4][RP_VCLASSES];
    for (int c = 0; c < RP_VCLASSES; c++) {
        v[0][c] = (double)replies(a, c);
        v[1][c] = (double)a->rtt_failed[c];
        v[2][c] = (double)a->rtt_null[c];
        v[3][c] = (double)a->rtt_invalid[c];
    }
    PRW_TRY(row(p, "replies", v[0], RP_VCLASSES, false));
    PRW_TRY(row(p, "failures (-1)", v[1], RP_VCLASSES, false));
    PRW_TRY(row(p, "null", v[2], RP_VCLASSES, false));
    PRW_TRY(row(p, "NaN or other negative", v[3], RP_VCLASSES, false));
    PRW_TRY(prw__buf_printf(p->b, p->err, "<tr><td>failure share</td>"));
    char pct[32];
    for (int c = 0; c < RP_VCLASSES; c++) {
        double all = v[0][c] + v[1][c] + v[2][c] + v[3][c];
        PRW_TRY(prw__buf_printf(p->b, p->err, "<td>%s</td>",
                                all > 0 ? prw__rp_fmt_pct(v[1][c] / all, pct, sizeof pct) : "n/a"));
    }
    return prw__buf_printf(p->b, p->err, "</tr></table>\n");
}

static prw_status sec_rtt(page *p) {
    const rp_acc *a = &p->r->acc;
    double edges[RP_RTT_BINS + 1], y[RP_VCLASSES][RP_RTT_BINS];
    for (int k = 0; k <= RP_RTT_BINS; k++)
        edges[k] = prw__rp_rtt_edge(k);
    edges[0] = edges[1] / 2;                         /* [0, 2^-6) drawn from 2^-7 */
    edges[RP_RTT_BINS] = edges[RP_RTT_BINS - 1] * 2; /* and the overflow bin one octave wide */
    rp_chart c = {.kind = RP_HIST,
                  .title = "rtt of replies by IP version",
                  .xlabel = "rtt (log bins, 4 per octave)",
                  .ylabel = "replies",
                  .n = RP_RTT_BINS,
                  .edges = edges,
                  .xlog = true,
                  .xfmt = RP_FMT_MS};
    for (int v = 0; v < RP_VCLASSES; v++) {
        if (!replies(a, v))
            continue;
        for (int k = 0; k < RP_RTT_BINS; k++)
            y[c.n_series][k] = (double)a->rtt_bins[v][k];
        c.names[c.n_series] = g_vname[v];
        c.y[c.n_series] = y[c.n_series];
        c.n_series++;
    }
    PRW_TRY(sec(p, "rtt", "rtt: replies, failures and nulls"));
    if (c.n_series)
        PRW_TRY(hist(p, c));
    else
        PRW_TRY(prw__buf_printf(p->b, p->err, "<p class=\"note\">no replies</p>\n"));
    const char *cats[RP_VCLASSES];
    double s0[RP_VCLASSES], s1[RP_VCLASSES], s2[RP_VCLASSES];
    size_t n = 0;
    for (int v = 0; v < RP_VCLASSES; v++) {
        s0[n] = (double)replies(a, v);
        s1[n] = (double)a->rtt_failed[v];
        s2[n] = (double)a->rtt_null[v];
        if (s0[n] + s1[n] + s2[n] > 0)
            cats[n++] = g_vname[v];
    }
    rp_chart s = {.kind = RP_STACK,
                  .title = "Replies, failures (-1) and nulls",
                  .n = n,
                  .cats = cats,
                  .n_series = 3,
                  .names = {"reply", "failure (-1)", "null"},
                  .y = {s0, s1, s2}};
    if (n)
        PRW_TRY(prw__rp_svg_chart(p->b, &s, p->err));
    PRW_TRY(rtt_table(p));
    return sec_end(p);
}

static prw_status sec_ip(page *p) {
    const prw_report *r = p->r;
    double s[RP_VCLASSES][2];
    for (int v = 0; v < RP_VCLASSES; v++) {
        s[v][0] = (double)(r->split[0].probes_by_class[v] + r->split[1].probes_by_class[v]);
        s[v][1] = (double)(r->acc.meas[0][v] + r->acc.meas[1][v]);
    }
    const char *cats[2] = {"probes", "measurements"};
    rp_chart c = {.kind = RP_STACK,
                  .title = "IPv4 and IPv6 share",
                  .n = 2,
                  .cats = cats,
                  .n_series = 3,
                  .names = {"IPv4", "IPv6", "mixed, other or null"},
                  .y = {s[0], s[1], s[2]}};
    PRW_TRY(sec(p, "ip", "IPv4 / IPv6 share"));
    PRW_TRY(prw__rp_svg_chart(p->b, &c, p->err));
    const char *cols[2] = {"probes", "measurements"};
    PRW_TRY(head(p, "", cols, 2));
    PRW_TRY(row(p, "IPv4", s[0], 2, false));
    PRW_TRY(row(p, "IPv6", s[1], 2, false));
    PRW_TRY(row(p, "mixed, other or null", s[2], 2, false));
    PRW_TRY(prw__buf_printf(p->b, p->err, "</table>\n"));
    return sec_end(p);
}

prw_status prw__rp_html(const prw_report *r, prw__buf *b, prw_error *err) {
    page p = {r, b, err};
    PRW_TRY(prw__buf_printf(b, err,
                            "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" "
                            "lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
                            "<meta name=\"generator\" content=\"proberows %s\"/>\n<title>"
                            "proberows report: ",
                            PRW_VERSION_STRING));
    PRW_TRY(esc(&p, r->dir));
    PRW_TRY(prw__buf_printf(b, err, "</title>\n<style>%s</style>\n</head>\n<body>\n", g_css));
    PRW_TRY(intro(&p));
    PRW_TRY(sec_splits(&p));
    PRW_TRY(sec_probes(&p));
    PRW_TRY(sec_records(&p));
    PRW_TRY(sec_time(&p));
    PRW_TRY(sec_rtt(&p));
    PRW_TRY(sec_ip(&p));
    return prw__buf_printf(b, err, "</body>\n</html>\n");
}
