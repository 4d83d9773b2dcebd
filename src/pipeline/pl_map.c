/*
 * `proberows map`: one map task of a scale-out plan (scaleout.h, docs/SLURM.md).
 *
 * The task decodes its contiguous run of input files row group by row group, in input order,
 * exactly as the build decodes them (NULL policy, drops), maps every src_addr to its global
 * probe rank through the plan's probe list (a string the plan does not know is an error: the
 * inputs changed), and appends each row group's rows, split by key range, to that range's run
 * file DIR/.runs/map-IIIII-range-KKKKK.run:
 *
 *     header  := "PRWRUN01" | u64 plan id | u32 map task | u32 range | u32 0 | u32 crc32(header)
 *     block   := u32 rows | u32 ndict | u32 raw length | u32 zstd length | u32 crc32(zstd bytes)
 *                | zstd(ndict × u32 length | dictionary bytes | rows × 24-byte row)
 *     trailer := "PRWEND01" | u64 blocks | u64 rows
 *
 * A row is (i64 event_time µs, u32 rank - range start, u32 dictionary index or UINT32_MAX for
 * NULL, f32 rtt, i8 ip_version, u8 flags, u16 0), little-endian, event_time stored as the
 * difference to the previous row's (mod 2^64, the first against 0), and the block's rows
 * byte-shuffled (24 planes: byte b of every row, then byte b + 1...), which lets zstd see the
 * runs of equal high bytes (run files a quarter smaller on the benchmark data). dst_addr strings
 * travel in a per-block dictionary because intern ids belong to one process. Blocks hold at most
 * RUN_BLOCK_ROWS rows and RUN_BLOCK_MAX raw bytes, so a reader allocates a bounded amount
 * before checking anything. Each file is written to a temporary and renamed (prw__wfile), then
 * a DIR/.runs/map-IIIII.json with the task's counts: rerunning the task rewrites the same
 * bytes, a killed task leaves no file under a final name.
 */
#include <stdio.h>
#include <string.h>

#include "common/codec.h"
#include "common/hash.h"
#include "common/io.h"
#include "pipeline/pl_internal.h"
#include "pipeline/pl_run.h"
#include "proberows/scaleout.h"

#define PATH_BUF 4096

typedef struct map_state {
    prw__plan *plan;
    prw__intern src_tab, dst_tab;
    bool tabs;
    uint32_t *ident;
    prw__pl_keymap *keymap;
    prw__pl_source *src;
    prw__pl_decoder *dec;
    prw__wfile *files;
    uint64_t *blocks, *rows; /* by range */
    uint32_t *range_of;      /* by rank */
    prw__pl_row *tmp;
    size_t tmp_cap;
    size_t *cnt;
    uint32_t *remap; /* dst intern id -> block dictionary index */
    size_t remap_cap;
    prw__buf raw, comp, rec; /* rec: a block's rows as 24-byte records, before shuffling */
    prw__codec_ctx *cc;
    prw__pl_decoded d;
} map_state;

void prw__run_name(const prw__plan *p, char *buf, size_t cap, uint32_t map, uint32_t range) {
    prw__plan_path(p, buf, cap, ".runs/map-%05u-range-%05u.run", map, range);
}

