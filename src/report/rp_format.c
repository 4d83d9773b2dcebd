/*
 * Numbers for people (1.2M, 3.4 GiB, 0.25 ms, 2026-03-01), and the text helpers of the two
 * renderings: UTF-8 checks, XML escaping.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report/rp_internal.h"

/* v / unit with 3 significant digits at most ("1.23", "12.3", "123"), trailing zeros cut. */
static void scaled(double v, const char *suffix, char *buf, size_t cap) {
    int decimals = v < 10 ? 2 : v < 100 ? 1 : 0;
    snprintf(buf, cap, "%.*f", decimals, v);
    if (strchr(buf, '.')) {
        size_t n = strlen(buf);
        while (n > 0 && buf[n - 1] == '0')
            buf[--n] = 0;
        if (n > 0 && buf[n - 1] == '.')
            buf[--n] = 0;
    }
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%s", suffix);
}

const char *prw__rp_fmt_count(double v, char *buf, size_t cap) {
    static const char *const sfx[] = {"", "k", "M", "G", "T", "P"};
    double a = fabs(v);
    if (a < 1000) {
        scaled(v, "", buf, cap);
        return buf;
    }
    int k = 0;
    while (a >= 999.5 && k < 5) {
        a /= 1000;
        v /= 1000;
        k++;
    }
    scaled(v, sfx[k], buf, cap);
    return buf;
}

const char *prw__rp_fmt_bytes(double v, char *buf, size_t cap) {
    static const char *const sfx[] = {" B", " KiB", " MiB", " GiB", " TiB", " PiB"};
    int k = 0;
    while (fabs(v) >= 1023.5 && k < 5) {
        v /= 1024;
        k++;
    }
    scaled(v, sfx[k], buf, cap);
    return buf;
}

const char *prw__rp_fmt_ms(double v, char *buf, size_t cap) {
    if (v >= 1000)
        scaled(v / 1000, " s", buf, cap);
    else if (v > 0 && v < 0.01)
        snprintf(buf, cap, "%.3g ms", v);
    else
        scaled(v, " ms", buf, cap);
    return buf;
}

const char *prw__rp_fmt_date(int64_t us, bool hour, char *buf, size_t cap) {
    time_t t = (time_t)(us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000));
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, cap, "?");
        return buf;
    }
    if (hour)
        snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min);
    else
        snprintf(buf, cap, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    return buf;
}

const char *prw__rp_fmt_pct(double share, char *buf, size_t cap) {
    double p = share * 100;
    if (p > 0 && p < 0.1)
        snprintf(buf, cap, "<0.1%%");
    else
        scaled(p, "%", buf, cap);
    return buf;
}

size_t prw__rp_utf8_len(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    size_t len = c < 0x80             ? 1
                 : (c & 0xe0) == 0xc0 ? 2
                 : (c & 0xf0) == 0xe0 ? 3
                 : (c & 0xf8) == 0xf0 ? 4
                                      : 0;
    if (len == 0 || len > n || (len == 2 && c < 0xc2) || (len == 4 && c > 0xf4))
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (len == 3 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0)))
        return 0; /* overlong, surrogate */
    if (len == 4 && ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90)))
        return 0;
    return len;
}

prw_status prw__rp_xml_text(prw__buf *b, const char *s, size_t n, prw_error *err) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t len = prw__rp_utf8_len((const unsigned char *)s + i, n - i);
            if (len == 0) {
                PRW_TRY(prw__buf_append(b, "?", 1, err));
            } else {
                PRW_TRY(prw__buf_append(b, s + i, len, err));
                i += len - 1;
            }
            continue;
        }
        const char *rep = c == '&'   ? "&amp;"
                          : c == '<' ? "&lt;"
                          : c == '>' ? "&gt;"
                          : c == '"' ? "&quot;"
                                     : NULL;
        if (rep)
            PRW_TRY(prw__buf_append(b, rep, strlen(rep), err));
        else if (c < 0x20 && c != '\n' && c != '\t') /* not allowed in XML 1.0 */
            PRW_TRY(prw__buf_append(b, "?", 1, err));
        else
            PRW_TRY(prw__buf_append_u8(b, c, err));
    }
    return PRW_OK;
}
