/*
 * `proberows map`: one map task of a scale-out plan (scaleout.h, docs/SLURM.md).
 *
 * The task decodes its contiguous run of input files row group by row group, in input order,
 * exactly as the build decodes them (NULL policy, drops), maps every src_addr to its global
 * probe rank through the plan's probe list (a string the plan does not know is an error: the
 * inputs changed), and appends each row to the pending rows of its part: each key range is cut
 * into parts (prw__run_parts, from plan.probes), so that a reduce task can read, group and
 * write one part at a time. A part's pending rows become a block of its range's run file
 * DIR/.runs/map-IIIII-range-KKKKK.run (format in pl_run.c) when they reach PRW_SO_RUN_BLOCK_ROWS,
 * and every part's when all pending rows reach pending_max, which bounds the task's memory. A
 * dst_addr string gets a dictionary id of the file the first time a block of that file uses
 * it (intern ids belong to one process). Each file is written to a temporary and renamed
 * (prw__wfile), then a DIR/.runs/map-IIIII.json with the task's counts: rerunning the task
 * rewrites the same bytes, a killed task leaves no file under a final name.
 */
#include <stdio.h>
#include <string.h>

#include "common/codec.h"
#include "common/hash.h"
#include "common/io.h"
#include "common/publish.h"
#include "common/thread.h"
#include "scaleout/so_plan.h"
#include "scaleout/so_run.h"
#include "proberows/scaleout.h"

/* Rows waiting in parts' buffers before every part is written out: 1Ki per part (so blocks
 * average about that many rows however many parts there are), 48 to 384 MB. */
#define PENDING_PER_PART ((size_t)1 << 10)
#define PENDING_MIN ((size_t)2 << 20)
#define PENDING_MAX ((size_t)16 << 20)

static size_t g_pending_rows; /* 0: from the part count */

void prw__map_set_pending_rows(size_t rows) {
    g_pending_rows = rows;
}

/* One decoding slot: slot i decodes row groups i, i + W, i + 2W, ... with its own decoder, on
 * the pool, while the task's thread appends the finished row groups in input order. */
typedef struct map_slot {
    struct map_state *m;
    prw__pl_decoder *dec;
    prw__pl_decoded d;
    size_t rg;
    bool done;
    prw_status st;
    prw_error err;
} map_slot;

typedef struct map_pending {
    prw__pl_row *rows;
    size_t n, cap;
} map_pending;

typedef struct map_state {
    prw__plan *plan;
    prw__intern src_tab, dst_tab; /* zeroed until initialised: cleanup is safe either way */
    uint32_t *ident;
    prw__pl_keymap *keymap;
    prw__pl_source *src;
    size_t workers; /* threads decoding: the pool's, beside this one appending rows */
    map_slot *slots;
    size_t nslots;
    prw__pool *pool;
    pthread_mutex_t mu; /* guards the slots' done flags */
    pthread_cond_t cv;
    prw__wfile *files;
    uint64_t *blocks, *rows; /* by range */
    uint64_t *est_rows;      /* by rank: plan.probes counts */
    uint32_t *part_of;       /* by rank: global part index */
    uint32_t *part_range;    /* by global part: its range */
    uint32_t *part_base;     /* by range: global index of its part 0 (N + 1 entries) */
    uint32_t *digest;        /* by range: prw__run_parts_digest of its cut */
    map_pending *pend;       /* by global part */
    size_t npending, pending_max;
    uint32_t **fdict; /* by range: dst intern id -> file dictionary id, or UINT32_MAX */
    uint32_t *fdict_n;
    size_t fdict_cap;
    uint32_t *newd;          /* dst ids entering a file's dictionary (fdict_cap entries) */
    prw__buf raw, comp, rec; /* rec: a block's rows as 24-byte records, before shuffling */
    prw__codec_ctx *cc;
} map_state;

