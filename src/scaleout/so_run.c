/*
 * Run files of scale-out map tasks: the format, the part cut, and the reader of reduce.
 *
 * Map task I writes, for each key range K, DIR/.runs/map-IIIII-range-KKKKK.run:
 *
 *     header  := "PRWRUN02" | u64 plan id | u32 map task | u32 range | u32 parts digest
 *                | u32 crc32(header[0..28))
 *     block   := u32 tag | u32 count | u32 raw length | u32 zstd length
 *                | u32 crc32(block header[0..16) | zstd bytes) | zstd(raw)
 *     trailer := "PRWEND02" | u64 blocks | u64 rows (in the row blocks)
 *
 * A range is cut into parts of consecutive probes balanced by the plan's row counts
 * (prw__run_parts; the digest in the header proves map and reduce cut alike). A row block
 * (tag = part index in the range) holds `count` rows of that part, byte-shuffled (24 planes:
 * byte b of every row, then byte b + 1...), so zstd sees the runs of equal high bytes. A row
 * is (i64 event_time µs, u32 rank - range start, u32 file dictionary id or UINT32_MAX for
 * NULL, f32 rtt, i8 ip_version, u8 flags, u16 0), little-endian, event_time stored as the
 * difference to the previous row's in the block (mod 2^64, the first against 0). A dictionary
 * block (tag PRW_SO_RUN_DICT_TAG) holds `count` dst_addr strings (count × u32 length, then the
 * bytes), which take the file's next dictionary ids; the writer puts them before the first
 * row that uses them. Each part's blocks are in input order, so a reduce task reads one part
 * at a time: every map task's blocks of that part, in map order, are the part's rows in
 * input order. Blocks hold at most PRW_SO_RUN_BLOCK_ROWS rows and PRW_SO_RUN_BLOCK_MAX raw bytes,
 * so a reader allocates a bounded amount before checking anything; every header, length and index
 * is checked before use.
 */
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/hash.h"
#include "common/io.h"
#include "scaleout/so_plan.h"
#include "scaleout/so_run.h"

typedef struct run_file {
    char *path;
    const uint8_t *f;
    size_t len;
    uint32_t *dict; /* file dictionary id -> dst_addr intern id */
    size_t ndict, dict_cap;
    prw__rfile rf; /* when the set mapped the file */
    bool opened;
} run_file;

typedef struct run_block {
    uint64_t off;
    uint32_t file, part, rows, clen; /* as checked when the file was added */
} run_block;

struct prw__run_set {
    uint64_t plan_id;
    uint32_t range, nmaps, nadded;
    uint32_t *part_key;
    size_t nparts;
    uint32_t digest;
    run_file *files;
    run_block *blocks; /* row blocks, in file order, until every file is added */
    size_t nblocks, blocks_cap;
    run_block *by_part; /* the same, stably by part */
    size_t *part_first; /* nparts + 1 */
    size_t *part_rows;
    prw__run_cursor cur; /* dictionary blocks */
};

size_t prw__run_parts(const uint64_t *rows, uint32_t n, uint32_t *part_key) {
    uint64_t total = 0;
    for (uint32_t r = 0; r < n; r++)
        total += rows[r];
    uint64_t target = total / PRW_SO_RUN_PARTS_PER_RANGE;
    if (target < 1)
        target = 1;
    if (target > PRW_SO_RUN_PART_MAX_ROWS)
        target = PRW_SO_RUN_PART_MAX_ROWS;
    size_t np = 0;
    uint64_t acc = 0;
    part_key[0] = 0;
    for (uint32_t r = 0; r < n; r++) {
        acc += rows[r];
        if (acc >= target && r + 1 < n) {
            part_key[++np] = r + 1;
            acc = 0;
        }
    }
    part_key[++np] = n;
    return np;
}

uint32_t prw__run_parts_digest(const uint32_t *part_key, size_t nparts) {
    uint32_t c = 0;
    for (size_t i = 0; i <= nparts; i++) {
        uint8_t b[4];
        prw__store_le32(b, part_key[i]);
        c = prw__crc32(c, b, 4);
    }
    return c;
}

uint32_t prw__run_block_crc(const uint8_t *header, const uint8_t *data, size_t len) {
    return prw__crc32(prw__crc32(0, header, 16), data, len);
}

void prw__run_cursor_cleanup(prw__run_cursor *c) {
    prw__free(c->raw);
    prw__free(c->rec);
    prw__codec_ctx_destroy(c->cc);
    memset(c, 0, sizeof *c);
}

static prw_status bad(const char *path, prw_status code, int64_t off, const char *what,
                      prw_error *err) {
    return prw__error_set(err, code, off, "%s: %s", path, what);
}

