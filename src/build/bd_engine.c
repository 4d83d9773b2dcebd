/*
 * `proberows build`: the in-memory pipeline (see pl_internal.h for the data flow).
 *
 * Phases and their parallelism:
 *   scan    open every footer, resolve columns                       (serial; footers are small)
 *   decode  one task per row group -> fixed-size rows, interned keys (all workers)
 *   group   rank probes by src_addr bytes; per-probe counts; key-range partitions balanced by
 *           rows; scatter rows into partitions keeping input order  (all workers, per row group)
 *   write   per partition: sort, cut, encode records (all workers, a bounded window of
 *           partitions); the calling thread hands records, in key order, to the ArrayRecord
 *           writers, whose chunk compression runs on their own pools.
 * Output goes to a hidden staging directory inside output_dir and is renamed into place only
 * when everything succeeded.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arrayrecord/ar_internal.h"
#include "common/codec.h"
#include "common/io.h"
#include "build/bd_internal.h"
#include "scaleout/so_run.h"
#include "proberows/arrayrecord.h"
#include "proberows/arrow_ipc.h"

#define DEFAULT_MAX_ROW_SIZE (8u << 20)
/* Room for output_dir (at most MAX_DIR bytes) plus the longest name written inside it. */
#define MAX_DIR 3800
#define PATH_BUF 4096

void prw_build_options_init(prw_build_options *o) {
    memset(o, 0, sizeof *o);
    o->max_row_size = DEFAULT_MAX_ROW_SIZE;
    o->train_ratio = 0.9;
    o->split = PRW_SPLIT_RATIO;
    o->null_rtt = PRW_NULL_RTT_KEEP;
    o->shards = 1;
}

/* One partition's encoded records, handed from a worker to the writing thread. */
typedef struct pl_part_out {
    prw__buf bytes; /* records back to back */
    prw__buf meta;  /* pl_rec_meta per record */
    int64_t probes_cut;
    bool done;
} pl_part_out;

typedef struct pl_rec_meta {
    uint64_t len;
    uint32_t rank;
    int32_t n_measurements;
} pl_rec_meta;

/* A spilling worker's own per-probe sums (no shared atomics in the row loop). */
typedef struct pl_probe_acc {
    uint64_t rows, bytes;
} pl_probe_acc;

/* Rows [start, start + n) of a row group's decoded rows: the unit of the in-memory group
 * phase, so that one large row group still keeps every worker busy. */
typedef struct pl_slice {
    prw__pl_row *rows;
    size_t n;
} pl_slice;

#define SLICE_ROWS 65536

/* Per-worker scratch for grouping and encoding. */
typedef struct pl_scratch {
    prw__pl_row *tmp;
    size_t tmp_cap;
    size_t *starts;
    size_t starts_cap;
    int64_t *t;
    int64_t *dst_off;
    uint8_t *dst_valid, *ipv_valid, *rtt_valid;
    int8_t *ipv;
    float *rtt;
    uint32_t *nd, *ni, *nr; /* prefix null counts */
    size_t cols_cap;
    prw__buf dst_bytes;
    prw__buf rec;              /* one outer record, when records are compressed here */
    prw_ar_chunk_encoder *enc; /* group_size 1: each record becomes a finished chunk here */
    /* Spill mode: a partition read back from the run files. Once grouped (and in memory
     * always): the merge space of the time sort. */
    prw__pl_row *load;
    size_t load_cap;
    prw__pl_seg *segs; /* a partition's slices of the row groups */
    size_t segs_cap;
    prw__codec_ctx *cc; /* spill mode: run-file codec state */
    prw__buf io;        /* spill mode: run-file block scratch */
    prw__run_cursor rc; /* reduce: the map tasks' run files */
} pl_scratch;

typedef struct pl_build {
    const prw_build_options *o;
    prw_build_stats *stats;
    int workers;
    double t0;
    uint64_t max_row;

    prw__pl_source *src;
    size_t nrg;
    prw_ar_options ar;      /* writer options */
    bool chunked;           /* group_size 1: workers compress records into finished chunks */
    prw__pl_decoded *dec;   /* per row group */
    struct pl_split *split; /* per row group, when its columns are decoded in two halves */
    prw__pl_decoder **decoders;
    size_t ndecoders;
    pthread_mutex_t pool_mu; /* guards the free lists of decoders and scratch */
    size_t *free_dec;
    size_t nfree_dec;
    prw__pool *pool;
    pl_scratch *scratch;
    size_t *free_scratch;
    size_t nfree_scratch;

    prw__intern src_tab, dst_tab;
    uint32_t n_probes;
    uint32_t *rank;    /* by src intern id */
    uint32_t *by_rank; /* src intern id by rank */
    uint64_t *probe_rows;
    uint64_t *probe_bytes; /* estimated record bytes, for balancing shards */
    int64_t *src_id;       /* by rank */
    uint8_t *probe_split;  /* by rank: 0 train, 1 test */
    uint32_t *probe_shard; /* by rank */
    uint32_t *probe_part;  /* by rank: its key-range partition */

    size_t nparts;
    size_t part_max_rows; /* in-memory mode: rows of the largest partition */
    uint32_t *part_key;   /* nparts + 1 rank bounds */
    pl_slice *slices;     /* the decoded rows cut into slices of at most SLICE_ROWS */
    size_t nslices;
    size_t *slice_part_off; /* nslices * (nparts + 1): where p starts in the slice */
    size_t *part_start;     /* nparts + 1: rows of the partitions before p */
    size_t nrows;
    prw__pl_row **slicebufs; /* scatter buffers of SLICE_ROWS rows free for a task (pool_mu) */
    size_t nslicebufs;

    pl_part_out *parts;
    prw__buf *spare; /* output buffers of written partitions, reused (no fresh page faults) */
    size_t nspare, spare_cap;
    size_t spare_max; /* capacity above which a written buffer is freed, not kept */
    pthread_mutex_t done_mu;
    pthread_cond_t done_cv;

    /* The memory-bounded mode (docs/MEMORY.md). */
    uint64_t limit;
    bool spill_mode;
    prw__spill *spill;
    prw__pl_keymap *keymap; /* src_addr -> rank, after the key pass */
    char spill_dir[PATH_BUF];
    int spill_slot, stage_slot;
    uint64_t *key_rows; /* by src intern id (key pass), then by rank */
    size_t key_rows_cap;
    uint8_t *part_big; /* by partition: one probe, merged from time-sorted runs */
    size_t *part_n;    /* by partition: rows spilled */
    size_t slots_free; /* row groups that may be decoded at once */
    pthread_mutex_t slot_mu;
    pthread_cond_t slot_cv;
    size_t **wcount;          /* by decoder: rows per partition of its row group */
    prw__pl_row **wrows;      /* by decoder: the row group scattered by partition */
    pl_probe_acc **wprobe;    /* by decoder (rank_rows: by task): rows and estimated bytes */
    _Atomic size_t rank_next; /* the next slice (rank_rows) or block of ranks to claim */
    size_t *wrows_cap;
    prw__codec_ctx **wcc;    /* by decoder */
    prw__buf *wbuf;          /* by decoder */
    pl_scratch main_scratch; /* the writing thread's, for merged probes */
    size_t block_rows, window;
    uint64_t rg_cost; /* bytes one row group in flight needs */
    uint32_t last_rank;

    pthread_mutex_t err_mu;
    _Atomic int failed;
    prw_status err_st;
    prw_error err;
    _Atomic int64_t progress_done;

    /* Scale-out (scaleout.h): shards are the plan's key ranges. */
    const uint32_t *bounds;   /* shards + 1 global rank bounds, or NULL */
    uint32_t rank_base;       /* global rank of local rank 0 (a reduce task's range) */
    int64_t n_train;          /* the plan's ratio cut, or -1 */
    int only_shard;           /* a reduce task writes this shard alone, or -1 */
    prw__plan *plan;          /* build --plan */
    const prw__run_set *runs; /* a reduce task's rows, read part by part */
} pl_build;

/* ---- errors and progress -------------------------------------------------------------------- */

static void record_error(pl_build *b, prw_status st, const prw_error *e) {
    prw__mutex_lock(&b->err_mu);
    if (!atomic_load(&b->failed)) {
        b->err_st = st;
        b->err = *e;
        atomic_store(&b->failed, 1);
    }
    prw__mutex_unlock(&b->err_mu);
}

static void report(pl_build *b, const char *phase, int64_t done, int64_t total, bool end) {
    if (!b->o->progress)
        return;
    prw_build_progress p = {phase, done, total, prw__now() - b->t0, end};
    b->o->progress(b->o->progress_ctx, &p);
}

/* Waits for the pool while reporting progress of `phase` every 250 ms. */
static void wait_with_progress(pl_build *b, prw__pool *pool, const char *phase, int64_t total,
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
            report(b, phase, atomic_load(&b->progress_done), total, false);
            prw__mutex_lock(mu);
        }
        prw__mutex_unlock(mu);
    }
    prw__pool_wait(pool);
    if (total > 0)
        report(b, phase, atomic_load(&b->progress_done), total, true);
}

/* ---- phase: decode ------------------------------------------------------------------------ */

typedef struct pl_task {
    pl_build *b;
    size_t index;
    size_t *pending;
    pthread_mutex_t *mu;
    pthread_cond_t *cv;
} pl_task;

static size_t take_decoder(pl_build *b) {
    prw__mutex_lock(&b->pool_mu);
    size_t i = b->free_dec[--b->nfree_dec];
    prw__mutex_unlock(&b->pool_mu);
    return i;
}

static void give_decoder(pl_build *b, size_t i) {
    prw__mutex_lock(&b->pool_mu);
    b->free_dec[b->nfree_dec++] = i;
    prw__mutex_unlock(&b->pool_mu);
}

static void task_done(pl_task *t) {
    prw__mutex_lock(t->mu);
    (*t->pending)--;
    prw__cond_signal(t->cv);
    prw__mutex_unlock(t->mu);
}

static void slot_take(pl_build *b) {
    prw__mutex_lock(&b->slot_mu);
    while (b->slots_free == 0)
        prw__cond_wait(&b->slot_cv, &b->slot_mu);
    b->slots_free--;
    prw__mutex_unlock(&b->slot_mu);
}

static void slot_give(pl_build *b) {
    prw__mutex_lock(&b->slot_mu);
    b->slots_free++;
    prw__cond_signal(&b->slot_cv);
    prw__mutex_unlock(&b->slot_mu);
}

/* Work on row group `rg` with decoder `di`; *done = progress units. */
typedef prw_status (*rg_work_fn)(pl_build *b, size_t di, size_t rg, int64_t *done, prw_error *err);

/* The shape of every per-row-group task: unless the build already failed, take a decoder (and,
 * in the memory-bounded mode, a decode slot), run the work, record its error or progress. */
static void rg_task(pl_task *t, bool slotted, rg_work_fn work) {
    pl_build *b = t->b;
    if (!atomic_load(&b->failed)) {
        if (slotted)
            slot_take(b);
        size_t di = take_decoder(b);
        prw_error e;
        prw_error_clear(&e);
        int64_t done = 0;
        prw_status st = work(b, di, t->index, &done, &e);
        give_decoder(b, di);
        if (slotted)
            slot_give(b);
        if (st < 0)
            record_error(b, st, &e);
        else
            atomic_fetch_add(&b->progress_done, done);
    }
    task_done(t);
}

static prw_status decode_work(pl_build *b, size_t di, size_t rg, int64_t *done, prw_error *err) {
    *done = prw__pl_source_rg_rows(b->src, rg);
    return prw__pl_decode_rg(b->decoders[di], rg, &b->src_tab, &b->dst_tab, b->o->null_rtt,
                             &b->dec[rg], err);
}

static void decode_task(void *arg) {
    rg_task(arg, false, decode_work);
}

#define SPLIT_NONE SIZE_MAX
#define SPLIT_FAILED (SIZE_MAX - 1)
/* Fewer rows than this are built by one worker. */
#define SPLIT_MIN_ROWS 65536

