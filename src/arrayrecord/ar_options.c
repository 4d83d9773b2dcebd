/*
 * ArrayRecord writer options: Google's grammar (ArrayRecordWriterBase::Options::FromString,
 * which hands the compression items to riegeli::CompressorOptions) and the canonical string
 * its writer stores in the footer (Options::ToString). Spec: ARRAYRECORD.md §6.5, §7.
 *
 * `options ::= option? ("," option?)*`, each option `name` or `name:value`. Every name may
 * appear once; `default` only first; one compression algorithm; window_log conflicts with
 * uncompressed and snappy. Without a compression option the file is zstd:3 with window_log
 * 20 (ArrayRecord forces 20 whenever zstd has no explicit window_log).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "arrayrecord/ar_internal.h"

enum {
    OPT_DEFAULT,
    OPT_GROUP_SIZE,
    OPT_MAX_PARALLELISM,
    OPT_SATURATION_DELAY,
    OPT_UNCOMPRESSED,
    OPT_BROTLI,
    OPT_ZSTD,
    OPT_SNAPPY,
    OPT_WINDOW_LOG,
    OPT_TRANSPOSE,
    OPT_TRANSPOSE_BUCKET,
    OPT_PAD,
    OPT_COUNT
};

static const char *const g_names[OPT_COUNT] = {"default",
                                               "group_size",
                                               "max_parallelism",
                                               "saturation_delay_ms",
                                               "uncompressed",
                                               "brotli",
                                               "zstd",
                                               "snappy",
                                               "window_log",
                                               "transpose",
                                               "transpose_bucket_size",
                                               "pad_to_block_boundary"};

/* Parses a whole decimal integer (optional sign) in [min, max]. */
static bool parse_int(const char *s, size_t n, long long min, long long max, long long *out) {
    char tmp[32];
    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!((tmp[i] >= '0' && tmp[i] <= '9') || (i == 0 && (tmp[i] == '-' || tmp[i] == '+'))))
            return false;
    errno = 0;
    char *end;
    long long v = strtoll(tmp, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* riegeli's byte counts: an integer with an optional k/M/G/T/P/E suffix (powers of 1024). */
static bool parse_bytes(const char *s, size_t n) {
    if (n == 0)
        return false;
    size_t digits = n;
    const char *suffixes = "kKMGTPE";
    if (strchr(suffixes, s[n - 1]))
        digits--;
    long long v;
    return parse_int(s, digits, 0, INT64_MAX >> 10, &v) && s[0] != '-';
}

static bool value_is(const char *v, size_t vn, const char *lit) {
    return strlen(lit) == vn && memcmp(v, lit, vn) == 0;
}

static prw_status bad_value(prw_error *err, const char *name, const char *v, size_t vn,
                            const char *expected) {
    return prw__error_set(err, PRW_E_INVALID, -1,
                          "invalid ArrayRecord option %s:%.*s (valid values: %s)", name,
                          (int)(vn > 64 ? 64 : vn), v, expected);
}

typedef struct parse_state {
    prw_ar_options o;
    bool seen[OPT_COUNT];
    int codec_opt;   /* OPT_* of the compression option, or -1 */
    bool window_set; /* window_log given with a number (not auto) */
} parse_state;

static prw_status parse_compression(parse_state *ps, int id, const char *v, size_t vn,
                                    bool has_value, prw_error *err) {
    const char *name = g_names[id];
    if (ps->codec_opt >= 0)
        return prw__error_set(err, PRW_E_INVALID, -1, "Option %s conflicts with option %s", name,
                              g_names[ps->codec_opt]);
    if (id == OPT_UNCOMPRESSED || id == OPT_SNAPPY) {
        if (ps->seen[OPT_WINDOW_LOG])
            return prw__error_set(err, PRW_E_INVALID, -1,
                                  "Option window_log conflicts with option %s", name);
    }
    long long lv = 0;
    switch (id) {
    case OPT_UNCOMPRESSED:
        if (has_value && vn)
            return bad_value(err, name, v, vn, "(none)");
        ps->o.compression = PRW_AR_UNCOMPRESSED;
        ps->o.level = 0;
        break;
    case OPT_SNAPPY:
        /* Newer riegeli accepts snappy:1..2; the stored string says just "snappy". */
        if (has_value && vn && !parse_int(v, vn, 1, 2, &lv))
            return bad_value(err, name, v, vn, "(none), 1..2");
        ps->o.compression = PRW_AR_SNAPPY;
        ps->o.level = 0;
        break;
    case OPT_BROTLI:
        lv = 6;
        if (has_value && vn && !parse_int(v, vn, 0, 11, &lv))
            return bad_value(err, name, v, vn, "0..11");
        ps->o.compression = PRW_AR_BROTLI;
        ps->o.level = (int)lv;
        break;
    default: /* OPT_ZSTD */
        lv = 3;
        if (has_value && vn && !parse_int(v, vn, -131072, 22, &lv))
            return bad_value(err, name, v, vn, "-131072..22");
        ps->o.compression = PRW_AR_ZSTD;
        ps->o.level = (int)lv;
        break;
    }
    ps->codec_opt = id;
    return PRW_OK;
}

static prw_status parse_item(parse_state *ps, const char *item, size_t n, bool first,
                             prw_error *err) {
    const char *colon = memchr(item, ':', n);
    size_t nn = colon ? (size_t)(colon - item) : n;
    const char *v = colon ? colon + 1 : item + n;
    size_t vn = colon ? n - nn - 1 : 0;
    bool has_value = colon != NULL;
    int id = -1;
    for (int i = 0; i < OPT_COUNT; i++)
        if (value_is(item, nn, g_names[i]))
            id = i;
    if (id < 0)
        return prw__error_set(err, PRW_E_INVALID, -1, "unknown ArrayRecord option '%.*s'",
                              (int)(nn > 64 ? 64 : nn), item);
    if (ps->seen[id])
        return prw__error_set(err, PRW_E_INVALID, -1, "Option %s is present more than once",
                              g_names[id]);
    ps->seen[id] = true;
    long long lv;
    switch (id) {
    case OPT_DEFAULT:
        if (!first)
            return prw__error_set(err, PRW_E_INVALID, -1, "Option default must be first");
        if (has_value)
            return bad_value(err, "default", v, vn, "(none)");
        return PRW_OK;
    case OPT_GROUP_SIZE:
        if (!parse_int(v, vn, 1, INT32_MAX, &lv))
            return bad_value(err, "group_size", v, vn, "1..2147483647");
        ps->o.group_size = (uint32_t)lv;
        return PRW_OK;
    case OPT_MAX_PARALLELISM:
        if (value_is(v, vn, "auto"))
            ps->o.max_parallelism = 0;
        else if (parse_int(v, vn, 1, INT32_MAX, &lv))
            ps->o.max_parallelism = (int)lv;
        else
            return bad_value(err, "max_parallelism", v, vn, "auto, 1..2147483647");
        return PRW_OK;
    case OPT_SATURATION_DELAY:
        if (!parse_int(v, vn, 1, INT32_MAX, &lv))
            return bad_value(err, "saturation_delay_ms", v, vn, "1..2147483647");
        return PRW_OK;
    case OPT_WINDOW_LOG:
        if (ps->codec_opt == OPT_UNCOMPRESSED || ps->codec_opt == OPT_SNAPPY)
            return prw__error_set(err, PRW_E_INVALID, -1,
                                  "Option window_log conflicts with option %s",
                                  g_names[ps->codec_opt]);
        if (value_is(v, vn, "auto")) {
            ps->window_set = false;
        } else if (parse_int(v, vn, 10, 31, &lv)) {
            ps->window_set = true;
            ps->o.window_log = (int)lv;
        } else {
            return bad_value(err, "window_log", v, vn, "auto, 10..31");
        }
        return PRW_OK;
    case OPT_TRANSPOSE:
        if (!has_value || value_is(v, vn, "true") || vn == 0)
            return prw__error_set(err, PRW_E_UNSUPPORTED, -1,
                                  "ArrayRecord option transpose is unsupported (transposed "
                                  "chunks are not implemented); use transpose:false");
        if (!value_is(v, vn, "false"))
            return bad_value(err, "transpose", v, vn, "(none), true, false");
        return PRW_OK;
    case OPT_TRANSPOSE_BUCKET:
        if (!value_is(v, vn, "auto") && !parse_bytes(v, vn))
            return bad_value(err, "transpose_bucket_size", v, vn, "auto, bytes");
        return PRW_OK;
    case OPT_PAD:
        /* A bare pad_to_block_boundary means false since array_record's Dec 2025 change. */
        if (!has_value || vn == 0 || value_is(v, vn, "false"))
            ps->o.pad_to_block_boundary = false;
        else if (value_is(v, vn, "true"))
            ps->o.pad_to_block_boundary = true;
        else
            return bad_value(err, "pad_to_block_boundary", v, vn, "(none), true, false");
        return PRW_OK;
    default:
        return parse_compression(ps, id, v, vn, has_value, err);
    }
}

prw_status prw_ar_options_parse(const char *text, prw_ar_options *out, prw_error *err) {
    parse_state ps;
    memset(&ps, 0, sizeof ps);
    ps.o.group_size = 1;
    ps.o.compression = PRW_AR_ZSTD;
    ps.o.level = 3;
    ps.codec_opt = -1;
    const char *s = text ? text : "";
    bool first = true;
    for (;;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        if (n > 0)
            PRW_TRY(parse_item(&ps, s, n, first, err));
        first = false;
        if (!comma)
            break;
        s = comma + 1;
    }
    if (ps.o.compression == PRW_AR_BROTLI && ps.window_set && ps.o.window_log > 30)
        return prw__error_set(err, PRW_E_INVALID, -1,
                              "invalid ArrayRecord option window_log:%d for brotli (10..30)",
                              ps.o.window_log);
    if (ps.o.compression == PRW_AR_ZSTD) {
        ps.o.window_log_given = true;
        if (!ps.window_set)
            ps.o.window_log = 20;
    } else if (ps.o.compression == PRW_AR_BROTLI) {
        ps.o.window_log_given = ps.window_set;
        if (!ps.window_set)
            ps.o.window_log = 22;
    } else {
        ps.o.window_log = 0;
    }
    *out = ps.o;
    return PRW_OK;
}

size_t prw_ar_options_format(const prw_ar_options *o, char *buf, size_t cap) {
    char comp[32];
    switch (o->compression) {
    case PRW_AR_UNCOMPRESSED:
        snprintf(comp, sizeof comp, "uncompressed");
        break;
    case PRW_AR_BROTLI:
        snprintf(comp, sizeof comp, "brotli:%d", o->level);
        break;
    case PRW_AR_SNAPPY:
        snprintf(comp, sizeof comp, "snappy");
        break;
    default:
        snprintf(comp, sizeof comp, "zstd:%d", o->level);
        break;
    }
    char win[24] = "";
    if (o->window_log_given && o->window_log)
        snprintf(win, sizeof win, ",window_log:%d", o->window_log);
    int n =
        snprintf(buf, cap,
                 "group_size:%u,transpose:false,pad_to_block_boundary:%s,%s%s,"
                 "max_parallelism:1",
                 (unsigned)o->group_size, o->pad_to_block_boundary ? "true" : "false", comp, win);
    return n < 0 ? 0 : (size_t)n;
}

const char *prw_ar_compression_name(prw_ar_compression c) {
    switch (c) {
    case PRW_AR_UNCOMPRESSED:
        return "uncompressed";
    case PRW_AR_ZSTD:
        return "zstd";
    case PRW_AR_BROTLI:
        return "brotli";
    case PRW_AR_SNAPPY:
        return "snappy";
    }
    return "unknown";
}

prw__codec prw__ar_codec_of(prw_ar_compression c) {
    switch (c) {
    case PRW_AR_ZSTD:
        return PRW_CODEC_ZSTD;
    case PRW_AR_BROTLI:
        return PRW_CODEC_BROTLI;
    case PRW_AR_SNAPPY:
        return PRW_CODEC_SNAPPY;
    default:
        return PRW_CODEC_NONE;
    }
}

uint8_t prw__ar_comp_byte(prw_ar_compression c) {
    switch (c) {
    case PRW_AR_ZSTD:
        return AR_COMP_ZSTD;
    case PRW_AR_BROTLI:
        return AR_COMP_BROTLI;
    case PRW_AR_SNAPPY:
        return AR_COMP_SNAPPY;
    default:
        return AR_COMP_NONE;
    }
}