prw_status prw__run_set_create(prw__run_set **out, uint64_t plan_id, uint32_t range, uint32_t nmaps,
                               const uint32_t *part_key, size_t nparts, prw_error *err) {
    *out = NULL;
    prw__run_set *rs = prw__calloc(1, sizeof *rs);
    if (!rs)
        return prw__error_nomem(err, "a run set", sizeof *rs);
    rs->plan_id = plan_id;
    rs->range = range;
    rs->nmaps = nmaps;
    rs->nparts = nparts;
    rs->part_key = prw__malloc_array(nparts + 1, sizeof *rs->part_key);
    rs->files = prw__calloc(nmaps ? nmaps : 1, sizeof *rs->files);
    rs->part_first = prw__calloc(nparts + 1, sizeof *rs->part_first);
    rs->part_rows = prw__calloc(nparts ? nparts : 1, sizeof *rs->part_rows);
    if (!rs->part_key || !rs->files || !rs->part_first || !rs->part_rows) {
        prw__run_set_destroy(rs);
        return prw__error_nomem(err, "a run set", (nparts + nmaps) * 16);
    }
    memcpy(rs->part_key, part_key, (nparts + 1) * sizeof *part_key);
    rs->digest = prw__run_parts_digest(part_key, nparts);
    *out = rs;
    return PRW_OK;
}

void prw__run_set_destroy(prw__run_set *rs) {
    if (!rs)
        return;
    for (uint32_t i = 0; rs->files && i < rs->nmaps; i++) {
        prw__free(rs->files[i].path);
        prw__free(rs->files[i].dict);
        if (rs->files[i].opened)
            prw__rfile_close(&rs->files[i].rf);
    }
    prw__free(rs->files);
    prw__free(rs->part_key);
    prw__free(rs->blocks);
    prw__free(rs->by_part);
    prw__free(rs->part_first);
    prw__free(rs->part_rows);
    prw__run_cursor_cleanup(&rs->cur);
    prw__free(rs);
}

/* Checks a block's CRC and decompresses it into c->raw (raw_len bytes). */
static prw_status block_raw(prw__run_cursor *c, const char *path, const uint8_t *h, int64_t off,
                            prw_error *err) {
    uint32_t raw_len = prw__load_le32(h + 8), clen = prw__load_le32(h + 12);
    if (prw__run_block_crc(h, h + PRW_SO_RUN_BLOCK_HEADER, clen) != prw__load_le32(h + 16))
        return bad(path, PRW_E_CHECKSUM, off, "block CRC-32 mismatch", err);
    if (!c->cc)
        PRW_TRY(prw__codec_ctx_create(&c->cc, err));
    PRW_TRY(prw__reserve_array((void **)&c->raw, &c->raw_cap, raw_len ? raw_len : 1, 1,
                               "a run block", err));
    prw_status st = prw__codec_decompress(c->cc, PRW_CODEC_ZSTD, h + PRW_SO_RUN_BLOCK_HEADER, clen,
                                          c->raw, raw_len, err);
    if (st < 0) {
        prw__error_prefix(err, "%s (block at byte %lld): ", path, (long long)off);
        err->offset = off;
    }
    return st;
}

/* A dictionary block: its strings get the file's next dictionary ids. */
static prw_status add_dict(prw__run_set *rs, run_file *rf, const uint8_t *h, int64_t off,
                           prw__intern *dst_tab, prw_error *err) {
    uint32_t count = prw__load_le32(h + 4), raw_len = prw__load_le32(h + 8);
    PRW_TRY(block_raw(&rs->cur, rf->path, h, off, err));
    const uint8_t *raw = rs->cur.raw;
    PRW_TRY(prw__grow_array((void **)&rf->dict, &rf->dict_cap, rf->ndict + count, sizeof *rf->dict,
                            "a run dictionary", err));
    size_t pos = (size_t)count * 4;
    for (uint32_t i = 0; i < count; i++) {
        size_t l = prw__load_le32(raw + 4 * (size_t)i);
        if (l > raw_len - pos)
            return bad(rf->path, PRW_E_CORRUPT, off, "dictionary string past the block", err);
        PRW_TRY(prw__intern_get(dst_tab, raw + pos, l, prw__pl_hash(raw + pos, l),
                                &rf->dict[rf->ndict++], err));
        pos += l;
    }
    if (pos != raw_len)
        return bad(rf->path, PRW_E_CORRUPT, off, "dictionary block longer than its strings", err);
    return PRW_OK;
}

/* Builds by_part and part_first from the row blocks (a stable counting sort), then drops the
 * file-order list. */
