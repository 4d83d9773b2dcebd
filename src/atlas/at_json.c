/*
 * An RFC 8259 JSON scanner over one line of a dump (https://www.rfc-editor.org/rfc/rfc8259):
 * whitespace (space, tab, CR, LF), strings with every escape including \uXXXX surrogate pairs
 * (decoded to UTF-8; a lone surrogate is malformed), raw bytes checked as UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF), numbers by the exact grammar
 * (-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?), the three literals, and skipping of any value with
 * nesting limited to PRW_AT_JSON_DEPTH. It builds no tree: at_ping.c pulls the fields it
 * wants and skips the rest, so a line costs one pass.
 *
 * Numbers: a decimal of at most 19 significant digits whose value is an integer below 2^53
 * scaled by at most 10^22 is exact in double arithmetic (Clinger's fast path), everything
 * else goes through strtod, so every value is the correctly rounded double.
 */
#include <math.h>
#include <stdlib.h>

#include "atlas/at_internal.h"
#include "common/json.h"

void prw__at_json_init(prw__at_json *j, const uint8_t *line, size_t n, uint8_t *scratch) {
    j->base = line;
    j->p = line;
    j->end = line + n;
    j->scratch = scratch;
    j->scratch_len = 0;
    j->bad = PRW_ATLAS_BAD_JSON;
    j->what = NULL;
    j->at = line;
}

bool prw__at_json_fail(prw__at_json *j, prw_atlas_bad bad, const char *what) {
    if (!j->what) { /* the innermost failure names the problem */
        j->bad = bad;
        j->what = what;
        j->at = j->p;
    }
    return false;
}

int prw__at_json_peek(prw__at_json *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
        j->p++;
    return j->p < j->end ? *j->p : -1;
}

