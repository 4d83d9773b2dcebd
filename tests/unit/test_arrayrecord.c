/*
 * ArrayRecord tests: hash vectors, options grammar, every golden and real file against its
 * .records.txt (length + sha256 of each record, as Google's reader returns them), re-packing
 * the golden records (byte-identical when uncompressed), writer/reader round trips across
 * codecs, group sizes and thread counts, and must-fail cases: truncation at structural
 * boundaries, single-bit flips in headers, hashes, footer and postscript, a full disk, an
 * oversized record and failing allocations.
 */
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "arrayrecord/ar_internal.h"
#include "common/io.h"
#include "harness.h"
#include "proberows/arrayrecord.h"

/* ---- sha256 (FIPS 180-4), test code only ------------------------------------------------ */

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t ror(uint32_t x, int n) {
    return (x >> n) | (x << (32 - n));
}

static void sha256_block(uint32_t h[8], const uint8_t *p) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 =
            k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

static void sha256_hex(const uint8_t *data, size_t n, char out[65]) {
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    size_t full = n / 64 * 64;
    for (size_t i = 0; i < full; i += 64)
        sha256_block(h, data + i);
    uint8_t tail[128] = {0};
    size_t rest = n - full;
    memcpy(tail, data + full, rest);
    tail[rest] = 0x80;
    size_t tl = rest + 9 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)n * 8;
    for (int i = 0; i < 8; i++)
        tail[tl - 1 - i] = (uint8_t)(bits >> (8 * i));
    sha256_block(h, tail);
    if (tl == 128)
        sha256_block(h, tail + 64);
    for (int i = 0; i < 8; i++)
        snprintf(out + 8 * i, 9, "%08x", h[i]);
}

