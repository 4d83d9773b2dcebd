/*
 * ArrayRecord reader (ARRAYRECORD.md §6.6) and verifier. Open: the file must be a positive
 * multiple of 64 KiB; the signature chunk at 0 is checked; the postscript chunk at
 * size - 65536 gives the footer offset; the footer gives the writer options and one
 * (offset, size, count) entry per data chunk. Record i lives in chunk i / G at i % G, where
 * G is the first entry's record count, so the index is checked to be uniform at open.
 *
 * The file is memory-mapped; a read decodes one chunk (hashes verified) into the reader's
 * chunk buffer and caches it, so reading a chunk's records in order decodes it once.
 * Uncompressed records inside one block are returned as views into the mapping.
 */
#include <stdatomic.h>
#include <sys/mman.h>

#include "arrayrecord/ar_internal.h"
#include "common/io.h"
#include "common/thread.h"

#define READAHEAD (4u << 20)

struct prw_ar_reader {
    prw__rfile file;
    prw__ar_image img;
    uint64_t num_records, num_chunks, group_size, footer_offset;
    uint64_t *chunk_off;
    char *options;
    prw_ar_compression comp;
    prw__ar_chunkbuf cb;
    uint64_t cached; /* chunk decoded in cb, or UINT64_MAX */
    uint64_t next_index;
    uint64_t readahead_end;
};

/* ---- protobuf wire format --------------------------------------------------------------- */

typedef struct pb_field {
    uint32_t number;
    uint8_t wire;
    uint64_t v;       /* varint value */
    const uint8_t *p; /* length-delimited bytes */
    size_t len;
} pb_field;

/* Reads the next field; false at the end (*bad set when the bytes are malformed). */
static bool pb_next(prw__rd *rd, pb_field *f, bool *bad) {
    *bad = false;
    if (prw__rd_left(rd) == 0)
        return false;
    uint64_t tag;
    *bad = true;
    if (!prw__rd_varint(rd, &tag) || (tag >> 3) == 0 || (tag >> 3) > UINT32_MAX)
        return false;
    f->number = (uint32_t)(tag >> 3);
    f->wire = (uint8_t)(tag & 7);
    switch (f->wire) {
    case 0:
        if (!prw__rd_varint(rd, &f->v))
            return false;
        break;
    case 1:
        if (!prw__rd_skip(rd, 8))
            return false;
        break;
    case 2:
        if (!prw__rd_varint(rd, &f->v) || f->v > prw__rd_left(rd))
            return false;
        f->len = (size_t)f->v;
        prw__rd_take(rd, f->len, &f->p);
        break;
    case 5:
        if (!prw__rd_skip(rd, 4))
            return false;
        break;
    default:
        return false;
    }
    *bad = false;
    return true;
}

/* ---- opening ---------------------------------------------------------------------------- */

static prw_status read_simple(prw_ar_reader *r, uint64_t off, const char *what, prw_error *err) {
    prw__ar_chunk_hdr h;
    const uint8_t *data;
    uint64_t end;
    prw_status st = prw__ar_read_chunk(&r->img, off, &r->cb, &h, &data, &end, err);
    if (st >= 0)
        st = prw__ar_decode_simple(&h, data, off, &r->cb, err);
    if (st < 0)
        prw__error_prefix(err, "%s: ", what);
    return st;
}

static prw_status check_signature(prw_ar_reader *r, prw_error *err) {
    prw__ar_chunk_hdr h;
    const uint8_t *data;
    uint64_t end;
    prw_status st = prw__ar_read_chunk(&r->img, 0, &r->cb, &h, &data, &end, err);
    if (st < 0) {
        prw__error_prefix(err, "file signature: ");
        return st;
    }
    PRW_CHECK(h.type == AR_CHUNK_SIGNATURE && h.data_size == 0 && h.num_records == 0 &&
                  h.decoded_size == 0,
              err, PRW_E_CORRUPT, AR_BLOCK_HDR, "not a Riegeli/ArrayRecord file signature");
    return PRW_OK;
}

