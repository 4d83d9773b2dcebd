/*
 * The dump reader (include/proberows/atlas.h): the calling thread decompresses the file
 * (at_stream.c) and cuts its text into line-aligned pieces of about CHUNK_TARGET bytes; a pool
 * of workers parses the pieces (at_batch.c); batches come back in input order, so the output
 * does not depend on the number of threads.
 *
 * The splitter copies whole lines into a piece and carries a partial last line over to the
 * next piece. A line longer than PRW_ATLAS_MAX_LINE is never held: once its bytes pass the
 * limit they are skipped up to the next line end and the line is counted (the first few with
 * their offsets) in the piece that follows. Memory in flight is bounded by the number of
 * pieces (max_memory / CHUNK_CAP, at least 2, at most 2 per thread + 2) and their size.
 *
 * Buffers grow to what the data needs (pieces up to CHUNK_CAP, the carry up to a line), and
 * the workers start with the second piece: an input that fits in one piece is parsed on the
 * caller's thread, so opening many small files costs neither threads nor megabytes.
 */
#include "atlas/at_chunk.h"
#include "common/thread.h"

#define CHUNK_TARGET (4u << 20)
#define CHUNK_CAP (CHUNK_TARGET + PRW_ATLAS_MAX_LINE + 2)
#define DEFAULT_MEMORY (64u << 20)

typedef struct at_slot {
    prw__at_chunk c;
    prw_atlas_reader *r;
    bool done;
    prw_status st;
    prw_error err;
} at_slot;

struct prw_atlas_reader {
    prw_atlas_options opt;
    prw__at_stream *s;
    prw__pool *pool;
    at_slot *slots;
    int nslots, head, inflight;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* splitter */
    const uint8_t *piece;
    size_t piece_len, piece_pos;
    bool eof, skipping;
    int64_t in_off; /* decompressed bytes taken from the stream */
    uint8_t *carry;
    size_t carry_len, carry_cap;
    int64_t pend_long; /* offset of an over-long line for the next piece, or -1 */
    /* output */
    prw_atlas_batch batch;
    int64_t line_base;
    prw_atlas_stats stats;
    prw_status failed;
    prw_error fail_err;
};

const char *prw_atlas_bad_name(prw_atlas_bad b) {
    static const char *const names[] = {"malformed_json", "wrong_type", "missing_timestamp",
                                        "line_too_long", "binary"};
    return (unsigned)b < PRW_ATLAS_BAD_COUNT ? names[b] : "unknown";
}

static void parse_task(void *arg) {
    at_slot *sl = arg;
    prw_error_clear(&sl->err);
    prw_status st = prw__at_chunk_parse(&sl->c, &sl->r->opt, &sl->err);
    prw__mutex_lock(&sl->r->mu);
    sl->st = st;
    sl->done = true;
    prw__cond_broadcast(&sl->r->cv);
    prw__mutex_unlock(&sl->r->mu);
}

/* Counts the over-long line starting at `off` before the data of c (the first few with
 * their offsets). */
static void pre_long(prw__at_chunk *c, int64_t off) {
    if (c->npre_long < PRW_ATLAS_FIRST_BAD)
        c->pre_long_off[c->npre_long++] = off;
    c->nlong_total++;
}

/* Skips the rest of an over-long line in the current stream piece. */
static void skip_rest(prw_atlas_reader *r) {
    const uint8_t *p = r->piece + r->piece_pos;
    size_t left = r->piece_len - r->piece_pos;
    const uint8_t *nl = memchr(p, '\n', left);
    size_t n = nl ? (size_t)(nl - p) + 1 : left;
    r->piece_pos += n;
    r->in_off += (int64_t)n;
    r->skipping = !nl;
}

/* Position after the last line end in c, or 0. */
static size_t last_line_end(const prw__at_chunk *c) {
    for (size_t i = c->len; i > 0; i--)
        if (c->data[i - 1] == '\n')
            return i;
    return 0;
}

/* Grows *p (keeping its bytes) to hold `need` <= most bytes: doubling from 64 KiB, capped. */
static prw_status grow(uint8_t **p, size_t *cap, size_t need, size_t most, const char *what,
                       prw_error *err) {
    void *q = *p;
    prw_status st = prw__grow_capped(&q, cap, need, most, what, err);
    *p = q;
    return st;
}

