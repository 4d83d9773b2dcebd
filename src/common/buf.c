/* Growable byte buffer, varint writer and cursor varint reader. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "common/common.h"

void prw__buf_cleanup(prw__buf *b) {
    prw__free(b->data);
    prw__buf_init(b);
}

prw_status prw__buf_reserve(prw__buf *b, size_t extra, prw_error *err) {
    size_t need;
    if (prw__add_overflow(b->len, extra, &need))
        return prw__error_set(err, PRW_E_LIMIT, -1, "buffer size overflow");
    if (need <= b->cap)
        return PRW_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    /* An empty buffer has nothing to keep: a fresh block, not a realloc copying the old one. */
    uint8_t *p = NULL;
    if (b->len == 0) {
        prw__free(b->data);
        b->data = NULL;
        b->cap = 0;
        p = prw__malloc(cap);
    } else {
        p = prw__realloc(b->data, cap);
    }
    if (!p)
        return prw__error_nomem(err, "a buffer", cap);
    b->data = p;
    b->cap = cap;
    return PRW_OK;
}

prw_status prw__buf_resize(prw__buf *b, size_t len, prw_error *err) {
    if (len > b->len)
        PRW_TRY(prw__buf_reserve(b, len - b->len, err));
    b->len = len;
    return PRW_OK;
}

prw_status prw__buf_append(prw__buf *b, const void *data, size_t n, prw_error *err) {
    if (n == 0)
        return PRW_OK;
    PRW_TRY(prw__buf_reserve(b, n, err));
    memcpy(b->data + b->len, data, n);
    b->len += n;
    return PRW_OK;
}

prw_status prw__buf_pad(prw__buf *b, size_t align, prw_error *err) {
    size_t pad = (align - (b->len & (align - 1))) & (align - 1);
    if (pad == 0)
        return PRW_OK;
    PRW_TRY(prw__buf_reserve(b, pad, err));
    memset(b->data + b->len, 0, pad);
    b->len += pad;
    return PRW_OK;
}

prw_status prw__buf_varint(prw__buf *b, uint64_t v, prw_error *err) {
    PRW_TRY(prw__buf_reserve(b, PRW_VARINT_MAX, err));
    b->len += prw__varint_put(b->data + b->len, v);
    return PRW_OK;
}

size_t prw__varint_put(uint8_t *dst, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        dst[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    dst[n++] = (uint8_t)v;
    return n;
}

size_t prw__varint_len(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

bool prw__rd_varint(prw__rd *rd, uint64_t *out) {
    uint64_t v = 0;
    const uint8_t *p = rd->p;
    for (unsigned i = 0; i < PRW_VARINT_MAX; i++) {
        if (p >= rd->end)
            return false;
        uint8_t c = *p++;
        if (i == 9 && (c & 0xfe))
            return false; /* bits beyond 64, or a continuation past the 10th byte */
        v |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80)) {
            rd->p = p;
            *out = v;
            return true;
        }
    }
    return false;
}

double prw__now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

prw_status prw__buf_printf(prw__buf *b, prw_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return prw__error_set(err, PRW_E_INVALID, -1, "bad format string");
    PRW_TRY(prw__buf_reserve(b, (size_t)n + 1, err));
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return PRW_OK;
}
