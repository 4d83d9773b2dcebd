/* pthread wrappers, bounded queue and thread pool (see thread.h). */
#define _GNU_SOURCE /* sched_getaffinity */
#include <sched.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common/thread.h"

static void die(const char *what, int rc) {
    fprintf(stderr, "proberows: fatal: %s failed (%d)\n", what, rc);
    abort();
}

#define CHECKED(call, name)                                                                        \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != 0)                                                                              \
            die(name, rc_);                                                                        \
    } while (0)

void prw__mutex_init(pthread_mutex_t *m) {
    CHECKED(pthread_mutex_init(m, NULL), "pthread_mutex_init");
}
void prw__mutex_lock(pthread_mutex_t *m) {
    CHECKED(pthread_mutex_lock(m), "pthread_mutex_lock");
}
void prw__mutex_unlock(pthread_mutex_t *m) {
    CHECKED(pthread_mutex_unlock(m), "pthread_mutex_unlock");
}
void prw__mutex_destroy(pthread_mutex_t *m) {
    CHECKED(pthread_mutex_destroy(m), "pthread_mutex_destroy");
}
void prw__cond_init(pthread_cond_t *c) {
    CHECKED(pthread_cond_init(c, NULL), "pthread_cond_init");
}
void prw__cond_wait(pthread_cond_t *c, pthread_mutex_t *m) {
    CHECKED(pthread_cond_wait(c, m), "pthread_cond_wait");
}
void prw__cond_signal(pthread_cond_t *c) {
    CHECKED(pthread_cond_signal(c), "pthread_cond_signal");
}
void prw__cond_broadcast(pthread_cond_t *c) {
    CHECKED(pthread_cond_broadcast(c), "pthread_cond_broadcast");
}
void prw__cond_destroy(pthread_cond_t *c) {
    CHECKED(pthread_cond_destroy(c), "pthread_cond_destroy");
}

int prw__online_cpus(void) {
    /* The CPUs this process may run on (taskset, a Slurm step, a container's cpuset), else the
     * online ones. */
    cpu_set_t set;
    long n = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
    if (n < 1)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > 1024 ? 1024 : (int)n);
}

struct prw__queue {
    pthread_mutex_t mu;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    void **items;
    size_t cap, head, count;
    bool closed;
};

prw_status prw__queue_create(prw__queue **out, size_t capacity, prw_error *err) {
    *out = NULL;
    if (capacity == 0)
        capacity = 1;
    prw__queue *q = prw__calloc(1, sizeof *q);
    void **items = prw__malloc_array(capacity, sizeof(void *));
    if (!q || !items) {
        prw__free(q);
        prw__free(items);
        return prw__error_nomem(err, "a work queue", capacity * sizeof(void *));
    }
    q->items = items;
    q->cap = capacity;
    prw__mutex_init(&q->mu);
    prw__cond_init(&q->not_empty);
    prw__cond_init(&q->not_full);
    *out = q;
    return PRW_OK;
}

void prw__queue_destroy(prw__queue *q) {
    if (!q)
        return;
    prw__mutex_destroy(&q->mu);
    prw__cond_destroy(&q->not_empty);
    prw__cond_destroy(&q->not_full);
    prw__free(q->items);
    prw__free(q);
}

bool prw__queue_push(prw__queue *q, void *item) {
    prw__mutex_lock(&q->mu);
    while (q->count == q->cap && !q->closed)
        prw__cond_wait(&q->not_full, &q->mu);
    bool ok = !q->closed;
    if (ok) {
        q->items[(q->head + q->count) % q->cap] = item;
        q->count++;
        prw__cond_signal(&q->not_empty);
    }
    prw__mutex_unlock(&q->mu);
    return ok;
}