static prw_status read_postscript(prw_ar_reader *r, prw_error *err) {
    uint64_t ps = r->img.size - AR_BLOCK;
    PRW_TRY(read_simple(r, ps, "postscript", err));
    PRW_CHECK(r->cb.num_records >= 1, err, PRW_E_CORRUPT, (int64_t)ps,
              "postscript chunk at %llu has no records", (unsigned long long)ps);
    prw__rd rd;
    prw__rd_init(&rd, r->cb.vals, (size_t)r->cb.offs[1]);
    pb_field f;
    bool bad, has_off = false, has_magic = false;
    uint64_t magic = 0;
    while (pb_next(&rd, &f, &bad)) {
        if (f.number == 1 && f.wire == 0) {
            r->footer_offset = f.v;
            has_off = true;
        } else if (f.number == 2 && f.wire == 0) {
            magic = f.v;
            has_magic = true;
        }
    }
    PRW_CHECK(!bad, err, PRW_E_CORRUPT, (int64_t)ps, "malformed postscript record at %llu",
              (unsigned long long)ps);
    PRW_CHECK(has_off && has_magic && magic == AR_POSTSCRIPT_MAGIC, err, PRW_E_CORRUPT, (int64_t)ps,
              "postscript at %llu lacks the footer offset or the ArrayRecord magic",
              (unsigned long long)ps);
    PRW_CHECK(r->footer_offset >= 64 && r->footer_offset < ps, err, PRW_E_CORRUPT, (int64_t)ps,
              "postscript gives footer offset %llu outside the file's data (64..%llu)",
              (unsigned long long)r->footer_offset, (unsigned long long)ps);
    return PRW_OK;
}

static prw_status parse_metadata(prw_ar_reader *r, const uint8_t *p, size_t n, uint64_t off,
                                 prw_error *err) {
    prw__rd rd;
    prw__rd_init(&rd, p, n);
    pb_field f, g;
    bool bad, found = false, inner_bad = false;
    uint64_t version = 0;
    while (pb_next(&rd, &f, &bad)) {
        if (f.number != 1 || f.wire != 2)
            continue;
        found = true;
        prw__rd in;
        prw__rd_init(&in, f.p, f.len);
        while (pb_next(&in, &g, &inner_bad)) {
            if (g.wire == 0 && g.number == 1)
                version = g.v;
            else if (g.wire == 0 && g.number == 2)
                r->num_chunks = g.v;
            else if (g.wire == 0 && g.number == 3)
                r->num_records = g.v;
            else if (g.wire == 2 && g.number == 4) {
                prw__free(r->options);
                r->options = prw__malloc(g.len + 1);
                if (!r->options)
                    return prw__error_nomem(err, "the writer options", g.len + 1);
                memcpy(r->options, g.p, g.len);
                r->options[g.len] = '\0';
            }
        }
        if (inner_bad)
            break;
    }
    PRW_CHECK(!bad && !inner_bad, err, PRW_E_CORRUPT, (int64_t)off,
              "malformed footer metadata in the chunk at %llu", (unsigned long long)off);
    PRW_CHECK(found, err, PRW_E_CORRUPT, (int64_t)off, "footer at %llu has no ArrayRecord metadata",
              (unsigned long long)off);
    PRW_CHECK(version == 1, err, PRW_E_UNSUPPORTED, (int64_t)off,
              "footer at %llu has ArrayRecord version %llu, expected 1", (unsigned long long)off,
              (unsigned long long)version);
    return PRW_OK;
}

