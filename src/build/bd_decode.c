/*
 * The decode phase of the in-memory mode: each row group's measurements become fixed-size
 * rows (bd_internal.h) with interned keys. A row group is decoded whole by one worker, or,
 * with fewer row groups than workers (S has one), in two halves: its numeric columns and its
 * string columns on two workers, then its rows built in two halves of the row range.
 */
#include <stdatomic.h>
#include <string.h>

#include "build/bd_engine.h"
static prw_status decode_work(bd_build *b, size_t di, size_t rg, int64_t *done, prw_error *err) {
    *done = prw__pl_source_rg_rows(b->src, rg);
    return prw__pl_decode_rg(b->decoders[di], rg, &b->pr.src_tab, &b->pr.dst_tab, b->o->null_rtt,
                             &b->dec[rg], err);
}

static prw_status decode_task(void *ctx, size_t rg, prw_error *err) {
    return prw__bd_rg_task(ctx, rg, false, decode_work, err);
}

#define HALF_NONE SIZE_MAX
#define HALF_FAILED (SIZE_MAX - 1)
/* Fewer rows than this are built by one worker. */
#define HALF_MIN_ROWS 65536

/* A row group decoded in halves (fewer row groups than workers: S is one). */
struct bd_halves {
    size_t first;     /* the decoder of the half done first, HALF_NONE or HALF_FAILED */
    size_t num, str;  /* the decoders holding the numeric and the string columns */
    size_t mid;       /* rows [0, mid) and [mid, n) are built by two workers */
    _Atomic int left; /* row halves still being built */
    bd_task sub;      /* the task building [mid, n) */
    prw__pl_decoded half[2];
    prw_status st[2];
    prw_error err[2];
};

/* A half of row group rg's rows is built: the second to finish joins them (the second half's
 * rows move down behind the first's when rows were dropped), frees both decoders and reports. */
static void half_done(bd_build *b, size_t rg) {
    bd_halves *h = &b->halves[rg];
    if (atomic_fetch_sub(&h->left, 1) != 1)
        return;
    prw__pl_decoded *d = &b->dec[rg], *x = &h->half[0], *y = &h->half[1];
    int bad = h->st[0] < 0 ? 0 : h->st[1] < 0 ? 1 : -1;
    if (bad < 0) {
        memmove(d->rows + x->n, y->rows, y->n * sizeof *d->rows);
        d->n = x->n + y->n;
        prw__pl_decoded_add_counts(d, x);
        prw__pl_decoded_add_counts(d, y);
        atomic_fetch_add(&b->progress_done, prw__pl_source_rg_rows(b->src, rg));
    } else {
        prw__bd_fail(b, h->st[bad], &h->err[bad]);
    }
    prw__bd_give_decoder(b, h->num);
    prw__bd_give_decoder(b, h->str);
}

/* Builds rows [mid, n) of row group `index` (half_decode_task's other half). */
static void half_rows_task(void *arg) {
    bd_task *t = arg;
    bd_build *b = t->b;
    bd_halves *h = &b->halves[t->index];
    size_t n = (size_t)prw__pl_source_rg_rows(b->src, t->index);
    h->st[1] = prw__pl_assemble_rows(b->decoders[h->num], b->decoders[h->str], t->index, h->mid, n,
                                     b->o->null_rtt, &h->half[1], &h->err[1]);
    half_done(b, t->index);
}

/* Both halves of row group rg's columns are decoded (num, str: their decoders): builds its
 * rows, the second half on another worker when there are enough of them. */
static void halves_build_rows(bd_build *b, size_t rg, size_t num, size_t str) {
    bd_halves *h = &b->halves[rg];
    size_t n = (size_t)prw__pl_source_rg_rows(b->src, rg);
    prw__pl_decoded *d = &b->dec[rg];
    h->num = num;
    h->str = str;
    d->rows = prw__malloc_array(n ? n : 1, sizeof *d->rows);
    if (!d->rows) {
        prw_error e;
        prw__bd_fail(b, prw__error_nomem(&e, "decoded rows", n * sizeof *d->rows), &e);
        prw__bd_give_decoder(b, num);
        prw__bd_give_decoder(b, str);
        return;
    }
    h->mid = n >= HALF_MIN_ROWS && prw__pool_threads(b->pool) > 1 ? n / 2 : n;
    h->half[0].rows = d->rows;
    h->half[1].rows = d->rows + h->mid;
    h->st[1] = PRW_OK;
    atomic_store(&h->left, h->mid < n ? 2 : 1);
    if (h->mid < n) {
        h->sub = (bd_task){b, rg};
        prw__pool_submit(b->pool, half_rows_task, &h->sub);
    }
    h->st[0] = prw__pl_assemble_rows(b->decoders[num], b->decoders[str], rg, 0, h->mid,
                                     b->o->null_rtt, &h->half[0], &h->err[0]);
    half_done(b, rg);
}

/* Task 2g + h decodes half h of row group g's columns. The half done first keeps its decoder;
 * the second builds the rows from both (halves_build_rows). */
static prw_status half_decode_task(void *ctx, size_t index, prw_error *err) {
    bd_build *b = ctx;
    size_t rg = index / 2;
    bool str = index % 2;
    if (atomic_load(&b->failed))
        return PRW_OK; /* the build's error is already recorded */
    size_t di = prw__bd_take_decoder(b);
    prw_status st =
        prw__pl_decode_cols(b->decoders[di], rg, str ? PRW_PL_COLS_STR : PRW_PL_COLS_NUM,
                            &b->pr.src_tab, &b->pr.dst_tab, err);
    prw__mutex_lock(&b->pool_mu);
    size_t other = b->halves[rg].first;
    if (other == HALF_NONE)
        b->halves[rg].first = st < 0 ? HALF_FAILED : di;
    prw__mutex_unlock(&b->pool_mu);
    if (other != HALF_NONE && st == PRW_OK && other != HALF_FAILED) {
        halves_build_rows(b, rg, str ? other : di, str ? di : other);
    } else if (other != HALF_NONE || st < 0) {
        if (other != HALF_NONE && other != HALF_FAILED)
            prw__bd_give_decoder(b, other);
        prw__bd_give_decoder(b, di);
    }
    return st;
}

/* Decodes every row group into b->dec: one task per row group, or, with fewer row groups than
 * workers, two per row group (its numeric and its string columns) whose rows are then built
 * in two halves. */
prw_status prw__bd_decode_all(bd_build *b, prw__pool *pool, prw_error *err) {
    int64_t total = b->stats->rows_read;
    if (b->nrg >= (size_t)b->workers)
        return prw__bd_run_all(b, pool, b->nrg, decode_task, "decode", total, err);
    b->halves = prw__calloc(b->nrg ? b->nrg : 1, sizeof *b->halves);
    if (!b->halves)
        return prw__error_nomem(err, "row group list", b->nrg * sizeof *b->halves);
    for (size_t g = 0; g < b->nrg; g++)
        b->halves[g].first = HALF_NONE;
    return prw__bd_run_all(b, pool, 2 * b->nrg, half_decode_task, "decode", total, err);
}
