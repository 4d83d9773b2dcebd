/*
 * Tests of src/bzip2 against libbz2: data compressed by libbz2 on the fly (levels 1 and 9,
 * empty, one byte, RLE1 runs, random, text, many blocks, concatenated streams) must decode to
 * the original and to libbz2's decode at 1, 2 and 3 threads and small buffers; truncations,
 * bit flips, trailing bytes and a level too small for a block must fail (or, for a bit flip
 * libbz2 accepts, give libbz2's bytes); a block magic planted inside a block's selectors must
 * not disturb the output; a randomised (old format) block decodes as libbz2 decodes it; the
 * block finder finds exactly the magics a bit-by-bit search finds.
 */
#include <bzlib.h>
#include <stdlib.h>
#include <time.h>

#include "../../fuzz/bz_ref.h"
#include "bzip2/bz.h"
#include "harness.h"

#define CAP ((size_t)256 << 20)

/* n bytes freed by the harness at the end of the test (so a failed assertion leaks nothing). */
static uint8_t *scratch(size_t n) {
    return (uint8_t *)th_fmt("%*s", (int)n, "");
}

/* libbz2-compressed copy of src (harness-owned), or NULL. */
static uint8_t *compress(const void *src, size_t n, int level, size_t *out_len) {
    unsigned cap = (unsigned)(n + n / 100 + 1024);
    char *out = (char *)scratch(cap);
    if (BZ2_bzBuffToBuffCompress(out, &cap, (char *)(uintptr_t)src, (unsigned)n, level, 0, 0) !=
        BZ_OK)
        return NULL;
    *out_len = cap;
    return (uint8_t *)out;
}

/* Text of n bytes (harness-owned) from a few hundred distinct JSON-like lines. */
static uint8_t *text(size_t n, uint64_t seed) {
    char *t = (char *)scratch(n);
    size_t at = 0;
    while (at < n) {
        uint64_t r = th_rand(&seed);
        char line[128];
        int k = snprintf(line, sizeof line, "{\"prb_id\":%u,\"dst\":\"10.%u.0.1\",\"avg\":%u.%u}\n",
                         (unsigned)(r % 500), (unsigned)(r >> 20) % 40, (unsigned)(r >> 30) % 300,
                         (unsigned)(r >> 40) % 10);
        for (int i = 0; i < k && at < n; i++)
            t[at++] = line[i];
    }
    return (uint8_t *)t;
}

static uint8_t *random_bytes(size_t n, uint64_t *seed) {
    uint8_t *d = scratch(n);
    for (size_t i = 0; i < n; i++)
        d[i] = (uint8_t)(th_rand(seed) >> 56);
    return d;
}

/* Decodes with ours and with libbz2 at 1, 2 and 3 threads and three buffer sizes; both must
 * give `expect` (expect_n bytes). */
static bool same_everywhere(const uint8_t *bz, size_t n, const uint8_t *expect, size_t expect_n) {
    uint8_t *ref = NULL;
    size_t nref = 0;
    if (prw_fuzz_bz_ref(bz, n, CAP, &ref, &nref) != 0 || nref != expect_n ||
        th_mismatch(ref, expect, nref) != (size_t)-1) {
        th_note("libbz2 does not give the original (%zu bytes)", nref);
        free(ref);
        return false;
    }
    free(ref);
    static const size_t bufs[] = {0, 1000, 64u << 20};
    for (int threads = 1; threads <= 3; threads++)
        for (size_t b = 0; b < 3; b++) {
            uint8_t *got = NULL;
            size_t ngot = 0;
            int rc = prw_fuzz_bz_ours(bz, n, threads, bufs[b], CAP, &got, &ngot);
            bool ok = rc == 0 && ngot == expect_n && th_mismatch(got, expect, ngot) == (size_t)-1;
            free(got);
            if (!ok) {
                th_note("ours differs: %d threads, buffer %zu: rc %d, %zu bytes", threads, bufs[b],
                        rc, ngot);
                return false;
            }
        }
    return true;
}

static bool roundtrip(const uint8_t *src, size_t n, int level) {
    size_t bz_n = 0;
    uint8_t *bz = compress(src, n, level, &bz_n);
    return bz && same_everywhere(bz, bz_n, src, n);
}

