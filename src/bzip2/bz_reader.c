/*
 * The ordered bzip2 reader: the caller's thread walks the streams in order (stream header,
 * blocks, end-of-stream magic and combined CRC, next stream), while worker threads decode
 * blocks ahead of it speculatively.
 *
 * Workers take the candidates of the block finder (bz_scan.c) in order, each candidate a bit
 * offset where the block magic occurs, and decode the block starting there into a slot of a
 * ring. A candidate can be a false match inside compressed data; its slot is only used when
 * the walk arrives at exactly its offset (the previous block ended there, or a stream header
 * precedes it), so a false match costs a wasted decode at most, never output; a decode the walk
 * has passed, or one still running when the reader is destroyed, gives up at its next stage.
 * Memory: a worker starts a block other than the one the walk waits for only while the decoded
 * bytes waiting in slots stay under max_buffered, and at most 2 x threads + 2 slots exist.
 *
 * With threads == 1 the walk decodes each block itself, on the caller's thread; so it does
 * for data of at most SCAN_CHUNK bytes in which the block finder sees fewer than two magics.
 */
#include <pthread.h>

#include "bzip2/bz.h"
#include "common/thread.h"

#define SCAN_CHUNK (1u << 20)
#define KEEP_CAP (8u << 20) /* slot buffers above this are freed after use */

enum { SLOT_FREE, SLOT_BUSY, SLOT_DONE };

typedef struct {
    int state;
    bool discard;       /* a false candidate the walk has passed: free on completion */
    atomic_bool cancel; /* discard or stop: its decode may give up (prw__bz_work.cancel) */
    size_t cand;
    prw_status st;
    prw_error err;
    prw__buf out;
    prw__bz_block info;
} slot;

struct prw__bz_reader {
    const uint8_t *data;
    size_t size;
    char *name;
    size_t max_buffered;
    /* the walk (caller's thread only) */
    uint64_t pos;      /* bit offset of what comes next */
    unsigned level;    /* 1..9 inside a stream, 0 before a stream header */
    uint32_t combined; /* combined CRC of the stream's blocks so far */
    size_t streams;
    prw_status fail; /* sticky error */
    prw_error ferr;
    /* one thread */
    prw__bz_work *work;
    prw__buf out1;
    /* block candidates (under mu when threaded) */
    uint64_t *cand;
    size_t ncand, capcand, scanned;
    /* threads */
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    slot *slots;
    size_t nslots, ci, next_claim, buffered, peak_buffered, held;
    bool threaded, have_held, stop;
    int nthreads;
    pthread_t *tids;
};

static prw_status scan_more(prw__bz_reader *r, prw_error *err) {
    size_t to = r->scanned + SCAN_CHUNK;
    if (to > r->size || to < r->scanned)
        to = r->size;
    if (!prw__bz_scan(r->data, r->size, r->scanned, to, &r->cand, &r->ncand, &r->capcand))
        return prw__error_nomem(err, "bzip2 block list", r->capcand * 2 * sizeof(uint64_t));
    r->scanned = to;
    return PRW_OK;
}

static void release_slot(slot *s) {
    s->state = SLOT_FREE;
    if (s->out.cap > KEEP_CAP)
        prw__buf_cleanup(&s->out);
}

/* Picks the next candidate a worker may decode, or NULL (caller waits). Under mu. */
static slot *claim(prw__bz_reader *r, uint64_t *bit) {
    size_t k = r->next_claim;
    if (k >= r->ncand) {
        if (r->scanned < r->size) {
            prw_error e;
            if (scan_more(r, &e) == PRW_OK)
                return claim(r, bit);
        }
        return NULL;
    }
    if (k >= r->ci + r->nslots || (k != r->ci && r->buffered >= r->max_buffered))
        return NULL;
    slot *s = &r->slots[k % r->nslots];
    if (s->state != SLOT_FREE)
        return NULL;
    s->state = SLOT_BUSY;
    s->discard = false;
    atomic_store_explicit(&s->cancel, false, memory_order_relaxed);
    s->cand = k;
    *bit = r->cand[k];
    r->next_claim = k + 1;
    return s;
}

