/*
 * Fuzz target for the whole dump reader over memory (src/atlas/): format sniffing, the
 * bzip2 / gzip / zstd streams, the line splitter, the parallel parse and the in-order
 * hand-out. Any bytes are read twice (lenient and strict); the reader either fails with a
 * message or hands out batches whose offsets are consistent, and its counts add up.
 *
 * bzip2 inputs that expand to more than 1 MiB (as far as libbz2 decodes them) are skipped: a
 * few hundred bytes can declare 900 kB blocks that RLE1 expands to 45 MB each, and reading
 * those twice held this target at ~130 execs/s, nearly all of it in the bzip2 decoder. That
 * decoder has its own target (bz_decode, compared with libbz2 up to 64 MB), and what such
 * inputs reach here, over-long lines, comes as well from gzip and zstd inputs, whose
 * decoders are not instrumented, and from plain text.
 */
#include <bzlib.h>
#include <stdlib.h>
#include <string.h>

#include "atlas/at_internal.h"
#include "bz_ref.h"
#include "fuzz.h"

static void check_batch(const prw_atlas_batch *b) {
    if (b->src_offsets[0] != 0 || b->dst_offsets[0] != 0)
        abort();
    for (int64_t r = 0; r < b->num_rows; r++) {
        if (b->src_offsets[r + 1] <= b->src_offsets[r] || b->dst_offsets[r + 1] < b->dst_offsets[r])
            abort();
        if (b->dst_valid[r] != (b->dst_offsets[r + 1] > b->dst_offsets[r]))
            abort();
        if (b->ip_valid[r] && b->ip_version[r] != 4 && b->ip_version[r] != 6)
            abort();
        if (b->line[r] < 1 || (r && b->line[r] <= b->line[r - 1]))
            abort();
    }
}

static void read_once(const uint8_t *data, size_t size, bool strict) {
    prw_atlas_options o = {.threads = 2, .strict = strict, .details = true, .max_memory = 1};
    prw_atlas_reader *r = NULL;
    prw_error err;
    prw_error_clear(&err);
    if (prw__at_reader_open_mem(data, size, "fuzz", &o, &r, &err) < 0) {
        if (!err.msg[0])
            abort();
        return;
    }
    const prw_atlas_batch *b;
    prw_status st;
    int64_t rows = 0;
    while ((st = prw_atlas_reader_next(r, &b, &err)) == PRW_OK) {
        check_batch(b);
        rows += b->num_rows;
    }
    const prw_atlas_stats *s = prw_atlas_reader_stats(r);
    if (st < 0 && (!err.msg[0] || strstr(err.msg, "fuzz") == NULL))
        abort(); /* every error names the input */
    if (st == PRW_DONE &&
        (s->results != rows ||
         s->lines != s->results + s->dropped_no_src + s->blank_lines + s->bad_total ||
         (strict && s->bad_total != 0) || s->nfirst_bad > PRW_ATLAS_FIRST_BAD))
        abort();
    prw_atlas_reader_close(r);
}

/* Whether libbz2 decodes data (one stream or several, up to its first error) to more than cap
 * bytes. libbz2's blocks are cached from input to input (see bz_ref.h). */
static bool bz_expands_beyond(const uint8_t *data, size_t size, size_t cap) {
    static prw_fuzz_bz_cache cache;
    size_t total = 0, pos = 0;
    char sink[16384];
    while (pos < size && size <= 0xffffffffu) {
        bz_stream s;
        memset(&s, 0, sizeof s);
        prw_fuzz_bz_cache_use(&s, &cache);
        if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK)
            return false;
        s.next_in = (char *)(uintptr_t)(data + pos);
        s.avail_in = (unsigned)(size - pos);
        int rc;
        do {
            s.next_out = sink;
            s.avail_out = sizeof sink;
            rc = BZ2_bzDecompress(&s);
            total += sizeof sink - s.avail_out;
        } while (rc == BZ_OK && total <= cap && s.avail_out == 0);
        pos = size - s.avail_in;
        BZ2_bzDecompressEnd(&s);
        if (total > cap)
            return true;
        if (rc != BZ_STREAM_END)
            return false;
    }
    return false;
}

FUZZ_TARGET(at_reader) {
    if (prw_atlas_detect(data, size) == PRW_ATLAS_FMT_BZIP2 &&
        bz_expands_beyond(data, size, 1u << 20))
        return 0;
    read_once(data, size, false);
    read_once(data, size, true);
    return 0;
}