/* A row group decoded in halves (fewer row groups than workers: S is one). */
typedef struct pl_split {
    size_t first;     /* the decoder of the half done first, SPLIT_NONE or SPLIT_FAILED */
    size_t num, str;  /* the decoders holding the numeric and the string columns */
    size_t mid;       /* rows [0, mid) and [mid, n) are built by two workers */
    _Atomic int left; /* row halves still being built */
    pl_task sub;      /* the task building [mid, n) */
    prw__pl_decoded half[2];
    prw_status st[2];
    prw_error err[2];
} pl_split;

/* A half of row group rg's rows is built: the second to finish joins them (the second half's
 * rows move down behind the first's when rows were dropped), frees both decoders and reports. */
static void split_half_done(pl_build *b, size_t rg) {
    pl_split *sp = &b->split[rg];
    if (atomic_fetch_sub(&sp->left, 1) != 1)
        return;
    prw__pl_decoded *d = &b->dec[rg], *x = &sp->half[0], *y = &sp->half[1];
    int bad = sp->st[0] < 0 ? 0 : sp->st[1] < 0 ? 1 : -1;
    if (bad < 0) {
        memmove(d->rows + x->n, y->rows, y->n * sizeof *d->rows);
        d->n = x->n + y->n;
        d->dropped_null_src = x->dropped_null_src + y->dropped_null_src;
        d->dropped_null_time = x->dropped_null_time + y->dropped_null_time;
        d->dropped_null_rtt = x->dropped_null_rtt + y->dropped_null_rtt;
        d->null_rtt_kept = x->null_rtt_kept + y->null_rtt_kept;
        d->null_rtt_failed = x->null_rtt_failed + y->null_rtt_failed;
        atomic_fetch_add(&b->progress_done, prw__pl_source_rg_rows(b->src, rg));
    } else {
        record_error(b, sp->st[bad], &sp->err[bad]);
    }
    give_decoder(b, sp->num);
    give_decoder(b, sp->str);
}

/* Builds rows [mid, n) of row group `index` (split_decode_task's other half). */
static void split_rows_task(void *arg) {
    pl_task *t = arg;
    pl_build *b = t->b;
    pl_split *sp = &b->split[t->index];
    size_t n = (size_t)prw__pl_source_rg_rows(b->src, t->index);
    sp->st[1] = prw__pl_assemble_rows(b->decoders[sp->num], b->decoders[sp->str], t->index, sp->mid,
                                      n, b->o->null_rtt, &sp->half[1], &sp->err[1]);
    split_half_done(b, t->index);
}

/* Both halves of row group rg's columns are decoded (num, str: their decoders): builds its
 * rows, the second half on another worker when there are enough of them. */
static void split_build_rows(pl_build *b, size_t rg, size_t num, size_t str) {
    pl_split *sp = &b->split[rg];
    size_t n = (size_t)prw__pl_source_rg_rows(b->src, rg);
    prw__pl_decoded *d = &b->dec[rg];
    sp->num = num;
    sp->str = str;
    d->rows = prw__malloc_array(n ? n : 1, sizeof *d->rows);
    if (!d->rows) {
        prw_error e;
        record_error(b, prw__error_nomem(&e, "decoded rows", n * sizeof *d->rows), &e);
        give_decoder(b, num);
        give_decoder(b, str);
        return;
    }
    sp->mid = n >= SPLIT_MIN_ROWS && prw__pool_threads(b->pool) > 1 ? n / 2 : n;
    sp->half[0].rows = d->rows;
    sp->half[1].rows = d->rows + sp->mid;
    sp->st[1] = PRW_OK;
    atomic_store(&sp->left, sp->mid < n ? 2 : 1);
    if (sp->mid < n) {
        sp->sub = (pl_task){b, rg, NULL, NULL, NULL};
        prw__pool_submit(b->pool, split_rows_task, &sp->sub);
    }
    sp->st[0] = prw__pl_assemble_rows(b->decoders[num], b->decoders[str], rg, 0, sp->mid,
                                      b->o->null_rtt, &sp->half[0], &sp->err[0]);
    split_half_done(b, rg);
}

/* Task 2g + h decodes half h of row group g's columns. The half done first keeps its decoder;
 * the second builds the rows from both (split_build_rows). */
static void split_decode_task(void *arg) {
    pl_task *t = arg;
    pl_build *b = t->b;
    size_t rg = t->index / 2;
    bool str = t->index % 2;
    if (!atomic_load(&b->failed)) {
        size_t di = take_decoder(b);
        prw_error e;
        prw_error_clear(&e);
        prw_status st =
            prw__pl_decode_cols(b->decoders[di], rg, str ? PRW_PL_COLS_STR : PRW_PL_COLS_NUM,
                                &b->src_tab, &b->dst_tab, &e);
        prw__mutex_lock(&b->pool_mu);
        size_t other = b->split[rg].first;
        if (other == SPLIT_NONE)
            b->split[rg].first = st < 0 ? SPLIT_FAILED : di;
        prw__mutex_unlock(&b->pool_mu);
        if (other != SPLIT_NONE && st == PRW_OK && other != SPLIT_FAILED) {
            split_build_rows(b, rg, str ? other : di, str ? di : other);
        } else if (other != SPLIT_NONE || st < 0) {
            if (other != SPLIT_NONE && other != SPLIT_FAILED)
                give_decoder(b, other);
            give_decoder(b, di);
        }
        if (st < 0)
            record_error(b, st, &e);
    }
    task_done(t);
}

