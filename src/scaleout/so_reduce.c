/*
 * `proberows reduce` (scaleout.h, docs/SLURM.md); finalize is in so_finalize.c.
 *
 * Reduce task K opens range K's run file of every map task in map order (format in so_run.c):
 * the files are mapped, their dictionaries interned, their row blocks indexed by part. The
 * range's probes come from plan.probes in rank order, so intern id = rank - range start. The
 * build's write phase (prw__pl_build_prepared) then reads, groups and encodes one part at a
 * time on each worker: a part's blocks from every map task, in map order, are its rows in
 * input order, exactly as the single-machine build sees them. Memory is bounded by the parts
 * in flight, not by the range. Every header, length and index of a run file is checked before
 * it is used: a damaged file fails with its path and the byte offset.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/hash.h"
#include "common/io.h"
#include "scaleout/so_plan.h"
#include "common/json.h"
#include "scaleout/so_run.h"
#include "scaleout/so_source.h"
#include "proberows/arrayrecord.h"
#include "proberows/scaleout.h"

typedef struct reduce_state {
    prw__plan *plan;
    prw__intern src_tab, dst_tab; /* zeroed until initialised and once moved into the build */
    uint64_t *est_rows;           /* by local rank */
    uint32_t *part_key;
    prw__run_set *runs;
    prw__part_source *source; /* over runs */
} reduce_state;

/* Opens run file (map i, range k) into the set. */
static prw_status open_run(reduce_state *s, uint32_t i, uint32_t k, prw_error *err) {
    char path[PRW_PATH_BUF];
    prw__run_name(s->plan, path, sizeof path, i, k);
    prw_status st = prw__run_set_open(s->runs, i, path, &s->dst_tab, err);
    if (st == PRW_E_IO)
        return prw__error_sys(err, err->sys_errno,
                              "%s: run file of map task %u missing or unreadable (did map task "
                              "%u finish?)",
                              path, i, i);
    return st;
}

static prw_status write_small(const char *path, const prw__buf *b, prw_error *err) {
    prw__wfile f = {0};
    f.fd = -1;
    prw_status s = prw__wfile_open(&f, path, err);
    if (s == PRW_OK)
        s = prw__wfile_write(&f, b->data, b->len, err);
    if (s == PRW_OK)
        s = prw__wfile_commit(&f, err);
    prw__wfile_abort(&f);
    return s;
}

static prw_status write_reduce_stats(const prw__plan *p, uint32_t k, const prw_build_stats *st,
                                     prw_error *err) {
    char path[PRW_PATH_BUF];
    prw__plan_path(p, path, sizeof path, ".runs/reduce-%05u.json", k);
    prw__buf b;
    prw__buf_init(&b);
    prw_status s = prw__buf_printf(&b, err, "{\"plan_id\": \"%016llx\", \"task\": %u",
                                   (unsigned long long)p->id, k);
    static const char *const names[2] = {"train", "test"};
    for (int i = 0; i < 2 && s == PRW_OK; i++) {
        const prw_build_split_stats *x = &st->split[i];
        s = prw__buf_printf(&b, err,
                            ", \"%s\": {\"probes\": %lld, \"records\": %lld, \"measurements\": "
                            "%lld, \"bytes\": %lld}",
                            names[i], (long long)x->probes, (long long)x->records,
                            (long long)x->measurements, (long long)x->bytes);
    }
    if (s == PRW_OK)
        s = prw__buf_printf(&b, err, ", \"probes_cut\": %lld}\n", (long long)st->split_probes_cut);
    if (s == PRW_OK)
        s = write_small(path, &b, err);
    prw__buf_cleanup(&b);
    return s;
}

static prw_status reduce_run(reduce_state *s, uint32_t k, int workers, prw_build_stats *st,
                             prw_error *err) {
    const prw__plan *p = s->plan;
    PRW_TRY(prw__intern_init(&s->src_tab, err));
    PRW_TRY(prw__intern_init(&s->dst_tab, err));
    uint32_t first = p->bounds[k], n = p->bounds[k + 1] - first;
    s->est_rows = prw__malloc_array(n ? n : 1, sizeof *s->est_rows);
    s->part_key = prw__malloc_array((size_t)n + 2, sizeof *s->part_key);
    if (!s->est_rows || !s->part_key)
        return prw__error_nomem(err, "probe counts",
                                (n ? n : 1) * sizeof *s->est_rows +
                                    ((size_t)n + 2) * sizeof *s->part_key);
    PRW_TRY(prw__plan_load_probes(p, first, p->bounds[k + 1], &s->src_tab, s->est_rows, err));
    size_t nparts = prw__run_parts(s->est_rows, n, s->part_key);
    PRW_TRY(prw__run_set_create(&s->runs, p->id, k, p->map_tasks, s->part_key, nparts, err));
    for (uint32_t i = 0; i < p->map_tasks; i++)
        PRW_TRY(open_run(s, i, k, err));
    prw_build_options o = p->opts;
    o.output_dir = p->dir;
    o.workers = workers;
    size_t nw = (size_t)(workers > 0 ? workers : prw__online_cpus());
    PRW_TRY(prw__so_run_source(&s->source, s->runs, s->part_key, nparts, nw, err));
    prw__pl_prepared prep = {&s->src_tab, &s->dst_tab, s->source,  s->part_key, nparts,
                             s->est_rows, first,       p->n_train, p->bounds,   (int)k};
    /* The build takes the tables (zeroing ours) unless it refuses the options first. */
    PRW_TRY(prw__pl_build_prepared(&o, &prep, st, err));
    return write_reduce_stats(p, k, st, err);
}

prw_status prw_reduce(const char *plan_path, int task, int workers, prw_build_stats *stats,
                      prw_error *err) {
    prw_build_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    PRW_CHECK(plan_path, err, PRW_E_INVALID, -1, "no --plan given");
    PRW_CHECK(workers >= 0 && workers <= 1024, err, PRW_E_INVALID, -1,
              "--workers must be between 1 and 1024");
    reduce_state s;
    memset(&s, 0, sizeof s);
    PRW_TRY(prw__plan_load(plan_path, &s.plan, err));
    prw_status st = PRW_OK;
    if (task < 0 || (uint32_t)task >= s.plan->reduce_tasks)
        st = prw__error_set(err, PRW_E_INVALID, -1, "reduce task %d is outside 0..%u", task,
                            s.plan->reduce_tasks - 1);
    if (st == PRW_OK)
        st = reduce_run(&s, (uint32_t)task, workers, stats, err);
    if (s.source)
        s.source->release(s.source);
    prw__run_set_destroy(s.runs);
    prw__free(s.est_rows);
    prw__free(s.part_key);
    prw__intern_cleanup(&s.src_tab);
    prw__intern_cleanup(&s.dst_tab);
    prw__plan_free(s.plan);
    return st;
}
