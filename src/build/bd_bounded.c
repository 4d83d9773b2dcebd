/*
 * The memory-bounded mode (docs/MEMORY.md): a key pass reads only src_addr to rank the probes
 * and count their rows; the sizes (row groups decoded at once, partitions, blocks) are chosen
 * from the limit; then each row group is decoded, scattered by key-range partition and
 * appended to the spill run files (bd_spill.c). The write phase reads them back through the
 * spill partition source (bd_merge.c): the output is the in-memory mode's, byte for byte.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/bd_engine.h"
#include "common/io.h"
#include "common/publish.h"

#define MIB (1024.0 * 1024.0)
/* Bytes per row of a partition being encoded: read back (24), sort buffer (24), probe
 * columns and destination bytes (~64); and per row of a finished partition's output. */
#define ENCODE_ROW_BYTES 112
#define OUTPUT_ROW_BYTES 64
#define MAX_PART_ROWS (8u << 20)
/* A merge window row: the row (24), its probe columns (36), destination bytes (~12). */
#define MERGE_ROW_BYTES 72
#define MIN_PART_ROWS 1024
/* The fewest rows a spill unit of a row group decoded in parts holds. */
#define MIN_UNIT_ROWS 16384
/* Percent of the limit left unplanned: allocator slack, per-thread arenas, page-granular
 * buffers. The estimates below are upper bounds of what the phases touch (M at 128M: the
 * decode phase peaks at 121.5 MiB where the plan counts 127 MiB), and the resident set may
 * exceed the limit by 10% (docs/MEMORY.md). */
#define PLAN_SLACK_PCT 5
/* Bytes per probe of the probe tables: rank and by_rank (4 + 4), rows, estimated bytes and
 * src_id (3 x 8), split (1), shard and partition (4 + 4), key-pass rows (8), part_big (1). */
#define PROBE_TABLE_BYTES 50

/* Bytes the key pass's row group rg needs at most: its src_addr chunk, ids, and the decoder's
 * src cache of one row group of as many rows as the first one read, whose cache held c0. */
static uint64_t key_slot_bytes(const bd_build *b, uint64_t c0, uint64_t rows0) {
    uint64_t m = 1;
    for (size_t g = 0; g < b->nrg; g++) {
        uint64_t r = (uint64_t)prw__pl_source_rg_rows(b->src, g);
        uint64_t c = (uint64_t)prw__pl_source_rg_key_bytes(b->src, g) +
                     (rows0 ? (c0 * r + rows0 - 1) / rows0 : c0);
        m = c > m ? c : m;
    }
    return m;
}

/*
 * The key pass of row group rg. A decoder's src cache keeps every string it has seen, which
 * at small limits does not fit once per worker: the first row group runs alone, the slots for
 * the others are sized from what its cache took (scaled to the largest row group), and a
 * cache above its slot's share is dropped after its row group, so a slot holds its share plus
 * the new strings of one row group at most.
 */
static prw_status keys_work(bd_build *b, size_t di, size_t rg, int64_t *done, prw_error *err) {
    size_t n = 0;
    prw__pl_decoder *d = b->decoders[di];
    const uint32_t *ids = NULL;
    PRW_TRY(prw__pl_scan_keys_rg(d, rg, &b->pr.src_tab, &n, &ids, err));
    PRW_TRY(prw__pl_keyids_put(b->bm.keyids, di, rg, ids, n, err));
    *done = (int64_t)n;
    size_t c = prw__pl_decoder_cache_bytes(d, 0);
    if (!atomic_exchange(&b->bm.keys_sized, true)) {
        uint64_t slot = key_slot_bytes(b, c, n), key = key_slot_bytes(b, 0, n);
        uint64_t slots = b->bm.key_limit / slot, w = (uint64_t)b->workers;
        slots = slots < 1 ? 1 : slots < w ? slots : w;
        uint64_t share = b->bm.key_limit / slots;
        b->bm.key_share = share > key ? share - key : 0;
        prw__bd_slots_add(b, (size_t)slots - 1);
    }
    if (c > b->bm.key_share)
        prw__pl_decoder_set_keymap(d, NULL); /* drops the src cache */
    return PRW_OK;
}

static prw_status keys_task(void *ctx, size_t rg, prw_error *err) {
    return prw__bd_rg_task(ctx, rg, true, keys_work, err);
}

/* What an intern table holds resident: its bytes, offsets and hashes as far as written (a
 * buffer grown by doubling touches only what it holds), the slot array whole. */
static uint64_t intern_bytes(const prw__intern *t) {
    return t->bytes.len + (t->n + 1) * 16 + t->nslots * 4;
}