void prw__run_name(const prw__plan *p, char *buf, size_t cap, uint32_t map, uint32_t range) {
    prw__plan_path(p, buf, cap, ".runs/map-%05u-range-%05u.run", map, range);
}

/* Compresses m->raw as one block with this tag and count and appends it to run file k. */
static prw_status write_block(map_state *m, uint32_t k, uint32_t tag, size_t count,
                              prw_error *err) {
    size_t raw_len = m->raw.len;
    size_t bound = prw__codec_bound(PRW_CODEC_ZSTD, raw_len);
    prw__buf_clear(&m->comp);
    PRW_TRY(prw__buf_reserve(&m->comp, bound + PRW_SO_RUN_BLOCK_HEADER, err));
    size_t clen = 0;
    prw__codec_opts co = {1, 0};
    PRW_TRY(prw__codec_compress(m->cc, PRW_CODEC_ZSTD, &co, m->raw.data, raw_len,
                                m->comp.data + PRW_SO_RUN_BLOCK_HEADER, bound, &clen, err));
    uint8_t *h = m->comp.data;
    prw__store_le32(h, tag);
    prw__store_le32(h + 4, (uint32_t)count);
    prw__store_le32(h + 8, (uint32_t)raw_len);
    prw__store_le32(h + 12, (uint32_t)clen);
    prw__store_le32(h + 16, prw__run_block_crc(h, h + PRW_SO_RUN_BLOCK_HEADER, clen));
    PRW_TRY(prw__wfile_write(&m->files[k], h, PRW_SO_RUN_BLOCK_HEADER + clen, err));
    m->blocks[k]++;
    return PRW_OK;
}

/* Writes the dst_addr strings newd[0..n) as dictionary blocks of run file k. */
static prw_status write_dict(map_state *m, uint32_t k, size_t n, prw_error *err) {
    prw__intern *dt = &m->dst_tab;
    size_t i = 0;
    while (i < n) {
        /* The decoding slots add strings to the table (moving its bytes) while we copy. */
        prw__mutex_lock(&dt->mu);
        size_t j = i, bytes = 0;
        while (j < n &&
               (j - i + 1) * 4 + bytes + prw__intern_len(dt, m->newd[j]) <= PRW_SO_RUN_BLOCK_MAX)
            bytes += prw__intern_len(dt, m->newd[j++]);
        prw_status s = j > i ? prw__buf_resize(&m->raw, (j - i) * 4 + bytes, err)
                             : prw__error_set(err, PRW_E_LIMIT, -1,
                                              "a dst_addr string of %zu bytes is too long for a "
                                              "run file",
                                              prw__intern_len(dt, m->newd[i]));
        if (s == PRW_OK) {
            uint8_t *lens = m->raw.data, *out = lens + (j - i) * 4;
            for (size_t x = i; x < j; x++) {
                size_t l = prw__intern_len(dt, m->newd[x]);
                prw__store_le32(lens + 4 * (x - i), (uint32_t)l);
                memcpy(out, prw__intern_ptr(dt, m->newd[x]), l);
                out += l;
            }
        }
        prw__mutex_unlock(&dt->mu);
        PRW_TRY(s);
        PRW_TRY(write_block(m, k, PRW_SO_RUN_DICT_TAG, j - i, err));
        i = j;
    }
    return PRW_OK;
}

/* Writes global part gp's pending rows as one row block (after the dictionary strings the
 * file has not had yet). */