static prw_status read_footer(prw_ar_reader *r, prw_error *err) {
    uint64_t fo = r->footer_offset;
    unsigned long long o = (unsigned long long)fo;
    PRW_TRY(read_simple(r, fo, "footer", err));
    const prw__ar_chunkbuf *cb = &r->cb;
    PRW_CHECK(cb->num_records >= 1, err, PRW_E_CORRUPT, (int64_t)fo,
              "footer chunk at %llu has no records", o);
    r->comp = cb->compression == AR_COMP_ZSTD     ? PRW_AR_ZSTD
              : cb->compression == AR_COMP_BROTLI ? PRW_AR_BROTLI
              : cb->compression == AR_COMP_SNAPPY ? PRW_AR_SNAPPY
                                                  : PRW_AR_UNCOMPRESSED;
    PRW_TRY(parse_metadata(r, cb->vals, (size_t)cb->offs[1], fo, err));
    uint64_t k = r->num_chunks;
    PRW_CHECK(cb->num_records - 1 == k, err, PRW_E_CORRUPT, (int64_t)fo,
              "footer at %llu has %llu entries for %llu chunks", o,
              (unsigned long long)(cb->num_records - 1), (unsigned long long)k);
    r->chunk_off = prw__malloc_array(k ? (size_t)k : 1, sizeof *r->chunk_off);
    if (!r->chunk_off)
        return prw__error_nomem(err, "the chunk index", (size_t)k * sizeof *r->chunk_off);
    uint64_t total = 0, prev_end = 64;
    for (uint64_t c = 0; c < k; c++) {
        prw__rd rd;
        prw__rd_init(&rd, cb->vals + cb->offs[c + 1], (size_t)(cb->offs[c + 2] - cb->offs[c + 1]));
        pb_field f;
        bool bad, has_off = false;
        uint64_t off = 0, n = 0;
        while (pb_next(&rd, &f, &bad)) {
            if (f.number == 1 && f.wire == 0) {
                off = f.v;
                has_off = true;
            } else if (f.number == 3 && f.wire == 0) {
                n = f.v;
            }
        }
        PRW_CHECK(!bad && has_off, err, PRW_E_CORRUPT, (int64_t)fo,
                  "footer at %llu: entry %llu is malformed or has no chunk offset", o,
                  (unsigned long long)c);
        PRW_CHECK(off >= prev_end && off < fo, err, PRW_E_CORRUPT, (int64_t)fo,
                  "footer at %llu: chunk %llu at offset %llu is out of order", o,
                  (unsigned long long)c, (unsigned long long)off);
        if (c == 0)
            r->group_size = n;
        PRW_CHECK(n >= 1 && n <= r->group_size && (c + 1 == k || n == r->group_size), err,
                  PRW_E_CORRUPT, (int64_t)fo,
                  "footer at %llu: chunk %llu has %llu records; every chunk but the last must "
                  "have the group size %llu",
                  o, (unsigned long long)c, (unsigned long long)n,
                  (unsigned long long)r->group_size);
        r->chunk_off[c] = off;
        prev_end = off + AR_CHUNK_HDR;
        total += n;
    }
    PRW_CHECK(total == r->num_records, err, PRW_E_CORRUPT, (int64_t)fo,
              "footer at %llu: chunks hold %llu records, metadata says %llu", o,
              (unsigned long long)total, (unsigned long long)r->num_records);
    return PRW_OK;
}

static prw_status open_image(prw_ar_reader *r, prw_error *err) {
    uint64_t size = r->img.size;
    PRW_CHECK(size >= AR_BLOCK && size % AR_BLOCK == 0, err, PRW_E_TRUNCATED, (int64_t)size,
              "file size %llu is not a positive multiple of 65536: truncated or not an "
              "ArrayRecord file",
              (unsigned long long)size);
    PRW_TRY(check_signature(r, err));
    PRW_TRY(read_postscript(r, err));
    PRW_TRY(read_footer(r, err));
    r->cached = UINT64_MAX;
    return PRW_OK;
}

static prw_status reader_new(prw_ar_reader **out, prw_error *err) {
    *out = prw__calloc(1, sizeof **out);
    if (!*out)
        return prw__error_nomem(err, "an ArrayRecord reader", sizeof **out);
    (*out)->file.fd = -1;
    (*out)->cached = UINT64_MAX;
    prw__ar_chunkbuf_init(&(*out)->cb);
    return PRW_OK;
}

prw_status prw_ar_reader_open_mem(prw_ar_reader **out, const void *data, size_t len,
                                  prw_error *err) {
    prw_ar_reader *r;
    PRW_TRY(reader_new(&r, err));
    r->img.data = data;
    r->img.size = len;
    prw_status st = open_image(r, err);
    if (st < 0) {
        prw_ar_reader_close(r);
        r = NULL;
    }
    *out = r;
    return st;
}

prw_status prw_ar_reader_open(prw_ar_reader **out, const char *path, prw_error *err) {
    prw_ar_reader *r;
    *out = NULL;
    PRW_TRY(reader_new(&r, err));
    prw_status st = prw__rfile_open(&r->file, path, true, err);
    if (st >= 0) {
        r->img.data = r->file.map;
        r->img.size = r->file.map ? (uint64_t)r->file.size : 0;
        st = open_image(r, err);
    }
    if (st < 0) {
        prw_ar_reader_close(r);
        return st;
    }
    *out = r;
    return PRW_OK;
}

void prw_ar_reader_close(prw_ar_reader *r) {
    if (!r)
        return;
    prw__rfile_close(&r->file);
    prw__ar_chunkbuf_cleanup(&r->cb);
    prw__free(r->chunk_off);
    prw__free(r->options);
    prw__free(r);
}