/* The part of the limit the plan may use. */
static uint64_t plan_usable(const bd_build *b) {
    return b->bm.limit - b->bm.limit / 100 * PLAN_SLACK_PCT;
}

/* The limit (printed as the summary prints it) cannot hold `what`; at least `need` (printed
 * by the caller) is needed. */
static prw_status limit_error(uint64_t limit, const char *need, const char *what, prw_error *err) {
    char lim[PRW_BYTES_STR_MAX];
    return prw__error_set(err, PRW_E_LIMIT, -1,
                          "memory limit of %s is too small for this input: at least %s is "
                          "needed (%s)",
                          prw_format_bytes(limit, lim, sizeof lim), need, what);
}

/* `planned`: the bytes the plan needs; the limit must also hold the unplanned share. */
static prw_status too_small(bd_build *b, uint64_t planned, const char *what, prw_error *err) {
    uint64_t need =
        (planned / 1024 * 100 + (100 - PLAN_SLACK_PCT) - 1) / (100 - PLAN_SLACK_PCT) * 1024;
    char nd[PRW_BYTES_STR_MAX];
    b->bm.too_small = what;
    return limit_error(b->bm.limit, prw_format_bytes(need, nd, sizeof nd), what, err);
}

/* Spill units of row group g, of every row group, when each unit holds at most `rows` rows. */
static size_t units_of(const bd_build *b, size_t g, size_t rows) {
    size_t r = (size_t)prw__pl_source_rg_rows(b->src, g);
    return r > rows ? (r + rows - 1) / rows : 1;
}

static size_t count_units_rg(const bd_build *b, size_t g) {
    return units_of(b, g, b->bm.unit_rows);
}

static size_t count_units(const bd_build *b, size_t rows) {
    size_t n = 0;
    for (size_t g = 0; g < b->nrg; g++)
        n += units_of(b, g, rows);
    return n;
}

/* Bytes one decoding slot needs: a row group decoded whole (rg_cost), or lean: decoded in
 * parts, its rows assembled and scattered unit_rows at a time. */
static uint64_t slot_bytes(const bd_build *b) {
    if (!b->bm.lean)
        return b->bm.rg_cost;
    uint64_t m = 0, rows = 0;
    for (size_t g = 0; g < b->nrg; g++) {
        uint64_t c = prw__pl_source_rg_parts_bytes(b->src, g, b->bm.release);
        uint64_t r = (uint64_t)prw__pl_source_rg_rows(b->src, g);
        m = c > m ? c : m;
        rows = r > rows ? r : rows;
    }
    uint64_t unit = b->bm.unit_rows < rows ? b->bm.unit_rows : rows;
    return m + unit * 2 * sizeof(prw__pl_row) + prw__spill_scratch_bytes(8192);
}

/*
 * The partition size for `avail` bytes of the write phase at per_row bytes a row, with room
 * for a probe merged from runs and for the run index (*index bytes): partitions are cut again
 * with each smaller size until the probes to merge, and so the room they need, stop changing.
 */
static prw_status size_parts(bd_build *b, uint64_t avail, uint64_t per_row, size_t nunits,
                             uint64_t *part_out, uint64_t *index_out, prw_error *err) {
    uint64_t before = plan_usable(b) - avail, part = avail / per_row; /* planned elsewhere */
    for (int round = 0; round < 64; round++) {
        uint64_t rows = 0, nbig = 0;
        size_t src_len = SIZE_MAX; /* the shortest src_addr among probes to be merged */
        for (uint32_t r = 0; r < b->pr.n_probes; r++) {
            uint64_t k = b->bm.key_rows[r];
            rows += k;
            if (k > part || k > MAX_PART_ROWS) {
                nbig++;
                size_t l = prw__intern_len(&b->pr.src_tab, b->pr.by_rank[r]);
                src_len = l < src_len ? l : src_len;
            }
        }
        /* A probe merged from runs: one block per run, a window of the rows of a piece and
         * one more (a row takes at least 17 + len(src_addr) inner bytes: the window grows no
         * further, bd_merge.c), a piece and its chunk. */
        uint64_t piece_rows = nbig ? b->max_row / (17 + src_len) + 1 : 0;
        uint64_t merge = nbig ? (uint64_t)nunits * b->bm.block_rows * 2 * sizeof(prw__pl_row) +
                                    (piece_rows + 1 + PRW_BD_MERGE_WINDOW) * MERGE_ROW_BYTES +
                                    2 * b->max_row
                              : 0;
        /* The run index: a partition of the greedy cut and the one after it hold more than
         * `part` rows together, so there are at most 2 * rows / part + 1 of them, and up to
         * two more around each probe alone in one. */
        uint64_t index = (uint64_t)nunits * (2 * (rows / part) + 2 * nbig + 3) * 32;
        if (avail <= merge + index + MIN_PART_ROWS * per_row)
            return too_small(b, before + merge + index + MIN_PART_ROWS * per_row,
                             nbig ? "merging a probe larger than memory" : "a minimal partition",
                             err);
        uint64_t next = (avail - merge - index) / per_row;
        if (next >= part) {
            b->bm.merge_rows = (size_t)piece_rows + 1;
            *part_out = part;
            *index_out = index;
            return PRW_OK;
        }
        part = next;
    }
    return too_small(b, before + 2 * avail, "a stable partition size", err);
}

