/*
 * The map tasks' run files of one key range (so_run.c) as the build's partition source: a
 * reduce task's part k is read from every map task's file, in map order, which is its rows in
 * input order; reading it also counts its probes' rows and bytes, which replace the plan's
 * estimates.
 */
#include "build/bd_engine.h"
#include "scaleout/so_run.h"
#include "scaleout/so_source.h"

typedef struct run_source {
    prw__part_source base;
    const prw__run_set *runs;
    const uint32_t *part_key; /* nparts + 1 local rank bounds */
    size_t workers;
    prw__run_cursor *rc; /* by worker */
} run_source;

static size_t run_rows(prw__part_source *self, size_t k) {
    const run_source *s = self->private_data;
    return prw__run_set_part_rows(s->runs, k);
}

static prw_status run_produce(prw__part_source *self, size_t w, size_t k, bd_probes *pr,
                              bd_scratch *sc, size_t *nsegs, prw_error *err) {
    run_source *s = self->private_data;
    size_t n = run_rows(self, k);
    size_t cap = n > self->max_rows ? n : self->max_rows;
    PRW_TRY(prw__reserve_array((void **)&sc->load, &sc->load_cap, cap, sizeof *sc->load,
                               "a partition", err));
    PRW_TRY(prw__reserve_array((void **)&sc->segs, &sc->segs_cap, 1, sizeof *sc->segs,
                               "partition slices", err));
    uint32_t k0 = s->part_key[k], k1 = s->part_key[k + 1];
    for (uint32_t r = k0; r < k1; r++)
        pr->probe_rows[r] = pr->probe_bytes[r] = 0; /* the plan's estimate until now */
    PRW_TRY(prw__run_read_part(s->runs, &s->rc[w], k, sc->load, &pr->dst_tab, pr->probe_rows,
                               pr->probe_bytes, err));
    prw__bd_add_src_estimate(pr, k0, k1);
    sc->segs[0] = (prw__pl_seg){sc->load, n};
    *nsegs = 1;
    return PRW_OK;
}

static void run_release(prw__part_source *self) {
    run_source *s = self->private_data;
    for (size_t i = 0; s->rc && i < s->workers; i++)
        prw__run_cursor_cleanup(&s->rc[i]);
    prw__free(s->rc);
    prw__free(s);
}

prw_status prw__so_run_source(prw__part_source **out, const prw__run_set *runs,
                              const uint32_t *part_key, size_t nparts, size_t workers,
                              prw_error *err) {
    run_source *s = prw__calloc(1, sizeof *s);
    if (!s)
        return prw__error_nomem(err, "the run-file source", sizeof *s);
    size_t max_rows = 0;
    for (size_t k = 0; k < nparts; k++) {
        size_t n = prw__run_set_part_rows(runs, k);
        max_rows = n > max_rows ? n : max_rows;
    }
    s->base = (prw__part_source){run_rows, run_produce, NULL, NULL, run_release, max_rows, 0, s};
    s->runs = runs;
    s->part_key = part_key;
    s->workers = workers;
    s->rc = prw__calloc(workers ? workers : 1, sizeof *s->rc);
    if (!s->rc) {
        run_release(&s->base);
        return prw__error_nomem(err, "the run-file source", workers * sizeof *s->rc);
    }
    *out = &s->base;
    return PRW_OK;
}
