/*
 * `proberows plan`: the scale-out plan (include/proberows/scaleout.h, docs/SLURM.md).
 *
 * One pass over the src_addr column (prw__pl_scan_keys_rg: the key pass of the memory-bounded
 * build, dictionary pages interned once) gives the distinct probes and their row counts. The
 * probes sorted by bytes are the global ranks; they go to plan.probes:
 *
 *     "PRWPRB01" | u64 count | count × (u32 len | bytes | u64 rows)     (little-endian)
 *
 * plan.json records the inputs (absolute paths, sizes, rows), the map tasks (contiguous runs
 * of files, balanced by bytes), the reduce tasks (contiguous rank ranges, balanced by rows),
 * the ratio split's cut, every build option, and the hash of the probe list, which every
 * later task checks. Both files are written through a temporary and renamed.
 */
#define _GNU_SOURCE /* realpath() */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/io.h"
#include "common/publish.h"
#include "scaleout/so_plan.h"
#include "common/json.h"
#include "proberows/arrayrecord.h"
#include "proberows/scaleout.h"

#define PLAN_VERSION 2
#define PROBES_MAGIC "PRWPRB01"

void prw__plan_path(const prw__plan *p, char *buf, size_t cap, const char *fmt, ...) {
    int n = snprintf(buf, cap, "%s/", p->dir);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < cap)
        vsnprintf(buf + n, cap - (size_t)n, fmt, ap);
    va_end(ap);
}

/* ---- the key pass and ranks ------------------------------------------------------------------ */

typedef struct plan_key {
    const uint8_t *p;
    size_t len;
    uint32_t id;
} plan_key;

static const char *split_name(prw_split_rule r) {
    return r == PRW_SPLIT_HASH ? "hash" : "ratio";
}

static const char *null_rtt_name(prw_null_rtt r) {
    return r == PRW_NULL_RTT_DROP ? "drop" : r == PRW_NULL_RTT_FAILED ? "failed" : "keep";
}

typedef struct plan_state {
    prw__pl_source *src;
    prw__intern tab;
    uint64_t *counts; /* by intern id */
    _Atomic size_t next_rg;
    _Atomic int failed;
    plan_key *keys;
    char **abs;
    size_t nabs;
    prw__buf out;
} plan_state;

/* One key-pass worker: takes row groups in order from a shared counter, interns their
 * src_addr strings into the shared table and counts their rows in its decoder. */
typedef struct plan_worker {
    plan_state *s;
    prw__pl_decoder *dec;
} plan_worker;

/* Worker i of the key pass: scans the row groups it claims until none is left. */
static prw_status key_worker(void *ctx, size_t i, prw_error *err) {
    plan_worker *w = (plan_worker *)ctx + i;
    plan_state *s = w->s;
    size_t nrg = prw__pl_source_row_groups(s->src);
    for (;;) {
        if (atomic_load(&s->failed))
            return PRW_OK; /* another worker's error is the result */
        size_t g = atomic_fetch_add(&s->next_rg, 1);
        if (g >= nrg)
            return PRW_OK;
        size_t n = 0;
        const uint32_t *ids = NULL;
        prw_status st = prw__pl_scan_keys_rg(w->dec, g, &s->tab, &n, &ids, err);
        if (st < 0) {
            atomic_store(&s->failed, 1);
            return st;
        }
    }
}

static prw_status key_pass(plan_state *s, int workers, prw_error *err) {
    size_t nrg = prw__pl_source_row_groups(s->src);
    if ((size_t)workers > nrg)
        workers = nrg ? (int)nrg : 1;
    plan_worker *w = prw__calloc((size_t)workers, sizeof *w);
    if (!w)
        return prw__error_nomem(err, "key workers", (size_t)workers * sizeof *w);
    prw_status st = PRW_OK;
    int made = 0;
    for (; made < workers && st == PRW_OK; made++) {
        w[made].s = s;
        st = prw__pl_decoder_create(s->src, &w[made].dec, err);
    }
    prw__pool *pool = NULL;
    if (st == PRW_OK)
        st = prw__pool_create(&pool, workers, (size_t)workers, err);
    if (st == PRW_OK) /* the first failure in time is reported */
        st = prw__pool_run_all(pool, (size_t)workers, key_worker, w, NULL, NULL, err);
    prw__pool_destroy(pool);
    if (st == PRW_OK) {
        s->counts = prw__calloc(s->tab.n ? s->tab.n : 1, sizeof *s->counts);
        if (!s->counts)
            st = prw__error_nomem(err, "key counts", s->tab.n * sizeof *s->counts);
        for (int i = 0; i < workers && st == PRW_OK; i++)
            prw__pl_decoder_take_key_rows(w[i].dec, s->counts, s->tab.n);
    }
    for (int i = 0; i < made; i++)
        prw__pl_decoder_destroy(w[i].dec);
    prw__free(w);
    return st;
}

