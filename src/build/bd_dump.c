/*
 * RIPE Atlas dumps as build input. The atlas reader (src/atlas/) decompresses and parses a dump
 * on all cores once, when the source opens; its batches are gathered into chunks of about
 * CHUNK_ROWS measurements, each a zstd frame of its columns appended to one temporary file of
 * the source (unlinked at once: nothing is left behind, whatever stops the process). A chunk
 * is then a row group like any other: the decoders read it back and point their column views
 * at it, so the key pass, the decode, the NULL policy and the range checks are the Parquet
 * ones, and the rows are those DuckDB's conversion of the dump would give (CONTRACT.md §1).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/bd_source.h"
#include "common/io.h"

/* Measurements per chunk: about the row group of DuckDB's Parquet (122,880 rows); unpacked
 * ~13 MiB, so a memory-bounded decode slot stays small. */
#define CHUNK_ROWS (1u << 17)
/* The least --memory-limit a build with a dump input runs in. */
#define DUMP_MIN_MEMORY (64ull << 20)

typedef struct dump_chunk {
    int64_t off; /* in the store */
    uint64_t packed, unpacked;
    uint64_t rows, src_len, dst_len;
} dump_chunk;

struct pl_dump {
    prw_atlas_format fmt;
    prw_atlas_stats stats;
    dump_chunk *chunks;
    size_t nchunks, cap;
    prw_pq_column_info info[PRW_COL_COUNT];
};

/* A chunk being gathered: one buffer per column. */
typedef struct gather {
    prw__buf times, lines, src_off, dst_off, ipv, rtt, dst_valid, ip_valid, rtt_valid, src, dst;
    uint64_t rows;
    prw__buf packed, unpacked;
    prw__codec_ctx *cc;
} gather;

static prw__buf *gather_bufs(gather *g, size_t i) {
    prw__buf *all[] = {&g->times, &g->lines,     &g->src_off,  &g->dst_off,   &g->ipv,
                       &g->rtt,   &g->dst_valid, &g->ip_valid, &g->rtt_valid, &g->src,
                       &g->dst,   &g->packed,    &g->unpacked, NULL};
    return all[i];
}

static void gather_cleanup(gather *g) {
    for (size_t i = 0; gather_bufs(g, i); i++)
        prw__buf_cleanup(gather_bufs(g, i));
    prw__codec_ctx_destroy(g->cc);
}

/* The store: an unlinked file in the temp folder, else the output directory, else $TMPDIR. */
static prw_status open_store(prw__pl_source *s, const prw_build_options *o, prw_error *err) {
    if (s->store_fd >= 0)
        return PRW_OK;
    struct stat st;
    const char *dir = o->temp_dir;
    if (!dir && o->output_dir && stat(o->output_dir, &st) == 0 && S_ISDIR(st.st_mode))
        dir = o->output_dir;
    if (!dir)
        dir = getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp";
    char path[PRW_PATH_BUF];
    int n = snprintf(path, sizeof path, "%s/.proberows-dump-XXXXXX", dir);
    PRW_CHECK(n > 0 && (size_t)n < sizeof path, err, PRW_E_INVALID, -1, "%s: path too long", dir);
    int fd = mkstemp(path);
    if (fd < 0)
        return prw__error_sys(err, errno, "%s: cannot create the dumps' temporary file", dir);
    unlink(path);
    s->store_fd = fd;
    return PRW_OK;
}

/* Adds the batch's rows to the chunk being gathered (offsets rebased on the chunk's bytes). */
static prw_status gather_batch(gather *g, const prw_atlas_batch *b, prw_error *err) {
    size_t n = (size_t)b->num_rows;
    if (!n)
        return PRW_OK;
    PRW_TRY(prw__buf_append(&g->times, b->event_time, n * 8, err));
    PRW_TRY(prw__buf_append(&g->lines, b->line, n * 8, err));
    const int64_t *off[2] = {b->src_offsets, b->dst_offsets};
    const uint8_t *bytes[2] = {b->src_bytes, b->dst_bytes};
    prw__buf *ob[2] = {&g->src_off, &g->dst_off}, *bb[2] = {&g->src, &g->dst};
    for (int k = 0; k < 2; k++) {
        int64_t base = (int64_t)bb[k]->len;
        PRW_TRY(prw__buf_reserve(ob[k], n * 8, err));
        int64_t *o = (int64_t *)(ob[k]->data + ob[k]->len);
        for (size_t r = 0; r < n; r++)
            o[r] = base + off[k][r + 1];
        ob[k]->len += n * 8;
        PRW_TRY(prw__buf_append(bb[k], bytes[k], (size_t)off[k][n], err));
    }
    PRW_TRY(prw__buf_reserve(&g->ipv, n * 4, err));
    int32_t *ipv = (int32_t *)(g->ipv.data + g->ipv.len);
    for (size_t r = 0; r < n; r++)
        ipv[r] = b->ip_version[r];
    g->ipv.len += n * 4;
    PRW_TRY(prw__buf_append(&g->rtt, b->rtt, n * 8, err));
    PRW_TRY(prw__buf_append(&g->dst_valid, b->dst_valid, n, err));
    PRW_TRY(prw__buf_append(&g->ip_valid, b->ip_valid, n, err));
    PRW_TRY(prw__buf_append(&g->rtt_valid, b->rtt_valid, n, err));
    g->rows += n;
    return PRW_OK;
}