/*
 * Sizes the spill mode for `w` row groups decoded and partitions encoded at once (w <= workers)
 * with the decoding of b->bm.lean and unit_rows: sets slots_free, block_rows and window
 * (partitions being encoded plus finished ones waiting), and *part_out to the partition size
 * in rows, leaving room for a probe merged from runs; or fails with how much memory that
 * would need. The decode phase (slots, per-probe sums) and the write phase
 * (writers, partitions, the merge) do not overlap: each must fit on its own.
 */
static prw_status size_spill(bd_build *b, uint64_t w, uint64_t *part_out, prw_error *err) {
    uint64_t W = (uint64_t)b->workers;
    uint64_t probes = b->pr.n_probes;
    uint64_t dst_reserve = b->bm.limit / 16 < (32u << 20) ? b->bm.limit / 16 : (32u << 20);
    size_t nunits = b->bm.nunits ? b->bm.nunits : 1;
    /* Held through both phases: the src strings, the probe tables, the dst strings, the row
     * group list (and the run index, size_parts); then each spilling worker's buffers while
     * decoding. */
    uint64_t common = PRW_BD_RSS_BASE + intern_bytes(&b->pr.src_tab) + probes * PROBE_TABLE_BYTES +
                      dst_reserve + (uint64_t)b->nrg * (sizeof(prw__pl_decoded) + 16);
    uint64_t decoding = common + W * (256u << 10);
    /* The writers' queues: finished chunks pass through; records wait for compression; the
     * two output files' direct-I/O buffers. */
    uint64_t writer =
        (b->chunked ? 0 : (4ull << 20) * W) + 3 * b->max_row + 2 * PRW__WFILE_DIRECT_BYTES;
    uint64_t usable = plan_usable(b);
    /* Each decoding slot's per-probe sums are charged with its row group, for the slots that
     * fit (issue 22: charging them for every worker made M at 256M fall back to one partition
     * at a time, the write phase on one core). */
    uint64_t sums = probes * sizeof(bd_probe_acc), slot = slot_bytes(b) + sums;
    const char *unit =
        b->bm.lean ? "a part of a row group decoded at a time" : "one row group decoded at a time";
    if (decoding >= usable || usable - decoding < slot)
        return too_small(b, decoding + slot, unit, err);
    uint64_t slots = (usable - decoding) / slot;
    b->slots_free = (size_t)(slots < w ? slots : w);
    if (common + writer >= usable)
        return too_small(b, common + writer + MIN_PART_ROWS * ENCODE_ROW_BYTES,
                         "probe tables and writers", err);
    uint64_t avail = usable - common - writer;
    uint64_t br = avail / 16 / (nunits * 2 * sizeof(prw__pl_row));
    b->bm.block_rows = (size_t)(br < 256 ? 256 : br > 8192 ? 8192 : br);
    /* Partitions in flight: being encoded (at most one per pool thread) or waiting to be
     * written. With every worker, one more than the threads keeps them all busy. */
    b->bm.window = (size_t)(w == W ? W + 1 : w);
    uint64_t encoding = b->bm.window < W ? b->bm.window : W;
    uint64_t per_row = encoding * ENCODE_ROW_BYTES + b->bm.window * OUTPUT_ROW_BYTES;
    uint64_t part = 0, index = 0;
    PRW_TRY(size_parts(b, avail, per_row, nunits, &part, &index, err));
    while (b->slots_free > 1 && decoding + index + b->slots_free * slot > usable)
        b->slots_free--;
    if (decoding + index + slot > usable)
        return too_small(b, decoding + index + slot, "the run index", err);
    *part_out = part;
    return PRW_OK;
}

static size_t largest_rg_rows(const bd_build *b) {
    size_t m = 1;
    for (size_t g = 0; g < b->nrg; g++) {
        size_t r = (size_t)prw__pl_source_rg_rows(b->src, g);
        m = r > m ? r : m;
    }
    return m;
}

/* Sets the decoding of whole row groups (unit_rows 0) or lean, in units of unit_rows, with
 * the column buffers freed as soon as they are done (`release`) or kept for the next row
 * group (no page faults to fill them again). */
