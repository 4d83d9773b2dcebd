/* Unit tests of src/common: errors, allocation hook, cursor, varints, buffer, arena,
 * queue and pool, file I/O, codecs and hashes. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/common.h"
#include "common/hash.h"
#include "common/io.h"
#include "common/thread.h"
#include "harness.h"

TEST(common_error_set_and_prefix) {
    prw_error err;
    prw_error_clear(&err);
    ASSERT_EQ_I64(err.offset, -1);
    ASSERT_ERR(prw__error_set(&err, PRW_E_CORRUPT, 42, "bad %s", "magic"), PRW_E_CORRUPT);
    ASSERT_EQ_STR(err.msg, "bad magic");
    ASSERT_EQ_I64(err.offset, 42);
    prw__error_prefix(&err, "column '%s': ", "rtt");
    ASSERT_EQ_STR(err.msg, "column 'rtt': bad magic");
    ASSERT_ERR(prw__error_set(NULL, PRW_E_IO, 0, "x"), PRW_E_IO);
    ASSERT_ERR(prw__error_sys(&err, ENOSPC, "write %s", "f"), PRW_E_IO);
    ASSERT_EQ_I64(err.sys_errno, ENOSPC);
    ASSERT_TRUE(strstr(err.msg, "No space left") != NULL);
    ASSERT_EQ_STR(prw_strerror(PRW_E_CHECKSUM), "checksum mismatch");
    ASSERT_EQ_STR(prw_strerror((prw_status)-99), "unknown status");
    /* A long prefix never overflows the message. */
    char big[700];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    prw__error_prefix(&err, "%s", big);
    ASSERT_EQ_I64(strlen(err.msg), PRW_ERROR_MSG_MAX - 1);
}

TEST(common_alloc_fail_nth) {
    void *a = prw__malloc(10);
    ASSERT_TRUE(a != NULL);
    prw__free(a);
    prw_alloc_fail_after(2);
    void *b = prw__malloc(10);
    void *c = prw__malloc(10);
    void *d = prw__malloc(10);
    prw_alloc_fail_after(0);
    ASSERT_TRUE(b != NULL);
    ASSERT_TRUE(c == NULL);
    ASSERT_TRUE(d == NULL);
    prw__free(b);
    ASSERT_TRUE(prw__malloc_array(SIZE_MAX / 2, 4) == NULL);
    ASSERT_TRUE(prw__calloc(SIZE_MAX / 2, 4) == NULL);
}

/* grow_array keeps the contents and doubles; a failed growth leaves the array as it was. */
TEST(common_grow_array_keeps_contents) {
    uint32_t *a = NULL;
    size_t cap = 0;
    prw_error err;
    prw_error_clear(&err);
    for (uint32_t i = 0; i < 1000; i++) {
        ASSERT_OK(prw__grow_array((void **)&a, &cap, i + 1, sizeof *a, "x", &err), &err);
        a[i] = i * 7;
    }
    ASSERT_EQ_I64((int64_t)cap, 1024); /* 64, 128, ... 1024 */
    for (uint32_t i = 0; i < 1000; i++)
        ASSERT_EQ_I64(a[i], i * 7);
    prw_alloc_fail_after(1);
    prw_status st = prw__grow_array((void **)&a, &cap, 5000, sizeof *a, "more", &err);
    prw_alloc_fail_after(0);
    ASSERT_ERR(st, PRW_E_NOMEM);
    ASSERT_TRUE(strstr(err.msg, "more") != NULL);
    ASSERT_EQ_I64((int64_t)cap, 1024);
    ASSERT_EQ_I64(a[999], 999 * 7);
    ASSERT_ERR(prw__grow_array((void **)&a, &cap, SIZE_MAX / 2, sizeof *a, "huge", &err),
               PRW_E_NOMEM);
    prw__free(a);
}

static _Atomic int g_custom_calls;
static void *counting_realloc(void *ctx, void *p, size_t n) {
    (void)ctx;
    atomic_fetch_add(&g_custom_calls, 1);
    return realloc(p, n);
}
static void counting_free(void *ctx, void *p) {
    (void)ctx;
    free(p);
}

