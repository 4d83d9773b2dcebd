/*
 * The build engine's job: scan the inputs, choose the mode from the footers (in memory, or
 * memory-bounded when the estimate exceeds the limit), run that mode's phases, which leave a
 * partition source, then the one write phase over it, and publish. A scale-out reduce task
 * enters with its own source (prw__pl_build_prepared). The phases are in the files named in
 * bd_engine.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/bd_engine.h"
#include "build/bd_outdir.h"
#include "common/io.h"

/* After the last row group is decoded: the decoders' column buffers and string caches (on M
 * ~150 MB per worker) would otherwise stay resident through the write phase. */
void prw__bd_release_decoders(bd_build *b) {
    for (size_t i = 0; i < b->ndecoders && b->decoders; i++) {
        prw__pl_decoder_destroy(b->decoders[i]);
        b->decoders[i] = NULL;
    }
}

static void build_cleanup(bd_build *b) {
    prw__bd_bounded_release(b);
    if (b->dec)
        for (size_t g = 0; g < b->nrg; g++)
            prw__free(b->dec[g].rows);
    prw__free(b->dec);
    prw__free(b->halves);
    for (size_t i = 0; i < b->ndecoders; i++) {
        prw__pl_decoder_destroy(b->decoders[i]);
        prw__bd_scratch_cleanup(&b->scratch[i]);
    }
    prw__free(b->decoders);
    prw__free(b->scratch);
    prw__free(b->free_dec);
    prw__free(b->free_scratch);
    prw__pl_source_close(b->src);
    prw__intern_cleanup(&b->pr.src_tab);
    prw__intern_cleanup(&b->pr.dst_tab);
    prw__free(b->pr.rank);
    prw__free(b->pr.by_rank);
    prw__free(b->pr.probe_rows);
    prw__free(b->pr.probe_bytes);
    prw__free(b->pr.src_id);
    prw__free(b->pr.probe_split);
    prw__free(b->pr.probe_shard);
    prw__free(b->pr.probe_part);
    prw__free(b->pt.part_key);
    if (b->source) /* before the state it reads */
        b->source->release(b->source);
    prw__bd_memsrc_cleanup(&b->mem);
    prw__free(b->oq.parts);
    prw__bd_scratch_cleanup(&b->oq.main_scratch);
    prw__bd_bounded_cleanup(&b->bm);
}

static prw_status setup_workers(bd_build *b, prw_error *err) {
    size_t n = (size_t)b->workers;
    b->ndecoders = n;
    b->decoders = prw__calloc(n, sizeof *b->decoders);
    b->scratch = prw__calloc(n, sizeof *b->scratch);
    b->free_dec = prw__calloc(n, sizeof *b->free_dec);
    b->free_scratch = prw__calloc(n, sizeof *b->free_scratch);
    if (!b->decoders || !b->scratch || !b->free_dec || !b->free_scratch)
        return prw__error_nomem(err, "worker contexts",
                                n * (sizeof *b->decoders + sizeof *b->scratch +
                                     sizeof *b->free_dec + sizeof *b->free_scratch));
    for (size_t i = 0; i < n; i++) {
        PRW_TRY(prw__pl_decoder_create(b->src, &b->decoders[i], err));
        b->free_dec[b->nfree_dec++] = i;
        b->free_scratch[b->nfree_scratch++] = i;
    }
    return PRW_OK;
}

/*
 * Decides between the in-memory and the memory-bounded mode from the footers: the rows of the
 * in-memory mode cost about 64 bytes each at their peak (decoded, grouped, encoded output),
 * plus a decoded row group per worker. Returns b->bm.on.
 */
static bool choose_mode(bd_build *b) {
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
    b->bm.rg_cost = rg_cost + prw__spill_scratch_bytes(8192);
    uint64_t est = rows * 64 + (uint64_t)b->workers * b->bm.rg_cost + PRW_BD_RSS_BASE + (64u << 20);
    b->bm.on = est > b->bm.limit;
    b->stats->spilled = b->bm.on;
    return b->bm.on;
}