static prw_status flush_part(map_state *m, uint32_t gp, prw_error *err) {
    map_pending *q = &m->pend[gp];
    size_t n = q->n;
    if (n == 0)
        return PRW_OK;
    uint32_t k = m->part_range[gp], base = m->plan->bounds[k];
    uint32_t *fd = m->fdict[k];
    size_t nnew = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t dst = q->rows[i].dst;
        if (dst != PRW_PL_NULL_ID && fd[dst] == UINT32_MAX) {
            fd[dst] = m->fdict_n[k]++;
            m->newd[nnew++] = dst; /* newd has room for every dst id */
        }
    }
    if (nnew)
        PRW_TRY(write_dict(m, k, nnew, err));
    PRW_TRY(prw__buf_resize(&m->rec, n * PRW_SO_RUN_ROW_BYTES, err));
    PRW_TRY(prw__buf_resize(&m->raw, n * PRW_SO_RUN_ROW_BYTES, err));
    uint64_t prev_t = 0;
    for (size_t i = 0; i < n; i++) {
        const prw__pl_row *row = &q->rows[i];
        uint8_t *o = m->rec.data + i * PRW_SO_RUN_ROW_BYTES;
        uint32_t rtt_bits;
        memcpy(&rtt_bits, &row->rtt, 4);
        prw__store_le64(o, (uint64_t)row->t - prev_t);
        prev_t = (uint64_t)row->t;
        prw__store_le32(o + 8, row->key - base);
        prw__store_le32(o + 12, row->dst == PRW_PL_NULL_ID ? UINT32_MAX : fd[row->dst]);
        prw__store_le32(o + 16, rtt_bits);
        o[20] = (uint8_t)row->ipv;
        o[21] = row->flags;
        o[22] = o[23] = 0;
    }
    prw__pl_shuffle(m->rec.data, m->raw.data, n, PRW_SO_RUN_ROW_BYTES);
    PRW_TRY(write_block(m, k, gp - m->part_base[k], n, err));
    m->rows[k] += n;
    m->npending -= n;
    q->n = 0;
    return PRW_OK;
}

/* Room for every dst id in the file dictionaries' maps (the table grows while decoding). */
static prw_status grow_fdict(map_state *m, prw_error *err) {
    prw__mutex_lock(&m->dst_tab.mu);
    size_t need = m->dst_tab.n;
    prw__mutex_unlock(&m->dst_tab.mu);
    if (need <= m->fdict_cap)
        return PRW_OK;
    size_t cap = need * 2;
    for (uint32_t k = 0; k < m->plan->reduce_tasks; k++) {
        uint32_t *r = prw__realloc(m->fdict[k], cap * sizeof *r);
        if (!r)
            return prw__error_nomem(err, "a dictionary map", cap * sizeof *r);
        memset(r + m->fdict_cap, 0xff, (cap - m->fdict_cap) * sizeof *r);
        m->fdict[k] = r;
    }
    uint32_t *nd = prw__realloc(m->newd, cap * sizeof *nd);
    if (!nd)
        return prw__error_nomem(err, "a dictionary map", cap * sizeof *nd);
    m->newd = nd;
    m->fdict_cap = cap;
    return PRW_OK;
}

/* Appends one decoded row group's rows to their parts' pending rows (input order kept). */
static prw_status put_row_group(map_state *m, const prw__pl_decoded *d, prw_error *err) {
    PRW_TRY(grow_fdict(m, err));
    size_t n = d->n;
    for (size_t i = 0; i < n; i++) {
        const prw__pl_row *r = &d->rows[i];
        uint32_t gp = m->part_of[r->key];
        map_pending *q = &m->pend[gp];
        if (q->n == q->cap) /* doubling up to PRW_SO_RUN_BLOCK_ROWS, where the part is written */
            PRW_TRY(prw__grow_array((void **)&q->rows, &q->cap, q->n + 1, sizeof *q->rows,
                                    "pending rows", err));
        q->rows[q->n++] = *r;
        m->npending++;
        if (q->n == PRW_SO_RUN_BLOCK_ROWS)
            PRW_TRY(flush_part(m, gp, err));
    }
    if (m->npending >= m->pending_max)
        for (uint32_t gp = 0; gp < m->part_base[m->plan->reduce_tasks]; gp++)
            PRW_TRY(flush_part(m, gp, err));
    return PRW_OK;
}