bool prw__at_json_expect(prw__at_json *j, int c, const char *what) {
    if (prw__at_json_peek(j) != c)
        return prw__at_json_fail(j, PRW_ATLAS_BAD_JSON, what);
    j->p++;
    return true;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Reads 4 hex digits after "\u"; -1 if not hex. */
static int32_t hex4(prw__at_json *j) {
    if (j->end - j->p < 4)
        return -1;
    int32_t v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(j->p[k]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    j->p += 4;
    return v;
}

/* Length of the valid UTF-8 sequence at p (first byte >= 0x80), or 0. */
static size_t utf8_len(const uint8_t *p, const uint8_t *end) {
    uint8_t c = p[0];
    size_t n = c >= 0xc2 && c <= 0xdf   ? 2
               : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4
                                        : 0;
    if (n == 0 || (size_t)(end - p) < n)
        return 0;
    for (size_t k = 1; k < n; k++)
        if ((p[k] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) || (c == 0xf0 && p[1] < 0x90) ||
        (c == 0xf4 && p[1] > 0x8f))
        return 0; /* overlong, surrogate, or beyond U+10FFFF */
    return n;
}

/* One escape after the backslash, appended to d; returns bytes written or 0 on error. */
static size_t escape(prw__at_json *j, uint8_t *d) {
    if (j->p >= j->end)
        return 0;
    uint8_t c = *j->p++;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k = c ? strchr(from, c) : NULL;
    if (k) {
        d[0] = (uint8_t)to[k - from];
        return 1;
    }
    if (c != 'u')
        return 0;
    int32_t cp = hex4(j);
    if (cp < 0 || (cp >= 0xdc00 && cp <= 0xdfff))
        return 0;
    if (cp >= 0xd800 && cp <= 0xdbff) { /* a high surrogate needs its low half */
        if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
            return 0;
        j->p += 2;
        int32_t lo = hex4(j);
        if (lo < 0xdc00 || lo > 0xdfff)
            return 0;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    return prw__utf8_put(d, (uint32_t)cp);
}

bool prw__at_json_string(prw__at_json *j, prw__at_str *out) {
    if (!prw__at_json_expect(j, '"', "expected a string"))
        return false;
    const uint8_t *start = j->p;
    while (j->p < j->end && *j->p != '"' && *j->p != '\\' && *j->p >= 0x20 && *j->p < 0x80)
        j->p++;
    if (j->p < j->end && *j->p == '"') { /* plain ASCII, no escapes: a view into the line */
        *out = (prw__at_str){start, (size_t)(j->p - start)};
        j->p++;
        return true;
    }
    uint8_t *d = j->scratch + j->scratch_len, *d0 = d;
    memcpy(d, start, (size_t)(j->p - start));
    d += j->p - start;
    for (;;) {
        if (j->p >= j->end)
            return prw__at_json_fail(j, PRW_ATLAS_BAD_JSON, "unterminated string");
        uint8_t c = *j->p;
        if (c == '"')
            break;
        if (c < 0x20)
            return prw__at_json_fail(j, PRW_ATLAS_BAD_BINARY, "control byte in a string");
        if (c == '\\') {
            j->p++;
            size_t k = escape(j, d);
            if (k == 0)
                return prw__at_json_fail(j, PRW_ATLAS_BAD_JSON, "bad escape in a string");
            d += k;
        } else if (c >= 0x80) {
            size_t k = utf8_len(j->p, j->end);
            if (k == 0)
                return prw__at_json_fail(j, PRW_ATLAS_BAD_BINARY, "invalid UTF-8 in a string");
            memcpy(d, j->p, k);
            d += k;
            j->p += k;
        } else {
            *d++ = c;
            j->p++;
        }
    }
    j->p++;
    /* Decoded bytes never outgrow their source (an escape of 6 or 12 bytes yields at most 4),
     * so the scratch of the line's length always has room. */
    j->scratch_len += (size_t)(d - d0);
    *out = (prw__at_str){d0, (size_t)(d - d0)};
    return true;
}

/* The grammar of a number at p; returns its end, or NULL. Fills the fast-path parts. */
static const uint8_t *scan_number(const uint8_t *p, const uint8_t *end, uint64_t *mant, int *digits,
                                  int *exp10, bool *is_int, bool *neg) {
    *mant = 0;
    *digits = 0;
    *exp10 = 0;
    *is_int = true;
    *neg = p < end && *p == '-';
    p += *neg;
    if (p >= end || *p < '0' || *p > '9')
        return NULL;
    if (*p == '0') {
        p++;
    } else {
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            if (*digits < 19)
                *mant = *mant * 10 + (uint64_t)(*p - '0');
            else
                (*exp10)++;
            if (*mant || *digits)
                (*digits)++;
        }
    }
    if (p < end && *p == '.') {
        *is_int = false;
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            if (*digits < 19) {
                *mant = *mant * 10 + (uint64_t)(*p - '0');
                (*exp10)--;
                if (*mant)
                    (*digits)++;
            } else {
                *digits = 20; /* more digits than the fast path keeps */
            }
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *is_int = false;
        p++;
        bool eneg = p < end && *p == '-';
        p += p < end && (*p == '-' || *p == '+');
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        int e = 0;
        for (; p < end && *p >= '0' && *p <= '9'; p++)
            e = e < 100000 ? e * 10 + (*p - '0') : e;
        *exp10 += eneg ? -e : e;
    }
    return p;
}

/* The double (and int64) of the number start[0, p) that scan_number read. */
static bool convert(const uint8_t *start, const uint8_t *p, uint64_t mant, int digits, int exp10,
                    bool is_int, bool neg, prw__at_num *out) {
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    out->is_int = is_int && digits <= 18 && exp10 == 0;
    out->i = out->is_int ? (neg ? -(int64_t)mant : (int64_t)mant) : 0;
    if (digits <= 19 && mant <= (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
        double d = (double)mant;
        d = exp10 < 0 ? d / pow10[-exp10] : d * pow10[exp10];
        out->d = neg ? -d : d;
        return true;
    }
    size_t len = (size_t)(p - start);
    char small[128], *buf = len < sizeof small ? small : prw__malloc(len + 1);
    if (!buf)
        return false;
    memcpy(buf, start, len);
    buf[len] = 0;
    out->d = strtod(buf, NULL); /* the C locale: the library never calls setlocale */
    if (buf != small)
        prw__free(buf);
    return true;
}

/* A number at start[0, end): its end (NULL if none) and value. */
static const uint8_t *number(const uint8_t *start, const uint8_t *end, prw__at_num *out) {
    uint64_t mant;
    int digits, exp10;
    bool is_int, neg;
    const uint8_t *e = scan_number(start, end, &mant, &digits, &exp10, &is_int, &neg);
    if (!e || !convert(start, e, mant, digits, exp10, is_int, neg, out))
        return NULL;
    return e;
}

bool prw__at_json_number(prw__at_json *j, prw__at_num *out) {
    prw__at_json_peek(j);
    const uint8_t *e = number(j->p, j->end, out);
    if (!e)
        return prw__at_json_fail(j, PRW_ATLAS_BAD_JSON, "malformed number");
    j->p = e;
    return true;
}

bool prw__at_parse_num_text(const uint8_t *p, size_t n, prw__at_num *out) {
    return n > 0 && number(p, p + n, out) == p + n;
}

bool prw__at_json_literal(prw__at_json *j, int *which) {
    prw__at_json_peek(j);
    static const char *const words[] = {"null", "false", "true"};
    size_t left = (size_t)(j->end - j->p);
    for (int k = 0; k < 3; k++) {
        size_t n = strlen(words[k]);
        if (left >= n && memcmp(j->p, words[k], n) == 0) {
            j->p += n;
            *which = k - 1;
            return true;
        }
    }
    return prw__at_json_fail(j, PRW_ATLAS_BAD_JSON, "expected a value");
}

bool prw__at_json_sep(prw__at_json *j, int close, bool *end) {
    int c = prw__at_json_peek(j);
    j->p += c >= 0;
    *end = c == close;
    if (c == close || c == ',')
        return true;
    return prw__at_json_fail(j, PRW_ATLAS_BAD_JSON,
                             close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
}

static bool skip_container(prw__at_json *j, int depth, int close) {
    j->p++;
    if (depth >= PRW_AT_JSON_DEPTH)
        return prw__at_json_fail(j, PRW_ATLAS_BAD_JSON, "nested too deep");
    if (prw__at_json_peek(j) == close) {
        j->p++;
        return true;
    }
    for (;;) {
        if (close == '}') {
            prw__at_str key;
            if (!prw__at_json_string(j, &key) || !prw__at_json_expect(j, ':', "expected ':'"))
                return false;
        }
        bool end;
        if (!prw__at_json_skip(j, depth + 1) || !prw__at_json_sep(j, close, &end))
            return false;
        if (end)
            return true;
    }
}

bool prw__at_json_skip(prw__at_json *j, int depth) {
    int c = prw__at_json_peek(j), which;
    prw__at_str s;
    prw__at_num num;
    if (c == '{' || c == '[')
        return skip_container(j, depth, c == '{' ? '}' : ']');
    if (c == '"') {
        size_t keep = j->scratch_len; /* a skipped string's decoded bytes are not needed */
        bool ok = prw__at_json_string(j, &s);
        j->scratch_len = keep;
        return ok;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return prw__at_json_number(j, &num);
    return prw__at_json_literal(j, &which);
}

bool prw__at_is_binary(const uint8_t *p, size_t n) {
    const uint8_t *end = p + n;
    while (p < end) {
        uint8_t c = *p;
        if (c < 0x20 && c != '\t' && c != '\r' && c != '\n')
            return true;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t k = utf8_len(p, end);
        if (k == 0)
            return true;
        p += k;
    }
    return false;
}
