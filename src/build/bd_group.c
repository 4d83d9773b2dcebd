/*
 * Grouping inside one key-range partition: a stable counting sort by probe rank, then a
 * stable sort of each probe's run by event_time. Input order is preserved among equal times
 * because rows arrive in input order (files, then row groups, then rows) and both sorts are
 * stable (CONTRACT.md §3). Measurement shards are usually sorted by time, so most runs are
 * already in order and cost one linear check.
 */
#include "common/hash.h"
#include "build/bd_internal.h"

prw_status prw__pl_group(const prw__pl_seg *segs, size_t nsegs, prw__pl_row *out, prw__pl_row *tmp,
                         uint32_t k0, uint32_t nkeys, size_t *starts, prw_error *err) {
    memset(starts, 0, (nkeys + 1) * sizeof *starts);
    for (size_t g = 0; g < nsegs; g++)
        for (size_t i = 0; i < segs[g].n; i++) {
            uint32_t k = segs[g].rows[i].key - k0;
            PRW_CHECK(k < nkeys, err, PRW_E_CORRUPT, -1,
                      "a row of probe %u in the partition of probes [%u, %u)", k + k0, k0,
                      k0 + nkeys);
            starts[k + 1]++;
        }
    for (uint32_t k = 0; k < nkeys; k++)
        starts[k + 1] += starts[k];
    /* Scatter into out using a running cursor per key (starts[k] advanced in place, then
     * restored from the next key's start). */
    for (size_t g = 0; g < nsegs; g++)
        for (size_t i = 0; i < segs[g].n; i++) {
            const prw__pl_row *r = &segs[g].rows[i];
            out[starts[r->key - k0]++] = *r;
        }
    for (uint32_t k = nkeys; k > 0; k--)
        starts[k] = starts[k - 1];
    starts[0] = 0;
    for (uint32_t k = 0; k < nkeys; k++)
        prw__pl_sort_by_time(out + starts[k], tmp + starts[k], starts[k + 1] - starts[k]);
    return PRW_OK;
}

static void merge_runs(const prw__pl_row *a, size_t na, const prw__pl_row *b, size_t nb,
                       prw__pl_row *out) {
    size_t i = 0, j = 0, k = 0;
    while (i < na && j < nb)
        out[k++] = b[j].t < a[i].t ? b[j++] : a[i++]; /* ties take a: stable */
    while (i < na)
        out[k++] = a[i++];
    while (j < nb)
        out[k++] = b[j++];
}

static void insertion_sort(prw__pl_row *r, size_t n) {
    for (size_t i = 1; i < n; i++) {
        prw__pl_row x = r[i];
        size_t j = i;
        while (j > 0 && r[j - 1].t > x.t) {
            r[j] = r[j - 1];
            j--;
        }
        r[j] = x;
    }
}

void prw__pl_sort_by_time(prw__pl_row *rows, prw__pl_row *tmp, size_t n) {
    size_t i = 1;
    while (i < n && rows[i - 1].t <= rows[i].t)
        i++;
    if (i >= n)
        return;
    /* Bottom-up merge sort: insertion-sorted runs of 32, then merges ping-ponging between
     * rows and tmp. */
    const size_t run = 32;
    for (size_t s = 0; s < n; s += run)
        insertion_sort(rows + s, n - s < run ? n - s : run);
    prw__pl_row *src = rows, *dst = tmp;
    for (size_t w = run; w < n; w *= 2) {
        for (size_t s = 0; s < n; s += 2 * w) {
            size_t na = n - s < w ? n - s : w;
            size_t nb = n - s - na < w ? n - s - na : w;
            merge_runs(src + s, na, src + s + na, nb, dst + s);
        }
        prw__pl_row *x = src;
        src = dst;
        dst = x;
    }
    if (src != rows)
        memcpy(rows, src, n * sizeof *rows);
}

int64_t prw__pl_src_id(const uint8_t *src, size_t len) {
    uint8_t d[16];
    prw__md5(src, len, d);
    return (int64_t)(prw__load_be64(d) >> 4);
}

static int64_t gcd64(int64_t a, int64_t b) {
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

void prw__pl_ratio_fraction(double ratio, int64_t *num, int64_t *den) {
    /* The smallest denominator ≤ 10000 that represents the ratio (to 1e-9); else 10000. */
    for (int64_t d = 1; d <= 10000; d++) {
        double n = ratio * (double)d;
        double r = (double)(int64_t)(n + 0.5);
        if (n - r < 1e-9 && r - n < 1e-9) {
            int64_t g = gcd64((int64_t)r, d);
            *num = g ? (int64_t)r / g : 0;
            *den = g ? d / g : 1;
            return;
        }
    }
    *num = (int64_t)(ratio * 10000.0 + 0.5);
    *den = 10000;
    int64_t g = gcd64(*num, *den);
    if (g > 1) {
        *num /= g;
        *den /= g;
    }
}

int64_t prw__pl_ratio_train_count(int64_t n_probes, double ratio) {
    double v = (double)n_probes * ratio;
    int64_t n = (int64_t)v; /* floor for non-negative v */
    if (n < 0)
        n = 0;
    if (n > n_probes)
        n = n_probes;
    return n;
}
