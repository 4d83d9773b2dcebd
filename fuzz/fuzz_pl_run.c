/*
 * Fuzz target for the scale-out run-file reader (prw__run_parse, pl_reduce.c): any bytes ->
 * parse as the run file of map task and range named in its own header, for a range of 1000
 * probes. When the first byte is odd the header and block CRCs are recomputed first, so
 * mutations reach decompression and the block decoder instead of stopping at a CRC. Never crashes,
 * never allocates more than a block's bounded size; a parse that succeeds yields rows whose keys
 * and dictionary ids are in range.
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/hash.h"
#include "fuzz.h"
#include "pipeline/pl_internal.h"
#include "pipeline/pl_run.h"

#define FUZZ_KEYS 1000

/* Rewrites the header CRC and every block CRC the layout lets us find. */
static void fix_crcs(uint8_t *f, size_t n) {
    if (n < RUN_HEADER)
        return;
    prw__store_le32(f + 28, prw__crc32(0, f, 28));
    size_t pos = RUN_HEADER;
    while (n - pos >= RUN_BLOCK_HEADER + RUN_TRAILER) {
        uint32_t clen = prw__load_le32(f + pos + 12);
        if (clen > n - pos - RUN_BLOCK_HEADER)
            return;
        prw__store_le32(f + pos + 16, prw__crc32(0, f + pos + RUN_BLOCK_HEADER, clen));
        pos += RUN_BLOCK_HEADER + clen;
    }
}

FUZZ_TARGET(pl_run) {
    uint8_t *copy = NULL;
    if (size > 0 && (data[0] & 1)) {
        copy = prw__malloc(size);
        if (!copy)
            return 0;
        memcpy(copy, data, size);
        copy[0] = 'P'; /* the magic's first byte, which is even */
        fix_crcs(copy, size);
        data = copy;
    }
    uint64_t id = size >= 16 ? prw__load_le64(data + 8) : 0;
    uint32_t map = size >= 24 ? prw__load_le32(data + 16) : 0;
    uint32_t range = size >= 24 ? prw__load_le32(data + 20) : 0;
    prw__intern dst;
    prw_error err;
    if (prw__intern_init(&dst, &err) != PRW_OK)
        return 0;
    prw__run_reader rr;
    memset(&rr, 0, sizeof rr);
    rr.dst_tab = &dst;
    prw__pl_decoded g;
    memset(&g, 0, sizeof g);
    size_t cap = 0;
    prw_status st =
        prw__run_parse(&rr, "fuzz.run", data, size, id, map, range, FUZZ_KEYS, &g, &cap, &err);
    if (st == PRW_OK) {
        for (size_t i = 0; i < g.n; i++)
            if (g.rows[i].key >= FUZZ_KEYS ||
                (g.rows[i].dst != PRW_PL_NULL_ID && g.rows[i].dst >= dst.n))
                abort();
    }
    prw__free(g.rows);
    prw__run_reader_cleanup(&rr);
    prw__intern_cleanup(&dst);
    prw__free(copy);
    return 0;
}