static prw_status fill(prw_atlas_reader *r, prw__at_chunk *c, prw_error *err) {
    /* never NULL, even for a piece of over-long lines only */
    PRW_TRY(grow(&c->data, &c->cap, r->carry_len ? r->carry_len : 1, CHUNK_CAP, "dump piece", err));
    if (r->carry_len)
        memcpy(c->data, r->carry, r->carry_len);
    c->len = r->carry_len;
    c->offset = r->in_off - (int64_t)r->carry_len;
    r->carry_len = 0;
    c->nlong_total = 0;
    c->npre_long = 0;
    if (r->pend_long >= 0) { /* an over-long line ended the previous piece */
        pre_long(c, r->pend_long);
        r->pend_long = -1;
    }
    while (!r->eof) {
        if (r->piece_pos == r->piece_len) {
            PRW_TRY(prw__at_stream_next(r->s, &r->piece, &r->piece_len, err));
            r->piece_pos = 0;
            r->eof = r->piece_len == 0;
            continue;
        }
        if (r->skipping) {
            skip_rest(r);
            continue;
        }
        if (c->len == 0)
            c->offset = r->in_off;
        size_t n = r->piece_len - r->piece_pos;
        n = n < CHUNK_CAP - c->len ? n : CHUNK_CAP - c->len;
        PRW_TRY(grow(&c->data, &c->cap, c->len + n, CHUNK_CAP, "dump piece", err));
        memcpy(c->data + c->len, r->piece + r->piece_pos, n);
        c->len += n;
        r->piece_pos += n;
        r->in_off += (int64_t)n;
        size_t keep = last_line_end(c), tail = c->len - keep;
        if (tail > PRW_ATLAS_MAX_LINE + 1) { /* +1: a CR before the line feed */
            c->len = keep;
            r->skipping = true;
            if (keep == 0) { /* nothing before it in this piece: count it here */
                pre_long(c, c->offset);
                continue;
            }
            r->pend_long = c->offset + (int64_t)keep;
            return PRW_OK;
        }
        if (keep && c->len >= CHUNK_TARGET) {
            PRW_TRY(grow(&r->carry, &r->carry_cap, tail, PRW_ATLAS_MAX_LINE + 2, "dump line", err));
            memcpy(r->carry, c->data + keep, tail);
            r->carry_len = tail;
            c->len = keep;
            return PRW_OK;
        }
    }
    return PRW_OK;
}

/* A reader over the stream opened by path (data NULL) or over data[0, size). */
static prw_status reader_open(const char *path, const uint8_t *data, size_t size,
                              const prw_atlas_options *opt, prw_atlas_reader **out,
                              prw_error *err) {
    *out = NULL;
    prw_atlas_options o = opt ? *opt : (prw_atlas_options){0};
    PRW_CHECK(o.threads >= 0 && o.threads <= 1024 && (unsigned)o.rtt <= PRW_ATLAS_RTT_MAX &&
                  (unsigned)o.src <= PRW_ATLAS_SRC_FROM,
              err, PRW_E_INVALID, -1, "atlas reader: bad options");
    if (o.threads == 0)
        o.threads = prw__online_cpus();
    if (o.max_memory == 0)
        o.max_memory = DEFAULT_MEMORY;
    prw_atlas_reader *r = prw__calloc(1, sizeof *r);
    if (!r)
        return prw__error_nomem(err, "atlas reader", sizeof *r);
    r->opt = o;
    r->pend_long = -1;
    prw__mutex_init(&r->mu);
    prw__cond_init(&r->cv);
    size_t n = o.max_memory / 2 / CHUNK_CAP, most = 2 * (size_t)o.threads + 2;
    r->nslots = (int)(n < 2 ? 2 : n > most ? most : n);
    prw_status st =
        data ? prw__at_stream_open_mem(data, size, path, o.threads, o.max_memory / 2, &r->s, err)
             : prw__at_stream_open(path, o.threads, o.max_memory / 2, &r->s, err);
    if (st < 0)
        goto fail;
    st = PRW_E_NOMEM;
    r->slots = prw__calloc((size_t)r->nslots, sizeof *r->slots);
    if (!r->slots) {
        prw__error_nomem(err, "atlas reader pieces", (size_t)r->nslots * sizeof *r->slots);
        goto fail;
    }
    for (int i = 0; i < r->nslots; i++)
        r->slots[i].r = r;
    r->stats.bytes_in = prw__at_stream_size(r->s);
    *out = r;
    return PRW_OK;
fail:
    prw_atlas_reader_close(r);
    return st;
}

prw_status prw_atlas_reader_open(const char *path, const prw_atlas_options *opt,
                                 prw_atlas_reader **out, prw_error *err) {
    return reader_open(path, NULL, 0, opt, out, err);
}

prw_status prw__at_reader_open_mem(const uint8_t *data, size_t size, const char *name,
                                   const prw_atlas_options *opt, prw_atlas_reader **out,
                                   prw_error *err) {
    static const uint8_t empty[1];
    return reader_open(name, data ? data : empty, data ? size : 0, opt, out, err);
}