static void *worker(void *arg) {
    prw__bz_reader *r = arg;
    prw__bz_work *w = NULL;
    prw_error werr;
    prw_status wst = prw__bz_work_create(&w, &werr);
    prw__mutex_lock(&r->mu);
    while (!r->stop) {
        uint64_t bit = 0;
        slot *s = claim(r, &bit);
        if (!s) {
            prw__cond_wait(&r->cv_work, &r->mu);
            continue;
        }
        prw__mutex_unlock(&r->mu);
        s->st = wst;
        if (w)
            w->cancel = &s->cancel;
        if (wst == PRW_OK)
            s->st = prw__bz_decode_block(r->data, r->size, bit, PRW_BZ_MAX_BLOCK, r->name, w,
                                         &s->out, &s->info, &s->err);
        else
            s->err = werr;
        prw__mutex_lock(&r->mu);
        if (s->discard) {
            release_slot(s);
            prw__cond_broadcast(&r->cv_work);
        } else {
            s->state = SLOT_DONE;
            if (s->st == PRW_OK)
                r->buffered += s->out.len;
            if (r->buffered > r->peak_buffered)
                r->peak_buffered = r->buffered;
            prw__cond_broadcast(&r->cv_done);
        }
    }
    prw__mutex_unlock(&r->mu);
    prw__bz_work_destroy(w);
    return NULL;
}

/* Drops candidate k, which the walk has passed (a false match). Under mu. */
static void pass_candidate(prw__bz_reader *r, size_t k) {
    if (k >= r->next_claim)
        return; /* never claimed */
    slot *s = &r->slots[k % r->nslots];
    if (s->cand != k || s->state == SLOT_FREE)
        return;
    if (s->state == SLOT_BUSY) {
        s->discard = true;
        atomic_store_explicit(&s->cancel, true, memory_order_relaxed);
        return;
    }
    if (s->st == PRW_OK)
        r->buffered -= s->out.len;
    release_slot(s);
}

/* The decoded block whose magic is at bit `pos`, from the workers. */
static prw_status take_threaded(prw__bz_reader *r, uint64_t pos, prw__buf **out,
                                prw__bz_block *info, prw_error *err) {
    prw_status st = PRW_OK;
    prw__mutex_lock(&r->mu);
    while (st == PRW_OK && r->scanned < r->size && r->scanned <= pos / 8 + 1)
        st = scan_more(r, err);
    while (st == PRW_OK && r->ci < r->ncand && r->cand[r->ci] < pos)
        pass_candidate(r, r->ci++);
    if (st == PRW_OK && (r->ci >= r->ncand || r->cand[r->ci] != pos))
        st = prw__bz_error(err, PRW_E_CORRUPT, r->name, pos, "block finder missed a block");
    if (st != PRW_OK) {
        prw__mutex_unlock(&r->mu);
        return st;
    }
    if (r->next_claim < r->ci)
        r->next_claim = r->ci;
    prw__cond_broadcast(&r->cv_work);
    slot *s = &r->slots[r->ci % r->nslots];
    while (!(s->cand == r->ci && s->state == SLOT_DONE))
        prw__cond_wait(&r->cv_done, &r->mu);
    if (s->st == PRW_OK)
        r->buffered -= s->out.len;
    r->held = r->ci++;
    r->have_held = true;
    prw__cond_broadcast(&r->cv_work);
    prw__mutex_unlock(&r->mu);
    if (s->st != PRW_OK) {
        if (err)
            *err = s->err;
        return s->st;
    }
    *info = s->info;
    *out = &s->out;
    return PRW_OK;
}

/* The block at bit `pos`. On the caller's thread the stream's level is known, so a block longer
 * than it allows fails while its symbols are decoded (as in libbz2), not after its inverse BWT
 * and RLE1 (up to 45 MB for a 900 kB block) have been done for nothing; the workers decode
 * before the walk knows which stream a block is in and leave the check to next_item. */
static prw_status take_block(prw__bz_reader *r, uint64_t pos, prw__buf **out, prw__bz_block *info,
                             prw_error *err) {
    if (!r->slots) {
        *out = &r->out1;
        return prw__bz_decode_block(r->data, r->size, pos, 100000u * r->level, r->name, r->work,
                                    &r->out1, info, err);
    }
    return take_threaded(r, pos, out, info, err);
}