/* Encodes rows (global ranks, range base `base`) as one or more blocks into run file k. */
static prw_status put_rows(map_state *m, uint32_t k, const prw__pl_row *rows, size_t n,
                           uint32_t base, prw_error *err) {
    prw__wfile *f = &m->files[k];
    size_t i = 0;
    while (i < n) {
        /* One block: rows until RUN_BLOCK_ROWS or the raw size limit. */
        prw__buf_clear(&m->raw);
        size_t ndict = 0, dict_bytes = 0, j = i;
        uint32_t *rm = m->remap;
        const prw__intern *dt = &m->dst_tab;
        /* Pass 1: choose the rows and the dictionary. */
        while (j < n && j - i < RUN_BLOCK_ROWS) {
            uint32_t dst = rows[j].dst;
            size_t add = 24;
            if (dst != PRW_PL_NULL_ID && rm[dst] == UINT32_MAX)
                add += 4 + prw__intern_len(dt, dst);
            if ((ndict * 4 + dict_bytes + (j - i) * 24 + add > RUN_BLOCK_MAX) && j > i)
                break;
            if (dst != PRW_PL_NULL_ID && rm[dst] == UINT32_MAX) {
                rm[dst] = (uint32_t)ndict++;
                dict_bytes += prw__intern_len(dt, dst);
            }
            j++;
        }
        size_t nrows = j - i, raw_len = ndict * 4 + dict_bytes + nrows * 24;
        PRW_CHECK(raw_len <= 2 * (size_t)RUN_BLOCK_MAX, err, PRW_E_LIMIT, -1,
                  "a dst_addr string of %zu bytes is too long for a run block",
                  prw__intern_len(dt, rows[i].dst));
        PRW_TRY(prw__buf_resize(&m->raw, raw_len, err));
        PRW_TRY(prw__buf_resize(&m->rec, nrows * 24, err));
        uint8_t *lens = m->raw.data, *dict = lens + ndict * 4, *out = dict + dict_bytes;
        /* Pass 2: dictionary in first-use order, then the rows; the remap is reset. */
        size_t dpos = 0, di = 0;
        uint64_t prev_t = 0;
        for (size_t r = i; r < j; r++) {
            const prw__pl_row *row = &rows[r];
            uint32_t dst = row->dst, idx = UINT32_MAX;
            if (dst != PRW_PL_NULL_ID) {
                idx = rm[dst];
                if (idx == di) { /* first use in this block */
                    size_t l = prw__intern_len(dt, dst);
                    prw__store_le32(lens + 4 * di, (uint32_t)l);
                    memcpy(dict + dpos, prw__intern_ptr(dt, dst), l);
                    dpos += l;
                    di++;
                }
            }
            uint8_t *o = m->rec.data + (r - i) * 24;
            uint32_t rtt_bits;
            memcpy(&rtt_bits, &row->rtt, 4);
            prw__store_le64(o, (uint64_t)row->t - prev_t);
            prev_t = (uint64_t)row->t;
            prw__store_le32(o + 8, row->key - base);
            prw__store_le32(o + 12, idx);
            prw__store_le32(o + 16, rtt_bits);
            o[20] = (uint8_t)row->ipv;
            o[21] = row->flags;
            o[22] = o[23] = 0;
        }
        prw__pl_shuffle(m->rec.data, out, nrows, 24);
        for (size_t r = i; r < j; r++)
            if (rows[r].dst != PRW_PL_NULL_ID)
                rm[rows[r].dst] = UINT32_MAX;
        size_t bound = prw__codec_bound(PRW_CODEC_ZSTD, raw_len);
        prw__buf_clear(&m->comp);
        PRW_TRY(prw__buf_reserve(&m->comp, bound + RUN_BLOCK_HEADER, err));
        size_t clen = 0;
        prw__codec_opts co = {1, 0};
        PRW_TRY(prw__codec_compress(m->cc, PRW_CODEC_ZSTD, &co, m->raw.data, raw_len,
                                    m->comp.data + RUN_BLOCK_HEADER, bound, &clen, err));
        uint8_t *h = m->comp.data;
        prw__store_le32(h, (uint32_t)nrows);
        prw__store_le32(h + 4, (uint32_t)ndict);
        prw__store_le32(h + 8, (uint32_t)raw_len);
        prw__store_le32(h + 12, (uint32_t)clen);
        prw__store_le32(h + 16, prw__crc32(0, h + RUN_BLOCK_HEADER, clen));
        PRW_TRY(prw__wfile_write(f, h, RUN_BLOCK_HEADER + clen, err));
        m->blocks[k]++;
        m->rows[k] += nrows;
        i = j;
    }
    return PRW_OK;
}