static prw_status write_probes(plan_state *s, const char *dir, uint64_t *hash, prw_error *err) {
    size_t n = s->tab.n;
    prw__buf b;
    prw__buf_init(&b);
    prw_status st = prw__buf_append(&b, PROBES_MAGIC, 8, err);
    uint8_t w[8];
    prw__store_le64(w, n);
    if (st == PRW_OK)
        st = prw__buf_append(&b, w, 8, err);
    uint64_t h = PRW_FNV1A64_INIT;
    for (size_t r = 0; r < n && st == PRW_OK; r++) {
        const plan_key *k = &s->keys[r];
        prw__store_le32(w, (uint32_t)k->len);
        st = prw__buf_append(&b, w, 4, err);
        if (st == PRW_OK)
            st = prw__buf_append(&b, k->p, k->len, err);
        prw__store_le64(w, s->counts[k->id]);
        if (st == PRW_OK)
            st = prw__buf_append(&b, w, 8, err);
        h = prw__pl_probe_hash(h, k->p, k->len);
    }
    char path[PRW_PATH_BUF];
    snprintf(path, sizeof path, "%s/plan.probes", dir);
    prw__wfile f = {0};
    f.fd = -1;
    if (st == PRW_OK)
        st = prw__wfile_open(&f, path, err);
    if (st == PRW_OK)
        st = prw__wfile_write(&f, b.data, b.len, err);
    if (st == PRW_OK)
        st = prw__wfile_commit(&f, err);
    prw__wfile_abort(&f);
    prw__buf_cleanup(&b);
    *hash = h;
    return st;
}

/* "options": what every task must build with, the inputs' reading included. */
static prw_status write_options(prw__buf *b, const prw_build_options *o, prw_error *err) {
    static const char *const logical[PRW_COL_COUNT] = {"event_time", "src_addr", "dst_addr",
                                                       "ip_version", "rtt"};
    char ar[PRW_AR_OPTIONS_MAX] = "";
    prw_ar_options aro;
    PRW_TRY(prw_ar_options_parse(o->ar_options ? o->ar_options : "", &aro, err));
    prw_ar_options_format(&aro, ar, sizeof ar);
    static const char *const rtt[] = {"avg", "min", "max"}, *const src[] = {"src_addr", "from"};
    PRW_TRY(prw__buf_printf(b, err,
                            "\n  ],\n  \"options\": {\"max_row_size\": %llu, \"null_rtt\": "
                            "\"%s\", \"strict\": %s, \"dump_rtt\": \"%s\", "
                            "\"dump_src_addr\": \"%s\", \"ar_options\": ",
                            (unsigned long long)(o->max_row_size ? o->max_row_size : 8u << 20),
                            null_rtt_name(o->null_rtt), o->strict ? "true" : "false",
                            rtt[o->atlas_rtt], src[o->atlas_src]));
    PRW_TRY(prw__pl_json_str(b, ar, err));
    PRW_TRY(prw__buf_printf(b, err, ", \"columns\": {"));
    for (int c = 0; c < PRW_COL_COUNT; c++) {
        PRW_TRY(prw__buf_printf(b, err, "%s\"%s\": ", c ? ", " : "", logical[c]));
        PRW_TRY(prw__pl_json_str(b, o->columns[c] ? o->columns[c] : logical[c], err));
    }
    PRW_TRY(prw__buf_printf(b, err, "}}\n}\n"));
    return PRW_OK;
}

