/*
 * Thin pthread wrappers (a failing lock aborts, as in libuv: it means memory corruption), a
 * bounded blocking queue of pointers, and a fixed-size thread pool built on it. Workers
 * share only these queues; everything else hangs off per-worker contexts.
 */
#ifndef PRW_COMMON_THREAD_H
#define PRW_COMMON_THREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/common.h"

void prw__mutex_init(pthread_mutex_t *m);
void prw__mutex_lock(pthread_mutex_t *m);
void prw__mutex_unlock(pthread_mutex_t *m);
void prw__mutex_destroy(pthread_mutex_t *m);
void prw__cond_init(pthread_cond_t *c);
void prw__cond_wait(pthread_cond_t *c, pthread_mutex_t *m);
void prw__cond_signal(pthread_cond_t *c);
void prw__cond_broadcast(pthread_cond_t *c);
void prw__cond_destroy(pthread_cond_t *c);

/** CPUs this process may run on (its affinity mask; else the online ones), 1..1024. */
int prw__online_cpus(void);

/** A bounded multi-producer multi-consumer FIFO of pointers. */
typedef struct prw__queue prw__queue;

prw_status prw__queue_create(prw__queue **out, size_t capacity, prw_error *err);
/** Destroys the queue (NULL allowed). Items still queued are not freed. */
void prw__queue_destroy(prw__queue *q);
/** Blocks while full; returns false (item not queued) once the queue is closed. */
bool prw__queue_push(prw__queue *q, void *item);
/** Blocks while empty; returns false when the queue is closed and drained. */
bool prw__queue_pop(prw__queue *q, void **item);
/** Wakes every waiter; pushes fail from now on, pops drain what is left. */
void prw__queue_close(prw__queue *q);

/** A fixed set of worker threads running submitted tasks from a bounded queue. */
typedef struct prw__pool prw__pool;
typedef void (*prw__task_fn)(void *arg);

/**
 * Starts `nthreads` workers (≥ 1) with a queue of `queue_cap` pending tasks (0: 2 per
 * thread). Submitting into a full queue blocks, which bounds memory in flight.
 */
prw_status prw__pool_create(prw__pool **out, int nthreads, size_t queue_cap, prw_error *err);
/** Queues fn(arg); blocks while the queue is full. */
void prw__pool_submit(prw__pool *p, prw__task_fn fn, void *arg);
/** Waits until every task submitted so far has finished. */
void prw__pool_wait(prw__pool *p);
int prw__pool_threads(const prw__pool *p);
/** Waits for all tasks, stops the workers and frees the pool (NULL allowed). */
void prw__pool_destroy(prw__pool *p);

/** Task i of prw__pool_run_all: returns its status, its error in *err. */
typedef prw_status (*prw__run_fn)(void *ctx, size_t i, prw_error *err);
/**
 * Runs fn(ctx, i) for every i in [0, n) on the pool, in submission order, and waits for them
 * (and for any task they submitted). The first error wins: it is returned with its message,
 * and tasks not yet started are skipped. While waiting, tick(tick_ctx) runs on the calling
 * thread every 250 ms (tick may be NULL). Errors: the tasks', PRW_E_NOMEM.
 */
prw_status prw__pool_run_all(prw__pool *p, size_t n, prw__run_fn fn, void *ctx,
                             void (*tick)(void *tick_ctx), void *tick_ctx, prw_error *err);

#endif
