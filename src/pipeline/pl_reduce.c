/*
 * `proberows reduce` and `proberows finalize` (scaleout.h, docs/SLURM.md).
 *
 * Reduce task K reads range K's run file of every map task in map order (map tasks hold
 * contiguous runs of files in input order, and each run file keeps its rows in input order),
 * so the concatenated rows are in input order, exactly as the single-machine build sees them.
 * The range's probes come from plan.probes in rank order, so intern id = rank - range start;
 * dst_addr strings are interned from each block's dictionary. The build's own group and write
 * phases (prw__pl_build_prepared) then produce shard K of both splits. Every header, length
 * and index of a run file is checked before it is used: a damaged file fails with its path
 * and the byte offset.
 *
 * Finalize reads every reduce task's counts (DIR/.runs/reduce-KKKKK.json) and every map
 * task's (map-IIIII.json), checks each output file's ArrayRecord footer and record count,
 * writes manifest.json and removes DIR/.runs/.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/hash.h"
#include "common/io.h"
#include "pipeline/pl_internal.h"
#include "pipeline/pl_json.h"
#include "pipeline/pl_run.h"
#include "proberows/arrayrecord.h"
#include "proberows/scaleout.h"

#define PATH_BUF 4096

typedef struct reduce_state {
    prw__plan *plan;
    prw__intern src_tab, dst_tab;
    bool tabs;
    prw__pl_decoded *groups;
    size_t ngroups;
    prw__run_reader rr;
} reduce_state;

static prw_status bad(const char *path, prw_status code, int64_t off, const char *what,
                      prw_error *err) {
    return prw__error_set(err, code, off, "%s: %s", path, what);
}

/* Decodes one block's payload (raw, raw_len bytes) into rows appended to g. */
static prw_status decode_block(prw__run_reader *s, const char *path, int64_t off,
                               const uint8_t *raw, size_t raw_len, uint32_t nrows, uint32_t ndict,
                               uint32_t nkeys, prw__pl_decoded *g, size_t *cap, prw_error *err) {
    size_t head = (size_t)ndict * 4;
    if (head > raw_len)
        return bad(path, PRW_E_CORRUPT, off, "block dictionary larger than the block", err);
    PRW_TRY(prw__reserve_array((void **)&s->dict_ids, &s->dict_cap, ndict, sizeof *s->dict_ids,
                               "a block dictionary", err));
    size_t pos = head;
    for (uint32_t i = 0; i < ndict; i++) {
        size_t l = prw__load_le32(raw + 4 * (size_t)i);
        if (l > raw_len - pos)
            return bad(path, PRW_E_CORRUPT, off, "block dictionary string past the block", err);
        PRW_TRY(prw__intern_get(s->dst_tab, raw + pos, l, prw__pl_hash(raw + pos, l),
                                &s->dict_ids[i], err));
        pos += l;
    }
    if (raw_len - pos != (size_t)nrows * 24)
        return bad(path, PRW_E_CORRUPT, off, "block length disagrees with its row count", err);
    if (g->n + nrows > *cap) /* the rows were allocated from the trailer's count */
        return bad(path, PRW_E_CORRUPT, off, "the blocks hold more rows than the trailer says",
                   err);
    PRW_TRY(prw__reserve_array((void **)&s->rec, &s->rec_cap, nrows, 24, "run rows", err));
    prw__pl_unshuffle(raw + pos, s->rec, nrows, 24);
    uint64_t t = 0;
    for (uint32_t i = 0; i < nrows; i++) {
        const uint8_t *in = s->rec + (size_t)i * 24;
        prw__pl_row *r = &g->rows[g->n + i];
        memset(r, 0, sizeof *r);
        t += prw__load_le64(in); /* time deltas, mod 2^64 */
        r->t = (int64_t)t;
        r->key = prw__load_le32(in + 8);
        uint32_t d = prw__load_le32(in + 12);
        uint32_t rtt = prw__load_le32(in + 16);
        memcpy(&r->rtt, &rtt, 4);
        r->ipv = (int8_t)in[20];
        r->flags = in[21];
        if (r->key >= nkeys || (d != UINT32_MAX && d >= ndict) ||
            (r->flags & ~(PRW_PL_RTT_NULL | PRW_PL_IPV_NULL)))
            return bad(path, PRW_E_CORRUPT, off,
                       "a row's key, dictionary index or flags is out of range", err);
        r->dst = d == UINT32_MAX ? PRW_PL_NULL_ID : s->dict_ids[d];
    }
    g->n += nrows;
    return PRW_OK;
}