uint64_t prw_ar_reader_num_records(const prw_ar_reader *r) {
    return r->num_records;
}
uint64_t prw_ar_reader_num_chunks(const prw_ar_reader *r) {
    return r->num_chunks;
}
uint64_t prw_ar_reader_group_size(const prw_ar_reader *r) {
    return r->group_size;
}
const char *prw_ar_reader_options(const prw_ar_reader *r) {
    return r->options ? r->options : "";
}
prw_ar_compression prw_ar_reader_compression(const prw_ar_reader *r) {
    return r->comp;
}
uint64_t prw_ar_reader_file_size(const prw_ar_reader *r) {
    return r->img.size;
}

/* ---- reading records -------------------------------------------------------------------- */

/* Reads and decodes data chunk c into cb, checking it against the footer's index. */
static prw_status load_chunk(const prw_ar_reader *r, uint64_t c, prw__ar_chunkbuf *cb,
                             prw_error *err) {
    uint64_t off = r->chunk_off[c];
    prw__ar_chunk_hdr h;
    const uint8_t *data;
    uint64_t end;
    PRW_TRY(prw__ar_read_chunk(&r->img, off, cb, &h, &data, &end, err));
    uint64_t want = c + 1 < r->num_chunks ? r->group_size : r->num_records - c * r->group_size;
    PRW_CHECK(h.type != AR_CHUNK_SIMPLE || h.num_records == want, err, PRW_E_CORRUPT, (int64_t)off,
              "chunk %llu at %llu has %llu records, the footer says %llu", (unsigned long long)c,
              (unsigned long long)off, (unsigned long long)h.num_records, (unsigned long long)want);
    PRW_CHECK(end <= r->footer_offset, err, PRW_E_CORRUPT, (int64_t)off,
              "chunk %llu at %llu overlaps the footer", (unsigned long long)c,
              (unsigned long long)off);
    return prw__ar_decode_simple(&h, data, off, cb, err);
}

/* Record `index` through the chunk cache (cb, *cached): the reader itself is only read. */
static prw_status read_cached(const prw_ar_reader *r, prw__ar_chunkbuf *cb, uint64_t *cached,
                              uint64_t index, prw_bytes *out, prw_error *err) {
    PRW_CHECK(index < r->num_records, err, PRW_E_INVALID, -1,
              "record %llu is out of range (the file has %llu)", (unsigned long long)index,
              (unsigned long long)r->num_records);
    uint64_t c = index / r->group_size, j = index % r->group_size;
    if (*cached != c) {
        *cached = UINT64_MAX;
        PRW_TRY(load_chunk(r, c, cb, err));
        *cached = c;
    }
    out->ptr = cb->vals + cb->offs[j];
    out->len = (size_t)(cb->offs[j + 1] - cb->offs[j]);
    return PRW_OK;
}

prw_status prw_ar_reader_read(prw_ar_reader *r, uint64_t index, prw_bytes *out, prw_error *err) {
    return read_cached(r, &r->cb, &r->cached, index, out, err);
}

prw_status prw_ar_reader_seek(prw_ar_reader *r, uint64_t index, prw_error *err) {
    PRW_CHECK(index <= r->num_records, err, PRW_E_INVALID, -1, "cannot seek to record %llu of %llu",
              (unsigned long long)index, (unsigned long long)r->num_records);
    r->next_index = index;
    r->readahead_end = 0;
    return PRW_OK;
}

/* Asks the kernel to page in the next READAHEAD bytes of the mapping. */
static void read_ahead(prw_ar_reader *r, uint64_t off) {
    if (!r->file.map || off < r->readahead_end)
        return;
    uint64_t start = off & ~(uint64_t)4095;
    uint64_t end = start + READAHEAD < r->img.size ? start + READAHEAD : r->img.size;
    (void)posix_madvise((void *)(uintptr_t)(r->file.map + start), (size_t)(end - start),
                        POSIX_MADV_WILLNEED);
    r->readahead_end = start + READAHEAD / 2;
}

prw_status prw_ar_reader_next(prw_ar_reader *r, prw_bytes *out, prw_error *err) {
    if (r->next_index >= r->num_records)
        return PRW_DONE;
    uint64_t c = r->next_index / r->group_size;
    if (c != r->cached)
        read_ahead(r, r->chunk_off[c]);
    PRW_TRY(prw_ar_reader_read(r, r->next_index, out, err));
    r->next_index++;
    return PRW_OK;
}