static void set_units(bd_build *b, size_t unit_rows, bool release) {
    b->bm.lean = unit_rows != 0;
    b->bm.release = release && unit_rows != 0;
    b->bm.unit_rows = unit_rows ? unit_rows : largest_rg_rows(b);
    b->bm.nunits = unit_rows ? count_units(b, unit_rows) : b->nrg;
}

/*
 * Sizes the spill mode for w partitions at once with the most row groups decoded at once:
 * whole, or else lean in units of half as many rows each time down to MIN_UNIT_ROWS, the
 * column buffers kept and then released. Of those decoding the most at once the first wins:
 * buffers kept (no page faults to fill them again for every row group), the largest units
 * (smaller ones mean more runs to merge).
 */
static prw_status size_slots(bd_build *b, uint64_t w, uint64_t *part, prw_error *err) {
    size_t W = (size_t)b->workers, best = 0, best_slots = 0;
    bool best_release = false;
    prw_error_clear(err);
    set_units(b, 0, false);
    prw_status st = size_spill(b, w, part, err);
    if (st == PRW_OK && b->slots_free == W)
        return PRW_OK;
    size_t whole = st == PRW_OK ? b->slots_free : 0;
    for (int release = 0; release < 2 && best_slots < W; release++) {
        for (size_t u = largest_rg_rows(b);; u = (u + 1) / 2) {
            size_t unit = u > MIN_UNIT_ROWS ? u : MIN_UNIT_ROWS;
            prw_error_clear(err);
            set_units(b, unit, release);
            st = size_spill(b, w, part, err);
            if (st == PRW_OK && b->slots_free > best_slots) {
                best = unit;
                best_slots = b->slots_free;
                best_release = release;
            }
            if (best_slots == W || u <= MIN_UNIT_ROWS)
                break;
        }
    }
    if (best_slots == 0 && whole == 0)
        return st;
    prw_error_clear(err);
    if (best_slots > whole)
        set_units(b, best, best_release);
    else
        set_units(b, 0, false);
    return size_spill(b, w, part, err);
}

/*
 * Chooses the sizes of the spill mode from the limit (size_slots), with fewer row groups and
 * partitions at once than workers when all of them would not fit, then the key ranges.
 */
static prw_status plan_sizes(bd_build *b, uint64_t *part, prw_error *err) {
    prw_status st = PRW_OK;
    for (uint64_t w = (uint64_t)b->workers; w >= 1; w--)
        if ((st = size_slots(b, w, part, err)) == PRW_OK)
            break;
    return st;
}

/* Whether the plan succeeds at `limit` (b->bm.limit is left at it). */
static bool plans_at(bd_build *b, uint64_t limit) {
    uint64_t part = 0;
    prw_error e;
    prw_error_clear(&e);
    b->bm.limit = limit;
    return plan_sizes(b, &part, &e) == PRW_OK;
}

/*
 * The plan failed at the limit: what each configuration's error names is what it needs at
 * this limit, and a larger limit plans larger partitions, with fewer probes to merge from runs,
 * so it often needs less (M: 100M said 122.2 MiB, 110M said 121.5 MiB, 120M worked). Plans
 * larger limits (doubling, then bisecting to 0.05%) and names the smallest one found that
 * plans, with what the largest failing one could not hold.
 */
static prw_status plan_limit_error(bd_build *b, prw_error *err) {
    uint64_t limit = b->bm.limit, lo = limit, hi = limit;
    const char *what = b->bm.too_small;
    for (;;) {
        if (hi > UINT64_MAX / 4) {
            b->bm.limit = limit;
            return PRW_E_LIMIT; /* err still holds the plan's own error */
        }
        if (plans_at(b, hi *= 2))
            break;
        lo = hi;
        what = b->bm.too_small;
    }
    while (hi - lo > hi / 2000) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (plans_at(b, mid)) {
            hi = mid;
        } else {
            lo = mid;
            what = b->bm.too_small;
        }
    }
    b->bm.limit = limit;
    char nd[PRW_BYTES_STR_MAX]; /* rounded up: a limit of the figure printed plans */
    return limit_error(limit, prw__format_bytes_up(hi, nd, sizeof nd), what, err);
}

