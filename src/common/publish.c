/*
 * Atomic publish of a set of files through a journal (see publish.h and docs/PUBLISH.md).
 *
 *   1. check: every old file that the new set replaces or drops is a file (not a directory)
 *   2. a backup folder DIR/.proberows-backup-PID-XXXXXX (owned, see dirlock.c) gets the journal
 *      `.journal` (the staging folder's name, the new files, the old files), written to a
 *      temporary name, synced and renamed into place
 *   3. every old file moves into the backup folder, then every new file into DIR
 *   4. commit: the journal is renamed to `.journal.done`
 *   5. the staging folder, then the backup folder (journal included) are removed
 * Recovery looks at the backup folders whose owner is gone: a .done journal is finished (step
 * 5), a plain one is undone (new files back into staging, old files back from the backup), so
 * the directory holds the whole old set or the whole new one. Every step is a rename or an
 * unlink, so redoing recovery after a crash during recovery is safe. Each publisher has its own
 * backup folder and journal, so scale-out tasks publishing their own shards side by side (under
 * a shared lock) do not meet.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"
#include "common/publish.h"

#define JOURNAL ".journal"
#define JOURNAL_DONE ".journal.done"
#define BACKUP_PREFIX ".proberows-backup-"
#define MAGIC "proberows-publish 2"
#define NAME_MAX_LEN 255

typedef struct names {
    char **v;
    size_t n, cap;
} names;

typedef struct journal {
    char stage[NAME_MAX_LEN + 1], backup[NAME_MAX_LEN + 1];
    names add, old; /* new files; old files moved aside */
} journal;

/* ---- the fault hook ------------------------------------------------------------------------ */

static _Atomic int g_fault_step, g_fault_mode, g_steps;

int prw__publish_inject_fault(int step, prw__fault_mode mode) {
    int counted = atomic_exchange(&g_steps, 0);
    atomic_store(&g_fault_step, step);
    atomic_store(&g_fault_mode, (int)mode);
    return counted;
}

/*
 * The same hook from the environment, for the CLI tests of whole builds:
 * PROBEROWS_TEST_PUBLISH_FAULT=K:kill (or K:fail) arms it for the next publish of the process.
 */
static void env_fault(void) {
    static _Atomic int armed;
    const char *v = getenv("PROBEROWS_TEST_PUBLISH_FAULT");
    if (!v || atomic_exchange(&armed, 1))
        return;
    char *end;
    long k = strtol(v, &end, 10);
    if (k > 0 && *end == ':')
        prw__publish_inject_fault((int)k,
                                  strcmp(end + 1, "kill") == 0 ? PRW__FAULT_KILL : PRW__FAULT_FAIL);
}

/* Called after each step that changes the directory. */
static prw_status step_done(prw_error *err) {
    int k = atomic_fetch_add(&g_steps, 1) + 1;
    int mode = atomic_load(&g_fault_mode);
    if (mode == PRW__FAULT_OFF || k != atomic_load(&g_fault_step))
        return PRW_OK;
    if (mode == PRW__FAULT_KILL) {
        kill(getpid(), SIGKILL);
        pause();
    }
    return prw__error_set(err, PRW_E_IO, -1, "injected fault after publish step %d", k);
}

/* ---- small helpers ------------------------------------------------------------------------- */

static void names_free(names *l) {
    for (size_t i = 0; i < l->n; i++)
        prw__free(l->v[i]);
    prw__free(l->v);
    memset(l, 0, sizeof *l);
}