TEST(ar_sha256_selftest) {
    char hex[65];
    sha256_hex((const uint8_t *)"abc", 3, hex);
    ASSERT_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha256_hex((const uint8_t *)"", 0, hex);
    ASSERT_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_hex((const uint8_t *)m, strlen(m), hex);
    ASSERT_EQ_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* ---- hashing and layout primitives ------------------------------------------------------ */

TEST(ar_hash_vectors) {
    ASSERT_EQ_U64(prw__ar_hash("", 0), 0x72c3b1e9c0139fe1ull);
    ASSERT_EQ_U64(prw__ar_hash("a", 1), 0x24793c7da388949full);
    ASSERT_EQ_U64(prw__ar_hash("abc", 3), 0x672fe946c18d0ed9ull);
    ASSERT_EQ_U64(prw__ar_hash("Riegeli/records\n", 16), 0x47a540ad74baa8caull);
    uint8_t z[100], seq[64];
    memset(z, 0, sizeof z);
    ASSERT_EQ_U64(prw__ar_hash(z, 16), 0x6700dec24d16c530ull);
    ASSERT_EQ_U64(prw__ar_hash(z, 32), 0xfb68d00fe89ccb94ull);
    memset(z, 'x', 33);
    ASSERT_EQ_U64(prw__ar_hash(z, 33), 0xda8b8d5a9d5a42daull);
    memset(z, 0x5a, 100);
    ASSERT_EQ_U64(prw__ar_hash(z, 100), 0x203484078d3824dfull);
    for (int i = 0; i < 64; i++)
        seq[i] = (uint8_t)i;
    ASSERT_EQ_U64(prw__ar_hash(seq, 1), 0x2cd57bc47907559dull);
    ASSERT_EQ_U64(prw__ar_hash(seq, 7), 0x81d00cb703e09f52ull);
    ASSERT_EQ_U64(prw__ar_hash(seq, 31), 0x4d262a709c34ae7dull);
    ASSERT_EQ_U64(prw__ar_hash(seq, 64), 0xe34b1e100f1322afull);
}

TEST(ar_chunk_end_formula) {
    /* golden empty_records_group1000: 1000 empty records, data_size 33 at 64 -> 1064 */
    ASSERT_EQ_U64(prw__ar_chunk_end(64, 33, 1000), 1064);
    /* tiny_uncompressed: "abc" chunk at 64 (data 6) ends at 110 */
    ASSERT_EQ_U64(prw__ar_chunk_end(64, 6, 1), 110);
    /* a chunk at a boundary counts its block header */
    ASSERT_EQ_U64(prw__ar_chunk_end(65536, 44, 3), 65536 + 24 + 84);
    /* a chunk crossing a boundary gains a block header */
    ASSERT_EQ_U64(prw__ar_chunk_end(65500, 100, 1), 65500 + 140 + 24);
    /* never ends inside a block header: 65536+1..24 moves to 65536+25 */
    ASSERT_EQ_U64(prw__ar_chunk_end(65000, 0, 540), 65536 + 25);
}

/* ---- options ---------------------------------------------------------------------------- */

static bool fmt_is(const char *in, const char *want) {
    prw_ar_options o;
    char buf[PRW_AR_OPTIONS_MAX];
    if (prw_ar_options_parse(in, &o, NULL) < 0)
        return false;
    prw_ar_options_format(&o, buf, sizeof buf);
    if (strcmp(buf, want) != 0) {
        th_note("options '%s' -> '%s', expected '%s'", in ? in : "(null)", buf, want);
        return false;
    }
    return true;
}

TEST(ar_options_canonical) {
    const char *def = "group_size:1,transpose:false,pad_to_block_boundary:false,zstd:3,"
                      "window_log:20,max_parallelism:1";
    ASSERT_TRUE(fmt_is(NULL, def));
    ASSERT_TRUE(fmt_is("", def));
    ASSERT_TRUE(fmt_is("default", def));
    ASSERT_TRUE(fmt_is("zstd", def));
    ASSERT_TRUE(fmt_is("zstd:3", def));
    ASSERT_TRUE(fmt_is(",,zstd:3,,", def));
    ASSERT_TRUE(fmt_is("window_log:auto", def));
    ASSERT_TRUE(fmt_is("max_parallelism:auto,saturation_delay_ms:5", def));
    ASSERT_TRUE(fmt_is("max_parallelism:8", def));
    ASSERT_TRUE(fmt_is("transpose:false,transpose_bucket_size:1k", def));
    ASSERT_TRUE(fmt_is("pad_to_block_boundary", def));
    ASSERT_TRUE(fmt_is("uncompressed", "group_size:1,transpose:false,pad_to_block_boundary:"
                                       "false,uncompressed,max_parallelism:1"));
    ASSERT_TRUE(fmt_is("uncompressed,group_size:10", "group_size:10,transpose:false,"
                                                     "pad_to_block_boundary:false,"
                                                     "uncompressed,max_parallelism:1"));
    ASSERT_TRUE(fmt_is("brotli:6", "group_size:1,transpose:false,pad_to_block_boundary:false,"
                                   "brotli:6,max_parallelism:1"));
    ASSERT_TRUE(fmt_is("brotli", "group_size:1,transpose:false,pad_to_block_boundary:false,"
                                 "brotli:6,max_parallelism:1"));
    ASSERT_TRUE(fmt_is("brotli:0,window_log:24",
                       "group_size:1,transpose:false,pad_to_block_boundary:false,brotli:0,"
                       "window_log:24,max_parallelism:1"));
    ASSERT_TRUE(fmt_is("snappy", "group_size:1,transpose:false,pad_to_block_boundary:false,"
                                 "snappy,max_parallelism:1"));
    ASSERT_TRUE(fmt_is("pad_to_block_boundary:true,group_size:4",
                       "group_size:4,transpose:false,pad_to_block_boundary:true,zstd:3,"
                       "window_log:20,max_parallelism:1"));
    ASSERT_TRUE(fmt_is("zstd:-5,window_log:27",
                       "group_size:1,transpose:false,pad_to_block_boundary:false,zstd:-5,"
                       "window_log:27,max_parallelism:1"));
    prw_ar_options o;
    ASSERT_OK(prw_ar_options_parse("group_size:65536,max_parallelism:3", &o, NULL), NULL);
    ASSERT_EQ_I64(o.group_size, 65536);
    ASSERT_EQ_I64(o.max_parallelism, 3);
}

TEST(ar_options_errors) {
    static const struct {
        const char *s;
        prw_status code;
        const char *msg;
    } bad[] = {
        {"zstd,brotli", PRW_E_INVALID, "Option brotli conflicts with option zstd"},
        {"uncompressed,window_log:20", PRW_E_INVALID, "conflicts"},
        {"window_log:20,snappy", PRW_E_INVALID, "conflicts"},
        {"group_size:0", PRW_E_INVALID, "group_size"},
        {"group_size:2147483648", PRW_E_INVALID, "group_size"},
        {"group_size:x", PRW_E_INVALID, "group_size"},
        {"group_size:", PRW_E_INVALID, "group_size"},
        {"group_size:1,group_size:2", PRW_E_INVALID, "more than once"},
        {"frobnicate", PRW_E_INVALID, "unknown"},
        {"zstd,default", PRW_E_INVALID, "must be first"},
        {"zstd:23", PRW_E_INVALID, "zstd"},
        {"brotli:12", PRW_E_INVALID, "brotli"},
        {"brotli,window_log:31", PRW_E_INVALID, "window_log"},
        {"window_log:9", PRW_E_INVALID, "window_log"},
        {"pad_to_block_boundary:yes", PRW_E_INVALID, "pad_to_block_boundary"},
        {"max_parallelism:0", PRW_E_INVALID, "max_parallelism"},
        {"uncompressed:1", PRW_E_INVALID, "uncompressed"},
        {"transpose", PRW_E_UNSUPPORTED, "unsupported"},
        {"transpose:true", PRW_E_UNSUPPORTED, "unsupported"},
        {"transpose:maybe", PRW_E_INVALID, "transpose"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        prw_ar_options o;
        prw_error err;
        prw_error_clear(&err);
        prw_status st = prw_ar_options_parse(bad[i].s, &o, &err);
        if (st != bad[i].code || !strstr(err.msg, bad[i].msg))
            th_note("'%s' gave %d '%s'", bad[i].s, st, err.msg);
        ASSERT_ERR(st, bad[i].code);
        ASSERT_TRUE(strstr(err.msg, bad[i].msg) != NULL);
    }
}

/* ---- golden and real files -------------------------------------------------------------- */

/* Checks every record of an open reader against NAME.records.txt. */
static bool check_records(prw_ar_reader *r, const char *txt_path) {
    size_t len;
    char *txt = (char *)th_read(txt_path, &len);
    if (!txt)
        return th_note("cannot read %s", txt_path), false;
    char *save = NULL, *line = strtok_r(txt, "\n", &save);
    unsigned long long n = 0;
    if (!line || sscanf(line, "records %llu", &n) != 1)
        return th_note("%s: bad first line", txt_path), false;
    if (prw_ar_reader_num_records(r) != n)
        return th_note("%s: %llu records, expected %llu", txt_path,
                       (unsigned long long)prw_ar_reader_num_records(r), n),
               false;
    for (uint64_t i = 0; i < n; i++) {
        line = strtok_r(NULL, "\n", &save);
        unsigned long long idx, rlen;
        char want[65], got[65];
        if (!line || sscanf(line, "%llu %llu %64s", &idx, &rlen, want) != 3 || idx != i)
            return th_note("%s: bad line for record %llu", txt_path, (unsigned long long)i), false;
        prw_bytes b;
        prw_error err;
        prw_error_clear(&err);
        if (prw_ar_reader_next(r, &b, &err) != PRW_OK)
            return th_note("%s: record %llu: %s", txt_path, (unsigned long long)i, err.msg), false;
        sha256_hex(b.ptr, b.len, got);
        if (b.len != rlen || strcmp(got, want) != 0)
            return th_note("%s: record %llu differs", txt_path, (unsigned long long)i), false;
    }
    prw_bytes b;
    return prw_ar_reader_next(r, &b, NULL) == PRW_DONE;
}

static const char *const g_real[] = {"c4-train.array_record-00000-of-00008",
                                     "c4-validation.array_record-00000-of-00002",
                                     "c4-validation.array_record-00001-of-00002"};

typedef struct golden_case {
    char name[64];
    char options[96];
} golden_case;

/* Reads golden/cases.tsv (name TAB options TAB ...); returns the number of cases. */
static size_t load_cases(const char *dir, golden_case *cases, size_t max) {
    size_t len;
    char *tsv = (char *)th_read(th_fmt("%s/testdata/arrayrecord/golden/cases.tsv", dir), &len);
    if (!tsv)
        return 0;
    size_t n = 0;
    char *save = NULL;
    char *line = strtok_r(tsv, "\n", &save); /* header */
    while ((line = strtok_r(NULL, "\n", &save)) != NULL && n < max) {
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        char *tab2 = strchr(tab + 1, '\t');
        snprintf(cases[n].name, sizeof cases[n].name, "%.*s", (int)(tab - line), line);
        snprintf(cases[n].options, sizeof cases[n].options, "%.*s",
                 (int)(tab2 ? tab2 - tab - 1 : 0), tab + 1);
        n++;
    }
    return n;
}

TEST(ar_golden_files_read) {
    REQUIRE_SHARED(dir);
    golden_case cases[64];
    size_t n = load_cases(dir, cases, 64);
    ASSERT_TRUE(n >= 17);
    for (size_t i = 0; i < n; i++) {
        const char *path =
            th_fmt("%s/testdata/arrayrecord/golden/%s.array_record", dir, cases[i].name);
        prw_ar_reader *r;
        prw_error err;
        prw_error_clear(&err);
        ASSERT_OK(prw_ar_reader_open(&r, path, &err), &err);
        if (strcmp(cases[i].name, "transposed_small") == 0) {
            prw_bytes b;
            prw_status st = prw_ar_reader_read(r, 0, &b, &err);
            prw_ar_reader_close(r);
            ASSERT_ERR(st, PRW_E_UNSUPPORTED);
            ASSERT_TRUE(strstr(err.msg, "transposed") != NULL);
            ASSERT_EQ_I64(err.offset, 64);
            continue;
        }
        bool ok = check_records(
            r, th_fmt("%s/testdata/arrayrecord/golden/%s.records.txt", dir, cases[i].name));
        prw_ar_reader_close(r);
        if (!ok)
            th_note("golden %s", cases[i].name);
        ASSERT_TRUE(ok);
        prw_ar_verify_stats vs;
        ASSERT_OK(prw_ar_verify(path, &vs, &err), &err);
    }
    for (size_t i = 0; i < sizeof g_real / sizeof g_real[0]; i++) {
        const char *path = th_fmt("%s/testdata/arrayrecord/real/%s", dir, g_real[i]);
        prw_ar_reader *r;
        prw_error err;
        prw_error_clear(&err);
        ASSERT_OK(prw_ar_reader_open(&r, path, &err), &err);
        ASSERT_EQ_STR(prw_ar_reader_options(r),
                      "group_size:1,transpose:false,pad_to_block_boundary:false,zstd:3,"
                      "window_log:20,max_parallelism:1");
        bool ok = check_records(r, th_fmt("%s.records.txt", path));
        prw_ar_reader_close(r);
        ASSERT_TRUE(ok);
        ASSERT_OK(prw_ar_verify(path, NULL, &err), &err);
    }
}

TEST(ar_golden_metadata) {
    REQUIRE_SHARED(dir);
    prw_ar_reader *r;
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(
        prw_ar_reader_open(
            &r, th_fmt("%s/testdata/arrayrecord/golden/padded_group4.array_record", dir), &err),
        &err);
    ASSERT_EQ_U64(prw_ar_reader_num_records(r), 40);
    ASSERT_EQ_U64(prw_ar_reader_num_chunks(r), 10);
    ASSERT_EQ_U64(prw_ar_reader_group_size(r), 4);
    ASSERT_EQ_I64(prw_ar_reader_compression(r), PRW_AR_ZSTD);
    ASSERT_EQ_U64(prw_ar_reader_file_size(r), 786432);
    /* random access in any order gives the same bytes as sequential reading */
    prw_bytes a, b;
    ASSERT_OK(prw_ar_reader_read(r, 37, &a, &err), &err);
    size_t alen = a.len;
    uint8_t *copy = malloc(alen ? alen : 1);
    memcpy(copy, a.ptr, alen);
    ASSERT_OK(prw_ar_reader_read(r, 2, &b, &err), &err);
    ASSERT_OK(prw_ar_reader_read(r, 37, &b, &err), &err);
    bool same = b.len == alen && memcmp(b.ptr, copy, alen) == 0;
    free(copy);
    ASSERT_TRUE(same);
    ASSERT_ERR(prw_ar_reader_read(r, 40, &b, &err), PRW_E_INVALID);
    ASSERT_ERR(prw_ar_reader_seek(r, 41, &err), PRW_E_INVALID);
    prw_ar_reader_close(r);
}

/* Collects all records of a reader into one buffer with u32 framing. */
static bool collect(prw_ar_reader *r, prw__buf *out) {
    prw_bytes b;
    prw_status st;
    prw_error err;
    prw_error_clear(&err);
    if (prw_ar_reader_seek(r, 0, &err) < 0)
        return false;
    while ((st = prw_ar_reader_next(r, &b, &err)) == PRW_OK) {
        uint8_t hdr[4];
        prw__store_le32(hdr, (uint32_t)b.len);
        if (prw__buf_append(out, hdr, 4, NULL) < 0 || prw__buf_append(out, b.ptr, b.len, NULL) < 0)
            return false;
    }
    if (st != PRW_DONE)
        th_note("collect: %s", err.msg);
    return st == PRW_DONE;
}

/* Writes framed records to path with the given options and thread count. */
static prw_status pack(const char *path, const char *options, int threads, const prw__buf *rec,
                       prw_error *err) {
    prw_ar_options o;
    PRW_TRY(prw_ar_options_parse(options, &o, err));
    prw_ar_writer *w;
    PRW_TRY(prw_ar_writer_open_opts(&w, path, &o, threads, err));
    for (size_t p = 0; p < rec->len;) {
        uint32_t n = prw__load_le32(rec->data + p);
        prw_status st = prw_ar_writer_add_record(w, rec->data + p + 4, n, err);
        if (st < 0) {
            prw_ar_writer_abort(w);
            return st;
        }
        p += 4 + n;
    }
    return prw_ar_writer_close(w, err);
}

TEST(ar_golden_repack) {
    REQUIRE_SHARED(dir);
    golden_case cases[64];
    size_t n = load_cases(dir, cases, 64);
    ASSERT_TRUE(n >= 17);
    const char *tmp = th_tmpdir();
    size_t identical = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(cases[i].name, "transposed_small") == 0)
            continue;
        const char *src =
            th_fmt("%s/testdata/arrayrecord/golden/%s.array_record", dir, cases[i].name);
        prw_ar_reader *r;
        prw_error err;
        prw_error_clear(&err);
        ASSERT_OK(prw_ar_reader_open(&r, src, &err), &err);
        prw__buf recs;
        prw__buf_init(&recs);
        bool ok = collect(r, &recs);
        const char *golden_opts = th_fmt("%s", prw_ar_reader_options(r));
        prw_ar_reader_close(r);
        ASSERT_TRUE(ok);
        for (int threads = 1; threads <= 2; threads++) {
            const char *dst = th_fmt("%s/%s.%d.ar", tmp, cases[i].name, threads);
            prw_status st = pack(dst, cases[i].options, threads, &recs, &err);
            if (st < 0)
                prw__buf_cleanup(&recs);
            ASSERT_OK(st, &err);
            size_t alen, blen;
            uint8_t *a = th_read(src, &alen), *b = th_read(dst, &blen);
            ASSERT_TRUE(a && b);
            if (strstr(cases[i].options, "uncompressed")) {
                ASSERT_EQ_U64(blen, alen);
                ASSERT_MEM_EQ(b, a, alen);
                identical++;
            }
            prw__buf again;
            prw__buf_init(&again);
            st = prw_ar_reader_open(&r, dst, &err);
            ok = st >= 0 && collect(r, &again);
            ok = ok && again.len == recs.len &&
                 (recs.len == 0 || memcmp(again.data, recs.data, recs.len) == 0);
            /* our canonical options string is the one Google's writer stored */
            ok = ok && strcmp(prw_ar_reader_options(r), golden_opts) == 0;
            prw_ar_reader_close(r);
            prw__buf_cleanup(&again);
            if (!ok)
                th_note("repack of %s with %d threads", cases[i].name, threads);
            if (!ok)
                prw__buf_cleanup(&recs);
            ASSERT_TRUE(ok);
        }
        prw__buf_cleanup(&recs);
    }
    ASSERT_EQ_I64(identical, 2 * 4);
}

