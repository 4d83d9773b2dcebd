/*
 * Cursor and batch reads of the ArrayRecord reader (the paths the Python package runs with the
 * GIL released): every record of a file, read through cursors in a shuffled order on several
 * threads at once, equals what the single-threaded reader returns (itself checked against
 * Google's files by test_arrayrecord.c); Google's grouped zstd file read the same way; bad
 * indices, a failing callback and cursors of two readers are refused without reading.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "harness.h"
#include "proberows/arrayrecord.h"

#define CUR_RECORDS 5000
#define CUR_THREADS 4

/* Writes CUR_RECORDS records of varying sizes (record i is i % 251 + 1 bytes of i). */
static const char *write_file(const char *options) {
    const char *path = th_fmt("%s/cursor_%s.array_record", th_tmpdir(), options);
    prw_ar_writer *w;
    prw_error err;
    prw_error_clear(&err);
    if (prw_ar_writer_open(&w, path, options, &err) < 0)
        return NULL;
    uint8_t buf[256];
    for (int i = 0; i < CUR_RECORDS; i++) {
        size_t n = (size_t)(i % 251) + 1;
        memset(buf, i & 0xff, n);
        if (prw_ar_writer_add_record(w, buf, n, &err) < 0) {
            prw_ar_writer_abort(w);
            return NULL;
        }
    }
    return prw_ar_writer_close(w, &err) < 0 ? NULL : path;
}

/* What the plain reader returns for every record: copies, one buffer each. */
typedef struct expected {
    size_t n;
    uint8_t **data;
    size_t *len;
} expected;

static bool load_expected(prw_ar_reader *r, expected *e) {
    e->n = (size_t)prw_ar_reader_num_records(r);
    e->data = calloc(e->n ? e->n : 1, sizeof *e->data);
    e->len = calloc(e->n ? e->n : 1, sizeof *e->len);
    for (size_t i = 0; i < e->n; i++) {
        prw_bytes b;
        prw_error err;
        if (prw_ar_reader_read(r, i, &b, &err) < 0)
            return false;
        e->data[i] = malloc(b.len ? b.len : 1);
        memcpy(e->data[i], b.ptr, b.len);
        e->len[i] = b.len;
    }
    return true;
}

static void free_expected(expected *e) {
    for (size_t i = 0; i < e->n; i++)
        free(e->data[i]);
    free(e->data);
    free(e->len);
}

typedef struct check_ctx {
    const expected *e;
    const uint64_t *indices;
    _Atomic int64_t bad, seen;
    int fail_at; /* slot whose callback fails, or -1 */
} check_ctx;

static prw_status check_record(void *ctx, int worker, size_t pos, const uint8_t *data, size_t len) {
    check_ctx *c = ctx;
    (void)worker;
    if ((int)pos == c->fail_at)
        return PRW_E_LIMIT;
    uint64_t i = c->indices[pos];
    if (len != c->e->len[i] || (len && memcmp(data, c->e->data[i], len) != 0))
        atomic_fetch_add(&c->bad, 1);
    atomic_fetch_add(&c->seen, 1);
    return PRW_OK;
}

/* A shuffled permutation of 0..n-1 followed by n random indices (repeats). */
static uint64_t *shuffled(size_t n, uint64_t seed) {
    uint64_t *ix = malloc(2 * n * sizeof *ix);
    for (size_t i = 0; i < n; i++)
        ix[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(th_rand(&seed) % i);
        uint64_t t = ix[i - 1];
        ix[i - 1] = ix[j];
        ix[j] = t;
    }
    for (size_t i = n; i < 2 * n; i++)
        ix[i] = th_rand(&seed) % n;
    return ix;
}

typedef struct thread_arg {
    prw_ar_reader *r;
    const expected *e;
    uint64_t seed;
    int64_t bad, seen;
    prw_status st;
} thread_arg;

/* One thread: a batch with two cursors of its own, then single reads through a third. */
static void *reader_thread(void *p) {
    thread_arg *a = p;
    prw_ar_cursor *cur[2] = {NULL, NULL}, *single = NULL;
    prw_error err;
    prw_error_clear(&err);
    uint64_t *ix = shuffled(a->e->n, a->seed);
    check_ctx c = {.e = a->e, .indices = ix, .fail_at = -1};
    a->st = prw_ar_cursor_create(a->r, &cur[0], &err);
    if (a->st >= 0)
        a->st = prw_ar_cursor_create(a->r, &cur[1], &err);
    if (a->st >= 0)
        a->st = prw_ar_read_batch(cur, 2, ix, 2 * a->e->n, check_record, &c, &err);
    if (a->st >= 0)
        a->st = prw_ar_cursor_create(a->r, &single, &err);
    for (size_t k = 0; a->st >= 0 && k < a->e->n; k += 7) {
        prw_bytes b;
        a->st = prw_ar_cursor_read(single, ix[k], &b, &err);
        if (a->st >= 0)
            check_record(&c, 0, k, b.ptr, b.len);
    }
    a->bad = atomic_load(&c.bad);
    a->seen = atomic_load(&c.seen);
    prw_ar_cursor_destroy(cur[0]);
    prw_ar_cursor_destroy(cur[1]);
    prw_ar_cursor_destroy(single);
    free(ix);
    return NULL;
}

