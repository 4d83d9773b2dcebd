/*
 * The key pass's src_addr ids, kept for the decode phase of the memory-bounded mode: each
 * decoder appends the ids of its row groups to a file of its own in the spill folder, and the
 * decode phase reads a row group's ids back and maps them to ranks through the id -> rank
 * table, instead of decoding src_addr a second time and looking every string up in the key
 * map (on L, PLAIN src_addr: a third of the decode phase's CPU). 4 bytes per row on disk.
 */
#include <stdio.h>

#include "build/bd_internal.h"
#include "common/io.h"

/* Where one row group's ids are. */
typedef struct {
    int64_t off; /* in its file; -1 when the key pass did not write them */
    uint64_t n;  /* rows */
    uint32_t file;
} keyids_extent;

struct prw__pl_keyids {
    char *dir;
    size_t nfiles, nrg;
    prw__wfile *w;
    prw__rfile *r;
    keyids_extent *rg;    /* by row group */
    const uint32_t *rank; /* by src intern id, after finish */
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
    prw__free(k->rg);
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
    k->rg = prw__malloc_array(nrg ? nrg : 1, sizeof *k->rg);
    if (!k->dir || !k->w || !k->r || !k->rg) {
        prw__pl_keyids_destroy(k);
        return prw__error_nomem(err, "key id files",
                                nrg * sizeof *k->rg + nfiles * (sizeof *k->w + sizeof *k->r));
    }
    for (size_t g = 0; g < nrg; g++)
        k->rg[g] = (keyids_extent){.off = -1};
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
    k->rg[rg] = (keyids_extent){.off = k->w[file].written, .n = n, .file = (uint32_t)file};
    prw_status st = prw__wfile_write(&k->w[file], ids, n * sizeof *ids, err);
    if (st < 0) {
        prw__error_prefix(err, "spilling to %s: ", k->dir);
        return st;
    }
    return PRW_OK;
}

prw_status prw__pl_keyids_finish(prw__pl_keyids *k, const uint32_t *rank, prw_error *err) {
    for (size_t i = 0; i < k->nfiles; i++)
        PRW_TRY(prw__rfile_open(&k->r[i], k->w[i].tmp_path, false, err));
    k->rank = rank;
    return PRW_OK;
}

int64_t prw__pl_keyids_bytes(const prw__pl_keyids *k) {
    int64_t b = 0;
    for (size_t i = 0; k && i < k->nfiles; i++)
        b += k->w[i].written;
    return b;
}

prw_status prw__pl_keyids_get(const prw__pl_keyids *k, size_t rg, uint32_t *ids, size_t n,
                              prw_error *err) {
    PRW_CHECK(rg < k->nrg && k->rg[rg].off >= 0, err, PRW_E_CORRUPT, -1,
              "row group %zu: the key pass did not see it", rg);
    const keyids_extent *e = &k->rg[rg];
    PRW_CHECK(e->n == n, err, PRW_E_CORRUPT, -1, "row group %zu: %zu rows, the key pass saw %llu",
              rg, n, (unsigned long long)e->n);
    PRW_TRY(prw__rfile_pread(&k->r[e->file], ids, n * sizeof *ids, e->off, err));
    for (size_t r = 0; r < n; r++)
        if (ids[r] != PRW_PL_NULL_ID)
            ids[r] = k->rank[ids[r]];
    return PRW_OK;
}