/* ---- writer/reader round trips ---------------------------------------------------------- */

/* Deterministic record i: length from the seed, bytes a compressible pattern. */
static size_t gen_record(uint64_t seed, uint64_t i, uint8_t *buf, size_t max) {
    uint64_t s = seed * 1000003 + i;
    size_t len = (size_t)(th_rand(&s) % (max + 1));
    if (i % 17 == 0)
        len = 0;
    for (size_t k = 0; k < len; k++)
        buf[k] = (uint8_t)((k * 31 + i) % 7 == 0 ? th_rand(&s) : 'a' + (i + k / 8) % 26);
    return len;
}

typedef struct range_check {
    uint64_t seed;
    size_t max;
    _Atomic uint64_t seen;
    _Atomic int bad;
} range_check;

static prw_status range_cb(void *ctx, uint64_t index, const uint8_t *data, size_t len) {
    range_check *rc = ctx;
    uint8_t buf[5000];
    size_t n = gen_record(rc->seed, index, buf, rc->max);
    if (n != len || memcmp(buf, data, n) != 0)
        atomic_store(&rc->bad, 1);
    atomic_fetch_add(&rc->seen, 1);
    return PRW_OK;
}

TEST(ar_roundtrip_matrix) {
    static const char *const opts[] = {"uncompressed",
                                       "zstd:1",
                                       "brotli:1",
                                       "snappy",
                                       "uncompressed,group_size:7",
                                       "zstd,group_size:100,window_log:18",
                                       "brotli:0,group_size:33,window_log:25",
                                       "snappy,group_size:1000,pad_to_block_boundary:true",
                                       "uncompressed,group_size:3,pad_to_block_boundary:true"};
    const char *tmp = th_tmpdir();
    uint8_t buf[5000];
    const uint64_t n = 1500;
    const size_t max = 3000;
    for (size_t oi = 0; oi < sizeof opts / sizeof opts[0]; oi++) {
        for (int threads = 1; threads <= 3; threads += 2) {
            const char *path = th_fmt("%s/m%zu_%d.ar", tmp, oi, threads);
            prw_ar_writer *w;
            prw_error err;
            prw_error_clear(&err);
            ASSERT_OK(prw_ar_writer_open(&w, path, opts[oi], &err), &err);
            prw_ar_writer_abort(w);
            prw_ar_options o;
            ASSERT_OK(prw_ar_options_parse(opts[oi], &o, &err), &err);
            ASSERT_OK(prw_ar_writer_open_opts(&w, path, &o, threads, &err), &err);
            for (uint64_t i = 0; i < n; i++) {
                size_t len = gen_record(oi, i, buf, max);
                prw_status st = prw_ar_writer_add_record(w, buf, len, &err);
                if (st < 0)
                    prw_ar_writer_abort(w);
                ASSERT_OK(st, &err);
            }
            ASSERT_EQ_U64(prw_ar_writer_num_records(w), n);
            ASSERT_OK(prw_ar_writer_close(w, &err), &err);
            prw_ar_reader *r;
            ASSERT_OK(prw_ar_reader_open(&r, path, &err), &err);
            ASSERT_EQ_U64(prw_ar_reader_num_records(r), n);
            ASSERT_EQ_U64(prw_ar_reader_file_size(r) % 65536, 0);
            /* random order */
            uint64_t s = 99;
            for (int k = 0; k < 300; k++) {
                uint64_t i = th_rand(&s) % n;
                prw_bytes b;
                prw_status st = prw_ar_reader_read(r, i, &b, &err);
                if (st < 0)
                    prw_ar_reader_close(r);
                ASSERT_OK(st, &err);
                size_t len = gen_record(oi, i, buf, max);
                bool same = b.len == len && memcmp(b.ptr, buf, len) == 0;
                if (!same)
                    prw_ar_reader_close(r);
                ASSERT_TRUE(same);
            }
            /* parallel range read of a middle range */
            range_check rc = {.seed = oi, .max = max};
            prw_status st = prw_ar_reader_read_range(r, 5, n - 3, 4, range_cb, &rc, &err);
            prw_ar_reader_close(r);
            ASSERT_OK(st, &err);
            ASSERT_EQ_U64(atomic_load(&rc.seen), n - 8);
            ASSERT_EQ_I64(atomic_load(&rc.bad), 0);
            ASSERT_OK(prw_ar_verify(path, NULL, &err), &err);
        }
        /* the bytes do not depend on the thread count */
        size_t alen, blen;
        uint8_t *a = th_read(th_fmt("%s/m%zu_1.ar", tmp, oi), &alen);
        uint8_t *b = th_read(th_fmt("%s/m%zu_3.ar", tmp, oi), &blen);
        ASSERT_TRUE(a && b);
        ASSERT_EQ_U64(alen, blen);
        ASSERT_MEM_EQ(a, b, alen);
    }
}