static prw_status index_parts(prw__run_set *rs, prw_error *err) {
    rs->by_part = prw__malloc_array(rs->nblocks ? rs->nblocks : 1, sizeof *rs->by_part);
    if (!rs->by_part)
        return prw__error_nomem(err, "a run index", rs->nblocks * sizeof *rs->by_part);
    memset(rs->part_first, 0, (rs->nparts + 1) * sizeof *rs->part_first);
    for (size_t i = 0; i < rs->nblocks; i++)
        rs->part_first[rs->blocks[i].part + 1]++;
    for (size_t p = 0; p < rs->nparts; p++)
        rs->part_first[p + 1] += rs->part_first[p];
    for (size_t i = 0; i < rs->nblocks; i++)
        rs->by_part[rs->part_first[rs->blocks[i].part]++] = rs->blocks[i];
    for (size_t p = rs->nparts; p > 0; p--) /* part_first[p] ended at the start of p + 1 */
        rs->part_first[p] = rs->part_first[p - 1];
    rs->part_first[0] = 0;
    prw__free(rs->blocks); /* by_part holds them all now */
    rs->blocks = NULL;
    rs->nblocks = rs->blocks_cap = 0;
    return PRW_OK;
}

prw_status prw__run_set_add(prw__run_set *rs, uint32_t map, const char *path, const uint8_t *f,
                            size_t len, prw__intern *dst_tab, prw_error *err) {
    PRW_CHECK(map == rs->nadded && map < rs->nmaps, err, PRW_E_INVALID, -1,
              "%s: run files must be added in map order", path);
    run_file *rf = &rs->files[map];
    if (!rf->path && !(rf->path = prw__strdup(path)))
        return prw__error_nomem(err, "a path", strlen(path));
    rf->f = f;
    rf->len = len;
    if (len < PRW_SO_RUN_HEADER + PRW_SO_RUN_TRAILER || memcmp(f, PRW_SO_RUN_MAGIC, 8) != 0 ||
        prw__load_le32(f + 28) != prw__crc32(0, f, 28))
        return bad(path, PRW_E_CORRUPT, 0, "not a run file", err);
    if (prw__load_le64(f + 8) != rs->plan_id)
        return bad(path, PRW_E_CORRUPT, 8,
                   "written for another plan (plan.json changed since the map ran)", err);
    if (prw__load_le32(f + 16) != map || prw__load_le32(f + 20) != rs->range)
        return bad(path, PRW_E_CORRUPT, 16, "names another task or range", err);
    if (prw__load_le32(f + 24) != rs->digest)
        return bad(path, PRW_E_CORRUPT, 24,
                   "cut into other parts (plan.probes changed since the map ran)", err);
    const uint8_t *t = f + len - PRW_SO_RUN_TRAILER;
    if (memcmp(t, PRW_SO_RUN_END_MAGIC, 8) != 0)
        return bad(path, PRW_E_TRUNCATED, (int64_t)(len - PRW_SO_RUN_TRAILER),
                   "no trailer (incomplete file)", err);
    uint64_t blocks = prw__load_le64(t + 8), rows = prw__load_le64(t + 16), seen = 0, nb = 0;
    if (blocks > len / PRW_SO_RUN_BLOCK_HEADER || rows > blocks * PRW_SO_RUN_BLOCK_ROWS)
        return bad(path, PRW_E_CORRUPT, (int64_t)(len - PRW_SO_RUN_TRAILER),
                   "trailer counts impossible for the file's size", err);
    size_t pos = PRW_SO_RUN_HEADER, end = len - PRW_SO_RUN_TRAILER;
    while (pos < end) {
        int64_t off = (int64_t)pos;
        if (end - pos < PRW_SO_RUN_BLOCK_HEADER)
            return bad(path, PRW_E_TRUNCATED, off, "block header cut short", err);
        const uint8_t *h = f + pos;
        uint32_t tag = prw__load_le32(h), count = prw__load_le32(h + 4);
        uint32_t raw_len = prw__load_le32(h + 8), clen = prw__load_le32(h + 12);
        if (clen > end - pos - PRW_SO_RUN_BLOCK_HEADER)
            return bad(path, PRW_E_TRUNCATED, off, "block runs past the end of the file", err);
        if (tag == PRW_SO_RUN_DICT_TAG) {
            if (count == 0 || raw_len > PRW_SO_RUN_BLOCK_MAX || raw_len < (size_t)count * 4)
                return bad(path, PRW_E_CORRUPT, off, "bad dictionary block header", err);
            PRW_TRY(add_dict(rs, rf, h, off, dst_tab, err));
            nb++;
        } else {
            if (tag >= rs->nparts || count == 0 || count > PRW_SO_RUN_BLOCK_ROWS ||
                raw_len != (size_t)count * PRW_SO_RUN_ROW_BYTES)
                return bad(path, PRW_E_CORRUPT, off, "bad block header", err);
            PRW_TRY(prw__grow_array((void **)&rs->blocks, &rs->blocks_cap, rs->nblocks + 1,
                                    sizeof *rs->blocks, "a run index", err));
            rs->blocks[rs->nblocks++] = (run_block){(uint64_t)pos, map, tag, count, clen};
            rs->part_rows[tag] += count;
            seen += count;
            nb++;
        }
        pos += PRW_SO_RUN_BLOCK_HEADER + clen;
    }
    if (nb != blocks || seen != rows)
        return bad(path, PRW_E_CORRUPT, (int64_t)(len - PRW_SO_RUN_TRAILER),
                   "trailer counts disagree with the blocks", err);
    rs->nadded++;
    return rs->nadded == rs->nmaps ? index_parts(rs, err) : PRW_OK; /* once, when complete */
}

