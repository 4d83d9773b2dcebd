/*
 * Status names and the prw_error record. The innermost failure writes the message; outer
 * layers add context once with prw__error_prefix.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"

void prw_error_clear(prw_error *err) {
    if (!err)
        return;
    err->code = PRW_OK;
    err->sys_errno = 0;
    err->offset = -1;
    err->msg[0] = '\0';
}

const char *prw_strerror(prw_status code) {
    switch (code) {
    case PRW_OK:
        return "success";
    case PRW_DONE:
        return "end of iteration";
    case PRW_E_INVALID:
        return "invalid argument";
    case PRW_E_NOMEM:
        return "out of memory";
    case PRW_E_IO:
        return "I/O error";
    case PRW_E_TRUNCATED:
        return "truncated input";
    case PRW_E_CORRUPT:
        return "corrupt input";
    case PRW_E_CHECKSUM:
        return "checksum mismatch";
    case PRW_E_UNSUPPORTED:
        return "unsupported feature";
    case PRW_E_CODEC:
        return "decompression failed";
    case PRW_E_LIMIT:
        return "limit exceeded";
    }
    return "unknown status";
}

static void set_msg(prw_error *err, const char *fmt, va_list ap) {
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    if (n < 0)
        err->msg[0] = '\0';
}

prw_status prw__error_set(prw_error *err, prw_status code, int64_t offset, const char *fmt, ...) {
    if (!err)
        return code;
    err->code = code;
    err->sys_errno = 0;
    err->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    set_msg(err, fmt, ap);
    va_end(ap);
    return code;
}

prw_status prw__error_sys(prw_error *err, int sys_errno, const char *fmt, ...) {
    if (!err)
        return PRW_E_IO;
    err->code = PRW_E_IO;
    err->sys_errno = sys_errno;
    err->offset = -1;
    va_list ap;
    va_start(ap, fmt);
    set_msg(err, fmt, ap);
    va_end(ap);
    size_t len = strlen(err->msg);
    snprintf(err->msg + len, sizeof err->msg - len, ": %s", strerror(sys_errno));
    return PRW_E_IO;
}

void prw__error_prefix(prw_error *err, const char *fmt, ...) {
    if (!err)
        return;
    char prefix[PRW_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    size_t plen = (size_t)n < sizeof err->msg - 1 ? (size_t)n : sizeof err->msg - 1;
    size_t olen = strlen(err->msg);
    if (plen + olen > sizeof err->msg - 1)
        olen = sizeof err->msg - 1 - plen;
    memmove(err->msg + plen, err->msg, olen);
    memcpy(err->msg, prefix, plen);
    err->msg[plen + olen] = '\0';
}

prw_status prw__error_caused_by(prw_error *err, const prw_error *cause) {
    if (err) {
        char was[sizeof err->msg];
        memcpy(was, err->msg, sizeof was);
        was[sizeof was - 1] = '\0';
        *err = *cause;
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n, " (reading it then failed: %s)", was);
    }
    return cause->code;
}

prw_status prw__error_nomem(prw_error *err, const char *what, size_t size) {
    return prw__error_set(err, PRW_E_NOMEM, -1, "out of memory allocating %zu bytes for %s", size,
                          what);
}

/* Prints bytes with one decimal of its unit, rounded to nearest or (up) to the next tenth;
 * the unit switches where that tenth would be 1024.0. */
static const char *format_bytes(uint64_t bytes, bool up, char *buf, size_t cap) {
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) {
        snprintf(buf, cap, "%llu B", (unsigned long long)bytes);
        return buf;
    }
    double v = (double)bytes / 1024.0;
    size_t u = 0;
    while (v >= (up ? 1023.9 : 1023.95) && u + 1 < sizeof units / sizeof *units) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, cap, "%.1f %s", up ? ceil(v * 10.0) / 10.0 : v, units[u]);
    return buf;
}

const char *prw_format_bytes(uint64_t bytes, char *buf, size_t cap) {
    return format_bytes(bytes, false, buf, cap);
}

const char *prw__format_bytes_up(uint64_t bytes, char *buf, size_t cap) {
    return format_bytes(bytes, true, buf, cap);
}