static prw_status names_add(names *l, const char *s, size_t len, prw_error *err) {
    PRW_TRY(prw__grow_array((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v, "a name list", err));
    char *c = prw__malloc(len + 1);
    if (!c)
        return prw__error_nomem(err, "a name", len + 1);
    memcpy(c, s, len);
    c[len] = 0;
    l->v[l->n++] = c;
    return PRW_OK;
}

static bool names_has(const names *l, const char *s) {
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

/* A plain file name: no '/', no newline, not "." or "..", not empty, not too long. */
static bool plain_name(const char *s, size_t len) {
    if (len == 0 || len > NAME_MAX_LEN || (s[0] == '.' && (len == 1 || (len == 2 && s[1] == '.'))))
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '/' || s[i] == '\n' || s[i] == 0)
            return false;
    return true;
}

static void path_of(char *buf, size_t cap, const char *dir, const char *sub, const char *name) {
    if (sub)
        snprintf(buf, cap, "%s/%s/%s", dir, sub, name);
    else
        snprintf(buf, cap, "%s/%s", dir, name);
}

static bool exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

static void sync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static prw_status move(const char *from, const char *to, prw_error *err) {
    if (rename(from, to) != 0)
        return prw__error_sys(err, errno, "cannot move %s to %s", from, to);
    return step_done(err);
}

/* ---- the journal --------------------------------------------------------------------------- */

/* Appends "kw value\n" (value may be NULL). */
static prw_status put_line(prw__buf *b, const char *kw, const char *value, prw_error *err) {
    PRW_TRY(prw__buf_append(b, kw, strlen(kw), err));
    if (value) {
        PRW_TRY(prw__buf_append_u8(b, ' ', err));
        PRW_TRY(prw__buf_append(b, value, strlen(value), err));
    }
    return prw__buf_append_u8(b, '\n', err);
}

static prw_status journal_text(prw__buf *b, const journal *j, prw_error *err) {
    PRW_TRY(put_line(b, MAGIC, NULL, err));
    PRW_TRY(put_line(b, "stage", j->stage, err));
    for (size_t i = 0; i < j->add.n; i++)
        PRW_TRY(put_line(b, "new", j->add.v[i], err));
    for (size_t i = 0; i < j->old.n; i++)
        PRW_TRY(put_line(b, "old", j->old.v[i], err));
    return put_line(b, "end", NULL, err);
}

static prw_status journal_write(const char *dir, const journal *j, prw_error *err) {
    prw__buf b;
    prw__buf_init(&b);
    char path[PATH_MAX];
    path_of(path, sizeof path, dir, j->backup, JOURNAL);
    prw__wfile w = {.fd = -1};
    prw_status st = journal_text(&b, j, err);
    if (st == PRW_OK)
        st = prw__wfile_open(&w, path, err);
    if (st == PRW_OK)
        st = prw__wfile_write(&w, b.data, b.len, err);
    if (st == PRW_OK)
        st = prw__wfile_commit(&w, err);
    prw__wfile_abort(&w);
    prw__buf_cleanup(&b);
    return st == PRW_OK ? step_done(err) : st;
}

static prw_status journal_line(journal *j, const char *line, size_t len, prw_error *err) {
    const char *sp = memchr(line, ' ', len);
    if (!sp || !plain_name(sp + 1, len - (size_t)(sp + 1 - line)))
        return PRW_E_CORRUPT;
    size_t kw = (size_t)(sp - line), vl = len - kw - 1;
    if (kw == 3 && memcmp(line, "new", 3) == 0)
        return names_add(&j->add, sp + 1, vl, err);
    if (kw == 3 && memcmp(line, "old", 3) == 0)
        return names_add(&j->old, sp + 1, vl, err);
    if (kw != 5 || memcmp(line, "stage", 5) != 0 || strncmp(sp + 1, ".proberows-", 11) != 0)
        return PRW_E_CORRUPT;
    memcpy(j->stage, sp + 1, vl);
    j->stage[vl] = 0;
    return PRW_OK;
}

/* Reads the journal at `path` into j, keeping j->backup. */
static prw_status journal_read(const char *path, journal *j, prw_error *err) {
    memset(&j->add, 0, sizeof j->add);
    memset(&j->old, 0, sizeof j->old);
    j->stage[0] = 0;
    uint8_t *data;
    size_t len;
    PRW_TRY(prw__read_file(path, &data, &len, err));
    const char *p = (const char *)data, *end = p + len;
    int lineno = 0;
    bool ended = false;
    prw_status st = PRW_OK;
    while (st == PRW_OK && p < end && !ended) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        if (lineno == 1)
            st = n == strlen(MAGIC) && memcmp(p, MAGIC, n) == 0 ? PRW_OK : PRW_E_CORRUPT;
        else if (n == 3 && memcmp(p, "end", 3) == 0)
            ended = true;
        else
            st = journal_line(j, p, n, err);
        p += n + (nl ? 1 : 0);
    }
    prw__free(data);
    if (st == PRW_OK && (!ended || !j->stage[0]))
        st = PRW_E_CORRUPT;
    if (st == PRW_E_CORRUPT)
        prw__error_set(err, st, -1,
                       "%s: unreadable publish journal (line %d); move it away "
                       "and check the directory by hand",
                       path, lineno);
    return st;
}