/* CUR_THREADS threads read every record of `path` at once through their own cursors. */
static void check_concurrent(const char *path) {
    prw_ar_reader *r;
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(prw_ar_reader_open(&r, path, &err), &err);
    expected e;
    ASSERT_TRUE(load_expected(r, &e));
    pthread_t th[CUR_THREADS];
    thread_arg args[CUR_THREADS];
    for (int t = 0; t < CUR_THREADS; t++) {
        args[t] = (thread_arg){.r = r, .e = &e, .seed = 0x5eed + (uint64_t)t};
        ASSERT_EQ_I64(pthread_create(&th[t], NULL, reader_thread, &args[t]), 0);
    }
    for (int t = 0; t < CUR_THREADS; t++)
        pthread_join(th[t], NULL);
    prw_ar_reader_close(r);
    size_t n = e.n;
    free_expected(&e);
    for (int t = 0; t < CUR_THREADS; t++) {
        ASSERT_OK(args[t].st, NULL);
        ASSERT_EQ_I64(args[t].bad, 0);
        ASSERT_EQ_I64(args[t].seen, (int64_t)(2 * n + (n + 6) / 7));
    }
}

TEST(ar_cursor_concurrent_batches) {
    const char *opts[] = {"uncompressed", "zstd:3", "group_size:16,snappy"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        const char *path = write_file(opts[i]);
        ASSERT_TRUE(path != NULL);
        check_concurrent(path);
    }
}

TEST(ar_cursor_google_grouped) {
    REQUIRE_SHARED(dir);
    check_concurrent(
        th_fmt("%s/testdata/arrayrecord/golden/random20000_group64.array_record", dir));
    check_concurrent(th_fmt("%s/testdata/arrayrecord/golden/small1000_brotli6.array_record", dir));
}

TEST(ar_cursor_batch_errors) {
    const char *path = write_file("uncompressed");
    ASSERT_TRUE(path != NULL);
    prw_ar_reader *r, *r2;
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(prw_ar_reader_open(&r, path, &err), &err);
    ASSERT_OK(prw_ar_reader_open(&r2, path, &err), &err);
    expected e;
    ASSERT_TRUE(load_expected(r, &e));
    prw_ar_cursor *cur[2];
    ASSERT_OK(prw_ar_cursor_create(r, &cur[0], &err), &err);
    ASSERT_OK(prw_ar_cursor_create(r2, &cur[1], &err), &err);
    uint64_t ix[3] = {1, CUR_RECORDS, 2};
    check_ctx c = {.e = &e, .indices = ix, .fail_at = -1};
    /* an index out of range: refused before any read, the slot named */
    ASSERT_ERR(prw_ar_read_batch(cur, 1, ix, 3, check_record, &c, &err), PRW_E_INVALID);
    ASSERT_TRUE(strstr(err.msg, "slot 1") != NULL);
    ASSERT_EQ_I64(atomic_load(&c.seen), 0);
    prw_bytes b;
    ASSERT_ERR(prw_ar_cursor_read(cur[0], CUR_RECORDS, &b, &err), PRW_E_INVALID);
    /* cursors over two readers */
    ix[1] = 3;
    ASSERT_ERR(prw_ar_read_batch(cur, 2, ix, 3, check_record, &c, &err), PRW_E_INVALID);
    ASSERT_ERR(prw_ar_read_batch(cur, 0, ix, 3, check_record, &c, &err), PRW_E_INVALID);
    /* a failing callback stops the batch with its status */
    c.fail_at = 1;
    ASSERT_ERR(prw_ar_read_batch(cur, 1, ix, 3, check_record, &c, &err), PRW_E_LIMIT);
    ASSERT_EQ_I64(atomic_load(&c.seen), 1);
    ASSERT_OK(prw_ar_read_batch(cur, 1, ix, 0, check_record, &c, &err), &err);
    /* ... also when two threads share the batch */
    prw_ar_cursor_destroy(cur[1]);
    ASSERT_OK(prw_ar_cursor_create(r, &cur[1], &err), &err);
    uint64_t *big = shuffled(e.n, 7);
    c = (check_ctx){.e = &e, .indices = big, .fail_at = 3000};
    ASSERT_ERR(prw_ar_read_batch(cur, 2, big, 2 * e.n, check_record, &c, &err), PRW_E_LIMIT);
    ASSERT_TRUE(strstr(err.msg, "slot 3000") != NULL);
    ASSERT_TRUE(atomic_load(&c.seen) < (int64_t)(2 * e.n));
    free(big);
    prw_ar_cursor_destroy(cur[1]);
    cur[1] = NULL;
    prw_ar_cursor_destroy(cur[0]);
    prw_ar_cursor_destroy(NULL);
    prw_ar_reader_close(r);
    prw_ar_reader_close(r2);
    free_expected(&e);
}