static prw_status write_json(plan_state *s, const prw_build_options *o, int M, int N, uint64_t hash,
                             prw_plan_stats *ps, prw_error *err) {
    prw__buf *b = &s->out;
    size_t nf = prw__pl_source_files(s->src), np = s->tab.n;
    PRW_TRY(prw__buf_printf(b, err, "{\n  \"tool\": \"proberows\",\n  \"plan_version\": %d,\n",
                            PLAN_VERSION));
    PRW_TRY(prw__buf_printf(b, err, "  \"inputs\": ["));
    uint64_t total = 0;
    for (size_t f = 0; f < nf; f++) {
        PRW_TRY(prw__buf_printf(b, err, "%s\n    {\"path\": ", f ? "," : ""));
        PRW_TRY(prw__pl_json_str(b, s->abs[f], err));
        PRW_TRY(prw__buf_printf(b, err, ", \"format\": \"%s\", \"bytes\": %lld, \"rows\": %lld}",
                                prw__pl_source_format(s->src, f),
                                (long long)prw__pl_source_file_bytes(s->src, f),
                                (long long)prw__pl_source_file_rows(s->src, f)));
        total += (uint64_t)prw__pl_source_file_bytes(s->src, f);
    }
    /* Map tasks: file f goes to the task its byte midpoint falls in (contiguous, monotone). */
    PRW_TRY(prw__buf_printf(b, err, "\n  ],\n  \"map_tasks\": ["));
    size_t f = 0;
    uint64_t acc = 0;
    for (int t = 0; t < M; t++) {
        size_t first = f;
        uint64_t bytes = 0;
        while (f < nf) {
            uint64_t sz = (uint64_t)prw__pl_source_file_bytes(s->src, f);
            double mid = ((double)acc + (double)sz / 2) * M / (total ? (double)total : 1.0);
            int task = mid >= M ? M - 1 : (int)mid;
            if (task > t && t < M - 1)
                break;
            acc += sz;
            bytes += sz;
            f++;
        }
        PRW_TRY(prw__buf_printf(b, err,
                                "%s\n    {\"first_file\": %zu, \"files\": %zu, \"bytes\": %llu}",
                                t ? "," : "", first, f - first, (unsigned long long)bytes));
    }
    uint64_t rows = 0;
    for (size_t r = 0; r < np; r++)
        rows += s->counts[s->keys[r].id];
    int64_t n_train = prw__pl_ratio_train_count((int64_t)np, o->train_ratio);
    int64_t num = 0, den = 1;
    prw__pl_ratio_fraction(o->train_ratio, &num, &den);
    PRW_TRY(prw__buf_printf(b, err,
                            "\n  ],\n  \"probes\": {\"count\": %zu, \"rows\": %llu, \"file\": "
                            "\"plan.probes\", \"hash\": \"%016llx\"},\n",
                            np, (unsigned long long)rows, (unsigned long long)hash));
    PRW_TRY(prw__buf_printf(
        b, err,
        "  \"split\": {\"rule\": \"%s\", \"train_ratio\": %.17g, \"ratio\": \"%lld/%lld\", "
        "\"first_test_rank\": %lld},\n",
        split_name(o->split), o->train_ratio, (long long)num, (long long)den, (long long)n_train));
    /* Reduce tasks: rank r goes to the range its row midpoint falls in. */
    PRW_TRY(prw__buf_printf(b, err, "  \"reduce_tasks\": ["));
    size_t r = 0;
    acc = 0;
    for (int k = 0; k < N; k++) {
        size_t first = r;
        uint64_t krows = 0;
        while (r < np) {
            uint64_t c = s->counts[s->keys[r].id];
            double mid = ((double)acc + (double)c / 2) * N / (rows ? (double)rows : 1.0);
            int task = mid >= N ? N - 1 : (int)mid;
            if (task > k && k < N - 1)
                break;
            acc += c;
            krows += c;
            r++;
        }
        PRW_TRY(prw__buf_printf(b, err,
                                "%s\n    {\"first_rank\": %zu, \"probes\": %zu, \"rows\": %llu}",
                                k ? "," : "", first, r - first, (unsigned long long)krows));
    }
    PRW_TRY(write_options(b, o, err));
    if (ps) {
        ps->files = (int64_t)nf;
        ps->input_bytes = (int64_t)total;
        ps->rows = (int64_t)rows;
        ps->probes = (int64_t)np;
        ps->train_probes = o->split == PRW_SPLIT_RATIO ? n_train : -1;
    }
    return PRW_OK;
}