void prw__run_reader_cleanup(prw__run_reader *r) {
    prw__free(r->raw);
    prw__free(r->dict_ids);
    prw__free(r->rec);
    prw__codec_ctx_destroy(r->cc);
    r->raw = NULL;
    r->dict_ids = NULL;
    r->rec = NULL;
    r->cc = NULL;
    r->raw_cap = r->dict_cap = r->rec_cap = 0;
}

prw_status prw__run_parse(prw__run_reader *s, const char *path, const uint8_t *f, size_t len,
                          uint64_t plan_id, uint32_t map, uint32_t range, uint32_t nkeys,
                          prw__pl_decoded *g, size_t *cap, prw_error *err) {
    if (!s->cc)
        PRW_TRY(prw__codec_ctx_create(&s->cc, err));
    if (len < RUN_HEADER + RUN_TRAILER || memcmp(f, RUN_MAGIC, 8) != 0 ||
        prw__load_le32(f + 28) != prw__crc32(0, f, 28))
        return bad(path, PRW_E_CORRUPT, 0, "not a run file", err);
    if (prw__load_le64(f + 8) != plan_id)
        return bad(path, PRW_E_CORRUPT, 8,
                   "written for another plan (plan.json changed since the map ran)", err);
    if (prw__load_le32(f + 16) != map || prw__load_le32(f + 20) != range)
        return bad(path, PRW_E_CORRUPT, 16, "names another task or range", err);
    const uint8_t *t = f + len - RUN_TRAILER;
    if (memcmp(t, RUN_END_MAGIC, 8) != 0)
        return bad(path, PRW_E_TRUNCATED, (int64_t)(len - RUN_TRAILER),
                   "no trailer (incomplete file)", err);
    uint64_t blocks = prw__load_le64(t + 8), rows = prw__load_le64(t + 16), seen = 0, nb = 0;
    if (blocks > len / RUN_BLOCK_HEADER || rows > blocks * RUN_BLOCK_ROWS)
        return bad(path, PRW_E_CORRUPT, (int64_t)(len - RUN_TRAILER),
                   "trailer counts impossible for the file's size", err);
    if (rows > 0 && g->n + rows > *cap) { /* the rows in one allocation, not block by block */
        prw__pl_row *r = prw__realloc(g->rows, (g->n + rows) * sizeof *r);
        if (!r)
            return prw__error_nomem(err, "run rows", (g->n + rows) * sizeof *r);
        g->rows = r;
        *cap = g->n + rows;
    }
    size_t pos = RUN_HEADER, end = len - RUN_TRAILER;
    while (pos < end) {
        int64_t off = (int64_t)pos;
        if (end - pos < RUN_BLOCK_HEADER)
            return bad(path, PRW_E_TRUNCATED, off, "block header cut short", err);
        const uint8_t *h = f + pos;
        uint32_t nrows = prw__load_le32(h), ndict = prw__load_le32(h + 4);
        uint32_t raw_len = prw__load_le32(h + 8), clen = prw__load_le32(h + 12);
        if (nrows == 0 || nrows > RUN_BLOCK_ROWS || ndict > nrows ||
            raw_len > 2 * (size_t)RUN_BLOCK_MAX || raw_len < (size_t)nrows * 24 + ndict * 4)
            return bad(path, PRW_E_CORRUPT, off, "bad block header", err);
        if (clen > end - pos - RUN_BLOCK_HEADER)
            return bad(path, PRW_E_TRUNCATED, off, "block runs past the end of the file", err);
        if (prw__crc32(0, h + RUN_BLOCK_HEADER, clen) != prw__load_le32(h + 16))
            return bad(path, PRW_E_CHECKSUM, off, "block CRC-32 mismatch", err);
        PRW_TRY(prw__reserve_array((void **)&s->raw, &s->raw_cap, raw_len, 1, "a run block", err));
        prw_status st = prw__codec_decompress(s->cc, PRW_CODEC_ZSTD, h + RUN_BLOCK_HEADER, clen,
                                              s->raw, raw_len, err);
        if (st < 0) {
            prw__error_prefix(err, "%s (block at byte %lld): ", path, (long long)off);
            err->offset = off;
            return st;
        }
        PRW_TRY(decode_block(s, path, off, s->raw, raw_len, nrows, ndict, nkeys, g, cap, err));
        seen += nrows;
        nb++;
        pos += RUN_BLOCK_HEADER + clen;
    }
    if (nb != blocks || seen != rows)
        return bad(path, PRW_E_CORRUPT, (int64_t)(len - RUN_TRAILER),
                   "trailer counts disagree with the blocks", err);
    return PRW_OK;
}

