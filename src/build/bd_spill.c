/*
 * Run files of the memory-bounded mode (docs/MEMORY.md).
 *
 * Each spilling worker owns one file in the temp directory and appends to it without locks.
 * The rows of one (row group, partition) pair are written together as an "extent": a
 * sequence of blocks of at most block_rows rows, each block byte-shuffled (the 24-byte rows
 * become 24 byte planes, which compress far better) and compressed on its own:
 *
 *     block := u32 rows | u32 compressed length | compressed shuffled rows
 *
 * The in-memory index (one entry per row group and partition) says where each extent is, so
 * a partition is read back in row-group order, which is input order. Blocks are small so a
 * k-way merge can stream one block per run. The files are our own, but a block header is
 * still checked against the index before any allocation or decompression.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/io.h"
#include "build/bd_internal.h"

#define BLOCK_HEADER 8
#define SPILL_CODEC PRW_CODEC_LZ4_RAW

typedef struct spill_extent {
    uint64_t off, len, rows;
    uint32_t file;
} spill_extent;

struct prw__spill {
    char *dir;
    size_t nfiles;
    prw__wfile *w;
    prw__rfile *r;
    bool reading;
    size_t nrg, nparts, block_rows;
    spill_extent *idx; /* nrg * nparts */
    _Atomic int64_t bytes;
};

void prw__pl_shuffle(const uint8_t *src, uint8_t *dst, size_t n, size_t width) {
    for (size_t k = 0; k < width; k++) {
        uint8_t *d = dst + k * n;
        const uint8_t *s = src + k;
        for (size_t i = 0; i < n; i++)
            d[i] = s[i * width];
    }
}

void prw__pl_unshuffle(const uint8_t *src, uint8_t *dst, size_t n, size_t width) {
    for (size_t k = 0; k < width; k++) {
        const uint8_t *s = src + k * n;
        uint8_t *d = dst + k;
        for (size_t i = 0; i < n; i++)
            d[i * width] = s[i];
    }
}

prw_status prw__spill_create(prw__spill **out, const char *dir, size_t nfiles, size_t nrg,
                             size_t nparts, size_t block_rows, prw_error *err) {
    *out = NULL;
    prw__spill *s = prw__calloc(1, sizeof *s);
    if (!s)
        return prw__error_nomem(err, "run files", sizeof *s);
    size_t dl = strlen(dir);
    s->dir = prw__malloc(dl + 1);
    s->w = prw__calloc(nfiles, sizeof *s->w);
    s->r = prw__calloc(nfiles, sizeof *s->r);
    s->idx = prw__calloc(nrg * nparts + 1, sizeof *s->idx);
    if (!s->dir || !s->w || !s->r || !s->idx) {
        prw__spill_destroy(s);
        return prw__error_nomem(err, "the run index", nrg * nparts * sizeof *s->idx);
    }
    memcpy(s->dir, dir, dl + 1);
    s->nrg = nrg;
    s->nparts = nparts;
    s->block_rows = block_rows;
    for (size_t i = 0; i < nfiles; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/run-%03zu", dir, i);
        prw_status st = prw__wfile_open(&s->w[i], path, err);
        if (st < 0) {
            prw__spill_destroy(s);
            return st;
        }
        s->nfiles = i + 1;
    }
    *out = s;
    return PRW_OK;
}

void prw__spill_destroy(prw__spill *s) {
    if (!s)
        return;
    for (size_t i = 0; i < s->nfiles; i++) {
        prw__rfile_close(&s->r[i]);
        prw__wfile_abort(&s->w[i]);
    }
    prw__free(s->w);
    prw__free(s->r);
    prw__free(s->idx);
    prw__free(s->dir);
    prw__free(s);
}

size_t prw__spill_scratch_bytes(size_t block_rows) {
    size_t raw = block_rows * sizeof(prw__pl_row);
    return raw + prw__codec_bound(SPILL_CODEC, raw) + BLOCK_HEADER;
}

prw_status prw__spill_put(prw__spill *s, size_t file, prw__codec_ctx *cc, size_t rg, size_t part,
                          const prw__pl_row *rows, size_t n, prw__buf *scratch, prw_error *err) {
    if (n == 0)
        return PRW_OK;
    size_t need = prw__spill_scratch_bytes(s->block_rows);
    PRW_TRY(prw__buf_reserve(scratch, need, err));
    uint8_t *sh = scratch->data;
    uint8_t *cb = sh + s->block_rows * sizeof(prw__pl_row);
    spill_extent *e = &s->idx[rg * s->nparts + part];
    e->file = (uint32_t)file;
    e->off = (uint64_t)s->w[file].written;
    for (size_t i = 0; i < n; i += s->block_rows) {
        size_t k = n - i < s->block_rows ? n - i : s->block_rows;
        size_t raw = k * sizeof(prw__pl_row), clen = 0;
        prw__pl_shuffle((const uint8_t *)(rows + i), sh, k, sizeof(prw__pl_row));
        PRW_TRY(prw__codec_compress(cc, SPILL_CODEC, NULL, sh, raw, cb + BLOCK_HEADER,
                                    prw__codec_bound(SPILL_CODEC, raw), &clen, err));
        prw__store_le32(cb, (uint32_t)k);
        prw__store_le32(cb + 4, (uint32_t)clen);
        prw_status st = prw__wfile_write(&s->w[file], cb, clen + BLOCK_HEADER, err);
        if (st < 0) {
            prw__error_prefix(err, "spilling to %s: ", s->dir);
            return st;
        }
        atomic_fetch_add(&s->bytes, (int64_t)(clen + BLOCK_HEADER));
    }
    e->len = (uint64_t)s->w[file].written - e->off;
    e->rows = n;
    return PRW_OK;
}

