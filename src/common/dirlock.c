/*
 * The one-writer lock of an output directory, temporary folders with an owner, and the sweeper
 * of folders whose owner is gone (see publish.h).
 *
 * A writer holds flock(LOCK_EX) on DIR/.proberows.lock and, on the same open file, an
 * open-file-description fcntl lock: flock is what excludes a second writer; the fcntl lock is
 * there so that a reader can ask whether a writer is active (F_OFD_GETLK) without taking
 * anything that could make a starting writer fail. Both go away with the process.
 */
#define _GNU_SOURCE /* F_OFD_SETLK, F_OFD_GETLK */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"
#include "common/publish.h"

#define OWNER_NAME ".owner"
#define TEMP_PREFIX ".proberows-"

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = prw__malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static long read_pid(int fd) {
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *end;
    long pid = strtol(buf, &end, 10);
    return end != buf && pid > 0 ? pid : -1;
}

static void write_pid(int fd) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) == n)
        (void)fsync(fd);
}

static void ofd_lock(int fd, bool shared) {
    struct flock fl = {.l_type = shared ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET};
    (void)fcntl(fd, F_OFD_SETLK, &fl); /* only a signal for readers; flock is the lock */
}

static prw_status lock_busy(prw_error *err, const char *dir, long pid) {
    char who[48] = "a pid it has not written yet";
    if (pid > 0)
        snprintf(who, sizeof who, "pid %ld", pid);
    prw__error_set(err, PRW_E_IO, -1,
                   "%s is being written by another proberows (%s, lock %s/%s); wait for it to "
                   "finish or stop it",
                   dir, who, dir, PRW__LOCK_NAME);
    if (err)
        err->sys_errno = EAGAIN;
    return PRW_E_IO;
}

/*
 * Test hook for the CLI tests (two writers, one fails): with PROBEROWS_TEST_HOLD_LOCK=PATH in
 * the environment, a writer that got the lock creates PATH.locked and waits (up to 60 s) until
 * PATH is removed, so a second writer meets a held lock without timing luck.
 */
static void test_hold(void) {
    const char *hold = getenv("PROBEROWS_TEST_HOLD_LOCK");
    if (!hold || !hold[0])
        return;
    char marker[4096];
    snprintf(marker, sizeof marker, "%s.locked", hold);
    int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0)
        close(fd);
    for (int i = 0; i < 6000 && access(hold, F_OK) == 0; i++)
        usleep(10000);
}

prw_status prw__dirlock_acquire(prw__dirlock *l, const char *dir, bool shared, prw_error *err) {
    l->fd = -1;
    char *path = join(dir, PRW__LOCK_NAME);
    if (!path)
        return prw__error_nomem(err, "a path", strlen(dir));
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        prw_status st = prw__error_sys(err, errno, "cannot open the lock file %s", path);
        prw__free(path);
        return st;
    }
    prw__free(path);
    if (flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
        int e = errno;
        long pid = read_pid(fd);
        close(fd);
        if (e == EWOULDBLOCK)
            return lock_busy(err, dir, pid);
        return prw__error_sys(err, e, "cannot lock %s/%s", dir, PRW__LOCK_NAME);
    }
    ofd_lock(fd, shared);
    write_pid(fd); /* shared holders: the last one's pid, enough to name one */
    l->fd = fd;
    test_hold();
    return PRW_OK;
}

void prw__dirlock_release(prw__dirlock *l) {
    if (l->fd >= 0)
        close(l->fd); /* drops both locks; the stale pid inside means nothing unlocked */
    l->fd = -1;
}

