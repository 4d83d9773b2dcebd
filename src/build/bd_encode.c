/*
 * The encode phase: per partition, on the workers, its rows from the partition source are
 * grouped (probe, then time), each probe is cut into pieces at the exact inner-stream size
 * and each piece becomes one output record (outer Arrow IPC row; with group_size 1 compressed
 * here into a finished ArrayRecord chunk). The writing thread takes the records in key order
 * (bd_write.c).
 */
#include <stdatomic.h>
#include <string.h>

#include "build/bd_engine.h"
#include "proberows/arrow_ipc.h"

static prw_status scratch_reserve(bd_scratch *s, size_t rows, size_t nkeys, prw_error *err) {
    PRW_TRY(prw__reserve_array((void **)&s->tmp, &s->tmp_cap, rows, sizeof *s->tmp, "sort buffer",
                               err));
    return prw__reserve_array((void **)&s->starts, &s->starts_cap, (size_t)nkeys + 1,
                              sizeof *s->starts, "group offsets", err);
}

static void scratch_free_cols(bd_scratch *s) {
    prw__free(s->t);
    prw__free(s->dst_off);
    prw__free(s->dst_valid);
    prw__free(s->ipv_valid);
    prw__free(s->rtt_valid);
    prw__free(s->ipv);
    prw__free(s->rtt);
    prw__free(s->nd);
    prw__free(s->ni);
    prw__free(s->nr);
    s->t = NULL;
    s->dst_off = NULL;
    s->dst_valid = s->ipv_valid = s->rtt_valid = NULL;
    s->ipv = NULL;
    s->rtt = NULL;
    s->nd = s->ni = s->nr = NULL;
    s->cols_cap = 0;
}

static prw_status scratch_cols(bd_scratch *s, size_t n, prw_error *err) {
    if (n + 1 <= s->cols_cap)
        return PRW_OK;
    scratch_free_cols(s);
    size_t cap = n + 1 < 1024 ? 1024 : n + 1;
    s->t = prw__malloc_array(cap, sizeof *s->t);
    s->dst_off = prw__malloc_array(cap, sizeof *s->dst_off);
    s->dst_valid = prw__malloc(cap);
    s->ipv_valid = prw__malloc(cap);
    s->rtt_valid = prw__malloc(cap);
    s->ipv = prw__malloc(cap);
    s->rtt = prw__malloc_array(cap, sizeof *s->rtt);
    s->nd = prw__malloc_array(cap, sizeof *s->nd);
    s->ni = prw__malloc_array(cap, sizeof *s->ni);
    s->nr = prw__malloc_array(cap, sizeof *s->nr);
    if (!s->t || !s->dst_off || !s->dst_valid || !s->ipv_valid || !s->rtt_valid || !s->ipv ||
        !s->rtt || !s->nd || !s->ni || !s->nr) {
        scratch_free_cols(s);
        return prw__error_nomem(err, "probe columns",
                                cap * (sizeof *s->t + sizeof *s->dst_off + 3 + sizeof *s->ipv +
                                       sizeof *s->rtt + 3 * sizeof *s->nd));
    }
    s->cols_cap = cap;
    return PRW_OK;
}

void prw__bd_scratch_cleanup(bd_scratch *s) {
    prw__free(s->load);
    prw__free(s->tmp);
    prw__free(s->starts);
    prw__free(s->segs);
    scratch_free_cols(s);
    prw__buf_cleanup(&s->dst_bytes);
    prw__buf_cleanup(&s->rec);
    prw_ar_chunk_encoder_destroy(s->enc);
    memset(s, 0, sizeof *s);
}

/* Exact inner-stream size of rows [i, j) of the probe in scratch. */
static uint64_t piece_size(const bd_scratch *s, size_t src_len, size_t i, size_t j) {
    prw_ipc_inner_counts c = {0};
    c.rows = (int64_t)(j - i);
    c.src_bytes = (int64_t)(src_len * (j - i));
    c.dst_bytes = s->dst_off[j] - s->dst_off[i];
    c.null_dst = s->nd[j] - s->nd[i];
    c.null_ip_version = s->ni[j] - s->ni[i];
    c.null_rtt = s->nr[j] - s->nr[i];
    return prw_ipc_stream_size(&c);
}