/* Record i of the batch test: mostly small and mid-sized (some below, some above the size
 * written in place with writev), every 97th of 1-3 MiB so the bytes in flight reach their
 * cap, every 17th empty. */
static size_t batch_record(uint64_t i, uint8_t *buf) {
    uint64_t s = i * 7919 + 5;
    size_t len = i % 97 == 50 ? (1u << 20) + (size_t)(th_rand(&s) % (2u << 20))
                              : (size_t)(th_rand(&s) % (i % 3 ? 3000 : 70000));
    if (i % 17 == 0)
        len = 0;
    for (size_t k = 0; k < len; k++)
        buf[k] = (uint8_t)((k * 31 + i) % 5 == 0 ? th_rand(&s) : 'a' + (i + k / 8) % 26);
    return len;
}

static prw_status write_batch_file(const char *path, const char *opts, int threads, uint64_t n,
                                   uint8_t *buf, prw_error *err) {
    prw_ar_options o;
    prw_ar_writer *w;
    PRW_TRY(prw_ar_options_parse(opts, &o, err));
    PRW_TRY(prw_ar_writer_open_opts(&w, path, &o, threads, err));
    prw_status st = PRW_OK;
    for (uint64_t i = 0; i < n && st >= 0; i++)
        st = prw_ar_writer_add_record(w, buf, batch_record(i, buf), err);
    if (st < 0) {
        prw_ar_writer_abort(w);
        return st;
    }
    return prw_ar_writer_close(w, err);
}

