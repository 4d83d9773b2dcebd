/*
 * A small SVG chart writer: histograms over numeric bins (linear or log axes, one series as
 * bars, several as step lines), horizontal bars by category, and 100% stacked bars. Axes get
 * "nice" ticks (1-2-5 steps, decades or octaves on log axes, hours or days on time axes) with
 * labels in people's units. Colours are Paul Tol's high-contrast scheme (dark blue, ochre,
 * red: distinct for colour-blind readers and in grey print); several lines also differ by
 * dash pattern. Data elements carry class "mark", so a test can count them.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/rp_internal.h"

#define W 640.0
#define CHAR_W 6.4 /* average glyph width of the 11px sans-serif labels, for layout */

static const char *const g_colour[3] = {"#004488", "#DDAA33", "#BB5566"};
static const char *const g_ink[3] = {"#ffffff", "#000000", "#ffffff"}; /* text on them */
static const char *const g_dash[3] = {"none", "7 3", "2 2"};

typedef struct scale {
    double lo, hi; /* data range (lo > 0 on a log scale) */
    bool log;
    double p0, p1; /* pixels */
} scale;

static double map(const scale *s, double v) {
    double a = s->log ? log10(v > 0 ? v : s->lo) : v;
    double lo = s->log ? log10(s->lo) : s->lo, hi = s->log ? log10(s->hi) : s->hi;
    double t = hi > lo ? (a - lo) / (hi - lo) : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return s->p0 + t * (s->p1 - s->p0);
}

static const char *fmt_tick(rp_axis_fmt f, double v, double step, char *buf, size_t cap) {
    switch (f) {
    case RP_FMT_BYTES:
        return prw__rp_fmt_bytes(v, buf, cap);
    case RP_FMT_MS:
        return prw__rp_fmt_ms(v, buf, cap);
    case RP_FMT_DATE:
        return prw__rp_fmt_date((int64_t)v, step < 86400e6, buf, cap);
    default:
        return prw__rp_fmt_count(v, buf, cap);
    }
}

static double nice_step(double range, int want) {
    double raw = range / want, mag = pow(10, floor(log10(raw)));
    double r = raw / mag;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
}

/* Tick values of a scale into t[0..max); returns how many; *step for labels. */
static size_t ticks(const scale *s, rp_axis_fmt f, double *t, size_t max, double *step) {
    size_t n = 0;
    *step = 0;
    if (!(s->hi > s->lo) || (s->log && !(s->lo > 0)))
        return 0;
    if (f == RP_FMT_DATE) {
        static const double hours[] = {1, 2, 3, 6, 12, 24, 48, 96, 168, 336, 672, 1344};
        double h = 3600e6;
        size_t k = 0;
        while (k + 1 < sizeof hours / sizeof hours[0] && (s->hi - s->lo) / (hours[k] * h) > 6)
            k++;
        *step = hours[k] * h;
        for (double v = ceil(s->lo / *step) * *step; v <= s->hi && n < max; v += *step)
            t[n++] = v;
    } else if (s->log) {
        double base = f == RP_FMT_BYTES ? 2 : 10;
        double e0 = ceil(log(s->lo) / log(base) - 1e-9), e1 = floor(log(s->hi) / log(base) + 1e-9);
        double every = base == 2 ? ceil((e1 - e0 + 1) / 7) : 1;
        for (double e = e0; e <= e1 && n < max; e += every)
            t[n++] = pow(base, e);
        if (base == 10 && n < 3) { /* less than two decades: add 2x and 5x */
            n = 0;
            for (double e = e0 - 1; e <= e1 && n + 3 <= max; e++)
                for (int m = 1; m <= 5; m += m == 1 ? 1 : 3)
                    if (m * pow(10, e) >= s->lo && m * pow(10, e) <= s->hi)
                        t[n++] = m * pow(10, e);
        }
    } else {
        *step = nice_step(s->hi - s->lo, 5);
        for (double v = ceil(s->lo / *step) * *step; v <= s->hi + *step * 1e-9 && n < max;
             v += *step)
            t[n++] = v;
    }
    return n;
}

