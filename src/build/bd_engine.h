/*
 * The build engine (`proberows build`, and the reduce tasks of the scale-out through
 * prw__bd_build_source). docs/ARCHITECTURE.md and docs/PIPELINE.md tell the phases by file:
 *
 *   bd_engine.c     the whole job: scan, choose the mode, run the phases, publish
 *   bd_tasks.c      the pool: per-row-group tasks, "run N tasks, first error wins", progress
 *   bd_decode.c     decode row groups into measurement rows (whole, or in two halves)
 *   bd_partition.c  rank probes, their sizes, train/test split and shards
 *   bd_memsrc.c     the in-memory mode: key-range partitions as slices of the decoded rows
 *   bd_bounded.c    the memory-bounded mode: key pass, sizes, spill run files
 *   bd_merge.c      the spill files as a partition source, merged probes
 *   bd_encode.c     per partition: group, cut pieces, encode output records
 *   bd_write.c      the output queue, the ArrayRecord writers, publishing
 *
 * Where a partition's rows come from is the partition source (prw__part_source): the engine
 * asks it for partition k's row count and rows and never looks at the mode again.
 */
#ifndef PRW_BUILD_BD_ENGINE_H
#define PRW_BUILD_BD_ENGINE_H

#include <stdatomic.h>
#include <time.h>

#include "arrayrecord/ar_internal.h"
#include "common/io.h"
#include "build/bd_internal.h"
#include "proberows/arrayrecord.h"

#define PRW_BD_DEFAULT_MAX_ROW_SIZE (8u << 20)
/* Room for output_dir (at most PRW_BD_MAX_DIR bytes) plus the longest name written inside. */
#define PRW_BD_MAX_DIR 3800
/* The process itself: code, libraries, thread stacks, allocator slack. */
#define PRW_BD_RSS_BASE (6ull << 20)
/* First window of a merged probe, in rows; it doubles while no cut falls inside it. */
#define PRW_BD_MERGE_WINDOW 4096

/* One output record's place in a partition's output. */
typedef struct bd_rec_meta {
    uint64_t len;
    uint32_t rank;
    int32_t n_measurements;
} bd_rec_meta;

/* One partition's encoded records, handed from a worker to the writing thread. */
typedef struct bd_part_out {
    prw__buf bytes; /* records back to back */
    prw__buf meta;  /* bd_rec_meta per record */
    int64_t probes_cut;
    bool done;
} bd_part_out;

/* A worker's own per-probe sums (no shared atomics in the row loop). */
typedef struct bd_probe_acc {
    uint64_t rows, bytes;
} bd_probe_acc;

/* Per-worker scratch for grouping and encoding. */
typedef struct bd_scratch {
    prw__pl_row *tmp; /* the grouped rows */
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
    /* Rows a source produced (read back from files), then the time sort's merge space. */
    prw__pl_row *load;
    size_t load_cap;
    prw__pl_seg *segs; /* the partition's rows, read as one sequence */
    size_t segs_cap;
} bd_scratch;

/* The probes: intern tables and everything known per probe, by rank (src_addr byte order). */
typedef struct bd_probes {
    prw__intern src_tab, dst_tab;
    uint32_t n_probes;
    uint32_t *rank;        /* by src intern id */
    uint32_t *by_rank;     /* src intern id by rank */
    uint64_t *probe_rows;  /* by rank */
    uint64_t *probe_bytes; /* estimated record bytes, for balancing shards */
    int64_t *src_id;       /* by rank */
    uint8_t *probe_split;  /* by rank: 0 train, 1 test */
    uint32_t *probe_shard; /* by rank */
    uint32_t *probe_part;  /* by rank: its key-range partition */
} bd_probes;

/* Key ranges fixed from outside (a scale-out plan): shards are the plan's ranges. */
typedef struct prw__bd_ranges {
    const uint32_t *bounds; /* shards + 1 global rank bounds, or NULL */
    uint32_t rank_base;     /* global rank of local rank 0 (a reduce task's range) */
    int64_t n_train;        /* the plan's ratio cut, or -1 */
    int only_shard;         /* a reduce task writes this shard alone, or -1 */
    bool check_probes;      /* the inputs must hold exactly n_probes probes of this hash: */
    uint32_t n_probes;
    uint64_t probes_hash; /* prw__pl_probe_hash over the probes in rank order */
} prw__bd_ranges;

/* The key-range partitions: the unit of encoding and of the output order. */
typedef struct bd_parts {
    size_t nparts;
    uint32_t *part_key; /* nparts + 1 rank bounds */
    size_t nrows;       /* rows of all partitions */
} bd_parts;

