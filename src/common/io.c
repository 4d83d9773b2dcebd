/* pread/mmap reader and atomic temp-then-rename writer (see io.h). */
#define _GNU_SOURCE /* O_DIRECT, syscall(), SYS_getdents64 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/io.h"
#include "common/thread.h"

static int64_t time_ns(const struct timespec *t) {
    return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

prw_status prw__rfile_open(prw__rfile *f, const char *path, bool use_mmap, prw_error *err) {
    memset(f, 0, sizeof *f);
    f->fd = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return prw__error_sys(err, errno, "cannot open %s", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return prw__error_sys(err, e, "cannot stat %s", path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return prw__error_set(err, PRW_E_IO, -1, "%s is not a regular file", path);
    }
    f->path = prw__strdup(path);
    if (!f->path) {
        close(fd);
        return prw__error_nomem(err, "a path", strlen(path));
    }
    f->fd = fd;
    f->size = (int64_t)st.st_size;
    f->mtime_ns = time_ns(&st.st_mtim);
    if (use_mmap && st.st_size > 0) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            prw__rfile_close(f);
            return prw__error_sys(err, e, "cannot map %s", path);
        }
        f->map = m;
    }
    return PRW_OK;
}

prw_status prw__rfile_pread(const prw__rfile *f, void *dst, size_t n, int64_t offset,
                            prw_error *err) {
    if (offset < 0 || offset > f->size || (uint64_t)n > (uint64_t)(f->size - offset))
        return prw__error_set(err, PRW_E_TRUNCATED, offset,
                              "read of %zu bytes at offset %lld is past the end of %s (%lld bytes)",
                              n, (long long)offset, f->path, (long long)f->size);
    if (f->map) {
        memcpy(dst, f->map + offset, n);
        return PRW_OK;
    }
    uint8_t *p = dst;
    while (n > 0) {
        ssize_t r = pread(f->fd, p, n, (off_t)offset);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return prw__error_sys(err, errno, "read error in %s at offset %lld", f->path,
                                  (long long)offset);
        }
        if (r == 0)
            return prw__error_set(err, PRW_E_TRUNCATED, offset, "%s shrank while being read",
                                  f->path);
        p += r;
        n -= (size_t)r;
        offset += r;
    }
    return PRW_OK;
}

void prw__rfile_close(prw__rfile *f) {
    if (f->map) {
        prw__mapguard_forget(f->map, (size_t)f->size);
        munmap((void *)f->map, (size_t)f->size);
    }
    if (f->fd >= 0 && f->path)
        close(f->fd);
    prw__free(f->path);
    memset(f, 0, sizeof *f);
    f->fd = -1;
}

prw_status prw__rfile_check_unchanged(const prw__rfile *f, prw_error *err) {
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        return prw__error_sys(err, errno, "cannot stat %s", f->path);
    PRW_CHECK((int64_t)st.st_size == f->size, err, PRW_E_IO, -1,
              "%s changed while it was read: %lld bytes when opened, %lld now", f->path,
              (long long)f->size, (long long)st.st_size);
    PRW_CHECK(time_ns(&st.st_mtim) == f->mtime_ns, err, PRW_E_IO, -1,
              "%s changed while it was read: written to since it was opened (its modification "
              "time differs); run again once nothing writes it",
              f->path);
    int64_t at = 0;
    PRW_CHECK(!f->map || !prw__mapguard_failed(f->map, (size_t)f->size, &at), err, PRW_E_IO, at,
              "%s could not be read from byte offset %lld on (the device failed to read it, or "
              "it was cut short and restored while it was read)",
              f->path, (long long)at);
    return PRW_OK;
}

prw_status prw__rfile_blame_change(const prw__rfile *f, prw_status st, prw_error *err) {
    if (st >= 0 || f->fd < 0 || !f->path)
        return st;
    prw_error change;
    prw_error_clear(&change);
    return prw__rfile_check_unchanged(f, &change) >= 0 ? st : prw__error_caused_by(err, &change);
}

prw_status prw__read_file(const char *path, uint8_t **data, size_t *len, prw_error *err) {
    *data = NULL;
    *len = 0;
    prw__rfile f;
    PRW_TRY(prw__rfile_open(&f, path, false, err));
    size_t n = (size_t)f.size;
    uint8_t *buf = prw__malloc(n ? n : 1);
    if (!buf) {
        prw__rfile_close(&f);
        return prw__error_nomem(err, path, n);
    }
    prw_status st = prw__rfile_pread(&f, buf, n, 0, err);
    prw__rfile_close(&f);
    if (st < 0) {
        prw__free(buf);
        return st;
    }
    *data = buf;
    *len = n;
    return PRW_OK;
}