static prw_status plan_spill(bd_build *b, prw_error *err) {
    uint64_t part = 0;
    prw_status st = plan_sizes(b, &part, err);
    if (st == PRW_E_LIMIT)
        return plan_limit_error(b, err);
    PRW_TRY(st);
    if (part > MAX_PART_ROWS)
        part = MAX_PART_ROWS;
    /* Key ranges balanced by rows; a probe above the partition size is a partition alone. */
    size_t maxp = b->pr.n_probes + 1;
    b->pt.part_key = prw__malloc_array(maxp + 1, sizeof *b->pt.part_key);
    b->bm.part_big = prw__calloc(maxp, 1);
    if (!b->pt.part_key || !b->bm.part_big)
        return prw__error_nomem(err, "partitions", (maxp + 1) * sizeof *b->pt.part_key + maxp);
    size_t np = 0;
    uint64_t acc = 0;
    b->pt.part_key[0] = 0;
    for (uint32_t r = 0; r < b->pr.n_probes; r++) {
        uint64_t k = b->bm.key_rows[r];
        if (k > part) {
            if (r > b->pt.part_key[np])
                b->pt.part_key[++np] = r;
            b->bm.part_big[np] = 1;
            b->pt.part_key[++np] = r + 1;
            acc = 0;
        } else if (acc + k > part && r > b->pt.part_key[np]) {
            b->pt.part_key[++np] = r;
            acc = k;
        } else {
            acc += k;
        }
    }
    if (b->pt.part_key[np] < b->pr.n_probes || np == 0)
        b->pt.part_key[++np] = b->pr.n_probes;
    b->pt.nparts = np;
    b->stats->partitions = (int64_t)np;
    b->stats->spill_partitions = (int64_t)np;
    return PRW_OK;
}

/* Scatters rows[0, n) of spill unit u by partition into this worker's wrows (input order
 * kept; slices of merged probes sorted by time, with `rows` as the sort buffer) and appends
 * each slice to this worker's run file. */
static prw_status spill_unit(bd_build *b, size_t di, size_t u, prw__pl_row *rows, size_t n,
                             prw_error *err) {
    size_t np = b->pt.nparts;
    size_t *cnt = b->bm.wcount[di];
    bd_probe_acc *acc = b->wprobe[di];
    memset(cnt, 0, (np + 1) * sizeof *cnt);
    /* dst_tab only grows while other workers decode: its offsets array may move. */
    prw__mutex_lock(&b->pr.dst_tab.mu);
    const uint64_t *doffs = b->pr.dst_tab.offs;
    for (size_t i = 0; i < n; i++) {
        prw__pl_row *r = &rows[i];
        uint32_t k = r->key; /* the key ids gave ranks */
        acc[k].rows++;
        acc[k].bytes += 28 + (r->dst == PRW_PL_NULL_ID ? 0 : doffs[r->dst + 1] - doffs[r->dst]);
        cnt[b->pr.probe_part[k] + 1]++;
    }
    prw__mutex_unlock(&b->pr.dst_tab.mu);
    for (size_t p = 0; p < np; p++)
        cnt[p + 1] += cnt[p];
    PRW_TRY(prw__reserve_array((void **)&b->bm.wrows[di], &b->bm.wrows_cap[di], n ? n : 1,
                               sizeof(prw__pl_row), "a row group's partitions", err));
    prw__pl_row *out = b->bm.wrows[di];
    for (size_t i = 0; i < n; i++)
        out[cnt[b->pr.probe_part[rows[i].key]]++] = rows[i];
    /* cnt[p] is now the end of slice p. */
    size_t start = 0;
    for (size_t p = 0; p < np; p++) {
        size_t end = cnt[p];
        if (b->bm.part_big[p])
            prw__pl_sort_by_time(out + start, rows, end - start);
        PRW_TRY(prw__spill_put(b->bm.spill, di, b->bm.wcc[di], u, p, out + start, end - start,
                               &b->bm.wbuf[di], err));
        start = end;
    }
    return PRW_OK;
}

/* Lean: decodes row group g strings first (their buffers freed), then numbers, and assembles
 * and spills its rows a unit at a time; d gets the row group's counts. */
static prw_status spill_rg_parts(bd_build *b, size_t di, size_t g, prw__pl_decoded *d,
                                 prw_error *err) {
    prw__pl_decoder *dec = b->decoders[di];
    PRW_TRY(prw__pl_decode_cols(dec, g, PRW_PL_COLS_STR, &b->pr.src_tab, &b->pr.dst_tab, err));
    if (b->bm.release)
        prw__pl_decoder_release_cols(dec, PRW_PL_COLS_STR);
    PRW_TRY(prw__pl_decode_cols(dec, g, PRW_PL_COLS_NUM, &b->pr.src_tab, &b->pr.dst_tab, err));
    size_t n = (size_t)prw__pl_source_rg_rows(b->src, g), U = b->bm.unit_rows;
    PRW_TRY(prw__reserve_array((void **)&b->bm.urows[di], &b->bm.urows_cap[di], U,
                               sizeof(prw__pl_row), "a row group's rows", err));
    memset(d, 0, sizeof *d);
    size_t u = b->bm.unit0[g];
    for (size_t r0 = 0; r0 < n; r0 += U, u++) {
        prw__pl_decoded part = {.rows = b->bm.urows[di]};
        PRW_TRY(prw__pl_assemble_rows(dec, dec, g, r0, n - r0 < U ? n : r0 + U, b->o->null_rtt,
                                      &part, err));
        d->n += part.n;
        prw__pl_decoded_add_counts(d, &part);
        PRW_TRY(spill_unit(b, di, u, part.rows, part.n, err));
    }
    if (b->bm.release)
        prw__pl_decoder_release_cols(dec, PRW_PL_COLS_NUM | PRW_PL_COLS_STR);
    return PRW_OK;
}