static prw_status plan_run(plan_state *s, const prw_build_options *o, int M, int N,
                           prw_plan_stats *ps, prw_error *err) {
    char **paths = NULL;
    size_t npaths = 0;
    PRW_TRY(prw__pl_glob(o->inputs, o->n_inputs, &paths, &npaths, err));
    s->abs = paths;
    s->nabs = npaths;
    for (size_t i = 0; i < npaths; i++) {
        char *a = realpath(paths[i], NULL);
        if (!a)
            return prw__error_sys(err, errno, "%s", paths[i]);
        char *c = prw__malloc(strlen(a) + 1);
        if (!c) {
            free(a); /* realpath's buffer comes from libc */
            return prw__error_nomem(err, "a path", strlen(paths[i]));
        }
        strcpy(c, a);
        free(a);
        prw__free(paths[i]);
        paths[i] = c;
    }
    PRW_TRY(prw__pl_source_open(&s->src, paths, npaths, o, true, err));
    prw__pl_source_warn(s->src, o->warning, o->warning_ctx);
    PRW_TRY(prw__intern_init(&s->tab, err));
    PRW_TRY(key_pass(s, o->workers > 0 ? o->workers : prw__online_cpus(), err));
    size_t n = s->tab.n;
    PRW_CHECK(n < UINT32_MAX, err, PRW_E_LIMIT, -1, "more than 2^32-1 probes");
    s->keys = prw__malloc_array(n ? n : 1, sizeof *s->keys);
    uint32_t *order = prw__malloc_array(n ? n : 1, sizeof *order);
    prw_status st =
        s->keys && order
            ? PRW_OK
            : prw__error_nomem(err, "probe keys", (n ? n : 1) * (sizeof *s->keys + sizeof *order));
    /* Byte order of src_addr, a proper prefix first: the build's probe order. */
    if (st == PRW_OK)
        st = prw__intern_sort(&s->tab, order, err);
    for (size_t r = 0; r < n && st == PRW_OK; r++)
        s->keys[r] = (plan_key){prw__intern_ptr(&s->tab, order[r]),
                                prw__intern_len(&s->tab, order[r]), order[r]};
    prw__free(order);
    PRW_TRY(st);
    uint64_t hash = 0;
    PRW_TRY(prw__mkdir_p(o->output_dir, err));
    /* A new plan under a running map, reduce or finalize would mix two runs. */
    prw__dirlock lock;
    PRW_TRY(prw__dirlock_acquire(&lock, o->output_dir, false, err));
    st = write_probes(s, o->output_dir, &hash, err);
    if (st == PRW_OK)
        st = write_json(s, o, M, N, hash, ps, err);
    char path[PRW_PATH_BUF];
    snprintf(path, sizeof path, "%s/plan.json", o->output_dir);
    prw__wfile f = {0};
    f.fd = -1;
    if (st == PRW_OK)
        st = prw__wfile_open(&f, path, err);
    if (st == PRW_OK)
        st = prw__wfile_write(&f, s->out.data, s->out.len, err);
    if (st == PRW_OK)
        st = prw__wfile_commit(&f, err);
    prw__wfile_abort(&f);
    prw__dirlock_release(&lock);
    return st;
}

prw_status prw_plan(const prw_build_options *o, int map_tasks, int reduce_tasks,
                    prw_plan_stats *stats, prw_error *err) {
    double t0 = prw__now();
    PRW_CHECK(o && o->n_inputs > 0 && o->inputs, err, PRW_E_INVALID, -1, "no --input given");
    PRW_CHECK(o->output_dir && o->output_dir[0], err, PRW_E_INVALID, -1, "no --output given");
    PRW_CHECK(strlen(o->output_dir) < 3000, err, PRW_E_INVALID, -1, "--output path too long");
    PRW_CHECK(!o->plan, err, PRW_E_INVALID, -1, "--plan cannot be given to plan");
    PRW_CHECK(map_tasks >= 1 && map_tasks <= 99999, err, PRW_E_INVALID, -1,
              "--map-tasks must be between 1 and 99999");
    PRW_CHECK(reduce_tasks >= 1 && reduce_tasks <= 99999, err, PRW_E_INVALID, -1,
              "--reduce-tasks must be between 1 and 99999");
    PRW_CHECK(o->shards <= 1 || o->shards == reduce_tasks, err, PRW_E_INVALID, -1,
              "--shards must equal --reduce-tasks (the key ranges are the shards)");
    PRW_CHECK(o->train_ratio >= 0.0 && o->train_ratio <= 1.0, err, PRW_E_INVALID, -1,
              "--train-ratio must be between 0 and 1");
    PRW_CHECK(o->max_row_size == 0 || o->max_row_size >= 1024, err, PRW_E_INVALID, -1,
              "--max-row-size must be at least 1 KiB");
    plan_state s;
    memset(&s, 0, sizeof s);
    prw__buf_init(&s.out);
    prw_status st = plan_run(&s, o, map_tasks, reduce_tasks, stats, err);
    prw__buf_cleanup(&s.out);
    prw__free(s.keys);
    prw__free(s.counts);
    prw__intern_cleanup(&s.tab);
    prw__pl_source_close(s.src);
    if (s.abs)
        prw__pl_free_paths(s.abs, s.nabs);
    if (stats && st == PRW_OK)
        stats->seconds = prw__now() - t0;
    return st;
}

/* ---- loading ------------------------------------------------------------------------------- */

void prw__plan_free(prw__plan *p) {
    if (!p)
        return;
    for (size_t i = 0; i < p->nfiles && p->paths; i++)
        prw__free(p->paths[i]);
    prw__free(p->paths);
    prw__free(p->sizes);
    prw__free(p->formats);
    prw__free(p->rows);
    prw__free(p->map_first);
    prw__free(p->bounds);
    for (int c = 0; c < PRW_COL_COUNT; c++)
        prw__free(p->columns[c]);
    prw__free(p->ar_options);
    prw__free(p->dir);
    prw__free(p->text);
    prw__free(p);
}

