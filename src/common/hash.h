/* Hashes the formats need: HighwayHash-64 (Riegeli), MD5 (src_id), CRC-32 (Parquet pages). */
#ifndef PRW_COMMON_HASH_H
#define PRW_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

/** HighwayHash-64 of n bytes under a 256-bit key (4 little-endian 64-bit words). */
uint64_t prw__highwayhash64(const uint64_t key[4], const void *data, size_t n);

/** MD5 digest of n bytes. */
void prw__md5(const void *data, size_t n, uint8_t out[16]);

/** CRC-32 (IEEE, as zlib) of n bytes, continuing from `crc` (start with 0). */
uint32_t prw__crc32(uint32_t crc, const void *data, size_t n);

#endif
