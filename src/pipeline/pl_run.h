/* The run files of scale-out map tasks (format in pl_map.c); shared by map and reduce. */
#ifndef PRW_PIPELINE_PL_RUN_H
#define PRW_PIPELINE_PL_RUN_H

#include "pipeline/pl_internal.h"

#define RUN_MAGIC "PRWRUN01"
#define RUN_END_MAGIC "PRWEND01"
#define RUN_HEADER 32
#define RUN_BLOCK_HEADER 20
#define RUN_TRAILER 24
#define RUN_BLOCK_ROWS 65536u
#define RUN_BLOCK_MAX (32u << 20) /* raw bytes of one block; readers refuse more */

/** DIR/.runs/map-IIIII-range-KKKKK.run */
void prw__run_name(const prw__plan *p, char *buf, size_t cap, uint32_t map, uint32_t range);

#endif
