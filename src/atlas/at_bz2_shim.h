/*
 * TEMPORARY: the bzip2 reader API of src/bzip2/bz.h (branch bz2), declared here until that
 * decoder is merged. at_bz2_shim.c implements it over libbz2's streaming decoder on one
 * thread. To swap in the real decoder: delete at_bz2_shim.c and this header and include
 * "bzip2/bz.h" in at_stream.c instead.
 */
#ifndef PRW_ATLAS_AT_BZ2_SHIM_H
#define PRW_ATLAS_AT_BZ2_SHIM_H

#include <stddef.h>
#include <stdint.h>

#include "proberows/proberows.h"

typedef struct prw__bz_reader prw__bz_reader;

/**
 * Reads the bzip2 data[0, size) (one stream or several concatenated), which must stay valid
 * until destroy. `name` is used in messages; `threads` and `max_buffered` (decompressed
 * bytes held) bound the decoder. Errors: PRW_E_NOMEM, PRW_E_CORRUPT (not bzip2).
 */
prw_status prw__bz_reader_create(const uint8_t *data, size_t size, const char *name, int threads,
                                 size_t max_buffered, prw__bz_reader **out, prw_error *err);
/**
 * The next decompressed piece, in order; *len 0 = the end. The piece stays valid until the
 * next call. Errors name the file and the compressed byte offset: PRW_E_CORRUPT,
 * PRW_E_CHECKSUM, PRW_E_TRUNCATED, PRW_E_NOMEM.
 */
prw_status prw__bz_reader_next(prw__bz_reader *r, const uint8_t **data, size_t *len,
                               prw_error *err);
void prw__bz_reader_destroy(prw__bz_reader *r);

#endif
