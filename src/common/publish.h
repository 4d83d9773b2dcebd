/*
 * Output directories that are never half old, half new (docs/PUBLISH.md):
 *   - a one-writer lock per directory (flock on DIR/.proberows.lock holding the pid),
 *   - temporary folders (staging, spill, backup) that carry their owner's pid and lock, and a
 *     sweeper that removes those whose owner is gone,
 *   - an atomic publish of a whole set of files through a small journal that the next command
 *     on the directory rolls forward (the set was committed) or back (it was not).
 */
#ifndef PRW_COMMON_PUBLISH_H
#define PRW_COMMON_PUBLISH_H

#include <stdbool.h>
#include <stdint.h>

#include "common/common.h"

/* ---- one writer per directory ------------------------------------------------------------ */

#define PRW__LOCK_NAME ".proberows.lock"

typedef struct prw__dirlock {
    int fd; /* -1 when not held */
} prw__dirlock;

/**
 * Takes the writer lock of `dir` (which must exist) without waiting: exclusive for a build,
 * plan or finalize; `shared` for scale-out map and reduce tasks, which run side by side and
 * each publish their own files, but never beside an exclusive holder. A lock whose holder died
 * is free (the kernel drops it with the process). Errors: PRW_E_IO with sys_errno EAGAIN and a
 * message naming the holder's pid when the lock is taken; PRW_E_IO for other failures.
 */
prw_status prw__dirlock_acquire(prw__dirlock *l, const char *dir, bool shared, prw_error *err);
/** Releases the lock; safe on a zeroed-then-failed or released lock. */
void prw__dirlock_release(prw__dirlock *l);
/**
 * For readers, without taking anything: the pid of the writer holding the lock of `dir`, 0 if
 * none, -1 if it is held but the pid is unknown.
 */
long prw__dirlock_holder(const char *dir);

/* ---- temporary folders with an owner ----------------------------------------------------- */

typedef struct prw__owned_dir {
    char *path; /* PARENT/.proberows-KIND-PID-XXXXXX; NULL when not created */
    int fd;     /* its .owner file, locked while the owner lives */
} prw__owned_dir;

/**
 * Creates PARENT/.proberows-KIND-PID-XXXXXX holding a locked `.owner` file with the pid. KIND is
 * a short word ("staging", "spill", "backup"). Errors: PRW_E_IO naming `parent`, PRW_E_NOMEM.
 */
prw_status prw__owned_dir_create(prw__owned_dir *d, const char *parent, const char *kind,
                                 prw_error *err);
/** Removes the folder and all it holds, then drops the lock; safe on a zeroed struct. */
prw_status prw__owned_dir_remove(prw__owned_dir *d, prw_error *err);
/**
 * Whether the owner of the temporary folder `path` (named as above) still runs: its .owner is
 * locked, or it is being created by a live pid.
 */
bool prw__owned_dir_alive(const char *path);

typedef struct prw__sweep_stats {
    int removed;   /* folders removed */
    int64_t bytes; /* bytes of the files they held */
    int in_use;    /* folders left because their owner lives */
} prw__sweep_stats;

/**
 * Removes the proberows temporary folders in `dir` whose owner is gone: the `.owner` lock is
 * free, or there is none and the pid in the name is not running. With `unowned_too`, folders of
 * the old naming (no pid, no .owner: .proberows-staging-XXXXXX) go too; pass it only for a
 * directory whose writer lock the caller holds exclusively. A missing `dir` is success. While
 * a publish awaits recovery, its backup and staging folders are left (counted as in use).
 */
prw_status prw__sweep_leftovers(const char *dir, bool unowned_too, prw__sweep_stats *out,
                                prw_error *err);

/* ---- atomic publish of a set of files ---------------------------------------------------- */

typedef struct prw__publish_spec {
    /**
     * NULL-terminated names of the output set's files: a file in the directory belongs to the
     * set if its name is one of them, or one of them followed by -K-of-N (decimal shard
     * numbers); anything else (a user's train.arrayrecord.bak) is never touched.
     */
    const char *const *owned;
    /**
     * true: after the publish the set is exactly the staged files (other owned files, e.g. of
     * another shard count, are removed in the same step); false: only files of the same names
     * are replaced (a scale-out task publishing its own shard).
     */
    bool replace_all;
    /**
     * NULL-terminated names already in the directory that belong to the new set (with
     * replace_all: kept, not removed), e.g. the shards the reduce tasks published when finalize
     * publishes the manifest. May be NULL.
     */
    const char *const *keep;
} prw__publish_spec;

/**
 * Moves every file of `stage` (a folder inside `dir`, names not starting with '.') into `dir`
 * as one step: on return, and after any crash once prw__publish_recover has run, `dir` holds
 * either all the old owned files untouched or exactly the new set. A failure rolls back
 * before returning; `stage` is left for the caller to remove. Checks before changing anything
 * that no old output name is a directory or other non-file. Errors: PRW_E_IO naming the file.
 */
prw_status prw__publish(const char *dir, const char *stage, const prw__publish_spec *spec,
                        prw_error *err);

/** What prw__publish_recover did (bits: several publishes may have been interrupted). */
typedef enum prw__recovery {
    PRW__RECOVERY_NONE = 0,    /* no interrupted publish */
    PRW__RECOVERY_FORWARD = 1, /* a committed publish was finished */
    PRW__RECOVERY_BACK = 2     /* an uncommitted publish was undone: the old set is back */
} prw__recovery;

/**
 * Finishes or undoes every interrupted publish in `dir` (a missing `dir` is fine): the backup
 * folders whose owner is gone and that hold a journal. Every command that writes `dir` calls it
 * first, holding the writer lock. Idempotent: a crash during recovery is recovered by the next
 * call. Errors: PRW_E_IO, PRW_E_CORRUPT (journal unreadable), PRW_E_NOMEM.
 */
prw_status prw__publish_recover(const char *dir, int *done, prw_error *err);

/** True if `dir` has an interrupted publish that prw__publish_recover has yet to handle. */
bool prw__publish_pending(const char *dir);

/** True if the backup folder `backup` holds a publish journal (the sweeper leaves it). */
bool prw__publish_journal_in(const char *backup);

typedef enum prw__fault_mode {
    PRW__FAULT_OFF = 0,
    PRW__FAULT_FAIL = 1, /* the step fails with PRW_E_IO */
    PRW__FAULT_KILL = 2  /* the process sends itself SIGKILL */
} prw__fault_mode;

/**
 * Test hook: counting from now, the `step`-th step (1-based) of publish or recovery fails or
 * kills the process. Steps: each file moved, each journal write, the commit, each cleanup.
 * Returns the number of steps counted since the previous call.
 */
int prw__publish_inject_fault(int step, prw__fault_mode mode);

#endif
