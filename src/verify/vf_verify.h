/* Internals of `proberows verify` exposed for the fuzz target. */
#ifndef PRW_VERIFY_VF_VERIFY_H
#define PRW_VERIFY_VF_VERIFY_H

#include <stddef.h>
#include <stdint.h>

/**
 * Runs the per-record checks of verify on one record's bytes (as read from a file), with the
 * default options. Returns the number of failed checks (0 or 1: a record stops at its first
 * failure), or -1 when the checker itself ran out of memory.
 */
int prw__pl_verify_one_record(const uint8_t *data, size_t len);

#endif
