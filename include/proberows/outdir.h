/*
 * Output directories shared by writers and readers (docs/PUBLISH.md). Writers (build, the
 * scale-out tasks) hold the directory's lock and publish whole sets atomically; readers take
 * no lock, but call prw_outdir_prepare_read first: it finishes or undoes a publish that a killed
 * writer left halfway (when no writer is active) and says whether a writer is active now.
 */
#ifndef PROBEROWS_OUTDIR_H
#define PROBEROWS_OUTDIR_H

#include <stdbool.h>

#include "proberows/proberows.h"

typedef struct prw_outdir_state {
    long writer_pid; /**< pid of a proberows writing the directory now, 0 none, -1 unknown */
    bool finished;   /**< an interrupted publish was completed: the new output is in place */
    bool undone;     /**< an interrupted publish was undone: the previous output is back */
    bool pending;    /**< an interrupted publish is left for a writer (no right to fix it) */
} prw_outdir_state;

/**
 * Prepares to read output directory `dir`: if no writer holds its lock, recovers interrupted
 * publishes (taking the lock for that instant); if a writer holds it, only reports its pid. A
 * directory this process may not write (read-only copy) is only looked at (`pending`). A
 * missing `dir` is fine (st all zero). Errors: PRW_E_IO, PRW_E_CORRUPT (a damaged journal).
 */
PRW_API prw_status prw_outdir_prepare_read(const char *dir, prw_outdir_state *st, prw_error *err);

#endif