TEST(bz_small_inputs) {
    ASSERT_TRUE(roundtrip((const uint8_t *)"", 0, 9));
    ASSERT_TRUE(roundtrip((const uint8_t *)"x", 1, 9));
    ASSERT_TRUE(roundtrip((const uint8_t *)"x", 1, 1));
    ASSERT_TRUE(roundtrip((const uint8_t *)"hello, bzip2\n", 13, 5));
}

TEST(bz_rle1_runs) {
    /* runs of every length 1..300 of changing bytes, then one 100000-byte run */
    size_t n = 0;
    uint8_t *buf = scratch(300 * 301 / 2 + 100000);
    for (unsigned len = 1; len <= 300; len++) {
        memset(buf + n, (int)(len * 37 % 256), len);
        n += len;
    }
    memset(buf + n, 'z', 100000);
    n += 100000;
    ASSERT_TRUE(roundtrip(buf, n, 9));
    ASSERT_TRUE(roundtrip(buf, n, 1));
    uint8_t zeros[5000] = {0};
    ASSERT_TRUE(roundtrip(zeros, sizeof zeros, 9));
}

TEST(bz_periodic_blocks) {
    /* A periodic block's BWT links form several cycles (equal rotations), so the inverse BWT's
     * parallel chains do not join up and it must fall back to the plain walk. */
    size_t n = 300000;
    uint8_t *buf = scratch(n);
    for (unsigned period = 2; period <= 7; period += 5) {
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)("abcdefg"[i % period]);
        ASSERT_TRUE(roundtrip(buf, n, 9));
        ASSERT_TRUE(roundtrip(buf, n, 1));
    }
}

TEST(bz_random_and_text) {
    size_t n = 1500000;
    uint64_t s = 7;
    uint8_t *rnd = random_bytes(n, &s);
    ASSERT_TRUE(roundtrip(rnd, n, 9)); /* incompressible: two 900 kB blocks */
    ASSERT_TRUE(roundtrip(rnd, 250000, 1));
    ASSERT_TRUE(roundtrip(text(3000000, 3), 3000000, 9));
}

TEST(bz_many_blocks_and_streams) {
    size_t n = 2500000;
    uint8_t *t = text(n, 11);
    ASSERT_TRUE(roundtrip(t, n, 1)); /* ~25+ blocks of 100 kB */
    /* streams of levels 1, 9 and 3 and an empty one, concatenated as pbzip2 writes them */
    size_t n1 = 0, n2 = 0, n3 = 0, n4 = 0;
    uint8_t *a = compress(t, 400000, 1, &n1), *b = compress(t + 400000, 1000000, 9, &n2);
    uint8_t *c = compress(t, 0, 9, &n3), *d = compress(t + 1400000, 300000, 3, &n4);
    ASSERT_TRUE(a && b && c && d);
    uint8_t *all = scratch(n1 + n2 + n3 + n4);
    memcpy(all, a, n1);
    memcpy(all + n1, b, n2);
    memcpy(all + n1 + n2, c, n3);
    memcpy(all + n1 + n2 + n3, d, n4);
    ASSERT_TRUE(same_everywhere(all, n1 + n2 + n3 + n4, t, 1700000));
}

/* ours must fail on bz[0..n), at 1 and 2 threads, with an error naming the input. */
static bool fails(const uint8_t *bz, size_t n) {
    for (int threads = 1; threads <= 2; threads++) {
        prw__bz_reader *r = NULL;
        prw_error err;
        if (prw__bz_reader_create(bz, n, "t.bz2", threads, 4096, &r, &err) != PRW_OK)
            return false;
        prw_status st;
        const uint8_t *p;
        size_t len;
        do
            st = prw__bz_reader_next(r, &p, &len, &err);
        while (st == PRW_OK && len > 0);
        prw__bz_reader_destroy(r);
        if (st >= 0 || strncmp(err.msg, "t.bz2: bzip2: ", 14) != 0 || err.offset < 0 ||
            (size_t)err.offset > n) {
            th_note("no error at %d threads for %zu bytes (%s)", threads, n, err.msg);
            return false;
        }
    }
    return true;
}