/* The pid in the locked file at `path`, 0 if it is not locked (or missing). */
static long holder_of(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    long pid = 0;
    if (fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
        pid = read_pid(fd);
    close(fd);
    return pid;
}

long prw__dirlock_holder(const char *dir) {
    char *path = join(dir, PRW__LOCK_NAME);
    long pid = path ? holder_of(path) : 0;
    prw__free(path);
    return pid;
}

/* ---- temporary folders with an owner ----------------------------------------------------- */

prw_status prw__owned_dir_create(prw__owned_dir *d, const char *parent, const char *kind,
                                 prw_error *err) {
    d->path = NULL;
    d->fd = -1;
    size_t n = strlen(parent) + strlen(kind) + 48;
    char *path = prw__malloc(n);
    if (!path)
        return prw__error_nomem(err, "a path", n);
    snprintf(path, n, "%s/" TEMP_PREFIX "%s-%ld-XXXXXX", parent, kind, (long)getpid());
    if (!mkdtemp(path)) {
        prw__free(path);
        return prw__error_sys(err, errno, "cannot create a directory in %s", parent);
    }
    char *owner = join(path, OWNER_NAME);
    int fd = owner ? open(owner, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644) : -1;
    int e = owner ? errno : ENOMEM;
    prw__free(owner);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (fd >= 0)
            e = errno;
        prw_status st = prw__error_sys(err, e, "cannot lock the new directory %s", path);
        if (fd >= 0)
            close(fd);
        (void)prw__remove_dir(path, NULL);
        prw__free(path);
        return st;
    }
    write_pid(fd);
    d->path = path;
    d->fd = fd;
    return PRW_OK;
}

prw_status prw__owned_dir_remove(prw__owned_dir *d, prw_error *err) {
    prw_status st = d->path ? prw__remove_dir(d->path, err) : PRW_OK;
    if (d->fd >= 0)
        close(d->fd);
    prw__free(d->path);
    d->path = NULL;
    d->fd = -1;
    return st;
}

/* ---- the sweeper -------------------------------------------------------------------------- */

/* A temporary folder name: .proberows-KIND-..., with the pid after KIND when there is one. */
static bool temp_name(const char *name, long *pid) {
    static const char *const kinds[] = {"staging-", "spill-", "backup-"};
    if (strncmp(name, TEMP_PREFIX, strlen(TEMP_PREFIX)) != 0)
        return false;
    const char *p = name + strlen(TEMP_PREFIX);
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        size_t k = strlen(kinds[i]);
        if (strncmp(p, kinds[i], k) != 0)
            continue;
        char *end;
        long v = strtol(p + k, &end, 10);
        *pid = end != p + k && *end == '-' && v > 0 ? v : 0;
        return true;
    }
    return false;
}

/* Whether a temporary folder's owner still runs: its .owner is locked, or its pid lives. */
static bool owner_alive(const char *path, long pid, bool unowned_too) {
    char *owner = join(path, OWNER_NAME);
    int fd = owner ? open(owner, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    prw__free(owner);
    if (fd >= 0) {
        bool locked = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
        long written = read_pid(fd); /* written after the lock was taken */
        close(fd);
        if (locked)
            return true;
        if (written > 0)
            return false;
    }
    if (pid > 0) /* being created (not yet locked), or an owner killed right then */
        return kill((pid_t)pid, 0) == 0 || errno == EPERM;
    return !unowned_too;
}

bool prw__owned_dir_alive(const char *path) {
    const char *base = strrchr(path, '/');
    long pid = 0;
    return temp_name(base ? base + 1 : path, &pid) ? owner_alive(path, pid, false) : false;
}

prw_status prw__sweep_leftovers(const char *dir, bool unowned_too, prw__sweep_stats *out,
                                prw_error *err) {
    memset(out, 0, sizeof *out);
    if (prw__publish_pending(dir))
        return PRW_OK; /* its backup and staging folders are the old and new outputs */
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? PRW_OK : prw__error_sys(err, errno, "cannot list %s", dir);
    prw_status st = PRW_OK;
    struct dirent *e;
    while (st == PRW_OK && (e = readdir(d))) {
        long pid = 0;
        if (!temp_name(e->d_name, &pid))
            continue;
        char *path = join(dir, e->d_name);
        struct stat sb;
        if (!path) {
            st = prw__error_nomem(err, "a path", strlen(dir));
        } else if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            if (owner_alive(path, pid, unowned_too)) {
                out->in_use++;
            } else {
                int64_t bytes = prw__dir_bytes(path);
                st = prw__remove_dir(path, err);
                if (st == PRW_OK) {
                    out->removed++;
                    out->bytes += bytes;
                }
            }
        }
        prw__free(path);
    }
    closedir(d);
    return st;
}
