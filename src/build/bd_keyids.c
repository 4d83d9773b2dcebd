/*
 * The key pass's src_addr ids, kept for the decode phase of the memory-bounded mode: each
 * decoder appends the ids of its row groups to a file of its own in the spill folder, and the
 * decode phase reads a row group's ids back and maps them to ranks through the id -> rank
 * table, instead of decoding src_addr a second time and looking every string up in the key
 * map (on L, PLAIN src_addr: a third of the decode phase's CPU). 4 bytes per row on disk.
 */
#include <stdatomic.h>
#include <stdio.h>

#include "build/bd_internal.h"
#include "common/io.h"

struct prw__pl_keyids {
    char *dir;
    size_t nfiles, nrg;
    prw__wfile *w;
    prw__rfile *r;
    uint32_t *file;       /* by row group: the file holding its ids */
    int64_t *off;         /* by row group: their offset, -1 when not written */
    uint64_t *n;          /* by row group: rows */
    const uint32_t *rank; /* by src intern id, after finish */
    _Atomic int64_t bytes;
};

void prw__pl_keyids_destroy(prw__pl_keyids *k) {
    if (!k)
        return;
    for (size_t i = 0; i < k->nfiles; i++) {
        prw__rfile_close(&k->r[i]);
        prw__wfile_abort(&k->w[i]);
    }
    prw__free(k->w);
    prw__free(k->r);
    prw__free(k->file);
    prw__free(k->off);
    prw__free(k->n);
    prw__free(k->dir);
    prw__free(k);
}

prw_status prw__pl_keyids_create(prw__pl_keyids **out, const char *dir, size_t nfiles, size_t nrg,
                                 prw_error *err) {
    *out = NULL;
    prw__pl_keyids *k = prw__calloc(1, sizeof *k);
    if (!k)
        return prw__error_nomem(err, "key id files", sizeof *k);
    k->dir = prw__strdup(dir);
    k->w = prw__calloc(nfiles, sizeof *k->w);
    k->r = prw__calloc(nfiles, sizeof *k->r);
    k->file = prw__calloc(nrg + 1, sizeof *k->file);
    k->off = prw__malloc_array(nrg + 1, sizeof *k->off);
    k->n = prw__calloc(nrg + 1, sizeof *k->n);
    if (!k->dir || !k->w || !k->r || !k->file || !k->off || !k->n) {
        prw__pl_keyids_destroy(k);
        return prw__error_nomem(err, "key id files", (nrg + 1) * 20 + nfiles * sizeof *k->w);
    }
    for (size_t g = 0; g <= nrg; g++)
        k->off[g] = -1;
    k->nrg = nrg;
    for (size_t i = 0; i < nfiles; i++) {
        char path[PRW_PATH_BUF];
        snprintf(path, sizeof path, "%s/keys-%03zu", dir, i);
        prw_status st = prw__wfile_open(&k->w[i], path, err);
        if (st < 0) {
            prw__pl_keyids_destroy(k);
            return st;
        }
        k->nfiles = i + 1;
    }
    *out = k;
    return PRW_OK;
}

prw_status prw__pl_keyids_put(prw__pl_keyids *k, size_t file, size_t rg, const uint32_t *ids,
                              size_t n, prw_error *err) {
    k->file[rg] = (uint32_t)file;
    k->off[rg] = k->w[file].written;
    k->n[rg] = n;
    prw_status st = prw__wfile_write(&k->w[file], ids, n * sizeof *ids, err);
    if (st < 0) {
        prw__error_prefix(err, "spilling to %s: ", k->dir);
        return st;
    }
    atomic_fetch_add(&k->bytes, (int64_t)(n * sizeof *ids));
    return PRW_OK;
}

prw_status prw__pl_keyids_finish(prw__pl_keyids *k, const uint32_t *rank, prw_error *err) {
    for (size_t i = 0; i < k->nfiles; i++)
        PRW_TRY(prw__rfile_open(&k->r[i], k->w[i].tmp_path, false, err));
    k->rank = rank;
    return PRW_OK;
}

int64_t prw__pl_keyids_bytes(const prw__pl_keyids *k) {
    return k ? atomic_load(&k->bytes) : 0;
}

prw_status prw__pl_keyids_get(const prw__pl_keyids *k, size_t rg, uint32_t *ids, size_t n,
                              prw_error *err) {
    PRW_CHECK(rg < k->nrg && k->off[rg] >= 0 && k->n[rg] == n, err, PRW_E_CORRUPT, -1,
              "row group %zu: %zu rows, the key pass saw %llu", rg, n,
              (unsigned long long)k->n[rg]);
    const prw__rfile *f = &k->r[k->file[rg]];
    PRW_TRY(prw__rfile_pread(f, ids, n * sizeof *ids, k->off[rg], err));
    for (size_t r = 0; r < n; r++)
        if (ids[r] != PRW_PL_NULL_ID)
            ids[r] = k->rank[ids[r]];
    return PRW_OK;
}
