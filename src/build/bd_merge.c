/*
 * The spill run files of the memory-bounded mode as a partition source: a partition is read
 * back whole into the worker's scratch, in row-group order (= input order); a partition that
 * is one probe too large for memory is streamed instead: its rows were spilled as time-sorted
 * runs (one per row group), and a k-way merge yields them in (time, input) order, exactly the
 * in-memory sort, one window at a time.
 */
#include <string.h>

#include "build/bd_engine.h"

typedef struct spill_source {
    prw__part_source base;
    prw__spill *spill;
    const size_t *part_n;    /* by partition: rows spilled */
    const uint8_t *part_big; /* by partition: streamed */
    size_t nrg, block_rows, workers;
    size_t window_max;   /* merge window rows at most (0: no bound) */
    prw__codec_ctx **cc; /* by worker, and one more for the writing thread */
    prw__buf *io;        /* by worker, and one more */
    prw__pl_row *window; /* the writing thread's merge window */
    size_t window_cap;
} spill_source;

static size_t spill_rows(prw__part_source *self, size_t k) {
    const spill_source *s = self->private_data;
    return s->part_n[k];
}

static bool spill_streamed(prw__part_source *self, size_t k) {
    const spill_source *s = self->private_data;
    return s->part_big[k] != 0;
}

static prw_status worker_cc(spill_source *s, size_t w, prw_error *err) {
    return s->cc[w] ? PRW_OK : prw__codec_ctx_create(&s->cc[w], err);
}

static prw_status spill_produce(prw__part_source *self, size_t w, size_t k, bd_probes *pr,
                                bd_scratch *sc, size_t *nsegs, prw_error *err) {
    (void)pr;
    spill_source *s = self->private_data;
    size_t n = s->part_n[k], got = 0;
    PRW_TRY(worker_cc(s, w, err));
    PRW_TRY(prw__reserve_array((void **)&sc->load, &sc->load_cap, n + s->block_rows,
                               sizeof *sc->load, "a partition", err));
    PRW_TRY(prw__reserve_array((void **)&sc->segs, &sc->segs_cap, 1, sizeof *sc->segs,
                               "partition slices", err));
    PRW_TRY(
        prw__spill_read_part(s->spill, s->cc[w], k, sc->load, sc->load_cap, &got, &s->io[w], err));
    PRW_CHECK(got == n, err, PRW_E_CORRUPT, -1, "partition %zu: %zu rows read back, %zu spilled", k,
              got, n);
    sc->segs[0] = (prw__pl_seg){sc->load, n};
    *nsegs = 1;
    return PRW_OK;
}

/* Merge order: time of a run's current row, then the run's row group (= input order). */
static bool run_less(const prw__spill_run *runs, size_t x, size_t y) {
    int64_t tx = runs[x].rows[runs[x].pos].t, ty = runs[y].rows[runs[y].pos].t;
    return tx < ty || (tx == ty && x < y);
}

static void heap_down(const prw__spill_run *runs, size_t *heap, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && run_less(runs, heap[l], heap[m]))
            m = l;
        if (l + 1 < n && run_less(runs, heap[l + 1], heap[m]))
            m = l + 1;
        if (m == i)
            return;
        size_t t = heap[i];
        heap[i] = heap[m];
        heap[m] = t;
        i = m;
    }
}

/* Doubles the window, but not past window_max: a piece needs no more rows to be cut. */
static prw_status grow_window(spill_source *s, size_t keep, prw_error *err) {
    size_t cap = s->window_cap * 2;
    if (s->window_max && cap > s->window_max)
        cap = s->window_max > s->window_cap ? s->window_max : s->window_cap + 1;
    prw__pl_row *p = prw__malloc_array(cap, sizeof *p);
    if (!p)
        return prw__error_nomem(err, "a merge window", cap * sizeof *p);
    memcpy(p, s->window, keep * sizeof *p);
    prw__free(s->window);
    s->window = p;
    s->window_cap = cap;
    return PRW_OK;
}

/* A k-way merge over the time-sorted runs of one partition. */
typedef struct merge {
    prw__spill_run *runs;
    size_t *heap;
    size_t nruns, nheap;
} merge;

