/*
 * Fuzz target for the report's manifest reader (rp_manifest.c): any bytes -> parse. Never
 * crashes or reads out of bounds; a parse that succeeds has every required field, non-negative,
 * and a shard count the file list can use.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "report/rp_internal.h"

FUZZ_TARGET(rp_manifest) {
    rp_manifest m;
    prw_error err;
    if (prw__rp_manifest_parse((const char *)data, size, &m, &err) != PRW_OK) {
        if (err.msg[0] == 0)
            abort(); /* every failure says why */
        return 0;
    }
    if (m.shards < 1 || m.shards > 99999 || m.files[0] != m.shards || m.rows_read < 0 ||
        m.max_row_size < 0)
        abort();
    for (int s = 0; s < RP_SPLITS; s++)
        if (m.probes[s] < 0 || m.records[s] < 0 || m.measurements[s] < 0 || m.bytes[s] < 0)
            abort();
    return 0;
}