/* Splits one decoded row group by key range (stable) and appends each part. */
static prw_status put_row_group(map_state *m, prw_error *err) {
    const prw__plan *p = m->plan;
    size_t n = m->d.n, N = p->reduce_tasks;
    if (n > m->tmp_cap) {
        prw__free(m->tmp);
        m->tmp = prw__malloc_array(n, sizeof *m->tmp);
        m->tmp_cap = m->tmp ? n : 0;
        if (!m->tmp)
            return prw__error_nomem(err, "a row group", n * sizeof *m->tmp);
    }
    if (m->dst_tab.n > m->remap_cap) {
        size_t cap = m->dst_tab.n * 2;
        uint32_t *r = prw__realloc(m->remap, cap * sizeof *r);
        if (!r)
            return prw__error_nomem(err, "a dictionary map", cap * 4);
        memset(r + m->remap_cap, 0xff, (cap - m->remap_cap) * sizeof *r);
        m->remap = r;
        m->remap_cap = cap;
    }
    memset(m->cnt, 0, (N + 1) * sizeof *m->cnt);
    for (size_t i = 0; i < n; i++)
        m->cnt[m->range_of[m->d.rows[i].key] + 1]++;
    for (size_t k = 0; k < N; k++)
        m->cnt[k + 1] += m->cnt[k];
    for (size_t i = 0; i < n; i++)
        m->tmp[m->cnt[m->range_of[m->d.rows[i].key]]++] = m->d.rows[i];
    size_t start = 0;
    for (size_t k = 0; k < N; k++) {
        size_t end = m->cnt[k];
        if (end > start)
            PRW_TRY(put_rows(m, (uint32_t)k, m->tmp + start, end - start, p->bounds[k], err));
        start = end;
    }
    return PRW_OK;
}

static prw_status write_stats(map_state *m, uint32_t task, const prw_build_stats *st,
                              prw_error *err) {
    char path[PATH_BUF];
    prw__plan_path(m->plan, path, sizeof path, ".runs/map-%05u.json", task);
    prw__buf b;
    prw__buf_init(&b);
    prw_status s = prw__pl_bufprintf(
        &b, err,
        "{\"plan_id\": \"%016llx\", \"task\": %u, \"files\": %lld, \"row_groups\": %lld, "
        "\"rows_read\": %lld, \"input_bytes\": %lld, \"dropped_null_src_addr\": %lld, "
        "\"dropped_null_event_time\": %lld, \"dropped_null_rtt\": %lld, \"null_rtt_kept\": "
        "%lld, \"null_rtt_failed\": %lld}\n",
        (unsigned long long)m->plan->id, task, (long long)st->files, (long long)st->row_groups,
        (long long)st->rows_read, (long long)st->input_bytes, (long long)st->dropped_null_src_addr,
        (long long)st->dropped_null_event_time, (long long)st->dropped_null_rtt,
        (long long)st->null_rtt_kept, (long long)st->null_rtt_failed);
    prw__wfile f = {0};
    f.fd = -1;
    if (s == PRW_OK)
        s = prw__wfile_open(&f, path, err);
    if (s == PRW_OK)
        s = prw__wfile_write(&f, b.data, b.len, err);
    if (s == PRW_OK)
        s = prw__wfile_commit(&f, err);
    prw__wfile_abort(&f);
    prw__buf_cleanup(&b);
    return s;
}