static void journal_free(journal *j) {
    names_free(&j->add);
    names_free(&j->old);
}

/* ---- recovery ------------------------------------------------------------------------------ */

/* Removes the staging folder, then the backup folder with the journal in it. */
static prw_status finish(const char *dir, const journal *j, prw_error *err) {
    char path[PATH_MAX];
    path_of(path, sizeof path, dir, NULL, j->stage);
    PRW_TRY(prw__remove_dir(path, err));
    PRW_TRY(step_done(err));
    path_of(path, sizeof path, dir, NULL, j->backup);
    PRW_TRY(prw__remove_dir(path, err));
    sync_dir(dir);
    return step_done(err);
}

/* Undoes an uncommitted publish: new files back into staging, old ones back from backup. */
static prw_status roll_back(const char *dir, const journal *j, const char *jpath, prw_error *err) {
    char from[PATH_MAX], to[PATH_MAX];
    for (size_t i = 0; i < j->add.n; i++) {
        path_of(from, sizeof from, dir, NULL, j->add.v[i]);
        path_of(to, sizeof to, dir, j->stage, j->add.v[i]);
        if (!exists(to) && exists(from))
            PRW_TRY(move(from, to, err));
    }
    for (size_t i = 0; i < j->old.n; i++) {
        path_of(from, sizeof from, dir, j->backup, j->old.v[i]);
        path_of(to, sizeof to, dir, NULL, j->old.v[i]);
        if (exists(from))
            PRW_TRY(move(from, to, err));
    }
    sync_dir(dir);
    /* The journal goes before the folders: once the staging folder is gone, a rerun would
     * take the old files for new ones. */
    if (unlink(jpath) != 0 && errno != ENOENT)
        return prw__error_sys(err, errno, "cannot remove %s", jpath);
    PRW_TRY(step_done(err));
    return finish(dir, j, err);
}

/* Finishes or undoes the publish journalled in backup folder `bname` of `dir`, if any. */
static prw_status recover_one(const char *dir, const char *bname, int *done, prw_error *err) {
    char path[PATH_MAX];
    bool committed = true;
    path_of(path, sizeof path, dir, bname, JOURNAL_DONE);
    if (!exists(path)) {
        committed = false;
        path_of(path, sizeof path, dir, bname, JOURNAL);
        if (!exists(path))
            return PRW_OK; /* no journal: a leftover for the sweeper */
    }
    journal j;
    memset(&j, 0, sizeof j);
    snprintf(j.backup, sizeof j.backup, "%s", bname);
    prw_status st = journal_read(path, &j, err);
    if (st == PRW_OK)
        st = committed ? finish(dir, &j, err) : roll_back(dir, &j, path, err);
    journal_free(&j);
    if (st == PRW_OK)
        *done |= committed ? PRW__RECOVERY_FORWARD : PRW__RECOVERY_BACK;
    return st;
}

bool prw__publish_journal_in(const char *backup) {
    char path[PATH_MAX];
    path_of(path, sizeof path, backup, NULL, JOURNAL_DONE);
    if (exists(path))
        return true;
    path_of(path, sizeof path, backup, NULL, JOURNAL);
    return exists(path);
}

