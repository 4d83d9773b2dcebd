/* Unit tests of the pipeline's building blocks: globbing, interning, grouping and sorting,
 * src_id and the split rules. */
#include <stdlib.h>
#include <sys/stat.h>

#include "harness.h"
#include "build/bd_internal.h"

TEST(pl_glob_patterns_sorted_deduplicated) {
    const char *d = th_tmpdir();
    const char *files[] = {"a/x1.parquet",     "a/x2.parquet",      "a/b/x3.parquet",
                           "a/b/c/x4.parquet", "a/.hidden.parquet", "a/y.txt"};
    ASSERT_EQ_I64(th_sh(th_fmt("mkdir -p %s/a/b/c", d)), 0);
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        ASSERT_TRUE(th_write(th_fmt("%s/%s", d, files[i]), "x", 1));
    prw_error err;
    prw_error_clear(&err);
    const char *pats[] = {th_fmt("%s/a/*.parquet", d), th_fmt("%s/a/x1.parquet", d)};
    char **paths;
    size_t n;
    ASSERT_OK(prw__pl_glob(pats, 2, &paths, &n, &err), &err);
    ASSERT_EQ_I64(n, 2); /* x1 once, x2; no hidden file, no .txt */
    ASSERT_EQ_STR(paths[0], th_fmt("%s/a/x1.parquet", d));
    ASSERT_EQ_STR(paths[1], th_fmt("%s/a/x2.parquet", d));
    prw__pl_free_paths(paths, n);
    const char *deep[] = {th_fmt("%s/a/**/x?.parquet", d)};
    ASSERT_OK(prw__pl_glob(deep, 1, &paths, &n, &err), &err);
    ASSERT_EQ_I64(n, 4);
    ASSERT_EQ_STR(paths[0], th_fmt("%s/a/b/c/x4.parquet", d)); /* byte order of paths */
    ASSERT_EQ_STR(paths[3], th_fmt("%s/a/x2.parquet", d));
    prw__pl_free_paths(paths, n);
    const char *cls[] = {th_fmt("%s/a/x[2-9].parquet", d)};
    ASSERT_OK(prw__pl_glob(cls, 1, &paths, &n, &err), &err);
    ASSERT_EQ_I64(n, 1);
    prw__pl_free_paths(paths, n);
    const char *none[] = {th_fmt("%s/a/*.csv", d)};
    ASSERT_ERR(prw__pl_glob(none, 1, &paths, &n, &err), PRW_E_IO);
    ASSERT_TRUE(strstr(err.msg, "*.csv") != NULL);
}

TEST(pl_intern_dense_ids) {
    prw__intern t;
    prw_error err;
    ASSERT_OK(prw__intern_init(&t, &err), &err);
    char key[32];
    for (int round = 0; round < 2; round++) {
        for (uint32_t i = 0; i < 5000; i++) {
            int len = snprintf(key, sizeof key, "10.%u.%u.1", i / 256, i % 256);
            uint32_t id = 0;
            prw_status st = prw__intern_get(&t, (const uint8_t *)key, (size_t)len,
                                            prw__pl_hash(key, (size_t)len), &id, &err);
            if (st < 0)
                prw__intern_cleanup(&t);
            ASSERT_OK(st, &err);
            ASSERT_EQ_I64(id, i);
        }
    }
    ASSERT_EQ_I64(t.n, 5000);
    uint32_t id;
    ASSERT_OK(prw__intern_get(&t, (const uint8_t *)"", 0, prw__pl_hash("", 0), &id, &err), &err);
    ASSERT_EQ_I64(id, 5000);
    ASSERT_EQ_I64(prw__intern_len(&t, 5000), 0);
    ASSERT_MEM_EQ(prw__intern_ptr(&t, 3), "10.0.3.1", 8);
    prw__intern_cleanup(&t);
}

/* The hash as first written: words, then the tail bytes one at a time. */
/* memcmp order, a proper prefix first: what prw__intern_sort must agree with. */
static int cmp_bytes_then_len(const uint8_t *a, size_t na, const uint8_t *b, size_t nb) {
    int c = memcmp(a, b, na < nb ? na : nb);
    return c ? c : (na > nb) - (na < nb);
}