static char *dup_str(const char *s, size_t n) {
    char *c = prw__malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = 0;
    }
    return c;
}

/* An integer member in [lo, hi]; a missing or bad one is PRW_E_CORRUPT naming the key. */
static prw_status get_int(const prw__json *j, const prw__json_node *obj, const char *key,
                          int64_t lo, int64_t hi, int64_t *out, prw_error *err) {
    const prw__json_node *n = prw__json_get(j, obj, key);
    PRW_CHECK(n && n->type == PRW_JSON_NUMBER && n->is_int && n->i64 >= lo && n->i64 <= hi, err,
              PRW_E_CORRUPT, -1, "\"%s\" missing or out of range", key);
    *out = n->i64;
    return PRW_OK;
}

static const prw__json_node *get_type(const prw__json *j, const prw__json_node *obj,
                                      const char *key, prw__json_type t) {
    const prw__json_node *n = prw__json_get(j, obj, key);
    return n && n->type == t ? n : NULL;
}

/* "inputs": every file's path, bytes and rows. */
static prw_status parse_inputs(prw__plan *p, const prw__json *j, const prw__json_node *root,
                               prw_error *err) {
    const prw__json_node *in = get_type(j, root, "inputs", PRW_JSON_ARRAY);
    PRW_CHECK(in && in->count > 0, err, PRW_E_CORRUPT, -1, "\"inputs\" missing or empty");
    p->nfiles = in->count;
    p->paths = prw__calloc(p->nfiles, sizeof *p->paths);
    p->sizes = prw__calloc(p->nfiles, sizeof *p->sizes);
    p->rows = prw__calloc(p->nfiles, sizeof *p->rows);
    p->formats = prw__calloc(p->nfiles, sizeof *p->formats);
    if (!p->paths || !p->sizes || !p->rows || !p->formats)
        return prw__error_nomem(err, "plan inputs",
                                p->nfiles *
                                    (sizeof *p->paths + sizeof *p->sizes + sizeof *p->rows));
    size_t i = 0;
    for (const prw__json_node *f = prw__json_at(j, in, 0); f; f = prw__json_next(j, f), i++) {
        const prw__json_node *path = get_type(j, f, "path", PRW_JSON_STRING);
        PRW_CHECK(path && path->len > 0 && strlen(path->str) == path->len, err, PRW_E_CORRUPT, -1,
                  "input %zu: bad \"path\"", i);
        p->paths[i] = dup_str(path->str, path->len);
        if (!p->paths[i])
            return prw__error_nomem(err, "a path", path->len);
        PRW_TRY(get_int(j, f, "bytes", 0, INT64_MAX, &p->sizes[i], err));
        PRW_TRY(get_int(j, f, "rows", 0, INT64_MAX, &p->rows[i], err));
        const prw__json_node *fmt = get_type(j, f, "format", PRW_JSON_STRING);
        PRW_CHECK(fmt, err, PRW_E_CORRUPT, -1, "input %zu: \"format\" missing", i);
        p->formats[i] = NULL;
        for (int k = PRW_ATLAS_FMT_JSON; k <= PRW_ATLAS_FMT_PARQUET; k++)
            if (strcmp(fmt->str, prw_atlas_format_name((prw_atlas_format)k)) == 0)
                p->formats[i] = prw_atlas_format_name((prw_atlas_format)k);
        PRW_CHECK(p->formats[i], err, PRW_E_CORRUPT, -1, "input %zu: unknown \"format\" '%s'", i,
                  fmt->str);
    }
    return PRW_OK;
}

/* "map_tasks": contiguous runs of files covering the inputs. */
static prw_status parse_maps(prw__plan *p, const prw__json *j, const prw__json_node *root,
                             prw_error *err) {
    const prw__json_node *mt = get_type(j, root, "map_tasks", PRW_JSON_ARRAY);
    PRW_CHECK(mt && mt->count >= 1 && mt->count <= 99999, err, PRW_E_CORRUPT, -1,
              "\"map_tasks\" missing or bad");
    p->map_tasks = (uint32_t)mt->count;
    p->map_first = prw__calloc(mt->count + 1, sizeof *p->map_first);
    if (!p->map_first)
        return prw__error_nomem(err, "map tasks", (mt->count + 1) * sizeof *p->map_first);
    size_t next = 0, i = 0;
    for (const prw__json_node *t = prw__json_at(j, mt, 0); t; t = prw__json_next(j, t), i++) {
        int64_t first = 0, files = 0;
        PRW_TRY(get_int(j, t, "first_file", 0, (int64_t)p->nfiles, &first, err));
        PRW_TRY(get_int(j, t, "files", 0, (int64_t)p->nfiles, &files, err));
        PRW_CHECK((size_t)first == next && (size_t)(first + files) <= p->nfiles, err, PRW_E_CORRUPT,
                  -1, "map task %zu: files not contiguous", i);
        p->map_first[i] = next;
        next += (size_t)files;
    }
    PRW_CHECK(next == p->nfiles, err, PRW_E_CORRUPT, -1, "map tasks do not cover the inputs");
    p->map_first[p->map_tasks] = next;
    return PRW_OK;
}