static _Atomic int64_t g_fault_left = -1;
static _Atomic int g_fault_errno;

void prw__io_inject_write_fault(int64_t after_bytes, int sys_errno) {
    atomic_store(&g_fault_errno, sys_errno);
    atomic_store(&g_fault_left, after_bytes < 0 ? -1 : after_bytes);
}

/* Returns how many of n bytes may be written before the injected fault, or n. */
static size_t fault_allowance(size_t n) {
    int64_t left = atomic_load(&g_fault_left);
    while (left >= 0) {
        int64_t take = (uint64_t)left < n ? left : (int64_t)n;
        if (atomic_compare_exchange_weak(&g_fault_left, &left, left - take))
            return (size_t)take;
    }
    return n;
}

/* The error of a write stopped by the injected fault, after w->written bytes. */
static prw_status fault_error(const prw__wfile *w, prw_error *err) {
    return prw__error_sys(err, atomic_load(&g_fault_errno), "write error in %s after %lld bytes",
                          w->path, (long long)w->written);
}

prw_status prw__wfile_open(prw__wfile *w, const char *path, prw_error *err) {
    memset(w, 0, sizeof *w);
    w->fd = -1;
    char *dup = prw__strdup(path);
    size_t tlen = strlen(path) + 32;
    char *tmp = prw__malloc(tlen);
    if (!dup || !tmp) {
        prw__free(dup);
        prw__free(tmp);
        return prw__error_nomem(err, "a path", tlen);
    }
    /* Hidden name in the same directory, so rename() is atomic and `ls` shows no debris. */
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    snprintf(tmp, tlen, "%.*s.%s.tmp.XXXXXX", (int)dirlen, path, path + dirlen);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        prw__free(dup);
        prw__free(tmp);
        return prw__error_sys(err, e, "cannot create a file beside %s", path);
    }
    (void)fchmod(fd, 0644);
    w->fd = fd;
    w->path = dup;
    w->tmp_path = tmp;
    return PRW_OK;
}

/* ---- direct I/O: aligned buffers written by a background thread --------------------------- */

#define DIRECT_ALIGN 4096
#define DIRECT_NBUF 2
_Static_assert(DIRECT_NBUF *PRW__WFILE_DIRECT_BUF == PRW__WFILE_DIRECT_BYTES, "io.h's figure");

struct prw__wdirect {
    int fd;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* both ways: a buffer queued, a buffer written */
    uint8_t *mem;      /* the allocation; buf[] are aligned inside it */
    uint8_t *buf[DIRECT_NBUF];
    size_t len[DIRECT_NBUF];
    int64_t off[DIRECT_NBUF];
    int cur;          /* the buffer being filled */
    size_t fill;      /* its bytes */
    int64_t cur_off;  /* its offset in the file */
    int head, queued; /* queued buffers: head, head + 1, ... (mod DIRECT_NBUF) */
    bool stop;
    bool wrote;    /* a write has succeeded (after that, EINVAL is an error) */
    int sys_errno; /* the first failed write's errno, and where */
    int64_t err_off;
};