/* The unpacked layout of a chunk of n rows: the 8-byte columns, the 4-byte one, the bytes. */
enum {
    L_TIMES,
    L_LINES,
    L_SRC_OFF,
    L_DST_OFF,
    L_RTT,
    L_IPV,
    L_DST_VALID,
    L_IP_VALID,
    L_RTT_VALID,
    L_SRC,
    L_DST,
    L_END
};
static void layout(uint64_t n, uint64_t src_len, uint64_t dst_len, uint64_t at[L_END + 1]) {
    uint64_t size[L_END] = {8 * n, 8 * n, 8 * (n + 1), 8 * (n + 1), 8 * n,  4 * n,
                            n,     n,     n,           src_len,     dst_len};
    at[0] = 0;
    for (int i = 0; i < L_END; i++)
        at[i + 1] = at[i] + size[i];
}

/* The gathered rows become one chunk: unpacked in the layout, zstd, appended to the store. */
static prw_status flush_chunk(prw__pl_source *s, pl_dump *d, gather *g, const char *path,
                              prw_error *err) {
    if (!g->rows)
        return PRW_OK;
    uint64_t at[L_END + 1];
    layout(g->rows, g->src.len, g->dst.len, at);
    prw__buf *part[L_END] = {&g->times,     &g->lines, &g->src_off,   &g->dst_off,
                             &g->rtt,       &g->ipv,   &g->dst_valid, &g->ip_valid,
                             &g->rtt_valid, &g->src,   &g->dst};
    g->unpacked.len = 0;
    PRW_TRY(prw__buf_reserve(&g->unpacked, at[L_END], err));
    for (int i = 0; i < L_END; i++) {
        uint8_t *dst = g->unpacked.data + at[i];
        if (i == L_SRC_OFF || i == L_DST_OFF) { /* offsets[0] = 0, then the ends */
            memset(dst, 0, 8);
            dst += 8;
        }
        if (part[i]->len)
            memcpy(dst, part[i]->data, part[i]->len);
    }
    size_t bound = prw__codec_bound(PRW_CODEC_ZSTD, at[L_END]);
    PRW_TRY(prw__buf_reserve(&g->packed, bound, err));
    size_t packed = 0;
    prw__codec_opts co = {1, 0};
    PRW_TRY(prw__codec_compress(g->cc, PRW_CODEC_ZSTD, &co, g->unpacked.data, at[L_END],
                                g->packed.data, bound, &packed, err));
    for (size_t done = 0; done < packed;) {
        ssize_t w = pwrite(s->store_fd, g->packed.data + done, packed - done,
                           (off_t)(s->store_bytes + (int64_t)done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return prw__error_sys(err, w < 0 ? errno : ENOSPC,
                                  "%s: writing the parsed measurements to the temporary file",
                                  path);
        done += (size_t)w;
    }
    if (d->nchunks == d->cap)
        PRW_TRY(prw__grow_array((void **)&d->chunks, &d->cap, d->nchunks + 1, sizeof *d->chunks,
                                "dump chunks", err));
    d->chunks[d->nchunks++] =
        (dump_chunk){s->store_bytes, packed, at[L_END], g->rows, g->src.len, g->dst.len};
    s->store_bytes += (int64_t)packed;
    for (int i = 0; i < L_END; i++)
        part[i]->len = 0;
    g->rows = 0;
    return PRW_OK;
}

/* The columns as the decoders see them: what the DuckDB conversion would have written. */
static void describe(pl_dump *d, const prw_build_options *o) {
    static const char *const rtt_name[] = {"avg", "min", "max"};
    const char *names[PRW_COL_COUNT] = {"timestamp",
                                        o->atlas_src == PRW_ATLAS_SRC_FROM ? "from" : "src_addr",
                                        "dst_addr", "af", rtt_name[o->atlas_rtt]};
    prw_pq_physical phys[PRW_COL_COUNT] = {PRW_PQ_INT64, PRW_PQ_BYTE_ARRAY, PRW_PQ_BYTE_ARRAY,
                                           PRW_PQ_INT32, PRW_PQ_DOUBLE};
    for (int c = 0; c < PRW_COL_COUNT; c++) {
        prw_pq_column_info *ci = &d->info[c];
        memset(ci, 0, sizeof *ci);
        ci->name = names[c];
        ci->physical = phys[c];
        ci->converted_type = -1;
        ci->supported = true;
    }
    d->info[PRW_COL_EVENT_TIME].logical = PRW_PQ_LOGICAL_TIMESTAMP;
    d->info[PRW_COL_EVENT_TIME].time_unit = PRW_PQ_MICROS;
    d->info[PRW_COL_EVENT_TIME].utc = true;
    d->info[PRW_COL_SRC_ADDR].logical = d->info[PRW_COL_DST_ADDR].logical = PRW_PQ_LOGICAL_STRING;
}

prw_status prw__pl_dump_open(prw__pl_source *s, pl_file *f, const char *path,
                             const prw_build_options *o, prw_error *err) {
    PRW_CHECK(o->atlas_rtt <= PRW_ATLAS_RTT_MAX && o->atlas_src <= PRW_ATLAS_SRC_FROM, err,
              PRW_E_INVALID, -1, "bad dump options");
    /* The reader's pieces, the bzip2 blocks being decoded and a chunk being gathered peak at
     * ~60 MiB whatever the limit (measured on the 1M-result bench dump). */
    char lim[PRW_BYTES_STR_MAX];
    PRW_CHECK(!o->memory_limit || o->memory_limit >= DUMP_MIN_MEMORY, err, PRW_E_LIMIT, -1,
              "memory limit of %s is too small for this input: at least 64.0 MiB is needed "
              "(reading the RIPE Atlas dump %s)",
              prw_format_bytes(o->memory_limit, lim, sizeof lim), path);
    pl_dump *d = prw__calloc(1, sizeof *d);
    if (!d)
        return prw__error_nomem(err, "a dump", sizeof *d);
    f->dump = d;
    describe(d, o);
    for (int c = 0; c < PRW_COL_COUNT; c++)
        f->info[c] = &d->info[c];
    PRW_TRY(open_store(s, o, err));
    prw_atlas_options ao = {0};
    ao.rtt = o->atlas_rtt;
    ao.src = o->atlas_src;
    ao.strict = o->strict;
    ao.threads = o->workers;
    ao.details = true;
    /* Text in flight: the reader's 64 MiB, or a quarter of a smaller memory limit (at least
     * 24 MiB: three pieces of 4 MiB and the bzip2 blocks being decoded). */
    uint64_t quarter = o->memory_limit / 4;
    if (o->memory_limit && quarter < (64u << 20))
        ao.max_memory = quarter > (24u << 20) ? (size_t)quarter : (24u << 20);
    prw_atlas_reader *r = NULL;
    PRW_TRY(prw_atlas_reader_open(path, &ao, &r, err));
    d->fmt = prw_atlas_reader_format(r);
    gather g;
    memset(&g, 0, sizeof g);
    prw_status st = prw__codec_ctx_create(&g.cc, err);
    const prw_atlas_batch *b;
    uint64_t chunk_rows = CHUNK_ROWS;
    /* Tests cut small dumps into many chunks (tests/cli/build_dump_duckdb_equal.cmd). */
    const char *test_rows = getenv("PROBEROWS_TEST_DUMP_CHUNK_ROWS");
    if (test_rows && atoi(test_rows) > 0 && atoi(test_rows) < (int)CHUNK_ROWS)
        chunk_rows = (uint64_t)atoi(test_rows);
    while (st == PRW_OK && (st = prw_atlas_reader_next(r, &b, err)) == PRW_OK) {
        st = gather_batch(&g, b, err);
        if (st == PRW_OK && g.rows >= chunk_rows)
            st = flush_chunk(s, d, &g, path, err);
    }
    if (st == PRW_DONE)
        st = flush_chunk(s, d, &g, path, err);
    d->stats = *prw_atlas_reader_stats(r);
    prw_atlas_reader_close(r);
    gather_cleanup(&g);
    f->rows = d->stats.results + d->stats.dropped_no_src;
    return st;
}

void prw__pl_dump_close(pl_file *f) {
    if (f->dump)
        prw__free(f->dump->chunks);
    prw__free(f->dump);
    f->dump = NULL;
}

size_t prw__pl_dump_chunks(const pl_file *f) {
    return f->dump->nchunks;
}

int64_t prw__pl_dump_chunk_rows(const pl_file *f, size_t chunk) {
    return (int64_t)f->dump->chunks[chunk].rows;
}

int64_t prw__pl_dump_chunk_bytes(const pl_file *f, size_t chunk) {
    const dump_chunk *c = &f->dump->chunks[chunk];
    return (int64_t)(c->packed + c->unpacked);
}

const char *prw__pl_dump_format(const pl_file *f) {
    return prw_atlas_format_name(f->dump->fmt);
}

/* A column view into the unpacked chunk; the Parquet decoder's own buffers stay with cd. */
static void view(prw_pq_column_data *cd, int64_t n, const uint8_t *valid, const void *values,
                 size_t value_size, const int64_t *offsets, const uint8_t *bytes) {
    prw_pq_column_store *keep = cd->store_;
    memset(cd, 0, sizeof *cd);
    cd->store_ = keep;
    cd->num_rows = n;
    cd->valid = valid;
    cd->values = values;
    cd->value_size = value_size;
    cd->offsets = offsets;
    cd->bytes = bytes;
    for (int64_t r = 0; valid && r < n; r++)
        cd->null_count += !valid[r];
}

static prw_status load_chunk(prw__pl_decoder *d, size_t rg, const pl_file *f, const dump_chunk *c,
                             prw_error *err) {
    if (d->dump_rg == rg)
        return PRW_OK;
    d->dump_rg = SIZE_MAX;
    if (!d->dump_cc)
        PRW_TRY(prw__codec_ctx_create(&d->dump_cc, err));
    d->dump_packed.len = d->dump_cols.len = 0;
    PRW_TRY(prw__buf_reserve(&d->dump_packed, c->packed, err));
    PRW_TRY(prw__buf_reserve(&d->dump_cols, c->unpacked, err));
    for (uint64_t done = 0; done < c->packed;) {
        ssize_t n = pread(d->src->store_fd, d->dump_packed.data + done, c->packed - done,
                          (off_t)(c->off + (int64_t)done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return prw__error_sys(err, n < 0 ? errno : EIO,
                                  "%s: reading parsed measurements back from the temporary file",
                                  f->path);
        done += (uint64_t)n;
    }
    prw_status st = prw__codec_decompress(d->dump_cc, PRW_CODEC_ZSTD, d->dump_packed.data,
                                          c->packed, d->dump_cols.data, c->unpacked, err);
    if (st < 0) {
        prw__error_prefix(err, "%s: the temporary file of parsed measurements: ", f->path);
        return st;
    }
    d->dump_rg = rg;
    return PRW_OK;
}

prw_status prw__pl_dump_columns(prw__pl_decoder *d, size_t rg, bool keys_only, prw_error *err) {
    const pl_rg *g = &d->src->rgs[rg];
    const pl_file *f = &d->src->files[g->file];
    const dump_chunk *c = &f->dump->chunks[g->rg];
    PRW_TRY(load_chunk(d, rg, f, c, err));
    uint64_t at[L_END + 1];
    layout(c->rows, c->src_len, c->dst_len, at);
    const uint8_t *p = d->dump_cols.data;
    int64_t n = (int64_t)c->rows;
    d->dump_lines = (const int64_t *)(p + at[L_LINES]);
    view(&d->cd[PRW_COL_SRC_ADDR], n, NULL, NULL, 0, (const int64_t *)(p + at[L_SRC_OFF]),
         p + at[L_SRC]);
    if (keys_only)
        return PRW_OK;
    view(&d->cd[PRW_COL_EVENT_TIME], n, NULL, p + at[L_TIMES], 8, NULL, NULL);
    view(&d->cd[PRW_COL_DST_ADDR], n, p + at[L_DST_VALID], NULL, 0,
         (const int64_t *)(p + at[L_DST_OFF]), p + at[L_DST]);
    view(&d->cd[PRW_COL_IP_VERSION], n, p + at[L_IP_VALID], p + at[L_IPV], 4, NULL, NULL);
    view(&d->cd[PRW_COL_RTT], n, p + at[L_RTT_VALID], p + at[L_RTT], 8, NULL, NULL);
    return PRW_OK;
}

void prw__pl_dump_add_stats(const pl_file *f, prw_build_stats *st) {
    const prw_atlas_stats *a = &f->dump->stats;
    st->dump_files++;
    st->dump_bytes_decompressed += a->bytes_out;
    st->dropped_null_src_addr += a->dropped_no_src;
    for (int k = 0; k < PRW_ATLAS_BAD_COUNT; k++)
        st->lines_skipped[k] += a->bad[k];
    st->lines_skipped_total += a->bad_total;
    for (int i = 0; i < a->nfirst_bad && st->nfirst_bad < PRW_ATLAS_FIRST_BAD; i++) {
        prw_build_bad_line *b = &st->first_bad[st->nfirst_bad++];
        snprintf(b->file, sizeof b->file, "%s", f->path);
        b->line = a->first_bad[i];
    }
}
