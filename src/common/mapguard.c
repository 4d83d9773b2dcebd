/*
 * Reads of mapped files that another process truncates meanwhile (prw_guard_mapped_reads).
 *
 * A page of a file mapping past the file's current end, or one its device fails to read, raises
 * SIGBUS on access (si_code BUS_ADRERR). The handler finds the mapping holding the address in
 * /proc/self/maps (open, read and close are async-signal-safe), and when it is a read-only file
 * mapping, maps anonymous zero pages over it from the faulting page to its end (MAP_FIXED), so the
 * access is retried and reads zeros. Pages past the new end are all past it, so one fault covers a
 * truncation. (mmap is not on POSIX's list of async-signal-safe functions; the handler makes the
 * system call directly, which is.) Each such range is recorded, with the file offset it started at
 * and the file's name, in a table of RANGES; prw__mapguard_failed says whether a mapping met one,
 * and the file reader (io.c) fails the check of an input's size when it did, so nothing read as
 * zeros is kept. A range is forgotten when its file is closed; with the table full, a SIGBUS ends
 * the process as it did without the guard.
 *
 * The handler serialises itself with a spin lock (another thread may fault at once on the same
 * mapping: it waits, then finds the address in a recorded range and retries). Normal code takes
 * the lock only without touching a mapping. Any other SIGBUS goes to the handler there was before
 * (a sanitizer's), or gets the default action.
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS, BUS_ADRERR */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/io.h"

#define RANGES 256

typedef struct zeroed {
    uintptr_t lo, hi; /* [lo, hi) now zero pages */
    int64_t offset;   /* file offset of lo */
} zeroed;

static atomic_flag g_lock = ATOMIC_FLAG_INIT;
static zeroed g_zeroed[RANGES];
static size_t g_nzeroed;
static bool g_failed;              /* a guarded read failed since the process started */
static char g_last_path[PATH_MAX]; /* the latest one's file, as /proc/self/maps names it */
static int64_t g_last_offset;      /* and the file offset its zeros start at */
static uintptr_t g_page;
static struct sigaction g_old;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_install_errno;

static void lock(void) {
    while (atomic_flag_test_and_set_explicit(&g_lock, memory_order_acquire))
        ;
}
static void unlock(void) {
    atomic_flag_clear_explicit(&g_lock, memory_order_release);
}

/* One line of /proc/self/maps: "lo-hi perms offset dev inode [path]". */
typedef struct vma {
    uintptr_t lo, hi;
    char perms[4];
    uint64_t offset, inode;
    const char *path, *path_end;
} vma;

static const char *hex(const char *s, const char *e, uint64_t *v) {
    *v = 0;
    const char *b = s;
    for (; s < e; s++) {
        int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;
        if (d < 0)
            break;
        *v = *v << 4 | (uint64_t)d;
    }
    return s > b ? s : NULL;
}

static const char *skip(const char *s, const char *e, char c) {
    return s && s < e && *s == c ? s + 1 : NULL;
}

static bool parse_vma(const char *s, const char *e, vma *v) {
    uint64_t lo, hi;
    s = skip(hex(s, e, &lo), e, '-');
    s = s ? skip(hex(s, e, &hi), e, ' ') : NULL;
    if (!s || e - s < 5)
        return false;
    memcpy(v->perms, s, 4);
    s = skip(s + 4, e, ' ');
    s = s ? skip(hex(s, e, &v->offset), e, ' ') : NULL;
    while (s && s < e && *s != ' ') /* the device, "08:01" */
        s++;
    s = skip(s, e, ' ');
    if (!s)
        return false;
    v->inode = 0;
    for (; s < e && *s >= '0' && *s <= '9'; s++)
        v->inode = v->inode * 10 + (uint64_t)(*s - '0');
    while (s < e && *s == ' ')
        s++;
    v->lo = (uintptr_t)lo;
    v->hi = (uintptr_t)hi;
    v->path = s;
    v->path_end = e;
    return true;
}

