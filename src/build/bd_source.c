/*
 * The build's input side: open every input, a Parquet file (resolve and type-check the five
 * columns, CONTRACT.md §1) or a RIPE Atlas dump (parsed into chunks, bd_dump.c), the sizes of
 * its row groups, and the per-worker decoders. The strings
 * are in bd_strings.c, the decoding of a row group into measurement rows in bd_columns.c.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/bd_source.h"

static const char *const g_logical[PRW_COL_COUNT] = {"event_time", "src_addr", "dst_addr",
                                                     "ip_version", "rtt"};

/* ---- opening and checking ------------------------------------------------------------------ */

static bool is_int(const prw_pq_column_info *c) {
    return (c->physical == PRW_PQ_INT32 || c->physical == PRW_PQ_INT64) &&
           (c->logical == PRW_PQ_LOGICAL_NONE || c->logical == PRW_PQ_LOGICAL_INT);
}

static prw_status check_column(const char *path, int logical, const char *name,
                               const prw_pq_column_info *c, prw_error *err) {
    bool ok = false;
    const char *want = "";
    switch (logical) {
    case PRW_COL_EVENT_TIME:
        ok = (c->physical == PRW_PQ_INT64 && c->logical == PRW_PQ_LOGICAL_TIMESTAMP) ||
             c->physical == PRW_PQ_INT96;
        want = "an INT64 TIMESTAMP (millis, micros or nanos) or INT96";
        break;
    case PRW_COL_SRC_ADDR:
    case PRW_COL_DST_ADDR:
        ok = c->physical == PRW_PQ_BYTE_ARRAY &&
             (c->logical == PRW_PQ_LOGICAL_NONE || c->logical == PRW_PQ_LOGICAL_STRING);
        want = "a BYTE_ARRAY string";
        break;
    case PRW_COL_IP_VERSION:
        ok = is_int(c);
        want = "an INT32 or INT64 integer";
        break;
    case PRW_COL_RTT:
        ok = c->physical == PRW_PQ_FLOAT || c->physical == PRW_PQ_DOUBLE || is_int(c);
        want = "a FLOAT, DOUBLE or integer";
        break;
    default:
        break;
    }
    if (!c->supported)
        return prw__error_set(err, PRW_E_UNSUPPORTED, -1,
                              "%s: column '%s' (for %s) is nested or repeated; only flat "
                              "columns are supported",
                              path, name, g_logical[logical]);
    if (!ok) {
        char logical_text[64];
        prw_pq_logical_text(c, logical_text, sizeof logical_text);
        return prw__error_set(
            err, PRW_E_UNSUPPORTED, -1, "%s: column '%s' has type %s %s; %s must be %s", path, name,
            prw_pq_physical_name(c->physical), logical_text, g_logical[logical], want);
    }
    return PRW_OK;
}

static prw_status open_parquet(pl_file *f, const char *path, const prw_build_options *o,
                               bool use_pread, prw_error *err) {
    prw_pq_open_opts po = {0};
    po.use_pread = use_pread;
    PRW_TRY(prw_pq_open(&f->pq, path, &po, err));
    f->path = prw_pq_path(f->pq);
    f->rows = prw_pq_num_rows(f->pq);
    for (int c = 0; c < PRW_COL_COUNT; c++) {
        const char *name = o->columns[c] ? o->columns[c] : g_logical[c];
        /* Exact, else the one column matching ignoring case; nested and ambiguous said so. */
        if (prw_pq_resolve_column(f->pq, name, &f->col[c], err) < 0) {
            bool missing = f->col[c] < 0 && strstr(err->msg, "not found");
            prw__error_prefix(err, "%s: ", path);
            if (missing && !o->columns[c]) {
                size_t len = strlen(err->msg);
                snprintf(err->msg + len, sizeof err->msg - len,
                         " (use --column to read it from another column)");
            }
            return PRW_E_UNSUPPORTED;
        }
        f->info[c] = prw_pq_column(f->pq, f->col[c]);
        PRW_TRY(check_column(path, c, name, f->info[c], err));
    }
    return PRW_OK;
}

