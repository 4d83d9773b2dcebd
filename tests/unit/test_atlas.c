/*
 * Tests of the RIPE Atlas dump reader (src/atlas/): RIPE's real results
 * (../shared/testdata/atlas/, 3,061 results of 28 firmware versions, their raw fields in
 * expected.tsv) compressed on the fly with libbz2, zlib and libzstd; the generated fixtures of
 * every firmware generation with values computed by Python's json module
 * (tools/gen_atlas_fixtures.py); bad lines by reason; concatenated, truncated and corrupt
 * streams; over-long lines and piece boundaries; the JSON grammar.
 */
#include <bzlib.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <zlib.h>
#include <zstd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atlas/at_internal.h"
#include "harness.h"

#define FIX "tests/fixtures/atlas"

static void bprintf(prw__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(prw__buf *b, const char *fmt, ...) {
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        prw__buf_append(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1, NULL);
}

static void put_str(prw__buf *b, const int64_t *off, const uint8_t *bytes, const uint8_t *valid,
                    int64_t r) {
    if (valid && !valid[r])
        bprintf(b, "\\N");
    else
        prw__buf_append(b, bytes + off[r], (size_t)(off[r + 1] - off[r]), NULL);
}

/* Reads a dump into TSV text in the format of `atlas cat` (line numbers too with details). */
static prw_status read_all(const char *path, const prw_atlas_options *opt, prw__buf *out,
                           prw_atlas_stats *st, prw_error *err) {
    prw_atlas_reader *r = NULL;
    PRW_TRY(prw_atlas_reader_open(path, opt, &r, err));
    const prw_atlas_batch *b;
    prw_status s;
    while ((s = prw_atlas_reader_next(r, &b, err)) == PRW_OK) {
        for (int64_t i = 0; i < b->num_rows; i++) {
            if (b->line)
                bprintf(out, "%lld\t", (long long)b->line[i]);
            bprintf(out, "%lld\t", (long long)b->event_time[i]);
            put_str(out, b->src_offsets, b->src_bytes, NULL, i);
            bprintf(out, "\t");
            put_str(out, b->dst_offsets, b->dst_bytes, b->dst_valid, i);
            if (b->ip_valid[i])
                bprintf(out, "\t%d", b->ip_version[i]);
            else
                bprintf(out, "\t\\N");
            if (b->rtt_valid[i])
                bprintf(out, "\t%.17g\n", b->rtt[i]);
            else
                bprintf(out, "\t\\N\n");
        }
    }
    if (st)
        *st = *prw_atlas_reader_stats(r);
    prw_atlas_reader_close(r);
    return s < 0 ? s : PRW_OK;
}

/* ---- compressing on the fly ------------------------------------------------------------- */

/* Appends data[0, n) compressed as one bzip2 stream / gzip member / zstd frame. */
typedef bool (*compress_fn)(prw__buf *out, const uint8_t *d, size_t n);

static bool bz2_part(prw__buf *out, const uint8_t *d, size_t n) {
    unsigned cap = (unsigned)(n + n / 100 + 600);
    if (prw__buf_reserve(out, cap, NULL) < 0 ||
        BZ2_bzBuffToBuffCompress((char *)out->data + out->len, &cap, (char *)(uintptr_t)d,
                                 (unsigned)n, 9, 0, 0) != BZ_OK)
        return false;
    out->len += cap;
    return true;
}

static bool gz_part(prw__buf *out, const uint8_t *d, size_t n) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    size_t cap = deflateBound(&z, (uLong)n) + 64;
    bool ok = prw__buf_reserve(out, cap, NULL) == PRW_OK;
    z.next_in = (Bytef *)(uintptr_t)d;
    z.avail_in = (uInt)n;
    z.next_out = out->data + out->len;
    z.avail_out = (uInt)cap;
    ok = ok && deflate(&z, Z_FINISH) == Z_STREAM_END;
    out->len += ok ? cap - z.avail_out : 0;
    deflateEnd(&z);
    return ok;
}

static bool zst_part(prw__buf *out, const uint8_t *d, size_t n) {
    size_t cap = ZSTD_compressBound(n);
    /* with the content checksum, as the zstd command line writes it by default */
    ZSTD_CCtx *cx = ZSTD_createCCtx();
    bool ok = cx && prw__buf_reserve(out, cap, NULL) == PRW_OK &&
              !ZSTD_isError(ZSTD_CCtx_setParameter(cx, ZSTD_c_checksumFlag, 1));
    size_t k = ok ? ZSTD_compress2(cx, out->data + out->len, cap, d, n) : 0;
    ZSTD_freeCCtx(cx);
    ok = ok && !ZSTD_isError(k);
    out->len += ok ? k : 0;
    return ok;
}