/* Batches of chunks encoded on 2 and 4 threads (ring full, the caller helping, the in-flight
 * byte cap, batches closed by chunk count and by bytes) give the one-thread bytes, which read
 * back as written. */
TEST(ar_writer_batches_match_one_thread) {
    static const char *const opts[] = {"uncompressed,group_size:1", "zstd:1,group_size:1",
                                       "snappy,group_size:3,pad_to_block_boundary:true"};
    const char *d = th_tmpdir();
    const uint64_t n = 700;
    uint8_t *buf = malloc(3u << 20);
    ASSERT_TRUE(buf != NULL);
    for (size_t k = 0; k < sizeof opts / sizeof *opts; k++) {
        const int threads[] = {1, 2, 4};
        uint8_t *first = NULL;
        size_t first_len = 0;
        for (size_t t = 0; t < 3; t++) {
            prw_error err;
            prw_error_clear(&err);
            const char *path = th_fmt("%s/b%zu_%d.ar", d, k, threads[t]);
            prw_status st = write_batch_file(path, opts[k], threads[t], n, buf, &err);
            if (st < 0)
                free(buf);
            ASSERT_OK(st, &err);
            size_t len;
            uint8_t *x = th_read(path, &len);
            ASSERT_TRUE(x != NULL);
            if (t == 0) {
                first = x;
                first_len = len;
                continue;
            }
            ASSERT_EQ_U64(len, first_len);
            ASSERT_MEM_EQ(x, first, len);
        }
        prw_error err;
        prw_ar_reader *r;
        ASSERT_OK(prw_ar_reader_open(&r, th_fmt("%s/b%zu_4.ar", d, k), &err), &err);
        ASSERT_EQ_U64(prw_ar_reader_num_records(r), n);
        uint8_t *want = malloc(3u << 20);
        bool same = want != NULL;
        for (uint64_t i = 0; i < n && same; i++) {
            prw_bytes b;
            size_t len = batch_record(i, want);
            same = prw_ar_reader_next(r, &b, &err) == PRW_OK && b.len == len &&
                   memcmp(b.ptr, want, len) == 0;
            if (!same)
                th_note("record %llu differs", (unsigned long long)i);
        }
        free(want);
        prw_ar_reader_close(r);
        ASSERT_TRUE(same);
    }
    free(buf);
}

/* A chunk added after whole groups of records lands after them, as if its records had been
 * added one by one; it is refused after a partial group. */
TEST(ar_writer_chunk_after_records) {
    const char *d = th_tmpdir();
    uint8_t buf[5000];
    prw_error err;
    prw_error_clear(&err);
    prw_ar_options o;
    ASSERT_OK(prw_ar_options_parse("zstd:1,group_size:4", &o, &err), &err);
    prw_ar_chunk_encoder *e;
    ASSERT_OK(prw_ar_chunk_encoder_create(&o, &e, &err), &err);
    prw_ar_writer *wa, *wb;
    ASSERT_OK(prw_ar_writer_open_opts(&wa, th_fmt("%s/a", d), &o, 2, &err), &err);
    ASSERT_OK(prw_ar_writer_open_opts(&wb, th_fmt("%s/b", d), &o, 2, &err), &err);
    static uint8_t recs[4][5000];
    prw_bytes group[4];
    prw_status st = PRW_OK;
    for (uint64_t i = 0; i < 404 && st >= 0; i++) {
        size_t len = gen_record(9, i, buf, sizeof buf);
        st = prw_ar_writer_add_record(wa, buf, len, &err);
        if (st >= 0 && i < 400) {
            st = prw_ar_writer_add_record(wb, buf, len, &err);
        } else if (st >= 0) {
            memcpy(recs[i - 400], buf, len);
            group[i - 400] = (prw_bytes){recs[i - 400], len};
        }
    }
    prw_bytes chunk;
    if (st >= 0)
        st = prw_ar_chunk_encode(e, group, 4, &chunk, &err);
    if (st >= 0)
        st = prw_ar_writer_add_chunk(wb, chunk.ptr, chunk.len, &err);
    if (st < 0) {
        prw_ar_chunk_encoder_destroy(e);
        prw_ar_writer_abort(wa);
        prw_ar_writer_abort(wb);
    }
    ASSERT_OK(st, &err);
    ASSERT_OK(prw_ar_writer_close(wa, &err), &err);
    ASSERT_OK(prw_ar_writer_close(wb, &err), &err);
    size_t na, nb;
    uint8_t *x = th_read(th_fmt("%s/a", d), &na), *y = th_read(th_fmt("%s/b", d), &nb);
    ASSERT_TRUE(x && y);
    ASSERT_EQ_U64(na, nb);
    ASSERT_MEM_EQ(x, y, na);
    ASSERT_OK(prw_ar_writer_open_opts(&wa, th_fmt("%s/c", d), &o, 2, &err), &err);
    ASSERT_OK(prw_ar_writer_add_record(wa, "x", 1, &err), &err);
    ASSERT_ERR(prw_ar_writer_add_chunk(wa, chunk.ptr, chunk.len, &err), PRW_E_INVALID);
    ASSERT_TRUE(strstr(err.msg, "partial group") != NULL);
    prw_ar_writer_abort(wa);
    prw_ar_chunk_encoder_destroy(e);
}