static prw_status write_stats(map_state *m, uint32_t task, const prw_build_stats *st,
                              prw_error *err) {
    char path[PRW_PATH_BUF];
    prw__plan_path(m->plan, path, sizeof path, ".runs/map-%05u.json", task);
    prw__buf b;
    prw__buf_init(&b);
    prw_status s = prw__buf_printf(
        &b, err,
        "{\"plan_id\": \"%016llx\", \"task\": %u, \"files\": %lld, \"row_groups\": %lld, "
        "\"rows_read\": %lld, \"input_bytes\": %lld, \"dropped_null_src_addr\": %lld, "
        "\"dropped_null_event_time\": %lld, \"dropped_null_rtt\": %lld, \"null_rtt_kept\": "
        "%lld, \"null_rtt_failed\": %lld, \"dropped_event_time_range\": %lld, \"rtt_nan\": %lld, "
        "\"rtt_inf\": %lld, \"ip_version_other\": %lld, \"dump_files\": %lld, "
        "\"dump_bytes_decompressed\": %lld",
        (unsigned long long)m->plan->id, task, (long long)st->files, (long long)st->row_groups,
        (long long)st->rows_read, (long long)st->input_bytes, (long long)st->dropped_null_src_addr,
        (long long)st->dropped_null_event_time, (long long)st->dropped_null_rtt,
        (long long)st->null_rtt_kept, (long long)st->null_rtt_failed,
        (long long)st->dropped_event_time_range, (long long)st->rtt_nan, (long long)st->rtt_inf,
        (long long)st->ip_version_other, (long long)st->dump_files,
        (long long)st->dump_bytes_decompressed);
    for (int k = 0; k < PRW_ATLAS_BAD_COUNT && s == PRW_OK; k++)
        s = prw__buf_printf(&b, err, ", \"lines_skipped_%s\": %lld",
                            prw_atlas_bad_name((prw_atlas_bad)k), (long long)st->lines_skipped[k]);
    if (s == PRW_OK)
        s = prw__buf_printf(&b, err, "}\n");
    prw__wfile f = {0};
    f.fd = -1;
    if (s == PRW_OK)
        s = prw__wfile_open(&f, path, err);
    if (s == PRW_OK)
        s = prw__wfile_write(&f, b.data, b.len, err);
    if (s == PRW_OK)
        s = prw__wfile_commit(&f, err);
    prw__wfile_abort(&f);
    prw__buf_cleanup(&b);
    return s;
}

/* The plan's parts of every range: part_of by rank, part_range, part_base and digest. */
static prw_status cut_parts(map_state *m, prw_error *err) {
    const prw__plan *p = m->plan;
    uint32_t N = p->reduce_tasks;
    size_t np = p->n_probes ? p->n_probes : 1;
    m->part_of = prw__malloc_array(np, sizeof *m->part_of);
    m->part_base = prw__calloc(N + 1, sizeof *m->part_base);
    m->part_range = prw__malloc_array(np + N, sizeof *m->part_range);
    m->digest = prw__malloc_array(N, sizeof *m->digest);
    uint32_t *part_key = prw__malloc_array(np + 2, sizeof *part_key);
    if (!m->part_of || !m->part_base || !m->part_range || !m->digest || !part_key) {
        prw__free(part_key);
        return prw__error_nomem(err, "map tables", np * 12);
    }
    uint32_t gp = 0;
    for (uint32_t k = 0; k < N; k++) {
        uint32_t b = p->bounds[k];
        size_t nparts = prw__run_parts(m->est_rows + b, p->bounds[k + 1] - b, part_key);
        m->digest[k] = prw__run_parts_digest(part_key, nparts);
        m->part_base[k] = gp;
        for (size_t j = 0; j < nparts; j++, gp++) {
            m->part_range[gp] = k;
            for (uint32_t r = part_key[j]; r < part_key[j + 1]; r++)
                m->part_of[b + r] = gp;
        }
    }
    prw__free(part_key);
    m->part_base[N] = gp;
    size_t want = (size_t)gp * PENDING_PER_PART;
    m->pending_max = g_pending_rows       ? g_pending_rows
                     : want < PENDING_MIN ? PENDING_MIN
                     : want > PENDING_MAX ? PENDING_MAX
                                          : want;
    m->pend = prw__calloc(gp ? gp : 1, sizeof *m->pend);
    if (!m->pend)
        return prw__error_nomem(err, "pending rows", gp * sizeof *m->pend);
    return PRW_OK;
}