/* Decodes row group g, ranks its keys, scatters it by partition and appends each slice to
 * this worker's run file: whole, or lean in parts. */
static prw_status spill_rg(bd_build *b, size_t di, size_t g, prw_error *err) {
    prw__pl_decoded *d = &b->dec[g];
    if (b->bm.lean)
        return spill_rg_parts(b, di, g, d, err);
    PRW_TRY(prw__pl_decode_rg(b->decoders[di], g, &b->pr.src_tab, &b->pr.dst_tab, b->o->null_rtt, d,
                              err));
    prw_status st = spill_unit(b, di, b->bm.unit0[g], d->rows, d->n, err);
    prw__free(d->rows);
    d->rows = NULL;
    return st;
}

static prw_status spill_work(bd_build *b, size_t di, size_t rg, int64_t *done, prw_error *err) {
    *done = prw__pl_source_rg_rows(b->src, rg);
    return spill_rg(b, di, rg, err);
}

static prw_status spill_task(void *ctx, size_t rg, prw_error *err) {
    return prw__bd_rg_task(ctx, rg, true, spill_work, err);
}

static prw_status spill_setup(bd_build *b, prw_error *err) {
    size_t W = (size_t)b->workers;
    b->bm.wcount = prw__calloc(W, sizeof *b->bm.wcount);
    b->bm.wrows = prw__calloc(W, sizeof *b->bm.wrows);
    b->bm.wrows_cap = prw__calloc(W, sizeof *b->bm.wrows_cap);
    b->wprobe = prw__calloc(W, sizeof *b->wprobe);
    b->bm.wcc = prw__calloc(W, sizeof *b->bm.wcc);
    b->bm.wbuf = prw__calloc(W, sizeof *b->bm.wbuf);
    b->bm.part_n = prw__calloc(b->pt.nparts, sizeof *b->bm.part_n);
    b->bm.urows = prw__calloc(W, sizeof *b->bm.urows);
    b->bm.urows_cap = prw__calloc(W, sizeof *b->bm.urows_cap);
    b->bm.unit0 = prw__calloc(b->nrg + 1, sizeof *b->bm.unit0);
    if (!b->bm.wcount || !b->bm.wrows || !b->bm.wrows_cap || !b->wprobe || !b->bm.wcc ||
        !b->bm.wbuf || !b->bm.part_n || !b->bm.urows || !b->bm.urows_cap || !b->bm.unit0)
        return prw__error_nomem(
            err, "spill workers",
            W * (sizeof *b->bm.wcount + sizeof *b->bm.wrows + sizeof *b->bm.wrows_cap +
                 sizeof *b->wprobe + sizeof *b->bm.wcc + sizeof *b->bm.wbuf + sizeof *b->bm.urows +
                 sizeof *b->bm.urows_cap) +
                b->pt.nparts * sizeof *b->bm.part_n + (b->nrg + 1) * sizeof *b->bm.unit0);
    /* Spill units in input order: a row group's units follow each other. */
    for (size_t g = 0; g < b->nrg; g++)
        b->bm.unit0[g + 1] = b->bm.unit0[g] + (b->bm.lean ? count_units_rg(b, g) : 1);
    for (size_t i = 0; i < b->slots_free; i++) {
        b->wprobe[i] = prw__calloc(b->pr.n_probes ? b->pr.n_probes : 1, sizeof **b->wprobe);
        if (!b->wprobe[i])
            return prw__error_nomem(err, "probe sums", b->pr.n_probes * sizeof **b->wprobe);
    }
    for (size_t i = 0; i < W; i++) {
        b->bm.wcount[i] = prw__calloc(b->pt.nparts + 1, sizeof **b->bm.wcount);
        if (!b->bm.wcount[i])
            return prw__error_nomem(err, "spill workers",
                                    (b->pt.nparts + 1) * sizeof **b->bm.wcount);
        PRW_TRY(prw__codec_ctx_create(&b->bm.wcc[i], err));
        prw__buf_init(&b->bm.wbuf[i]);
    }
    /* Only as many decoders as row groups may be in flight keep buffers. */
    b->nfree_dec = 0;
    for (size_t i = 0; i < b->slots_free; i++)
        b->free_dec[b->nfree_dec++] = i;
    return prw__spill_create(&b->bm.spill, b->bm.spill_dir, W, b->bm.nunits, b->pt.nparts,
                             b->bm.block_rows, err);
}