TEST(common_custom_allocator) {
    prw_allocator a = {counting_realloc, counting_free, NULL};
    prw_set_allocator(&a);
    char *s = prw__strdup("hello");
    prw_set_allocator(&a); /* same allocator frees it */
    ASSERT_EQ_STR(s, "hello");
    prw__free(s);
    prw_set_allocator(NULL);
    ASSERT_TRUE(atomic_load(&g_custom_calls) >= 1);
}

TEST(common_varint_roundtrip) {
    const uint64_t vals[] = {0, 1, 127, 128, 300, 16383, 16384, UINT32_MAX, UINT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        uint8_t buf[PRW_VARINT_MAX];
        size_t n = prw__varint_put(buf, vals[i]);
        ASSERT_EQ_I64(n, prw__varint_len(vals[i]));
        prw__rd rd;
        prw__rd_init(&rd, buf, n);
        uint64_t v = 0;
        ASSERT_TRUE(prw__rd_varint(&rd, &v));
        ASSERT_EQ_U64(v, vals[i]);
        ASSERT_EQ_I64(prw__rd_left(&rd), 0);
        prw__rd_init(&rd, buf, n - 1); /* truncated */
        ASSERT_TRUE(!prw__rd_varint(&rd, &v));
        ASSERT_EQ_I64(prw__rd_pos(&rd), 0);
    }
    uint8_t over[11];
    memset(over, 0xff, sizeof over);
    prw__rd rd;
    prw__rd_init(&rd, over, sizeof over);
    uint64_t v;
    ASSERT_TRUE(!prw__rd_varint(&rd, &v));
    uint8_t ten[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    prw__rd_init(&rd, ten, sizeof ten);
    ASSERT_TRUE(!prw__rd_varint(&rd, &v)); /* bit 64 set */
    ASSERT_EQ_I64(prw__zigzag_dec(prw__zigzag_enc(-5)), -5);
    ASSERT_EQ_U64(prw__zigzag_enc(-1), 1);
    ASSERT_EQ_U64(prw__zigzag_enc(INT64_MIN), UINT64_MAX);
}

TEST(common_cursor_and_endian) {
    uint8_t b[12];
    prw__store_le32(b, 0x11223344u);
    prw__store_le64(b + 4, 0x0102030405060708ull);
    ASSERT_EQ_I64(b[0], 0x44);
    ASSERT_EQ_U64(prw__load_be32(b), 0x44332211u);
    ASSERT_EQ_U64(prw__load_le16(b), 0x3344);
    prw__rd rd;
    prw__rd_init(&rd, b, sizeof b);
    uint32_t u32;
    uint64_t u64;
    ASSERT_TRUE(prw__rd_le32(&rd, &u32));
    ASSERT_EQ_U64(u32, 0x11223344u);
    ASSERT_TRUE(prw__rd_le64(&rd, &u64));
    ASSERT_EQ_U64(u64, 0x0102030405060708ull);
    ASSERT_TRUE(!prw__rd_le32(&rd, &u32));
    uint8_t u8;
    ASSERT_TRUE(!prw__rd_u8(&rd, &u8));
    const uint8_t *p;
    prw__rd_init(&rd, b, sizeof b);
    ASSERT_TRUE(!prw__rd_take(&rd, 13, &p));
    ASSERT_TRUE(prw__rd_take(&rd, 12, &p));
    ASSERT_TRUE(!prw__rd_skip(&rd, 1));
}

TEST(common_buf_grow_pad_oom) {
    prw__buf b;
    prw__buf_init(&b);
    prw_error err;
    prw_error_clear(&err);
    for (int i = 0; i < 1000; i++)
        ASSERT_OK(prw__buf_append(&b, "abc", 3, &err), &err);
    ASSERT_EQ_I64(b.len, 3000);
    ASSERT_OK(prw__buf_pad(&b, 64, &err), &err);
    ASSERT_EQ_I64(b.len, 3008);
    ASSERT_OK(prw__buf_varint(&b, 300, &err), &err);
    ASSERT_EQ_I64(b.len, 3010);
    ASSERT_EQ_I64(b.data[3008], 0xac);
    prw_alloc_fail_after(1);
    prw_status st = prw__buf_reserve(&b, 1 << 20, &err);
    prw_alloc_fail_after(0);
    ASSERT_ERR(st, PRW_E_NOMEM);
    ASSERT_EQ_I64(b.len, 3010); /* unchanged on failure */
    ASSERT_ERR(prw__buf_reserve(&b, SIZE_MAX, &err), PRW_E_LIMIT);
    prw__buf_cleanup(&b);
    prw__buf_cleanup(&b);
}

TEST(common_arena_alignment_and_reset) {
    prw__arena a;
    prw__arena_init(&a, 1024);
    for (int i = 0; i < 100; i++) {
        size_t align = (size_t)1 << (i % 7);
        uint8_t *p = prw__arena_alloc(&a, (size_t)(i * 13 + 1), align);
        ASSERT_TRUE(p != NULL);
        ASSERT_EQ_I64((uintptr_t)p % align, 0);
        memset(p, 0xab, (size_t)(i * 13 + 1));
    }
    void *big = prw__arena_alloc(&a, 100000, 8);
    ASSERT_TRUE(big != NULL);
    memset(big, 1, 100000);
    prw__arena_reset(&a);
    ASSERT_EQ_I64(a.used_total, 0);
    ASSERT_TRUE(prw__arena_alloc(&a, 10, 8) != NULL);
    prw__arena_cleanup(&a);
    prw__arena_cleanup(&a);
}

typedef struct {
    _Atomic int64_t sum;
} pool_acc;
typedef struct {
    pool_acc *acc;
    int64_t v;
} pool_job;
static void pool_add(void *arg) {
    pool_job *j = arg;
    atomic_fetch_add(&j->acc->sum, j->v);
}

TEST(common_pool_runs_every_task) {
    prw_error err;
    prw_error_clear(&err);
    for (int threads = 1; threads <= 8; threads *= 2) {
        prw__pool *p;
        ASSERT_OK(prw__pool_create(&p, threads, 3, &err), &err);
        ASSERT_EQ_I64(prw__pool_threads(p), threads);
        pool_acc acc = {0};
        pool_job jobs[1000];
        for (int i = 0; i < 1000; i++) {
            jobs[i] = (pool_job){&acc, i};
            prw__pool_submit(p, pool_add, &jobs[i]);
        }
        prw__pool_wait(p);
        ASSERT_EQ_I64(atomic_load(&acc.sum), 999 * 1000 / 2);
        prw__pool_destroy(p);
    }
    prw__pool_destroy(NULL);
}

TEST(common_queue_close_drains) {
    prw__queue *q;
    prw_error err;
    ASSERT_OK(prw__queue_create(&q, 4, &err), &err);
    int a = 1, b = 2;
    ASSERT_TRUE(prw__queue_push(q, &a));
    ASSERT_TRUE(prw__queue_push(q, &b));
    prw__queue_close(q);
    ASSERT_TRUE(!prw__queue_push(q, &a));
    void *it;
    ASSERT_TRUE(prw__queue_pop(q, &it));
    ASSERT_TRUE(it == &a);
    ASSERT_TRUE(prw__queue_pop(q, &it));
    ASSERT_TRUE(it == &b);
    ASSERT_TRUE(!prw__queue_pop(q, &it));
    prw__queue_destroy(q);
}

TEST(common_io_atomic_writer) {
    const char *dir = th_tmpdir();
    const char *path = th_fmt("%s/out.bin", dir);
    prw_error err;
    prw_error_clear(&err);
    prw__wfile w;
    ASSERT_OK(prw__wfile_open(&w, path, &err), &err);
    ASSERT_OK(prw__wfile_write(&w, "hello ", 6, &err), &err);
    ASSERT_TRUE(access(path, F_OK) != 0); /* nothing under the final name yet */
    ASSERT_OK(prw__wfile_write(&w, "world", 5, &err), &err);
    ASSERT_OK(prw__wfile_commit(&w, &err), &err);
    prw__wfile_abort(&w); /* harmless after commit */
    size_t n;
    uint8_t *data = th_read(path, &n);
    ASSERT_TRUE(data != NULL);
    ASSERT_EQ_I64(n, 11);
    ASSERT_MEM_EQ(data, "hello world", 11);
    /* Abort leaves the old file intact and no temporary behind. */
    ASSERT_OK(prw__wfile_open(&w, path, &err), &err);
    ASSERT_OK(prw__wfile_write(&w, "partial", 7, &err), &err);
    char *tmp = th_fmt("%s", w.tmp_path);
    prw__wfile_abort(&w);
    ASSERT_TRUE(access(tmp, F_OK) != 0);
    data = th_read(path, &n);
    ASSERT_EQ_I64(n, 11);
    /* Unwritable directory: a clean error naming the path. */
    ASSERT_ERR(prw__wfile_open(&w, "/nonexistent-dir/x", &err), PRW_E_IO);
    ASSERT_TRUE(strstr(err.msg, "/nonexistent-dir/x") != NULL);
}

TEST(common_io_injected_enospc) {
    const char *path = th_fmt("%s/full.bin", th_tmpdir());
    prw_error err;
    prw_error_clear(&err);
    prw__wfile w;
    ASSERT_OK(prw__wfile_open(&w, path, &err), &err);
    prw__io_inject_write_fault(5, ENOSPC);
    prw_status st = prw__wfile_write(&w, "0123456789", 10, &err);
    prw__io_inject_write_fault(-1, 0);
    ASSERT_ERR(st, PRW_E_IO);
    ASSERT_EQ_I64(err.sys_errno, ENOSPC);
    ASSERT_TRUE(strstr(err.msg, "full.bin") != NULL);
    prw__wfile_abort(&w);
    ASSERT_TRUE(access(path, F_OK) != 0);
}

/* writev: many buffers (more than one writev call takes, empty ones, large ones) arrive in
 * order; an injected fault mid-way writes exactly the allowed prefix and names the file. */
TEST(common_io_writev) {
    const char *dir = th_tmpdir();
    enum { N = 2500 };
    static uint8_t src[N * 7 + 300000];
    static struct iovec iov[N + 1];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 131 + (i >> 9));
    size_t total = 0;
    for (int i = 0; i < N; i++) {
        size_t len = (size_t)(i % 13); /* includes empty buffers */
        iov[i] = (struct iovec){src + total, len};
        total += len;
    }
    iov[N] = (struct iovec){src + total, 300000};
    total += 300000;
    for (int fault = 0; fault < 3; fault++) {
        const int64_t allow[] = {-1, 12345, (int64_t)total - 1};
        const char *path = th_fmt("%s/v%d.bin", dir, fault);
        struct iovec scratch[N + 1];
        memcpy(scratch, iov, sizeof scratch);
        prw_error err;
        prw_error_clear(&err);
        prw__wfile w;
        ASSERT_OK(prw__wfile_open(&w, path, &err), &err);
        prw__io_inject_write_fault(allow[fault], ENOSPC);
        prw_status st = prw__wfile_writev(&w, scratch, N + 1, &err);
        prw__io_inject_write_fault(-1, 0);
        if (fault == 0) {
            ASSERT_OK(st, &err);
            ASSERT_EQ_I64(w.written, (int64_t)total);
            ASSERT_OK(prw__wfile_commit(&w, &err), &err);
            size_t n;
            uint8_t *data = th_read(path, &n);
            ASSERT_TRUE(data != NULL);
            ASSERT_EQ_U64(n, total);
            ASSERT_MEM_EQ(data, src, total);
        } else {
            ASSERT_ERR(st, PRW_E_IO);
            ASSERT_EQ_I64(err.sys_errno, ENOSPC);
            ASSERT_TRUE(strstr(err.msg, th_fmt("v%d.bin", fault)) != NULL);
            ASSERT_EQ_I64(w.written, allow[fault]);
            size_t n;
            uint8_t *data = th_read(w.tmp_path, &n);
            ASSERT_TRUE(data != NULL);
            ASSERT_EQ_I64((int64_t)n, allow[fault]);
            ASSERT_MEM_EQ(data, src, n);
            prw__wfile_abort(&w);
            ASSERT_TRUE(access(path, F_OK) != 0);
        }
    }
}