static prw_status text(prw__buf *b, double x, double y, const char *anchor, const char *cls,
                       const char *s, prw_error *err) {
    PRW_TRY(prw__buf_printf(b, err, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" class=\"%s\">",
                            x, y, anchor, cls));
    PRW_TRY(prw__rp_xml_text(b, s, strlen(s), err));
    return prw__buf_printf(b, err, "</text>\n");
}

/* An x-axis label at x, kept inside [0, W]. */
static prw_status xlabel_at(prw__buf *b, double x, double y, const char *s, prw_error *err) {
    double half = CHAR_W * (double)strlen(s) / 2;
    const char *anchor = x - half < 2 ? "start" : x + half > W - 2 ? "end" : "middle";
    double at = x - half < 2 ? 2 : x + half > W - 2 ? W - 2 : x;
    return text(b, at, y, anchor, "tick", s, err);
}

static prw_status axes(prw__buf *b, const rp_chart *c, const scale *xs, const scale *ys,
                       prw_error *err) {
    double t[64], step;
    char lab[64];
    size_t n = ys->hi > ys->lo ? ticks(ys, c->yfmt, t, 64, &step) : 0; /* none: categories */
    for (size_t i = 0; i < n; i++) {
        double y = map(ys, t[i]);
        PRW_TRY(prw__buf_printf(b, err,
                                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                                "class=\"grid\"/>\n",
                                xs->p0, xs->p1, y, y));
        PRW_TRY(text(b, xs->p0 - 6, y + 4, "end", "tick",
                     fmt_tick(c->yfmt, t[i], step, lab, sizeof lab), err));
    }
    n = ticks(xs, c->xfmt, t, 64, &step);
    for (size_t i = 0; i < n; i++) {
        double x = map(xs, t[i]);
        PRW_TRY(prw__buf_printf(b, err,
                                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                                "class=\"axis\"/>\n",
                                x, x, ys->p0, ys->p0 + 4));
        PRW_TRY(xlabel_at(b, x, ys->p0 + 17, fmt_tick(c->xfmt, t[i], step, lab, sizeof lab), err));
    }
    PRW_TRY(prw__buf_printf(b, err,
                            "<path d=\"M%.1f %.1fV%.1fH%.1f\" class=\"axis\" fill=\"none\"/>\n",
                            xs->p0, ys->p1, ys->p0, xs->p1));
    PRW_TRY(text(b, (xs->p0 + xs->p1) / 2, ys->p0 + 36, "middle", "label", c->xlabel, err));
    PRW_TRY(prw__buf_printf(b, err,
                            "<text x=\"0\" y=\"0\" transform=\"translate(14 %.1f) rotate(-90)\" "
                            "text-anchor=\"middle\" class=\"label\">",
                            (ys->p0 + ys->p1) / 2));
    PRW_TRY(prw__rp_xml_text(b, c->ylabel, strlen(c->ylabel), err));
    return prw__buf_printf(b, err, "</text>\n");
}

static prw_status legend(prw__buf *b, const rp_chart *c, double x, double y, prw_error *err) {
    if (c->n_series < 2)
        return PRW_OK;
    for (size_t s = 0; s < c->n_series; s++) {
        double w = 26 + CHAR_W * (double)strlen(c->names[s]);
        PRW_TRY(prw__buf_printf(b, err,
                                "<rect x=\"%.1f\" y=\"%.1f\" width=\"16\" height=\"10\" "
                                "fill=\"%s\" stroke=\"#000\" stroke-width=\"0.5\"/>\n",
                                x, y - 9, g_colour[s]));
        PRW_TRY(text(b, x + 20, y, "start", "tick", c->names[s], err));
        x += w + 10;
    }
    return PRW_OK;
}

static prw_status svg_open(prw__buf *b, const rp_chart *c, double h, prw_error *err) {
    PRW_TRY(prw__buf_printf(b, err,
                            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" "
                            "viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
                            "role=\"img\" aria-label=\"",
                            W, h, W, h));
    PRW_TRY(prw__rp_xml_text(b, c->title, strlen(c->title), err));
    PRW_TRY(prw__buf_printf(b, err, "\">\n"));
    return text(b, 4, 16, "start", "title", c->title, err);
}