/* Longest j in (i, n] with piece_size(i, j) <= limit; at least i + 1. */
static size_t cut_end(const bd_scratch *s, size_t src_len, size_t i, size_t n, uint64_t limit) {
    if (piece_size(s, src_len, i, n) <= limit)
        return n;
    size_t lo = i + 1, hi = n; /* size(lo) may exceed the limit: a single row always goes */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (piece_size(s, src_len, i, mid) <= limit)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/*
 * Encodes rows[0..n) of one probe (time-sorted) as greedy maximal pieces into out. With
 * `final` false more rows follow: a piece is emitted only when a row beyond it shows where
 * it ends, so a stream cut window by window gives the same pieces as the whole run.
 * *consumed receives the rows emitted; *pieces counts pieces across calls.
 */
prw_status prw__bd_encode_probe(const bd_build *b, bd_scratch *s, uint32_t rank,
                                const prw__pl_row *rows, size_t n, bool final, size_t *consumed,
                                size_t *pieces, bd_part_out *out, prw_error *err) {
    PRW_TRY(scratch_cols(s, n, err));
    prw__buf_clear(&s->dst_bytes);
    const prw__intern *dt = &b->pr.dst_tab;
    size_t dst_total = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].dst != PRW_PL_NULL_ID)
            dst_total += prw__intern_len(dt, rows[i].dst);
    PRW_TRY(prw__buf_reserve(&s->dst_bytes, dst_total + 1, err));
    uint8_t *db = s->dst_bytes.data;
    size_t pos = 0;
    uint32_t nd = 0, ni = 0, nr = 0;
    s->dst_off[0] = 0;
    s->nd[0] = s->ni[0] = s->nr[0] = 0;
    for (size_t i = 0; i < n; i++) {
        const prw__pl_row *r = &rows[i];
        s->t[i] = r->t;
        if (r->dst != PRW_PL_NULL_ID) {
            size_t l = prw__intern_len(dt, r->dst);
            memcpy(db + pos, prw__intern_ptr(dt, r->dst), l);
            pos += l;
            s->dst_valid[i] = 1;
        } else {
            s->dst_valid[i] = 0;
            nd++;
        }
        s->dst_off[i + 1] = (int64_t)pos;
        bool ipv_null = r->flags & PRW_PL_IPV_NULL, rtt_null = r->flags & PRW_PL_RTT_NULL;
        s->ipv[i] = ipv_null ? 0 : r->ipv;
        s->ipv_valid[i] = !ipv_null;
        ni += ipv_null;
        s->rtt[i] = rtt_null ? 0.0f : r->rtt;
        s->rtt_valid[i] = !rtt_null;
        nr += rtt_null;
        s->nd[i + 1] = nd;
        s->ni[i + 1] = ni;
        s->nr[i + 1] = nr;
    }
    uint32_t src = b->pr.by_rank[rank];
    size_t src_len = prw__intern_len(&b->pr.src_tab, src);
    prw_ipc_inner_columns cols = {0};
    cols.event_time = s->t;
    cols.src_data = (const char *)prw__intern_ptr(&b->pr.src_tab, src);
    cols.src_const_len = src_len;
    cols.dst_offsets = s->dst_off;
    cols.dst_data = (const char *)db;
    cols.dst_valid = nd ? s->dst_valid : NULL;
    cols.ip_version = s->ipv;
    cols.ip_version_valid = ni ? s->ipv_valid : NULL;
    cols.rtt = s->rtt;
    cols.rtt_valid = nr ? s->rtt_valid : NULL;
    size_t i = 0;
    while (i < n) {
        size_t j = cut_end(s, src_len, i, n, b->max_row);
        if (j == n && !final)
            break;
        uint64_t inner = piece_size(s, src_len, i, j);
        uint64_t outer = prw_ipc_outer_size((size_t)inner);
        PRW_CHECK(outer != 0 && outer < (1ull << 32), err, PRW_E_LIMIT, -1,
                  "a row of %llu bytes is too large for one record", (unsigned long long)inner);
        prw__buf *rb = b->chunked ? &s->rec : &out->bytes;
        if (b->chunked)
            prw__buf_clear(rb);
        PRW_TRY(prw__buf_reserve(rb, (size_t)outer, err));
        uint8_t *dst = rb->data + rb->len;
        size_t wrote = 0;
        PRW_TRY(prw_ipc_encode_inner(&cols, (int64_t)i, (int64_t)j,
                                     dst + PRW_IPC_OUTER_INNER_OFFSET,
                                     (size_t)outer - PRW_IPC_OUTER_INNER_OFFSET, &wrote, err));
        prw_ipc_outer_row row = {0};
        row.src_id = b->pr.src_id[rank];
        row.measurements = dst + PRW_IPC_OUTER_INNER_OFFSET;
        row.measurements_len = wrote;
        row.n_measurements = (int32_t)(j - i);
        row.first_timestamp = s->t[i];
        row.last_timestamp = s->t[j - 1];
        row.time_span_seconds = (double)(s->t[j - 1] - s->t[i]) / 1e6;
        size_t total = 0;
        PRW_TRY(prw_ipc_encode_outer(&row, dst, (size_t)outer, &total, err));
        if (b->chunked) {
            size_t before = out->bytes.len;
            PRW_TRY(prw__ar_chunk_append(s->enc, dst, total, &out->bytes, err));
            total = out->bytes.len - before;
        } else {
            out->bytes.len += total;
        }
        bd_rec_meta m = {total, rank, (int32_t)(j - i)};
        PRW_TRY(prw__buf_append(&out->meta, &m, sizeof m, err));
        (*pieces)++;
        i = j;
    }
    *consumed = i;
    return PRW_OK;
}

