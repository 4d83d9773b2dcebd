/*
 * proberows: public basics shared by every module — version, status codes, the error
 * record, the allocator hook and the borrowed byte view.
 *
 * Conventions (docs/ARCHITECTURE.md): every fallible function returns prw_status and takes
 * `prw_error *err` last (NULL allowed); results go through out-parameters. Negative codes
 * are errors, PRW_OK is success, PRW_DONE ends an iteration.
 */
#ifndef PROBEROWS_PROBEROWS_H
#define PROBEROWS_PROBEROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define PRW_API __attribute__((visibility("default")))
#else
#define PRW_API
#endif

#define PRW_VERSION_MAJOR 0
#define PRW_VERSION_MINOR 1
#define PRW_VERSION_PATCH 0
#define PRW_VERSION_STRING "0.1.0"

/** Status of a library call. Values are stable: they are part of the ABI. */
typedef enum prw_status {
    PRW_OK = 0,
    PRW_DONE = 1,           /**< end of an iteration; not an error */
    PRW_E_INVALID = -1,     /**< bad argument or option from the caller */
    PRW_E_NOMEM = -2,       /**< an allocation failed */
    PRW_E_IO = -3,          /**< the operating system reported an error (see sys_errno) */
    PRW_E_TRUNCATED = -4,   /**< input ends before a structure it announces */
    PRW_E_CORRUPT = -5,     /**< input bytes violate the format */
    PRW_E_CHECKSUM = -6,    /**< a stored checksum or hash does not match the bytes */
    PRW_E_UNSUPPORTED = -7, /**< a valid feature this library does not implement */
    PRW_E_CODEC = -8,       /**< a compression library failed on the bytes */
    PRW_E_LIMIT = -9        /**< a size or count exceeds a limit of this library */
} prw_status;

/** Longest message kept in a prw_error, including the NUL. */
#define PRW_ERROR_MSG_MAX 512

/**
 * What went wrong, filled by the innermost failing call (outer layers may prefix context).
 * Caller storage; zero it (or call prw_error_clear) before use.
 */
typedef struct prw_error {
    prw_status code;             /**< the status that was returned */
    int sys_errno;               /**< errno for PRW_E_IO, else 0 */
    int64_t offset;              /**< byte offset in the input the problem was found at, or -1 */
    char msg[PRW_ERROR_MSG_MAX]; /**< human-readable, no trailing newline */
} prw_error;

/** Resets an error record to "no error" (code PRW_OK, offset -1, empty message). */
PRW_API void prw_error_clear(prw_error *err);

/** A static, never-NULL name for a status code, e.g. "corrupt input". */
PRW_API const char *prw_strerror(prw_status code);

/** Room for any prw_format_bytes result. */
#define PRW_BYTES_STR_MAX 24

/**
 * Formats a byte count the one way every message and summary of proberows does: powers of 1024
 * with one decimal ("512 B", "1.5 KiB", "150.0 MiB", "2.0 GiB", "1.2 TiB"), matching how sizes
 * are parsed (--memory-limit 150M is 150 MiB). Writes into buf (cap bytes, at least
 * PRW_BYTES_STR_MAX) and returns it.
 */
PRW_API const char *prw_format_bytes(uint64_t bytes, char *buf, size_t cap);

/**
 * Receives one warning the library does not print itself: `path` (an input file) was read
 * although its writer broke the format in a way the reader knows and works around, as
 * `message` (one sentence naming the writer and the workaround; prw_pq_writer_warning) says.
 * Called from the calling thread, at most once per file and call, before the file's rows are
 * read. Both strings live only during the call.
 */
typedef void (*prw_warning_fn)(void *ctx, const char *path, const char *message);

/** A borrowed byte view; its lifetime is stated by the function that returns it. */
typedef struct prw_bytes {
    const uint8_t *ptr;
    size_t len;
} prw_bytes;

/**
 * The allocator every library allocation goes through. `realloc(ctx, NULL, n)` allocates,
 * `realloc(ctx, p, n)` resizes; `free(ctx, p)` releases (p may be NULL). Both must be
 * thread-safe.
 */
typedef struct prw_allocator {
    void *(*realloc)(void *ctx, void *ptr, size_t size);
    void (*free)(void *ctx, void *ptr);
    void *ctx;
} prw_allocator;

/**
 * Replaces the process-wide allocator (NULL restores libc). Call it before any other
 * library call and never while a handle is open: memory is freed by the allocator that
 * made it.
 */
PRW_API void prw_set_allocator(const prw_allocator *alloc);

/**
 * Test hook: the n-th allocation from now (1 = the next one) and every later one fail
 * until the hook is reset with n = 0. Counts across threads.
 */
PRW_API void prw_alloc_fail_after(int64_t n);

/** Number of allocations made through the library allocator since process start. */
PRW_API int64_t prw_alloc_count(void);

/**
 * Input files are read through read-only mappings. A file another process cuts short while it
 * is mapped makes a read past its new end raise SIGBUS, which ends the process. After this
 * call such a read (or one the device fails) reads zeros instead, and the file is remembered:
 * its size check fails (a build checks every input before it writes; so does the end of a dump),
 * so nothing read from it is kept. It installs a process-wide SIGBUS handler, once; a SIGBUS of
 * any other cause goes to the handler there was before, or ends the process as it would have.
 * The library never calls it itself: a program that owns its signals decides. The proberows
 * command calls it first. Errors: PRW_E_IO when sigaction fails.
 */
PRW_API prw_status prw_guard_mapped_reads(prw_error *err);

/**
 * Whether a read guarded by prw_guard_mapped_reads failed since the process started. If so, the
 * latest one's file (as the kernel names its mapping, an absolute path) is copied to path (cap
 * bytes, cut to fit) and the byte offset its zeros start at to *offset; either may be NULL.
 */
PRW_API bool prw_mapped_read_failed(char *path, size_t cap, int64_t *offset);

#ifdef __cplusplus
}
#endif
#endif