/* Fills the window from the merge heap; a run that ends leaves the heap. */
static prw_status merge_fill(spill_source *s, merge *m, size_t *n, prw_error *err) {
    size_t w = s->workers;
    while (*n < s->window_cap && m->nheap > 0) {
        prw__spill_run *r = &m->runs[m->heap[0]];
        s->window[(*n)++] = r->rows[r->pos++];
        if (r->pos == r->n) {
            PRW_TRY(prw__spill_run_next(s->spill, s->cc[w], r, &s->io[w], err));
            if (r->n == 0)
                m->heap[0] = m->heap[--m->nheap];
        }
        heap_down(m->runs, m->heap, m->nheap, 0);
    }
    return PRW_OK;
}

/* Opens partition k's run of every row group that has rows and builds the heap. */
static prw_status merge_open(spill_source *s, merge *m, size_t k, prw_error *err) {
    size_t w = s->workers;
    m->runs = prw__calloc(s->nrg ? s->nrg : 1, sizeof *m->runs);
    m->heap = prw__calloc(s->nrg ? s->nrg : 1, sizeof *m->heap);
    if (!m->runs || !m->heap)
        return prw__error_nomem(err, "merge runs", s->nrg * (sizeof *m->runs + sizeof *m->heap));
    PRW_TRY(worker_cc(s, w, err));
    for (size_t g = 0; g < s->nrg; g++) {
        if (prw__spill_rows(s->spill, g, k) == 0)
            continue;
        prw__spill_run *r = &m->runs[m->nruns++];
        PRW_TRY(prw__spill_run_open(s->spill, g, k, r, err));
        PRW_TRY(prw__spill_run_next(s->spill, s->cc[w], r, &s->io[w], err));
        if (r->n > 0)
            m->heap[m->nheap++] = m->nruns - 1;
    }
    for (size_t i = m->nheap / 2; i-- > 0;)
        heap_down(m->runs, m->heap, m->nheap, i);
    return PRW_OK;
}

static prw_status spill_stream(prw__part_source *self, size_t k, prw__bd_emit_fn emit, void *ctx,
                               prw_error *err) {
    spill_source *s = self->private_data;
    merge m = {0};
    size_t n = 0;
    prw_status st = PRW_OK;
    if (s->window_cap < PRW_BD_MERGE_WINDOW)
        st = prw__reserve_array((void **)&s->window, &s->window_cap, PRW_BD_MERGE_WINDOW,
                                sizeof *s->window, "a merge window", err);
    if (st == PRW_OK)
        st = merge_open(s, &m, k, err);
    while (st == PRW_OK) {
        if ((st = merge_fill(s, &m, &n, err)) < 0)
            break;
        bool final = m.nheap == 0;
        size_t consumed = 0;
        st = emit(ctx, s->window, n, final, &consumed, err);
        if (st < 0 || final)
            break;
        memmove(s->window, s->window + consumed, (n - consumed) * sizeof *s->window);
        n -= consumed;
        if (consumed == 0) /* no cut inside the window yet: widen it */
            st = grow_window(s, n, err);
    }
    for (size_t i = 0; i < m.nruns; i++)
        prw__spill_run_close(&m.runs[i]);
    prw__free(m.runs);
    prw__free(m.heap);
    return st;
}

static void spill_release(prw__part_source *self) {
    spill_source *s = self->private_data;
    for (size_t i = 0; i <= s->workers && s->cc; i++)
        prw__codec_ctx_destroy(s->cc[i]);
    for (size_t i = 0; i <= s->workers && s->io; i++)
        prw__buf_cleanup(&s->io[i]);
    prw__free(s->cc);
    prw__free(s->io);
    prw__free(s->window);
    prw__free(s);
}

prw_status prw__bd_spill_source(prw__part_source **out, prw__spill *spill, const size_t *part_n,
                                const uint8_t *part_big, size_t nrg, size_t block_rows,
                                size_t workers, size_t window, size_t window_max, prw_error *err) {
    spill_source *s = prw__calloc(1, sizeof *s);
    if (!s)
        return prw__error_nomem(err, "the spill source", sizeof *s);
    *s = (spill_source){
        {spill_rows, spill_produce, spill_streamed, spill_stream, spill_release, 0, window, s},
        spill,
        part_n,
        part_big,
        nrg,
        block_rows,
        workers,
        window_max,
        NULL,
        NULL,
        NULL,
        0};
    s->cc = prw__calloc(workers + 1, sizeof *s->cc);
    s->io = prw__calloc(workers + 1, sizeof *s->io);
    if (!s->cc || !s->io) {
        spill_release(&s->base);
        return prw__error_nomem(err, "the spill source", (workers + 1) * sizeof *s->io);
    }
    *out = &s->base;
    return PRW_OK;
}