/* Plain text is taken for a dump only when its first non-blank byte opens a JSON object: a
 * CSV or a README matched by a glob is an error, not a file of skipped lines. */
static prw_status check_plain(const char *path, prw_error *err) {
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return prw__error_sys(err, errno, "%s", path);
    int c;
    int64_t at = 0;
    while ((c = getc(fp)) == ' ' || c == '\t' || c == '\r' || c == '\n')
        at++;
    fclose(fp);
    if (c == EOF || c == '{')
        return PRW_OK;
    return prw__error_set(err, PRW_E_UNSUPPORTED, at,
                          "%s: neither a Parquet file nor a RIPE Atlas dump (bzip2, gzip, zstd, "
                          "or JSON lines, which start with '{'; byte %lld is 0x%02x)",
                          path, (long long)at, (unsigned)c);
}

/* A Parquet file, or a RIPE Atlas dump (bd_dump.c): told apart by their first bytes. */
static prw_status open_file(prw__pl_source *s, pl_file *f, const char *path,
                            const prw_build_options *o, bool use_pread, prw_error *err) {
    prw_atlas_format fmt;
    PRW_TRY(prw_atlas_detect_file(path, &fmt, err));
    struct stat st;
    f->bytes = stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
    if (fmt == PRW_ATLAS_FMT_PARQUET)
        return open_parquet(f, path, o, use_pread, err);
    if (fmt == PRW_ATLAS_FMT_JSON)
        PRW_TRY(check_plain(path, err));
    for (int c = 0; c < PRW_COL_COUNT; c++)
        PRW_CHECK(!o->columns[c] || strcmp(o->columns[c], g_logical[c]) == 0, err, PRW_E_INVALID,
                  -1,
                  "%s: --column applies to Parquet inputs; this is a RIPE Atlas dump (%s), "
                  "whose fields are fixed (--rtt and --src-addr choose among them)",
                  path, prw_atlas_format_name(fmt));
    f->path = prw__strdup(path);
    if (!f->path)
        return prw__error_nomem(err, "a path", strlen(path));
    return prw__pl_dump_open(s, f, path, o, err);
}

static size_t file_row_groups(const pl_file *f) {
    return f->pq ? (size_t)prw_pq_num_row_groups(f->pq) : prw__pl_dump_chunks(f);
}
static int64_t file_rg_rows(const pl_file *f, size_t g) {
    return f->pq ? prw_pq_row_group_rows(f->pq, (int)g) : prw__pl_dump_chunk_rows(f, g);
}

prw_status prw__pl_source_open(prw__pl_source **out, char *const *paths, size_t npaths,
                               const prw_build_options *opts, bool use_pread, prw_error *err) {
    *out = NULL;
    prw__pl_source *s = prw__calloc(1, sizeof *s);
    if (!s)
        return prw__error_nomem(err, "input list", sizeof *s);
    s->files = prw__calloc(npaths ? npaths : 1, sizeof *s->files);
    if (!s->files) {
        prw__free(s);
        return prw__error_nomem(err, "input list", npaths * sizeof *s->files);
    }
    prw_status st = PRW_OK;
    size_t nrgs = 0;
    s->strict = opts->strict;
    s->store_fd = -1;
    for (size_t i = 0; i < npaths && st == PRW_OK; i++) {
        st = open_file(s, &s->files[i], paths[i], opts, use_pread, err);
        s->nfiles = i + 1;
        if (st == PRW_OK)
            nrgs += file_row_groups(&s->files[i]);
    }
    if (st == PRW_OK) {
        s->rgs = prw__calloc(nrgs ? nrgs : 1, sizeof *s->rgs);
        if (!s->rgs)
            st = prw__error_nomem(err, "row group list", nrgs * sizeof *s->rgs);
    }
    for (size_t i = 0; i < s->nfiles && st == PRW_OK; i++) {
        size_t n = file_row_groups(&s->files[i]);
        for (size_t g = 0; g < n; g++)
            s->rgs[s->nrgs++] = (pl_rg){(uint32_t)i, (int)g, file_rg_rows(&s->files[i], g)};
    }
    if (st < 0) {
        prw__pl_source_close(s);
        return st;
    }
    *out = s;
    return PRW_OK;
}