/* d[0, n) cut into `parts` pieces, each compressed on its own, concatenated into `path`. */
static bool write_parts(const char *path, const uint8_t *d, size_t n, int parts, compress_fn fn) {
    prw__buf all;
    prw__buf_init(&all);
    size_t at = 0;
    bool ok = true;
    for (int k = 0; k < parts && ok; k++) {
        size_t part = k == parts - 1 ? n - at : n / (size_t)parts;
        ok = fn(&all, d + at, part);
        at += part;
    }
    ok = ok && th_write(path, all.data, all.len);
    prw__buf_cleanup(&all);
    return ok;
}

/* `src` written as plain, bzip2, gzip and zstd files (parts: streams/members/frames). */
static bool write_all_formats(const char *dir, const char *base, const uint8_t *d, size_t n,
                              int parts, const char *paths[4]) {
    paths[0] = th_fmt("%s/%s.jsonl", dir, base);
    paths[1] = th_fmt("%s/%s.bz2", dir, base);
    paths[2] = th_fmt("%s/%s.gz", dir, base);
    paths[3] = th_fmt("%s/%s.zst", dir, base);
    return th_write(paths[0], d, n) && write_parts(paths[1], d, n, parts, bz2_part) &&
           write_parts(paths[2], d, n, parts, gz_part) &&
           write_parts(paths[3], d, n, parts, zst_part);
}

/* ---- RIPE's real results ---------------------------------------------------------------- */

/* A text file as a NUL-terminated string owned by the harness, or NULL. */
static char *read_text(const char *path, size_t *len) {
    uint8_t *d = th_read(path, len);
    char *s = d ? malloc(*len + 1) : NULL, *r = NULL;
    if (s) {
        memcpy(s, d, *len);
        s[*len] = 0;
        r = th_fmt("%s", s);
        free(s);
    }
    return r;
}

/* Splits a TSV line into fields (in place); returns the count. */
static int split_tabs(char *line, char **f, int cap) {
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < cap; p++)
        if (*p == '\t') {
            *p = 0;
            f[n++] = p + 1;
        }
    return n;
}

enum { E_IDX, E_TS, E_SRC, E_DST, E_AF, E_AVG, E_MIN, E_MAX, E_SENT, E_RCVD, E_RTTS, E_NDUP };
enum { E_NERR = 13, E_FW = 14, E_PRB = 15, E_MSM = 16, E_ORIGIN = 19, E_NFIELDS = 33 };

/* The rows expected.tsv says proberows must give (with line numbers), and the keyless count. */
static bool expected_rows(const char *shared, int which, prw__buf *out, int64_t *keyless) {
    size_t n;
    char *t = read_text(th_fmt("%s/testdata/atlas/expected.tsv", shared), &n);
    if (!t)
        return false;
    char *save = NULL, *line = strtok_r(t, "\n", &save); /* the header */
    *keyless = 0;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        char *f[40];
        if (split_tabs(line, f, 40) < E_NFIELDS) {
            return false;
        }
        const char *src = which == 3 ? f[E_ORIGIN] : f[E_SRC];
        if (!*src) {
            ++*keyless;
            continue;
        }
        const char *rtt = which == 1 ? f[E_MIN] : which == 2 ? f[E_MAX] : f[E_AVG];
        bprintf(out, "%lld\t%lld000000\t%s\t%s\t%s\t", atoll(f[E_IDX]) + 1, atoll(f[E_TS]), src,
                *f[E_DST] ? f[E_DST] : "\\N", *f[E_AF] ? f[E_AF] : "\\N");
        if (*rtt)
            bprintf(out, "%.17g\n", strtod(rtt, NULL));
        else
            bprintf(out, "\\N\n");
    }
    return true;
}