TEST(ar_writer_empty_and_abort) {
    const char *tmp = th_tmpdir();
    const char *path = th_fmt("%s/empty.ar", tmp);
    prw_ar_writer *w;
    prw_error err;
    prw_error_clear(&err);
    ASSERT_OK(prw_ar_writer_open(&w, path, "uncompressed", &err), &err);
    ASSERT_OK(prw_ar_writer_close(w, &err), &err);
    prw_ar_reader *r;
    ASSERT_OK(prw_ar_reader_open(&r, path, &err), &err);
    ASSERT_EQ_U64(prw_ar_reader_num_records(r), 0);
    ASSERT_EQ_U64(prw_ar_reader_file_size(r), 131072);
    prw_ar_reader_close(r);
    /* abort leaves nothing behind */
    const char *p2 = th_fmt("%s/aborted.ar", tmp);
    ASSERT_OK(prw_ar_writer_open(&w, p2, NULL, &err), &err);
    ASSERT_OK(prw_ar_writer_add_record(w, "x", 1, &err), &err);
    prw_ar_writer_abort(w);
    ASSERT_TRUE(access(p2, F_OK) != 0);
    DIR *d = opendir(tmp);
    ASSERT_TRUE(d != NULL);
    int entries = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        entries += e->d_name[0] != '.' || strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    ASSERT_EQ_I64(entries, 1);
    ASSERT_ERR(prw_ar_writer_open(&w, p2, "transpose", &err), PRW_E_UNSUPPORTED);
    ASSERT_TRUE(w == NULL);
}

TEST(ar_writer_limits_and_disk_full) {
    const char *tmp = th_tmpdir();
    prw_ar_writer *w;
    prw_error err;
    prw_error_clear(&err);
    static const uint8_t byte = 1;
    ASSERT_OK(prw_ar_writer_open(&w, th_fmt("%s/big.ar", tmp), NULL, &err), &err);
    /* the size is checked before the bytes are touched */
    ASSERT_ERR(prw_ar_writer_add_record(w, &byte, (size_t)UINT32_MAX + 1, &err), PRW_E_LIMIT);
    ASSERT_TRUE(strstr(err.msg, "4 GiB") != NULL);
    ASSERT_ERR(prw_ar_writer_add_record(w, &byte, 1, &err), PRW_E_LIMIT);
    ASSERT_ERR(prw_ar_writer_close(w, &err), PRW_E_LIMIT);
    ASSERT_TRUE(access(th_fmt("%s/big.ar", tmp), F_OK) != 0);
    /* a full disk during the data, and during the footer */
    static const int64_t faults[] = {0, 70000, 300000, 1000000};
    /* records of 1000 and 5000 bytes: copied into the output staging, or written in place */
    uint8_t rec[5000];
    memset(rec, 'q', sizeof rec);
    for (size_t f = 0; f < sizeof faults / sizeof faults[0]; f++) {
        for (int threads = 1; threads <= 2; threads++) {
            const char *path = th_fmt("%s/full%zu_%d.ar", tmp, f, threads);
            prw_ar_options o;
            ASSERT_OK(prw_ar_options_parse("uncompressed", &o, &err), &err);
            ASSERT_OK(prw_ar_writer_open_opts(&w, path, &o, threads, &err), &err);
            prw__io_inject_write_fault(faults[f], ENOSPC);
            prw_status st = PRW_OK;
            for (int i = 0; i < 1200 && st >= 0; i++)
                st = prw_ar_writer_add_record(w, rec, i % 2 ? 1000 : 5000, &err);
            if (st >= 0)
                st = prw_ar_writer_close(w, &err);
            else
                prw_ar_writer_abort(w);
            prw__io_inject_write_fault(-1, 0);
            ASSERT_ERR(st, PRW_E_IO);
            ASSERT_EQ_I64(err.sys_errno, ENOSPC);
            ASSERT_TRUE(access(path, F_OK) != 0);
        }
    }
}

TEST(ar_alloc_failures) {
    const char *tmp = th_tmpdir();
    uint8_t rec[300];
    memset(rec, 'z', sizeof rec);
    /* Fail the n-th allocation for growing n until a whole write + read succeeds. */
    bool completed = false;
    for (int64_t n = 1; n < 400 && !completed; n++) {
        const char *path = th_fmt("%s/oom%lld.ar", tmp, (long long)n);
        prw_error err;
        prw_error_clear(&err);
        prw_alloc_fail_after(n);
        prw_ar_writer *w = NULL;
        prw_status st = prw_ar_writer_open(&w, path, "zstd:1,group_size:10", &err);
        for (int i = 0; i < 50 && st >= 0; i++)
            st = prw_ar_writer_add_record(w, rec, sizeof rec - (size_t)i, &err);
        if (st >= 0)
            st = prw_ar_writer_close(w, &err);
        else if (w)
            prw_ar_writer_abort(w);
        prw_ar_reader *r = NULL;
        if (st >= 0)
            st = prw_ar_reader_open(&r, path, &err);
        prw_bytes b;
        for (uint64_t i = 0; i < 50 && st >= 0; i++)
            st = prw_ar_reader_read(r, i, &b, &err);
        prw_ar_reader_close(r);
        prw_alloc_fail_after(0);
        if (st < 0) {
            if (st != PRW_E_NOMEM)
                th_note("n=%lld: %s", (long long)n, err.msg);
            ASSERT_ERR(st, PRW_E_NOMEM);
        } else {
            completed = true;
        }
    }
    ASSERT_TRUE(completed);
}