/* ---- parallel range reads --------------------------------------------------------------- */

typedef struct range_ctx {
    const prw_ar_reader *r;
    uint64_t begin, end, c_end;
    _Atomic uint64_t next_chunk;
    _Atomic int stop;
    prw_ar_record_fn fn;
    void *ctx;
    pthread_mutex_t mu;
    prw_status st;
    prw_error err;
} range_ctx;

static prw_status range_chunk(range_ctx *rc, uint64_t c, prw__ar_chunkbuf *cb, prw_error *err) {
    const prw_ar_reader *r = rc->r;
    PRW_TRY(load_chunk(r, c, cb, err));
    uint64_t first = c * r->group_size;
    uint64_t lo = rc->begin > first ? rc->begin : first;
    uint64_t hi = first + cb->num_records < rc->end ? first + cb->num_records : rc->end;
    for (uint64_t i = lo; i < hi; i++) {
        uint64_t j = i - first;
        prw_status st =
            rc->fn(rc->ctx, i, cb->vals + cb->offs[j], (size_t)(cb->offs[j + 1] - cb->offs[j]));
        if (st < 0)
            return prw__error_set(err, st, -1, "record callback failed on record %llu",
                                  (unsigned long long)i);
    }
    return PRW_OK;
}

static void range_worker(void *arg) {
    range_ctx *rc = arg;
    prw__ar_chunkbuf cb;
    prw__ar_chunkbuf_init(&cb);
    prw_error err;
    prw_error_clear(&err);
    for (;;) {
        if (atomic_load(&rc->stop))
            break;
        uint64_t c = atomic_fetch_add(&rc->next_chunk, 1);
        if (c >= rc->c_end)
            break;
        prw_status st = range_chunk(rc, c, &cb, &err);
        if (st < 0) {
            prw__mutex_lock(&rc->mu);
            if (rc->st >= 0) {
                rc->st = st;
                rc->err = err;
            }
            prw__mutex_unlock(&rc->mu);
            atomic_store(&rc->stop, 1);
            break;
        }
    }
    prw__ar_chunkbuf_cleanup(&cb);
}

prw_status prw_ar_reader_read_range(prw_ar_reader *r, uint64_t begin, uint64_t end, int threads,
                                    prw_ar_record_fn fn, void *ctx, prw_error *err) {
    PRW_CHECK(begin <= end && end <= r->num_records, err, PRW_E_INVALID, -1,
              "record range %llu..%llu is out of range (the file has %llu)",
              (unsigned long long)begin, (unsigned long long)end,
              (unsigned long long)r->num_records);
    if (begin == end)
        return PRW_OK;
    range_ctx rc;
    memset(&rc, 0, sizeof rc);
    rc.r = r;
    rc.begin = begin;
    rc.end = end;
    rc.fn = fn;
    rc.ctx = ctx;
    atomic_init(&rc.next_chunk, begin / r->group_size);
    atomic_init(&rc.stop, 0);
    rc.c_end = (end - 1) / r->group_size + 1;
    prw_error_clear(&rc.err);
    uint64_t nchunks = rc.c_end - begin / r->group_size;
    if (threads <= 0)
        threads = prw__online_cpus();
    if ((uint64_t)threads > nchunks)
        threads = (int)nchunks;
    prw__mutex_init(&rc.mu);
    prw_status st = PRW_OK;
    if (threads <= 1) {
        range_worker(&rc);
    } else {
        prw__pool *pool;
        st = prw__pool_create(&pool, threads, (size_t)threads, err);
        if (st >= 0) {
            for (int t = 0; t < threads; t++)
                prw__pool_submit(pool, range_worker, &rc);
            prw__pool_destroy(pool);
        }
    }
    prw__mutex_destroy(&rc.mu);
    if (st >= 0 && rc.st < 0) {
        st = rc.st;
        if (err)
            *err = rc.err;
    }
    return st;
}

/* ---- cursors and batches ---------------------------------------------------------------- */

struct prw_ar_cursor {
    const prw_ar_reader *r;
    prw__ar_chunkbuf cb;
    uint64_t cached;
};

prw_status prw_ar_cursor_create(const prw_ar_reader *r, prw_ar_cursor **out, prw_error *err) {
    *out = prw__calloc(1, sizeof **out);
    if (!*out)
        return prw__error_nomem(err, "an ArrayRecord cursor", sizeof **out);
    (*out)->r = r;
    (*out)->cached = UINT64_MAX;
    prw__ar_chunkbuf_init(&(*out)->cb);
    return PRW_OK;
}