/* The output queue between the encoding workers and the writing thread. */
typedef struct bd_outq {
    bd_part_out *parts;
    prw__buf *spare; /* output buffers of written partitions, reused (no fresh page faults) */
    size_t nspare, spare_cap;
    size_t spare_max; /* capacity above which a written buffer is freed, not kept */
    pthread_mutex_t done_mu;
    pthread_cond_t done_cv;
    uint32_t last_rank;
    bd_scratch main_scratch; /* the writing thread's, for streamed partitions */
} bd_outq;

/* ---- the partition source ------------------------------------------------------------------ */

typedef struct prw__part_source prw__part_source;

/* Encodes rows[0, n) of a streamed probe (time order, more to follow unless `final`): sets
 * *consumed to the rows emitted as records. The engine hands it to prw__part_source.stream. */
typedef prw_status (*prw__bd_emit_fn)(void *ctx, const prw__pl_row *rows, size_t n, bool final,
                                      size_t *consumed, prw_error *err);

/*
 * Where partition k's rows come from (like nanoarrow's ArrowIpcInputStream: a table of
 * functions over private_data). Three implementations: the decoded rows in memory
 * (bd_memsrc.c), the spill run files of the memory-bounded mode (bd_merge.c) and the map
 * tasks' run files of a scale-out reduce (so_source.c). rows and produce are called from
 * the workers, for different partitions at once; stream from the writing thread.
 */
struct prw__part_source {
    /* Rows of partition k (0: nothing to encode). */
    size_t (*rows)(prw__part_source *self, size_t k);
    /* Produces partition k's rows into worker w's scratch: s->segs[0, *nsegs), read as one
     * sequence, in input order; s->load holds at least rows(k) rows of merge space after
     * them. May refine the estimates of k's probes in pr (probe_rows, probe_bytes). */
    prw_status (*produce)(prw__part_source *self, size_t w, size_t k, bd_probes *pr, bd_scratch *s,
                          size_t *nsegs, prw_error *err);
    /* Optional (NULL: never): partition k is one probe too large for memory; the writing
     * thread calls stream instead of produce, which hands its rows in (time, input) order
     * window by window to emit. */
    bool (*streamed)(prw__part_source *self, size_t k);
    prw_status (*stream)(prw__part_source *self, size_t k, prw__bd_emit_fn emit, void *ctx,
                         prw_error *err);
    void (*release)(prw__part_source *self);
    size_t max_rows; /* rows of the largest partition: scratch sized once (0: per partition) */
    size_t window;   /* partitions encoded or waiting at once (0: the engine's default) */
    void *private_data;
};

/* ---- the engine's state -------------------------------------------------------------------- */

typedef struct bd_halves bd_halves;

/* The in-memory mode's rows: the decoded row groups cut into slices (bd_memsrc.c). */
typedef struct bd_slice {
    prw__pl_row *rows;
    size_t n;
} bd_slice;
typedef struct bd_memsrc {
    bd_slice *slices; /* of at most BD_SLICE_ROWS rows each */
    size_t nslices;
    size_t *slice_part_off; /* nslices * (nparts + 1): where p starts in the slice */
    size_t *part_start;     /* nparts + 1: rows of the partitions before p */
    size_t part_max_rows;
    prw__pl_row **slicebufs; /* scatter buffers free for a task (pool_mu) */
    size_t nslicebufs;
    size_t nparts;
    prw__part_source source;
} bd_memsrc;