/* At a byte boundary before a stream: its header, the end of the data, or trailing bytes. */
static prw_status stream_header(prw__bz_reader *r, bool *end, prw_error *err) {
    size_t at = (size_t)(r->pos / 8);
    *end = false;
    if (at == r->size && r->streams > 0) {
        *end = true;
        return PRW_OK;
    }
    size_t left = r->size - at;
    const uint8_t *p = r->data + at;
    bool magic = left >= 3 && memcmp(p, "BZh", 3) == 0;
    if (!magic && r->streams > 0)
        return prw__bz_error(err, PRW_E_CORRUPT, r->name, r->pos,
                             "%zu bytes of trailing data after the last stream", left);
    if (left < 4 && (left == 0 || memcmp(p, "BZh", left) == 0))
        return prw__bz_error(err, PRW_E_TRUNCATED, r->name, r->pos,
                             left ? "data ends inside the stream header" : "empty input");
    if (!magic || p[3] < '1' || p[3] > '9')
        return prw__bz_error(err, PRW_E_CORRUPT, r->name, r->pos,
                             "no bzip2 stream header (\"BZh1\"..\"BZh9\")");
    r->level = (unsigned)(p[3] - '0');
    r->combined = 0;
    r->pos += 32;
    return PRW_OK;
}

/* At a block boundary: the end-of-stream marker with its CRC, or a block. */
static prw_status next_item(prw__bz_reader *r, const uint8_t **data, size_t *len, prw_error *err) {
    uint64_t bits = 8 * (uint64_t)r->size;
    if (r->pos + 48 > bits)
        return prw__bz_error(err, PRW_E_TRUNCATED, r->name, bits,
                             "data ends before the end-of-stream marker");
    uint64_t m = prw__bz_peek(r->data, r->size, r->pos, 48);
    if (m == PRW_BZ_EOS_MAGIC) {
        if (r->pos + 80 > bits)
            return prw__bz_error(err, PRW_E_TRUNCATED, r->name, bits,
                                 "data ends inside the stream CRC");
        uint32_t stored = (uint32_t)prw__bz_peek(r->data, r->size, r->pos + 48, 32);
        if (stored != r->combined)
            return prw__bz_error(err, PRW_E_CHECKSUM, r->name, r->pos,
                                 "stream CRC mismatch (stored 0x%08x, computed 0x%08x)", stored,
                                 r->combined);
        r->pos = (r->pos + 80 + 7) & ~(uint64_t)7;
        r->level = 0;
        r->streams++;
        return PRW_OK;
    }
    if (m != PRW_BZ_BLOCK_MAGIC)
        return prw__bz_error(err, PRW_E_CORRUPT, r->name, r->pos,
                             "no block magic or end-of-stream marker");
    prw__buf *out = NULL;
    prw__bz_block info;
    PRW_TRY(take_block(r, r->pos, &out, &info, err));
    if (info.nblock > 100000u * r->level)
        return prw__bz_error(err, PRW_E_CORRUPT, r->name, r->pos,
                             "block of %u bytes in a stream of level %u", info.nblock, r->level);
    r->combined = prw__bz_combine(r->combined, info.crc);
    r->pos = info.end_bit;
    *data = out->data;
    *len = out->len;
    return PRW_OK;
}

static prw_status walk(prw__bz_reader *r, const uint8_t **data, size_t *len, prw_error *err) {
    *len = 0;
    while (*len == 0) {
        if (r->level == 0) {
            bool end = false;
            PRW_TRY(stream_header(r, &end, err));
            if (end)
                return PRW_OK;
        }
        PRW_TRY(next_item(r, data, len, err));
    }
    return PRW_OK;
}

prw_status prw__bz_reader_next(prw__bz_reader *r, const uint8_t **data, size_t *len,
                               prw_error *err) {
    *data = NULL;
    *len = 0;
    if (r->fail < 0) {
        if (err)
            *err = r->ferr;
        return r->fail;
    }
    if (r->have_held) {
        prw__mutex_lock(&r->mu);
        release_slot(&r->slots[r->held % r->nslots]);
        r->have_held = false;
        prw__cond_broadcast(&r->cv_work);
        prw__mutex_unlock(&r->mu);
    }
    prw_error e;
    prw_error_clear(&e);
    prw_status st = walk(r, data, len, &e);
    if (st < 0) {
        r->fail = st;
        r->ferr = e;
        *data = NULL;
        *len = 0;
        if (err)
            *err = e;
    }
    return st;
}

