/*
 * proberows report: the figures of an output directory of `proberows build` (how
 * measurements spread over probes, row sizes against the limit, time coverage, rtt replies and
 * failures, IPv4/IPv6 shares), taken in one parallel pass over the records plus manifest.json,
 * and written as one self-contained HTML page (inline SVG and CSS, no script) or as JSON
 * (docs/REPORT.md documents both). What `proberows report` calls.
 */
#ifndef PROBEROWS_REPORT_H
#define PROBEROWS_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "proberows/proberows.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct prw_report_options {
    const char *dir; /**< the output directory (holds manifest.json and the split files) */
    uint64_t sample; /**< 0: every record; else this many records per split, evenly spaced */
    int workers;     /**< threads; 0: CPUs this process may use */
} prw_report_options;

/** Sets the defaults: every record, every CPU. */
PRW_API void prw_report_options_init(prw_report_options *o);

/** The figures of one output directory (opaque). */
typedef struct prw_report prw_report;

/**
 * Reads opts->dir/manifest.json and every ArrayRecord file it names, and takes the figures.
 * @return PRW_OK; PRW_E_INVALID (no dir, bad options); PRW_E_IO (a missing or unreadable
 *   file); PRW_E_CORRUPT (a manifest that is not the one `build` writes, or a record that is
 *   not a probe row; err->msg names the file and record, err->offset the byte); the reader's
 *   errors (PRW_E_CHECKSUM, PRW_E_CODEC, ...); PRW_E_NOMEM. On error *out is NULL.
 */
PRW_API prw_status prw_report_create(const prw_report_options *opts, prw_report **out,
                                     prw_error *err);

/** Frees a report; NULL is accepted. */
PRW_API void prw_report_destroy(prw_report *r);

typedef enum prw_report_format {
    PRW_REPORT_HTML = 0, /**< one self-contained page */
    PRW_REPORT_JSON = 1  /**< the same figures (schema in docs/REPORT.md) */
} prw_report_format;

/**
 * Renders the report into a new buffer: *text (NUL-terminated, *len bytes without the NUL),
 * freed by the caller with prw_report_free_text.
 * @return PRW_OK; PRW_E_INVALID (unknown format); PRW_E_NOMEM.
 */
PRW_API prw_status prw_report_render(const prw_report *r, prw_report_format format, char **text,
                                     size_t *len, prw_error *err);

/** Frees a buffer of prw_report_render (NULL allowed). */
PRW_API void prw_report_free_text(char *text);

/**
 * Renders the report and writes it to `path` atomically: the file appears only when complete,
 * an older file of that name stays as it was on any error.
 * @return PRW_OK; the errors of prw_report_render; PRW_E_IO naming the file.
 */
PRW_API prw_status prw_report_write(const prw_report *r, prw_report_format format, const char *path,
                                    prw_error *err);

#ifdef __cplusplus
}
#endif
#endif