static prw_status map_run(map_state *m, uint32_t task, prw_error *err) {
    const prw__plan *p = m->plan;
    uint32_t N = p->reduce_tasks;
    PRW_TRY(prw__intern_init(&m->src_tab, err));
    PRW_TRY(prw__intern_init(&m->dst_tab, err));
    m->tabs = true;
    PRW_TRY(prw__plan_load_probes(p, 0, p->n_probes, &m->src_tab, err));
    size_t np = p->n_probes ? p->n_probes : 1;
    m->ident = prw__malloc_array(np, sizeof *m->ident);
    m->range_of = prw__malloc_array(np, sizeof *m->range_of);
    m->files = prw__calloc(N, sizeof *m->files);
    m->blocks = prw__calloc(N, sizeof *m->blocks);
    m->rows = prw__calloc(N, sizeof *m->rows);
    m->cnt = prw__calloc(N + 1, sizeof *m->cnt);
    if (!m->ident || !m->range_of || !m->files || !m->blocks || !m->rows || !m->cnt)
        return prw__error_nomem(err, "map tables", np * 8);
    for (uint32_t k = 0; k < N; k++) {
        m->files[k].fd = -1;
        for (uint32_t r = p->bounds[k]; r < p->bounds[k + 1]; r++)
            m->range_of[r] = k;
    }
    for (uint32_t r = 0; r < p->n_probes; r++)
        m->ident[r] = r;
    PRW_TRY(prw__pl_keymap_build(&m->keymap, &m->src_tab, m->ident, err));
    PRW_TRY(prw__codec_ctx_create(&m->cc, err));
    char path[PATH_BUF];
    prw__plan_path(p, path, sizeof path, ".runs");
    PRW_TRY(prw__mkdir_p(path, err));
    for (uint32_t k = 0; k < N; k++) {
        prw__run_name(p, path, sizeof path, task, k);
        PRW_TRY(prw__wfile_open(&m->files[k], path, err));
        uint8_t h[RUN_HEADER];
        memcpy(h, RUN_MAGIC, 8);
        prw__store_le64(h + 8, p->id);
        prw__store_le32(h + 16, task);
        prw__store_le32(h + 20, k);
        prw__store_le32(h + 24, 0);
        prw__store_le32(h + 28, prw__crc32(0, h, 28));
        PRW_TRY(prw__wfile_write(&m->files[k], h, sizeof h, err));
    }
    prw_build_stats st;
    memset(&st, 0, sizeof st);
    size_t f0 = p->map_first[task], f1 = p->map_first[task + 1];
    if (f1 > f0) {
        PRW_TRY(prw__pl_source_open(&m->src, p->paths + f0, f1 - f0, &p->opts, true, err));
        PRW_TRY(prw__pl_decoder_create(m->src, &m->dec, err));
        prw__pl_decoder_set_keymap(m->dec, m->keymap);
        st.files = (int64_t)(f1 - f0);
        for (size_t f = 0; f < f1 - f0; f++) {
            st.rows_read += prw__pl_source_file_rows(m->src, f);
            st.input_bytes += prw__pl_source_file_bytes(m->src, f);
        }
        size_t nrg = prw__pl_source_row_groups(m->src);
        st.row_groups = (int64_t)nrg;
        for (size_t g = 0; g < nrg; g++) {
            PRW_TRY(prw__pl_decode_rg(m->dec, g, &m->src_tab, &m->dst_tab, p->opts.null_rtt, &m->d,
                                      err));
            st.dropped_null_src_addr += m->d.dropped_null_src;
            st.dropped_null_event_time += m->d.dropped_null_time;
            st.dropped_null_rtt += m->d.dropped_null_rtt;
            st.null_rtt_kept += m->d.null_rtt_kept;
            st.null_rtt_failed += m->d.null_rtt_failed;
            prw_status s = put_row_group(m, err);
            prw__free(m->d.rows);
            m->d.rows = NULL;
            PRW_TRY(s);
        }
    }
    for (uint32_t k = 0; k < N; k++) {
        uint8_t t[RUN_TRAILER];
        memcpy(t, RUN_END_MAGIC, 8);
        prw__store_le64(t + 8, m->blocks[k]);
        prw__store_le64(t + 16, m->rows[k]);
        PRW_TRY(prw__wfile_write(&m->files[k], t, sizeof t, err));
        PRW_TRY(prw__wfile_commit(&m->files[k], err));
    }
    return write_stats(m, task, &st, err);
}

prw_status prw_map(const char *plan_path, int task, int workers, prw_error *err) {
    (void)workers;
    PRW_CHECK(plan_path, err, PRW_E_INVALID, -1, "no --plan given");
    map_state m;
    memset(&m, 0, sizeof m);
    prw__buf_init(&m.raw);
    prw__buf_init(&m.comp);
    PRW_TRY(prw__plan_load(plan_path, &m.plan, err));
    prw_status st = PRW_OK;
    if (task < 0 || (uint32_t)task >= m.plan->map_tasks)
        st = prw__error_set(err, PRW_E_INVALID, -1, "map task %d is outside 0..%u", task,
                            m.plan->map_tasks - 1);
    if (st == PRW_OK)
        st = map_run(&m, (uint32_t)task, err);
    for (uint32_t k = 0; m.files && k < m.plan->reduce_tasks; k++)
        prw__wfile_abort(&m.files[k]);
    prw__free(m.files);
    prw__free(m.blocks);
    prw__free(m.rows);
    prw__free(m.cnt);
    prw__free(m.range_of);
    prw__free(m.ident);
    prw__free(m.tmp);
    prw__free(m.remap);
    prw__free(m.d.rows);
    prw__buf_cleanup(&m.raw);
    prw__buf_cleanup(&m.comp);
    prw__buf_cleanup(&m.rec);
    prw__codec_ctx_destroy(m.cc);
    prw__pl_decoder_destroy(m.dec);
    prw__pl_source_close(m.src);
    prw__pl_keymap_destroy(m.keymap);
    if (m.tabs) {
        prw__intern_cleanup(&m.src_tab);
        prw__intern_cleanup(&m.dst_tab);
    }
    prw__plan_free(m.plan);
    return st;
}