/* Runs fn(index) for index in [0, n) on the pool, waiting with progress. */
static prw_status run_all(pl_build *b, prw__pool *pool, size_t n, void (*fn)(void *),
                          const char *phase, int64_t total, prw_error *err) {
    pl_task *tasks = prw__calloc(n ? n : 1, sizeof *tasks);
    if (!tasks)
        return prw__error_nomem(err, "task list", n * sizeof *tasks);
    size_t pending = n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    prw__mutex_init(&mu);
    prw__cond_init(&cv);
    atomic_store(&b->progress_done, 0);
    for (size_t i = 0; i < n; i++) {
        tasks[i] = (pl_task){b, i, &pending, &mu, &cv};
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

/* ---- phase: group ------------------------------------------------------------------------- */

/* On every pool thread: src_id (an MD5) of the probes in the blocks of ranks it claims. */
static void src_id_task(void *arg) {
    pl_task *t = arg;
    pl_build *b = t->b;
    enum { BLOCK = 1024 };
    for (size_t r0; (r0 = atomic_fetch_add(&b->rank_next, BLOCK)) < b->n_probes;)
        for (size_t r = r0; r < r0 + BLOCK && r < b->n_probes; r++) {
            uint32_t id = b->by_rank[r];
            b->src_id[r] =
                prw__pl_src_id(prw__intern_ptr(&b->src_tab, id), prw__intern_len(&b->src_tab, id));
        }
    task_done(t);
}

/* Probe ranks: src_addr in byte order (memcmp, a proper prefix first), DuckDB's ORDER BY
 * src_addr; and each probe's src_id. */
static prw_status rank_probes(pl_build *b, prw__pool *pool, prw_error *err) {
    uint32_t n = (uint32_t)b->src_tab.n;
    b->n_probes = n;
    size_t cnt = n ? n : 1;
    b->rank = prw__malloc_array(cnt, sizeof *b->rank);
    b->by_rank = prw__malloc_array(cnt, sizeof *b->by_rank);
    b->probe_rows = prw__calloc(cnt, sizeof *b->probe_rows);
    b->probe_bytes = prw__calloc(cnt, sizeof *b->probe_bytes);
    b->src_id = prw__malloc_array(cnt, sizeof *b->src_id);
    b->probe_split = prw__calloc(cnt, 1);
    b->probe_shard = prw__calloc(cnt, sizeof *b->probe_shard);
    b->probe_part = prw__calloc(cnt, sizeof *b->probe_part);
    if (!b->rank || !b->by_rank || !b->probe_rows || !b->probe_bytes || !b->src_id ||
        !b->probe_split || !b->probe_shard || !b->probe_part)
        return prw__error_nomem(err, "probe tables", (size_t)n * 40);
    PRW_TRY(prw__intern_sort(&b->src_tab, b->by_rank, err));
    for (uint32_t r = 0; r < n; r++)
        b->rank[b->by_rank[r]] = r;
    atomic_store(&b->rank_next, 0);
    return run_all(b, pool, (size_t)prw__pool_threads(pool), src_id_task, "group", 0, err);
}

/* Adds the first n per-slot probe sums (wprobe) into probe_rows and probe_bytes. */
static void add_probe_sums(pl_build *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        for (uint32_t r = 0; r < b->n_probes; r++) {
            b->probe_rows[r] += b->wprobe[i][r].rows;
            b->probe_bytes[r] += b->wprobe[i][r].bytes;
        }
}

/* Completes the record-size estimate of probes [r0, r1), whose probe_bytes hold their rows'
 * own bytes so far: each row also repeats src_addr (4 + its length), and each record has
 * ~2 KiB of Arrow framing. */
static void add_src_estimate(pl_build *b, uint32_t r0, uint32_t r1) {
    for (uint32_t r = r0; r < r1; r++)
        b->probe_bytes[r] +=
            b->probe_rows[r] * (4 + prw__intern_len(&b->src_tab, b->by_rank[r])) + 2048;
}

/* Pass 1, task `index` of one per pool thread: for the slices it claims, key := probe rank,
 * and per-probe rows and estimated bytes in its own sums wprobe[index] (no shared atomics in
 * the row loop). */
static void rank_task(void *arg) {
    pl_task *t = arg;
    pl_build *b = t->b;
    pl_probe_acc *acc = b->wprobe[t->index];
    const uint64_t *doffs = b->dst_tab.offs; /* decoding is over: the table no longer moves */
    for (size_t g; (g = atomic_fetch_add(&b->rank_next, 1)) < b->nslices;) {
        const pl_slice *sl = &b->slices[g];
        for (size_t i = 0; i < sl->n; i++) {
            prw__pl_row *r = &sl->rows[i];
            uint32_t k = b->rank[r->key];
            r->key = k;
            acc[k].rows++;
            acc[k].bytes += 28 + (r->dst == PRW_PL_NULL_ID ? 0 : doffs[r->dst + 1] - doffs[r->dst]);
        }
    }
    task_done(t);
}

/* rank_task on every pool thread, then their sums into probe_rows/bytes. */
static prw_status rank_rows(pl_build *b, prw__pool *pool, prw_error *err) {
    int threads = prw__pool_threads(pool);
    size_t n = threads > 1 ? (size_t)threads : 1, np = b->n_probes ? b->n_probes : 1;
    b->wprobe = prw__calloc(n, sizeof *b->wprobe);
    prw_status st = b->wprobe ? PRW_OK : prw__error_nomem(err, "probe sums", n * 8);
    for (size_t i = 0; i < n && st == PRW_OK; i++)
        if (!(b->wprobe[i] = prw__calloc(np, sizeof **b->wprobe)))
            st = prw__error_nomem(err, "probe sums", np * sizeof **b->wprobe);
    atomic_store(&b->rank_next, 0);
    if (st == PRW_OK)
        st = run_all(b, pool, n, rank_task, "group", 0, err);
    if (st == PRW_OK)
        add_probe_sums(b, n);
    for (size_t i = 0; i < n && b->wprobe; i++)
        prw__free(b->wprobe[i]);
    prw__free(b->wprobe);
    b->wprobe = NULL;
    return st;
}

static void split_and_shards(pl_build *b) {
    const prw_build_options *o = b->o;
    int64_t n_train =
        b->n_train >= 0 ? b->n_train : prw__pl_ratio_train_count(b->n_probes, o->train_ratio);
    int64_t num = 0, den = 1;
    prw__pl_ratio_fraction(o->train_ratio, &num, &den);
    uint64_t total[2] = {0, 0};
    for (uint32_t r = 0; r < b->n_probes; r++) {
        bool train = o->split == PRW_SPLIT_RATIO ? (int64_t)(b->rank_base + r) < n_train
                                                 : b->src_id[r] % den < num;
        b->probe_split[r] = train ? 0 : 1;
        total[b->probe_split[r]] += b->probe_bytes[r];
    }
    if (b->bounds) { /* the plan's key ranges are the shards */
        uint32_t k = 0;
        for (uint32_t r = 0; r < b->n_probes; r++) {
            while (b->rank_base + r >= b->bounds[k + 1])
                k++;
            b->probe_shard[r] = k;
        }
        return;
    }
    /* Shards: contiguous runs of each split's probes, balanced by estimated bytes. */
    int shards = o->shards > 1 ? o->shards : 1;
    uint64_t acc[2] = {0, 0};
    for (uint32_t r = 0; r < b->n_probes; r++) {
        int s = b->probe_split[r];
        uint64_t mid = acc[s] + b->probe_bytes[r] / 2;
        uint64_t k = total[s] ? (uint64_t)((double)mid * shards / (double)total[s]) : 0;
        b->probe_shard[r] = (uint32_t)(k >= (uint64_t)shards ? (uint64_t)shards - 1 : k);
        acc[s] += b->probe_bytes[r];
    }
}

static prw_status make_partitions(pl_build *b, prw_error *err) {
    /* About 64 partitions per worker: the last ones to finish leave a worker idle for at most
     * one partition's time (S: 4096 rows, ~3 ms). */
    size_t target = b->nrows / ((size_t)b->workers * 64) + 1;
    if (target < 4096)
        target = 4096;
    if (target > (1u << 20))
        target = 1u << 20;
    size_t maxp = b->nrows / target + 2;
    b->part_key = prw__malloc_array(maxp + 1, sizeof *b->part_key);
    if (!b->part_key)
        return prw__error_nomem(err, "partitions", maxp * 4);
    size_t np = 0, acc = 0;
    b->part_key[0] = 0;
    b->part_max_rows = 0;
    for (uint32_t r = 0; r < b->n_probes; r++) {
        acc += b->probe_rows[r];
        if (acc >= target && r + 1 < b->n_probes && np + 1 < maxp) {
            b->part_key[++np] = r + 1;
            b->part_max_rows = acc > b->part_max_rows ? acc : b->part_max_rows;
            acc = 0;
        }
    }
    b->part_key[++np] = b->n_probes;
    b->part_max_rows = acc > b->part_max_rows ? acc : b->part_max_rows;
    b->nparts = np;
    return PRW_OK;
}

/* Pass 2 per slice: reorders its rows by partition (input order kept inside each) through a
 * cache-sized buffer, in place, so the grouped rows take no memory of their own.
 * slice_part_off then holds where each partition starts in the slice. */
static void scatter_task(void *arg) {
    pl_task *t = arg;
    pl_build *b = t->b;
    const pl_slice *sl = &b->slices[t->index];
    size_t np = b->nparts;
    size_t *off = b->slice_part_off + t->index * (np + 1);
    prw__mutex_lock(&b->pool_mu);
    prw__pl_row *tmp = b->nslicebufs ? b->slicebufs[--b->nslicebufs] : NULL;
    prw__mutex_unlock(&b->pool_mu);
    if (!tmp && !(tmp = prw__malloc_array(SLICE_ROWS, sizeof *tmp))) {
        prw_error e;
        record_error(b, prw__error_nomem(&e, "a scatter buffer", SLICE_ROWS * sizeof *tmp), &e);
        task_done(t);
        return;
    }
    memset(off, 0, (np + 1) * sizeof *off);
    for (size_t i = 0; i < sl->n; i++)
        off[b->probe_part[sl->rows[i].key] + 1]++;
    for (size_t p = 0; p < np; p++)
        off[p + 1] += off[p];
    for (size_t i = 0; i < sl->n; i++) {
        const prw__pl_row *r = &sl->rows[i];
        tmp[off[b->probe_part[r->key]]++] = *r;
    }
    for (size_t p = np; p > 0; p--) /* off[p] ended at the start of p + 1 */
        off[p] = off[p - 1];
    off[0] = 0;
    memcpy(sl->rows, tmp, sl->n * sizeof *tmp);
    prw__mutex_lock(&b->pool_mu);
    b->slicebufs[b->nslicebufs++] = tmp;
    prw__mutex_unlock(&b->pool_mu);
    task_done(t);
}

/* Cuts the decoded rows into slices. */
static prw_status make_slices(pl_build *b, prw_error *err) {
    size_t n = 0;
    for (size_t g = 0; g < b->nrg; g++)
        n += (b->dec[g].n + SLICE_ROWS - 1) / SLICE_ROWS;
    b->slices = prw__malloc_array(n ? n : 1, sizeof *b->slices);
    b->slicebufs = prw__calloc(n + 1, sizeof *b->slicebufs);
    if (!b->slices || !b->slicebufs)
        return prw__error_nomem(err, "row slices", n * sizeof *b->slices);
    b->nslices = 0;
    for (size_t g = 0; g < b->nrg; g++)
        for (size_t i = 0; i < b->dec[g].n; i += SLICE_ROWS) {
            size_t k = b->dec[g].n - i < SLICE_ROWS ? b->dec[g].n - i : SLICE_ROWS;
            b->slices[b->nslices++] = (pl_slice){b->dec[g].rows + i, k};
        }
    return PRW_OK;
}

/* build --plan: the inputs must hold exactly the plan's probes (its ranks and ranges). */
static prw_status check_plan_probes(pl_build *b, prw_error *err) {
    if (!b->plan)
        return PRW_OK;
    uint64_t h = PRW_FNV1A64_INIT;
    for (uint32_t r = 0; r < b->n_probes; r++)
        h = prw__plan_probe_hash(h, prw__intern_ptr(&b->src_tab, b->by_rank[r]),
                                 prw__intern_len(&b->src_tab, b->by_rank[r]));
    PRW_CHECK(b->n_probes == b->plan->n_probes && h == b->plan->probes_hash, err, PRW_E_CORRUPT, -1,
              "the inputs hold %u probes, the plan %u (or other ones): the inputs changed since "
              "planning",
              b->n_probes, b->plan->n_probes);
    return PRW_OK;
}

static prw_status group_phase(pl_build *b, prw__pool *pool, prw_error *err) {
    PRW_TRY(rank_probes(b, pool, err));
    PRW_TRY(check_plan_probes(b, err));
    PRW_TRY(make_slices(b, err));
    PRW_TRY(rank_rows(b, pool, err));
    b->nrows = 0;
    for (size_t g = 0; g < b->nrg; g++)
        b->nrows += b->dec[g].n;
    add_src_estimate(b, 0, b->n_probes);
    PRW_TRY(make_partitions(b, err));
    for (size_t p = 0; p < b->nparts; p++)
        for (uint32_t r = b->part_key[p]; r < b->part_key[p + 1]; r++)
            b->probe_part[r] = (uint32_t)p;
    size_t np1 = b->nparts + 1;
    b->slice_part_off = prw__malloc_array(b->nslices * np1 + 1, sizeof *b->slice_part_off);
    b->part_start = prw__calloc(np1, sizeof *b->part_start);
    if (!b->slice_part_off || !b->part_start)
        return prw__error_nomem(err, "partition offsets",
                                b->nslices * np1 * sizeof *b->slice_part_off);
    prw_status st = run_all(b, pool, b->nslices, scatter_task, "group", 0, err);
    for (size_t i = 0; i < b->nslicebufs; i++)
        prw__free(b->slicebufs[i]);
    b->nslicebufs = 0;
    PRW_TRY(st);
    for (size_t g = 0; g < b->nslices; g++) {
        const size_t *off = b->slice_part_off + g * np1;
        for (size_t p = 0; p < b->nparts; p++)
            b->part_start[p + 1] += off[p + 1] - off[p];
    }
    for (size_t p = 0; p < b->nparts; p++)
        b->part_start[p + 1] += b->part_start[p];
    split_and_shards(b);
    report(b, "group", (int64_t)b->nrows, (int64_t)b->nrows, true);
    return PRW_OK;
}

/* ---- phase: encode and write ---------------------------------------------------------------- */

static prw_status scratch_reserve(pl_scratch *s, size_t rows, size_t nkeys, size_t nsegs,
                                  prw_error *err) {
    PRW_TRY(prw__reserve_array((void **)&s->segs, &s->segs_cap, nsegs, sizeof *s->segs,
                               "partition slices", err));
    PRW_TRY(prw__reserve_array((void **)&s->tmp, &s->tmp_cap, rows, sizeof *s->tmp, "sort buffer",
                               err));
    return prw__reserve_array((void **)&s->starts, &s->starts_cap, (size_t)nkeys + 1,
                              sizeof *s->starts, "group offsets", err);
}

static void scratch_free_cols(pl_scratch *s) {
    prw__free(s->t);
    prw__free(s->dst_off);
    prw__free(s->dst_valid);
    prw__free(s->ipv_valid);
    prw__free(s->rtt_valid);
    prw__free(s->ipv);
    prw__free(s->rtt);
    prw__free(s->nd);
    prw__free(s->ni);
    prw__free(s->nr);
    s->t = NULL;
    s->dst_off = NULL;
    s->dst_valid = s->ipv_valid = s->rtt_valid = NULL;
    s->ipv = NULL;
    s->rtt = NULL;
    s->nd = s->ni = s->nr = NULL;
    s->cols_cap = 0;
}

static prw_status scratch_cols(pl_scratch *s, size_t n, prw_error *err) {
    if (n + 1 <= s->cols_cap)
        return PRW_OK;
    scratch_free_cols(s);
    size_t cap = n + 1 < 1024 ? 1024 : n + 1;
    s->t = prw__malloc_array(cap, sizeof *s->t);
    s->dst_off = prw__malloc_array(cap, sizeof *s->dst_off);
    s->dst_valid = prw__malloc(cap);
    s->ipv_valid = prw__malloc(cap);
    s->rtt_valid = prw__malloc(cap);
    s->ipv = prw__malloc(cap);
    s->rtt = prw__malloc_array(cap, sizeof *s->rtt);
    s->nd = prw__malloc_array(cap, sizeof *s->nd);
    s->ni = prw__malloc_array(cap, sizeof *s->ni);
    s->nr = prw__malloc_array(cap, sizeof *s->nr);
    if (!s->t || !s->dst_off || !s->dst_valid || !s->ipv_valid || !s->rtt_valid || !s->ipv ||
        !s->rtt || !s->nd || !s->ni || !s->nr) {
        scratch_free_cols(s);
        return prw__error_nomem(err, "probe columns", cap * 48);
    }
    s->cols_cap = cap;
    return PRW_OK;
}

static void scratch_cleanup(pl_scratch *s) {
    prw__run_cursor_cleanup(&s->rc);
    prw__free(s->load);
    prw__codec_ctx_destroy(s->cc);
    prw__buf_cleanup(&s->io);
    prw__free(s->tmp);
    prw__free(s->starts);
    prw__free(s->segs);
    scratch_free_cols(s);
    prw__buf_cleanup(&s->dst_bytes);
    prw__buf_cleanup(&s->rec);
    prw_ar_chunk_encoder_destroy(s->enc);
    memset(s, 0, sizeof *s);
}

/* Exact inner-stream size of rows [i, j) of the probe in scratch. */
static uint64_t piece_size(const pl_scratch *s, size_t src_len, size_t i, size_t j) {
    prw_ipc_inner_counts c = {0};
    c.rows = (int64_t)(j - i);
    c.src_bytes = (int64_t)(src_len * (j - i));
    c.dst_bytes = s->dst_off[j] - s->dst_off[i];
    c.null_dst = s->nd[j] - s->nd[i];
    c.null_ip_version = s->ni[j] - s->ni[i];
    c.null_rtt = s->nr[j] - s->nr[i];
    return prw_ipc_stream_size(&c);
}

/* Longest j in (i, n] with piece_size(i, j) <= limit; at least i + 1. */
static size_t cut_end(const pl_scratch *s, size_t src_len, size_t i, size_t n, uint64_t limit) {
    if (piece_size(s, src_len, i, n) <= limit)
        return n;
    size_t lo = i + 1, hi = n; /* size(lo) may exceed the limit: a single row always goes */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (piece_size(s, src_len, i, mid) <= limit)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/*
 * Encodes rows[0..n) of one probe (time-sorted) as greedy maximal pieces into out. With
 * `final` false more rows follow: a piece is emitted only when a row beyond it shows where
 * it ends, so a stream cut window by window gives the same pieces as the whole run.
 * *consumed receives the rows emitted; *pieces counts pieces across calls.
 */
static prw_status encode_probe(pl_build *b, pl_scratch *s, uint32_t rank, const prw__pl_row *rows,
                               size_t n, bool final, size_t *consumed, size_t *pieces,
                               pl_part_out *out, prw_error *err) {
    PRW_TRY(scratch_cols(s, n, err));
    prw__buf_clear(&s->dst_bytes);
    const prw__intern *dt = &b->dst_tab;
    size_t dst_total = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].dst != PRW_PL_NULL_ID)
            dst_total += prw__intern_len(dt, rows[i].dst);
    PRW_TRY(prw__buf_reserve(&s->dst_bytes, dst_total + 1, err));
    uint8_t *db = s->dst_bytes.data;
    size_t pos = 0;
    uint32_t nd = 0, ni = 0, nr = 0;
    s->dst_off[0] = 0;
    s->nd[0] = s->ni[0] = s->nr[0] = 0;
    for (size_t i = 0; i < n; i++) {
        const prw__pl_row *r = &rows[i];
        s->t[i] = r->t;
        if (r->dst != PRW_PL_NULL_ID) {
            size_t l = prw__intern_len(dt, r->dst);
            memcpy(db + pos, prw__intern_ptr(dt, r->dst), l);
            pos += l;
            s->dst_valid[i] = 1;
        } else {
            s->dst_valid[i] = 0;
            nd++;
        }
        s->dst_off[i + 1] = (int64_t)pos;
        bool ipv_null = r->flags & PRW_PL_IPV_NULL, rtt_null = r->flags & PRW_PL_RTT_NULL;
        s->ipv[i] = ipv_null ? 0 : r->ipv;
        s->ipv_valid[i] = !ipv_null;
        ni += ipv_null;
        s->rtt[i] = rtt_null ? 0.0f : r->rtt;
        s->rtt_valid[i] = !rtt_null;
        nr += rtt_null;
        s->nd[i + 1] = nd;
        s->ni[i + 1] = ni;
        s->nr[i + 1] = nr;
    }
    uint32_t src = b->by_rank[rank];
    size_t src_len = prw__intern_len(&b->src_tab, src);
    prw_ipc_inner_columns cols = {0};
    cols.event_time = s->t;
    cols.src_data = (const char *)prw__intern_ptr(&b->src_tab, src);
    cols.src_const_len = src_len;
    cols.dst_offsets = s->dst_off;
    cols.dst_data = (const char *)db;
    cols.dst_valid = nd ? s->dst_valid : NULL;
    cols.ip_version = s->ipv;
    cols.ip_version_valid = ni ? s->ipv_valid : NULL;
    cols.rtt = s->rtt;
    cols.rtt_valid = nr ? s->rtt_valid : NULL;
    size_t i = 0;
    while (i < n) {
        size_t j = cut_end(s, src_len, i, n, b->max_row);
        if (j == n && !final)
            break;
        uint64_t inner = piece_size(s, src_len, i, j);
        uint64_t outer = prw_ipc_outer_size((size_t)inner);
        PRW_CHECK(outer != 0 && outer < (1ull << 32), err, PRW_E_LIMIT, -1,
                  "a row of %llu bytes is too large for one record", (unsigned long long)inner);
        prw__buf *rb = b->chunked ? &s->rec : &out->bytes;
        if (b->chunked)
            prw__buf_clear(rb);
        PRW_TRY(prw__buf_reserve(rb, (size_t)outer, err));
        uint8_t *dst = rb->data + rb->len;
        size_t wrote = 0;
        PRW_TRY(prw_ipc_encode_inner(&cols, (int64_t)i, (int64_t)j,
                                     dst + PRW_IPC_OUTER_INNER_OFFSET,
                                     (size_t)outer - PRW_IPC_OUTER_INNER_OFFSET, &wrote, err));
        prw_ipc_outer_row row = {0};
        row.src_id = b->src_id[rank];
        row.measurements = dst + PRW_IPC_OUTER_INNER_OFFSET;
        row.measurements_len = wrote;
        row.n_measurements = (int32_t)(j - i);
        row.first_timestamp = s->t[i];
        row.last_timestamp = s->t[j - 1];
        row.time_span_seconds = (double)(s->t[j - 1] - s->t[i]) / 1e6;
        size_t total = 0;
        PRW_TRY(prw_ipc_encode_outer(&row, dst, (size_t)outer, &total, err));
        if (b->chunked) {
            size_t before = out->bytes.len;
            PRW_TRY(prw__ar_chunk_append(s->enc, dst, total, &out->bytes, err));
            total = out->bytes.len - before;
        } else {
            out->bytes.len += total;
        }
        pl_rec_meta m = {total, rank, (int32_t)(j - i)};
        PRW_TRY(prw__buf_append(&out->meta, &m, sizeof m, err));
        (*pieces)++;
        i = j;
    }
    *consumed = i;
    return PRW_OK;
}

static prw_status scratch_load(pl_scratch *s, size_t rows, prw_error *err) {
    if (!s->cc)
        PRW_TRY(prw__codec_ctx_create(&s->cc, err));
    return prw__reserve_array((void **)&s->load, &s->load_cap, rows, sizeof *s->load, "a partition",
                              err);
}

/* Rows of a probe encoded at once (widened while no piece ends inside it). */
#define PROBE_WINDOW ((size_t)1 << 18)

/* A reduce task's part p into s->load, with its probes' rows and estimated bytes. */
static prw_status read_run_part(pl_build *b, pl_scratch *s, size_t p, prw_error *err) {
    uint32_t k0 = b->part_key[p], k1 = b->part_key[p + 1];
    for (uint32_t k = k0; k < k1; k++)
        b->probe_rows[k] = b->probe_bytes[k] = 0; /* the plan's estimate until now */
    PRW_TRY(prw__run_read_part(b->runs, &s->rc, p, s->load, &b->dst_tab, b->probe_rows,
                               b->probe_bytes, err));
    add_src_estimate(b, k0, k1);
    return PRW_OK;
}

static prw_status encode_partition(pl_build *b, pl_scratch *s, size_t p, prw_error *err) {
    if (b->spill_mode && b->part_big[p])
        return PRW_OK; /* merged and streamed by the writing thread */
    /* One run of rows read back (spill mode, reduce), or the slices of every row group. */
    bool one_run = b->spill_mode || b->runs;
    size_t n = 0, nsegs = 0, cap = 0;
    if (b->spill_mode) {
        n = b->part_n[p];
        PRW_TRY(scratch_load(s, n + b->block_rows, err));
        size_t got = 0;
        PRW_TRY(prw__spill_read_part(b->spill, s->cc, p, s->load, s->load_cap, &got, &s->io, err));
        PRW_CHECK(got == n, err, PRW_E_CORRUPT, -1,
                  "partition %zu: %zu rows read back, %zu spilled", p, got, n);
    } else {
        n = b->runs ? b->part_n[p] : b->part_start[p + 1] - b->part_start[p];
        /* The time sort's merge space: only touched where a probe is out of time order. Sized
         * for the largest partition at once: each growth would be fresh memory, and on a VM a
         * first touch costs far more than a reuse. */
        cap = n > b->part_max_rows ? n : b->part_max_rows;
        PRW_TRY(prw__reserve_array((void **)&s->load, &s->load_cap, cap, sizeof *s->load,
                                   "a partition", err));
        if (b->runs)
            PRW_TRY(read_run_part(b, s, p, err));
    }
    if (n == 0)
        return PRW_OK;
    uint32_t k0 = b->part_key[p], nkeys = b->part_key[p + 1] - k0;
    pl_part_out *out = &b->parts[p];
    prw__mutex_lock(&b->done_mu);
    if (b->nspare >= 2) {
        out->bytes = b->spare[--b->nspare];
        out->meta = b->spare[--b->nspare];
    }
    prw__mutex_unlock(&b->done_mu);
    /* Room for the estimated records up front (above their compressed size): growing would
     * copy the output. Only the pages written become resident. */
    uint64_t est = 0;
    for (uint32_t k = 0; k < nkeys; k++)
        est += b->probe_bytes[k0 + k];
    PRW_TRY(prw__buf_reserve(&out->bytes, est > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)est, err));
    PRW_TRY(scratch_reserve(s, b->spill_mode ? n : cap, nkeys, one_run ? 1 : b->nslices, err));
    if (b->chunked && !s->enc)
        PRW_TRY(prw_ar_chunk_encoder_create(&b->ar, &s->enc, err));
    if (one_run) {
        s->segs[nsegs++] = (prw__pl_seg){s->load, n};
    } else {
        for (size_t g = 0; g < b->nslices; g++) {
            const size_t *off = b->slice_part_off + g * (b->nparts + 1);
            if (off[p + 1] > off[p])
                s->segs[nsegs++] = (prw__pl_seg){b->slices[g].rows + off[p], off[p + 1] - off[p]};
        }
    }
    /* The partition is read before the sort writes its merge space (load, in spill mode). */
    PRW_TRY(prw__pl_group(s->segs, nsegs, s->tmp, s->load, k0, nkeys, s->starts, err));
    const prw__pl_row *rows = s->tmp;
    for (uint32_t k = 0; k < nkeys; k++) {
        size_t a = s->starts[k], e = s->starts[k + 1], pieces = 0;
        /* A large probe goes window by window, so the column scratch stays the size of a
         * window (the pieces are those of the whole run, as for merged probes). */
        size_t w = PROBE_WINDOW;
        while (a < e) {
            size_t m = e - a < w ? e - a : w, consumed = 0;
            PRW_TRY(
                encode_probe(b, s, k0 + k, rows + a, m, a + m == e, &consumed, &pieces, out, err));
            a += consumed;
            if (consumed == 0) /* no cut inside the window yet: widen it */
                w *= 2;
        }
        if (pieces > 1)
            out->probes_cut++;
    }
    return PRW_OK;
}