TEST(bz_truncated_everywhere) {
    size_t n = 260000, bz_n = 0;
    uint8_t *bz = compress(text(n, 5), n, 1, &bz_n); /* three blocks */
    ASSERT_TRUE(bz != NULL);
    for (size_t cut = 0; cut < bz_n; cut += cut < 64 || bz_n - cut < 64 ? 1 : 97)
        ASSERT_TRUE(fails(bz, cut));
}

TEST(bz_trailing_bytes_and_headers) {
    size_t n = 0;
    uint8_t *bz = compress("some text", 9, 9, &n);
    uint8_t *buf = scratch(n + 8);
    memcpy(buf, bz, n);
    memcpy(buf + n, "BZh9", 4);
    ASSERT_TRUE(fails(buf, n + 1)); /* "B" */
    ASSERT_TRUE(fails(buf, n + 4)); /* a header and nothing after */
    buf[n] = 0;
    ASSERT_TRUE(fails(buf, n + 1)); /* one zero byte of padding */
    memcpy(buf, bz, n);
    buf[3] = '0';
    ASSERT_TRUE(fails(buf, n));
    buf[3] = '9';
    buf[0] = 'b';
    ASSERT_TRUE(fails(buf, n));
    /* a 900 kB block behind a level-1 header: libbz2 rejects it, so must we */
    size_t big_n = 0;
    uint8_t *big = compress(text(800000, 2), 800000, 9, &big_n);
    big[3] = '1';
    ASSERT_TRUE(fails(big, big_n));
    uint8_t *ref = NULL;
    size_t nref = 0;
    ASSERT_EQ_I64(prw_fuzz_bz_ref(big, big_n, CAP, &ref, &nref), -1);
}