/* "probes" (count and hash) and "split" (rule, ratio, the ratio rule's cut). */
static prw_status parse_probes_split(prw__plan *p, const prw__json *j, const prw__json_node *root,
                                     prw_error *err) {
    int64_t v = 0;
    const prw__json_node *pr = get_type(j, root, "probes", PRW_JSON_OBJECT);
    PRW_CHECK(pr, err, PRW_E_CORRUPT, -1, "\"probes\" missing");
    PRW_TRY(get_int(j, pr, "count", 0, UINT32_MAX - 1, &v, err));
    p->n_probes = (uint32_t)v;
    const prw__json_node *h = get_type(j, pr, "hash", PRW_JSON_STRING);
    char *end = NULL;
    PRW_CHECK(h && h->len == 16, err, PRW_E_CORRUPT, -1, "\"probes\".\"hash\" missing");
    p->probes_hash = strtoull(h->str, &end, 16);
    PRW_CHECK(end == h->str + 16, err, PRW_E_CORRUPT, -1, "\"probes\".\"hash\" is not hex");
    const prw__json_node *sp = get_type(j, root, "split", PRW_JSON_OBJECT);
    PRW_CHECK(sp, err, PRW_E_CORRUPT, -1, "\"split\" missing");
    const prw__json_node *rule = get_type(j, sp, "rule", PRW_JSON_STRING);
    PRW_CHECK(rule && (strcmp(rule->str, "ratio") == 0 || strcmp(rule->str, "hash") == 0), err,
              PRW_E_CORRUPT, -1, "\"split\".\"rule\" must be ratio or hash");
    p->opts.split = strcmp(rule->str, "hash") == 0 ? PRW_SPLIT_HASH : PRW_SPLIT_RATIO;
    const prw__json_node *ratio = get_type(j, sp, "train_ratio", PRW_JSON_NUMBER);
    PRW_CHECK(ratio && ratio->num >= 0 && ratio->num <= 1, err, PRW_E_CORRUPT, -1,
              "\"split\".\"train_ratio\" missing or outside [0, 1]");
    p->opts.train_ratio = ratio->num;
    PRW_TRY(get_int(j, sp, "first_test_rank", 0, p->n_probes, &p->n_train, err));
    PRW_CHECK(p->n_train == prw__pl_ratio_train_count(p->n_probes, p->opts.train_ratio), err,
              PRW_E_CORRUPT, -1, "\"first_test_rank\" disagrees with the ratio");
    return PRW_OK;
}

/* "reduce_tasks": contiguous key ranges covering the probes. */
static prw_status parse_ranges(prw__plan *p, const prw__json *j, const prw__json_node *root,
                               prw_error *err) {
    const prw__json_node *rt = get_type(j, root, "reduce_tasks", PRW_JSON_ARRAY);
    PRW_CHECK(rt && rt->count >= 1 && rt->count <= 99999, err, PRW_E_CORRUPT, -1,
              "\"reduce_tasks\" missing or bad");
    p->reduce_tasks = (uint32_t)rt->count;
    p->bounds = prw__calloc(rt->count + 1, sizeof *p->bounds);
    if (!p->bounds)
        return prw__error_nomem(err, "key ranges", (rt->count + 1) * sizeof *p->bounds);
    uint32_t rank = 0;
    size_t i = 0;
    for (const prw__json_node *t = prw__json_at(j, rt, 0); t; t = prw__json_next(j, t), i++) {
        int64_t first = 0, probes = 0;
        PRW_TRY(get_int(j, t, "first_rank", 0, p->n_probes, &first, err));
        PRW_TRY(get_int(j, t, "probes", 0, p->n_probes, &probes, err));
        PRW_CHECK((uint32_t)first == rank && first + probes <= p->n_probes, err, PRW_E_CORRUPT, -1,
                  "reduce task %zu: ranks not contiguous", i);
        p->bounds[i] = rank;
        rank += (uint32_t)probes;
    }
    PRW_CHECK(rank == p->n_probes, err, PRW_E_CORRUPT, -1, "key ranges do not cover the probes");
    p->bounds[p->reduce_tasks] = rank;
    return PRW_OK;
}

