/*
 * Internals of `proberows report`: the figures (rp_figures), how they are taken (rp_scan.c:
 * one pass over the records, one accumulator per thread; rp_figures.c: probes, histograms,
 * top probes), the manifest reader (rp_manifest.c), the SVG chart writer (rp_svg.c), number
 * formatting (rp_format.c) and the two renderings (rp_html.c, rp_json.c).
 */
#ifndef PRW_REPORT_RP_INTERNAL_H
#define PRW_REPORT_RP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "proberows/report.h"

enum { RP_TRAIN = 0, RP_TEST = 1, RP_SPLITS = 2 };
/* IP version classes: ip_version 4, 6, anything else or null. */
enum { RP_V4 = 0, RP_V6 = 1, RP_VOTHER = 2, RP_VCLASSES = 3 };
/* Probe classes by the versions of their measurements. */
enum { RP_P_V4 = 0, RP_P_V6 = 1, RP_P_MIXED = 2, RP_PCLASSES = 3 };

/* rtt replies in quarter-octave bins: bin 0 holds [0, 2^RP_RTT_LO_EXP) ms, bins 1..4*(HI-LO)
 * hold [2^(LO + (k-1)/4), 2^(LO + k/4)), the last one [2^RP_RTT_HI_EXP, inf). */
#define RP_RTT_LO_EXP (-6)
#define RP_RTT_HI_EXP 18
#define RP_RTT_BINS (4 * (RP_RTT_HI_EXP - RP_RTT_LO_EXP) + 2)
/* Counts per probe in 1-2-5 bins: bin k holds [e_k, e_k+1) with e = 1, 2, 5, 10, 20, ... */
#define RP_125_BINS 30
/* Inner stream sizes in octaves: bin k holds [2^k, 2^(k+1)) bytes. */
#define RP_SIZE_BINS 40
/* Hours kept per split; measurements outside the first window this wide are counted apart. */
#define RP_MAX_HOURS (1 << 21)
#define RP_TOP 20

/** The window of hours [base, base + n) with a count each. */
typedef struct rp_hours {
    int64_t base;
    size_t n, cap;
    uint64_t *count;
} rp_hours;

/** What the pass over the measurements adds up (one per thread, then merged). */
typedef struct rp_acc {
    uint64_t rtt_bins[RP_VCLASSES][RP_RTT_BINS];
    uint64_t rtt_failed[RP_VCLASSES];  /* rtt == -1: no reply */
    uint64_t rtt_null[RP_VCLASSES];    /* rtt is null */
    uint64_t rtt_invalid[RP_VCLASSES]; /* NaN or negative but not -1 */
    uint64_t meas[RP_SPLITS][RP_VCLASSES];
    uint64_t null_time[RP_SPLITS];    /* measurements without event_time (none in build output) */
    uint64_t time_outside[RP_SPLITS]; /* beyond RP_MAX_HOURS of the first one seen */
    rp_hours hours[RP_SPLITS];
} rp_acc;

/** One record, as the pass leaves it. */
typedef struct rp_rec {
    uint64_t rec_len, inner_len, src_hash;
    int64_t src_id, first, last;
    int32_t n;
    uint32_t src_len;
    uint8_t vmask; /* 1 << version class of each measurement */
    bool seen;     /* read (all are, unless sampled) */
} rp_rec;

/** A probe among the top ones. */
typedef struct rp_top {
    char src_addr[64]; /* truncated to 63 bytes */
    uint64_t measurements, records;
    int split;
    uint64_t first_record; /* index in its split */
} rp_top;

/** The manifest fields the report shows. */
typedef struct rp_manifest {
    int64_t max_row_size, shards, rows_read, rows_written, probes_cut;
    int64_t dropped_null_src, dropped_null_time, dropped_null_rtt;
    int64_t null_rtt_kept, null_rtt_failed;
    int64_t probes[RP_SPLITS], records[RP_SPLITS], measurements[RP_SPLITS], bytes[RP_SPLITS];
    int64_t files[RP_SPLITS];
} rp_manifest;

/** Figures of one split. */
typedef struct rp_split {
    size_t n_files;
    char (*files)[600];             /* paths */
    struct prw_ar_reader **readers; /* open from the listing to the end (one footer read) */
    uint64_t *file_first;  /* index of each file's first record in the split; n_files + 1 */
    uint64_t records;      /* in the files */
    uint64_t read;         /* records read (records unless sampled) */
    uint64_t bytes;        /* file sizes */
    uint64_t probes;       /* runs of records of one probe among those read */
    uint64_t measurements; /* in the records read */
    int64_t first_us, last_us;
    rp_rec *recs; /* records[] summaries */
    uint64_t meas_per_probe[RP_125_BINS], recs_per_probe[RP_125_BINS];
    uint64_t inner_size[RP_SIZE_BINS];
    uint64_t probes_by_class[RP_PCLASSES];
    uint64_t rec_p50, rec_p99, rec_max, inner_p50, inner_p99, inner_max;
    uint64_t meas_min, meas_median, meas_max; /* per record */
    uint64_t cut_probes;                      /* probes of more than one record */
} rp_split;

