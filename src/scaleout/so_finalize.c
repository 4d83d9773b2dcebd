/*
 * `proberows finalize` (scaleout.h, docs/SLURM.md).
 *
 * Finalize reads every reduce task's counts (DIR/.runs/reduce-KKKKK.json) and every map
 * task's (map-IIIII.json), checks each output file's ArrayRecord footer and record count,
 * writes manifest.json and removes DIR/.runs/.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/bd_outdir.h"
#include "common/codec.h"
#include "common/hash.h"
#include "common/io.h"
#include "scaleout/so_plan.h"
#include "common/json.h"
#include "scaleout/so_run.h"
#include "proberows/arrayrecord.h"
#include "proberows/scaleout.h"

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
    char path[PRW_PATH_BUF];
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
        char out[PRW_PATH_BUF];
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
    char path[PRW_PATH_BUF];
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
    if (s == PRW_OK)
        s = count(&j, root, "dropped_event_time_range", path, &st->dropped_event_time_range, err);
    if (s == PRW_OK)
        s = count(&j, root, "rtt_nan", path, &st->rtt_nan, err);
    if (s == PRW_OK)
        s = count(&j, root, "rtt_inf", path, &st->rtt_inf, err);
    if (s == PRW_OK)
        s = count(&j, root, "ip_version_other", path, &st->ip_version_other, err);
    if (s == PRW_OK)
        s = count(&j, root, "dump_files", path, &st->dump_files, err);
    if (s == PRW_OK)
        s = count(&j, root, "dump_bytes_decompressed", path, &st->dump_bytes_decompressed, err);
    for (int k = 0; k < PRW_ATLAS_BAD_COUNT && s == PRW_OK; k++) {
        char key[64];
        snprintf(key, sizeof key, "lines_skipped_%s", prw_atlas_bad_name((prw_atlas_bad)k));
        int64_t before = st->lines_skipped[k];
        s = count(&j, root, key, path, &st->lines_skipped[k], err);
        st->lines_skipped_total += st->lines_skipped[k] - before;
    }
    st->files += files;
    st->row_groups += rgs;
    prw__json_cleanup(&j);
    return s;
}

static void remove_runs(const prw__plan *p) {
    char dir[PRW_PATH_BUF];
    prw__plan_path(p, dir, sizeof dir, ".runs");
    (void)prw__remove_dir(dir, NULL);
}

/* A finalize that already ran: the runs are gone, manifest.json and every part are there. */
static bool already_final(const prw__plan *p) {
    char path[PRW_PATH_BUF];
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

/* The manifest into the staging folder, then published beside the reduce tasks' shards, which
 * stay; files of another shard count and an old manifest go in the same step. */
static prw_status publish_manifest(const prw__plan *p, prw_build_stats *st, const char *stage,
                                   prw_error *err) {
    prw_build_options o = p->opts;
    o.output_dir = p->dir;
    o.command_line = "proberows plan/map/reduce/finalize";
    /* The inputs as the plan recorded them: a dump is not parsed again for its row count. */
    prw__pl_input *in = prw__calloc(p->nfiles, sizeof *in);
    if (!in)
        return prw__error_nomem(err, "the input list", p->nfiles * sizeof *in);
    for (size_t f = 0; f < p->nfiles; f++)
        in[f] = (prw__pl_input){p->paths[f], p->formats[f], p->rows[f], p->sizes[f]};
    prw_status s = prw__pl_write_manifest(&o, st, in, p->nfiles, stage, err);
    prw__free(in);
    PRW_TRY(s);
    size_t n = 2 * (size_t)p->reduce_tasks;
    char **keep = prw__calloc(n + 1, sizeof *keep);
    if (!keep)
        return prw__error_nomem(err, "the shard list", (n + 1) * sizeof *keep);
    for (uint32_t k = 0; s == PRW_OK && k < p->reduce_tasks; k++) {
        char path[PRW_PATH_BUF];
        for (int i = 0; i < 2 && s == PRW_OK; i++) {
            shard_path(p, path, sizeof path, i ? "test" : "train", k);
            const char *base = strrchr(path, '/');
            keep[2 * k + (uint32_t)i] = prw__strdup(base ? base + 1 : path);
            if (!keep[2 * k + (uint32_t)i])
                s = prw__error_nomem(err, "the shard list", strlen(path));
        }
    }
    prw__publish_spec spec = {prw__bd_output_names, true, (const char *const *)keep};
    if (s == PRW_OK)
        s = prw__publish(p->dir, stage, &spec, err);
    for (size_t i = 0; i < n; i++)
        prw__free(keep[i]);
    prw__free(keep);
    return s;
}

static prw_status finalize_run(const prw__plan *p, prw_build_stats *st, prw_error *err) {
    if (already_final(p))
        return PRW_DONE; /* rerun after success (e.g. a requeued job): nothing to do */
    for (uint32_t i = 0; i < p->map_tasks; i++)
        PRW_TRY(check_map(p, i, st, err));
    for (uint32_t k = 0; k < p->reduce_tasks; k++)
        PRW_TRY(check_part(p, k, st, err));
    st->workers = 1;
    st->partitions = p->reduce_tasks;
    prw__bd_outdir od;
    PRW_TRY(prw__bd_outdir_open(&od, p->dir, NULL, false, true, st, err));
    prw_status s = publish_manifest(p, st, od.stage.path, err);
    prw__bd_outdir_close(&od, false);
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