/* "options": row size, NULL policy, writer options and the column names. */
static prw_status parse_plan_options(prw__plan *p, const prw__json *j, const prw__json_node *root,
                                     prw_error *err) {
    const prw__json_node *op = get_type(j, root, "options", PRW_JSON_OBJECT);
    PRW_CHECK(op, err, PRW_E_CORRUPT, -1, "\"options\" missing");
    int64_t mr = 0;
    PRW_TRY(get_int(j, op, "max_row_size", 1024, INT64_MAX, &mr, err));
    p->opts.max_row_size = (uint64_t)mr;
    const prw__json_node *nr = get_type(j, op, "null_rtt", PRW_JSON_STRING);
    PRW_CHECK(nr, err, PRW_E_CORRUPT, -1, "\"null_rtt\" missing");
    if (strcmp(nr->str, "keep") == 0)
        p->opts.null_rtt = PRW_NULL_RTT_KEEP;
    else if (strcmp(nr->str, "drop") == 0)
        p->opts.null_rtt = PRW_NULL_RTT_DROP;
    else if (strcmp(nr->str, "failed") == 0)
        p->opts.null_rtt = PRW_NULL_RTT_FAILED;
    else
        return prw__error_set(err, PRW_E_CORRUPT, -1, "\"null_rtt\" is not keep, drop or failed");
    const prw__json_node *strict = prw__json_get(j, op, "strict");
    PRW_CHECK(strict && strict->type == PRW_JSON_BOOL, err, PRW_E_CORRUPT, -1,
              "\"strict\" missing or not true/false");
    p->opts.strict = strict->boolean;
    const prw__json_node *rtt = get_type(j, op, "dump_rtt", PRW_JSON_STRING);
    const prw__json_node *src = get_type(j, op, "dump_src_addr", PRW_JSON_STRING);
    PRW_CHECK(
        rtt && (!strcmp(rtt->str, "avg") || !strcmp(rtt->str, "min") || !strcmp(rtt->str, "max")),
        err, PRW_E_CORRUPT, -1, "\"dump_rtt\" missing or not avg, min or max");
    PRW_CHECK(src && (!strcmp(src->str, "src_addr") || !strcmp(src->str, "from")), err,
              PRW_E_CORRUPT, -1, "\"dump_src_addr\" missing or not src_addr or from");
    p->opts.atlas_rtt = !strcmp(rtt->str, "avg")   ? PRW_ATLAS_RTT_AVG
                        : !strcmp(rtt->str, "min") ? PRW_ATLAS_RTT_MIN
                                                   : PRW_ATLAS_RTT_MAX;
    p->opts.atlas_src = !strcmp(src->str, "from") ? PRW_ATLAS_SRC_FROM : PRW_ATLAS_SRC_ADDR;
    const prw__json_node *ar = get_type(j, op, "ar_options", PRW_JSON_STRING);
    PRW_CHECK(ar, err, PRW_E_CORRUPT, -1, "\"ar_options\" missing");
    prw_ar_options aro;
    PRW_TRY(prw_ar_options_parse(ar->str, &aro, err));
    p->ar_options = dup_str(ar->str, ar->len);
    if (!p->ar_options)
        return prw__error_nomem(err, "options", ar->len);
    p->opts.ar_options = p->ar_options;
    static const char *const logical[PRW_COL_COUNT] = {"event_time", "src_addr", "dst_addr",
                                                       "ip_version", "rtt"};
    const prw__json_node *cols = get_type(j, op, "columns", PRW_JSON_OBJECT);
    PRW_CHECK(cols, err, PRW_E_CORRUPT, -1, "\"columns\" missing");
    for (int c = 0; c < PRW_COL_COUNT; c++) {
        const prw__json_node *cn = get_type(j, cols, logical[c], PRW_JSON_STRING);
        PRW_CHECK(cn && cn->len > 0, err, PRW_E_CORRUPT, -1, "column \"%s\" missing", logical[c]);
        p->columns[c] = dup_str(cn->str, cn->len);
        if (!p->columns[c])
            return prw__error_nomem(err, "options", cn->len);
        p->opts.columns[c] = p->columns[c];
    }
    return PRW_OK;
}

