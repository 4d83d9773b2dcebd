/*
 * prw_report_create and friends: read manifest.json, find the split files it names (the
 * names of CONTRACT.md §5), count their records, run the pass (rp_scan.c), take the figures
 * (rp_figures.c); render as HTML or JSON, and write the result atomically.
 */
#include <stdio.h>
#include <string.h>

#include "common/io.h"
#include "common/thread.h"
#include "proberows/arrayrecord.h"
#include "report/rp_internal.h"

static const char *const g_split_names[RP_SPLITS] = {"train", "test"};

void prw_report_options_init(prw_report_options *o) {
    memset(o, 0, sizeof *o);
}

void prw_report_destroy(prw_report *r) {
    if (!r)
        return;
    for (int s = 0; s < RP_SPLITS; s++) {
        for (size_t k = 0; r->split[s].readers && k < r->split[s].n_files; k++)
            prw_ar_reader_close(r->split[s].readers[k]);
        prw__free(r->split[s].readers);
        prw__free(r->split[s].files);
        prw__free(r->split[s].file_first);
        prw__free(r->split[s].recs);
    }
    prw__rp_acc_cleanup(&r->acc);
    prw__free(r);
}

static prw_status read_manifest(prw_report *r, prw_error *err) {
    char path[600];
    snprintf(path, sizeof path, "%s/manifest.json", r->dir);
    uint8_t *text = NULL;
    size_t len = 0;
    PRW_TRY(prw__read_file(path, &text, &len, err));
    prw_status st = prw__rp_manifest_parse((const char *)text, len, &r->man, err);
    prw__free(text);
    if (st < 0)
        prw__error_prefix(err, "%s/", r->dir);
    return st;
}

/* Names the files of split s, opens each to count its records, sizes the record array. */
static prw_status list_files(prw_report *r, int s, prw_error *err) {
    rp_split *sp = &r->split[s];
    size_t n = (size_t)r->man.shards;
    sp->files = prw__calloc(n, sizeof *sp->files);
    sp->file_first = prw__calloc(n + 1, sizeof *sp->file_first);
    sp->readers = prw__calloc(n, sizeof *sp->readers);
    if (!sp->files || !sp->file_first || !sp->readers)
        return prw__error_nomem(err, "file list", n * sizeof *sp->files);
    sp->n_files = n;
    for (size_t k = 0; k < n; k++) {
        if (n == 1)
            snprintf(sp->files[k], sizeof sp->files[k], "%s/%s.arrayrecord", r->dir,
                     g_split_names[s]);
        else
            snprintf(sp->files[k], sizeof sp->files[k], "%s/%s.arrayrecord-%05zu-of-%05zu", r->dir,
                     g_split_names[s], k, n);
        PRW_TRY(prw_ar_reader_open(&sp->readers[k], sp->files[k], err));
        const prw_ar_reader *rd = sp->readers[k];
        uint64_t recs = prw_ar_reader_num_records(rd), size = prw_ar_reader_file_size(rd);
        if (recs > size) /* bounds the summaries, as in inspect */
            return prw__error_set(err, PRW_E_CORRUPT, -1,
                                  "%s: the footer claims %llu records in a file of %llu bytes",
                                  sp->files[k], (unsigned long long)recs, (unsigned long long)size);
        sp->file_first[k + 1] = sp->file_first[k] + recs;
        sp->bytes += size;
    }
    sp->records = sp->file_first[n];
    sp->recs = prw__calloc(sp->records ? (size_t)sp->records : 1, sizeof *sp->recs);
    if (!sp->recs || sp->records > SIZE_MAX / sizeof *sp->recs)
        return prw__error_nomem(err, "record summaries", (size_t)sp->records * sizeof *sp->recs);
    return PRW_OK;
}

prw_status prw_report_create(const prw_report_options *opts, prw_report **out, prw_error *err) {
    *out = NULL;
    PRW_CHECK(opts && opts->dir && opts->dir[0], err, PRW_E_INVALID, -1, "no output directory");
    PRW_CHECK(opts->workers >= 0 && opts->workers <= 1024, err, PRW_E_INVALID, -1,
              "workers must be between 0 and 1024");
    PRW_CHECK(strlen(opts->dir) < 512, err, PRW_E_INVALID, -1, "directory name too long");
    double t0 = prw__now();
    prw_report *r = prw__calloc(1, sizeof *r);
    if (!r)
        return prw__error_nomem(err, "report", sizeof *r);
    snprintf(r->dir, sizeof r->dir, "%s", opts->dir);
    r->sample = opts->sample;
    r->workers = opts->workers ? opts->workers : prw__online_cpus();
    prw_status st = read_manifest(r, err);
    for (int s = 0; s < RP_SPLITS && st == PRW_OK; s++)
        st = list_files(r, s, err);
    if (st == PRW_OK)
        st = prw__rp_scan(r, err);
    if (st == PRW_OK)
        st = prw__rp_figures(r, err);
    if (st < 0) {
        prw_report_destroy(r);
        return st;
    }
    r->seconds = prw__now() - t0;
    *out = r;
    return PRW_OK;
}

prw_status prw_report_render(const prw_report *r, prw_report_format format, char **text,
                             size_t *len, prw_error *err) {
    *text = NULL;
    *len = 0;
    PRW_CHECK(r, err, PRW_E_INVALID, -1, "no report");
    PRW_CHECK(format == PRW_REPORT_HTML || format == PRW_REPORT_JSON, err, PRW_E_INVALID, -1,
              "unknown report format %d", (int)format);
    prw__buf b;
    prw__buf_init(&b);
    prw_status st = format == PRW_REPORT_HTML ? prw__rp_html(r, &b, err) : prw__rp_json(r, &b, err);
    if (st == PRW_OK)
        st = prw__buf_append_u8(&b, 0, err);
    if (st < 0) {
        prw__buf_cleanup(&b);
        return st;
    }
    *text = (char *)b.data;
    *len = b.len - 1;
    return PRW_OK;
}

void prw_report_free_text(char *text) {
    prw__free(text);
}

prw_status prw_report_write(const prw_report *r, prw_report_format format, const char *path,
                            prw_error *err) {
    PRW_CHECK(path && path[0], err, PRW_E_INVALID, -1, "no output file");
    char *text;
    size_t len;
    PRW_TRY(prw_report_render(r, format, &text, &len, err));
    prw__wfile w;
    prw_status st = prw__wfile_open(&w, path, err);
    if (st == PRW_OK) {
        st = prw__wfile_write(&w, text, len, err);
        if (st == PRW_OK)
            st = prw__wfile_commit(&w, err);
        else
            prw__wfile_abort(&w);
    }
    prw_report_free_text(text);
    return st;
}