void prw__pl_source_close(prw__pl_source *s) {
    if (!s)
        return;
    for (size_t i = 0; i < s->nfiles; i++) {
        pl_file *f = &s->files[i];
        if (!f->pq)
            prw__free((char *)f->path); /* a dump's own copy (a Parquet file's is its reader's) */
        prw__pl_dump_close(f);
        prw_pq_close(f->pq);
    }
    if (s->store_fd >= 0)
        close(s->store_fd);
    prw__free(s->files);
    prw__free(s->rgs);
    prw__free(s);
}

size_t prw__pl_source_files(const prw__pl_source *s) {
    return s->nfiles;
}
prw_status prw__pl_source_use_pread(prw__pl_source *s, const prw_build_options *opts,
                                    prw_error *err) {
    for (size_t i = 0; i < s->nfiles; i++) {
        pl_file *f = &s->files[i];
        if (!f->pq)
            continue; /* a dump's chunks are read with pread already */
        char *path = prw__strdup(f->path);
        if (!path)
            return prw__error_nomem(err, "a path", strlen(f->path));
        prw_pq_close(f->pq);
        f->pq = NULL;
        f->path = NULL;
        prw_status st = open_parquet(f, path, opts, true, err);
        prw__free(path);
        PRW_TRY(st);
    }
    return PRW_OK;
}

prw_status prw__pl_source_check_unchanged(const prw__pl_source *s, prw_error *err) {
    for (size_t i = 0; s && i < s->nfiles; i++)
        if (s->files[i].pq)
            PRW_TRY(prw_pq_check_unchanged(s->files[i].pq, err));
    return PRW_OK;
}

prw_status prw__pl_source_blame_change(const prw__pl_source *s, prw_status st, prw_error *err) {
    if (st >= 0)
        return st;
    prw_error change;
    prw_error_clear(&change);
    return prw__pl_source_check_unchanged(s, &change) >= 0 ? st
                                                           : prw__error_caused_by(err, &change);
}

const char *prw__pl_source_path(const prw__pl_source *s, size_t file) {
    return s->files[file].path;
}
const char *prw__pl_source_format(const prw__pl_source *s, size_t file) {
    const pl_file *f = &s->files[file];
    return f->dump ? prw__pl_dump_format(f) : "parquet";
}
int64_t prw__pl_source_file_rows(const prw__pl_source *s, size_t file) {
    return s->files[file].rows;
}
prw_status prw__pl_source_inputs(const prw__pl_source *s, prw__pl_input **out, prw_error *err) {
    *out = prw__calloc(s->nfiles ? s->nfiles : 1, sizeof **out);
    if (!*out)
        return prw__error_nomem(err, "the input list", s->nfiles * sizeof **out);
    for (size_t f = 0; f < s->nfiles; f++)
        (*out)[f] = (prw__pl_input){s->files[f].path, prw__pl_source_format(s, f), s->files[f].rows,
                                    s->files[f].bytes};
    return PRW_OK;
}

