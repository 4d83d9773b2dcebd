/*
 * The engine's tasks on the pool: the first error wins (prw__bd_fail), per-row-group tasks
 * with a decoder from the free list, and whole phases run with progress reports.
 */
#include <stdatomic.h>

#include "build/bd_engine.h"
void prw__bd_fail(bd_build *b, prw_status st, const prw_error *e) {
    prw__mutex_lock(&b->err_mu);
    if (!atomic_load(&b->failed)) {
        b->err_st = st;
        b->err = *e;
        atomic_store(&b->failed, 1);
    }
    prw__mutex_unlock(&b->err_mu);
}

void prw__bd_report(bd_build *b, const char *phase, int64_t done, int64_t total, bool end) {
    if (!b->o->progress)
        return;
    prw_build_progress p = {phase, done, total, prw__now() - b->t0, end};
    b->o->progress(b->o->progress_ctx, &p);
}

size_t prw__bd_take_decoder(bd_build *b) {
    prw__mutex_lock(&b->pool_mu);
    size_t i = b->free_dec[--b->nfree_dec];
    prw__mutex_unlock(&b->pool_mu);
    return i;
}

void prw__bd_give_decoder(bd_build *b, size_t i) {
    prw__mutex_lock(&b->pool_mu);
    b->free_dec[b->nfree_dec++] = i;
    prw__mutex_unlock(&b->pool_mu);
}

static void slot_take(bd_build *b) {
    prw__mutex_lock(&b->slot_mu);
    while (b->slots_free == 0)
        prw__cond_wait(&b->slot_cv, &b->slot_mu);
    b->slots_free--;
    prw__mutex_unlock(&b->slot_mu);
}

static void slot_give(bd_build *b) {
    prw__mutex_lock(&b->slot_mu);
    b->slots_free++;
    prw__cond_signal(&b->slot_cv);
    prw__mutex_unlock(&b->slot_mu);
}

void prw__bd_slots_add(bd_build *b, size_t k) {
    if (k == 0)
        return;
    prw__mutex_lock(&b->slot_mu);
    b->slots_free += k;
    prw__cond_broadcast(&b->slot_cv);
    prw__mutex_unlock(&b->slot_mu);
}

prw_status prw__bd_rg_task(bd_build *b, size_t rg, bool slotted, bd_rg_work_fn work,
                           prw_error *err) {
    if (atomic_load(&b->failed))
        return PRW_OK; /* the build's error is already recorded */
    if (slotted)
        slot_take(b);
    size_t di = prw__bd_take_decoder(b);
    int64_t done = 0;
    prw_status st = work(b, di, rg, &done, err);
    prw__bd_give_decoder(b, di);
    if (slotted)
        slot_give(b);
    if (st == PRW_OK)
        atomic_fetch_add(&b->progress_done, done);
    return st;
}

typedef struct bd_tick {
    bd_build *b;
    const char *phase;
    int64_t total;
} bd_tick;

static void tick(void *arg) {
    bd_tick *t = arg;
    prw__bd_report(t->b, t->phase, atomic_load(&t->b->progress_done), t->total, false);
}

prw_status prw__bd_run_all(bd_build *b, prw__pool *pool, size_t n, prw__run_fn fn,
                           const char *phase, int64_t total, prw_error *err) {
    atomic_store(&b->progress_done, 0);
    bd_tick t = {b, phase, total};
    prw_status st = prw__pool_run_all(pool, n, fn, b, b->o->progress ? tick : NULL, &t, err);
    if (st < 0)
        prw__bd_fail(b, st, err);
    else if (atomic_load(&b->failed)) { /* a task's own subtask failed */
        if (err)
            *err = b->err;
        st = b->err_st;
    }
    if (st == PRW_OK && total > 0)
        prw__bd_report(b, phase, atomic_load(&b->progress_done), total, true);
    return st;
}