/* Direct I/O: sizes around the alignment and the buffer size, through write and writev, give
 * the same bytes and size as written; an injected fault and a failing background write are
 * clean errors naming the file, and abort leaves nothing. */
TEST(common_io_direct_writer) {
    const char *dir = th_tmpdir();
    const size_t B = PRW__WFILE_DIRECT_BUF;
    const size_t sizes[] = {0, 1, 4095, 4096, 4097, B - 1, B, B + 1, 3 * B + 5, 7 * B + 123};
    size_t max = 7 * B + 123;
    uint8_t *src = malloc(max);
    ASSERT_TRUE(src != NULL);
    for (size_t i = 0; i < max; i++)
        src[i] = (uint8_t)(i * 167 + (i >> 11));
    prw_error err;
    prw_error_clear(&err);
    int direct = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        const char *path = th_fmt("%s/d%zu.bin", dir, k);
        prw__wfile w;
        ASSERT_OK(prw__wfile_open(&w, path, &err), &err);
        direct += prw__wfile_direct(&w);
        size_t off = 0, step = 1;
        while (off < sizes[k]) {
            size_t n = sizes[k] - off < step ? sizes[k] - off : step;
            if (step % 2) {
                ASSERT_OK(prw__wfile_write(&w, src + off, n, &err), &err);
            } else {
                struct iovec v[2] = {{src + off, n / 2}, {src + off + n / 2, n - n / 2}};
                ASSERT_OK(prw__wfile_writev(&w, v, 2, &err), &err);
            }
            off += n;
            step = step * 3 + 1;
        }
        ASSERT_EQ_U64((uint64_t)w.written, sizes[k]);
        ASSERT_OK(prw__wfile_commit(&w, &err), &err);
        size_t n;
        uint8_t *data = th_read(path, &n);
        ASSERT_TRUE(data != NULL);
        ASSERT_EQ_U64(n, sizes[k]);
        ASSERT_MEM_EQ(data, src, n);
    }
    if (!direct)
        printf("note: %s does not take O_DIRECT; the buffered fallback was tested\n", dir);
    /* An injected fault part-way through the second buffer. */
    const char *path = th_fmt("%s/dfault.bin", dir);
    prw__wfile w;
    ASSERT_OK(prw__wfile_open(&w, path, &err), &err);
    (void)prw__wfile_direct(&w);
    prw__io_inject_write_fault((int64_t)B + 777, ENOSPC);
    prw_status st = prw__wfile_write(&w, src, 2 * B, &err);
    prw__io_inject_write_fault(-1, 0);
    ASSERT_ERR(st, PRW_E_IO);
    ASSERT_EQ_I64(err.sys_errno, ENOSPC);
    ASSERT_TRUE(strstr(err.msg, "dfault.bin") != NULL);
    ASSERT_EQ_I64(w.written, (int64_t)B + 777);
    char *tmp = th_fmt("%s", w.tmp_path);
    prw__wfile_abort(&w);
    ASSERT_TRUE(access(tmp, F_OK) != 0 && access(path, F_OK) != 0);
    /* The background write fails (the descriptor turned read-only): the commit says so. */
    path = th_fmt("%s/dbad.bin", dir);
    ASSERT_OK(prw__wfile_open(&w, path, &err), &err);
    if (prw__wfile_direct(&w)) {
        int ro = open(w.tmp_path, O_RDONLY);
        ASSERT_TRUE(ro >= 0 && dup2(ro, w.fd) == w.fd);
        close(ro);
        st = prw__wfile_write(&w, src, 2 * B + 10, &err);
        if (st == PRW_OK)
            st = prw__wfile_commit(&w, &err);
        ASSERT_ERR(st, PRW_E_IO);
        ASSERT_EQ_I64(err.sys_errno, EBADF);
        ASSERT_TRUE(strstr(err.msg, "dbad.bin") != NULL && strstr(err.msg, "at byte 0") != NULL);
    }
    prw__wfile_abort(&w);
    ASSERT_TRUE(access(path, F_OK) != 0);
    free(src);
}

