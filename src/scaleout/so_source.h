/* The scale-out run files as a partition source of the build engine (so_source.c). */
#ifndef PRW_SCALEOUT_SO_SOURCE_H
#define PRW_SCALEOUT_SO_SOURCE_H

#include "build/bd_engine.h"
#include "scaleout/so_run.h"

/**
 * A source over the parts of `runs` (complete: every map task's file added), cut by part_key
 * (nparts + 1 local rank bounds, borrowed) for `workers` workers. Release with
 * (*out)->release(*out). Errors: PRW_E_NOMEM.
 */
prw_status prw__so_run_source(prw__part_source **out, const prw__run_set *runs,
                              const uint32_t *part_key, size_t nparts, size_t workers,
                              prw_error *err);

#endif