void prw__pl_source_add_stats(const prw__pl_source *s, prw_build_stats *st) {
    st->files += (int64_t)s->nfiles;
    st->dump_chunk_bytes += s->store_bytes;
    for (size_t f = 0; f < s->nfiles; f++) {
        st->rows_read += s->files[f].rows;
        st->input_bytes += s->files[f].bytes;
        if (s->files[f].dump)
            prw__pl_dump_add_stats(&s->files[f], st);
    }
}
int64_t prw__pl_source_file_bytes(const prw__pl_source *s, size_t file) {
    return s->files[file].bytes;
}
int64_t prw__pl_source_warn(const prw__pl_source *s, prw_warning_fn fn, void *ctx) {
    int64_t n = 0;
    for (size_t i = 0; i < s->nfiles; i++) {
        const char *w = s->files[i].pq ? prw_pq_writer_warning(s->files[i].pq) : NULL;
        if (w && fn)
            fn(ctx, s->files[i].path, w);
        n += w != NULL;
    }
    return n;
}
size_t prw__pl_source_row_groups(const prw__pl_source *s) {
    return s->nrgs;
}
int64_t prw__pl_source_rg_rows(const prw__pl_source *s, size_t rg) {
    return s->rgs[rg].rows;
}

int64_t prw__pl_source_rg_decode_bytes(const prw__pl_source *s, size_t rg) {
    const pl_rg *g = &s->rgs[rg];
    const pl_file *f = &s->files[g->file];
    if (f->dump)
        return prw__pl_dump_chunk_bytes(f, (size_t)g->rg) + g->rows * 64;
    int64_t total = 0;
    for (int c = 0; c < PRW_COL_COUNT; c++) {
        prw_pq_chunk_info ci;
        if (prw_pq_chunk(f->pq, g->rg, f->col[c], &ci, NULL) == PRW_OK && ci.uncompressed_size > 0)
            total += ci.uncompressed_size;
    }
    /* Column arrays (values, validity, indices), the time and id scratch, the rows. */
    return total + g->rows * 64;
}

int64_t prw__pl_source_rg_key_bytes(const prw__pl_source *s, size_t rg) {
    const pl_rg *g = &s->rgs[rg];
    const pl_file *f = &s->files[g->file];
    if (f->dump)
        return prw__pl_dump_chunk_bytes(f, (size_t)g->rg) + g->rows * 16;
    int64_t total = 0;
    prw_pq_chunk_info ci;
    if (prw_pq_chunk(f->pq, g->rg, f->col[PRW_COL_SRC_ADDR], &ci, NULL) == PRW_OK)
        total = (ci.compressed_size > 0 ? ci.compressed_size : 0) +
                (ci.uncompressed_size > 0 ? ci.uncompressed_size : 0);
    /* String offsets, validity and the ids. */
    return total + g->rows * 16;
}

/* ---- decoding -------------------------------------------------------------------------------- */

prw_status prw__pl_decoder_create(prw__pl_source *s, prw__pl_decoder **out, prw_error *err) {
    prw__pl_decoder *d = prw__calloc(1, sizeof *d);
    if (!d)
        return prw__error_nomem(err, "a decoder", sizeof *d);
    d->src = s;
    d->dump_rg = SIZE_MAX;
    for (int c = 0; c < PRW_COL_COUNT; c++)
        prw_pq_column_data_init(&d->cd[c]);
    prw_status st = prw_pq_decoder_create(&d->pq, err);
    if (st < 0) {
        prw__free(d);
        return st;
    }
    *out = d;
    return PRW_OK;
}

void prw__pl_decoder_destroy(prw__pl_decoder *d) {
    if (!d)
        return;
    for (int c = 0; c < PRW_COL_COUNT; c++)
        prw_pq_column_data_cleanup(&d->cd[c]);
    prw_pq_decoder_destroy(d->pq);
    prw__free(d->times);
    prw__free(d->map);
    prw__free(d->miss);
    prw__free(d->key_rows);
    prw__buf_cleanup(&d->dump_packed);
    prw__buf_cleanup(&d->dump_cols);
    prw__codec_ctx_destroy(d->dump_cc);
    for (int i = 0; i < 2; i++) {
        if (d->cache[i].init)
            prw__intern_cleanup(&d->cache[i].local);
        prw__free(d->cache[i].global);
        prw__free(d->cache[i].fast_mem);
    }
    prw__free(d);
}
