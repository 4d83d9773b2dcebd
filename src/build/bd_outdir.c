/* The output directory of a run: create, lock, recover, sweep, stage (bd_outdir.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "build/bd_internal.h"
#include "build/bd_outdir.h"
#include "common/io.h"

const char *const prw__bd_output_names[] = {"train.arrayrecord", "test.arrayrecord",
                                            "manifest.json", NULL};

/* The topmost ancestor of `path` (or path itself) that does not exist, or NULL if it does. */
static char *first_missing(const char *path) {
    struct stat sb;
    if (stat(path, &sb) == 0)
        return NULL;
    char *dup = prw__strdup(path);
    if (!dup)
        return NULL;
    for (char *p = dup + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        bool there = stat(dup, &sb) == 0;
        if (!there)
            return dup; /* dup ends here: the first missing prefix */
        *p = '/';
    }
    return dup;
}

/* Creates `path`; what it created is removed again on failure, also by a SIGINT handler
 * (prw_build_remove_temp_files), since nothing but this run's files can be in it. */
static prw_status make_dir(const char *path, char **created, int *slot, prw_error *err) {
    *created = first_missing(path);
    prw_status st = prw__mkdir_p(path, err);
    if (st < 0 && *created) {
        (void)prw__remove_dir(*created, NULL);
        prw__free(*created);
        *created = NULL;
    }
    if (*created)
        *slot = prw__pl_temp_register(*created);
    return st;
}

static prw_status sweep(const char *dir, bool own_dir, prw_build_stats *st, prw_error *err) {
    prw__sweep_stats sw;
    PRW_TRY(prw__sweep_leftovers(dir, own_dir, &sw, err));
    st->leftovers_removed += sw.removed;
    st->leftover_bytes += sw.bytes;
    return PRW_OK;
}

static prw_status prepare(prw__bd_outdir *od, const char *dir, const char *temp_dir, bool shared,
                          bool want_stage, prw_build_stats *st, prw_error *err) {
    PRW_TRY(make_dir(dir, &od->created[0], &od->created_slot[0], err));
    PRW_TRY(prw__dirlock_acquire(&od->lock, dir, shared, err));
    int done = 0;
    PRW_TRY(prw__publish_recover(dir, &done, err));
    st->publishes_finished += (done & PRW__RECOVERY_FORWARD) != 0;
    st->publishes_undone += (done & PRW__RECOVERY_BACK) != 0;
    /* Folders of the old naming (no owner) are surely stale only where this run writes alone. */
    PRW_TRY(sweep(dir, !shared, st, err));
    if (temp_dir && strcmp(temp_dir, dir) != 0) {
        PRW_TRY(make_dir(temp_dir, &od->created[1], &od->created_slot[1], err));
        PRW_TRY(sweep(temp_dir, false, st, err));
    }
    if (want_stage)
        PRW_TRY(prw__owned_dir_create(&od->stage, dir, "staging", err));
    return PRW_OK;
}

prw_status prw__bd_outdir_open(prw__bd_outdir *od, const char *dir, const char *temp_dir,
                               bool shared, bool want_stage, prw_build_stats *st, prw_error *err) {
    memset(od, 0, sizeof *od);
    od->lock.fd = -1;
    od->stage.fd = -1;
    od->created_slot[0] = od->created_slot[1] = -1;
    prw_status s = prepare(od, dir, temp_dir, shared, want_stage, st, err);
    if (s < 0)
        prw__bd_outdir_close(od, true);
    return s;
}

void prw__bd_outdir_published(prw__bd_outdir *od) {
    for (int i = 0; od && i < 2; i++) {
        prw__pl_temp_unregister(od->created_slot[i]);
        od->created_slot[i] = -1;
    }
}

void prw__bd_outdir_close(prw__bd_outdir *od, bool failed) {
    (void)prw__owned_dir_remove(&od->stage, NULL);
    prw__dirlock_release(&od->lock);
    for (int i = 0; i < 2; i++) {
        if (failed && od->created[i])
            (void)prw__remove_dir(od->created[i], NULL);
        prw__pl_temp_unregister(od->created_slot[i]);
        od->created_slot[i] = -1;
        prw__free(od->created[i]);
        od->created[i] = NULL;
    }
}
