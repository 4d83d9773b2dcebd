/*
 * Fuzz target for the dump's JSON line reader and ping mapping (src/atlas/at_json.c,
 * at_ping.c): any bytes, cut at line feeds, each line parsed with every option set and
 * packets kept. Never crashes; a line is a row, a keyless result, blank or bad with a reason
 * and a position inside the line; a row's strings lie inside the line or the scratch.
 */
#include <stdlib.h>

#include "atlas/at_internal.h"
#include "fuzz.h"

static bool inside(prw__at_str s, const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    if (s.n == 0)
        return true;
    return (s.p >= a && s.p + s.n <= a + an) || (s.p >= b && s.p + s.n <= b + bn);
}

static void one_line(const uint8_t *p, size_t n, uint8_t *scratch, prw__at_ping *ping) {
    static const prw_atlas_options opts[3] = {
        {0}, {.rtt = PRW_ATLAS_RTT_MIN, .src = PRW_ATLAS_SRC_FROM}, {.rtt = PRW_ATLAS_RTT_MAX}};
    for (int k = 0; k < 3; k++) {
        prw__at_row row;
        prw__at_json j;
        prw__at_outcome oc = prw__at_parse_line(p, n, scratch, &opts[k], ping, &row, &j);
        if (oc == PRW_AT_BAD) {
            if ((unsigned)j.bad >= PRW_ATLAS_BAD_COUNT || !j.what || j.at < p || j.at > p + n)
                abort();
            continue;
        }
        if (oc == PRW_AT_ROW && (row.src.n == 0 || !inside(row.src, p, n, scratch, n) ||
                                 !inside(row.dst, p, n, scratch, n)))
            abort();
        if (oc == PRW_AT_ROW && row.ip_version != 0 && row.ip_version != 4 && row.ip_version != 6)
            abort();
        if (ping->ndup > ping->npkts || ping->ntimeout + ping->nerr > ping->npkts)
            abort();
    }
}

FUZZ_TARGET(at_json) {
    uint8_t *scratch = malloc(size ? size : 1);
    if (!scratch)
        return 0;
    prw__at_ping ping;
    memset(&ping, 0, sizeof ping);
    ping.want_pkts = true;
    const uint8_t *p = data, *end = data + size;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        one_line(p, n, scratch, &ping);
        p += n + (nl != NULL);
    }
    prw__at_ping_cleanup(&ping);
    free(scratch);
    return 0;
}
