/*
 * Fuzz target for the scale-out run-file reader (pl_run.c): any bytes -> added to a run set as
 * the run file of map task 0 and the range named in its own header, for a range of 1000 probes
 * cut into parts by a fixed row count, then every part read. When the first byte is odd the
 * header and block CRCs are recomputed first, so mutations reach decompression and the block
 * decoder instead of stopping at a CRC. Never crashes, never allocates more than a block's
 * bounded size; the rows read have keys inside their part and dictionary ids that name
 * interned strings.
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/hash.h"
#include "fuzz.h"
#include "build/bd_internal.h"
#include "scaleout/so_run.h"

#define FUZZ_KEYS 1000

/* Rewrites the header CRC and every block CRC the layout lets us find. */
static void fix_crcs(uint8_t *f, size_t n) {
    if (n < PRW_SO_RUN_HEADER)
        return;
    prw__store_le32(f + 28, prw__crc32(0, f, 28));
    size_t pos = PRW_SO_RUN_HEADER;
    while (n - pos >= PRW_SO_RUN_BLOCK_HEADER + PRW_SO_RUN_TRAILER) {
        uint32_t clen = prw__load_le32(f + pos + 12);
        if (clen > n - pos - PRW_SO_RUN_BLOCK_HEADER)
            return;
        prw__store_le32(f + pos + 16,
                        prw__run_block_crc(f + pos, f + pos + PRW_SO_RUN_BLOCK_HEADER, clen));
        pos += PRW_SO_RUN_BLOCK_HEADER + clen;
    }
}

FUZZ_TARGET(pl_run) {
    uint8_t *copy = NULL;
    static uint64_t rows[FUZZ_KEYS];
    static uint32_t part_key[FUZZ_KEYS + 2];
    for (uint32_t r = 0; r < FUZZ_KEYS; r++)
        rows[r] = 1 + r % 7;
    size_t nparts = prw__run_parts(rows, FUZZ_KEYS, part_key);
    if (size > 0 && (data[0] & 1)) {
        copy = prw__malloc(size);
        if (!copy)
            return 0;
        memcpy(copy, data, size);
        copy[0] = 'P';    /* the magic's first byte, which is even */
        if (size >= 28) { /* map task 0, cut as this target cuts, so blocks get read */
            prw__store_le32(copy + 16, 0);
            prw__store_le32(copy + 24, prw__run_parts_digest(part_key, nparts));
        }
        fix_crcs(copy, size);
        data = copy;
    }
    uint64_t id = size >= 16 ? prw__load_le64(data + 8) : 0;
    uint32_t range = size >= 24 ? prw__load_le32(data + 20) : 0;
    prw__intern dst;
    prw_error err;
    if (prw__intern_init(&dst, &err) != PRW_OK) {
        prw__free(copy);
        return 0;
    }
    prw__run_set *rs = NULL;
    prw__run_cursor cur;
    memset(&cur, 0, sizeof cur);
    prw__pl_row *out = NULL;
    static uint64_t probe_rows[FUZZ_KEYS], probe_bytes[FUZZ_KEYS];
    prw_status st = prw__run_set_create(&rs, id, range, 1, part_key, nparts, &err);
    if (st == PRW_OK)
        st = prw__run_set_add(rs, 0, "fuzz.run", data, size, &dst, &err);
    for (size_t p = 0; st == PRW_OK && p < nparts; p++) {
        size_t n = prw__run_set_part_rows(rs, p);
        prw__free(out);
        out = prw__malloc_array(n ? n : 1, sizeof *out);
        if (!out)
            break;
        if (prw__run_read_part(rs, &cur, p, out, &dst, probe_rows, probe_bytes, &err) != PRW_OK)
            continue;
        for (size_t i = 0; i < n; i++)
            if (out[i].key < part_key[p] || out[i].key >= part_key[p + 1] ||
                (out[i].dst != PRW_PL_NULL_ID && out[i].dst >= dst.n))
                abort();
    }
    prw__free(out);
    prw__run_cursor_cleanup(&cur);
    prw__run_set_destroy(rs);
    prw__intern_cleanup(&dst);
    prw__free(copy);
    return 0;
}
