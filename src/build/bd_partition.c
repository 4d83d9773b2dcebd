/*
 * The probes (bd_probes): their ranks in src_addr byte order, src_id, the per-probe size
 * estimates, the train/test split and the shards. Shared by every mode of the engine.
 */
#include <stdatomic.h>

#include "build/bd_engine.h"
#include "common/hash.h"
/* On every pool thread: src_id (an MD5) of the probes in the blocks of ranks it claims. */
static prw_status src_id_task(void *ctx, size_t index, prw_error *err) {
    (void)index;
    (void)err;
    bd_build *b = ctx;
    enum { BLOCK = 1024 };
    for (size_t r0; (r0 = atomic_fetch_add(&b->rank_next, BLOCK)) < b->pr.n_probes;)
        for (size_t r = r0; r < r0 + BLOCK && r < b->pr.n_probes; r++) {
            uint32_t id = b->pr.by_rank[r];
            b->pr.src_id[r] = prw__pl_src_id(prw__intern_ptr(&b->pr.src_tab, id),
                                             prw__intern_len(&b->pr.src_tab, id));
        }
    return PRW_OK;
}

/* Probe ranks: src_addr in byte order (memcmp, a proper prefix first), DuckDB's ORDER BY
 * src_addr; and each probe's src_id. */
prw_status prw__bd_rank_probes(bd_build *b, prw__pool *pool, prw_error *err) {
    bd_probes *pr = &b->pr;
    uint32_t n = (uint32_t)pr->src_tab.n;
    pr->n_probes = n;
    size_t cnt = n ? n : 1;
    pr->rank = prw__malloc_array(cnt, sizeof *pr->rank);
    pr->by_rank = prw__malloc_array(cnt, sizeof *pr->by_rank);
    pr->probe_rows = prw__calloc(cnt, sizeof *pr->probe_rows);
    pr->probe_bytes = prw__calloc(cnt, sizeof *pr->probe_bytes);
    pr->src_id = prw__malloc_array(cnt, sizeof *pr->src_id);
    pr->probe_split = prw__calloc(cnt, 1);
    pr->probe_shard = prw__calloc(cnt, sizeof *pr->probe_shard);
    pr->probe_part = prw__calloc(cnt, sizeof *pr->probe_part);
    if (!pr->rank || !pr->by_rank || !pr->probe_rows || !pr->probe_bytes || !pr->src_id ||
        !pr->probe_split || !pr->probe_shard || !pr->probe_part)
        return prw__error_nomem(err, "probe tables",
                                cnt * (sizeof *pr->rank + sizeof *pr->by_rank +
                                       sizeof *pr->probe_rows + sizeof *pr->probe_bytes +
                                       sizeof *pr->src_id + 1 + sizeof *pr->probe_shard +
                                       sizeof *pr->probe_part));
    PRW_TRY(prw__intern_sort(&pr->src_tab, pr->by_rank, err));
    for (uint32_t r = 0; r < n; r++)
        pr->rank[pr->by_rank[r]] = r;
    atomic_store(&b->rank_next, 0);
    return prw__bd_run_all(b, pool, (size_t)prw__pool_threads(pool), src_id_task, "group", 0, err);
}

/* Adds the first n per-worker probe sums into probe_rows and probe_bytes. */
void prw__bd_add_probe_sums(bd_probes *pr, bd_probe_acc *const *sums, size_t n) {
    for (size_t i = 0; i < n; i++)
        for (uint32_t r = 0; r < pr->n_probes; r++) {
            pr->probe_rows[r] += sums[i][r].rows;
            pr->probe_bytes[r] += sums[i][r].bytes;
        }
}

/* Completes the record-size estimate of probes [r0, r1), whose probe_bytes hold their rows'
 * own bytes so far: each row also repeats src_addr (4 + its length), and each record has
 * ~2 KiB of Arrow framing. */
void prw__bd_add_src_estimate(bd_probes *pr, uint32_t r0, uint32_t r1) {
    for (uint32_t r = r0; r < r1; r++)
        pr->probe_bytes[r] +=
            pr->probe_rows[r] * (4 + prw__intern_len(&pr->src_tab, pr->by_rank[r])) + 2048;
}

/* Train/test split of every probe (the ratio rule or the src_id hash) and its shard. */
void prw__bd_assign_shards(bd_probes *pr, const prw_build_options *o, const prw__bd_ranges *kr) {
    int64_t n_train =
        kr->n_train >= 0 ? kr->n_train : prw__pl_ratio_train_count(pr->n_probes, o->train_ratio);
    int64_t num = 0, den = 1;
    prw__pl_ratio_fraction(o->train_ratio, &num, &den);
    uint64_t total[2] = {0, 0};
    for (uint32_t r = 0; r < pr->n_probes; r++) {
        bool train = o->split == PRW_SPLIT_RATIO ? (int64_t)(kr->rank_base + r) < n_train
                                                 : pr->src_id[r] % den < num;
        pr->probe_split[r] = train ? 0 : 1;
        total[pr->probe_split[r]] += pr->probe_bytes[r];
    }
    if (kr->bounds) { /* the plan's key ranges are the shards */
        uint32_t k = 0;
        for (uint32_t r = 0; r < pr->n_probes; r++) {
            while (kr->rank_base + r >= kr->bounds[k + 1])
                k++;
            pr->probe_shard[r] = k;
        }
        return;
    }
    /* Shards: contiguous runs of each split's probes, balanced by estimated bytes. */
    int shards = o->shards > 1 ? o->shards : 1;
    uint64_t acc[2] = {0, 0};
    for (uint32_t r = 0; r < pr->n_probes; r++) {
        int s = pr->probe_split[r];
        uint64_t mid = acc[s] + pr->probe_bytes[r] / 2;
        uint64_t k = total[s] ? (uint64_t)((double)mid * shards / (double)total[s]) : 0;
        pr->probe_shard[r] = (uint32_t)(k >= (uint64_t)shards ? (uint64_t)shards - 1 : k);
        acc[s] += pr->probe_bytes[r];
    }
}

/* One step of the probe-list hash: fnv1a64 over (le32 length, bytes) of each probe. */
uint64_t prw__pl_probe_hash(uint64_t h, const uint8_t *s, size_t len) {
    uint8_t n[4];
    prw__store_le32(n, (uint32_t)len);
    h = prw__fnv1a64(h, n, 4);
    return prw__fnv1a64(h, s, len);
}

/* build --plan: the inputs must hold exactly the plan's probes (its ranks and ranges). */
prw_status prw__bd_check_probes(const bd_probes *pr, const prw__bd_ranges *kr, prw_error *err) {
    if (!kr->check_probes)
        return PRW_OK;
    uint64_t h = PRW_FNV1A64_INIT;
    for (uint32_t r = 0; r < pr->n_probes; r++)
        h = prw__pl_probe_hash(h, prw__intern_ptr(&pr->src_tab, pr->by_rank[r]),
                               prw__intern_len(&pr->src_tab, pr->by_rank[r]));
    PRW_CHECK(pr->n_probes == kr->n_probes && h == kr->probes_hash, err, PRW_E_CORRUPT, -1,
              "the inputs hold %u probes, the plan %u (or other ones): the inputs changed since "
              "planning",
              pr->n_probes, kr->n_probes);
    return PRW_OK;
}