/* Rows of a probe encoded at once (widened while no piece ends inside it). */
#define PROBE_WINDOW ((size_t)1 << 18)

/* One probe's grouped rows[0, n): a large probe goes window by window, so the column scratch
 * stays the size of a window (the pieces are those of the whole run, as for merged probes). */
static prw_status encode_run(const bd_build *b, bd_scratch *s, uint32_t rank,
                             const prw__pl_row *rows, size_t n, bd_part_out *out, prw_error *err) {
    size_t a = 0, pieces = 0, w = PROBE_WINDOW;
    while (a < n) {
        size_t m = n - a < w ? n - a : w, consumed = 0;
        PRW_TRY(prw__bd_encode_probe(b, s, rank, rows + a, m, a + m == n, &consumed, &pieces, out,
                                     err));
        a += consumed;
        if (consumed == 0) /* no cut inside the window yet: widen it */
            w *= 2;
    }
    if (pieces > 1)
        out->probes_cut++;
    return PRW_OK;
}

/*
 * Partition p: its rows from the source, grouped by probe and by time (prw__pl_group), each
 * probe cut into pieces at the exact inner-stream size and encoded into b->oq.parts[p].
 * Partitions the source streams are left to the writing thread.
 */
static prw_status encode_partition(bd_build *b, bd_scratch *s, size_t w, size_t p, prw_error *err) {
    prw__part_source *src = b->source;
    if (src->streamed && src->streamed(src, p))
        return PRW_OK;
    size_t n = src->rows(src, p), nsegs = 0;
    if (n == 0)
        return PRW_OK;
    /* The source may refine the estimates of p's probes: read them after it. */
    PRW_TRY(src->produce(src, w, p, &b->pr, s, &nsegs, err));
    uint32_t k0 = b->pt.part_key[p], nkeys = b->pt.part_key[p + 1] - k0;
    bd_part_out *out = &b->oq.parts[p];
    prw__mutex_lock(&b->oq.done_mu);
    if (b->oq.nspare >= 2) {
        out->bytes = b->oq.spare[--b->oq.nspare];
        out->meta = b->oq.spare[--b->oq.nspare];
    }
    prw__mutex_unlock(&b->oq.done_mu);
    /* Room for the estimated records up front (above their compressed size): growing would
     * copy the output. Only the pages written become resident. */
    uint64_t est = 0;
    for (uint32_t k = 0; k < nkeys; k++)
        est += b->pr.probe_bytes[k0 + k];
    PRW_TRY(prw__buf_reserve(&out->bytes, est > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)est, err));
    PRW_TRY(scratch_reserve(s, n > src->max_rows ? n : src->max_rows, nkeys, err));
    if (b->chunked && !s->enc)
        PRW_TRY(prw_ar_chunk_encoder_create(&b->ar, &s->enc, err));
    /* The rows are read before the sort writes its merge space (load, which may hold them). */
    PRW_TRY(prw__pl_group(s->segs, nsegs, s->tmp, s->load, k0, nkeys, s->starts, err));
    for (uint32_t k = 0; k < nkeys; k++)
        PRW_TRY(encode_run(b, s, k0 + k, s->tmp + s->starts[k], s->starts[k + 1] - s->starts[k],
                           out, err));
    return PRW_OK;
}

void prw__bd_encode_task(void *arg) {
    bd_task *t = arg;
    bd_build *b = t->b;
    if (!atomic_load(&b->failed)) {
        prw__mutex_lock(&b->pool_mu);
        size_t si = b->free_scratch[--b->nfree_scratch];
        prw__mutex_unlock(&b->pool_mu);
        prw_error e;
        prw_error_clear(&e);
        prw_status st = encode_partition(b, &b->scratch[si], si, t->index, &e);
        prw__mutex_lock(&b->pool_mu);
        b->free_scratch[b->nfree_scratch++] = si;
        prw__mutex_unlock(&b->pool_mu);
        if (st < 0)
            prw__bd_fail(b, st, &e);
    }
    prw__mutex_lock(&b->oq.done_mu);
    b->oq.parts[t->index].done = true;
    prw__cond_broadcast(&b->oq.done_cv);
    prw__mutex_unlock(&b->oq.done_mu);
}