TEST(atlas_real_results_every_format_and_option) {
    REQUIRE_SHARED(shared);
    size_t n;
    uint8_t *jsonl = th_read(th_fmt("%s/testdata/atlas/results.jsonl", shared), &n);
    ASSERT_TRUE(jsonl != NULL);
    const char *paths[4];
    ASSERT_TRUE(write_all_formats(th_tmpdir(), "real", jsonl, n, 1, paths));
    static const prw_atlas_options opts[4] = {
        {.details = true, .threads = 3},
        {.details = true, .rtt = PRW_ATLAS_RTT_MIN, .threads = 1},
        {.details = true, .rtt = PRW_ATLAS_RTT_MAX, .threads = 2},
        {.details = true, .src = PRW_ATLAS_SRC_FROM, .threads = 4}};
    for (int o = 0; o < 4; o++) {
        prw__buf want;
        prw__buf_init(&want);
        int64_t keyless;
        ASSERT_TRUE(expected_rows(shared, o, &want, &keyless));
        for (int f = 0; f < 4; f++) {
            prw__buf got;
            prw__buf_init(&got);
            prw_atlas_stats st;
            prw_error err;
            prw_error_clear(&err);
            ASSERT_OK(read_all(paths[f], &opts[o], &got, &st, &err), &err);
            if (got.len != want.len || memcmp(got.data, want.data, got.len) != 0) {
                th_write(th_fmt("%s.got", paths[f]), got.data, got.len);
                th_write(th_fmt("%s.want", paths[f]), want.data, want.len);
                th_note("option set %d: rows differ from expected.tsv, see %s.got/.want", o,
                        paths[f]);
            }
            ASSERT_EQ_I64(got.len, want.len);
            ASSERT_MEM_EQ(got.data, want.data, got.len);
            ASSERT_EQ_I64(st.lines, 3061);
            ASSERT_EQ_I64(st.dropped_no_src, keyless);
            ASSERT_EQ_I64(st.results + keyless, 3061);
            ASSERT_EQ_I64(st.bad_total, 0);
            prw__buf_cleanup(&got);
        }
        prw__buf_cleanup(&want);
    }
    th_note("3,061 real results x 4 formats x 4 option sets; keyless with src_addr: 8");
}

/* The packets of one parsed result as expected.tsv writes them: rtts, '*' timeout, 'e' error. */
static bool packets_match(const prw__at_ping *p, const char *want) {
    const char *w = want;
    for (int64_t k = 0; k < p->npkts; k++) {
        if (k && *w++ != ',')
            return false;
        const prw__at_pkt *x = &p->pkts[k];
        if (x->kind != PRW_AT_PKT_RTT) {
            if (*w++ != (x->kind == PRW_AT_PKT_TIMEOUT ? '*' : 'e'))
                return false;
            continue;
        }
        char *end;
        if (strtod(w, &end) != x->rtt || end == w)
            return false;
        w = end;
    }
    return *w == 0;
}

static bool num_is(bool has, const prw__at_num *v, const char *want) {
    return *want ? has && v->d == strtod(want, NULL) : !has;
}

TEST(atlas_real_results_every_field) {
    REQUIRE_SHARED(shared);
    size_t n, tn;
    uint8_t *jsonl = th_read(th_fmt("%s/testdata/atlas/results.jsonl", shared), &n);
    char *t = read_text(th_fmt("%s/testdata/atlas/expected.tsv", shared), &tn);
    uint8_t *scratch = malloc(n);
    bool ok = jsonl && t && scratch;
    prw__at_ping ping;
    memset(&ping, 0, sizeof ping);
    ping.want_pkts = true;
    prw_atlas_options opt = {0};
    char *save = NULL, *row = ok ? strtok_r(t, "\n", &save) : NULL;
    const uint8_t *p = jsonl, *end = jsonl + n;
    int64_t checked = 0, pkts = 0;
    while (ok && (row = strtok_r(NULL, "\n", &save)) != NULL && p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *f[40];
        ok = split_tabs(row, f, 40) >= E_NFIELDS;
        prw__at_row r;
        prw__at_json j;
        prw__at_outcome oc = prw__at_parse_line(p, len, scratch, &opt, &ping, &r, &j);
        ok = ok && oc == (*f[E_SRC] ? PRW_AT_ROW : PRW_AT_NO_SRC);
        ok = ok && num_is(ping.has_sent, &ping.sent, f[E_SENT]) &&
             num_is(ping.has_rcvd, &ping.rcvd, f[E_RCVD]) &&
             num_is(ping.has_min, &ping.min, f[E_MIN]) &&
             num_is(ping.has_max, &ping.max, f[E_MAX]) && num_is(ping.has_fw, &ping.fw, f[E_FW]) &&
             num_is(ping.has_prb_id, &ping.prb_id, f[E_PRB]) &&
             num_is(ping.has_msm_id, &ping.msm_id, f[E_MSM]);
        ok = ok && packets_match(&ping, f[E_RTTS]) && ping.ndup == atoll(f[E_NDUP]) &&
             ping.nerr == atoll(f[E_NERR]);
        if (!ok)
            th_note("expected.tsv index %s differs", f[E_IDX]);
        pkts += ping.npkts;
        checked++;
        p = nl ? nl + 1 : end;
    }
    prw__at_ping_cleanup(&ping);
    free(scratch);
    ASSERT_TRUE(ok);
    ASSERT_EQ_I64(checked, 3061);
    th_note("3,061 results, %lld packets: sent, rcvd, min, max, fw, prb_id, msm_id, rtts",
            (long long)pkts);
}