/* Finds the mapping holding a in /proc/self/maps; its path is copied to path (PATH_MAX). */
static bool find_vma(uintptr_t a, vma *out, char *path) {
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[4096 + PATH_MAX];
    size_t have = 0;
    bool found = false, eof = false, skipping = false;
    while (!found && !eof) {
        ssize_t n = read(fd, buf + have, sizeof buf - have);
        if (n < 0 && errno == EINTR)
            continue;
        eof = n <= 0;
        have += n > 0 ? (size_t)n : 0;
        const char *s = buf, *end = buf + have;
        for (const char *nl; !found && (nl = memchr(s, '\n', (size_t)(end - s))); s = nl + 1) {
            vma v;
            if (!skipping && parse_vma(s, nl, &v) && a >= v.lo && a < v.hi) {
                size_t len = (size_t)(v.path_end - v.path);
                len = len < PATH_MAX - 1 ? len : PATH_MAX - 1;
                memcpy(path, v.path, len);
                path[len] = '\0';
                *out = v;
                found = true;
            }
            skipping = false;
        }
        size_t left = (size_t)(end - s);
        if (left == sizeof buf) { /* a line longer than the buffer: skip to its end */
            left = 0;
            skipping = true;
        }
        memmove(buf, s, left);
        have = left;
    }
    close(fd);
    return found;
}

/* With the lock held: whether a is in a recorded zero range. */
static bool recorded(uintptr_t a) {
    for (size_t i = 0; i < g_nzeroed; i++)
        if (a >= g_zeroed[i].lo && a < g_zeroed[i].hi)
            return true;
    return false;
}

/* With the lock held: makes the read of a retry on zero pages when it is in a read-only file
 * mapping (or already in a recorded range); false for any other address. */
static bool cover(uintptr_t a) {
    if (recorded(a))
        return true;
    static char path[PATH_MAX]; /* only under the lock */
    vma v;
    if (g_nzeroed == RANGES || !find_vma(a, &v, path) || v.perms[0] != 'r' || v.perms[1] != '-' ||
        v.inode == 0)
        return false;
    uintptr_t page = a & ~(g_page - 1);
    /* The system call itself, not libc's mmap: a thread sanitizer intercepting mmap takes it for
     * a write racing with other threads' reads of those pages, which held nothing readable. */
    void *z = (void *)syscall(SYS_mmap, page, v.hi - page, PROT_READ,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (z == MAP_FAILED)
        return false;
    int64_t offset = (int64_t)(v.offset + (page - v.lo));
    g_zeroed[g_nzeroed++] = (zeroed){page, v.hi, offset};
    memcpy(g_last_path, path, sizeof path);
    g_last_offset = offset;
    g_failed = true;
    return true;
}

static void on_sigbus(int sig, siginfo_t *si, void *uc) {
    int saved = errno;
    bool ours = false;
    if (si && si->si_code == BUS_ADRERR) {
        lock();
        ours = cover((uintptr_t)si->si_addr);
        unlock();
    }
    errno = saved;
    if (ours)
        return;
    if ((g_old.sa_flags & SA_SIGINFO) && g_old.sa_sigaction) {
        g_old.sa_sigaction(sig, si, uc);
    } else if (g_old.sa_handler != SIG_DFL && g_old.sa_handler != SIG_IGN) {
        g_old.sa_handler(sig);
    } else { /* the default action: the access faults again on return and ends the process */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(SIGBUS, &dfl, NULL);
    }
}

static void install(void) {
    long ps = sysconf(_SC_PAGESIZE);
    g_page = ps > 0 ? (uintptr_t)ps : 4096;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, &g_old) != 0)
        g_install_errno = errno;
}

prw_status prw_guard_mapped_reads(prw_error *err) {
    pthread_once(&g_once, install);
    if (g_install_errno)
        return prw__error_sys(err, g_install_errno, "cannot install the SIGBUS handler");
    return PRW_OK;
}

bool prw_mapped_read_failed(char *path, size_t cap, int64_t *offset) {
    lock();
    bool failed = g_failed;
    if (failed && path && cap) {
        size_t n = strlen(g_last_path);
        n = n < cap - 1 ? n : cap - 1;
        memcpy(path, g_last_path, n);
        path[n] = '\0';
    }
    if (failed && offset)
        *offset = g_last_offset;
    unlock();
    return failed;
}

/* Whether recorded range i overlaps [map, map + size). */
static bool overlaps(size_t i, const void *map, size_t size) {
    return g_zeroed[i].lo < (uintptr_t)map + size && g_zeroed[i].hi > (uintptr_t)map;
}

bool prw__mapguard_failed(const void *map, size_t size, int64_t *offset) {
    bool hit = false;
    lock();
    for (size_t i = 0; i < g_nzeroed && !hit; i++)
        if (overlaps(i, map, size)) {
            hit = true;
            *offset = g_zeroed[i].offset;
        }
    unlock();
    return hit;
}

void prw__mapguard_forget(const void *map, size_t size) {
    lock();
    for (size_t i = 0; i < g_nzeroed;)
        if (overlaps(i, map, size))
            g_zeroed[i] = g_zeroed[--g_nzeroed];
        else
            i++;
    unlock();
}