/* pwrite of all n bytes at off; 0 or an errno. The first write may turn O_DIRECT off. */
static int direct_pwrite(prw__wdirect *d, const uint8_t *p, size_t n, int64_t off) {
    while (n > 0) {
        ssize_t r = pwrite(d->fd, p, n, (off_t)off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            int fl = fcntl(d->fd, F_GETFL);
            if ((e == EINVAL || e == EOPNOTSUPP) && !d->wrote && fl >= 0 && (fl & O_DIRECT) &&
                fcntl(d->fd, F_SETFL, fl & ~O_DIRECT) == 0)
                continue; /* the file system takes the flag but not the writes */
            return e;
        }
        d->wrote = true;
        p += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

static void *direct_main(void *arg) {
    prw__wdirect *d = arg;
    prw__mutex_lock(&d->mu);
    for (;;) {
        while (d->queued == 0 && !d->stop)
            prw__cond_wait(&d->cv, &d->mu);
        if (d->queued == 0)
            break;
        int i = d->head;
        bool skip = d->sys_errno != 0;
        prw__mutex_unlock(&d->mu);
        int e = skip ? 0 : direct_pwrite(d, d->buf[i], d->len[i], d->off[i]);
        prw__mutex_lock(&d->mu);
        if (e && !d->sys_errno) {
            d->sys_errno = e;
            d->err_off = d->off[i];
        }
        d->head = (d->head + 1) % DIRECT_NBUF;
        d->queued--;
        prw__cond_broadcast(&d->cv);
    }
    prw__mutex_unlock(&d->mu);
    return NULL;
}

static prw_status direct_error(prw__wfile *w, prw_error *err) {
    prw__wdirect *d = w->direct;
    return prw__error_sys(err, d->sys_errno, "write error in %s at byte %lld", w->path,
                          (long long)d->err_off);
}

/* Queues buf[cur] (len bytes) and moves on to the next buffer once one is free. */
static prw_status direct_submit(prw__wfile *w, size_t len, prw_error *err) {
    prw__wdirect *d = w->direct;
    prw__mutex_lock(&d->mu);
    d->len[d->cur] = len;
    d->off[d->cur] = d->cur_off;
    d->queued++;
    prw__cond_broadcast(&d->cv);
    while (d->queued == DIRECT_NBUF && !d->sys_errno)
        prw__cond_wait(&d->cv, &d->mu);
    int e = d->sys_errno;
    prw__mutex_unlock(&d->mu);
    d->cur = (d->cur + 1) % DIRECT_NBUF;
    d->cur_off += (int64_t)len;
    d->fill = 0;
    return e ? direct_error(w, err) : PRW_OK;
}

static prw_status direct_put(prw__wfile *w, const void *data, size_t n, prw_error *err) {
    prw__wdirect *d = w->direct;
    const uint8_t *p = data;
    size_t allowed = fault_allowance(n);
    while (allowed > 0) {
        size_t take = PRW__WFILE_DIRECT_BUF - d->fill;
        take = take < allowed ? take : allowed;
        memcpy(d->buf[d->cur] + d->fill, p, take);
        d->fill += take;
        p += take;
        n -= take;
        allowed -= take;
        w->written += (int64_t)take;
        if (d->fill == PRW__WFILE_DIRECT_BUF)
            PRW_TRY(direct_submit(w, d->fill, err));
    }
    if (n > 0)
        return fault_error(w, err);
    return PRW_OK;
}

/* Stops the thread after the queued buffers are written (or skipped after an error). */
static void direct_stop(prw__wfile *w) {
    prw__wdirect *d = w->direct;
    if (!d)
        return;
    prw__mutex_lock(&d->mu);
    d->stop = true;
    prw__cond_broadcast(&d->cv);
    prw__mutex_unlock(&d->mu);
    pthread_join(d->thread, NULL);
    prw__mutex_destroy(&d->mu);
    prw__cond_destroy(&d->cv);
    prw__free(d->mem);
    prw__free(d);
    w->direct = NULL;
}

/* Writes out the last, partial buffer padded to the alignment; then the file's exact size. */
static prw_status direct_finish(prw__wfile *w, prw_error *err) {
    prw__wdirect *d = w->direct;
    prw_status st = PRW_OK;
    if (d->fill > 0) {
        size_t padded = (d->fill + DIRECT_ALIGN - 1) / DIRECT_ALIGN * DIRECT_ALIGN;
        memset(d->buf[d->cur] + d->fill, 0, padded - d->fill);
        st = direct_submit(w, padded, err);
    }
    prw__mutex_lock(&d->mu);
    while (d->queued > 0)
        prw__cond_wait(&d->cv, &d->mu);
    int e = d->sys_errno;
    prw__mutex_unlock(&d->mu);
    if (st == PRW_OK && e)
        st = direct_error(w, err);
    direct_stop(w);
    if (st == PRW_OK && ftruncate(w->fd, (off_t)w->written) != 0)
        st = prw__error_sys(err, errno, "cannot set the size of %s", w->path);
    return st;
}

bool prw__wfile_direct(prw__wfile *w) {
    if (w->fd < 0 || w->direct || w->written != 0)
        return false;
    int fl = fcntl(w->fd, F_GETFL);
    if (fl < 0 || fcntl(w->fd, F_SETFL, fl | O_DIRECT) != 0)
        return false;
    prw__wdirect *d = prw__calloc(1, sizeof *d);
    uint8_t *mem = prw__malloc(DIRECT_NBUF * PRW__WFILE_DIRECT_BUF + DIRECT_ALIGN);
    if (!d || !mem) {
        prw__free(d);
        prw__free(mem);
        (void)fcntl(w->fd, F_SETFL, fl);
        return false;
    }
    d->fd = w->fd;
    d->mem = mem;
    uint8_t *a = mem + (DIRECT_ALIGN - (uintptr_t)mem % DIRECT_ALIGN) % DIRECT_ALIGN;
    for (int i = 0; i < DIRECT_NBUF; i++)
        d->buf[i] = a + (size_t)i * PRW__WFILE_DIRECT_BUF;
    prw__mutex_init(&d->mu);
    prw__cond_init(&d->cv);
    if (pthread_create(&d->thread, NULL, direct_main, d) != 0) {
        prw__mutex_destroy(&d->mu);
        prw__cond_destroy(&d->cv);
        prw__free(mem);
        prw__free(d);
        (void)fcntl(w->fd, F_SETFL, fl);
        return false;
    }
    w->direct = d;
    return true;
}

/* ---- buffered writes ---------------------------------------------------------------------- */

prw_status prw__wfile_write(prw__wfile *w, const void *data, size_t n, prw_error *err) {
    if (w->direct)
        return direct_put(w, data, n, err);
    const uint8_t *p = data;
    size_t allowed = fault_allowance(n);
    while (n > 0) {
        if (allowed == 0)
            return fault_error(w, err);
        ssize_t r = write(w->fd, p, allowed);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return prw__error_sys(err, errno, "write error in %s after %lld bytes", w->path,
                                  (long long)w->written);
        }
        p += r;
        n -= (size_t)r;
        allowed -= (size_t)r;
        w->written += r;
    }
    return PRW_OK;
}

/* Linux UIO_MAXIOV: writev takes at most this many buffers. */
#define WRITEV_MAX 1024

prw_status prw__wfile_writev(prw__wfile *w, struct iovec *iov, int cnt, prw_error *err) {
    if (w->direct) {
        for (int i = 0; i < cnt; i++) {
            PRW_TRY(direct_put(w, iov[i].iov_base, iov[i].iov_len, err));
            iov[i].iov_base = (uint8_t *)iov[i].iov_base + iov[i].iov_len;
            iov[i].iov_len = 0;
        }
        return PRW_OK;
    }
    size_t total = 0;
    for (int i = 0; i < cnt; i++)
        total += iov[i].iov_len;
    size_t left = fault_allowance(total), skipped = total - left;
    int i = 0;
    while (left > 0) {
        while (iov[i].iov_len == 0)
            i++;
        /* The buffers that fit in what may still be written, at most WRITEV_MAX of them. */
        int k = i;
        size_t sum = 0;
        while (k < cnt && k - i < WRITEV_MAX && sum + iov[k].iov_len <= left)
            sum += iov[k++].iov_len;
        ssize_t r = k > i ? writev(w->fd, iov + i, k - i) : write(w->fd, iov[i].iov_base, left);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return prw__error_sys(err, errno, "write error in %s after %lld bytes", w->path,
                                  (long long)w->written);
        }
        w->written += r;
        left -= (size_t)r;
        for (size_t done = (size_t)r; done > 0; i++) {
            size_t take = done < iov[i].iov_len ? done : iov[i].iov_len;
            iov[i].iov_base = (uint8_t *)iov[i].iov_base + take;
            iov[i].iov_len -= take;
            done -= take;
            if (iov[i].iov_len > 0)
                break;
        }
    }
    if (skipped > 0)
        return fault_error(w, err);
    return PRW_OK;
}