prw_status prw__spill_finish(prw__spill *s, prw_error *err) {
    for (size_t i = 0; i < s->nfiles; i++)
        PRW_TRY(prw__rfile_open(&s->r[i], s->w[i].tmp_path, false, err));
    s->reading = true;
    return PRW_OK;
}

int64_t prw__spill_bytes(const prw__spill *s) {
    return atomic_load(&s->bytes);
}

uint64_t prw__spill_rows(const prw__spill *s, size_t rg, size_t part) {
    return s->idx[rg * s->nparts + part].rows;
}

/* Reads and decodes one block at `*off` of extent e into dst (room for block_rows rows). */
static prw_status read_block(prw__spill *s, prw__codec_ctx *cc, const spill_extent *e,
                             uint64_t *off, prw__pl_row *dst, size_t *n, prw__buf *scratch,
                             prw_error *err) {
    const prw__rfile *f = &s->r[e->file];
    uint8_t hdr[BLOCK_HEADER];
    PRW_CHECK(*off + BLOCK_HEADER <= e->off + e->len, err, PRW_E_CORRUPT, (int64_t)*off,
              "%s: run block header past its extent", f->path);
    PRW_TRY(prw__rfile_pread(f, hdr, BLOCK_HEADER, (int64_t)*off, err));
    uint32_t k = prw__load_le32(hdr), clen = prw__load_le32(hdr + 4);
    size_t raw = (size_t)k * sizeof(prw__pl_row);
    PRW_CHECK(k > 0 && k <= s->block_rows && clen <= prw__codec_bound(SPILL_CODEC, raw) &&
                  *off + BLOCK_HEADER + clen <= e->off + e->len,
              err, PRW_E_CORRUPT, (int64_t)*off, "%s: bad run block header", f->path);
    PRW_TRY(prw__buf_reserve(scratch, prw__spill_scratch_bytes(s->block_rows), err));
    uint8_t *sh = scratch->data;
    uint8_t *cb = sh + s->block_rows * sizeof(prw__pl_row);
    PRW_TRY(prw__rfile_pread(f, cb, clen, (int64_t)(*off + BLOCK_HEADER), err));
    prw_status st = prw__codec_decompress(cc, SPILL_CODEC, cb, clen, sh, raw, err);
    if (st < 0) {
        prw__error_prefix(err, "%s: run block at byte %llu: ", f->path, (unsigned long long)*off);
        return st;
    }
    prw__pl_unshuffle(sh, (uint8_t *)dst, k, sizeof(prw__pl_row));
    *off += BLOCK_HEADER + clen;
    *n = k;
    return PRW_OK;
}

prw_status prw__spill_read_part(prw__spill *s, prw__codec_ctx *cc, size_t part, prw__pl_row *dst,
                                size_t cap, size_t *n, prw__buf *scratch, prw_error *err) {
    size_t pos = 0;
    for (size_t g = 0; g < s->nrg; g++) {
        const spill_extent *e = &s->idx[g * s->nparts + part];
        uint64_t off = e->off, got = 0;
        while (got < e->rows) {
            PRW_CHECK(pos + s->block_rows <= cap, err, PRW_E_CORRUPT, -1,
                      "run files hold more rows than counted");
            size_t k = 0;
            PRW_TRY(read_block(s, cc, e, &off, dst + pos, &k, scratch, err));
            got += k;
            pos += k;
        }
        PRW_CHECK(got == e->rows && off == e->off + e->len, err, PRW_E_CORRUPT, -1,
                  "run extent of row group %zu, partition %zu does not match its index", g, part);
    }
    *n = pos;
    return PRW_OK;
}

prw_status prw__spill_run_open(prw__spill *s, size_t rg, size_t part, prw__spill_run *run,
                               prw_error *err) {
    memset(run, 0, sizeof *run);
    const spill_extent *e = &s->idx[rg * s->nparts + part];
    run->file = e->file;
    run->off = e->off;
    run->end = e->off + e->len;
    run->left = e->rows;
    run->rows = prw__malloc_array(s->block_rows, sizeof *run->rows);
    if (!run->rows)
        return prw__error_nomem(err, "a merge run", s->block_rows * sizeof *run->rows);
    return PRW_OK;
}

prw_status prw__spill_run_next(prw__spill *s, prw__codec_ctx *cc, prw__spill_run *run,
                               prw__buf *scratch, prw_error *err) {
    run->n = run->pos = 0;
    if (run->left == 0)
        return PRW_OK;
    spill_extent e = {run->off, run->end - run->off, run->left, run->file};
    size_t k = 0;
    PRW_TRY(read_block(s, cc, &e, &run->off, run->rows, &k, scratch, err));
    PRW_CHECK(k <= run->left, err, PRW_E_CORRUPT, -1, "run extent longer than counted");
    run->left -= k;
    run->n = k;
    return PRW_OK;
}

void prw__spill_run_close(prw__spill_run *run) {
    prw__free(run->rows);
    memset(run, 0, sizeof *run);
}