/* Adds a parsed piece's counts to the reader's, with line numbers made absolute. */
static void merge_stats(prw_atlas_reader *r, prw__at_chunk *c) {
    prw_atlas_stats *g = &r->stats;
    const prw_atlas_stats *s = &c->stats;
    g->lines += s->lines;
    g->blank_lines += s->blank_lines;
    g->results += s->results;
    g->dropped_no_src += s->dropped_no_src;
    for (int k = 0; k < PRW_ATLAS_BAD_COUNT; k++)
        g->bad[k] += s->bad[k];
    g->bad_total += s->bad_total;
    for (int k = 0; k < 3; k++)
        g->family[k] += s->family[k];
    g->no_reply += s->no_reply;
    g->null_rtt += s->null_rtt;
    g->not_run += s->not_run;
    for (int k = 0; k < s->nfw; k++)
        prw__at_note_fw(g, s->fw[k], s->fw_count[k]);
    g->fw_other += s->fw_other;
    for (int k = 0; k < s->nfirst_bad && g->nfirst_bad < PRW_ATLAS_FIRST_BAD; k++) {
        g->first_bad[g->nfirst_bad] = s->first_bad[k];
        g->first_bad[g->nfirst_bad++].line += r->line_base + 1;
    }
    if (c->line)
        for (size_t i = 0; i < c->rows; i++)
            c->line[i] += r->line_base + 1;
    r->line_base += s->lines;
    g->bytes_out = r->in_off;
}

static prw_status fail(prw_atlas_reader *r, prw_status st, const prw_error *e, prw_error *err) {
    r->failed = st;
    r->fail_err = *e;
    if (err)
        *err = *e;
    return st;
}

static prw_status strict_error(prw_atlas_reader *r, prw_error *err) {
    const prw_atlas_bad_line *b = &r->stats.first_bad[0];
    prw_error e;
    prw__error_set(&e, PRW_E_CORRUPT, b->offset + b->column, "%s: line %lld: %s: %s (strict mode)",
                   prw__at_stream_name(r->s), (long long)b->line, prw_atlas_bad_name(b->reason),
                   b->what);
    return fail(r, PRW_E_CORRUPT, &e, err);
}

static void set_batch(prw_atlas_reader *r, const prw__at_chunk *c) {
    r->batch = (prw_atlas_batch){
        (int64_t)c->rows,  c->time,      c->src_off, c->src_bytes.data, c->dst_off,
        c->dst_bytes.data, c->dst_valid, c->ip,      c->ip_valid,       c->rtt,
        c->rtt_valid,      c->line,      c->fw};
}

prw_status prw_atlas_reader_next(prw_atlas_reader *r, const prw_atlas_batch **batch,
                                 prw_error *err) {
    *batch = NULL;
    if (r->failed < 0)
        return fail(r, r->failed, &r->fail_err, err);
    prw_error e;
    prw_error_clear(&e);
    while (r->inflight < r->nslots && !r->eof) { /* keep every piece busy */
        at_slot *sl = &r->slots[(r->head + r->inflight) % r->nslots];
        prw_status st = fill(r, &sl->c, &e);
        if (st < 0)
            return fail(r, st, &e, err);
        if (sl->c.len == 0 && sl->c.nlong_total == 0)
            break;
        sl->done = false;
        r->inflight++;
        if (r->eof && r->inflight == 1 && !r->pool) { /* the whole input in one piece */
            parse_task(sl);
            break;
        }
        if (!r->pool &&
            (st = prw__pool_create(&r->pool, r->opt.threads, (size_t)r->nslots, &e)) < 0)
            return fail(r, st, &e, err);
        prw__pool_submit(r->pool, parse_task, sl);
    }
    if (r->inflight == 0)
        return PRW_DONE;
    at_slot *sl = &r->slots[r->head];
    prw__mutex_lock(&r->mu);
    while (!sl->done)
        prw__cond_wait(&r->cv, &r->mu);
    prw__mutex_unlock(&r->mu);
    r->head = (r->head + 1) % r->nslots;
    r->inflight--;
    if (sl->st < 0)
        return fail(r, sl->st, &sl->err, err);
    merge_stats(r, &sl->c);
    if (r->opt.strict && sl->c.stats.bad_total > 0)
        return strict_error(r, err);
    set_batch(r, &sl->c);
    *batch = &r->batch;
    return PRW_OK;
}

const prw_atlas_stats *prw_atlas_reader_stats(const prw_atlas_reader *r) {
    return &r->stats;
}

prw_atlas_format prw_atlas_reader_format(const prw_atlas_reader *r) {
    return prw__at_stream_format(r->s);
}

void prw_atlas_reader_close(prw_atlas_reader *r) {
    if (!r)
        return;
    prw__pool_destroy(r->pool); /* waits for pieces still being parsed */
    for (int i = 0; r->slots && i < r->nslots; i++)
        prw__at_chunk_cleanup(&r->slots[i].c);
    prw__free(r->slots);
    prw__free(r->carry);
    prw__at_stream_close(r->s);
    prw__mutex_destroy(&r->mu);
    prw__cond_destroy(&r->cv);
    prw__free(r);
}