/* The memory-bounded mode (docs/MEMORY.md, bd_bounded.c). */
typedef struct bd_bounded {
    uint64_t limit;
    bool on; /* the build runs in this mode */
    prw__spill *spill;
    prw__pl_keyids *keyids; /* the key pass's src ids by row group, read back as ranks */
    char spill_dir[PRW_PATH_BUF];
    int spill_owner_fd; /* the locked .owner file inside spill_dir (prw__owned_dir) */
    int spill_slot;
    uint64_t *key_rows; /* by src intern id (key pass), then by rank */
    size_t key_rows_cap;
    uint8_t *part_big;   /* by partition: one probe, merged from time-sorted runs */
    size_t *part_n;      /* by partition: rows spilled */
    size_t **wcount;     /* by decoder: rows per partition of its row group */
    prw__pl_row **wrows; /* by decoder: the row group scattered by partition */
    size_t *wrows_cap;
    prw__codec_ctx **wcc; /* by decoder */
    prw__buf *wbuf;       /* by decoder */
    size_t block_rows, window;
    uint64_t rg_cost; /* bytes one row group in flight needs */
    /* A row group too large to decode whole is decoded in parts and its rows assembled and
     * spilled unit_rows at a time: each such range is a spill unit of its own (the run index
     * and the merge count units, in input order). */
    bool lean;
    bool release;        /* lean: column buffers freed between the halves and row groups */
    size_t unit_rows;    /* rows per spill unit (lean), else the largest row group */
    size_t nunits;       /* spill units of all row groups */
    size_t *unit0;       /* by row group: its first spill unit */
    prw__pl_row **urows; /* by decoder: the unit's assembled rows (lean) */
    size_t *urows_cap;
    _Atomic bool keys_sized; /* the key pass's first row group is done, its slots sized */
    uint64_t key_limit;      /* bytes the key pass's slots may use */
    uint64_t key_share;      /* bytes a key-pass decoder's src cache may keep */
    size_t merge_rows;       /* rows a merge window needs at most: a piece and one more */
    const char *too_small;   /* what the last limit error of the plan could not hold */
} bd_bounded;

typedef struct bd_build {
    const prw_build_options *o;
    prw_build_stats *stats;
    int workers;
    double t0;
    uint64_t max_row;
    prw_ar_options ar; /* writer options */
    bool chunked;      /* group_size 1: workers compress records into finished chunks */

    /* The input and its decoding (bd_decode.c). */
    prw__pl_source *src;
    size_t nrg;
    prw__pl_decoded *dec; /* per row group */
    bd_halves *halves;    /* per row group, when its columns are decoded in two halves */
    prw__pl_decoder **decoders;
    size_t ndecoders;

    /* The pool and its free lists (bd_tasks.c). */
    prw__pool *pool;
    pthread_mutex_t pool_mu; /* guards the free lists of decoders and scratch */
    size_t *free_dec;
    size_t nfree_dec;
    bd_scratch *scratch;
    size_t *free_scratch;
    size_t nfree_scratch;
    size_t slots_free; /* row groups that may be decoded at once */
    pthread_mutex_t slot_mu;
    pthread_cond_t slot_cv;
    bd_probe_acc **wprobe;    /* by decoder or task: per-probe sums */
    _Atomic size_t rank_next; /* the next slice or block of ranks to claim */
    pthread_mutex_t err_mu;
    _Atomic int failed;
    prw_status err_st;
    prw_error err;
    /* Counted by every task and, per record, by the writing thread: a cache line of its own,
     * apart from the probe tables the workers read in their loops. */
    _Alignas(64) _Atomic int64_t progress_done;
    int stage_slot;

    _Alignas(64) bd_probes pr;
    prw__bd_ranges kr;
    bd_parts pt;
    prw__part_source *source; /* the partitions' rows */
    _Alignas(64) bd_outq oq;
    bd_bounded bm;
    bd_memsrc mem;
    struct prw__bd_outdir *od; /* the output directory (bd_outdir.h) */
} bd_build;