TEST(bz_bit_flips_agree_with_libbz2) {
    size_t n = 120000, bz_n = 0;
    uint8_t *src = text(n, 9);
    uint8_t *bz = compress(src, n, 1, &bz_n); /* two blocks */
    ASSERT_TRUE(bz != NULL);
    size_t flips = 0, accepted = 0;
    for (uint64_t bit = 0; bit < 8 * (uint64_t)bz_n; bit += bit < 700 ? 1 : 89, flips++) {
        bz[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
        uint8_t *ref = NULL, *ours = NULL;
        size_t nref = 0, nours = 0;
        int rr = prw_fuzz_bz_ref(bz, bz_n, CAP, &ref, &nref);
        int ro = prw_fuzz_bz_ours(bz, bz_n, bit % 3 + 1, 1 << 16, CAP, &ours, &nours);
        bool same = rr == ro && nref == nours && (!nref || memcmp(ref, ours, nref) == 0);
        accepted += rr == 0;
        free(ref);
        free(ours);
        bz[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
        if (!same)
            th_note("flip of bit %llu: libbz2 %d, ours %d", (unsigned long long)bit, rr, ro);
        ASSERT_TRUE(same);
    }
    th_note("%zu bit flips, %zu accepted by both (stream padding)", flips, accepted);
    ASSERT_TRUE(flips > 1000);
}

/* Writes the n <= 57 bits of v at bit `at` of p (MSB first). */
static void put_bits(uint8_t *p, uint64_t at, uint64_t v, unsigned n) {
    for (unsigned i = 0; i < n; i++, at++) {
        uint8_t m = (uint8_t)(0x80 >> (at % 8));
        if ((v >> (n - 1 - i)) & 1)
            p[at / 8] |= m;
        else
            p[at / 8] &= (uint8_t)~m;
    }
}

/* Copies n bits from bit `from` of src to bit `to` of dst. */
static void copy_bits(uint8_t *dst, uint64_t to, const uint8_t *src, size_t size, uint64_t from,
                      uint64_t n) {
    for (; n >= 32; n -= 32, from += 32, to += 32)
        put_bits(dst, to, prw__bz_peek(src, size, from, 32), 32);
    if (n)
        put_bits(dst, to, prw__bz_peek(src, size, from, (unsigned)n), (unsigned)n);
}

/* Bit offset of the selector count in the one-stream, first-block data bz (level digit aside). */
static uint64_t selector_count_at(const uint8_t *bz, size_t n) {
    uint64_t at = 32 + 48 + 32 + 1 + 24;
    unsigned used16 = (unsigned)prw__bz_peek(bz, n, at, 16);
    at += 16;
    for (unsigned i = 0; i < 16; i++)
        if (used16 & (0x8000u >> i))
            at += 16;
    return at + 3;
}

/* Where the single block of bz ends (its CRC need not match). */
static uint64_t block_end(const uint8_t *bz, size_t n) {
    prw__bz_work *w = NULL;
    prw__buf out;
    prw__buf_init(&out);
    prw__bz_block info;
    memset(&info, 0, sizeof info);
    if (prw__bz_work_create(&w, NULL) == PRW_OK)
        (void)prw__bz_decode_block(bz, n, 32, PRW_BZ_MAX_BLOCK, "t", w, &out, &info, NULL);
    prw__bz_work_destroy(w);
    prw__buf_cleanup(&out);
    return info.end_bit;
}

TEST(bz_false_magic_inside_a_block) {
    /* Selectors are unary codes (j ones, then a zero; j < the group count), and libbz2 reads
     * more selectors than the symbols use. So appending selectors whose bits spell the block
     * magic plants a false magic inside the first block without changing what it decodes to. */
    size_t n = 200000, bz_n = 0;
    uint8_t *src = text(n, 21);
    uint8_t *bz = compress(src, n, 9, &bz_n);
    ASSERT_TRUE(bz != NULL);
    uint64_t at = selector_count_at(bz, bz_n);
    ASSERT_EQ_I64(prw__bz_peek(bz, bz_n, at - 3, 3), 6); /* 6 groups: runs of up to 5 ones */
    unsigned nsel = (unsigned)prw__bz_peek(bz, bz_n, at, 15);
    uint64_t sel_end = at + 15;
    for (unsigned i = 0; i < nsel; i++)
        while (prw__bz_peek(bz, bz_n, sel_end++, 1))
            ;
    uint64_t end = block_end(bz, bz_n) + 80; /* + end-of-stream magic and stream CRC */
    ASSERT_TRUE(end > sel_end && end <= 8 * (uint64_t)bz_n);
    unsigned zeros = 48 - (unsigned)__builtin_popcountll(PRW_BZ_BLOCK_MAGIC) + 1;
    uint8_t *out = scratch(bz_n + 8);
    memset(out, 0, bz_n + 8);
    copy_bits(out, 0, bz, bz_n, 0, at);
    put_bits(out, at, nsel + zeros, 15);
    copy_bits(out, at + 15, bz, bz_n, at + 15, sel_end - at - 15);
    put_bits(out, sel_end, PRW_BZ_BLOCK_MAGIC << 1, 49); /* the magic, then a final zero */
    copy_bits(out, sel_end + 49, bz, bz_n, sel_end, end - sel_end);
    size_t out_n = (size_t)((end + 49 + 7) / 8);
    uint64_t *cand = NULL;
    size_t ncand = 0, cap = 0;
    ASSERT_TRUE(prw__bz_scan(out, out_n, 0, out_n, &cand, &ncand, &cap));
    bool planted = ncand == 2 && cand[0] == 32 && cand[1] == sel_end;
    free(cand);
    ASSERT_TRUE(planted);
    ASSERT_TRUE(same_everywhere(out, out_n, src, n));
}

/* libbz2's output for bz, whether or not it then reports an error (malloc'd). */
static uint8_t *libbz2_output(const uint8_t *bz, size_t n, size_t cap, size_t *len) {
    bz_stream s;
    memset(&s, 0, sizeof s);
    uint8_t *out = malloc(cap);
    if (!out || BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK) {
        free(out);
        return NULL;
    }
    s.next_in = (char *)(uintptr_t)bz;
    s.avail_in = (unsigned)n;
    s.next_out = (char *)out;
    s.avail_out = (unsigned)cap;
    while (BZ2_bzDecompress(&s) == BZ_OK && s.avail_in > 0 && s.avail_out > 0)
        ;
    *len = cap - s.avail_out;
    BZ2_bzDecompressEnd(&s);
    return out;
}

TEST(bz_randomised_block) {
    /* bzip2 < 0.9.5 could write "randomised" blocks; libbz2 still reads them. Set the bit on
     * a block libbz2 wrote, take the bytes libbz2 then decodes, fix both CRCs for them, and
     * check libbz2 accepts the result and we give the same bytes. */
    size_t n = 6000, bz_n = 0;
    uint8_t *src = scratch(n);
    uint64_t s = 99;
    for (size_t i = 0; i < n; i++)
        src[i] = (uint8_t)('a' + th_rand(&s) % 26);
    uint8_t *bz = compress(src, n, 9, &bz_n);
    ASSERT_TRUE(bz != NULL);
    put_bits(bz, 32 + 48 + 32, 1, 1);
    size_t len = 0;
    uint8_t *got = libbz2_output(bz, bz_n, 2 * n, &len);
    ASSERT_TRUE(got != NULL);
    uint8_t *dec = scratch(len + 1);
    memcpy(dec, got, len);
    free(got);
    ASSERT_EQ_I64(len, n);
    ASSERT_TRUE(th_mismatch(dec, src, n) != (size_t)-1); /* bytes 617, 1337, ... flipped */
    uint32_t crc = prw__bz_crc_final(prw__bz_crc_update(prw__bz_crc_init(), dec, len));
    uint64_t end = block_end(bz, bz_n);
    put_bits(bz, 32 + 48, crc, 32);
    put_bits(bz, end + 48, crc, 32); /* one block: the stream CRC is the block CRC */
    uint8_t *ref = NULL;
    size_t nref = 0;
    ASSERT_EQ_I64(prw_fuzz_bz_ref(bz, bz_n, CAP, &ref, &nref), 0);
    free(ref);
    ASSERT_TRUE(same_everywhere(bz, bz_n, dec, len));
}

TEST(bz_block_finder_matches_bit_search) {
    size_t n = 200000;
    uint64_t s = 5;
    uint8_t *d = random_bytes(n, &s);
    for (int k = 0; k < 60; k++) /* planted at random bits, some near the ends */
        put_bits(d,
                 k == 0   ? 0
                 : k == 1 ? 8 * (uint64_t)n - 48
                          : th_rand(&s) % (8 * n - 48),
                 PRW_BZ_BLOCK_MAGIC, 48);
    uint64_t *cand = NULL;
    size_t ncand = 0, cap = 0;
    bool ok = true;
    for (size_t from = 0; from < n && ok; from += 65536) /* in chunks, as the reader scans */
        ok = prw__bz_scan(d, n, from, from + 65536 < n ? from + 65536 : n, &cand, &ncand, &cap);
    size_t found = 0;
    for (uint64_t bit = 0; ok && bit + 48 <= 8 * (uint64_t)n; bit++)
        if (prw__bz_peek(d, n, bit, 48) == PRW_BZ_BLOCK_MAGIC)
            ok = found < ncand && cand[found++] == bit;
    ok = ok && found == ncand && found >= 55;
    free(cand);
    ASSERT_TRUE(ok);
}

TEST(bz_memory_bound) {
    /* 30 blocks of ~100 kB; the consumer is slow, so the workers run ahead up to the budget */
    size_t n = 3000000, bz_n = 0;
    uint8_t *src = text(n, 17);
    uint8_t *bz = compress(src, n, 1, &bz_n);
    ASSERT_TRUE(bz != NULL);
    static const size_t budgets[] = {0, 250000};
    for (size_t b = 0; b < 2; b++) {
        prw__bz_reader *r = NULL;
        prw_error err;
        ASSERT_OK(prw__bz_reader_create(bz, bz_n, "t.bz2", 3, budgets[b], &r, &err), &err);
        size_t at = 0, biggest = 0;
        bool same = true;
        for (;;) {
            const uint8_t *p;
            size_t len;
            if (prw__bz_reader_next(r, &p, &len, &err) != PRW_OK || len == 0)
                break;
            same = same && len <= n - at && memcmp(p, src + at, len) == 0;
            at += len;
            biggest = len > biggest ? len : biggest;
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
        }
        size_t peak = prw__bz_reader_peak_buffered(r);
        prw__bz_reader_destroy(r);
        th_note("budget %zu: peak %zu bytes buffered, blocks of up to %zu", budgets[b], peak,
                biggest);
        ASSERT_TRUE(same && at == n);
        ASSERT_TRUE(peak >= biggest && peak <= budgets[b] + 3 * biggest);
    }
}
