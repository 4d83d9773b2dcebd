/*
 * Fuzz target for verify's per-record checks: any bytes as one record of an output file ->
 * outer and inner decoding, schema, field, order, NULL and size checks. Never crashes; a
 * record that passes every check must also pass them again (the checks are pure).
 */
#include <stdlib.h>

#include "fuzz.h"
#include "verify/vf_verify.h"

FUZZ_TARGET(pl_verify_record) {
    int fails = prw__pl_verify_one_record(data, size);
    if (fails == 0 && prw__pl_verify_one_record(data, size) != 0)
        abort();
    return 0;
}