prw_status prw__run_set_open(prw__run_set *rs, uint32_t map, const char *path, prw__intern *dst_tab,
                             prw_error *err) {
    PRW_CHECK(map < rs->nmaps, err, PRW_E_INVALID, -1, "%s: no map task %u", path, map);
    run_file *rf = &rs->files[map];
    PRW_TRY(prw__rfile_open(&rf->rf, path, true, err));
    rf->opened = true;
    static const uint8_t empty[1];
    return prw__run_set_add(rs, map, path, rf->rf.map ? rf->rf.map : empty, (size_t)rf->rf.size,
                            dst_tab, err);
}

size_t prw__run_set_part_rows(const prw__run_set *rs, size_t p) {
    return p < rs->nparts ? rs->part_rows[p] : 0;
}

prw_status prw__run_read_part(const prw__run_set *rs, prw__run_cursor *c, size_t p,
                              prw__pl_row *dst, const prw__intern *dst_tab, uint64_t *probe_rows,
                              uint64_t *probe_bytes, prw_error *err) {
    PRW_CHECK(p < rs->nparts && rs->nadded == rs->nmaps, err, PRW_E_INVALID, -1,
              "part %zu of an incomplete run set", p);
    uint32_t k0 = rs->part_key[p], k1 = rs->part_key[p + 1];
    size_t n = 0;
    for (size_t bi = rs->part_first[p]; bi < rs->part_first[p + 1]; bi++) {
        const run_block *blk = &rs->by_part[bi];
        const run_file *rf = &rs->files[blk->file];
        const uint8_t *h = rf->f + blk->off;
        int64_t off = (int64_t)blk->off;
        uint32_t count = blk->rows;
        /* The mapping shows the file as it is now: the header must still be the one indexed. */
        if (prw__load_le32(h) != blk->part || prw__load_le32(h + 4) != count ||
            prw__load_le32(h + 8) != count * PRW_SO_RUN_ROW_BYTES ||
            prw__load_le32(h + 12) != blk->clen)
            return bad(rf->path, PRW_E_CORRUPT, off, "block header changed while reading", err);
        PRW_TRY(block_raw(c, rf->path, h, off, err));
        PRW_TRY(prw__reserve_array((void **)&c->rec, &c->rec_cap, count, PRW_SO_RUN_ROW_BYTES,
                                   "run rows", err));
        prw__pl_unshuffle(c->raw, c->rec, count, PRW_SO_RUN_ROW_BYTES);
        uint64_t t = 0;
        for (uint32_t i = 0; i < count; i++) {
            const uint8_t *in = c->rec + (size_t)i * PRW_SO_RUN_ROW_BYTES;
            prw__pl_row *r = &dst[n + i];
            t += prw__load_le64(in); /* time deltas, mod 2^64 */
            r->t = (int64_t)t;
            r->key = prw__load_le32(in + 8);
            uint32_t d = prw__load_le32(in + 12), rtt = prw__load_le32(in + 16);
            memcpy(&r->rtt, &rtt, 4);
            r->ipv = (int8_t)in[20];
            r->flags = in[21];
            r->pad = 0;
            if (r->key < k0 || r->key >= k1 || (d != UINT32_MAX && d >= rf->ndict) ||
                (r->flags & ~(PRW_PL_RTT_NULL | PRW_PL_IPV_NULL)))
                return bad(rf->path, PRW_E_CORRUPT, off,
                           "a row's key, dictionary index or flags is out of range", err);
            r->dst = d == UINT32_MAX ? PRW_PL_NULL_ID : rf->dict[d];
            if (probe_rows) {
                probe_rows[r->key]++;
                probe_bytes[r->key] +=
                    28 + (r->dst == PRW_PL_NULL_ID ? 0 : prw__intern_len(dst_tab, r->dst));
            }
        }
        n += count;
    }
    return PRW_OK;
}