static void encode_task(void *arg) {
    pl_task *t = arg;
    pl_build *b = t->b;
    if (!atomic_load(&b->failed)) {
        prw__mutex_lock(&b->pool_mu);
        size_t si = b->free_scratch[--b->nfree_scratch];
        prw__mutex_unlock(&b->pool_mu);
        prw_error e;
        prw_error_clear(&e);
        prw_status st = encode_partition(b, &b->scratch[si], t->index, &e);
        prw__mutex_lock(&b->pool_mu);
        b->free_scratch[b->nfree_scratch++] = si;
        prw__mutex_unlock(&b->pool_mu);
        if (st < 0)
            record_error(b, st, &e);
    }
    prw__mutex_lock(&b->done_mu);
    b->parts[t->index].done = true;
    prw__cond_broadcast(&b->done_cv);
    prw__mutex_unlock(&b->done_mu);
}

/* The ArrayRecord files of one split: shards are written one after another. */
typedef struct pl_sink {
    pl_build *b;
    const char *stage;
    const char *split_name;
    prw_ar_options ar;
    int shards;
    int current; /* shard open in w, or -1 */
    prw_ar_writer *w;
    int threads;
} pl_sink;

/* snprintf into a path buffer; paths longer than the buffer were refused up front. */
static void path_fmt(char *buf, size_t cap, const char *fmt, ...) PRW_PRINTF(3, 4);
static void path_fmt(char *buf, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

static void shard_name(char *buf, size_t cap, const char *dir, const char *split, int shard,
                       int shards) {
    if (shards <= 1)
        path_fmt(buf, cap, "%s/%s.arrayrecord", dir, split);
    else
        path_fmt(buf, cap, "%s/%s.arrayrecord-%05d-of-%05d", dir, split, shard, shards);
}

static prw_status sink_close_current(pl_sink *k, prw_error *err) {
    if (!k->w)
        return PRW_OK;
    prw_ar_writer *w = k->w;
    k->w = NULL;
    return prw_ar_writer_close(w, err);
}

/* Makes shard `shard` the open one, creating any empty shards before it. */
static prw_status sink_goto(pl_sink *k, int shard, prw_error *err) {
    while (k->current < shard) {
        PRW_TRY(sink_close_current(k, err));
        k->current++;
        char path[PATH_BUF];
        shard_name(path, sizeof path, k->stage, k->split_name, k->current, k->shards);
        PRW_TRY(prw_ar_writer_open_opts(&k->w, path, &k->ar, k->threads, err));
    }
    return PRW_OK;
}

/* Hands out's records, in order, to the writers and counts them. */
static prw_status write_out(pl_build *b, pl_sink sinks[2], pl_part_out *out, prw_error *err) {
    const pl_rec_meta *m = (const pl_rec_meta *)out->meta.data;
    size_t nrec = out->meta.len / sizeof *m;
    const uint8_t *data = out->bytes.data;
    for (size_t i = 0; i < nrec; i++) {
        int s = b->probe_split[m[i].rank];
        PRW_TRY(sink_goto(&sinks[s], (int)b->probe_shard[m[i].rank], err));
        if (b->chunked) /* written from out->bytes, flushed below */
            PRW_TRY(prw__ar_writer_add_chunk_ref(sinks[s].w, data, (size_t)m[i].len, err));
        else
            PRW_TRY(prw_ar_writer_add_record(sinks[s].w, data, (size_t)m[i].len, err));
        data += m[i].len;
        prw_build_split_stats *ss = &b->stats->split[s];
        ss->records++;
        ss->measurements += m[i].n_measurements;
        if (m[i].rank != b->last_rank)
            ss->probes++;
        b->last_rank = m[i].rank;
        atomic_fetch_add(&b->progress_done, m[i].n_measurements);
    }
    b->stats->split_probes_cut += out->probes_cut;
    out->probes_cut = 0;
    /* The chunks were queued from out->bytes, which its caller reuses next. */
    for (int s = 0; s < 2 && b->chunked; s++)
        if (sinks[s].w)
            PRW_TRY(prw__ar_writer_flush(sinks[s].w, err));
    return PRW_OK;
}

static prw_status write_partition(pl_build *b, pl_sink sinks[2], size_t p, prw_error *err) {
    pl_part_out *out = &b->parts[p];
    PRW_TRY(write_out(b, sinks, out, err));
    prw__mutex_lock(&b->done_mu);
    if (b->nspare + 2 <= b->spare_cap && out->bytes.cap <= b->spare_max &&
        out->meta.cap <= b->spare_max) {
        prw__buf_clear(&out->meta);
        prw__buf_clear(&out->bytes);
        b->spare[b->nspare++] = out->meta;
        b->spare[b->nspare++] = out->bytes;
        prw__buf_init(&out->meta);
        prw__buf_init(&out->bytes);
    }
    prw__mutex_unlock(&b->done_mu);
    prw__buf_cleanup(&out->bytes);
    prw__buf_cleanup(&out->meta);
    return PRW_OK;
}

/* First window of a merged probe, in rows; it doubles while no cut falls inside it. */
#define MERGE_WINDOW 4096

/* ---- merged probes (memory-bounded mode) -------------------------------------------------- */

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

static prw_status grow_load(pl_scratch *s, size_t keep, prw_error *err) {
    size_t cap = s->load_cap * 2;
    prw__pl_row *p = prw__malloc_array(cap, sizeof *p);
    if (!p)
        return prw__error_nomem(err, "a merge window", cap * sizeof *p);
    memcpy(p, s->load, keep * sizeof *p);
    prw__free(s->load);
    s->load = p;
    s->load_cap = cap;
    return PRW_OK;
}

/* Fills the window from the merge heap; a run that ends leaves the heap. */
static prw_status merge_fill(pl_build *b, pl_scratch *s, prw__spill_run *runs, size_t *heap,
                             size_t *nheap, size_t *n, prw_error *err) {
    while (*n<s->load_cap && * nheap> 0) {
        prw__spill_run *r = &runs[heap[0]];
        s->load[(*n)++] = r->rows[r->pos++];
        if (r->pos == r->n) {
            PRW_TRY(prw__spill_run_next(b->spill, s->cc, r, &s->io, err));
            if (r->n == 0)
                heap[0] = heap[--*nheap];
        }
        heap_down(runs, heap, *nheap, 0);
    }
    return PRW_OK;
}

/*
 * Streams partition p, a single probe too large for memory: its rows were spilled as
 * time-sorted runs (one per row group); a k-way merge yields them in (time, input) order,
 * exactly the in-memory sort, and pieces are cut and written window by window.
 */
static prw_status stream_probe(pl_build *b, pl_sink sinks[2], size_t p, prw_error *err) {
    pl_scratch *s = &b->main_scratch;
    pl_part_out *out = &b->parts[p];
    uint32_t rank = b->part_key[p];
    prw__spill_run *runs = prw__calloc(b->nrg ? b->nrg : 1, sizeof *runs);
    size_t *heap = prw__calloc(b->nrg ? b->nrg : 1, sizeof *heap);
    size_t nruns = 0, nheap = 0, n = 0, pieces = 0;
    prw_status st = PRW_OK;
    if (!runs || !heap)
        st = prw__error_nomem(err, "merge runs", b->nrg * sizeof *runs);
    if (st == PRW_OK && b->chunked && !s->enc)
        st = prw_ar_chunk_encoder_create(&b->ar, &s->enc, err);
    if (st == PRW_OK)
        st = scratch_load(s, MERGE_WINDOW, err);
    for (size_t g = 0; g < b->nrg && st == PRW_OK; g++) {
        if (prw__spill_rows(b->spill, g, p) == 0)
            continue;
        st = prw__spill_run_open(b->spill, g, p, &runs[nruns], err);
        nruns++;
        if (st == PRW_OK)
            st = prw__spill_run_next(b->spill, s->cc, &runs[nruns - 1], &s->io, err);
        if (st == PRW_OK && runs[nruns - 1].n > 0)
            heap[nheap++] = nruns - 1;
    }
    for (size_t i = nheap / 2; i-- > 0;)
        heap_down(runs, heap, nheap, i);
    while (st == PRW_OK) {
        st = merge_fill(b, s, runs, heap, &nheap, &n, err);
        if (st < 0)
            break;
        bool final = nheap == 0;
        size_t consumed = 0;
        st = encode_probe(b, s, rank, s->load, n, final, &consumed, &pieces, out, err);
        if (st == PRW_OK)
            st = write_out(b, sinks, out, err);
        prw__buf_clear(&out->bytes);
        prw__buf_clear(&out->meta);
        if (st < 0 || final)
            break;
        memmove(s->load, s->load + consumed, (n - consumed) * sizeof *s->load);
        n -= consumed;
        if (consumed == 0) /* no cut inside the window yet: widen it */
            st = grow_load(s, n, err);
    }
    if (st == PRW_OK) {
        b->stats->split_probes_cut += pieces > 1;
        b->stats->merged_probes++;
    }
    for (size_t i = 0; i < nruns; i++)
        prw__spill_run_close(&runs[i]);
    prw__free(runs);
    prw__free(heap);
    return st;
}

static prw_status write_phase(pl_build *b, prw__pool *pool, const char *stage, prw_error *err) {
    prw_ar_options ar = b->ar;
    /* With chunks compressed by the workers the writers only place bytes: no pool. */
    int writer_threads = b->chunked ? 1 : b->workers;
    b->parts = prw__calloc(b->nparts ? b->nparts : 1, sizeof *b->parts);
    if (!b->parts)
        return prw__error_nomem(err, "partition outputs", b->nparts * sizeof *b->parts);
    int shards = b->o->shards > 1 ? b->o->shards : 1;
    int first = b->only_shard >= 0 ? b->only_shard : 0;
    int last = b->only_shard >= 0 ? b->only_shard : shards - 1;
    pl_sink sinks[2] = {{b, stage, "train", ar, shards, first - 1, NULL, writer_threads},
                        {b, stage, "test", ar, shards, first - 1, NULL, writer_threads}};
    size_t window = b->spill_mode ? b->window : (size_t)b->workers * 2 + 2;
    /* Output buffers are kept for reuse up to twice the mean partition's estimate: a heavy
     * probe's partition must not leave a buffer of its size behind for every spare slot. */
    uint64_t est_all = 0;
    for (uint32_t r = 0; r < b->n_probes; r++)
        est_all += b->probe_bytes[r];
    uint64_t keep = b->nparts ? 2 * est_all / b->nparts : 0;
    /* Buffers grow to powers of two (prw__buf_reserve): round up, or a partition whose
     * estimate is just above the mean would free its buffer and the next take fresh memory. */
    size_t max = 1u << 20;
    while (max < keep && max <= SIZE_MAX / 4)
        max *= 2;
    b->spare_max = max;
    b->last_rank = UINT32_MAX;
    b->spare_cap = 2 * (window + 1);
    b->spare = prw__calloc(b->spare_cap, sizeof *b->spare);
    if (!b->spare)
        return prw__error_nomem(err, "output buffers", b->spare_cap * sizeof *b->spare);
    pl_task *tasks = prw__calloc(b->nparts ? b->nparts : 1, sizeof *tasks);
    if (!tasks)
        return prw__error_nomem(err, "task list", b->nparts * sizeof *tasks);
    prw_status st = PRW_OK;
    size_t submitted = 0;
    atomic_store(&b->progress_done, 0);
    double last_report = 0;
    size_t ahead = 0; /* partitions in [p, submitted) */
    for (size_t p = 0; p < b->nparts && st == PRW_OK; p++) {
        while (submitted < b->nparts && ahead < window) {
            tasks[submitted] = (pl_task){b, submitted, NULL, NULL, NULL};
            prw__pool_submit(pool, encode_task, &tasks[submitted]);
            ahead++;
            submitted++;
        }
        ahead--;
        prw__mutex_lock(&b->done_mu);
        while (!b->parts[p].done)
            prw__cond_wait(&b->done_cv, &b->done_mu);
        prw__mutex_unlock(&b->done_mu);
        if (atomic_load(&b->failed))
            break;
        if (b->spill_mode && b->part_big[p])
            st = stream_probe(b, sinks, p, err);
        if (st == PRW_OK)
            st = write_partition(b, sinks, p, err);
        double now = prw__now();
        if (now - last_report > 0.25) {
            report(b, "write", atomic_load(&b->progress_done), (int64_t)b->nrows, false);
            last_report = now;
        }
    }
    prw__pool_wait(pool);
    if (st == PRW_OK && atomic_load(&b->failed)) {
        st = b->err_st;
        if (err)
            *err = b->err;
    }
    /* Every shard of both splits exists, even when empty. */
    for (int s = 0; s < 2 && st == PRW_OK; s++) {
        st = sink_goto(&sinks[s], last, err);
        if (st == PRW_OK)
            st = sink_close_current(&sinks[s], err);
    }
    for (int s = 0; s < 2; s++)
        if (sinks[s].w)
            prw_ar_writer_abort(sinks[s].w);
    for (size_t p = 0; p < b->nparts; p++) {
        prw__buf_cleanup(&b->parts[p].bytes);
        prw__buf_cleanup(&b->parts[p].meta);
    }
    for (size_t i = 0; i < b->nspare; i++)
        prw__buf_cleanup(&b->spare[i]);
    prw__free(b->spare);
    b->spare = NULL;
    b->nspare = 0;
    prw__free(tasks);
    if (st == PRW_OK)
        report(b, "write", atomic_load(&b->progress_done), (int64_t)b->nrows, true);
    return st;
}

/* ---- the memory-bounded mode: key pass, plan, spill (docs/MEMORY.md) ----------------------- */

#define MIB (1024.0 * 1024.0)
/* The process itself: code, libraries, thread stacks, allocator slack. */
#define RSS_BASE (6ull << 20)
/* Bytes per row of a partition being encoded: read back (24), sort buffer (24), probe
 * columns and destination bytes (~64); and per row of a finished partition's output. */
#define ENCODE_ROW_BYTES 112
#define OUTPUT_ROW_BYTES 64
#define MAX_PART_ROWS (8u << 20)
/* A merge window row: the row (24), its probe columns (36), destination bytes (~12). */
#define MERGE_ROW_BYTES 72
#define MIN_PART_ROWS 1024
/* Percent of the limit left unplanned: allocator slack, per-thread arenas, page-granular
 * buffers (with prw__alloc_bound_retention, M at 256M peaks at ~75% of the limit). */
#define PLAN_SLACK_PCT 10

static prw_status keys_work(pl_build *b, size_t di, size_t rg, int64_t *done, prw_error *err) {
    size_t n = 0;
    PRW_TRY(prw__pl_scan_keys_rg(b->decoders[di], rg, &b->src_tab, &n, err));
    *done = (int64_t)n;
    return PRW_OK;
}

static void keys_task(void *arg) {
    rg_task(arg, true, keys_work);
}

static uint64_t intern_bytes(const prw__intern *t) {
    return t->bytes.cap + t->ncap * 16 + t->nslots * 4;
}

/* The part of the limit the plan may use. */
static uint64_t plan_usable(const pl_build *b) {
    return b->limit - b->limit / 100 * PLAN_SLACK_PCT;
}

/* `planned`: the bytes the plan needs; the limit must also hold the unplanned share. */
static prw_status too_small(pl_build *b, uint64_t planned, const char *what, prw_error *err) {
    uint64_t need = planned / (100 - PLAN_SLACK_PCT) * 100;
    return prw__error_set(err, PRW_E_LIMIT, -1,
                          "memory limit of %.1f MiB is too small for this input: at least "
                          "%.1f MiB is needed (%s)",
                          (double)b->limit / MIB, (double)need / MIB, what);
}

/*
 * Sizes the spill mode for `w` row groups decoded and partitions encoded at once (w <= workers):
 * sets slots_free, block_rows and window (partitions being encoded plus finished ones waiting),
 * and *part_out to the partition size in rows, leaving room for a probe merged from runs; or
 * fails with how much memory that would need.
 */
static prw_status size_spill(pl_build *b, uint64_t w, uint64_t *part_out, prw_error *err) {
    uint64_t W = (uint64_t)b->workers;
    uint64_t probes = b->n_probes;
    uint64_t dst_reserve = b->limit / 16 < (32u << 20) ? b->limit / 16 : (32u << 20);
    /* The writers' queues: finished chunks pass through; records wait for compression; the
     * two output files' direct-I/O buffers. */
    uint64_t writer =
        (b->chunked ? 0 : (4ull << 20) * W) + 3 * b->max_row + 2 * PRW__WFILE_DIRECT_BYTES;
    /* The src key map (shared, read-only) and each decoding slot's per-probe sums. */
    uint64_t fixed = RSS_BASE + intern_bytes(&b->src_tab) + probes * 64 + dst_reserve + writer +
                     W * (256u << 10) + prw__pl_keymap_bytes(probes) +
                     w * probes * sizeof(pl_probe_acc) + b->nrg * 64;
    uint64_t usable = plan_usable(b);
    if (fixed >= usable)
        return too_small(b, fixed + b->rg_cost, "probe tables and writers", err);
    uint64_t avail = usable - fixed;
    if (avail < b->rg_cost)
        return too_small(b, fixed + b->rg_cost, "one row group decoded at a time", err);
    uint64_t slots = avail / b->rg_cost;
    b->slots_free = (size_t)(slots < w ? slots : w);
    size_t nrg = b->nrg ? b->nrg : 1;
    uint64_t br = avail / 16 / (nrg * 2 * sizeof(prw__pl_row));
    b->block_rows = (size_t)(br < 256 ? 256 : br > 8192 ? 8192 : br);
    /* Partitions in flight: being encoded (at most one per pool thread) or waiting to be
     * written. With every worker, one more than the threads keeps them all busy. */
    b->window = (size_t)(w == W ? W + 1 : w);
    uint64_t encoding = b->window < W ? b->window : W;
    uint64_t per_row = encoding * ENCODE_ROW_BYTES + b->window * OUTPUT_ROW_BYTES;
    uint64_t part = avail / per_row;
    bool big = false;
    size_t src_len = SIZE_MAX; /* the shortest src_addr among probes to be merged */
    for (uint32_t r = 0; r < b->n_probes; r++) {
        if (b->key_rows[r] > part || b->key_rows[r] > MAX_PART_ROWS) {
            big = true;
            size_t l = prw__intern_len(&b->src_tab, b->by_rank[r]);
            src_len = l < src_len ? l : src_len;
        }
    }
    /* A probe merged from runs: one block per run, a window of at most twice the rows of a
     * piece (a row takes at least 17 + len(src_addr) inner bytes), a piece and its chunk. */
    uint64_t piece_rows = big ? b->max_row / (17 + src_len) + 1 : 0;
    uint64_t merge = (uint64_t)nrg * b->block_rows * 2 * sizeof(prw__pl_row) +
                     (2 * piece_rows + MERGE_WINDOW) * MERGE_ROW_BYTES + 2 * b->max_row;
    if (big) {
        if (avail <= merge + MIN_PART_ROWS * per_row)
            return too_small(b, fixed + merge + MIN_PART_ROWS * per_row,
                             "merging a probe larger than memory", err);
        part = (avail - merge) / per_row;
    }
    if (part < MIN_PART_ROWS)
        return too_small(b, fixed + MIN_PART_ROWS * per_row, "a minimal partition", err);
    *part_out = part;
    return PRW_OK;
}

/*
 * Chooses the sizes of the spill mode from the limit (size_spill), with fewer row groups and
 * partitions at once than workers when all of them would not fit, then the key ranges.
 */
static prw_status plan_spill(pl_build *b, prw_error *err) {
    uint64_t part = 0;
    prw_status st = PRW_OK;
    for (uint64_t w = (uint64_t)b->workers; w >= 1; w--) {
        prw_error_clear(err);
        if ((st = size_spill(b, w, &part, err)) == PRW_OK)
            break;
    }
    PRW_TRY(st);
    if (part > MAX_PART_ROWS)
        part = MAX_PART_ROWS;
    /* Key ranges balanced by rows; a probe above the partition size is a partition alone. */
    size_t maxp = b->n_probes + 1;
    b->part_key = prw__malloc_array(maxp + 1, sizeof *b->part_key);
    b->part_big = prw__calloc(maxp, 1);
    if (!b->part_key || !b->part_big)
        return prw__error_nomem(err, "partitions", maxp * 5);
    size_t np = 0;
    uint64_t acc = 0;
    b->part_key[0] = 0;
    for (uint32_t r = 0; r < b->n_probes; r++) {
        uint64_t k = b->key_rows[r];
        if (k > part) {
            if (r > b->part_key[np])
                b->part_key[++np] = r;
            b->part_big[np] = 1;
            b->part_key[++np] = r + 1;
            acc = 0;
        } else if (acc + k > part && r > b->part_key[np]) {
            b->part_key[++np] = r;
            acc = k;
        } else {
            acc += k;
        }
    }
    if (b->part_key[np] < b->n_probes || np == 0)
        b->part_key[++np] = b->n_probes;
    b->nparts = np;
    b->stats->partitions = (int64_t)np;
    b->stats->spill_partitions = (int64_t)np;
    return PRW_OK;
}

/* Decodes row group g, ranks its keys, scatters it by partition (input order kept; slices of
 * merged probes sorted by time) and appends each slice to this worker's run file. */
static prw_status spill_rg(pl_build *b, size_t di, size_t g, prw_error *err) {
    prw__pl_decoded *d = &b->dec[g];
    PRW_TRY(
        prw__pl_decode_rg(b->decoders[di], g, &b->src_tab, &b->dst_tab, b->o->null_rtt, d, err));
    size_t n = d->n, np = b->nparts;
    size_t *cnt = b->wcount[di];
    pl_probe_acc *acc = b->wprobe[di];
    memset(cnt, 0, (np + 1) * sizeof *cnt);
    /* dst_tab only grows while other workers decode: its offsets array may move. */
    prw__mutex_lock(&b->dst_tab.mu);
    const uint64_t *doffs = b->dst_tab.offs;
    for (size_t i = 0; i < n; i++) {
        prw__pl_row *r = &d->rows[i];
        uint32_t k = r->key; /* the key map gave ranks */
        acc[k].rows++;
        acc[k].bytes += 28 + (r->dst == PRW_PL_NULL_ID ? 0 : doffs[r->dst + 1] - doffs[r->dst]);
        cnt[b->probe_part[k] + 1]++;
    }
    prw__mutex_unlock(&b->dst_tab.mu);
    for (size_t p = 0; p < np; p++)
        cnt[p + 1] += cnt[p];
    PRW_TRY(prw__reserve_array((void **)&b->wrows[di], &b->wrows_cap[di], n, sizeof(prw__pl_row),
                               "a row group's partitions", err));
    prw__pl_row *out = b->wrows[di];
    for (size_t i = 0; i < n; i++)
        out[cnt[b->probe_part[d->rows[i].key]]++] = d->rows[i];
    /* cnt[p] is now the end of slice p; the decoded rows serve as the sort buffer. */
    size_t start = 0;
    for (size_t p = 0; p < np; p++) {
        size_t end = cnt[p];
        if (b->part_big[p])
            prw__pl_sort_by_time(out + start, d->rows, end - start);
        PRW_TRY(prw__spill_put(b->spill, di, b->wcc[di], g, p, out + start, end - start,
                               &b->wbuf[di], err));
        start = end;
    }
    prw__free(d->rows);
    d->rows = NULL;
    return PRW_OK;
}

static prw_status spill_work(pl_build *b, size_t di, size_t rg, int64_t *done, prw_error *err) {
    *done = prw__pl_source_rg_rows(b->src, rg);
    return spill_rg(b, di, rg, err);
}

static void spill_task(void *arg) {
    rg_task(arg, true, spill_work);
}

static prw_status spill_setup(pl_build *b, prw_error *err) {
    size_t W = (size_t)b->workers;
    b->wcount = prw__calloc(W, sizeof *b->wcount);
    b->wrows = prw__calloc(W, sizeof *b->wrows);
    b->wrows_cap = prw__calloc(W, sizeof *b->wrows_cap);
    b->wprobe = prw__calloc(W, sizeof *b->wprobe);
    b->wcc = prw__calloc(W, sizeof *b->wcc);
    b->wbuf = prw__calloc(W, sizeof *b->wbuf);
    b->part_n = prw__calloc(b->nparts, sizeof *b->part_n);
    if (!b->wcount || !b->wrows || !b->wrows_cap || !b->wprobe || !b->wcc || !b->wbuf || !b->part_n)
        return prw__error_nomem(err, "spill workers", W * 64);
    for (size_t i = 0; i < b->slots_free; i++) {
        b->wprobe[i] = prw__calloc(b->n_probes ? b->n_probes : 1, sizeof **b->wprobe);
        if (!b->wprobe[i])
            return prw__error_nomem(err, "probe sums", b->n_probes * sizeof **b->wprobe);
    }
    for (size_t i = 0; i < W; i++) {
        b->wcount[i] = prw__calloc(b->nparts + 1, sizeof **b->wcount);
        if (!b->wcount[i])
            return prw__error_nomem(err, "spill workers", b->nparts * 8);
        PRW_TRY(prw__codec_ctx_create(&b->wcc[i], err));
        prw__buf_init(&b->wbuf[i]);
    }
    /* Only as many decoders as row groups may be in flight keep buffers. */
    b->nfree_dec = 0;
    for (size_t i = 0; i < b->slots_free; i++)
        b->free_dec[b->nfree_dec++] = i;
    const char *base = b->o->temp_dir ? b->o->temp_dir : b->o->output_dir;
    PRW_CHECK(strlen(base) <= MAX_DIR, err, PRW_E_INVALID, -1,
              "--temp-dir path longer than %d bytes", MAX_DIR);
    PRW_TRY(prw__mkdir_p(base, err));
    path_fmt(b->spill_dir, sizeof b->spill_dir, "%s/.proberows-spill-XXXXXX", base);
    if (!mkdtemp(b->spill_dir)) {
        prw_status st = prw__error_sys(err, errno, "cannot create a directory in %s", base);
        b->spill_dir[0] = 0;
        return st;
    }
    b->spill_slot = prw__pl_temp_register(b->spill_dir);
    return prw__spill_create(&b->spill, b->spill_dir, W, b->nrg, b->nparts, b->block_rows, err);
}

/* After the last row group is decoded: the decoders' column buffers and string caches (on M
 * ~150 MB per worker) would otherwise stay resident through the write phase. */
static void release_decoders(pl_build *b) {
    for (size_t i = 0; i < b->ndecoders && b->decoders; i++) {
        prw__pl_decoder_destroy(b->decoders[i]);
        b->decoders[i] = NULL;
    }
}

static void spill_release_workers(pl_build *b) {
    for (size_t i = 0; i < (size_t)b->workers && b->wcount; i++) {
        prw__free(b->wcount[i]);
        prw__free(b->wrows[i]);
        prw__free(b->wprobe[i]);
        prw__codec_ctx_destroy(b->wcc[i]);
        prw__buf_cleanup(&b->wbuf[i]);
    }
    prw__free(b->wcount);
    prw__free(b->wrows);
    prw__free(b->wprobe);
    b->wprobe = NULL;
    prw__free(b->wrows_cap);
    prw__free(b->wcc);
    prw__free(b->wbuf);
    b->wcount = NULL;
    b->wrows = NULL;
    b->wrows_cap = NULL;
    b->wcc = NULL;
    b->wbuf = NULL;
    release_decoders(b);
}

/* Key pass, plan, spill: afterwards every row is in the run files, by partition. */
static prw_status spill_phase(pl_build *b, prw__pool *pool, prw_error *err) {
    prw_build_stats *st = b->stats;
    double t = prw__now();
    /* Before any work: a limit that cannot hold one decoded row group fails at once, and the
     * key pass reads only as many row groups at a time as half of the limit holds. */
    uint64_t usable = plan_usable(b);
    if (RSS_BASE + b->rg_cost > usable)
        return too_small(b, RSS_BASE + b->rg_cost, "one row group decoded at a time", err);
    uint64_t key_cost = 1;
    for (size_t g = 0; g < b->nrg; g++) {
        uint64_t c = (uint64_t)prw__pl_source_rg_key_bytes(b->src, g);
        key_cost = c > key_cost ? c : key_cost;
    }
    uint64_t key_slots = (usable - RSS_BASE) / 2 / key_cost;
    uint64_t nw = (uint64_t)b->workers;
    b->slots_free = (size_t)(key_slots < 1 ? 1 : key_slots < nw ? key_slots : nw);
    PRW_TRY(run_all(b, pool, b->nrg, keys_task, "keys", st->rows_read, err));
    b->key_rows_cap = b->src_tab.n;
    b->key_rows = prw__calloc(b->key_rows_cap ? b->key_rows_cap : 1, sizeof *b->key_rows);
    if (!b->key_rows)
        return prw__error_nomem(err, "key counts", b->key_rows_cap * sizeof *b->key_rows);
    for (size_t i = 0; i < b->ndecoders; i++)
        prw__pl_decoder_take_key_rows(b->decoders[i], b->key_rows, b->key_rows_cap);
    PRW_TRY(rank_probes(b, pool, err));
    PRW_TRY(check_plan_probes(b, err));
    /* key_rows by intern id -> by rank (rank_probes sized its tables to src_tab.n). */
    uint64_t *by_rank = prw__calloc(b->n_probes ? b->n_probes : 1, sizeof *by_rank);
    if (!by_rank)
        return prw__error_nomem(err, "key counts", b->n_probes * 8ull);
    for (uint32_t r = 0; r < b->n_probes; r++)
        by_rank[r] = b->by_rank[r] < b->key_rows_cap ? b->key_rows[b->by_rank[r]] : 0;
    prw__free(b->key_rows);
    b->key_rows = by_rank;
    b->key_rows_cap = b->n_probes;
    /* The key pass saw every src_addr: from now on decoders map strings straight to ranks
     * through one shared read-only index, and their own src caches go. */
    PRW_TRY(prw__pl_keymap_build(&b->keymap, &b->src_tab, b->rank, err));
    for (size_t i = 0; i < b->ndecoders; i++)
        prw__pl_decoder_set_keymap(b->decoders[i], b->keymap);
    st->seconds_keys = prw__now() - t;

    t = prw__now();
    PRW_TRY(plan_spill(b, err));
    for (size_t p = 0; p < b->nparts; p++)
        for (uint32_t r = b->part_key[p]; r < b->part_key[p + 1]; r++)
            b->probe_part[r] = (uint32_t)p;
    PRW_TRY(spill_setup(b, err));
    prw_status s = run_all(b, pool, b->nrg, spill_task, "decode", st->rows_read, err);
    if (s == PRW_OK)
        add_probe_sums(b, b->slots_free);
    spill_release_workers(b);
    PRW_TRY(s);
    PRW_TRY(prw__spill_finish(b->spill, err));
    st->temp_bytes = prw__spill_bytes(b->spill);
    b->nrows = 0;
    for (size_t g = 0; g < b->nrg; g++) {
        const prw__pl_decoded *d = &b->dec[g];
        b->nrows += d->n;
        st->dropped_null_src_addr += d->dropped_null_src;
        st->dropped_null_event_time += d->dropped_null_time;
        st->dropped_null_rtt += d->dropped_null_rtt;
        st->null_rtt_kept += d->null_rtt_kept;
        st->null_rtt_failed += d->null_rtt_failed;
        for (size_t p = 0; p < b->nparts; p++)
            b->part_n[p] += (size_t)prw__spill_rows(b->spill, g, p);
    }
    st->seconds_decode = prw__now() - t;

    t = prw__now();
    add_src_estimate(b, 0, b->n_probes);
    split_and_shards(b);
    report(b, "group", (int64_t)b->nrows, (int64_t)b->nrows, true);
    st->seconds_group = prw__now() - t;
    return PRW_OK;
}

/* ---- staging, manifest and the whole job ------------------------------------------------ */

static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char path[PATH_BUF];
            path_fmt(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

static int64_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

static prw_status publish(pl_build *b, const char *stage, prw_error *err) {
    int shards = b->o->shards > 1 ? b->o->shards : 1;
    int k0 = b->only_shard >= 0 ? b->only_shard : 0;
    int k1 = b->only_shard >= 0 ? b->only_shard + 1 : shards;
    const char *names[2] = {"train", "test"};
    for (int s = 0; s < 2; s++) {
        b->stats->split[s].files = k1 - k0;
        for (int k = k0; k < k1; k++) {
            char from[PATH_BUF];
            shard_name(from, sizeof from, stage, names[s], k, shards);
            b->stats->split[s].bytes += file_size(from);
        }
    }
    if (b->only_shard < 0)
        PRW_TRY(prw__pl_write_manifest(b->o, b->stats, b->src, stage, err));
    for (int s = 0; s < 2; s++) {
        for (int k = k0; k < k1; k++) {
            char from[PATH_BUF], to[PATH_BUF];
            shard_name(from, sizeof from, stage, names[s], k, shards);
            shard_name(to, sizeof to, b->o->output_dir, names[s], k, shards);
            if (rename(from, to) != 0)
                return prw__error_sys(err, errno, "cannot move %s into place", to);
        }
    }
    if (b->only_shard >= 0)
        return PRW_OK;
    char from[PATH_BUF], to[PATH_BUF];
    path_fmt(from, sizeof from, "%s/manifest.json", stage);
    path_fmt(to, sizeof to, "%s/manifest.json", b->o->output_dir);
    if (rename(from, to) != 0)
        return prw__error_sys(err, errno, "cannot move %s into place", to);
    return PRW_OK;
}

static void build_cleanup(pl_build *b) {
    spill_release_workers(b);
    if (b->dec)
        for (size_t g = 0; g < b->nrg; g++)
            prw__free(b->dec[g].rows);
    prw__free(b->dec);
    prw__free(b->split);
    for (size_t i = 0; i < b->ndecoders; i++) {
        prw__pl_decoder_destroy(b->decoders[i]);
        scratch_cleanup(&b->scratch[i]);
    }
    prw__free(b->decoders);
    prw__free(b->scratch);
    prw__free(b->free_dec);
    prw__free(b->free_scratch);
    prw__pl_source_close(b->src);
    prw__pl_keymap_destroy(b->keymap);
    prw__intern_cleanup(&b->src_tab);
    prw__intern_cleanup(&b->dst_tab);
    prw__free(b->rank);
    prw__free(b->by_rank);
    prw__free(b->probe_rows);
    prw__free(b->probe_bytes);
    prw__free(b->src_id);
    prw__free(b->probe_split);
    prw__free(b->probe_shard);
    prw__free(b->probe_part);
    prw__free(b->part_key);
    prw__free(b->slice_part_off);
    prw__free(b->slices);
    prw__free(b->part_start);
    if (b->slicebufs)
        for (size_t i = 0; i < b->nslicebufs; i++)
            prw__free(b->slicebufs[i]);
    prw__free(b->slicebufs);
    prw__free(b->parts);
    scratch_cleanup(&b->main_scratch);
    prw__free(b->key_rows);
    prw__free(b->part_big);
    prw__free(b->part_n);
    prw__spill_destroy(b->spill);
    if (b->spill_dir[0]) {
        rmdir(b->spill_dir);
        prw__pl_temp_unregister(b->spill_slot);
    }
}

static prw_status check_options(const prw_build_options *o, prw_error *err) {
    PRW_CHECK(o->n_inputs > 0 && o->inputs, err, PRW_E_INVALID, -1, "no --input given");
    PRW_CHECK(o->output_dir && o->output_dir[0], err, PRW_E_INVALID, -1, "no --output given");
    PRW_CHECK(strlen(o->output_dir) <= MAX_DIR, err, PRW_E_INVALID, -1,
              "--output path longer than %d bytes", MAX_DIR);
    PRW_CHECK(o->train_ratio >= 0.0 && o->train_ratio <= 1.0, err, PRW_E_INVALID, -1,
              "--train-ratio must be between 0 and 1");
    PRW_CHECK(o->shards >= 0 && o->shards <= 99999, err, PRW_E_INVALID, -1,
              "--shards must be between 1 and 99999");
    PRW_CHECK(o->workers >= 0 && o->workers <= 1024, err, PRW_E_INVALID, -1,
              "--workers must be between 1 and 1024");
    PRW_CHECK(o->max_row_size == 0 || o->max_row_size >= 1024, err, PRW_E_INVALID, -1,
              "--max-row-size must be at least 1 KiB");
    prw_ar_options ar;
    PRW_TRY(prw_ar_options_parse(o->ar_options ? o->ar_options : "", &ar, err));
    return PRW_OK;
}

static prw_status setup_workers(pl_build *b, prw_error *err) {
    size_t n = (size_t)b->workers;
    b->ndecoders = n;
    b->decoders = prw__calloc(n, sizeof *b->decoders);
    b->scratch = prw__calloc(n, sizeof *b->scratch);
    b->free_dec = prw__calloc(n, sizeof *b->free_dec);
    b->free_scratch = prw__calloc(n, sizeof *b->free_scratch);
    if (!b->decoders || !b->scratch || !b->free_dec || !b->free_scratch)
        return prw__error_nomem(err, "worker contexts", n * 64);
    for (size_t i = 0; i < n; i++) {
        PRW_TRY(prw__pl_decoder_create(b->src, &b->decoders[i], err));
        b->free_dec[b->nfree_dec++] = i;
        b->free_scratch[b->nfree_scratch++] = i;
    }
    return PRW_OK;
}

static prw_status memory_phases(pl_build *b, prw__pool *pool, prw_error *err);

/*
 * Decides between the in-memory and the memory-bounded mode from the footers: the rows of the
 * in-memory mode cost about 64 bytes each at their peak (decoded, grouped, encoded output),
 * plus a decoded row group per worker. Returns b->spill_mode.
 */
static bool choose_mode(pl_build *b) {
    uint64_t rows = 0, rg_cost = 0;
    size_t nrg = prw__pl_source_row_groups(b->src);
    for (size_t g = 0; g < nrg; g++) {
        uint64_t r = (uint64_t)prw__pl_source_rg_rows(b->src, g);
        uint64_t c =
            (uint64_t)prw__pl_source_rg_decode_bytes(b->src, g) + r * 2 * sizeof(prw__pl_row);
        rows += r;
        if (c > rg_cost)
            rg_cost = c;
    }
    b->rg_cost = rg_cost + prw__spill_scratch_bytes(8192);
    uint64_t est = rows * 64 + (uint64_t)b->workers * b->rg_cost + RSS_BASE + (64u << 20);
    b->spill_mode = est > b->limit;
    b->stats->spilled = b->spill_mode;
    return b->spill_mode;
}

static prw_status run(pl_build *b, prw__pool *pool, const char *stage, prw_error *err) {
    const prw_build_options *o = b->o;
    prw_build_stats *st = b->stats;
    double t = prw__now();
    char **paths = NULL;
    size_t npaths = 0;
    PRW_TRY(prw__pl_glob(o->inputs, o->n_inputs, &paths, &npaths, err));
    prw_status s = prw__pl_source_open(&b->src, paths, npaths, o, false, err);
    if (s == PRW_OK && choose_mode(b)) {
        prw__alloc_bound_retention(b->limit);
        /* Mapped input pages would count in the resident set: read with pread instead. */
        prw__pl_source_close(b->src);
        b->src = NULL;
        s = prw__pl_source_open(&b->src, paths, npaths, o, true, err);
    }
    prw__pl_free_paths(paths, npaths);
    PRW_TRY(s);
    st->files = (int64_t)prw__pl_source_files(b->src);
    for (size_t f = 0; f < (size_t)st->files; f++) {
        st->rows_read += prw__pl_source_file_rows(b->src, f);
        st->input_bytes += prw__pl_source_file_bytes(b->src, f);
    }
    b->nrg = prw__pl_source_row_groups(b->src);
    st->row_groups = (int64_t)b->nrg;
    report(b, "scan", st->files, st->files, true);
    st->seconds_scan = prw__now() - t;

    t = prw__now();
    PRW_TRY(setup_workers(b, err));
    PRW_TRY(prw__intern_init(&b->src_tab, err));
    PRW_TRY(prw__intern_init(&b->dst_tab, err));
    b->dec = prw__calloc(b->nrg ? b->nrg : 1, sizeof *b->dec);
    if (!b->dec)
        return prw__error_nomem(err, "row group list", b->nrg * sizeof *b->dec);
    if (b->spill_mode) {
        PRW_TRY(spill_phase(b, pool, err));
    } else {
        PRW_TRY(memory_phases(b, pool, err));
    }
    t = prw__now();
    PRW_TRY(write_phase(b, pool, stage, err));
    st->seconds_write = prw__now() - t;
    st->seconds_total = prw__now() - b->t0;
    st->peak_rss_bytes = prw__pl_peak_rss();
    return publish(b, stage, err);
}

/* The in-memory mode: every row group decoded, then grouped in one array. */
static prw_status memory_phases(pl_build *b, prw__pool *pool, prw_error *err) {
    prw_build_stats *st = b->stats;
    double t = prw__now();
    if (b->nrg < (size_t)b->workers) { /* too few row groups for every worker: halves */
        b->split = prw__calloc(b->nrg ? b->nrg : 1, sizeof *b->split);
        if (!b->split)
            return prw__error_nomem(err, "row group list", b->nrg * sizeof *b->split);
        for (size_t g = 0; g < b->nrg; g++)
            b->split[g].first = SPLIT_NONE;
        PRW_TRY(run_all(b, pool, 2 * b->nrg, split_decode_task, "decode", st->rows_read, err));
    } else {
        PRW_TRY(run_all(b, pool, b->nrg, decode_task, "decode", st->rows_read, err));
    }
    release_decoders(b);
    for (size_t g = 0; g < b->nrg; g++) {
        const prw__pl_decoded *d = &b->dec[g];
        st->dropped_null_src_addr += d->dropped_null_src;
        st->dropped_null_event_time += d->dropped_null_time;
        st->dropped_null_rtt += d->dropped_null_rtt;
        st->null_rtt_kept += d->null_rtt_kept;
        st->null_rtt_failed += d->null_rtt_failed;
    }
    st->seconds_decode = prw__now() - t;

    t = prw__now();
    PRW_TRY(group_phase(b, pool, err));
    st->seconds_group = prw__now() - t;
    b->stats->partitions = (int64_t)b->nparts;
    return PRW_OK;
}

/* A reduce task's parts (prw__pl_prepared): each read, grouped and encoded by a worker, the
 * shard written in part order. */
static prw_status run_prepared(pl_build *b, prw__pool *pool, const char *stage, prw__pl_prepared *p,
                               prw_error *err) {
    size_t n = (size_t)b->workers;
    b->ndecoders = n; /* no decoders: only the scratch of the write phase */
    b->decoders = prw__calloc(n, sizeof *b->decoders);
    b->scratch = prw__calloc(n, sizeof *b->scratch);
    b->free_scratch = prw__calloc(n, sizeof *b->free_scratch);
    if (!b->decoders || !b->scratch || !b->free_scratch)
        return prw__error_nomem(err, "worker contexts", n * 64);
    for (size_t i = 0; i < n; i++)
        b->free_scratch[b->nfree_scratch++] = i;
    b->src_tab = *p->src_tab;
    memset(p->src_tab, 0, sizeof *p->src_tab);
    b->dst_tab = *p->dst_tab;
    memset(p->dst_tab, 0, sizeof *p->dst_tab);
    double t = prw__now();
    PRW_TRY(rank_probes(b, pool, err));
    b->runs = p->runs;
    b->nparts = p->nparts;
    b->part_key = prw__malloc_array(b->nparts + 1, sizeof *b->part_key);
    b->part_n = prw__calloc(b->nparts ? b->nparts : 1, sizeof *b->part_n);
    if (!b->part_key || !b->part_n)
        return prw__error_nomem(err, "partitions", b->nparts * 12);
    memcpy(b->part_key, p->part_key, (b->nparts + 1) * sizeof *b->part_key);
    PRW_CHECK(b->part_key[b->nparts] == b->n_probes, err, PRW_E_INVALID, -1,
              "parts of %u probes for a range of %u", b->part_key[b->nparts], b->n_probes);
    b->part_max_rows = 0;
    for (size_t q = 0; q < b->nparts; q++) {
        b->part_n[q] = prw__run_set_part_rows(p->runs, q);
        b->nrows += b->part_n[q];
        b->part_max_rows = b->part_n[q] > b->part_max_rows ? b->part_n[q] : b->part_max_rows;
    }
    /* Estimated from the plan's counts (rows of 28 bytes and a 16-byte dst_addr) until a part
     * is read: output buffer sizes only. */
    for (uint32_t r = 0; r < b->n_probes; r++) {
        b->probe_rows[r] = p->est_rows[r];
        b->probe_bytes[r] = p->est_rows[r] * 44;
    }
    add_src_estimate(b, 0, b->n_probes);
    split_and_shards(b);
    b->stats->seconds_group = prw__now() - t;
    b->stats->partitions = (int64_t)b->nparts;
    t = prw__now();
    PRW_TRY(write_phase(b, pool, stage, err));
    b->stats->seconds_write = prw__now() - t;
    b->stats->seconds_total = prw__now() - b->t0;
    b->stats->peak_rss_bytes = prw__pl_peak_rss();
    return publish(b, stage, err);
}

static prw_status build_main(const prw_build_options *opts, prw_build_stats *stats, prw__plan *plan,
                             prw__pl_prepared *prep, prw_error *err) {
    pl_build b;
    memset(&b, 0, sizeof b);
    b.o = opts;
    b.stats = stats;
    b.t0 = prw__now();
    b.workers = opts->workers > 0 ? opts->workers : prw__online_cpus();
    b.max_row = opts->max_row_size ? opts->max_row_size : DEFAULT_MAX_ROW_SIZE;
    /* Parsed once (check_options validated it): the writers, the spill plan and the workers'
     * chunk encoders all read b.ar. */
    PRW_TRY(prw_ar_options_parse(opts->ar_options ? opts->ar_options : "", &b.ar, err));
    b.chunked = b.ar.group_size == 1;
    stats->workers = b.workers;
    b.limit = opts->memory_limit ? opts->memory_limit : prw__pl_default_memory_limit();
    stats->memory_limit = b.limit;
    b.slots_free = (size_t)b.workers;
    b.spill_slot = b.stage_slot = -1;
    b.n_train = -1;
    b.only_shard = -1;
    b.plan = plan;
    if (plan) {
        b.bounds = plan->bounds;
        b.n_train = plan->n_train;
    }
    if (prep) {
        b.bounds = prep->bounds;
        b.n_train = prep->n_train;
        b.rank_base = prep->rank_base;
        b.only_shard = prep->shard;
    }
    prw__mutex_init(&b.slot_mu);
    prw__cond_init(&b.slot_cv);
    prw__mutex_init(&b.pool_mu);
    prw__mutex_init(&b.err_mu);
    prw__mutex_init(&b.done_mu);
    prw__cond_init(&b.done_cv);

    char stage[PATH_BUF];
    prw_status st = prw__mkdir_p(opts->output_dir, err);
    if (st == PRW_OK) {
        path_fmt(stage, sizeof stage, "%s/.proberows-staging-XXXXXX", opts->output_dir);
        if (!mkdtemp(stage))
            st = prw__error_sys(err, errno, "cannot create a directory in %s", opts->output_dir);
    }
    if (st == PRW_OK) {
        b.stage_slot = prw__pl_temp_register(stage);
        prw__pool *pool = NULL;
        st = prw__pool_create(&pool, b.workers, (size_t)b.workers * 4 + 8, err);
        b.pool = pool;
        if (st == PRW_OK)
            st = prep ? run_prepared(&b, pool, stage, prep, err) : run(&b, pool, stage, err);
        prw__pool_destroy(pool);
        build_cleanup(&b);
        remove_tree(stage);
        prw__pl_temp_unregister(b.stage_slot);
    }
    prw__mutex_destroy(&b.slot_mu);
    prw__cond_destroy(&b.slot_cv);
    prw__mutex_destroy(&b.pool_mu);
    prw__mutex_destroy(&b.err_mu);
    prw__mutex_destroy(&b.done_mu);
    prw__cond_destroy(&b.done_cv);
    return st;
}

prw_status prw__pl_build_prepared(const prw_build_options *o, prw__pl_prepared *p,
                                  prw_build_stats *stats, prw_error *err) {
    memset(stats, 0, sizeof *stats);
    PRW_TRY(check_options(o, err));
    PRW_CHECK(p->shard >= 0 && p->shard < o->shards, err, PRW_E_INVALID, -1, "bad shard %d",
              p->shard);
    return build_main(o, stats, NULL, p, err);
}

prw_status prw_build(const prw_build_options *opts, prw_build_stats *stats, prw_error *err) {
    prw_build_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    if (!opts || !opts->plan) {
        PRW_TRY(check_options(opts, err));
        return build_main(opts, stats, NULL, NULL, err);
    }
    /* build --plan: the plan's inputs and options, its key ranges as shards. */
    PRW_CHECK(opts->n_inputs == 0, err, PRW_E_INVALID, -1,
              "--plan takes the inputs from the plan: give no --input");
    PRW_CHECK(opts->shards <= 1, err, PRW_E_INVALID, -1,
              "--plan takes the shards from the plan: give no --shards");
    prw__plan *plan = NULL;
    PRW_TRY(prw__plan_load(opts->plan, &plan, err));
    prw_build_options o = *opts;
    o.inputs = plan->opts.inputs;
    o.n_inputs = plan->opts.n_inputs;
    o.split = plan->opts.split;
    o.train_ratio = plan->opts.train_ratio;
    o.null_rtt = plan->opts.null_rtt;
    o.max_row_size = plan->opts.max_row_size;
    o.ar_options = plan->opts.ar_options;
    o.shards = plan->opts.shards;
    for (int c = 0; c < PRW_COL_COUNT; c++)
        o.columns[c] = plan->opts.columns[c];
    prw_status st = check_options(&o, err);
    if (st == PRW_OK)
        st = build_main(&o, stats, plan, NULL, err);
    prw__plan_free(plan);
    return st;
}