static prw_status run(bd_build *b, prw__pool *pool, const char *stage, prw_error *err) {
    const prw_build_options *o = b->o;
    prw_build_stats *st = b->stats;
    double t = prw__now();
    char **paths = NULL;
    size_t npaths = 0;
    PRW_TRY(prw__pl_glob(o->inputs, o->n_inputs, &paths, &npaths, err));
    prw_status s = prw__pl_source_open(&b->src, paths, npaths, o, false, err);
    prw__pl_free_paths(paths, npaths);
    PRW_TRY(s);
    if (choose_mode(b)) {
        prw__alloc_bound_retention(b->bm.limit);
        /* Mapped input pages would count in the resident set: read with pread instead. */
        PRW_TRY(prw__pl_source_use_pread(b->src, o, err));
    }
    st->files_writer_bug = prw__pl_source_warn(b->src, o->warning, o->warning_ctx);
    prw__pl_source_add_stats(b->src, st);
    b->nrg = prw__pl_source_row_groups(b->src);
    st->row_groups = (int64_t)b->nrg;
    prw__bd_report(b, "scan", st->files, st->files, true);
    st->seconds_scan = prw__now() - t;

    t = prw__now();
    PRW_TRY(setup_workers(b, err));
    PRW_TRY(prw__intern_init(&b->pr.src_tab, err));
    PRW_TRY(prw__intern_init(&b->pr.dst_tab, err));
    b->dec = prw__calloc(b->nrg ? b->nrg : 1, sizeof *b->dec);
    if (!b->dec)
        return prw__error_nomem(err, "row group list", b->nrg * sizeof *b->dec);
    /* The two modes differ up to here: each leaves its partition source in b->source. A file
     * cut short or rewritten meanwhile is named as the cause of what its reader then found. */
    PRW_TRY(prw__pl_source_blame_change(b->src,
                                        b->bm.on ? prw__bd_bounded_phases(b, pool, err)
                                                 : prw__bd_memory_phases(b, pool, err),
                                        err));
    /* Every input row has been read (the bounded mode read src_addr in its key pass and the
     * rest later): a file written to meanwhile may have given rows of two versions. */
    PRW_TRY(prw__pl_source_check_unchanged(b->src, err));
    t = prw__now();
    double c = prw__bd_cpu_now();
    PRW_TRY(prw__bd_write_phase(b, pool, stage, err));
    st->seconds_write = prw__now() - t;
    st->cpu_write = prw__bd_cpu_now() - c;
    st->seconds_total = prw__now() - b->t0;
    st->peak_rss_bytes = prw__pl_peak_rss();
    return prw__bd_publish(b, stage, err);
}

/* Rows made elsewhere (prw__pl_prepared, a reduce task): the source's parts, each read,
 * grouped and encoded by a worker, the shard written in part order. */
static prw_status run_prepared(bd_build *b, prw__pool *pool, const char *stage, prw__pl_prepared *p,
                               prw_error *err) {
    size_t n = (size_t)b->workers;
    b->ndecoders = n; /* no decoders: only the scratch of the write phase */
    b->decoders = prw__calloc(n, sizeof *b->decoders);
    b->scratch = prw__calloc(n, sizeof *b->scratch);
    b->free_scratch = prw__calloc(n, sizeof *b->free_scratch);
    if (!b->decoders || !b->scratch || !b->free_scratch)
        return prw__error_nomem(err, "worker contexts", n * sizeof *b->scratch);
    for (size_t i = 0; i < n; i++)
        b->free_scratch[b->nfree_scratch++] = i;
    b->pr.src_tab = *p->src_tab;
    memset(p->src_tab, 0, sizeof *p->src_tab);
    b->pr.dst_tab = *p->dst_tab;
    memset(p->dst_tab, 0, sizeof *p->dst_tab);
    double t = prw__now();
    PRW_TRY(prw__bd_rank_probes(b, pool, err));
    b->pt.nparts = p->nparts;
    b->pt.part_key = prw__malloc_array(b->pt.nparts + 1, sizeof *b->pt.part_key);
    if (!b->pt.part_key)
        return prw__error_nomem(err, "partitions", (b->pt.nparts + 1) * sizeof *b->pt.part_key);
    memcpy(b->pt.part_key, p->part_key, (b->pt.nparts + 1) * sizeof *b->pt.part_key);
    PRW_CHECK(b->pt.part_key[b->pt.nparts] == b->pr.n_probes, err, PRW_E_INVALID, -1,
              "parts of %u probes for a range of %u", b->pt.part_key[b->pt.nparts], b->pr.n_probes);
    for (size_t q = 0; q < b->pt.nparts; q++)
        b->pt.nrows += b->source->rows(b->source, q);
    /* Estimated from the plan's counts (rows of 28 bytes and a 16-byte dst_addr) until a part
     * is read: output buffer sizes only. */
    for (uint32_t r = 0; r < b->pr.n_probes; r++) {
        b->pr.probe_rows[r] = p->est_rows[r];
        b->pr.probe_bytes[r] = p->est_rows[r] * 44;
    }
    prw__bd_add_src_estimate(&b->pr, 0, b->pr.n_probes);
    prw__bd_assign_shards(&b->pr, b->o, &b->kr);
    b->stats->seconds_group = prw__now() - t;
    b->stats->partitions = (int64_t)b->pt.nparts;
    t = prw__now();
    double c = prw__bd_cpu_now();
    PRW_TRY(prw__bd_write_phase(b, pool, stage, err));
    b->stats->seconds_write = prw__now() - t;
    b->stats->cpu_write = prw__bd_cpu_now() - c;
    b->stats->seconds_total = prw__now() - b->t0;
    b->stats->peak_rss_bytes = prw__pl_peak_rss();
    return prw__bd_publish(b, stage, err);
}