TEST(common_io_reader) {
    const char *path = th_fmt("%s/in.bin", th_tmpdir());
    ASSERT_TRUE(th_write(path, "abcdefgh", 8));
    prw_error err;
    prw_error_clear(&err);
    for (int m = 0; m < 2; m++) {
        prw__rfile f;
        ASSERT_OK(prw__rfile_open(&f, path, m == 1, &err), &err);
        ASSERT_EQ_I64(f.size, 8);
        char buf[8];
        ASSERT_OK(prw__rfile_pread(&f, buf, 3, 5, &err), &err);
        ASSERT_MEM_EQ(buf, "fgh", 3);
        ASSERT_ERR(prw__rfile_pread(&f, buf, 4, 5, &err), PRW_E_TRUNCATED);
        ASSERT_EQ_I64(err.offset, 5);
        ASSERT_ERR(prw__rfile_pread(&f, buf, 1, -1, &err), PRW_E_TRUNCATED);
        prw__rfile_close(&f);
        prw__rfile_close(&f);
    }
    prw__rfile f;
    ASSERT_ERR(prw__rfile_open(&f, th_fmt("%s/missing", th_tmpdir()), false, &err), PRW_E_IO);
    ASSERT_TRUE(strstr(err.msg, "missing") != NULL);
    ASSERT_ERR(prw__rfile_open(&f, th_tmpdir(), false, &err), PRW_E_IO);
    ASSERT_OK(prw__mkdir_p(th_fmt("%s/a/b/c", th_tmpdir()), &err), &err);
    ASSERT_OK(prw__mkdir_p(th_fmt("%s/a/b/c", th_tmpdir()), &err), &err);
    ASSERT_ERR(prw__mkdir_p(th_fmt("%s/in.bin/x", th_tmpdir()), &err), PRW_E_IO);
}