/* The spill folder (before the key pass, whose ids go there too). */
static prw_status spill_dir_create(bd_build *b, prw_error *err) {
    const char *base = b->o->temp_dir ? b->o->temp_dir : b->o->output_dir;
    PRW_CHECK(strlen(base) <= PRW_BD_MAX_DIR, err, PRW_E_INVALID, -1,
              "--temp-dir path longer than %d bytes", PRW_BD_MAX_DIR);
    PRW_TRY(prw__mkdir_p(base, err));
    /* Named for and locked by this process, so a later run sweeps it if this one is killed. */
    prw__owned_dir od;
    PRW_TRY(prw__owned_dir_create(&od, base, "spill", err));
    b->bm.spill_owner_fd = od.fd;
    prw__bd_path_fmt(b->bm.spill_dir, sizeof b->bm.spill_dir, "%s", od.path);
    prw__free(od.path);
    b->bm.spill_slot = prw__pl_temp_register(b->bm.spill_dir);
    return prw__pl_keyids_create(&b->bm.keyids, b->bm.spill_dir, b->ndecoders, b->nrg, err);
}

void prw__bd_bounded_release(bd_build *b) {
    for (size_t i = 0; i < (size_t)b->workers && b->bm.wcount; i++) {
        prw__free(b->bm.wcount[i]);
        prw__free(b->bm.wrows[i]);
        prw__free(b->bm.urows ? b->bm.urows[i] : NULL);
        prw__free(b->wprobe[i]);
        prw__codec_ctx_destroy(b->bm.wcc[i]);
        prw__buf_cleanup(&b->bm.wbuf[i]);
    }
    prw__free(b->bm.wcount);
    prw__free(b->bm.wrows);
    prw__free(b->wprobe);
    b->wprobe = NULL;
    prw__free(b->bm.wrows_cap);
    prw__free(b->bm.urows);
    prw__free(b->bm.urows_cap);
    b->bm.urows = NULL;
    b->bm.urows_cap = NULL;
    prw__free(b->bm.wcc);
    prw__free(b->bm.wbuf);
    b->bm.wcount = NULL;
    b->bm.wrows = NULL;
    b->bm.wrows_cap = NULL;
    b->bm.wcc = NULL;
    b->bm.wbuf = NULL;
    prw__bd_release_decoders(b);
    /* Only decoders read the key ids. */
    prw__pl_keyids_destroy(b->bm.keyids);
    b->bm.keyids = NULL;
}