/* Everything but the job itself: state, staging directory, pool; then cleanup. */
static prw_status build_main(const prw_build_options *opts, prw_build_stats *stats,
                             const prw__bd_ranges *kr, prw__pl_prepared *prep, prw_error *err) {
    bd_build b;
    memset(&b, 0, sizeof b);
    b.o = opts;
    b.stats = stats;
    b.t0 = prw__now();
    b.workers = opts->workers > 0 ? opts->workers : prw__online_cpus();
    b.max_row = opts->max_row_size ? opts->max_row_size : PRW_BD_DEFAULT_MAX_ROW_SIZE;
    /* Parsed once (prw__bd_check_options validated it): the writers, the spill plan and the
     * workers' chunk encoders all read b.ar. */
    PRW_TRY(prw_ar_options_parse(opts->ar_options ? opts->ar_options : "", &b.ar, err));
    b.chunked = b.ar.group_size == 1;
    stats->workers = b.workers;
    b.bm.limit = opts->memory_limit ? opts->memory_limit : prw__pl_default_memory_limit();
    stats->memory_limit = b.bm.limit;
    b.slots_free = (size_t)b.workers;
    b.bm.spill_slot = b.stage_slot = -1;
    b.kr = *kr;
    if (prep)
        b.source = prep->source;
    prw__mutex_init(&b.slot_mu);
    prw__cond_init(&b.slot_cv);
    prw__mutex_init(&b.pool_mu);
    prw__mutex_init(&b.err_mu);
    prw__mutex_init(&b.oq.done_mu);
    prw__cond_init(&b.oq.done_cv);

    /* Created if missing, locked (a reduce task shares the lock with its siblings), recovered,
     * swept; the new files go to a staging folder inside it. */
    prw__bd_outdir od;
    prw_status st =
        prw__bd_outdir_open(&od, opts->output_dir, opts->temp_dir, prep != NULL, true, stats, err);
    if (st == PRW_OK) {
        b.od = &od;
        const char *stage = od.stage.path;
        b.stage_slot = prw__pl_temp_register(stage);
        prw__pool *pool = NULL;
        st = prw__pool_create(&pool, b.workers, (size_t)b.workers * 4 + 8, err);
        b.pool = pool;
        if (st == PRW_OK)
            st = prep ? run_prepared(&b, pool, stage, prep, err) : run(&b, pool, stage, err);
        prw__pool_destroy(pool);
        if (prep)
            b.source = NULL; /* the caller's */
        build_cleanup(&b);
        prw__pl_temp_unregister(b.stage_slot);
        prw__bd_outdir_close(&od, st < 0);
    }
    prw__mutex_destroy(&b.slot_mu);
    prw__cond_destroy(&b.slot_cv);
    prw__mutex_destroy(&b.pool_mu);
    prw__mutex_destroy(&b.err_mu);
    prw__mutex_destroy(&b.oq.done_mu);
    prw__cond_destroy(&b.oq.done_cv);
    return st;
}

prw_status prw__pl_build_prepared(const prw_build_options *o, prw__pl_prepared *p,
                                  prw_build_stats *stats, prw_error *err) {
    memset(stats, 0, sizeof *stats);
    PRW_TRY(prw__bd_check_options(o, err));
    PRW_CHECK(p->shard >= 0 && p->shard < o->shards, err, PRW_E_INVALID, -1, "bad shard %d",
              p->shard);
    prw__bd_ranges kr = {p->bounds, p->rank_base, p->n_train, p->shard, false, 0, 0};
    return build_main(o, stats, &kr, p, err);
}

prw_status prw__bd_build(const prw_build_options *o, prw_build_stats *stats,
                         const prw__bd_ranges *kr, prw_error *err) {
    PRW_TRY(prw__bd_check_options(o, err));
    prw__bd_ranges none = {NULL, 0, -1, -1, false, 0, 0};
    return build_main(o, stats, kr ? kr : &none, NULL, err);
}