static prw_status open_files(map_state *m, uint32_t task, prw_error *err) {
    const prw__plan *p = m->plan;
    char path[PRW_PATH_BUF];
    prw__plan_path(p, path, sizeof path, ".runs");
    PRW_TRY(prw__mkdir_p(path, err));
    for (uint32_t k = 0; k < p->reduce_tasks; k++) {
        prw__run_name(p, path, sizeof path, task, k);
        PRW_TRY(prw__wfile_open(&m->files[k], path, err));
        uint8_t h[PRW_SO_RUN_HEADER];
        memcpy(h, PRW_SO_RUN_MAGIC, 8);
        prw__store_le64(h + 8, p->id);
        prw__store_le32(h + 16, task);
        prw__store_le32(h + 20, k);
        prw__store_le32(h + 24, m->digest[k]);
        prw__store_le32(h + 28, prw__crc32(0, h, 28));
        PRW_TRY(prw__wfile_write(&m->files[k], h, sizeof h, err));
    }
    return PRW_OK;
}

static void decode_task(void *arg) {
    map_slot *sl = arg;
    map_state *m = sl->m;
    prw_error_clear(&sl->err);
    sl->st = prw__pl_decode_rg(sl->dec, sl->rg, &m->src_tab, &m->dst_tab, m->plan->opts.null_rtt,
                               &sl->d, &sl->err);
    prw__mutex_lock(&m->mu);
    sl->done = true;
    prw__cond_broadcast(&m->cv);
    prw__mutex_unlock(&m->mu);
}

static void start_decode(map_state *m, map_slot *sl, size_t rg) {
    sl->rg = rg;
    sl->done = false;
    if (m->pool)
        prw__pool_submit(m->pool, decode_task, sl);
    else
        decode_task(sl);
}

/* Decodes the task's nrg row groups on m->nslots slots (the pool's threads decode ahead while
 * this thread appends each row group, in input order, to its parts): the run files are the
 * same bytes for any worker count, since a file's dictionary ids follow its rows' order. The
 * first failing row group in input order is the error. */
static prw_status decode_all(map_state *m, size_t nrg, prw_build_stats *st, prw_error *err) {
    /* workers + 1 slots: every pool thread decodes while this one appends. */
    size_t W = m->workers > 1 ? m->workers + 1 : 1;
    W = W < nrg ? W : nrg ? nrg : 1;
    m->slots = prw__calloc(W, sizeof *m->slots);
    if (!m->slots)
        return prw__error_nomem(err, "decoding slots", W * sizeof *m->slots);
    m->nslots = W;
    for (size_t i = 0; i < W; i++) {
        m->slots[i].m = m;
        PRW_TRY(prw__pl_decoder_create(m->src, &m->slots[i].dec, err));
        prw__pl_decoder_set_keymap(m->slots[i].dec, m->keymap);
    }
    if (W > 1)
        PRW_TRY(prw__pool_create(&m->pool, (int)W - 1, W, err));
    for (size_t g = 0; g < W && g < nrg; g++)
        start_decode(m, &m->slots[g], g);
    for (size_t g = 0; g < nrg; g++) {
        map_slot *sl = &m->slots[g % W];
        prw__mutex_lock(&m->mu);
        while (!sl->done)
            prw__cond_wait(&m->cv, &m->mu);
        prw__mutex_unlock(&m->mu);
        prw_status s = sl->st;
        if (s == PRW_OK) {
            prw__pl_stats_add_counts(st, &sl->d);
            s = put_row_group(m, &sl->d, err);
        } else {
            *err = sl->err;
        }
        prw__free(sl->d.rows);
        sl->d.rows = NULL;
        PRW_TRY(s);
        if (g + W < nrg)
            start_decode(m, sl, g + W);
    }
    return PRW_OK;
}

