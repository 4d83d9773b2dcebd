/*
 * The write phase: the writing thread submits partitions to the encoding workers a bounded
 * window ahead, takes their records in key order and hands them to the ArrayRecord writers of
 * the two splits (train, test), shard after shard; buffers of written partitions are reused.
 * Output goes to a hidden staging directory and is renamed into place (prw__bd_publish) only
 * when everything succeeded.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>

#include "build/bd_engine.h"
#include "build/bd_outdir.h"

/* The ArrayRecord files of one split: shards are written one after another. */
typedef struct bd_sink {
    bd_build *b;
    const char *stage;
    const char *split_name;
    prw_ar_options ar;
    int shards;
    int current; /* shard open in w, or -1 */
    prw_ar_writer *w;
    int threads;
} bd_sink;

/* snprintf into a path buffer; paths longer than the buffer were refused up front. */
void prw__bd_path_fmt(char *buf, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

void prw__bd_shard_name(char *buf, size_t cap, const char *dir, const char *split, int shard,
                        int shards) {
    if (shards <= 1)
        prw__bd_path_fmt(buf, cap, "%s/%s.arrayrecord", dir, split);
    else
        prw__bd_path_fmt(buf, cap, "%s/%s.arrayrecord-%05d-of-%05d", dir, split, shard, shards);
}

static prw_status sink_close_current(bd_sink *k, prw_error *err) {
    if (!k->w)
        return PRW_OK;
    prw_ar_writer *w = k->w;
    k->w = NULL;
    return prw_ar_writer_close(w, err);
}

/* Makes shard `shard` the open one, creating any empty shards before it. */
static prw_status sink_goto(bd_sink *k, int shard, prw_error *err) {
    while (k->current < shard) {
        PRW_TRY(sink_close_current(k, err));
        k->current++;
        char path[PRW_PATH_BUF];
        prw__bd_shard_name(path, sizeof path, k->stage, k->split_name, k->current, k->shards);
        PRW_TRY(prw_ar_writer_open_opts(&k->w, path, &k->ar, k->threads, err));
    }
    return PRW_OK;
}

/* Hands out's records, in order, to the writers and counts them. */
static prw_status write_out(bd_build *b, bd_sink sinks[2], bd_part_out *out, prw_error *err) {
    const bd_rec_meta *m = (const bd_rec_meta *)out->meta.data;
    size_t nrec = out->meta.len / sizeof *m;
    const uint8_t *data = out->bytes.data;
    for (size_t i = 0; i < nrec; i++) {
        int s = b->pr.probe_split[m[i].rank];
        PRW_TRY(sink_goto(&sinks[s], (int)b->pr.probe_shard[m[i].rank], err));
        if (b->chunked) /* written from out->bytes, flushed below */
            PRW_TRY(prw__ar_writer_add_chunk_ref(sinks[s].w, data, (size_t)m[i].len, err));
        else
            PRW_TRY(prw_ar_writer_add_record(sinks[s].w, data, (size_t)m[i].len, err));
        data += m[i].len;
        prw_build_split_stats *ss = &b->stats->split[s];
        ss->records++;
        ss->measurements += m[i].n_measurements;
        if (m[i].rank != b->oq.last_rank)
            ss->probes++;
        b->oq.last_rank = m[i].rank;
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

static prw_status write_partition(bd_build *b, bd_sink sinks[2], size_t p, prw_error *err) {
    bd_part_out *out = &b->oq.parts[p];
    PRW_TRY(write_out(b, sinks, out, err));
    prw__mutex_lock(&b->oq.done_mu);
    if (b->oq.nspare + 2 <= b->oq.spare_cap && out->bytes.cap <= b->oq.spare_max &&
        out->meta.cap <= b->oq.spare_max) {
        prw__buf_clear(&out->meta);
        prw__buf_clear(&out->bytes);
        b->oq.spare[b->oq.nspare++] = out->meta;
        b->oq.spare[b->oq.nspare++] = out->bytes;
        prw__buf_init(&out->meta);
        prw__buf_init(&out->bytes);
    }
    prw__mutex_unlock(&b->oq.done_mu);
    prw__buf_cleanup(&out->bytes);
    prw__buf_cleanup(&out->meta);
    return PRW_OK;
}

/* A streamed probe's window: encoded by the writing thread and written at once. */
typedef struct bd_stream_ctx {
    bd_build *b;
    bd_sink *sinks;
    uint32_t rank;
    size_t pieces;
    bd_part_out *out;
} bd_stream_ctx;

static prw_status emit_window(void *ctx, const prw__pl_row *rows, size_t n, bool final,
                              size_t *consumed, prw_error *err) {
    bd_stream_ctx *c = ctx;
    bd_build *b = c->b;
    bd_part_out *out = c->out;
    prw_status st = prw__bd_encode_probe(b, &b->oq.main_scratch, c->rank, rows, n, final, consumed,
                                         &c->pieces, out, err);
    if (st == PRW_OK)
        st = write_out(b, c->sinks, out, err);
    prw__buf_clear(&out->bytes);
    prw__buf_clear(&out->meta);
    return st;
}

/*
 * Partition p, a single probe too large for memory: the source yields its rows in (time,
 * input) order, exactly the in-memory sort, and pieces are cut and written window by window.
 */
static prw_status stream_partition(bd_build *b, bd_sink sinks[2], size_t p, prw_error *err) {
    bd_scratch *s = &b->oq.main_scratch;
    if (b->chunked && !s->enc)
        PRW_TRY(prw_ar_chunk_encoder_create(&b->ar, &s->enc, err));
    bd_stream_ctx c = {b, sinks, b->pt.part_key[p], 0, &b->oq.parts[p]};
    PRW_TRY(b->source->stream(b->source, p, emit_window, &c, err));
    b->stats->split_probes_cut += c.pieces > 1;
    b->stats->merged_probes++;
    return PRW_OK;
}

prw_status prw__bd_write_phase(bd_build *b, prw__pool *pool, const char *stage, prw_error *err) {
    prw_ar_options ar = b->ar;
    /* With chunks compressed by the workers the writers only place bytes: no pool. */
    int writer_threads = b->chunked ? 1 : b->workers;
    b->oq.parts = prw__calloc(b->pt.nparts ? b->pt.nparts : 1, sizeof *b->oq.parts);
    if (!b->oq.parts)
        return prw__error_nomem(err, "partition outputs", b->pt.nparts * sizeof *b->oq.parts);
    int shards = b->o->shards > 1 ? b->o->shards : 1;
    int first = b->kr.only_shard >= 0 ? b->kr.only_shard : 0;
    int last = b->kr.only_shard >= 0 ? b->kr.only_shard : shards - 1;
    bd_sink sinks[2] = {{b, stage, "train", ar, shards, first - 1, NULL, writer_threads},
                        {b, stage, "test", ar, shards, first - 1, NULL, writer_threads}};
    size_t window = b->source->window ? b->source->window : (size_t)b->workers * 2 + 2;
    /* Output buffers are kept for reuse up to twice the mean partition's estimate: a heavy
     * probe's partition must not leave a buffer of its size behind for every spare slot. */
    uint64_t est_all = 0;
    for (uint32_t r = 0; r < b->pr.n_probes; r++)
        est_all += b->pr.probe_bytes[r];
    uint64_t keep = b->pt.nparts ? 2 * est_all / b->pt.nparts : 0;
    /* Buffers grow to powers of two (prw__buf_reserve): round up, or a partition whose
     * estimate is just above the mean would free its buffer and the next take fresh memory. */
    size_t max = 1u << 20;
    while (max < keep && max <= SIZE_MAX / 4)
        max *= 2;
    b->oq.spare_max = max;
    b->oq.last_rank = UINT32_MAX;
    b->oq.spare_cap = 2 * (window + 1);
    b->oq.spare = prw__calloc(b->oq.spare_cap, sizeof *b->oq.spare);
    if (!b->oq.spare)
        return prw__error_nomem(err, "output buffers", b->oq.spare_cap * sizeof *b->oq.spare);
    bd_task *tasks = prw__calloc(b->pt.nparts ? b->pt.nparts : 1, sizeof *tasks);
    if (!tasks)
        return prw__error_nomem(err, "task list", b->pt.nparts * sizeof *tasks);
    prw_status st = PRW_OK;
    size_t submitted = 0;
    atomic_store(&b->progress_done, 0);
    double last_report = 0;
    size_t ahead = 0; /* partitions in [p, submitted) */
    for (size_t p = 0; p < b->pt.nparts && st == PRW_OK; p++) {
        while (submitted < b->pt.nparts && ahead < window) {
            tasks[submitted] = (bd_task){b, submitted};
            prw__pool_submit(pool, prw__bd_encode_task, &tasks[submitted]);
            ahead++;
            submitted++;
        }
        ahead--;
        prw__mutex_lock(&b->oq.done_mu);
        while (!b->oq.parts[p].done)
            prw__cond_wait(&b->oq.done_cv, &b->oq.done_mu);
        prw__mutex_unlock(&b->oq.done_mu);
        if (atomic_load(&b->failed))
            break;
        if (b->source->streamed && b->source->streamed(b->source, p))
            st = stream_partition(b, sinks, p, err);
        if (st == PRW_OK)
            st = write_partition(b, sinks, p, err);
        double now = prw__now();
        if (now - last_report > 0.25) {
            prw__bd_report(b, "write", atomic_load(&b->progress_done), (int64_t)b->pt.nrows, false);
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
    for (size_t p = 0; p < b->pt.nparts; p++) {
        prw__buf_cleanup(&b->oq.parts[p].bytes);
        prw__buf_cleanup(&b->oq.parts[p].meta);
    }
    for (size_t i = 0; i < b->oq.nspare; i++)
        prw__buf_cleanup(&b->oq.spare[i]);
    prw__free(b->oq.spare);
    b->oq.spare = NULL;
    b->oq.nspare = 0;
    prw__free(tasks);
    if (st == PRW_OK)
        prw__bd_report(b, "write", atomic_load(&b->progress_done), (int64_t)b->pt.nrows, true);
    return st;
}

static int64_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

prw_status prw__bd_publish(bd_build *b, const char *stage, prw_error *err) {
    int shards = b->o->shards > 1 ? b->o->shards : 1;
    int k0 = b->kr.only_shard >= 0 ? b->kr.only_shard : 0;
    int k1 = b->kr.only_shard >= 0 ? b->kr.only_shard + 1 : shards;
    const char *names[2] = {"train", "test"};
    for (int s = 0; s < 2; s++) {
        b->stats->split[s].files = k1 - k0;
        for (int k = k0; k < k1; k++) {
            char from[PRW_PATH_BUF];
            prw__bd_shard_name(from, sizeof from, stage, names[s], k, shards);
            b->stats->split[s].bytes += file_size(from);
        }
    }
    if (b->kr.only_shard < 0) {
        prw__pl_input *in = NULL;
        PRW_TRY(prw__pl_source_inputs(b->src, &in, err));
        prw_status s =
            prw__pl_write_manifest(b->o, b->stats, in, prw__pl_source_files(b->src), stage, err);
        prw__free(in);
        PRW_TRY(s);
    }
    /* All files in one step (docs/PUBLISH.md): a whole build replaces the whole set, files of
     * other shard counts included; a reduce task only its own shard pair. */
    prw__publish_spec spec = {prw__bd_output_names, b->kr.only_shard < 0, NULL};
    PRW_TRY(prw__publish(b->o->output_dir, stage, &spec, err));
    prw__bd_outdir_published(b->od);
    return PRW_OK;
}
