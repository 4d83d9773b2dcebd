/*
 * The engine's tasks on the pool: the first error wins (prw__bd_fail), per-row-group tasks
 * with a decoder from the free list, and whole phases run with progress reports.
 */
#include <stdatomic.h>
#include <time.h>

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

/* Waits for the pool while reporting progress of `phase` every 250 ms. */
static void wait_with_progress(bd_build *b, prw__pool *pool, const char *phase, int64_t total,
                               size_t *pending, pthread_mutex_t *mu, pthread_cond_t *cv) {
    if (b->o->progress) {
        prw__mutex_lock(mu);
        while (*pending > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 250 * 1000 * 1000;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(cv, mu, &ts);
            prw__mutex_unlock(mu);
            prw__bd_report(b, phase, atomic_load(&b->progress_done), total, false);
            prw__mutex_lock(mu);
        }
        prw__mutex_unlock(mu);
    }
    prw__pool_wait(pool);
    if (total > 0)
        prw__bd_report(b, phase, atomic_load(&b->progress_done), total, true);
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

void prw__bd_task_done(bd_task *t) {
    prw__mutex_lock(t->mu);
    (*t->pending)--;
    prw__cond_signal(t->cv);
    prw__mutex_unlock(t->mu);
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

/* The shape of every per-row-group task: unless the build already failed, take a decoder (and,
 * in the memory-bounded mode, a decode slot), run the work, record its error or progress. */
void prw__bd_rg_task(bd_task *t, bool slotted, bd_rg_work_fn work) {
    bd_build *b = t->b;
    if (!atomic_load(&b->failed)) {
        if (slotted)
            slot_take(b);
        size_t di = prw__bd_take_decoder(b);
        prw_error e;
        prw_error_clear(&e);
        int64_t done = 0;
        prw_status st = work(b, di, t->index, &done, &e);
        prw__bd_give_decoder(b, di);
        if (slotted)
            slot_give(b);
        if (st < 0)
            prw__bd_fail(b, st, &e);
        else
            atomic_fetch_add(&b->progress_done, done);
    }
    prw__bd_task_done(t);
}

/* Runs fn(index) for index in [0, n) on the pool, waiting with progress. */
prw_status prw__bd_run_all(bd_build *b, prw__pool *pool, size_t n, void (*fn)(void *),
                           const char *phase, int64_t total, prw_error *err) {
    bd_task *tasks = prw__calloc(n ? n : 1, sizeof *tasks);
    if (!tasks)
        return prw__error_nomem(err, "task list", n * sizeof *tasks);
    size_t pending = n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    prw__mutex_init(&mu);
    prw__cond_init(&cv);
    atomic_store(&b->progress_done, 0);
    for (size_t i = 0; i < n; i++) {
        tasks[i] = (bd_task){b, i, &pending, &mu, &cv};
        prw__pool_submit(pool, fn, &tasks[i]);
    }
    wait_with_progress(b, pool, phase, total, &pending, &mu, &cv);
    prw__mutex_destroy(&mu);
    prw__cond_destroy(&cv);
    prw__free(tasks);
    if (atomic_load(&b->failed)) {
        if (err)
            *err = b->err;
        return b->err_st;
    }
    return PRW_OK;
}