/* ---- generated fixtures (tools/gen_atlas_fixtures.py) ----------------------------------- */

static void strip_lines(prw__buf *b) { /* drops the leading line-number column */
    size_t w = 0;
    for (size_t r = 0; r < b->len;) {
        uint8_t *tab = memchr(b->data + r, '\t', b->len - r);
        uint8_t *nl = memchr(b->data + r, '\n', b->len - r);
        size_t from = (size_t)(tab - b->data) + 1, to = (size_t)(nl - b->data) + 1;
        memmove(b->data + w, b->data + from, to - from);
        w += to - from;
        r = to;
    }
    b->len = w;
}

TEST(atlas_fixtures_every_firmware_match_python) {
    size_t n;
    uint8_t *jsonl = th_read(FIX "/firmware.jsonl", &n);
    ASSERT_TRUE(jsonl != NULL);
    const char *paths[4];
    ASSERT_TRUE(write_all_formats(th_tmpdir(), "fw", jsonl, n, 3, paths));
    static const char *const golden[] = {FIX "/firmware.tsv", FIX "/firmware.max.tsv",
                                         FIX "/firmware.from.tsv"};
    static const prw_atlas_options opts[] = {{.threads = 2, .details = true},
                                             {.threads = 1, .rtt = PRW_ATLAS_RTT_MAX},
                                             {.threads = 3, .src = PRW_ATLAS_SRC_FROM}};
    for (int g = 0; g < 3; g++) {
        size_t wn;
        uint8_t *want = th_read(golden[g], &wn);
        ASSERT_TRUE(want != NULL);
        for (int f = 0; f < 4; f++) {
            prw__buf got;
            prw__buf_init(&got);
            prw_error err;
            prw_error_clear(&err);
            prw_atlas_stats st;
            ASSERT_OK(read_all(paths[f], &opts[g], &got, &st, &err), &err);
            if (opts[g].details)
                strip_lines(&got);
            ASSERT_EQ_I64(got.len, wn);
            ASSERT_MEM_EQ(got.data, want, wn);
            ASSERT_EQ_I64(st.bad_total, 0);
            ASSERT_EQ_I64(st.bytes_out, (int64_t)n);
            prw__buf_cleanup(&got);
        }
    }
}