/* Reads run file (map i, range k) into s->groups[i]. The file is mapped, not read: its pages
 * are the page cache's, with no copy and no fresh memory. */
static prw_status read_run(reduce_state *s, uint32_t i, uint32_t k, prw_error *err) {
    const prw__plan *p = s->plan;
    char path[PATH_BUF];
    prw__run_name(p, path, sizeof path, i, k);
    prw__rfile f;
    prw_status st = prw__rfile_open(&f, path, true, err);
    if (st == PRW_E_IO)
        return prw__error_sys(err, err->sys_errno,
                              "%s: run file of map task %u missing or unreadable (did map task "
                              "%u finish?)",
                              path, i, i);
    PRW_TRY(st);
    static const uint8_t empty[1];
    size_t cap = 0;
    st = prw__run_parse(&s->rr, path, f.map ? f.map : empty, (size_t)f.size, p->id, i, k,
                        p->bounds[k + 1] - p->bounds[k], &s->groups[i], &cap, err);
    prw__rfile_close(&f);
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
    char path[PATH_BUF];
    prw__plan_path(p, path, sizeof path, ".runs/reduce-%05u.json", k);
    prw__buf b;
    prw__buf_init(&b);
    prw_status s = prw__pl_bufprintf(&b, err, "{\"plan_id\": \"%016llx\", \"task\": %u",
                                     (unsigned long long)p->id, k);
    static const char *const names[2] = {"train", "test"};
    for (int i = 0; i < 2 && s == PRW_OK; i++) {
        const prw_build_split_stats *x = &st->split[i];
        s = prw__pl_bufprintf(&b, err,
                              ", \"%s\": {\"probes\": %lld, \"records\": %lld, \"measurements\": "
                              "%lld, \"bytes\": %lld}",
                              names[i], (long long)x->probes, (long long)x->records,
                              (long long)x->measurements, (long long)x->bytes);
    }
    if (s == PRW_OK)
        s = prw__pl_bufprintf(&b, err, ", \"probes_cut\": %lld}\n",
                              (long long)st->split_probes_cut);
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
    s->tabs = true;
    PRW_TRY(prw__plan_load_probes(p, p->bounds[k], p->bounds[k + 1], &s->src_tab, err));
    s->rr.dst_tab = &s->dst_tab;
    s->ngroups = p->map_tasks;
    s->groups = prw__calloc(s->ngroups, sizeof *s->groups);
    if (!s->groups)
        return prw__error_nomem(err, "map task rows", s->ngroups * sizeof *s->groups);
    for (uint32_t i = 0; i < p->map_tasks; i++)
        PRW_TRY(read_run(s, i, k, err));
    prw_build_options o = p->opts;
    o.output_dir = p->dir;
    o.workers = workers;
    prw__pl_prepared prep = {&s->src_tab,  &s->dst_tab, s->groups, s->ngroups,
                             p->bounds[k], p->n_train,  p->bounds, (int)k};
    s->groups = NULL; /* the build owns the rows from here */
    s->tabs = false;
    prw_status r = prw__pl_build_prepared(&o, &prep, st, err);
    if (prep.groups) { /* not taken: refused before the move */
        s->groups = prep.groups;
        s->tabs = true;
    }
    PRW_TRY(r);
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
    for (size_t i = 0; s.groups && i < s.ngroups; i++)
        prw__free(s.groups[i].rows);
    prw__free(s.groups);
    if (s.tabs) {
        prw__intern_cleanup(&s.src_tab);
        prw__intern_cleanup(&s.dst_tab);
    }
    prw__run_reader_cleanup(&s.rr);
    prw__plan_free(s.plan);
    return st;
}

/* ---- finalize ------------------------------------------------------------------------------ */