/* ---- must-fail: truncation and bit flips ------------------------------------------------ */

/* Opens an image and reads every record; returns the first error (or PRW_OK). */
static prw_status open_and_read_all(const uint8_t *data, size_t len, prw_error *err) {
    prw_ar_reader *r;
    PRW_TRY(prw_ar_reader_open_mem(&r, data, len, err));
    prw_bytes b;
    prw_status st;
    while ((st = prw_ar_reader_next(r, &b, err)) == PRW_OK) {
    }
    prw_ar_reader_close(r);
    return st == PRW_DONE ? PRW_OK : st;
}

/* Chunk boundaries of a valid image, found by walking it. */
static size_t chunk_starts(const uint8_t *data, size_t len, uint64_t *out, size_t max) {
    prw__ar_image img = {data, len};
    prw__ar_chunkbuf cb;
    prw__ar_chunkbuf_init(&cb);
    size_t n = 0;
    uint64_t pos = 0;
    while (pos < len && n < max) {
        prw__ar_chunk_hdr h;
        const uint8_t *d;
        uint64_t end;
        if (prw__ar_read_chunk(&img, pos, &cb, &h, &d, &end, NULL) < 0)
            break;
        out[n++] = pos;
        pos = end;
    }
    prw__ar_chunkbuf_cleanup(&cb);
    return n;
}

TEST(ar_mustfail_truncation) {
    REQUIRE_SHARED(dir);
    static const char *const files[] = {"tiny_uncompressed", "small1000_uncompressed_group10",
                                        "padded_group4", "record100k_uncompressed",
                                        "small1000_zstd3"};
    for (size_t fi = 0; fi < sizeof files / sizeof files[0]; fi++) {
        size_t len;
        uint8_t *data =
            th_read(th_fmt("%s/testdata/arrayrecord/golden/%s.array_record", dir, files[fi]), &len);
        ASSERT_TRUE(data != NULL);
        uint64_t starts[1100];
        size_t ns = chunk_starts(data, len, starts, 1100);
        ASSERT_TRUE(ns >= 5);
        /* cut at every chunk start, just after it, at block headers and at block ends */
        uint64_t cuts[2300 + 16];
        size_t nc = 0;
        for (size_t i = 0; i < ns; i++) {
            cuts[nc++] = starts[i];
            cuts[nc++] = starts[i] + 30;
        }
        for (uint64_t b = 0; b < len; b += AR_BLOCK) {
            cuts[nc++] = b + AR_BLOCK_HDR;
            cuts[nc++] = b + AR_BLOCK - 1;
            cuts[nc++] = b + AR_BLOCK; /* a shorter, block-aligned file */
        }
        for (size_t i = 0; i < nc; i++) {
            if (cuts[i] >= len)
                continue;
            prw_error err;
            prw_error_clear(&err);
            prw_status st = open_and_read_all(data, (size_t)cuts[i], &err);
            if (st >= 0)
                th_note("%s cut at %llu was accepted", files[fi], (unsigned long long)cuts[i]);
            ASSERT_TRUE(st < 0);
            ASSERT_TRUE(err.offset >= 0);
            ASSERT_TRUE(err.msg[0] != '\0');
            ASSERT_TRUE(prw_ar_verify_mem(data, (size_t)cuts[i], NULL, NULL) < 0);
        }
        prw_error err;
        ASSERT_OK(open_and_read_all(data, len, &err), &err);
    }
}

/* Flips every bit of [from, to) one at a time; each must fail with an offset. */
static bool flip_range(uint8_t *data, size_t len, uint64_t from, uint64_t to, const char *what) {
    for (uint64_t p = from; p < to; p++) {
        for (int bit = 0; bit < 8; bit++) {
            data[p] ^= (uint8_t)(1u << bit);
            prw_error err;
            prw_error_clear(&err);
            prw_status st = open_and_read_all(data, len, &err);
            prw_error err2;
            prw_error_clear(&err2);
            prw_status st2 = prw_ar_verify_mem(data, len, NULL, &err2);
            data[p] ^= (uint8_t)(1u << bit);
            if (st >= 0 || err.offset < 0 || st2 >= 0 || err2.offset < 0)
                return th_note("%s: flip of bit %d at %llu not detected (%d, %d)", what, bit,
                               (unsigned long long)p, st, st2),
                       false;
        }
    }
    return true;
}

TEST(ar_mustfail_bitflips) {
    REQUIRE_SHARED(dir);
    size_t len;
    uint8_t *data =
        th_read(th_fmt("%s/testdata/arrayrecord/golden/tiny_uncompressed.array_record", dir), &len);
    ASSERT_TRUE(data && len == 131072);
    /* §8: block header + signature [0,64), chunks at 64 and 110 (headers 40, data 6 and 8),
     * footer at 158 (header 40, data 114), postscript block at 65536 (24 + 40 + 44). */
    ASSERT_TRUE(flip_range(data, len, 0, 64, "signature"));
    ASSERT_TRUE(flip_range(data, len, 64, 158, "data chunks"));
    ASSERT_TRUE(flip_range(data, len, 158, 158 + 40 + 114, "footer"));
    ASSERT_TRUE(flip_range(data, len, 65536, 65536 + 24 + 40 + 44, "postscript"));
    /* a compressed file: header, hash and data of its first chunk and of its footer */
    uint8_t *z =
        th_read(th_fmt("%s/testdata/arrayrecord/golden/small1000_zstd3.array_record", dir), &len);
    ASSERT_TRUE(z != NULL);
    ASSERT_TRUE(flip_range(z, len, 64, 64 + 40 + 20, "zstd chunk"));
    ASSERT_TRUE(flip_range(z, len, len - 65536, len - 65536 + 24 + 40 + 44, "zstd postscript"));
    /* the padding chunk after the footer is checked by verify only */
    uint8_t *u =
        th_read(th_fmt("%s/testdata/arrayrecord/golden/tiny_uncompressed.array_record", dir), &len);
    u[0x138 + 10] ^= 1;
    prw_error err;
    prw_error_clear(&err);
    ASSERT_ERR(prw_ar_verify_mem(u, len, NULL, &err), PRW_E_CHECKSUM);
    ASSERT_EQ_I64(err.offset, 0x138);
    u[0x138 + 10] ^= 1;
    u[0x138 + 40 + 1000] ^= 0x10; /* padding data */
    ASSERT_ERR(prw_ar_verify_mem(u, len, NULL, &err), PRW_E_CHECKSUM);
    ASSERT_EQ_I64(err.offset, 0x138 + 40);
}