/* Every line of bad.jsonl parsed alone: bad ones by the reason bad.expect gives. */
TEST(atlas_fixtures_bad_lines_by_reason) {
    size_t n, en;
    uint8_t *d = th_read(FIX "/bad.jsonl", &n);
    char *expect = read_text(FIX "/bad.expect", &en);
    ASSERT_TRUE(d && expect);
    uint8_t *scratch = malloc(n);
    ASSERT_TRUE(scratch != NULL);
    prw__at_ping ping;
    memset(&ping, 0, sizeof ping);
    prw_atlas_options opt = {0};
    const uint8_t *p = d, *end = d + n;
    int64_t line = 0, nbad = 0, off;
    long long eline = 0, eoff = 0;
    char ereason[32] = "";
    const char *e = expect;
    int consumed = 0;
    bool have = sscanf(e, "%lld %lld %31s%n", &eline, &eoff, ereason, &consumed) == 3;
    bool ok = true;
    while (p < end && ok) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        off = p - d;
        line++;
        prw__at_row r;
        prw__at_json j;
        prw__at_outcome oc = prw__at_parse_line(p, (size_t)(nl - p), scratch, &opt, &ping, &r, &j);
        if (have && line == eline) {
            ok = oc == PRW_AT_BAD && off == eoff && strcmp(prw_atlas_bad_name(j.bad), ereason) == 0;
            if (!ok)
                th_note("line %lld: got %d %s, want %s", (long long)line, oc,
                        oc == PRW_AT_BAD ? prw_atlas_bad_name(j.bad) : "-", ereason);
            nbad++;
            e += consumed;
            have = sscanf(e, "%lld %lld %31s%n", &eline, &eoff, ereason, &consumed) == 3;
        } else {
            ok = oc == PRW_AT_ROW || oc == PRW_AT_NO_SRC;
            if (!ok)
                th_note("line %lld: a good line was read as bad: %s", (long long)line, j.what);
        }
        p = nl + 1;
    }
    prw__at_ping_cleanup(&ping);
    free(scratch);
    ASSERT_TRUE(ok);
    ASSERT_TRUE(!have);
    ASSERT_EQ_I64(nbad, 26);

    /* through the reader: good rows as Python reads them, counts, the first five with where */
    prw__buf got;
    prw__buf_init(&got);
    prw_atlas_stats st;
    prw_error err;
    prw_error_clear(&err);
    prw_atlas_options o = {.threads = 2};
    ASSERT_OK(read_all(FIX "/bad.jsonl", &o, &got, &st, &err), &err);
    size_t wn;
    uint8_t *want = th_read(FIX "/bad.tsv", &wn);
    ASSERT_TRUE(want != NULL);
    ASSERT_EQ_I64(got.len, wn);
    ASSERT_MEM_EQ(got.data, want, wn);
    ASSERT_EQ_I64(st.bad_total, 26);
    ASSERT_EQ_I64(st.lines, line);
    ASSERT_EQ_I64(st.results + st.dropped_no_src + st.bad_total + st.blank_lines, st.lines);
    ASSERT_EQ_I64(st.nfirst_bad, PRW_ATLAS_FIRST_BAD);
    e = expect;
    for (int k = 0; k < PRW_ATLAS_FIRST_BAD; k++) {
        ASSERT_TRUE(sscanf(e, "%lld %lld %31s%n", &eline, &eoff, ereason, &consumed) == 3);
        e += consumed;
        ASSERT_EQ_I64(st.first_bad[k].line, eline);
        ASSERT_EQ_I64(st.first_bad[k].offset, eoff);
        ASSERT_EQ_STR(prw_atlas_bad_name(st.first_bad[k].reason), ereason);
        ASSERT_TRUE(st.first_bad[k].what[0] != 0);
    }
    prw__buf_cleanup(&got);

    /* strict: the first bad line is an error naming the file and the line */
    o.strict = true;
    prw__buf_init(&got);
    ASSERT_ERR(read_all(FIX "/bad.jsonl", &o, &got, &st, &err), PRW_E_CORRUPT);
    ASSERT_TRUE(strstr(err.msg, "bad.jsonl: line 6: malformed_json") != NULL);
    ASSERT_TRUE(err.offset > 2266 && err.offset < 2400);
    prw__buf_cleanup(&got);
}

/* ---- streams: truncated, corrupt, trailing bytes, Parquet ------------------------------- */

TEST(atlas_streams_truncated_or_corrupt_are_errors) {
    size_t n;
    uint8_t *jsonl = th_read(FIX "/firmware.jsonl", &n);
    ASSERT_TRUE(jsonl != NULL);
    const char *dir = th_tmpdir(), *paths[4];
    ASSERT_TRUE(write_all_formats(dir, "s", jsonl, n, 2, paths));
    static const char *const fmt[4] = {"json", "bzip2", "gzip", "zstd"};
    for (int f = 1; f < 4; f++) {
        size_t cn;
        uint8_t *c = th_read(paths[f], &cn);
        ASSERT_TRUE(c != NULL);
        const char *cut = th_fmt("%s/cut.%s", dir, fmt[f]);
        const char *flip = th_fmt("%s/flip.%s", dir, fmt[f]);
        const char *tail = th_fmt("%s/tail.%s", dir, fmt[f]);
        ASSERT_TRUE(th_write(cut, c, cn - 7));
        uint8_t *x = malloc(cn + 8);
        ASSERT_TRUE(x != NULL);
        memcpy(x, c, cn);
        x[cn / 3] ^= 0x5a;
        ASSERT_TRUE(th_write(flip, x, cn));
        memcpy(x, c, cn);
        memcpy(x + cn, "garbage!", 8);
        ASSERT_TRUE(th_write(tail, x, cn + 8));
        free(x);
        const char *cases[3] = {cut, flip, tail};
        for (int k = 0; k < 3; k++) {
            prw__buf got;
            prw__buf_init(&got);
            prw_error err;
            prw_error_clear(&err);
            prw_atlas_options o = {.threads = 2};
            prw_status st = read_all(cases[k], &o, &got, NULL, &err);
            prw__buf_cleanup(&got);
            if (st >= 0)
                th_note("%s was read without an error", cases[k]);
            ASSERT_TRUE(st < 0);
            ASSERT_TRUE(strstr(err.msg, cases[k]) != NULL);
            ASSERT_TRUE(strstr(err.msg, fmt[f]) != NULL);
            ASSERT_TRUE(err.offset >= 0 && err.offset <= (int64_t)cn + 8);
            if (k == 0)
                ASSERT_TRUE(st == PRW_E_TRUNCATED || st == PRW_E_CORRUPT);
        }
    }
    /* a Parquet file is not a dump */
    prw_atlas_reader *r = NULL;
    prw_error err;
    prw_error_clear(&err);
    ASSERT_ERR(prw_atlas_reader_open("tests/fixtures/nulls.parquet", NULL, &r, &err),
               PRW_E_INVALID);
    ASSERT_TRUE(strstr(err.msg, "Parquet") != NULL);
    ASSERT_ERR(prw_atlas_reader_open(th_fmt("%s/missing", dir), NULL, &r, &err), PRW_E_IO);
}