/* Calls fn for every backup folder in `dir` whose owner is gone and that holds a journal. */
static prw_status each_orphan(const char *dir,
                              prw_status (*fn)(const char *, const char *, void *, prw_error *),
                              void *ctx, prw_error *err) {
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? PRW_OK : prw__error_sys(err, errno, "cannot list %s", dir);
    names found = {0};
    prw_status st = PRW_OK;
    struct dirent *e;
    while (st == PRW_OK && (e = readdir(d)))
        if (strncmp(e->d_name, BACKUP_PREFIX, strlen(BACKUP_PREFIX)) == 0)
            st = names_add(&found, e->d_name, strlen(e->d_name), err);
    closedir(d);
    for (size_t i = 0; st == PRW_OK && i < found.n; i++) {
        char path[PATH_MAX];
        path_of(path, sizeof path, dir, NULL, found.v[i]);
        struct stat sb;
        if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && prw__publish_journal_in(path) &&
            !prw__owned_dir_alive(path))
            st = fn(dir, found.v[i], ctx, err);
    }
    names_free(&found);
    return st;
}

static prw_status count_one(const char *dir, const char *bname, void *ctx, prw_error *err) {
    (void)dir;
    (void)bname;
    (void)err;
    ++*(int *)ctx;
    return PRW_OK;
}

static prw_status recover_cb(const char *dir, const char *bname, void *ctx, prw_error *err) {
    return recover_one(dir, bname, ctx, err);
}

bool prw__publish_pending(const char *dir) {
    int n = 0;
    return each_orphan(dir, count_one, &n, NULL) == PRW_OK && n > 0;
}

prw_status prw__publish_recover(const char *dir, int *done, prw_error *err) {
    *done = PRW__RECOVERY_NONE;
    return each_orphan(dir, recover_cb, done, err);
}

/* ---- publish ------------------------------------------------------------------------------- */

/* Digits at *s (advancing it); false if none. */
static bool digits(const char **s) {
    const char *p = *s;
    while (*p >= '0' && *p <= '9')
        p++;
    bool any = p != *s;
    *s = p;
    return any;
}