TEST(ar_mustfail_not_arrayrecord) {
    uint8_t *z = calloc(1, 131072);
    ASSERT_TRUE(z != NULL);
    prw_error err;
    prw_error_clear(&err);
    prw_status st = open_and_read_all(z, 131072, &err);
    free(z);
    ASSERT_ERR(st, PRW_E_CHECKSUM);
    ASSERT_EQ_I64(err.offset, 0);
    prw_ar_reader *r;
    ASSERT_ERR(prw_ar_reader_open_mem(&r, "abc", 3, &err), PRW_E_TRUNCATED);
    ASSERT_ERR(prw_ar_reader_open(&r, "/nonexistent/x.ar", &err), PRW_E_IO);
}

/* Chunks encoded away from the writer (prw_ar_chunk_encode + prw_ar_writer_add_chunk) give the
 * same file, byte for byte, as records added one by one, for full groups and a short last one,
 * and for single records (built in place) with every codec. With one record per chunk, also
 * chunks appended back to back into a buffer (prw__ar_chunk_append), written from it by
 * reference in batches of 1 to 46 (prw__ar_writer_add_chunk_ref; the batches cross block
 * boundaries, so some chunk headers straddle them), the buffer overwritten after each
 * prw__ar_writer_flush. */
TEST(ar_chunk_encoder_matches_writer) {
    static const char *const opts[] = {"uncompressed",
                                       "zstd:3",
                                       "snappy",
                                       "brotli:2",
                                       "zstd:1,pad_to_block_boundary:true",
                                       "snappy,group_size:5",
                                       "brotli:1,group_size:3,pad_to_block_boundary:true"};
    const char *d = th_tmpdir();
    uint8_t buf[5000];
    for (size_t k = 0; k < sizeof opts / sizeof *opts; k++) {
        prw_error err;
        prw_error_clear(&err);
        prw_ar_options o;
        ASSERT_OK(prw_ar_options_parse(opts[k], &o, &err), &err);
        const char *path[3] = {th_fmt("%s/a%zu", d, k), th_fmt("%s/b%zu", d, k),
                               th_fmt("%s/c%zu", d, k)};
        bool by_ref = o.group_size == 1;
        prw_ar_writer *w[3] = {NULL, NULL, NULL};
        prw_ar_chunk_encoder *e;
        ASSERT_OK(prw_ar_writer_open(&w[0], path[0], opts[k], &err), &err);
        ASSERT_OK(prw_ar_writer_open_opts(&w[1], path[1], &o, 1, &err), &err);
        if (by_ref)
            ASSERT_OK(prw_ar_writer_open_opts(&w[2], path[2], &o, 1, &err), &err);
        ASSERT_OK(prw_ar_chunk_encoder_create(&o, &e, &err), &err);
        const size_t n = 203;
        uint8_t *recs = malloc(n * sizeof buf);
        prw_bytes group[8];
        size_t in_group = 0, lens[46], nref = 0, batch = 1;
        prw__buf chunks;
        prw__buf_init(&chunks);
        prw_status st = PRW_OK;
        for (size_t i = 0; i < n && st == PRW_OK; i++) {
            uint8_t *r = recs + i * sizeof buf;
            size_t len = gen_record(k + 1, i, r, sizeof buf);
            st = prw_ar_writer_add_record(w[0], r, len, &err);
            group[in_group++] = (prw_bytes){r, len};
            if (st == PRW_OK && (in_group == o.group_size || i + 1 == n)) {
                prw_bytes chunk;
                st = prw_ar_chunk_encode(e, group, in_group, &chunk, &err);
                if (st == PRW_OK)
                    st = prw_ar_writer_add_chunk(w[1], chunk.ptr, chunk.len, &err);
                in_group = 0;
            }
            if (st == PRW_OK && by_ref) {
                size_t before = chunks.len;
                st = prw__ar_chunk_append(e, r, len, &chunks, &err);
                lens[nref++] = chunks.len - before;
            }
            if (st == PRW_OK && by_ref && (nref == batch || i + 1 == n)) {
                const uint8_t *c = chunks.data;
                for (size_t j = 0; j < nref && st == PRW_OK; j++) {
                    st = prw__ar_writer_add_chunk_ref(w[2], c, lens[j], &err);
                    c += lens[j];
                }
                if (st == PRW_OK)
                    st = prw__ar_writer_flush(w[2], &err);
                memset(chunks.data, 0xa5, chunks.len);
                prw__buf_clear(&chunks);
                nref = 0;
                batch = batch % 40 + 7;
            }
        }
        prw__buf_cleanup(&chunks);
        prw_ar_chunk_encoder_destroy(e);
        free(recs);
        for (int j = 0; j < 3 && st < 0; j++)
            if (w[j])
                prw_ar_writer_abort(w[j]);
        ASSERT_OK(st, &err);
        size_t na = 0;
        for (int j = 0; j < 3; j++) {
            if (!w[j])
                continue;
            ASSERT_OK(prw_ar_writer_close(w[j], &err), &err);
            size_t nb;
            uint8_t *x = th_read(path[0], &na), *y = th_read(path[j], &nb);
            ASSERT_TRUE(x && y);
            ASSERT_EQ_I64(na, nb);
            ASSERT_MEM_EQ(x, y, na);
        }
    }
    /* A chunk that was not made by the encoder is refused, and the writer stays failed. */
    prw_error err;
    prw_ar_writer *w;
    ASSERT_OK(prw_ar_writer_open(&w, th_fmt("%s/bad", d), NULL, &err), &err);
    uint8_t junk[64] = {0};
    ASSERT_ERR(prw_ar_writer_add_chunk(w, junk, sizeof junk, &err), PRW_E_INVALID);
    ASSERT_ERR(prw_ar_writer_add_record(w, "x", 1, &err), PRW_E_INVALID);
    prw_ar_writer_abort(w);
}