void prw_ar_cursor_destroy(prw_ar_cursor *c) {
    if (!c)
        return;
    prw__ar_chunkbuf_cleanup(&c->cb);
    prw__free(c);
}

prw_status prw_ar_cursor_read(prw_ar_cursor *c, uint64_t index, prw_bytes *out, prw_error *err) {
    return read_cached(c->r, &c->cb, &c->cached, index, out, err);
}

/* Slots per grab: large enough to amortise the atomic, small enough to balance threads. */
#define BATCH_RUN 64u

typedef struct batch_ctx {
    prw_ar_cursor *const *cursors;
    const uint64_t *indices;
    size_t n;
    _Atomic size_t next;
    _Atomic int stop;
    prw_ar_batch_fn fn;
    void *ctx;
    pthread_mutex_t mu;
    prw_status st;
    prw_error err;
} batch_ctx;

typedef struct batch_task {
    batch_ctx *bc;
    int worker;
} batch_task;

static prw_status batch_run(batch_ctx *bc, int worker, size_t lo, size_t hi, prw_error *err) {
    prw_ar_cursor *cur = bc->cursors[worker];
    for (size_t k = lo; k < hi; k++) {
        prw_bytes b;
        PRW_TRY(prw_ar_cursor_read(cur, bc->indices[k], &b, err));
        prw_status st = bc->fn(bc->ctx, worker, k, b.ptr, b.len);
        if (st < 0)
            return prw__error_set(err, st, -1, "record callback failed on slot %zu (record %llu)",
                                  k, (unsigned long long)bc->indices[k]);
    }
    return PRW_OK;
}

static void batch_worker(void *arg) {
    batch_task *t = arg;
    batch_ctx *bc = t->bc;
    prw_error err;
    prw_error_clear(&err);
    while (!atomic_load(&bc->stop)) {
        size_t lo = atomic_fetch_add(&bc->next, BATCH_RUN);
        if (lo >= bc->n)
            break;
        size_t hi = bc->n - lo < BATCH_RUN ? bc->n : lo + BATCH_RUN;
        prw_status st = batch_run(bc, t->worker, lo, hi, &err);
        if (st < 0) {
            prw__mutex_lock(&bc->mu);
            if (bc->st >= 0) {
                bc->st = st;
                bc->err = err;
            }
            prw__mutex_unlock(&bc->mu);
            atomic_store(&bc->stop, 1);
        }
    }
}

static prw_status batch_check(prw_ar_cursor *const *cursors, int n_cursors, const uint64_t *indices,
                              size_t n, prw_error *err) {
    PRW_CHECK(n_cursors >= 1, err, PRW_E_INVALID, -1, "a batch read needs at least one cursor");
    const prw_ar_reader *r = cursors[0]->r;
    for (int i = 1; i < n_cursors; i++)
        PRW_CHECK(cursors[i]->r == r, err, PRW_E_INVALID, -1,
                  "cursor %d of a batch read is over another reader", i);
    for (size_t k = 0; k < n; k++)
        PRW_CHECK(indices[k] < r->num_records, err, PRW_E_INVALID, -1,
                  "record %llu (slot %zu of the batch) is out of range (the file has %llu)",
                  (unsigned long long)indices[k], k, (unsigned long long)r->num_records);
    return PRW_OK;
}

prw_status prw_ar_read_batch(prw_ar_cursor *const *cursors, int n_cursors, const uint64_t *indices,
                             size_t n, prw_ar_batch_fn fn, void *ctx, prw_error *err) {
    PRW_TRY(batch_check(cursors, n_cursors, indices, n, err));
    size_t want = n / PRW_AR_BATCH_PER_THREAD;
    int threads = want < (size_t)n_cursors ? (int)(want ? want : 1) : n_cursors;
    if (threads == 1)
        return batch_run(&(batch_ctx){.cursors = cursors, .indices = indices, .fn = fn, .ctx = ctx},
                         0, 0, n, err);
    batch_ctx bc;
    memset(&bc, 0, sizeof bc);
    bc.cursors = cursors;
    bc.indices = indices;
    bc.n = n;
    bc.fn = fn;
    bc.ctx = ctx;
    atomic_init(&bc.next, 0);
    atomic_init(&bc.stop, 0);
    prw_error_clear(&bc.err);
    prw__mutex_init(&bc.mu);
    batch_task tasks[64];
    if (threads > 64)
        threads = 64;
    prw__pool *pool;
    prw_status st = prw__pool_create(&pool, threads - 1, (size_t)threads, err);
    if (st >= 0) {
        for (int t = 0; t < threads; t++)
            tasks[t] = (batch_task){&bc, t};
        for (int t = 1; t < threads; t++)
            prw__pool_submit(pool, batch_worker, &tasks[t]);
        batch_worker(&tasks[0]);
        prw__pool_destroy(pool);
    }
    prw__mutex_destroy(&bc.mu);
    if (st >= 0 && bc.st < 0) {
        st = bc.st;
        if (err)
            *err = bc.err;
    }
    return st;
}