/* CPU seconds of the whole process so far (every thread): per-phase CPU / wall. */
static inline double prw__bd_cpu_now(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- bd_options.c ---- */
prw_status prw__bd_check_options(const prw_build_options *o, prw_error *err);

/* ---- bd_tasks.c ---- */
/* A task that a task submits itself (the second half of a row group's rows). */
typedef struct bd_task {
    bd_build *b;
    size_t index;
} bd_task;
/* Work on row group `rg` with decoder `di`; *done = progress units. */
typedef prw_status (*bd_rg_work_fn)(bd_build *b, size_t di, size_t rg, int64_t *done,
                                    prw_error *err);
/* The first error of the build wins; later ones are dropped. */
void prw__bd_fail(bd_build *b, prw_status st, const prw_error *e);
void prw__bd_report(bd_build *b, const char *phase, int64_t done, int64_t total, bool end);
size_t prw__bd_take_decoder(bd_build *b);
void prw__bd_give_decoder(bd_build *b, size_t i);
/* The shape of every per-row-group task: unless the build failed, take a decoder (and with
 * `slotted` a decode slot), run the work, count its progress. */
prw_status prw__bd_rg_task(bd_build *b, size_t rg, bool slotted, bd_rg_work_fn work,
                           prw_error *err);
/* Makes k more decode slots free (a phase that sized its slots after its first task). */
void prw__bd_slots_add(bd_build *b, size_t k);
/* Runs fn(b, i) for i in [0, n) on the pool (prw__pool_run_all), reporting progress of
 * `phase` (out of `total`); the build's first error is returned and recorded. */
prw_status prw__bd_run_all(bd_build *b, prw__pool *pool, size_t n, prw__run_fn fn,
                           const char *phase, int64_t total, prw_error *err);

/* ---- bd_decode.c ---- */
/* Decodes every row group into b->dec (in halves when there are fewer than workers). */
prw_status prw__bd_decode_all(bd_build *b, prw__pool *pool, prw_error *err);

/* ---- bd_partition.c ---- */
prw_status prw__bd_rank_probes(bd_build *b, prw__pool *pool, prw_error *err);
void prw__bd_add_probe_sums(bd_probes *pr, bd_probe_acc *const *sums, size_t n);
void prw__bd_add_src_estimate(bd_probes *pr, uint32_t r0, uint32_t r1);
void prw__bd_assign_shards(bd_probes *pr, const prw_build_options *o, const prw__bd_ranges *kr);
prw_status prw__bd_check_probes(const bd_probes *pr, const prw__bd_ranges *kr, prw_error *err);

/* ---- bd_memsrc.c, bd_bounded.c: the two modes up to the write phase ---- */
prw_status prw__bd_memory_phases(bd_build *b, prw__pool *pool, prw_error *err);
prw_status prw__bd_bounded_phases(bd_build *b, prw__pool *pool, prw_error *err);
/* Frees the bounded mode's per-worker state (after the spill, and at cleanup). */
void prw__bd_bounded_release(bd_build *b);
void prw__bd_bounded_cleanup(bd_bounded *bm);
void prw__bd_memsrc_cleanup(bd_memsrc *m);

/* ---- bd_merge.c ---- */
/* The spill files' source; part_n and part_big are by partition (borrowed). A merge window
 * grows to window_max rows at most (0: no bound), enough rows for one piece and its cut. */
prw_status prw__bd_spill_source(prw__part_source **out, prw__spill *spill, const size_t *part_n,
                                const uint8_t *part_big, size_t nrg, size_t block_rows,
                                size_t workers, size_t window, size_t window_max, prw_error *err);

/* ---- bd_encode.c ---- */
void prw__bd_scratch_cleanup(bd_scratch *s);
prw_status prw__bd_encode_probe(const bd_build *b, bd_scratch *s, uint32_t rank,
                                const prw__pl_row *rows, size_t n, bool final, size_t *consumed,
                                size_t *pieces, bd_part_out *out, prw_error *err);
void prw__bd_encode_task(void *arg);

/* ---- bd_write.c ---- */
void prw__bd_path_fmt(char *buf, size_t cap, const char *fmt, ...) PRW_PRINTF(3, 4);
void prw__bd_shard_name(char *buf, size_t cap, const char *dir, const char *split, int shard,
                        int shards);
prw_status prw__bd_write_phase(bd_build *b, prw__pool *pool, const char *stage, prw_error *err);
prw_status prw__bd_publish(bd_build *b, const char *stage, prw_error *err);

/* ---- bd_engine.c ---- */
void prw__bd_release_decoders(bd_build *b);

/**
 * The build of prw_build: checks the options, then the whole job. kr (NULL: none) fixes the
 * key ranges and the probes the inputs must hold (build --plan).
 */
prw_status prw__bd_build(const prw_build_options *o, prw_build_stats *stats,
                         const prw__bd_ranges *kr, prw_error *err);

/**
 * Rows made elsewhere (a reduce task): the probes of one key range (src interned in rank
 * order, so id = rank - rank_base), a partition source over its parts (keys = local ranks;
 * dst_addr strings interned into dst_tab) and the plan's cut and bounds.
 */
typedef struct prw__pl_prepared {
    prw__intern *src_tab, *dst_tab; /* moved into the build (left zeroed) */
    prw__part_source *source;       /* the caller's: not released by the build */
    const uint32_t *part_key;       /* nparts + 1 local rank bounds of the source's parts */
    size_t nparts;
    const uint64_t *est_rows; /* by local rank: the plan's row counts, for buffer sizes */
    uint32_t rank_base;
    int64_t n_train;
    const uint32_t *bounds; /* shards + 1 global rank bounds */
    int shard;              /* the only shard written */
} prw__pl_prepared;

/**
 * Groups, encodes and writes shard p->shard of both splits into o->output_dir (atomically),
 * exactly as prw_build writes that shard with the same plan; no manifest.
 */
prw_status prw__pl_build_prepared(const prw_build_options *o, prw__pl_prepared *p,
                                  prw_build_stats *stats, prw_error *err);

#endif