static void fsync_dir_of(const char *path) {
    char *dup = prw__strdup(path);
    if (!dup)
        return;
    int fd = open(dirname(dup), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    prw__free(dup);
}

prw_status prw__wfile_commit(prw__wfile *w, prw_error *err) {
    if (w->fd < 0 || !w->path)
        return prw__error_set(err, PRW_E_INVALID, -1, "file already closed");
    prw_status st = w->direct ? direct_finish(w, err) : PRW_OK;
    int fd = w->fd;
    w->fd = -1;
    if (st == PRW_OK && fsync(fd) != 0)
        st = prw__error_sys(err, errno, "cannot sync %s", w->path);
    if (close(fd) != 0 && st == PRW_OK)
        st = prw__error_sys(err, errno, "cannot close %s", w->path);
    if (st == PRW_OK && rename(w->tmp_path, w->path) != 0)
        st = prw__error_sys(err, errno, "cannot rename onto %s", w->path);
    if (st < 0) {
        prw__wfile_abort(w);
        return st;
    }
    fsync_dir_of(w->path);
    prw__free(w->tmp_path);
    prw__free(w->path);
    w->tmp_path = NULL;
    w->path = NULL;
    return PRW_OK;
}

void prw__wfile_abort(prw__wfile *w) {
    if (w->direct) {
        prw__mutex_lock(&w->direct->mu);
        if (!w->direct->sys_errno) /* the queued buffers need not be written */
            w->direct->sys_errno = ECANCELED;
        prw__mutex_unlock(&w->direct->mu);
        direct_stop(w);
    }
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    if (w->tmp_path)
        unlink(w->tmp_path);
    prw__free(w->tmp_path);
    prw__free(w->path);
    w->tmp_path = NULL;
    w->path = NULL;
}

prw_status prw__mkdir_p(const char *path, prw_error *err) {
    if (!path[0])
        return prw__error_set(err, PRW_E_INVALID, -1, "empty directory name");
    char *dup = prw__strdup(path);
    if (!dup)
        return prw__error_nomem(err, "a path", strlen(path));
    for (char *p = dup + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(dup, 0755) != 0 && errno != EEXIST) {
                int e = errno;
                prw_status st = prw__error_sys(err, e, "cannot create directory %s", dup);
                prw__free(dup);
                return st;
            }
            *p = c;
            if (c == '\0')
                break;
        }
    }
    prw__free(dup);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return prw__error_set(err, PRW_E_IO, -1, "%s is not a directory", path);
    return PRW_OK;
}