/* Two threads reading one page of a mapping at once: both fault when it was cut short. */
typedef struct {
    const volatile uint8_t *p;
    _Atomic int *go;
    int sum;
} page_reader;

static void *read_page(void *arg) {
    page_reader *r = arg;
    while (!atomic_load(r->go))
        ;
    for (int i = 0; i < 4096; i += 512)
        r->sum += r->p[i];
    return NULL;
}

/* A mapped file cut short by another writer while it is read: under prw_guard_mapped_reads the
 * read past its new end sees zeros instead of raising SIGBUS (which would end this test run),
 * the file is remembered, and its size check fails naming it; restored to its size and time, the
 * check still fails, since it was read as zeros. Closing forgets it. */
TEST(common_io_mapped_file_cut_short_is_an_error) {
    const char *path = th_fmt("%s/cut.bin", th_tmpdir());
    static uint8_t data[4 * 4096];
    memset(data, 'x', sizeof data);
    ASSERT_TRUE(th_write(path, data, sizeof data));
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(prw_guard_mapped_reads(&err), &err);
    ASSERT_OK(prw_guard_mapped_reads(&err), &err); /* once is enough; again is harmless */
    prw__rfile f;
    ASSERT_OK(prw__rfile_open(&f, path, true, &err), &err);
    struct stat before;
    ASSERT_TRUE(stat(path, &before) == 0);
    const volatile uint8_t *m = f.map;
    ASSERT_EQ_I64(m[3 * 4096], 'x');
    ASSERT_TRUE(truncate(path, 4096) == 0);
    ASSERT_EQ_I64(m[100], 'x');
    _Atomic int go = 0;
    page_reader r[2] = {{m + 2 * 4096, &go, 0}, {m + 2 * 4096, &go, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ASSERT_TRUE(pthread_create(&t[i], NULL, read_page, &r[i]) == 0);
    atomic_store(&go, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    ASSERT_EQ_I64(r[0].sum + r[1].sum, 0);
    ASSERT_EQ_I64(m[3 * 4096 + 7], 0);
    char first[4096];
    int64_t at = -1;
    ASSERT_TRUE(prw_mapped_read_failed(first, sizeof first, &at));
    ASSERT_TRUE(strstr(first, "/cut.bin") != NULL);
    ASSERT_EQ_I64(at, 2 * 4096);
    ASSERT_ERR(prw__rfile_check_unchanged(&f, &err), PRW_E_IO);
    ASSERT_TRUE(strstr(err.msg, "cut.bin changed while it was read: 16384 bytes when opened, "
                                "4096 now") != NULL);
    /* Its size and modification time back as they were: what was read as zeros still fails. */
    ASSERT_TRUE(th_write(path, data, sizeof data));
    const struct timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_TRUE(utimensat(AT_FDCWD, path, times, 0) == 0);
    ASSERT_ERR(prw__rfile_check_unchanged(&f, &err), PRW_E_IO);
    ASSERT_TRUE(strstr(err.msg, "cut.bin could not be read from byte offset 8192 on") != NULL);
    ASSERT_EQ_I64(err.offset, 8192);
    /* A decoder's error on those zeros is reported as the change that caused it. */
    prw__error_set(&err, PRW_E_CORRUPT, 9000, "bad page");
    ASSERT_ERR(prw__rfile_blame_change(&f, PRW_E_CORRUPT, &err), PRW_E_IO);
    ASSERT_TRUE(strstr(err.msg, "from byte offset 8192 on") != NULL);
    ASSERT_TRUE(strstr(err.msg, "(reading it then failed: bad page)") != NULL);
    ASSERT_OK(prw__rfile_blame_change(&f, PRW_OK, &err), &err);
    prw__rfile_close(&f);
    ASSERT_OK(prw__rfile_open(&f, path, true, &err), &err);
    ASSERT_EQ_I64(f.map[2 * 4096], 'x');
    ASSERT_OK(prw__rfile_check_unchanged(&f, &err), &err);
    ASSERT_ERR(prw__rfile_blame_change(&f, PRW_E_CORRUPT, &err), PRW_E_CORRUPT);
    prw__rfile_close(&f);
}

TEST(common_codec_roundtrip_all) {
    prw_error err;
    prw_error_clear(&err);
    prw__codec_ctx *ctx;
    ASSERT_OK(prw__codec_ctx_create(&ctx, &err), &err);
    size_t n = 200000;
    uint8_t *src = malloc(n), *dst = NULL, *back = malloc(n);
    uint64_t seed = 7;
    for (size_t i = 0; i < n; i++)
        src[i] = (uint8_t)(i % 251 < 200 ? 'a' + i % 7 : th_rand(&seed));
    for (int c = 0; c < PRW_CODEC_COUNT; c++) {
        for (int use_ctx = 0; use_ctx < 2; use_ctx++) {
            size_t cap = prw__codec_bound((prw__codec)c, n), len = 0;
            dst = realloc(dst, cap);
            prw__codec_opts o = {0, c == PRW_CODEC_ZSTD ? 20 : 0};
            prw__codec_ctx *cx = use_ctx ? ctx : NULL;
            prw_status st =
                prw__codec_compress(cx, (prw__codec)c, &o, src, n, dst, cap, &len, &err);
            if (st < 0) {
                free(src);
                free(back);
                free(dst);
                prw__codec_ctx_destroy(ctx);
            }
            ASSERT_OK(st, &err);
            st = prw__codec_decompress(cx, (prw__codec)c, dst, len, back, n, &err);
            bool same = st == PRW_OK && memcmp(src, back, n) == 0;
            /* Asking for a different size must fail, never overrun. */
            prw_status st_short =
                prw__codec_decompress(cx, (prw__codec)c, dst, len, back, n - 1, &err);
            /* A truncated stream must fail. */
            prw_status st_trunc =
                len > 8 ? prw__codec_decompress(cx, (prw__codec)c, dst, len / 2, back, n, &err)
                        : PRW_E_CODEC;
            if (!same || st_short >= 0 || st_trunc >= 0) {
                free(src);
                free(back);
                free(dst);
                prw__codec_ctx_destroy(ctx);
            }
            ASSERT_TRUE(same);
            ASSERT_TRUE(st_short < 0);
            ASSERT_TRUE(st_trunc < 0);
        }
    }
    free(src);
    free(back);
    free(dst);
    prw__codec_ctx_destroy(ctx);
}

TEST(common_codec_gzip_concatenated_members) {
    prw_error err;
    prw_error_clear(&err);
    uint8_t a[64], b[128];
    size_t la, lb;
    prw__codec_opts o = {0, 0};
    ASSERT_OK(prw__codec_compress(NULL, PRW_CODEC_GZIP, &o, "first-", 6, a, sizeof a, &la, &err),
              &err);
    ASSERT_OK(prw__codec_compress(NULL, PRW_CODEC_GZIP, &o, "second", 6, b, sizeof b, &lb, &err),
              &err);
    uint8_t both[192];
    memcpy(both, a, la);
    memcpy(both + la, b, lb);
    char out[12];
    ASSERT_OK(prw__codec_decompress(NULL, PRW_CODEC_GZIP, both, la + lb, out, 12, &err), &err);
    ASSERT_MEM_EQ(out, "first-second", 12);
    /* Trailing garbage after the members is an error. */
    both[la + lb] = 0x55;
    ASSERT_TRUE(prw__codec_decompress(NULL, PRW_CODEC_GZIP, both, la + lb + 1, out, 12, &err) < 0);
}

TEST(common_hash_vectors) {
    uint8_t d[16];
    prw__md5("abc", 3, d);
    const uint8_t want[16] = {0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0,
                              0xd6, 0x96, 0x3f, 0x7d, 0x28, 0xe1, 0x7f, 0x72};
    ASSERT_MEM_EQ(d, want, 16);
    ASSERT_EQ_U64(prw__crc32(0, "123456789", 9), 0xCBF43926u);
    /* HighwayHash reference test vectors (key 00 01 .. 1f, input bytes 0..n-1). */
    const uint64_t key[4] = {0x0706050403020100ull, 0x0F0E0D0C0B0A0908ull, 0x1716151413121110ull,
                             0x1F1E1D1C1B1A1918ull};
    uint8_t data[2] = {0, 1};
    ASSERT_EQ_U64(prw__highwayhash64(key, data, 0), 0x907A56DE22C26E53ull);
    ASSERT_EQ_U64(prw__highwayhash64(key, data, 1), 0x7EAB43AAC7CDDD78ull);
    ASSERT_EQ_U64(prw__fnv1a64(PRW_FNV1A64_INIT, "a", 1), 0xaf63dc4c8601ec8cull);
}

TEST(common_format_bytes_powers_of_1024) {
    char b[PRW_BYTES_STR_MAX];
    ASSERT_EQ_STR(prw_format_bytes(0, b, sizeof b), "0 B");
    ASSERT_EQ_STR(prw_format_bytes(1023, b, sizeof b), "1023 B");
    ASSERT_EQ_STR(prw_format_bytes(1536, b, sizeof b), "1.5 KiB");
    ASSERT_EQ_STR(prw_format_bytes(150ull << 20, b, sizeof b), "150.0 MiB");
    ASSERT_EQ_STR(prw_format_bytes((1ull << 20) - 1, b, sizeof b), "1.0 MiB"); /* not 1024.0 KiB */
    ASSERT_EQ_STR(prw_format_bytes(2ull << 30, b, sizeof b), "2.0 GiB");
    ASSERT_EQ_STR(prw_format_bytes(UINT64_MAX, b, sizeof b), "16.0 EiB");
    /* Rounded up to the printed tenth: never below the bytes. */
    ASSERT_EQ_STR(prw__format_bytes_up(1023, b, sizeof b), "1023 B");
    ASSERT_EQ_STR(prw__format_bytes_up(1536, b, sizeof b), "1.5 KiB");
    ASSERT_EQ_STR(prw__format_bytes_up(1537, b, sizeof b), "1.6 KiB");
    ASSERT_EQ_STR(prw__format_bytes_up(150ull << 20, b, sizeof b), "150.0 MiB");
    ASSERT_EQ_STR(prw__format_bytes_up((150ull << 20) + 1, b, sizeof b), "150.1 MiB");
    ASSERT_EQ_STR(prw__format_bytes_up(1048494, b, sizeof b), "1.0 MiB"); /* not 1024.0 KiB */
    ASSERT_EQ_STR(prw__format_bytes_up(2ull << 30, b, sizeof b), "2.0 GiB");
}

/* Listing while unlinking can skip entries on large directories (readdir's buffer is refilled
 * from a moving offset): prw__remove_dir lists again until a pass finds nothing, so a
 * directory of 1,500 files (several getdents64 buffers) is gone afterwards. */
TEST(common_remove_dir_many_files) {
    const char *dir = th_fmt("%s/many", th_tmpdir());
    ASSERT_TRUE(mkdir(dir, 0700) == 0);
    for (int i = 0; i < 1500; i++) {
        char path[PRW_PATH_BUF];
        snprintf(path, sizeof path, "%s/run-file-with-a-long-name-%05d.bin", dir, i);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(write(fd, "x", 1) == 1);
        close(fd);
    }
    struct stat st;
    ASSERT_TRUE(stat(dir, &st) == 0);
    ASSERT_OK(prw__remove_dir(dir, NULL), NULL);
    ASSERT_TRUE(stat(dir, &st) != 0 && errno == ENOENT);
    ASSERT_OK(prw__remove_dir(dir, NULL), NULL); /* a missing directory is no error */
}
