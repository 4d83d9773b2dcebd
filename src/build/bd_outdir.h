/*
 * The output directory of a build or a scale-out task (docs/PUBLISH.md): created if missing
 * and removed again if the run fails, locked for the whole run (exclusive for a build, plan or
 * finalize; shared for map and reduce tasks), interrupted publishes recovered and leftovers of
 * stopped runs swept before anything is written, and a staging folder for the new files.
 */
#ifndef PRW_BUILD_BD_OUTDIR_H
#define PRW_BUILD_BD_OUTDIR_H

#include "common/publish.h"
#include "proberows/pipeline.h"

typedef struct prw__bd_outdir {
    prw__dirlock lock;
    char *created[2];     /* the topmost directories this run created (output, temp), or NULL */
    int created_slot[2];  /* their prw__pl_temp_register slots: a signal removes them too */
    prw__owned_dir stage; /* DIR/.proberows-staging-PID-XXXXXX, when asked for */
} prw__bd_outdir;

/**
 * Opens `dir` for writing: creates it (remembering what it created), takes the lock, recovers
 * interrupted publishes, sweeps leftovers in `dir` and `temp_dir` (may be NULL; created too)
 * into the stats, and with `want_stage` creates the staging folder. On error everything it
 * created is gone again. Errors: PRW_E_IO (a second writer: the message names its pid).
 */
prw_status prw__bd_outdir_open(prw__bd_outdir *od, const char *dir, const char *temp_dir,
                               bool shared, bool want_stage, prw_build_stats *st, prw_error *err);
/** After a successful publish: what the run created now holds the output, which a signal
 *  handler must no longer remove. */
void prw__bd_outdir_published(prw__bd_outdir *od);
/** Removes the staging folder, drops the lock and, when `failed`, the directories it created. */
void prw__bd_outdir_close(prw__bd_outdir *od, bool failed);

/** The output set's file names for prw__publish (train/test ArrayRecords, manifest.json). */
extern const char *const prw__bd_output_names[];

#endif