/* ---- verification ----------------------------------------------------------------------- */

static prw_status count_record(void *ctx, uint64_t index, const uint8_t *data, size_t len) {
    (void)index;
    (void)data;
    (void)len;
    ++*(uint64_t *)ctx;
    return PRW_OK;
}

static prw_status walk_chunks(const prw__ar_image *img, prw_ar_verify_stats *vs, prw_error *err) {
    prw__ar_chunkbuf cb;
    prw__ar_chunkbuf_init(&cb);
    prw_status st = PRW_OK;
    uint64_t pos = 0;
    while (pos < img->size && st >= 0) {
        prw__ar_chunk_hdr h;
        const uint8_t *data;
        uint64_t end;
        st = prw__ar_read_chunk(img, pos, &cb, &h, &data, &end, err);
        if (st < 0)
            break;
        if (pos == 0 && h.type != AR_CHUNK_SIGNATURE)
            st = prw__error_set(err, PRW_E_CORRUPT, AR_BLOCK_HDR,
                                "the first chunk is not a file signature");
        else if (h.type == AR_CHUNK_SIMPLE || h.type == AR_CHUNK_TRANSPOSED)
            st = prw__ar_decode_simple(&h, data, pos, &cb, err);
        else if (h.type != AR_CHUNK_PADDING && h.type != AR_CHUNK_SIGNATURE &&
                 h.type != AR_CHUNK_METADATA)
            st = prw__error_set(err, PRW_E_CORRUPT, (int64_t)pos,
                                "chunk at %llu has unknown type 0x%02x", (unsigned long long)pos,
                                h.type);
        else if (h.type == AR_CHUNK_SIGNATURE && pos != 0)
            st = prw__error_set(err, PRW_E_CORRUPT, (int64_t)pos,
                                "file signature chunk at %llu, not at the start",
                                (unsigned long long)pos);
        vs->chunks++;
        vs->blocks = (end + AR_BLOCK - 1) / AR_BLOCK;
        pos = end;
    }
    prw__ar_chunkbuf_cleanup(&cb);
    return st;
}

prw_status prw_ar_verify_mem(const void *data, size_t len, prw_ar_verify_stats *stats,
                             prw_error *err) {
    prw_ar_verify_stats local;
    prw_ar_verify_stats *vs = stats ? stats : &local;
    memset(vs, 0, sizeof *vs);
    vs->file_size = len;
    prw__ar_image img = {data, len};
    PRW_CHECK(len >= AR_BLOCK && len % AR_BLOCK == 0, err, PRW_E_TRUNCATED, (int64_t)len,
              "file size %zu is not a positive multiple of 65536: truncated or not an "
              "ArrayRecord file",
              len);
    PRW_TRY(walk_chunks(&img, vs, err));
    prw_ar_reader *r;
    PRW_TRY(prw_ar_reader_open_mem(&r, data, len, err));
    prw_status st =
        prw_ar_reader_read_range(r, 0, r->num_records, 1, count_record, &vs->records, err);
    prw_ar_reader_close(r);
    return st;
}

prw_status prw_ar_verify(const char *path, prw_ar_verify_stats *stats, prw_error *err) {
    prw__rfile f;
    PRW_TRY(prw__rfile_open(&f, path, true, err));
    prw_status st;
    if (f.size > 0 && !f.map)
        st = prw__error_set(err, PRW_E_IO, -1, "cannot map %s", path);
    else
        st = prw_ar_verify_mem(f.map, (size_t)f.size, stats, err);
    prw__rfile_close(&f);
    return st;
}
