/*
 * File I/O helpers: a read-only file opened for pread or mmap, and an atomic writer that
 * writes to a temporary name beside the target, fsyncs, and renames on commit (removing the
 * temporary on abort), so no half-written file ever appears under its final name.
 */
#ifndef PRW_COMMON_IO_H
#define PRW_COMMON_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "common/common.h"

struct iovec;

typedef struct prw__rfile {
    int fd;
    int64_t size;
    const uint8_t *map; /* whole file when opened with mmap, else NULL */
    char *path;
    int64_t mtime_ns; /* when opened */
} prw__rfile;

/**
 * Opens `path` read-only; with `use_mmap` the whole file is mapped (empty files are not).
 * Errors: PRW_E_IO (naming the path), PRW_E_NOMEM.
 */
prw_status prw__rfile_open(prw__rfile *f, const char *path, bool use_mmap, prw_error *err);
/**
 * Reads exactly n bytes at `offset`. Reading past the end is PRW_E_TRUNCATED (offset in
 * err); a system failure is PRW_E_IO.
 */
prw_status prw__rfile_pread(const prw__rfile *f, void *dst, size_t n, int64_t offset,
                            prw_error *err);
/** Closes and unmaps; safe on a zeroed struct and twice. */
void prw__rfile_close(prw__rfile *f);
/**
 * PRW_OK while the open file has the size and the modification time it had when opened
 * (fstat of its descriptor: a file replaced by rename is still the one being read); else
 * PRW_E_IO naming it, for a file written to while it was read. The change time is not
 * compared: chmod, chown or an ACL change moves it without touching the bytes.
 */
prw_status prw__rfile_check_unchanged(const prw__rfile *f, prw_error *err);
/**
 * `st`, unless it is an error and `f` changed (prw__rfile_check_unchanged fails): then that
 * error, with st's message after it. A read of a file rewritten or cut short meanwhile fails in
 * whatever decodes it; the change is the cause to name.
 */
prw_status prw__rfile_blame_change(const prw__rfile *f, prw_status st, prw_error *err);

/**
 * Whether a read of the mapping [map, map + size) failed under prw_guard_mapped_reads and read
 * zeros: then *offset is the file offset the zeros start at (mapguard.c).
 */
bool prw__mapguard_failed(const void *map, size_t size, int64_t *offset);
/** Forgets the failed ranges within [map, map + size), before it is unmapped. */
void prw__mapguard_forget(const void *map, size_t size);

/** Reads a whole file into a new buffer (caller frees with prw__free). */
prw_status prw__read_file(const char *path, uint8_t **data, size_t *len, prw_error *err);

typedef struct prw__wdirect prw__wdirect;

/** A direct-I/O file (prw__wfile_direct) holds two buffers of PRW__WFILE_DIRECT_BUF bytes. */
#define PRW__WFILE_DIRECT_BUF (512u << 10)
#define PRW__WFILE_DIRECT_BYTES (2u * PRW__WFILE_DIRECT_BUF)

typedef struct prw__wfile {
    int fd;
    char *path;     /* final name */
    char *tmp_path; /* where bytes go until commit */
    int64_t written;
    prw__wdirect *direct; /* non-NULL after prw__wfile_direct succeeded */
} prw__wfile;

/**
 * Creates a temporary file beside `path` (same directory, hidden name). Nothing exists under
 * `path` until prw__wfile_commit. Errors: PRW_E_IO naming the directory.
 */
prw_status prw__wfile_open(prw__wfile *w, const char *path, prw_error *err);
/** Writes all n bytes (retrying short writes); ENOSPC etc. are PRW_E_IO naming the file. */
prw_status prw__wfile_write(prw__wfile *w, const void *data, size_t n, prw_error *err);
/**
 * Writes the `cnt` buffers of `iov` in order, like prw__wfile_write (same errors, same fault
 * injection; a short or interrupted writev is resumed). `iov` is scratch: entries are advanced
 * past what was written.
 */
prw_status prw__wfile_writev(prw__wfile *w, struct iovec *iov, int cnt, prw_error *err);
/**
 * Switches a just-opened file to direct I/O (O_DIRECT): bytes are copied into aligned buffers
 * that a background thread writes while the caller goes on, bypassing the page cache (on this
 * project's VM the kernel spends 1.5 s per GB copying buffered writes into it; a direct
 * write costs about 0.1 s). The file is padded to a 4 KiB multiple while being written and
 * truncated to its size at commit. A write error is reported by a later write or by the commit,
 * naming the file and the offset. Returns false (the file stays buffered) where the file system
 * refuses O_DIRECT (tmpfs, some network file systems); a file system that accepts the flag but
 * fails the first aligned write falls back to buffered writes too.
 */
bool prw__wfile_direct(prw__wfile *w);
/** fsyncs, closes and renames onto the final name, then fsyncs the directory. */
prw_status prw__wfile_commit(prw__wfile *w, prw_error *err);
/** Closes and removes the temporary; safe after commit, on a zeroed struct and twice. */
void prw__wfile_abort(prw__wfile *w);

/**
 * Test hook (fault injection): after `after_bytes` more bytes have been written through
 * prw__wfile_write in this process, writes fail with `sys_errno` (e.g. ENOSPC).
 * A negative `after_bytes` turns the fault off.
 */
void prw__io_inject_write_fault(int64_t after_bytes, int sys_errno);

/** Creates a directory and its parents (like mkdir -p). */
prw_status prw__mkdir_p(const char *path, prw_error *err);

/** Room for any path the library builds (inputs, outputs, run and temp files). */
#define PRW_PATH_BUF 4096

/**
 * Removes `path` and everything below it (symbolic links are removed, never followed). A
 * missing `path` is success. Errors: PRW_E_IO naming the entry that could not be removed.
 * Async-signal-safe when `err` is NULL (getdents64, openat, unlinkat; no allocation), so
 * signal handlers may use it.
 */
prw_status prw__remove_dir(const char *path, prw_error *err);

/** Bytes of the regular files below `path` (0 if it is missing; unreadable parts count 0). */
int64_t prw__dir_bytes(const char *path);

#endif