bool prw__queue_pop(prw__queue *q, void **item) {
    prw__mutex_lock(&q->mu);
    while (q->count == 0 && !q->closed)
        prw__cond_wait(&q->not_empty, &q->mu);
    bool ok = q->count > 0;
    if (ok) {
        *item = q->items[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
        prw__cond_signal(&q->not_full);
    }
    prw__mutex_unlock(&q->mu);
    return ok;
}

void prw__queue_close(prw__queue *q) {
    prw__mutex_lock(&q->mu);
    q->closed = true;
    prw__cond_broadcast(&q->not_empty);
    prw__cond_broadcast(&q->not_full);
    prw__mutex_unlock(&q->mu);
}

typedef struct pool_task {
    prw__task_fn fn;
    void *arg;
} pool_task;

struct prw__pool {
    prw__queue *queue;
    pthread_t *threads;
    int nthreads;
    pthread_mutex_t mu;
    pthread_cond_t idle;
    size_t pending;   /* submitted and not yet finished */
    pool_task *slots; /* ring of task records, one per queue slot plus one per thread */
    size_t nslots;
    size_t free_top;
    pool_task **free_list;
    pthread_cond_t slot_free;
};

static void *pool_main(void *arg) {
    prw__pool *p = arg;
    void *item;
    while (prw__queue_pop(p->queue, &item)) {
        pool_task *t = item;
        prw__task_fn fn = t->fn;
        void *targ = t->arg;
        prw__mutex_lock(&p->mu);
        p->free_list[p->free_top++] = t;
        prw__cond_signal(&p->slot_free);
        prw__mutex_unlock(&p->mu);
        fn(targ);
        prw__mutex_lock(&p->mu);
        if (--p->pending == 0)
            prw__cond_broadcast(&p->idle);
        prw__mutex_unlock(&p->mu);
    }
    return NULL;
}

prw_status prw__pool_create(prw__pool **out, int nthreads, size_t queue_cap, prw_error *err) {
    *out = NULL;
    if (nthreads < 1)
        nthreads = 1;
    if (queue_cap == 0)
        queue_cap = 2 * (size_t)nthreads;
    prw__pool *p = prw__calloc(1, sizeof *p);
    if (!p)
        return prw__error_nomem(err, "a thread pool", sizeof *p);
    p->nslots = queue_cap;
    p->slots = prw__calloc(p->nslots, sizeof *p->slots);
    p->free_list = prw__calloc(p->nslots, sizeof *p->free_list);
    p->threads = prw__calloc((size_t)nthreads, sizeof *p->threads);
    prw_status st = PRW_OK;
    if (!p->slots || !p->free_list || !p->threads) {
        st = prw__error_nomem(err, "a thread pool", p->nslots * sizeof *p->slots);
        goto fail;
    }
    st = prw__queue_create(&p->queue, queue_cap, err);
    if (st < 0)
        goto fail;
    for (size_t i = 0; i < p->nslots; i++)
        p->free_list[p->free_top++] = &p->slots[i];
    prw__mutex_init(&p->mu);
    prw__cond_init(&p->idle);
    prw__cond_init(&p->slot_free);
    for (int i = 0; i < nthreads; i++) {
        int rc = pthread_create(&p->threads[i], NULL, pool_main, p);
        if (rc != 0) {
            p->nthreads = i;
            prw__pool_destroy(p);
            return prw__error_sys(err, rc, "cannot start worker thread %d", i);
        }
        p->nthreads = i + 1;
    }
    *out = p;
    return PRW_OK;
fail:
    prw__queue_destroy(p->queue);
    prw__free(p->slots);
    prw__free(p->free_list);
    prw__free(p->threads);
    prw__free(p);
    return st;
}

void prw__pool_submit(prw__pool *p, prw__task_fn fn, void *arg) {
    prw__mutex_lock(&p->mu);
    while (p->free_top == 0)
        prw__cond_wait(&p->slot_free, &p->mu);
    pool_task *t = p->free_list[--p->free_top];
    p->pending++;
    prw__mutex_unlock(&p->mu);
    t->fn = fn;
    t->arg = arg;
    prw__queue_push(p->queue, t);
}

void prw__pool_wait(prw__pool *p) {
    prw__mutex_lock(&p->mu);
    while (p->pending > 0)
        prw__cond_wait(&p->idle, &p->mu);
    prw__mutex_unlock(&p->mu);
}

int prw__pool_threads(const prw__pool *p) {
    return p->nthreads;
}

void prw__pool_destroy(prw__pool *p) {
    if (!p)
        return;
    if (p->nthreads > 0)
        prw__pool_wait(p);
    prw__queue_close(p->queue);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    prw__queue_destroy(p->queue);
    prw__mutex_destroy(&p->mu);
    prw__cond_destroy(&p->idle);
    prw__cond_destroy(&p->slot_free);
    prw__free(p->slots);
    prw__free(p->free_list);
    prw__free(p->threads);
    prw__free(p);
}

/* ---- run N tasks, first error wins --------------------------------------------------------- */

typedef struct run_all {
    prw__run_fn fn;
    void *ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t pending;
    _Atomic int failed;
    prw_status st;
    prw_error err;
} run_all;

typedef struct run_all_task {
    run_all *r;
    size_t i;
} run_all_task;

static void run_one(void *arg) {
    run_all_task *t = arg;
    run_all *r = t->r;
    if (!atomic_load(&r->failed)) {
        prw_error e;
        prw_error_clear(&e);
        prw_status st = r->fn(r->ctx, t->i, &e);
        if (st < 0) {
            prw__mutex_lock(&r->mu);
            if (!atomic_load(&r->failed)) {
                r->st = st;
                r->err = e;
                atomic_store(&r->failed, 1);
            }
            prw__mutex_unlock(&r->mu);
        }
    }
    prw__mutex_lock(&r->mu);
    r->pending--;
    prw__cond_signal(&r->cv);
    prw__mutex_unlock(&r->mu);
}

/* Waits until every task of r ended, calling tick every 250 ms. */
static void run_all_wait(run_all *r, void (*tick)(void *), void *tick_ctx) {
    prw__mutex_lock(&r->mu);
    while (r->pending > 0) {
        if (!tick) {
            prw__cond_wait(&r->cv, &r->mu);
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
        prw__mutex_unlock(&r->mu);
        tick(tick_ctx);
        prw__mutex_lock(&r->mu);
    }
    prw__mutex_unlock(&r->mu);
}

prw_status prw__pool_run_all(prw__pool *p, size_t n, prw__run_fn fn, void *ctx,
                             void (*tick)(void *tick_ctx), void *tick_ctx, prw_error *err) {
    run_all_task *tasks = prw__calloc(n ? n : 1, sizeof *tasks);
    if (!tasks)
        return prw__error_nomem(err, "a task list", (n ? n : 1) * sizeof *tasks);
    run_all r = {.fn = fn, .ctx = ctx, .pending = n, .st = PRW_OK};
    prw__mutex_init(&r.mu);
    prw__cond_init(&r.cv);
    for (size_t i = 0; i < n; i++) {
        tasks[i] = (run_all_task){&r, i};
        prw__pool_submit(p, run_one, &tasks[i]);
    }
    run_all_wait(&r, tick, tick_ctx);
    prw__pool_wait(p); /* tasks the tasks submitted */
    prw__mutex_destroy(&r.mu);
    prw__cond_destroy(&r.cv);
    prw__free(tasks);
    if (r.st < 0 && err)
        *err = r.err;
    return r.st;
}