/* Reads a task's counts file; its plan id must be this plan's. */
static prw_status read_counts(const prw__plan *p, const char *path, prw__json *j, prw_error *err) {
    uint8_t *data = NULL;
    size_t len = 0;
    prw_status st = prw__read_file(path, &data, &len, err);
    if (st == PRW_E_IO)
        return prw__error_sys(err, err->sys_errno, "%s missing (did that task finish?)", path);
    PRW_TRY(st);
    if (len > (1u << 20))
        st = prw__error_set(err, PRW_E_CORRUPT, -1, "%s: too large", path);
    if (st == PRW_OK)
        st = prw__json_parse((const char *)data, len, j, err);
    prw__free(data);
    if (st < 0) {
        prw__error_prefix(err, "%s: ", path);
        return st;
    }
    const prw__json_node *id = prw__json_get(j, prw__json_root(j), "plan_id");
    char want[17];
    snprintf(want, sizeof want, "%016llx", (unsigned long long)p->id);
    PRW_CHECK(id && id->type == PRW_JSON_STRING && strcmp(id->str, want) == 0, err, PRW_E_CORRUPT,
              -1, "%s was written for another plan", path);
    return PRW_OK;
}

static prw_status count(const prw__json *j, const prw__json_node *obj, const char *key,
                        const char *path, int64_t *acc, prw_error *err) {
    const prw__json_node *n = prw__json_get(j, obj, key);
    PRW_CHECK(n && n->type == PRW_JSON_NUMBER && n->is_int && n->i64 >= 0, err, PRW_E_CORRUPT, -1,
              "%s: \"%s\" missing", path, key);
    *acc += n->i64;
    return PRW_OK;
}

static void shard_path(const prw__plan *p, char *buf, size_t cap, const char *split, uint32_t k) {
    if (p->reduce_tasks <= 1)
        prw__plan_path(p, buf, cap, "%s.arrayrecord", split);
    else
        prw__plan_path(p, buf, cap, "%s.arrayrecord-%05u-of-%05u", split, k, p->reduce_tasks);
}

/* One reduce task: its counts, and each output file complete with that many records. */
static prw_status check_part(const prw__plan *p, uint32_t k, prw_build_stats *st, prw_error *err) {
    char path[PATH_BUF];
    prw__plan_path(p, path, sizeof path, ".runs/reduce-%05u.json", k);
    prw__json j;
    memset(&j, 0, sizeof j);
    prw_status s = read_counts(p, path, &j, err);
    static const char *const names[2] = {"train", "test"};
    for (int i = 0; i < 2 && s == PRW_OK; i++) {
        const prw__json_node *o = prw__json_get(&j, prw__json_root(&j), names[i]);
        prw_build_split_stats *x = &st->split[i];
        int64_t records = 0, bytes = 0;
        s = count(&j, o, "probes", path, &x->probes, err);
        if (s == PRW_OK)
            s = count(&j, o, "records", path, &records, err);
        if (s == PRW_OK)
            s = count(&j, o, "measurements", path, &x->measurements, err);
        if (s == PRW_OK)
            s = count(&j, o, "bytes", path, &bytes, err);
        x->records += records;
        x->files++;
        char out[PATH_BUF];
        shard_path(p, out, sizeof out, names[i], k);
        prw_ar_reader *r = NULL;
        if (s == PRW_OK)
            s = prw_ar_reader_open(&r, out, err);
        if (s == PRW_E_IO)
            s = prw__error_sys(err, err->sys_errno, "%s missing (did reduce task %u finish?)", out,
                               k);
        if (s == PRW_OK) {
            uint64_t n = prw_ar_reader_num_records(r);
            uint64_t size = prw_ar_reader_file_size(r);
            x->bytes += (int64_t)size;
            if (n != (uint64_t)records || size != (uint64_t)bytes)
                s = prw__error_set(err, PRW_E_CORRUPT, -1,
                                   "%s: %llu records, %llu bytes; reduce task %u wrote %lld, %lld",
                                   out, (unsigned long long)n, (unsigned long long)size, k,
                                   (long long)records, (long long)bytes);
        } else if (s != PRW_E_IO && s != PRW_E_NOMEM) {
            prw__error_prefix(err, "%s: ", out);
        }
        prw_ar_reader_close(r);
    }
    int64_t cut = 0;
    if (s == PRW_OK)
        s = count(&j, prw__json_root(&j), "probes_cut", path, &cut, err);
    st->split_probes_cut += cut;
    prw__json_cleanup(&j);
    return s;
}