size_t prw__bz_reader_peak_buffered(prw__bz_reader *r) {
    if (!r->threaded)
        return 0;
    prw__mutex_lock(&r->mu);
    size_t peak = r->peak_buffered;
    prw__mutex_unlock(&r->mu);
    return peak;
}

static prw_status start_threads(prw__bz_reader *r, int threads, prw_error *err) {
    prw__mutex_init(&r->mu);
    prw__cond_init(&r->cv_work);
    prw__cond_init(&r->cv_done);
    r->threaded = true;
    r->nslots = 2 * (size_t)threads + 2;
    r->slots = prw__calloc(r->nslots, sizeof *r->slots);
    r->tids = prw__calloc((size_t)threads, sizeof *r->tids);
    if (!r->slots || !r->tids)
        return prw__error_nomem(err, "bzip2 reader slots", r->nslots * sizeof *r->slots);
    for (size_t i = 0; i < r->nslots; i++)
        r->slots[i].cand = SIZE_MAX;
    for (int i = 0; i < threads; i++) {
        int rc = pthread_create(&r->tids[i], NULL, worker, r);
        if (rc != 0)
            return prw__error_sys(err, rc, "%s: cannot start a bzip2 thread", r->name);
        r->nthreads++;
    }
    return PRW_OK;
}

prw_status prw__bz_reader_create(const uint8_t *data, size_t size, const char *name, int threads,
                                 size_t max_buffered, prw__bz_reader **out, prw_error *err) {
    *out = NULL;
    if (threads < 1 || threads > 1024)
        return prw__error_set(err, PRW_E_INVALID, -1, "bzip2 reader: %d threads", threads);
    prw__bz_reader *r = prw__calloc(1, sizeof *r);
    if (!r)
        return prw__error_nomem(err, "bzip2 reader", sizeof *r);
    r->data = data;
    r->size = data ? size : 0;
    r->max_buffered = max_buffered;
    r->name = prw__strdup(name ? name : "input");
    prw_status st = r->name ? PRW_OK : prw__error_nomem(err, "bzip2 reader name", 64);
    if (st == PRW_OK && threads > 1 && r->size <= SCAN_CHUNK) {
        /* data holding at most one block magic leaves nothing to decode ahead: no threads */
        st = scan_more(r, err);
        if (st == PRW_OK && r->ncand < 2)
            threads = 1;
    }
    if (st == PRW_OK && threads == 1)
        st = prw__bz_work_create(&r->work, err);
    else if (st == PRW_OK)
        st = start_threads(r, threads, err);
    if (st != PRW_OK) {
        prw__bz_reader_destroy(r);
        return st;
    }
    *out = r;
    return PRW_OK;
}

void prw__bz_reader_destroy(prw__bz_reader *r) {
    if (!r)
        return;
    if (r->threaded) {
        prw__mutex_lock(&r->mu);
        r->stop = true;
        for (size_t i = 0; r->slots && i < r->nslots; i++)
            atomic_store_explicit(&r->slots[i].cancel, true, memory_order_relaxed);
        prw__cond_broadcast(&r->cv_work);
        prw__mutex_unlock(&r->mu);
        for (int i = 0; i < r->nthreads; i++)
            pthread_join(r->tids[i], NULL);
        for (size_t i = 0; r->slots && i < r->nslots; i++)
            prw__buf_cleanup(&r->slots[i].out);
        prw__mutex_destroy(&r->mu);
        prw__cond_destroy(&r->cv_work);
        prw__cond_destroy(&r->cv_done);
    }
    prw__free(r->slots);
    prw__free(r->tids);
    prw__free(r->cand);
    prw__bz_work_destroy(r->work);
    prw__buf_cleanup(&r->out1);
    prw__free(r->name);
    prw__free(r);
}