TEST(atlas_detect_by_content) {
    static const struct {
        const char *bytes;
        size_t n;
        prw_atlas_format want;
    } cases[] = {
        {"BZh91AY&SY", 10, PRW_ATLAS_FMT_BZIP2},
        {"BZh1\x17\x72\x45\x38\x50\x90", 10, PRW_ATLAS_FMT_BZIP2}, /* an empty stream */
        {"BZh0\x31\x41\x59\x26\x53\x59", 10, PRW_ATLAS_FMT_JSON},  /* no such level */
        {"BZh9 not a block", 16, PRW_ATLAS_FMT_JSON},
        {"\x1f\x8b\x08\x00", 4, PRW_ATLAS_FMT_GZIP},
        {"\x28\xb5\x2f\xfd\x00", 5, PRW_ATLAS_FMT_ZSTD},
        {"PAR1\x15\x04", 6, PRW_ATLAS_FMT_PARQUET},
        {"{\"af\":4}", 8, PRW_ATLAS_FMT_JSON},
        {"", 0, PRW_ATLAS_FMT_JSON},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        ASSERT_EQ_I64(prw_atlas_detect((const uint8_t *)cases[i].bytes, cases[i].n), cases[i].want);
    ASSERT_EQ_STR(prw_atlas_format_name(PRW_ATLAS_FMT_ZSTD), "zstd");
    prw_atlas_format f;
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(prw_atlas_detect_file("examples/ping-2024-03-01T0000.bz2", &f, &err), &err);
    ASSERT_EQ_I64(f, PRW_ATLAS_FMT_BZIP2);
    ASSERT_OK(prw_atlas_detect_file("examples/pings-000.parquet", &f, &err), &err);
    ASSERT_EQ_I64(f, PRW_ATLAS_FMT_PARQUET);
    /* an empty file is an empty dump */
    const char *empty = th_fmt("%s/empty", th_tmpdir());
    ASSERT_TRUE(th_write(empty, "", 0));
    prw__buf got;
    prw__buf_init(&got);
    prw_atlas_stats st;
    ASSERT_OK(read_all(empty, NULL, &got, &st, &err), &err);
    ASSERT_EQ_I64(got.len, 0);
    ASSERT_EQ_I64(st.lines, 0);
}

/* ---- piece boundaries, over-long lines, threads ----------------------------------------- */

/* A line of exactly `len` bytes: a valid result padded with an unknown string value. */
static void padded_line(prw__buf *b, int64_t i, size_t len, bool crlf) {
    char head[160];
    int n = snprintf(head, sizeof head,
                     "{\"timestamp\":%lld,\"src_addr\":\"10.%d.%d.1\",\"avg\":%lld.25,\"pad\":\"",
                     (long long)(1700000000 + i % 977), (int)(i % 7), (int)(i % 11), (long long)i);
    size_t fixed = (size_t)n + 2 + (crlf ? 1 : 0);
    prw__buf_append(b, head, (size_t)n, NULL);
    for (size_t k = fixed; k < len; k++)
        prw__buf_append_u8(b, 'a' + (uint8_t)(k % 26), NULL);
    prw__buf_append(b, crlf ? "\"}\r" : "\"}", crlf ? 3 : 2, NULL);
}

TEST(atlas_pieces_long_lines_and_threads) {
    prw__buf in, want;
    prw__buf_init(&in);
    prw__buf_init(&want);
    int64_t line = 0, nlong = 0, first_long_line = 0, first_long_off = -1;
    uint64_t rng = 18;
    while (in.len < (9u << 20)) {
        line++;
        uint64_t r = th_rand(&rng) % 1000;
        size_t len = r < 3   ? PRW_ATLAS_MAX_LINE + 1 + (size_t)(th_rand(&rng) % (3u << 20))
                     : r < 6 ? PRW_ATLAS_MAX_LINE
                             : 60 + (size_t)(th_rand(&rng) % 3000);
        bool crlf = r % 5 == 0;
        int64_t off = (int64_t)in.len;
        padded_line(&in, line, len, crlf);
        prw__buf_append_u8(&in, '\n', NULL);
        if (len > PRW_ATLAS_MAX_LINE) {
            if (nlong++ == 0) {
                first_long_line = line;
                first_long_off = off;
            }
            continue;
        }
        bprintf(&want, "%lld\t%lld000000\t10.%d.%d.1\t\\N\t\\N\t%.17g\n", (long long)line,
                (long long)(1700000000 + line % 977), (int)(line % 7), (int)(line % 11),
                (double)line + 0.25);
    }
    padded_line(&in, ++line, PRW_ATLAS_MAX_LINE + 10, false); /* the file ends in a long line */
    nlong++;
    const char *paths[4];
    ASSERT_TRUE(write_all_formats(th_tmpdir(), "big", in.data, in.len, 2, paths));
    int threads[] = {1, 4};
    for (int f = 0; f < 4; f += 1) {
        for (int t = 0; t < 2; t++) {
            prw__buf got;
            prw__buf_init(&got);
            prw_atlas_stats st;
            prw_error err;
            prw_error_clear(&err);
            prw_atlas_options o = {.threads = threads[t], .details = true};
            ASSERT_OK(read_all(paths[f], &o, &got, &st, &err), &err);
            ASSERT_EQ_I64(got.len, want.len);
            ASSERT_MEM_EQ(got.data, want.data, want.len);
            ASSERT_EQ_I64(st.lines, line);
            ASSERT_EQ_I64(st.bad[PRW_ATLAS_BAD_LONG], nlong);
            ASSERT_EQ_I64(st.bad_total, nlong);
            ASSERT_EQ_I64(st.first_bad[0].line, first_long_line);
            ASSERT_EQ_I64(st.first_bad[0].offset, first_long_off);
            ASSERT_EQ_I64(st.bytes_out, (int64_t)in.len);
            prw__buf_cleanup(&got);
        }
    }
    th_note("%lld lines, %lld over 1 MiB, %zu bytes", (long long)line, (long long)nlong, in.len);
    prw__buf_cleanup(&in);
    prw__buf_cleanup(&want);
}

/* A dump cut short, or written to in place, by another process while it is read: the bytes read
 * may be of two versions, or zeros where the mapping lost its pages (prw_guard_mapped_reads), so
 * whatever the decoder made of them, the read fails naming the change. */
TEST(atlas_dump_changed_while_read_fails) {
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(prw_guard_mapped_reads(&err), &err);
    prw__buf in;
    prw__buf_init(&in);
    for (int64_t i = 1; in.len < (12u << 20); i++) {
        padded_line(&in, i, 160 + (size_t)(i % 97), false);
        prw__buf_append_u8(&in, '\n', NULL);
    }
    const char *dir = th_tmpdir(), *paths[4];
    ASSERT_TRUE(write_all_formats(dir, "d", in.data, in.len, 2, paths));
    prw__buf_cleanup(&in);
    for (int f = 0; f < 4; f++) {
        for (int cut = 0; cut < 2; cut++) {
            const char *path = th_fmt("%s/x%d", dir, f);
            ASSERT_EQ_I64(th_sh(th_fmt("cp %s %s", paths[f], path)), 0);
            /* an old modification time, so a write changes it even within one clock tick */
            const struct timespec old[2] = {{0, UTIME_OMIT}, {946684800, 0}};
            ASSERT_TRUE(utimensat(AT_FDCWD, path, old, 0) == 0);
            struct stat sb;
            ASSERT_TRUE(stat(path, &sb) == 0);
            prw_atlas_options o = {.threads = 1, .max_memory = 4u << 20};
            prw_atlas_reader *r = NULL;
            ASSERT_OK(prw_atlas_reader_open(path, &o, &r, &err), &err);
            const prw_atlas_batch *b;
            ASSERT_OK(prw_atlas_reader_next(r, &b, &err), &err);
            if (cut) {
                ASSERT_TRUE(truncate(path, sb.st_size / 3) == 0);
            } else {
                int fd = open(path, O_RDWR);
                uint8_t c;
                ASSERT_TRUE(fd >= 0 && pread(fd, &c, 1, 4) == 1 && pwrite(fd, &c, 1, 4) == 1);
                close(fd);
            }
            prw_status st;
            while ((st = prw_atlas_reader_next(r, &b, &err)) == PRW_OK)
                ;
            prw_atlas_reader_close(r);
            ASSERT_ERR(st, PRW_E_IO);
            const char *want =
                cut ? th_fmt("x%d changed while it was read: %lld bytes when opened, "
                             "%lld now",
                             f, (long long)sb.st_size, (long long)sb.st_size / 3)
                    : th_fmt("x%d changed while it was read: written to since", f);
            if (!strstr(err.msg, want))
                th_note("%s", err.msg);
            ASSERT_TRUE(strstr(err.msg, want) != NULL);
        }
    }
}

/* ---- small inputs ------------------------------------------------------------------------ */

static _Atomic size_t g_largest; /* the largest single allocation while installed */
static void *largest_realloc(void *ctx, void *p, size_t n) {
    (void)ctx;
    size_t cur = atomic_load(&g_largest);
    while (n > cur && !atomic_compare_exchange_weak(&g_largest, &cur, n))
        ;
    return realloc(p, n);
}
static void largest_free(void *ctx, void *p) {
    (void)ctx;
    free(p);
}

/* Threads of this process now, from /proc/self/status (-1 if unknown). */
static int threads_now(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    if (f)
        fclose(f);
    return n;
}

TEST(atlas_small_input_small_buffers_no_threads) {
    /* A dump of 40 lines, plain and as one bzip2 block, read with 2 threads: no allocation
     * near the 5 MiB piece, the 1 MiB carry or the 4.5 MB bzip2 work area, and no thread
     * started while it is read (one piece, one block: nothing to do in parallel). */
    prw__buf text, bz;
    prw__buf_init(&text);
    prw__buf_init(&bz);
    for (int i = 0; i < 40; i++)
        bprintf(&text,
                "{\"fw\":5020,\"timestamp\":%d,\"src_addr\":\"10.0.0.%d\",\"dst_addr\":"
                "\"10.1.0.1\",\"af\":4,\"avg\":1.5,\"type\":\"ping\"}\n",
                1600000000 + i, i);
    ASSERT_TRUE(bz2_part(&bz, text.data, text.len));
    const prw__buf *inputs[] = {&text, &bz};
    prw_allocator a = {largest_realloc, largest_free, NULL};
    for (int k = 0; k < 2; k++) {
        int before = threads_now();
        atomic_store(&g_largest, 0);
        prw_set_allocator(&a);
        prw_atlas_options o = {.threads = 2};
        prw_atlas_reader *r = NULL;
        prw_error err;
        prw_status st =
            prw__at_reader_open_mem(inputs[k]->data, inputs[k]->len, "small", &o, &r, &err);
        const prw_atlas_batch *b;
        int during = -1;
        int64_t rows = 0;
        while (st == PRW_OK && (st = prw_atlas_reader_next(r, &b, &err)) == PRW_OK) {
            rows += b->num_rows;
            during = threads_now();
        }
        int64_t lines = r ? prw_atlas_reader_stats(r)->lines : -1;
        prw_atlas_reader_close(r);
        prw_set_allocator(NULL);
        size_t largest = atomic_load(&g_largest);
        th_note("%s: largest allocation %zu bytes, threads %d -> %d", k ? "bzip2" : "plain",
                largest, before, during);
        ASSERT_ERR(st, PRW_DONE);
        ASSERT_EQ_I64(lines, 40);
        ASSERT_EQ_I64(rows, 40);
        ASSERT_TRUE(largest <= (256u << 10));
        ASSERT_EQ_I64(during, before);
    }
    prw__buf_cleanup(&text);
    prw__buf_cleanup(&bz);
}