static double series_max(const rp_chart *c) {
    double m = 0;
    for (size_t s = 0; s < c->n_series; s++)
        for (size_t i = 0; i < c->n; i++)
            m = c->y[s][i] > m ? c->y[s][i] : m;
    return m;
}

static prw_status hist_series(prw__buf *b, const rp_chart *c, size_t s, const scale *xs,
                              const scale *ys, prw_error *err) {
    if (c->n_series == 1) {
        for (size_t i = 0; i < c->n; i++) {
            if (c->y[s][i] <= 0)
                continue;
            double x0 = map(xs, c->edges[i]), x1 = map(xs, c->edges[i + 1]);
            double y = map(ys, c->y[s][i]);
            PRW_TRY(prw__buf_printf(b, err,
                                    "<rect class=\"mark\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                                    "height=\"%.1f\" fill=\"%s\"/>\n",
                                    x0 + 0.5, y, x1 - x0 > 1.5 ? x1 - x0 - 1 : 0.5, ys->p0 - y,
                                    g_colour[0]));
        }
        return PRW_OK;
    }
    PRW_TRY(prw__buf_printf(b, err,
                            "<path class=\"mark\" fill=\"none\" stroke=\"%s\" "
                            "stroke-width=\"2\" stroke-dasharray=\"%s\" d=\"M%.1f %.1f",
                            g_colour[s], g_dash[s], map(xs, c->edges[0]), ys->p0));
    for (size_t i = 0; i < c->n; i++) {
        double y = c->y[s][i] > 0 ? map(ys, c->y[s][i]) : ys->p0;
        PRW_TRY(prw__buf_printf(b, err, "V%.1fH%.1f", y, map(xs, c->edges[i + 1])));
    }
    return prw__buf_printf(b, err, "V%.1f\"/>\n", ys->p0);
}

static prw_status hist(prw__buf *b, const rp_chart *c, prw_error *err) {
    const double h = 290;
    scale xs = {c->edges[0], c->edges[c->n], c->xlog, 76, W - 24};
    double m = series_max(c);
    scale ys = {0, m > 0 ? m * 1.08 : 1, c->ylog, h - 56, 40};
    if (c->ylog)
        ys.lo = 0.7, ys.hi = m > 1 ? m * 1.5 : 10;
    else
        ys.hi = ceil(ys.hi / nice_step(ys.hi, 5)) * nice_step(ys.hi, 5);
    PRW_TRY(svg_open(b, c, h, err));
    PRW_TRY(axes(b, c, &xs, &ys, err));
    for (size_t s = 0; s < c->n_series; s++)
        PRW_TRY(hist_series(b, c, s, &xs, &ys, err));
    if (c->vline > 0 && c->vline >= xs.lo && c->vline <= xs.hi) {
        double x = map(&xs, c->vline);
        PRW_TRY(prw__buf_printf(b, err,
                                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                                "class=\"limit\"/>\n",
                                x, x, ys.p0, ys.p1 - 6));
        PRW_TRY(text(b, x - 4, ys.p1 + 4, "end", "tick", c->vline_label, err));
    }
    PRW_TRY(legend(b, c, W - 24 - 90.0 * (double)c->n_series, 32, err));
    return prw__buf_printf(b, err, "</svg>\n");
}

static double label_room(const rp_chart *c) {
    size_t most = 0;
    for (size_t i = 0; i < c->n; i++)
        most = strlen(c->cats[i]) > most ? strlen(c->cats[i]) : most;
    return 16 + CHAR_W * (double)most;
}