/* The task's inputs are the ones planned: a file rewritten since (other bytes or rows) would
 * give rows the plan's counts and key ranges do not describe. */
static prw_status check_inputs(const map_state *m, size_t f0, size_t f1, prw_error *err) {
    const prw__plan *p = m->plan;
    for (size_t f = f0; f < f1; f++) {
        int64_t bytes = prw__pl_source_file_bytes(m->src, f - f0);
        int64_t rows = prw__pl_source_file_rows(m->src, f - f0);
        PRW_CHECK(bytes == p->sizes[f] && rows == p->rows[f], err, PRW_E_CORRUPT, -1,
                  "%s changed since the plan: plan.json records %lld bytes and %lld rows, the "
                  "file has %lld bytes and %lld rows (make the plan again)",
                  p->paths[f], (long long)p->sizes[f], (long long)p->rows[f], (long long)bytes,
                  (long long)rows);
    }
    return PRW_OK;
}

static prw_status map_run(map_state *m, uint32_t task, prw_error *err) {
    const prw__plan *p = m->plan;
    uint32_t N = p->reduce_tasks;
    PRW_TRY(prw__intern_init(&m->src_tab, err));
    PRW_TRY(prw__intern_init(&m->dst_tab, err));
    size_t np = p->n_probes ? p->n_probes : 1;
    m->est_rows = prw__malloc_array(np, sizeof *m->est_rows);
    if (!m->est_rows)
        return prw__error_nomem(err, "probe counts", np * sizeof *m->est_rows);
    PRW_TRY(prw__plan_load_probes(p, 0, p->n_probes, &m->src_tab, m->est_rows, err));
    m->ident = prw__malloc_array(np, sizeof *m->ident);
    m->files = prw__calloc(N, sizeof *m->files);
    m->blocks = prw__calloc(N, sizeof *m->blocks);
    m->rows = prw__calloc(N, sizeof *m->rows);
    m->fdict = prw__calloc(N, sizeof *m->fdict);
    m->fdict_n = prw__calloc(N, sizeof *m->fdict_n);
    if (!m->ident || !m->files || !m->blocks || !m->rows || !m->fdict || !m->fdict_n)
        return prw__error_nomem(err, "map tables", np * 8);
    for (uint32_t k = 0; k < N; k++)
        m->files[k].fd = -1;
    for (uint32_t r = 0; r < p->n_probes; r++)
        m->ident[r] = r;
    PRW_TRY(cut_parts(m, err));
    PRW_TRY(prw__pl_keymap_build(&m->keymap, &m->src_tab, m->ident, err));
    PRW_TRY(prw__codec_ctx_create(&m->cc, err));
    PRW_TRY(open_files(m, task, err));
    prw_build_stats st;
    memset(&st, 0, sizeof st);
    size_t f0 = p->map_first[task], f1 = p->map_first[task + 1];
    if (f1 > f0) {
        PRW_TRY(prw__pl_source_open(&m->src, p->paths + f0, f1 - f0, &p->opts, true, err));
        PRW_TRY(check_inputs(m, f0, f1, err));
        prw__pl_source_warn(m->src, p->opts.warning, p->opts.warning_ctx);
        prw__pl_source_add_stats(m->src, &st);
        size_t nrg = prw__pl_source_row_groups(m->src);
        st.row_groups = (int64_t)nrg;
        PRW_TRY(prw__pl_source_blame_change(m->src, decode_all(m, nrg, &st, err), err));
        PRW_TRY(prw__pl_source_check_unchanged(m->src, err));
    }
    for (uint32_t gp = 0; gp < m->part_base[N]; gp++)
        PRW_TRY(flush_part(m, gp, err));
    for (uint32_t k = 0; k < N; k++) {
        uint8_t t[PRW_SO_RUN_TRAILER];
        memcpy(t, PRW_SO_RUN_END_MAGIC, 8);
        prw__store_le64(t + 8, m->blocks[k]);
        prw__store_le64(t + 16, m->rows[k]);
        PRW_TRY(prw__wfile_write(&m->files[k], t, sizeof t, err));
        PRW_TRY(prw__wfile_commit(&m->files[k], err));
    }
    return write_stats(m, task, &st, err);
}

