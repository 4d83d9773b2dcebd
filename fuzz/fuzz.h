/*
 * Fuzz targets: each fuzz/fuzz_<name>.c defines FUZZ_TARGET(name) { ... return 0; }.
 * `make check` links every target into the test runner, which replays fuzz/corpus/<name>/;
 * `make fuzz` links one target at a time with fuzz_entry.c under clang's libFuzzer.
 * A target must never crash, leak or abort on any input; it returns 0.
 */
#ifndef PRW_FUZZ_FUZZ_H
#define PRW_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#define FUZZ_TARGET(name)                                                                          \
    int prw_fuzz_##name(const uint8_t *data, size_t size);                                         \
    int prw_fuzz_##name(const uint8_t *data, size_t size)

#endif