/* Key pass, plan, spill: afterwards every row is in the run files, by partition. */
prw_status prw__bd_bounded_phases(bd_build *b, prw__pool *pool, prw_error *err) {
    prw_build_stats *st = b->stats;
    double t = prw__now(), cpu = prw__bd_cpu_now();
    /* Before any work: a limit that cannot hold one row group decoded in parts (or whole, if
     * that is less) fails at once. */
    uint64_t usable = plan_usable(b);
    b->bm.lean = b->bm.release = true;
    b->bm.unit_rows = MIN_UNIT_ROWS;
    uint64_t parts = slot_bytes(b);
    b->bm.lean = b->bm.release = false;
    uint64_t least = parts < b->bm.rg_cost ? parts : b->bm.rg_cost;
    if (PRW_BD_RSS_BASE + least > usable)
        return too_small(b, PRW_BD_RSS_BASE + least,
                         parts < b->bm.rg_cost ? "a part of a row group decoded at a time"
                                               : "one row group decoded at a time",
                         err);
    /* The key pass's slots may use three quarters of the limit: the rest is for the src
     * strings, which both later phases hold. */
    b->bm.key_limit = (usable - PRW_BD_RSS_BASE) / 4 * 3;
    PRW_TRY(spill_dir_create(b, err));
    atomic_store(&b->bm.keys_sized, false);
    b->slots_free = 1;
    PRW_TRY(prw__bd_run_all(b, pool, b->nrg, keys_task, "keys", st->rows_read, err));
    b->bm.key_rows_cap = b->pr.src_tab.n;
    b->bm.key_rows =
        prw__calloc(b->bm.key_rows_cap ? b->bm.key_rows_cap : 1, sizeof *b->bm.key_rows);
    if (!b->bm.key_rows)
        return prw__error_nomem(err, "key counts", b->bm.key_rows_cap * sizeof *b->bm.key_rows);
    for (size_t i = 0; i < b->ndecoders; i++)
        prw__pl_decoder_take_key_rows(b->decoders[i], b->bm.key_rows, b->bm.key_rows_cap);
    PRW_TRY(prw__bd_rank_probes(b, pool, err));
    PRW_TRY(prw__bd_check_probes(&b->pr, &b->kr, err));
    /* key_rows by intern id -> by rank (rank_probes sized its tables to src_tab.n). */
    uint64_t *by_rank = prw__calloc(b->pr.n_probes ? b->pr.n_probes : 1, sizeof *by_rank);
    if (!by_rank)
        return prw__error_nomem(err, "key counts",
                                (b->pr.n_probes ? b->pr.n_probes : 1) * sizeof *by_rank);
    for (uint32_t r = 0; r < b->pr.n_probes; r++)
        by_rank[r] = b->pr.by_rank[r] < b->bm.key_rows_cap ? b->bm.key_rows[b->pr.by_rank[r]] : 0;
    prw__free(b->bm.key_rows);
    b->bm.key_rows = by_rank;
    b->bm.key_rows_cap = b->pr.n_probes;
    /* The key pass saw every src_addr: from now on decoders read each row group's src ids
     * back as ranks (bd_keyids.c), and their own src caches and buffers go. */
    PRW_TRY(prw__pl_keyids_finish(b->bm.keyids, b->pr.rank, err));
    for (size_t i = 0; i < b->ndecoders; i++) {
        prw__pl_decoder_set_keymap(b->decoders[i], NULL);
        prw__pl_decoder_release_cols(b->decoders[i], PRW_PL_COLS_NUM | PRW_PL_COLS_STR);
        prw__pl_decoder_set_keyids(b->decoders[i], b->bm.keyids);
    }
    st->seconds_keys = prw__now() - t;
    st->cpu_keys = prw__bd_cpu_now() - cpu;
    cpu = prw__bd_cpu_now();

    t = prw__now();
    PRW_TRY(plan_spill(b, err));
    for (size_t p = 0; p < b->pt.nparts; p++)
        for (uint32_t r = b->pt.part_key[p]; r < b->pt.part_key[p + 1]; r++)
            b->pr.probe_part[r] = (uint32_t)p;
    PRW_TRY(spill_setup(b, err));
    prw_status s = prw__bd_run_all(b, pool, b->nrg, spill_task, "decode", st->rows_read, err);
    if (s == PRW_OK)
        prw__bd_add_probe_sums(&b->pr, b->wprobe, b->slots_free);
    st->temp_bytes = prw__pl_keyids_bytes(b->bm.keyids);
    prw__bd_bounded_release(b);
    PRW_TRY(s);
    PRW_TRY(prw__spill_finish(b->bm.spill, err));
    st->temp_bytes += prw__spill_bytes(b->bm.spill);
    b->pt.nrows = 0;
    for (size_t g = 0; g < b->nrg; g++) {
        const prw__pl_decoded *d = &b->dec[g];
        b->pt.nrows += d->n;
        prw__pl_stats_add_counts(st, d);
    }
    for (size_t u = 0; u < b->bm.nunits; u++)
        for (size_t p = 0; p < b->pt.nparts; p++)
            b->bm.part_n[p] += (size_t)prw__spill_rows(b->bm.spill, u, p);
    st->seconds_decode = prw__now() - t;
    st->cpu_decode = prw__bd_cpu_now() - cpu;
    cpu = prw__bd_cpu_now();

    t = prw__now();
    prw__bd_add_src_estimate(&b->pr, 0, b->pr.n_probes);
    prw__bd_assign_shards(&b->pr, b->o, &b->kr);
    prw__bd_report(b, "group", (int64_t)b->pt.nrows, (int64_t)b->pt.nrows, true);
    st->seconds_group = prw__now() - t;
    st->cpu_group = prw__bd_cpu_now() - cpu;
    return prw__bd_spill_source(&b->source, b->bm.spill, b->bm.part_n, b->bm.part_big, b->bm.nunits,
                                b->bm.block_rows, (size_t)b->workers, b->bm.window,
                                b->bm.merge_rows, err);
}

void prw__bd_bounded_cleanup(bd_bounded *bm) {
    prw__pl_keyids_destroy(bm->keyids); /* before its folder goes */
    prw__free(bm->key_rows);
    prw__free(bm->part_big);
    prw__free(bm->part_n);
    prw__free(bm->unit0);
    prw__spill_destroy(bm->spill);
    if (bm->spill_dir[0]) {
        (void)prw__remove_dir(bm->spill_dir, NULL); /* its .owner too, then the lock goes */
        close(bm->spill_owner_fd);
        prw__pl_temp_unregister(bm->spill_slot);
    }
    memset(bm, 0, sizeof *bm);
}