static bool listed(const char *const *list, const char *name) {
    for (; list && *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

/* `name` is one of spec->owned, or one of them followed by -K-of-N. */
static bool owned_name(const prw__publish_spec *spec, const char *name) {
    for (const char *const *p = spec->owned; p && *p; p++) {
        size_t n = strlen(*p);
        if (strncmp(name, *p, n) != 0)
            continue;
        const char *s = name + n;
        if (*s == 0)
            return true;
        if (*s++ == '-' && digits(&s) && strncmp(s, "-of-", 4) == 0 && (s += 4, digits(&s)) &&
            *s == 0)
            return true;
    }
    return false;
}

/* Lists the names in `dir` that do not start with '.'. */
static prw_status list_dir(const char *dir, names *out, prw_error *err) {
    DIR *d = opendir(dir);
    if (!d)
        return prw__error_sys(err, errno, "cannot list %s", dir);
    prw_status st = PRW_OK;
    struct dirent *e;
    while (st == PRW_OK && (e = readdir(d)))
        if (e->d_name[0] != '.')
            st = names_add(out, e->d_name, strlen(e->d_name), err);
    closedir(d);
    return st;
}

static prw_status check_file(const char *dir, const char *sub, const char *name, bool must,
                             prw_error *err) {
    char path[PATH_MAX];
    path_of(path, sizeof path, dir, sub, name);
    struct stat st;
    if (lstat(path, &st) != 0)
        return must || errno != ENOENT ? prw__error_sys(err, errno, "cannot stat %s", path) : 1;
    if (!plain_name(name, strlen(name)))
        return prw__error_set(err, PRW_E_INVALID, -1, "%s: a file name proberows cannot journal",
                              path);
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
        return prw__error_set(err, PRW_E_IO, -1, "%s is %s, not a file: not replacing it", path,
                              S_ISDIR(st.st_mode) ? "a directory" : "something else");
    return PRW_OK;
}

/* Fills the journal's lists: the staged files, and the old files to move aside. */
static prw_status plan(const char *dir, const char *stage, const prw__publish_spec *spec,
                       journal *j, prw_error *err) {
    names here = {0};
    prw_status st = list_dir(stage, &j->add, err);
    if (st == PRW_OK)
        st = list_dir(dir, &here, err);
    for (size_t i = 0; st == PRW_OK && i < j->add.n; i++)
        st = check_file(stage, NULL, j->add.v[i], true, err);
    for (size_t i = 0; st == PRW_OK && i < here.n; i++) {
        const char *n = here.v[i];
        bool replaced = names_has(&j->add, n);
        if (!replaced && !(spec->replace_all && owned_name(spec, n) && !listed(spec->keep, n)))
            continue;
        st = check_file(dir, NULL, n, false, err);
        if (st == PRW_OK)
            st = names_add(&j->old, n, strlen(n), err);
        else if (st == 1)
            st = PRW_OK; /* gone meanwhile */
    }
    names_free(&here);
    return st;
}

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Steps 2-5 of the header comment; *committed once step 4 is done. */
static prw_status run(const char *dir, const char *stage, journal *j, bool *committed,
                      prw_error *err) {
    char from[PATH_MAX], to[PATH_MAX];
    PRW_TRY(journal_write(dir, j, err));
    for (size_t i = 0; i < j->old.n; i++) {
        path_of(from, sizeof from, dir, NULL, j->old.v[i]);
        path_of(to, sizeof to, dir, j->backup, j->old.v[i]);
        PRW_TRY(move(from, to, err));
    }
    for (size_t i = 0; i < j->add.n; i++) {
        path_of(from, sizeof from, stage, NULL, j->add.v[i]);
        path_of(to, sizeof to, dir, NULL, j->add.v[i]);
        PRW_TRY(move(from, to, err));
    }
    sync_dir(dir);
    path_of(from, sizeof from, dir, j->backup, JOURNAL);
    path_of(to, sizeof to, dir, j->backup, JOURNAL_DONE);
    if (rename(from, to) != 0)
        return prw__error_sys(err, errno, "cannot commit %s", from);
    *committed = true;
    path_of(from, sizeof from, dir, NULL, j->backup);
    sync_dir(from);
    PRW_TRY(step_done(err));
    return finish(dir, j, err);
}

prw_status prw__publish(const char *dir, const char *stage, const prw__publish_spec *spec,
                        prw_error *err) {
    env_fault();
    const char *sname = base_name(stage);
    PRW_CHECK(strlen(sname) <= NAME_MAX_LEN && strncmp(sname, ".proberows-", 11) == 0, err,
              PRW_E_INVALID, -1, "%s: not a proberows staging folder", stage);
    PRW_CHECK(!prw__publish_pending(dir), err, PRW_E_INVALID, -1,
              "%s: an interrupted publish awaits recovery", dir);
    journal j;
    memset(&j, 0, sizeof j);
    snprintf(j.stage, sizeof j.stage, "%s", sname);
    prw__owned_dir backup = {0};
    bool committed = false;
    prw_status st = plan(dir, stage, spec, &j, err);
    if (st == PRW_OK)
        st = prw__owned_dir_create(&backup, dir, "backup", err);
    if (st == PRW_OK) {
        snprintf(j.backup, sizeof j.backup, "%s", base_name(backup.path));
        st = run(dir, stage, &j, &committed, err);
    }
    if (st < 0 && backup.path) {
        /* The journal on disk says which way to go: forward once committed, else back. */
        prw_error e2;
        int r = PRW__RECOVERY_NONE;
        prw_status st2 = recover_one(dir, j.backup, &r, &e2);
        if (committed)
            st = PRW_OK; /* the new set is in place; what is left, the next command removes */
        else if (st2 < 0)
            prw__error_prefix(err,
                              "publish failed and cannot be undone now (%s); the next "
                              "proberows command on %s completes it: ",
                              e2.msg, dir);
    }
    if (backup.path && prw__publish_journal_in(backup.path)) { /* old files for recovery */
        prw__free(backup.path);
        backup.path = NULL;
    }
    (void)prw__owned_dir_remove(&backup, NULL);
    journal_free(&j);
    return st;
}