static prw_status hbar(prw__buf *b, const rp_chart *c, prw_error *err) {
    double h = 70 + 17.0 * (double)c->n, m = series_max(c);
    scale xs = {0, m > 0 ? m : 1, false, label_room(c), W - 70};
    xs.hi = ceil(xs.hi / nice_step(xs.hi, 5)) * nice_step(xs.hi, 5);
    scale ys = {0, 1, false, h - 44, 28};
    PRW_TRY(svg_open(b, c, h, err));
    rp_chart ax = *c;
    ax.ylabel = "";
    scale none = {0, 0, false, ys.p0, ys.p1}; /* no y ticks: categories instead */
    PRW_TRY(axes(b, &ax, &xs, &none, err));
    char lab[64];
    for (size_t i = 0; i < c->n; i++) {
        double y = ys.p1 + 17.0 * (double)i + 3, v = c->y[0][i];
        PRW_TRY(text(b, xs.p0 - 6, y + 10, "end", "cat", c->cats[i], err));
        double x1 = map(&xs, v);
        PRW_TRY(prw__buf_printf(b, err,
                                "<rect class=\"mark\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                                "height=\"13\" fill=\"%s\"/>\n",
                                xs.p0, y, x1 - xs.p0 > 0.5 ? x1 - xs.p0 : 0.5, g_colour[0]));
        PRW_TRY(
            text(b, x1 + 4, y + 10, "start", "tick", prw__rp_fmt_count(v, lab, sizeof lab), err));
    }
    return prw__buf_printf(b, err, "</svg>\n");
}

static prw_status stack_row(prw__buf *b, const rp_chart *c, size_t i, const scale *xs, double y,
                            prw_error *err) {
    double total = 0, at = 0;
    for (size_t s = 0; s < c->n_series; s++)
        total += c->y[s][i];
    PRW_TRY(text(b, xs->p0 - 6, y + 15, "end", "cat", c->cats[i], err));
    if (total <= 0)
        return text(b, xs->p0 + 4, y + 15, "start", "tick", "none", err);
    char lab[32];
    for (size_t s = 0; s < c->n_series; s++) {
        double v = c->y[s][i];
        if (v <= 0)
            continue;
        double x0 = map(xs, at / total), x1 = map(xs, (at + v) / total);
        at += v;
        PRW_TRY(prw__buf_printf(b, err,
                                "<rect class=\"mark\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                                "height=\"22\" fill=\"%s\" stroke=\"#fff\" stroke-width=\"1\"/>\n",
                                x0, y, x1 - x0 > 0.5 ? x1 - x0 : 0.5, g_colour[s]));
        prw__rp_fmt_pct(v / total, lab, sizeof lab);
        if (x1 - x0 > CHAR_W * (double)strlen(lab) + 6) {
            PRW_TRY(prw__buf_printf(b, err,
                                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                                    "class=\"tick\" style=\"fill:%s\">%s</text>\n",
                                    (x0 + x1) / 2, y + 15, g_ink[s], lab));
        }
    }
    return PRW_OK;
}

static prw_status stack(prw__buf *b, const rp_chart *c, prw_error *err) {
    double h = 84 + 30.0 * (double)c->n;
    scale xs = {0, 1, false, label_room(c), W - 24};
    PRW_TRY(svg_open(b, c, h, err));
    for (size_t i = 0; i < c->n; i++)
        PRW_TRY(stack_row(b, c, i, &xs, 30 + 30.0 * (double)i, err));
    double y = 30 + 30.0 * (double)c->n + 14;
    for (int p = 0; p <= 4; p++) {
        double x = map(&xs, p / 4.0);
        char lab[16];
        snprintf(lab, sizeof lab, "%d%%", p * 25);
        PRW_TRY(xlabel_at(b, x, y, lab, err));
    }
    PRW_TRY(legend(b, c, xs.p0, h - 12, err));
    return prw__buf_printf(b, err, "</svg>\n");
}

prw_status prw__rp_svg_chart(prw__buf *b, const rp_chart *c, prw_error *err) {
    PRW_CHECK(c->n > 0 && c->n_series >= 1 && c->n_series <= 3, err, PRW_E_INVALID, -1,
              "chart '%s' has no data", c->title);
    switch (c->kind) {
    case RP_HIST:
        return hist(b, c, err);
    case RP_HBAR:
        return hbar(b, c, err);
    default:
        return stack(b, c, err);
    }
}