/* Strings built to meet every branch of the sort: shared prefixes of 0-100 bytes (past its
 * recursion bound), lengths on and around multiples of 8, zero bytes (a zero byte and a
 * string's end look alike in a padded word), proper prefixes of each other, the empty string,
 * runs long enough for the radix and short enough for insertion. */
TEST(pl_intern_sort_is_byte_order) {
    static const size_t prefix_len[] = {0, 3, 8, 13, 16, 70, 100};
    uint8_t prefix[100];
    memset(prefix, 'p', sizeof prefix);
    prefix[5] = 0;
    for (int trial = 0; trial < 3; trial++) {
        prw__intern t;
        prw_error err;
        ASSERT_OK(prw__intern_init(&t, &err), &err);
        uint64_t s = 0x5eed + (uint64_t)trial;
        size_t want = trial == 0 ? 40 : 6000;
        uint8_t key[140];
        for (size_t i = 0; t.n < want && i < 20 * want; i++) {
            size_t pl = prefix_len[th_rand(&s) % (sizeof prefix_len / sizeof *prefix_len)];
            size_t tail = (size_t)(th_rand(&s) % 18);
            memcpy(key, prefix, pl);
            for (size_t k = 0; k < tail; k++) {
                uint64_t r = th_rand(&s) % 8;
                key[pl + k] = r == 0 ? 0 : r == 1 ? 0xff : (uint8_t)('0' + r);
            }
            uint32_t id;
            prw_status st =
                prw__intern_get(&t, key, pl + tail, prw__pl_hash(key, pl + tail), &id, &err);
            if (st < 0)
                prw__intern_cleanup(&t);
            ASSERT_OK(st, &err);
        }
        uint32_t *order = malloc(t.n * sizeof *order);
        ASSERT_TRUE(order != NULL);
        prw_status st = prw__intern_sort(&t, order, &err);
        size_t bad = st == PRW_OK ? 0 : 1;
        uint8_t *seen = calloc(t.n, 1);
        for (size_t i = 0; i < t.n && seen; i++)
            bad += order[i] >= t.n || seen[order[i]]++;
        for (size_t i = 1; i < t.n && !bad; i++)
            bad += cmp_bytes_then_len(
                       prw__intern_ptr(&t, order[i - 1]), prw__intern_len(&t, order[i - 1]),
                       prw__intern_ptr(&t, order[i]), prw__intern_len(&t, order[i])) >= 0;
        size_t n = t.n;
        free(seen);
        free(order);
        prw__intern_cleanup(&t);
        ASSERT_TRUE(n >= want / 2);
        ASSERT_EQ_I64(bad, 0);
    }
}

static uint64_t hash_bytewise(const uint8_t *p, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xC2B2AE3D27D4EB4Full);
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w = 0;
        for (int i = 0; i < 8; i++)
            w |= (uint64_t)p[i] << (8 * i);
        h = (h ^ (w * 0x87C37B91114253D5ull)) * 0x4CF5AD432745937Full;
        h ^= h >> 29;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)p[i] << (8 * i);
    h = (h ^ (w * 0x87C37B91114253D5ull)) * 0x4CF5AD432745937Full;
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 32;
    return h;
}

/* The overlapping tail loads give the same hash for every length and read only the string
 * (each copy is a heap block of exactly n bytes, so ASan sees any read past it). */
TEST(pl_hash_tail_loads_match_bytewise) {
    uint64_t seed = 7;
    for (size_t n = 0; n <= 70; n++) {
        uint8_t *p = malloc(n ? n : 1);
        ASSERT_TRUE(p != NULL);
        for (int rep = 0; rep < 20; rep++) {
            for (size_t i = 0; i < n; i++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                p[i] = (uint8_t)(seed >> 56);
            }
            uint64_t want = hash_bytewise(p, n);
            if (prw__pl_hash(p, n) != want) {
                free(p);
                ASSERT_EQ_I64((int64_t)n, -1); /* reports the failing length */
            }
        }
        free(p);
    }
}