struct prw_report {
    char dir[512];
    uint64_t sample; /* 0: every record */
    int workers;
    rp_manifest man;
    rp_split split[RP_SPLITS];
    rp_acc acc; /* merged */
    rp_top top[RP_TOP];
    size_t n_top;
    double seconds;
};

/* rp_manifest.c */
prw_status prw__rp_manifest_parse(const char *text, size_t len, rp_manifest *m, prw_error *err);

/* rp_scan.c: the pass over the records of both splits into r->acc and the rp_rec arrays. */
prw_status prw__rp_scan(prw_report *r, prw_error *err);
void prw__rp_acc_cleanup(rp_acc *a);
/** The version class of an ip_version value. */
static inline int prw__rp_vclass(int v) {
    return v == 4 ? RP_V4 : v == 6 ? RP_V6 : RP_VOTHER;
}
/** The rtt bin of a reply (v >= 0, not NaN). */
int prw__rp_rtt_bin(float v);
/** Lower edge (ms) of rtt bin k (bin 0: 0). */
double prw__rp_rtt_edge(int k);

/* rp_figures.c */
int prw__rp_bin125(uint64_t v);
uint64_t prw__rp_edge125(int k);
int prw__rp_bin_log2(uint64_t v);
prw_status prw__rp_figures(prw_report *r, prw_error *err);

/* rp_format.c: numbers for people, into buf (size ≥ 32). */
const char *prw__rp_fmt_count(double v, char *buf, size_t cap); /* 1.2M, 950, 12.3k */
const char *prw__rp_fmt_bytes(double v, char *buf, size_t cap); /* 3.4 GiB */
const char *prw__rp_fmt_ms(double v, char *buf, size_t cap);    /* 0.25 ms, 12 ms, 1.5 s */
const char *prw__rp_fmt_date(int64_t us, bool hour, char *buf, size_t cap); /* 2026-03-01 */
const char *prw__rp_fmt_pct(double share, char *buf, size_t cap);           /* 12.5% */
/** Length of the valid UTF-8 sequence at s[0..n), 0 if it is not one. */
size_t prw__rp_utf8_len(const unsigned char *s, size_t n);
/** Appends s with &, <, >, " escaped for XML text and attributes. */
prw_status prw__rp_xml_text(prw__buf *b, const char *s, size_t n, prw_error *err);

/* rp_svg.c */
typedef enum rp_axis_fmt { RP_FMT_COUNT, RP_FMT_BYTES, RP_FMT_MS, RP_FMT_DATE } rp_axis_fmt;
typedef enum rp_chart_kind { RP_HIST, RP_HBAR, RP_STACK } rp_chart_kind;

typedef struct rp_chart {
    rp_chart_kind kind;
    const char *title, *xlabel, *ylabel;
    size_t n;             /* bins or categories */
    const double *edges;  /* RP_HIST: n + 1 increasing bin edges */
    const char **cats;    /* RP_HBAR, RP_STACK: n category labels */
    size_t n_series;      /* 1..3 */
    const char *names[3]; /* series names (legend) */
    const double *y[3];   /* n values per series */
    bool xlog, ylog;
    rp_axis_fmt xfmt, yfmt;
    double vline; /* > 0: a marked vertical line at this x (RP_HIST) */
    const char *vline_label;
} rp_chart;

prw_status prw__rp_svg_chart(prw__buf *b, const rp_chart *c, prw_error *err);

/* rp_html.c, rp_json.c */
prw_status prw__rp_html(const prw_report *r, prw__buf *b, prw_error *err);
prw_status prw__rp_json(const prw_report *r, prw__buf *b, prw_error *err);

/* Shared helpers of the renderings (rp_figures.c). */
/** Time series: bins of one hour or one day over both splits. */
typedef struct rp_timeline {
    int64_t start_us, step_us;
    size_t n;
    double *count[RP_SPLITS];
} rp_timeline;
prw_status prw__rp_timeline(const prw_report *r, rp_timeline *t, prw_error *err);
void prw__rp_timeline_cleanup(rp_timeline *t);

#endif
