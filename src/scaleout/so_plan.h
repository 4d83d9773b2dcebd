/* Scale-out plans (so_plan.c): plan.json written by `proberows plan`, loaded by every task. */
#ifndef PRW_SCALEOUT_SO_PLAN_H
#define PRW_SCALEOUT_SO_PLAN_H

#include "build/bd_internal.h"

/** A loaded plan.json. Strings are owned by the plan. */
typedef struct prw__plan {
    char *dir;   /* directory of plan.json: outputs and .runs/ go here */
    char *text;  /* plan.json bytes */
    uint64_t id; /* fnv1a64 of plan.json: run files carry it */
    char **paths;
    int64_t *sizes, *rows;
    const char **formats; /* static names: "parquet", or the dump's compression */
    size_t nfiles;
    uint32_t map_tasks;
    size_t *map_first; /* map_tasks + 1 file bounds */
    uint32_t reduce_tasks;
    uint32_t *bounds; /* reduce_tasks + 1 probe rank bounds */
    uint32_t n_probes;
    int64_t n_train;        /* the ratio rule's train probes */
    uint64_t probes_hash;   /* prw__plan_probe_hash over plan.probes in rank order */
    prw_build_options opts; /* the recorded options; inputs = paths */
    char *columns[PRW_COL_COUNT];
    char *ar_options;
} prw__plan;

/** Loads and checks plan.json. Errors name the file (PRW_E_IO, PRW_E_CORRUPT, PRW_E_NOMEM). */
prw_status prw__plan_load(const char *path, prw__plan **out, prw_error *err);
void prw__plan_free(prw__plan *p);
/**
 * Interns the probes of ranks [first, last) from plan.probes into t (empty; ids = rank - first),
 * checking the whole file against the plan's hash; rows (if not NULL, last - first entries)
 * receives their row counts from the key pass. Errors: PRW_E_CHECKSUM, PRW_E_CORRUPT,
 * PRW_E_TRUNCATED, PRW_E_IO, PRW_E_NOMEM.
 */
prw_status prw__plan_load_probes(const prw__plan *p, uint32_t first, uint32_t last, prw__intern *t,
                                 uint64_t *rows, prw_error *err);
/** Path of a file inside the plan's directory (or .runs/) in buf (cap bytes). */
void prw__plan_path(const prw__plan *p, char *buf, size_t cap, const char *fmt, ...)
    PRW_PRINTF(4, 5);

#endif