prw_status prw_map(const char *plan_path, int task, int workers, prw_warning_fn warning,
                   void *warning_ctx, prw_error *err) {
    PRW_CHECK(plan_path, err, PRW_E_INVALID, -1, "no --plan given");
    PRW_CHECK(workers >= 0 && workers <= 1024, err, PRW_E_INVALID, -1,
              "--workers must be between 1 and 1024");
    map_state m;
    memset(&m, 0, sizeof m);
    prw__buf_init(&m.raw);
    prw__buf_init(&m.comp);
    PRW_TRY(prw__plan_load(plan_path, &m.plan, err));
    m.plan->opts.warning = warning;
    m.plan->opts.warning_ctx = warning_ctx;
    /* One thread unless asked: map tasks usually run one per CPU, many at once. */
    m.workers = (size_t)(workers > 0 ? workers : 1);
    if (workers > 0) /* a dump's reader threads; unset, they stay the CPUs, as before */
        m.plan->opts.workers = workers;
    prw__mutex_init(&m.mu);
    prw__cond_init(&m.cv);
    prw_status st = PRW_OK;
    if (task < 0 || (uint32_t)task >= m.plan->map_tasks)
        st = prw__error_set(err, PRW_E_INVALID, -1, "map task %d is outside 0..%u", task,
                            m.plan->map_tasks - 1);
    /* The lock is shared with the other map and reduce tasks, never with a build or finalize. */
    prw__dirlock lock = {-1};
    if (st == PRW_OK)
        st = prw__dirlock_acquire(&lock, m.plan->dir, true, err);
    if (st == PRW_OK)
        st = map_run(&m, (uint32_t)task, err);
    prw__dirlock_release(&lock);
    prw__pool_destroy(m.pool); /* waits for the row groups still decoding after an error */
    for (size_t i = 0; i < m.nslots; i++) {
        prw__free(m.slots[i].d.rows);
        prw__pl_decoder_destroy(m.slots[i].dec);
    }
    prw__free(m.slots);
    prw__cond_destroy(&m.cv);
    prw__mutex_destroy(&m.mu);
    for (uint32_t k = 0; m.files && k < m.plan->reduce_tasks; k++)
        prw__wfile_abort(&m.files[k]);
    prw__free(m.files);
    prw__free(m.blocks);
    prw__free(m.rows);
    for (uint32_t k = 0; m.fdict && k < m.plan->reduce_tasks; k++)
        prw__free(m.fdict[k]);
    prw__free(m.fdict);
    prw__free(m.fdict_n);
    prw__free(m.newd);
    for (uint32_t gp = 0; m.pend && gp < m.part_base[m.plan->reduce_tasks]; gp++)
        prw__free(m.pend[gp].rows);
    prw__free(m.pend);
    prw__free(m.part_of);
    prw__free(m.part_range);
    prw__free(m.part_base);
    prw__free(m.digest);
    prw__free(m.est_rows);
    prw__free(m.ident);
    prw__buf_cleanup(&m.raw);
    prw__buf_cleanup(&m.comp);
    prw__buf_cleanup(&m.rec);
    prw__codec_ctx_destroy(m.cc);
    prw__pl_source_close(m.src);
    prw__pl_keymap_destroy(m.keymap);
    prw__intern_cleanup(&m.src_tab);
    prw__intern_cleanup(&m.dst_tab);
    prw__plan_free(m.plan);
    return st;
}