TEST(pl_group_stable_by_key_then_time) {
    uint64_t seed = 42;
    size_t n = 20000;
    prw__pl_row *in = calloc(n, sizeof *in), *rows = calloc(n, sizeof *rows);
    size_t starts[51];
    for (size_t i = 0; i < n; i++) {
        in[i].key = 100 + (uint32_t)(th_rand(&seed) % 50);
        in[i].t = (int64_t)(th_rand(&seed) % 100); /* many ties */
        in[i].dst = (uint32_t)i;                   /* input position */
    }
    /* Three slices read as one sequence; the first slice's memory is the merge space. */
    prw__pl_seg segs[3] = {{in, 7000}, {in + 7000, 0}, {in + 7000, n - 7000}};
    prw_error err;
    prw_status st = prw__pl_group(segs, 3, rows, in, 100, 50, starts, &err);
    bool ok = st == PRW_OK && starts[0] == 0 && starts[50] == n;
    for (size_t i = 1; i < n && ok; i++) {
        const prw__pl_row *a = &rows[i - 1], *b = &rows[i];
        if (a->key > b->key || (a->key == b->key && a->t > b->t) ||
            (a->key == b->key && a->t == b->t && a->dst > b->dst))
            ok = false;
    }
    for (uint32_t k = 0; k < 50 && ok; k++)
        for (size_t i = starts[k]; i < starts[k + 1]; i++)
            if (rows[i].key != 100 + k)
                ok = false;
    free(rows);
    free(in);
    ASSERT_TRUE(ok);
}

TEST(pl_group_key_outside_partition_fails) {
    prw__pl_row in[3] = {{.key = 5}, {.key = 6}, {.key = 9}}, out[3], tmp[3];
    size_t starts[4];
    prw__pl_seg seg = {in, 3};
    prw_error err;
    ASSERT_EQ_I64(prw__pl_group(&seg, 1, out, tmp, 5, 3, starts, &err), PRW_E_CORRUPT);
    ASSERT_TRUE(strstr(err.msg, "probe 9") != NULL);
}

TEST(pl_sort_by_time_sorted_and_reverse) {
    for (size_t n = 0; n < 300; n += 37) {
        prw__pl_row r[300], tmp[300];
        for (size_t i = 0; i < n; i++) {
            r[i].t = (int64_t)(n - i) / 3;
            r[i].dst = (uint32_t)i;
        }
        prw__pl_sort_by_time(r, tmp, n);
        for (size_t i = 1; i < n; i++) {
            ASSERT_TRUE(r[i - 1].t <= r[i].t);
            if (r[i - 1].t == r[i].t)
                ASSERT_TRUE(r[i - 1].dst < r[i].dst);
        }
    }
}

TEST(pl_src_id_and_split_rules) {
    /* md5("abc") = 900150983cd24fb0...: the first 15 hex digits as an integer. */
    ASSERT_EQ_I64(prw__pl_src_id((const uint8_t *)"abc", 3), 0x900150983cd24fbLL);
    int64_t num, den;
    prw__pl_ratio_fraction(0.9, &num, &den);
    ASSERT_EQ_I64(num, 9);
    ASSERT_EQ_I64(den, 10);
    prw__pl_ratio_fraction(0.75, &num, &den);
    ASSERT_EQ_I64(num, 3);
    ASSERT_EQ_I64(den, 4);
    prw__pl_ratio_fraction(1.0, &num, &den);
    ASSERT_EQ_I64(num, 1);
    ASSERT_EQ_I64(den, 1);
    prw__pl_ratio_fraction(0.0, &num, &den);
    ASSERT_EQ_I64(num, 0);
    prw__pl_ratio_fraction(0.1234, &num, &den);
    ASSERT_EQ_I64(num, 617);
    ASSERT_EQ_I64(den, 5000);
    /* The seed's shard: 18,928 probes -> 17,035 train with ratio 0.9. */
    ASSERT_EQ_I64(prw__pl_ratio_train_count(18928, 0.9), 17035);
    ASSERT_EQ_I64(prw__pl_ratio_train_count(10, 1.0), 10);
    ASSERT_EQ_I64(prw__pl_ratio_train_count(0, 0.9), 0);
}