static prw_status check_map(const prw__plan *p, uint32_t i, prw_build_stats *st, prw_error *err) {
    char path[PATH_BUF];
    for (uint32_t k = 0; k < p->reduce_tasks; k++) {
        prw__run_name(p, path, sizeof path, i, k);
        if (access(path, F_OK) != 0)
            return prw__error_sys(err, errno, "%s: run file of map task %u missing", path, i);
    }
    prw__plan_path(p, path, sizeof path, ".runs/map-%05u.json", i);
    prw__json j;
    memset(&j, 0, sizeof j);
    prw_status s = read_counts(p, path, &j, err);
    const prw__json_node *root = s == PRW_OK ? prw__json_root(&j) : NULL;
    int64_t files = 0, rgs = 0;
    if (s == PRW_OK)
        s = count(&j, root, "files", path, &files, err);
    if (s == PRW_OK)
        s = count(&j, root, "row_groups", path, &rgs, err);
    if (s == PRW_OK)
        s = count(&j, root, "rows_read", path, &st->rows_read, err);
    if (s == PRW_OK)
        s = count(&j, root, "input_bytes", path, &st->input_bytes, err);
    if (s == PRW_OK)
        s = count(&j, root, "dropped_null_src_addr", path, &st->dropped_null_src_addr, err);
    if (s == PRW_OK)
        s = count(&j, root, "dropped_null_event_time", path, &st->dropped_null_event_time, err);
    if (s == PRW_OK)
        s = count(&j, root, "dropped_null_rtt", path, &st->dropped_null_rtt, err);
    if (s == PRW_OK)
        s = count(&j, root, "null_rtt_kept", path, &st->null_rtt_kept, err);
    if (s == PRW_OK)
        s = count(&j, root, "null_rtt_failed", path, &st->null_rtt_failed, err);
    st->files += files;
    st->row_groups += rgs;
    prw__json_cleanup(&j);
    return s;
}

static void remove_runs(const prw__plan *p) {
    char dir[PATH_BUF];
    prw__plan_path(p, dir, sizeof dir, ".runs");
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char path[PATH_BUF + 256];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* A finalize that already ran: the runs are gone, manifest.json and every part are there. */
static bool already_final(const prw__plan *p) {
    char path[PATH_BUF];
    prw__plan_path(p, path, sizeof path, ".runs");
    if (access(path, F_OK) == 0)
        return false;
    prw__plan_path(p, path, sizeof path, "manifest.json");
    if (access(path, F_OK) != 0)
        return false;
    for (uint32_t k = 0; k < p->reduce_tasks; k++) {
        shard_path(p, path, sizeof path, "train", k);
        if (access(path, F_OK) != 0)
            return false;
        shard_path(p, path, sizeof path, "test", k);
        if (access(path, F_OK) != 0)
            return false;
    }
    return true;
}

static prw_status finalize_run(const prw__plan *p, prw_build_stats *st, prw_error *err) {
    if (already_final(p))
        return PRW_OK; /* rerun after success (e.g. a requeued job): nothing to do */
    for (uint32_t i = 0; i < p->map_tasks; i++)
        PRW_TRY(check_map(p, i, st, err));
    for (uint32_t k = 0; k < p->reduce_tasks; k++)
        PRW_TRY(check_part(p, k, st, err));
    st->workers = 1;
    st->partitions = p->reduce_tasks;
    prw__pl_source *src = NULL;
    prw_build_options o = p->opts;
    o.output_dir = p->dir;
    o.command_line = "proberows plan/map/reduce/finalize";
    PRW_TRY(prw__pl_source_open(&src, p->paths, p->nfiles, &o, true, err));
    prw_status s = prw__pl_write_manifest(&o, st, src, p->dir, err);
    prw__pl_source_close(src);
    PRW_TRY(s);
    remove_runs(p);
    return PRW_OK;
}

prw_status prw_finalize(const char *plan_path, prw_build_stats *stats, prw_error *err) {
    prw_build_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    PRW_CHECK(plan_path, err, PRW_E_INVALID, -1, "no --plan given");
    prw__plan *p = NULL;
    PRW_TRY(prw__plan_load(plan_path, &p, err));
    prw_status st = finalize_run(p, stats, err);
    prw__plan_free(p);
    return st;
}
