/*
 * The reference for our bzip2 decoder: libbz2 itself, over one stream or several concatenated
 * ones and nothing after them (the semantics of prw__bz_reader). Shared by the bz_decode fuzz
 * target and tests/unit/test_bzip2.c.
 */
#ifndef PRW_FUZZ_BZ_REF_H
#define PRW_FUZZ_BZ_REF_H

#include <stddef.h>
#include <stdint.h>

/**
 * Decodes data[0..size) with libbz2 into a malloc'd *out of *len bytes (free() it; NULL when
 * empty). Returns 0 on success, -1 when libbz2 rejects the data (or it is empty, or bytes
 * follow the last stream), 1 when the output would exceed `cap` bytes (nothing returned).
 */
int prw_fuzz_bz_ref(const uint8_t *data, size_t size, size_t cap, uint8_t **out, size_t *len);

/** Decodes with prw__bz_reader on `threads` threads; the same return values as the above. */
int prw_fuzz_bz_ours(const uint8_t *data, size_t size, int threads, size_t max_buffered, size_t cap,
                     uint8_t **out, size_t *len);

#endif