/* ---- directory trees --------------------------------------------------------------------- */

/* The kernel's struct linux_dirent64 (getdents64 is async-signal-safe; readdir is not). */
struct io_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

#define TREE_MAX_DEPTH 64

/*
 * Walks the tree below the open directory `fd` (which it closes), adding the sizes of regular
 * files to *bytes and, with `remove`, unlinking every entry (listing again until a pass finds
 * nothing, since unlinking while listing may skip entries). Only async-signal-safe calls
 * (getdents64, fstatat, openat, unlinkat), no allocation. Returns 0 or the first errno, with
 * the failing entry's name in `bad`.
 */
static int tree_walk(int fd, bool remove, int64_t *bytes, int depth, char *bad, size_t badlen) {
    int first = depth > TREE_MAX_DEPTH ? ELOOP : 0;
    for (int pass = 0; pass < 64 && !first; pass++) {
        int removed = 0;
        lseek(fd, 0, SEEK_SET);
        _Alignas(8) char buf[4096];
        long got;
        while ((got = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
            for (long pos = 0; pos < got;) {
                struct io_dirent64 *e = (struct io_dirent64 *)(void *)(buf + pos);
                pos += e->d_reclen;
                const char *n = e->d_name;
                struct stat st;
                if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
                    fstatat(fd, n, &st, AT_SYMLINK_NOFOLLOW) != 0)
                    continue; /* gone meanwhile */
                int rc = 0;
                if (S_ISDIR(st.st_mode)) {
                    int sub = openat(fd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                    rc = sub < 0 ? errno : tree_walk(sub, remove, bytes, depth + 1, bad, badlen);
                    if (rc == 0 && remove && unlinkat(fd, n, AT_REMOVEDIR) != 0)
                        rc = errno;
                } else {
                    if (S_ISREG(st.st_mode))
                        *bytes += (int64_t)st.st_size;
                    if (remove && unlinkat(fd, n, 0) != 0 && errno != ENOENT)
                        rc = errno;
                }
                removed += remove && rc == 0;
                if (rc && !first) {
                    first = rc;
                    if (!bad[0])
                        strncpy(bad, n, badlen - 1);
                }
            }
        }
        if (!remove || removed == 0)
            break;
    }
    close(fd);
    return first;
}

prw_status prw__remove_dir(const char *path, prw_error *err) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? PRW_OK
                               : prw__error_sys(err, errno, "cannot open directory %s", path);
    char bad[256] = "";
    int64_t bytes = 0;
    int rc = tree_walk(fd, true, &bytes, 0, bad, sizeof bad);
    if (rc)
        return prw__error_sys(err, rc, "cannot remove %s/%s", path, bad);
    if (rmdir(path) != 0 && errno != ENOENT)
        return prw__error_sys(err, errno, "cannot remove directory %s", path);
    return PRW_OK;
}

int64_t prw__dir_bytes(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char bad[256] = "";
    int64_t bytes = 0;
    (void)tree_walk(fd, false, &bytes, 0, bad, sizeof bad);
    return bytes;
}
