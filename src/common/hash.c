/* Wrappers over libhighwayhash's C binding, libmd's MD5 and libdeflate's CRC-32. */
#include <highwayhash/c_bindings.h>
#include <libdeflate.h>
#include <md5.h>

#include "common/hash.h"

uint64_t prw__highwayhash64(const uint64_t key[4], const void *data, size_t n) {
    return HighwayHash64(key, (const char *)data, (uint64_t)n);
}

void prw__md5(const void *data, size_t n, uint8_t out[16]) {
    MD5_CTX c;
    MD5Init(&c);
    MD5Update(&c, data, n);
    MD5Final(out, &c);
}

uint32_t prw__crc32(uint32_t crc, const void *data, size_t n) {
    return libdeflate_crc32(crc, data, n);
}