static prw_status parse_plan(prw__plan *p, const prw__json *j, prw_error *err) {
    const prw__json_node *root = prw__json_root(j);
    int64_t v = 0;
    PRW_TRY(get_int(j, root, "plan_version", PLAN_VERSION, PLAN_VERSION, &v, err));
    PRW_TRY(parse_inputs(p, j, root, err));
    PRW_TRY(parse_maps(p, j, root, err));
    PRW_TRY(parse_probes_split(p, j, root, err));
    PRW_TRY(parse_ranges(p, j, root, err));
    PRW_TRY(parse_plan_options(p, j, root, err));
    p->opts.inputs = (const char *const *)p->paths;
    p->opts.n_inputs = p->nfiles;
    p->opts.shards = (int)p->reduce_tasks;
    return PRW_OK;
}

prw_status prw__plan_load(const char *path, prw__plan **out, prw_error *err) {
    *out = NULL;
    prw__plan *p = prw__calloc(1, sizeof *p);
    if (!p)
        return prw__error_nomem(err, "a plan", sizeof *p);
    prw_build_options_init(&p->opts);
    uint8_t *data = NULL;
    size_t len = 0;
    prw_status st = prw__read_file(path, &data, &len, err);
    prw__json j;
    memset(&j, 0, sizeof j);
    if (st == PRW_OK && len > PRW_JSON_MAX_TEXT)
        st = prw__error_set(err, PRW_E_LIMIT, -1, "plan larger than %u bytes", PRW_JSON_MAX_TEXT);
    if (st == PRW_OK)
        st = prw__json_parse((const char *)data, len, &j, err);
    if (st == PRW_OK)
        st = parse_plan(p, &j, err);
    if (st == PRW_OK) {
        p->id = prw__fnv1a64(PRW_FNV1A64_INIT, data, len);
        const char *slash = strrchr(path, '/');
        p->dir = slash ? dup_str(path, (size_t)(slash - path)) : dup_str(".", 1);
        if (slash == path && p->dir) /* "/plan.json" */
            p->dir[0] = '/', p->dir[1] = 0;
        if (!p->dir)
            st = prw__error_nomem(err, "a path", strlen(path));
        else if (strlen(p->dir) > 3000)
            st = prw__error_set(err, PRW_E_INVALID, -1, "plan path too long");
    }
    prw__json_cleanup(&j);
    prw__free(data);
    if (st < 0) {
        if (st != PRW_E_NOMEM && st != PRW_E_IO)
            prw__error_prefix(err, "%s: ", path);
        prw__plan_free(p);
        return st;
    }
    *out = p;
    return PRW_OK;
}

prw_status prw__plan_load_probes(const prw__plan *p, uint32_t first, uint32_t last, prw__intern *t,
                                 uint64_t *rows_out, prw_error *err) {
    char path[PRW_PATH_BUF];
    prw__plan_path(p, path, sizeof path, "plan.probes");
    uint8_t *data = NULL;
    size_t len = 0;
    PRW_TRY(prw__read_file(path, &data, &len, err));
    prw__rd rd;
    prw__rd_init(&rd, data, len);
    const uint8_t *magic = NULL;
    uint64_t n = 0, h = PRW_FNV1A64_INIT;
    prw_status st = PRW_OK;
    if (!prw__rd_take(&rd, 8, &magic) || memcmp(magic, PROBES_MAGIC, 8) != 0 ||
        !prw__rd_le64(&rd, &n) || n != p->n_probes)
        st = prw__error_set(err, PRW_E_CORRUPT, 0, "%s: not the probe list of this plan", path);
    for (uint64_t r = 0; r < n && st == PRW_OK; r++) {
        uint32_t l = 0;
        uint64_t rows = 0;
        const uint8_t *s = NULL;
        int64_t at = prw__rd_pos(&rd);
        if (!prw__rd_le32(&rd, &l) || !prw__rd_take(&rd, l, &s) || !prw__rd_le64(&rd, &rows)) {
            st = prw__error_set(err, PRW_E_TRUNCATED, at, "%s: truncated at probe %llu", path,
                                (unsigned long long)r);
            break;
        }
        h = prw__pl_probe_hash(h, s, l);
        if (r >= first && r < last) {
            uint32_t id = 0;
            st = prw__intern_get(t, s, l, prw__pl_hash(s, l), &id, err);
            if (st == PRW_OK && id != r - first)
                st = prw__error_set(err, PRW_E_CORRUPT, at, "%s: probe %llu repeated", path,
                                    (unsigned long long)r);
            if (rows_out)
                rows_out[r - first] = rows;
        }
    }
    if (st == PRW_OK && (prw__rd_left(&rd) != 0 || h != p->probes_hash))
        st = prw__error_set(err, PRW_E_CHECKSUM, -1,
                            "%s does not match the hash in plan.json (rewritten or damaged)", path);
    prw__free(data);
    return st;
}
