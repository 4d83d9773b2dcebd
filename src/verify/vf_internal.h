/*
 * Internals of `proberows verify` (docs/VERIFY.md): the row digest, the parsed manifest, the
 * per-record summaries and the failure list, shared by
 *   vf_verify.c    the whole verification: files, the walk across records, the totals
 *   vf_manifest.c  reading manifest.json
 *   vf_record.c    one record on its own (outer and inner Arrow IPC schemas, sizes, digest)
 *   vf_input.c     the input decoded again and compared per probe
 */
#ifndef PRW_VERIFY_VF_INTERNAL_H
#define PRW_VERIFY_VF_INTERNAL_H

#include <string.h>

#include "build/bd_internal.h"
#include "common/json.h"
#include "proberows/arrow_ipc.h"
#include "proberows/verify.h"

/* ---- row digest ------------------------------------------------------------------------- */

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return x;
}

enum { NULL_DST = 1, NULL_IPV = 2, NULL_RTT = 4 };
#define NULL_DST_HASH 0x6E756C6C64737421ull

/* Hash of one measurement; dsth = prw__pl_hash of dst_addr's bytes (NULL_DST_HASH if null). */
static inline uint64_t row_hash(int64_t t, uint64_t dsth, int8_t ipv, uint32_t rtt_bits,
                                unsigned nulls) {
    uint64_t h = mix64((uint64_t)t ^ 0x243F6A8885A308D3ull);
    h = mix64(h ^ dsth);
    return mix64(h ^ ((uint64_t)(uint8_t)ipv | (uint64_t)nulls << 8 | (uint64_t)rtt_bits << 32));
}

/* Arithmetic modulo the Mersenne prime 2^61 - 1. */
#define M61 ((1ull << 61) - 1)
/* The two bases of the digest. */
static inline uint64_t dig_base(int l) {
    return l ? 0x0F1E2D3C4B5A6978ull % M61 : 0x1A2B3C4D5E6F789ull % M61;
}

static inline uint64_t mulmod61(uint64_t a, uint64_t b) {
    unsigned __int128 p = (unsigned __int128)a * b;
    uint64_t r = ((uint64_t)p & M61) + (uint64_t)(p >> 61);
    return r >= M61 ? r - M61 : r;
}
static inline uint64_t addmod61(uint64_t a, uint64_t b) {
    uint64_t r = a + b;
    return r >= M61 ? r - M61 : r;
}
static inline uint64_t powmod61(uint64_t b, uint64_t e) {
    uint64_t r = 1;
    while (e) {
        if (e & 1)
            r = mulmod61(r, b);
        b = mulmod61(b, b);
        e >>= 1;
    }
    return r;
}

/* A running digest of a sequence: d[l] = sum h_i * base_l^i, pw[l] = base_l^(rows so far). */
typedef struct vdig {
    uint64_t d[2], pw[2];
} vdig;

static inline void dig_init(vdig *g) {
    g->d[0] = g->d[1] = 0;
    g->pw[0] = g->pw[1] = 1;
}
static inline void dig_add(vdig *g, uint64_t h) {
    h >>= 3; /* < 2^61 */
    if (h == M61)
        h = 0;
    for (int l = 0; l < 2; l++) {
        g->d[l] = addmod61(g->d[l], mulmod61(h, g->pw[l]));
        g->pw[l] = mulmod61(g->pw[l], dig_base(l));
    }
}
/* Appends a sequence of `n` rows with digest `tail` after `count` rows with digest `d`. */
static inline void dig_concat(uint64_t d[2], int64_t count, const uint64_t tail[2]) {
    for (int l = 0; l < 2; l++)
        d[l] = addmod61(d[l], mulmod61(powmod61(dig_base(l), (uint64_t)count), tail[l]));
}

/* ---- the manifest ------------------------------------------------------------------------ */

typedef struct vman {
    bool ok;
    uint64_t max_row;
    double ratio;
    int split; /* 0 ratio, 1 hash */
    int64_t num, den;
    prw_null_rtt null_rtt;
    int shards;
    const char *columns[PRW_COL_COUNT];
    prw_atlas_rtt atlas_rtt; /* how dump inputs were read */
    prw_atlas_src atlas_src;
    int64_t rows_read, rows_written, dropped[4], null_kept, null_failed, probes_cut;
    int64_t probes[2], records[2], meas[2], bytes[2], files[2];
    size_t n_inputs;
    int64_t *input_rows;
    prw__json json;
} vman;

/* ---- records and the verification context ------------------------------------------------ */

typedef struct vrec {
    char *src; /* copy of src_addr (prw__malloc) */
    uint32_t src_len;
    bool checked; /* decoded far enough to have a summary */
    int32_t n;
    int64_t src_id, first_t, last_t;
    prw_ipc_inner_counts counts;
    uint32_t first_dst_len;
    uint8_t first_nulls;
    uint64_t digest[2];
    int64_t null_rtt, failed_rtt;
} vrec;

typedef struct vfile {
    char name[128];
    int split;
    bool opened;
    bool bad; /* could not be read whole: totals are not compared */
    uint64_t nrec;
    uint64_t bytes;
    vrec *recs;
} vfile;

typedef struct vctx {
    const prw_verify_options *o;
    prw_verify_report *rep;
    vman man;
    int workers;
    size_t keep;
    pthread_mutex_t mu;
    size_t *key_ord; /* per kept failure: its order key (see add_failure) */
    vfile *files;
    size_t nfiles;
} vctx;

/* Failures are ordered by (ord, record): ord 0 is the manifest, 1 + i file i, then the
 * whole-output and input checks. Only the first `keep` are kept; all are counted. */
#define ORD_MANIFEST 0
#define ORD_FILE(i) (1 + (i))
#define ORD_TOTALS(v) (1 + (v)->nfiles)
#define ORD_INPUT(v) (2 + (v)->nfiles)

/* memcmp order of two byte strings, a proper prefix first (src_addr order). */
static inline int vf_cmp_bytes(const char *a, size_t al, const char *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c)
        return c;
    return al < bl ? -1 : al > bl;
}

/* Records one failure (thread-safe); the first `keep` in (ord, record) order are kept. */
void prw__vf_fail(vctx *v, size_t ord, const char *file, int64_t record, const char *check,
                  const char *fmt, ...) PRW_PRINTF(6, 7);

/* One probe of the output, for the split and input checks. */
typedef struct vprobe {
    const char *src;
    uint32_t len;
    uint8_t split;
    int64_t count;
    uint64_t digest[2];
} vprobe;

typedef struct vprobes {
    vprobe *p;
    size_t n, cap;
} vprobes;

/* Per-split totals gathered by the walk. */
typedef struct vtotals {
    int64_t probes[2], records[2], meas[2], cut, null_rtt, failed_rtt;
} vtotals;

/* vf_manifest.c: reads DIR/manifest.json into v->man (failures are recorded, not returned). */
prw_status prw__vf_read_manifest(vctx *v, prw_error *err);

/* vf_record.c: checks record `index` of file fi and fills its summary f->recs[index]; ctx is
 * a vread. The callback of prw_ar_reader_read_range. */
typedef struct vread {
    vctx *v;
    size_t fi;
    vfile *f;
} vread;
prw_status prw__vf_on_record(void *ctx, uint64_t index, const uint8_t *data, size_t len);

/* vf_input.c: with --input, decodes the input again and compares it per probe with ps. */
prw_status prw__vf_check_input(vctx *v, const vprobes *ps, const vtotals *t, prw_error *err);

#endif
