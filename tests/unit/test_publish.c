/*
 * Unit tests of src/common/publish.c and dirlock.c: the atomic publish with a fault (fail or
 * SIGKILL) injected after every step k, in publish and in the recovery after it; the
 * one-writer lock across two processes; the leftover sweeper.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/io.h"
#include "common/publish.h"
#include "harness.h"
#include "proberows/outdir.h"

static const char *const k_owned[] = {"train.arrayrecord", "test.arrayrecord", "manifest.json",
                                      NULL};
/* The old output: 4 shards; the new one: 1 shard, so 5 old files go and 3 are replaced. */
static const char *const k_old[] = {"train.arrayrecord-00000-of-00004",
                                    "train.arrayrecord-00001-of-00004",
                                    "train.arrayrecord-00002-of-00004",
                                    "train.arrayrecord-00003-of-00004",
                                    "test.arrayrecord-00000-of-00004",
                                    "manifest.json",
                                    NULL};
static const char *const k_new[] = {"train.arrayrecord", "test.arrayrecord", "manifest.json", NULL};
#define OTHER "train.arrayrecord.bak" /* a user's file that only looks like an output */

static bool put(const char *dir, const char *name, const char *tag) {
    char *body = th_fmt("%s:%s\n", tag, name);
    return th_write(th_fmt("%s/%s", dir, name), body, strlen(body));
}

static bool put_set(const char *dir, const char *const *set, const char *tag) {
    for (; *set; set++)
        if (!put(dir, *set, tag))
            return false;
    return true;
}

static size_t count(const char *const *set) {
    size_t n = 0;
    while (set[n])
        n++;
    return n;
}

/* True if `dir` holds exactly `set` (each with `tag` content) plus OTHER, and nothing hidden
 * but the lock file. */
static bool holds(const char *dir, const char *const *set, const char *tag) {
    DIR *d = opendir(dir);
    if (!d)
        return false;
    size_t seen = 0;
    bool ok = true;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || strcmp(n, PRW__LOCK_NAME) == 0)
            continue;
        if (strcmp(n, OTHER) == 0)
            continue;
        bool listed = false;
        for (const char *const *s = set; *s; s++)
            listed |= strcmp(*s, n) == 0;
        size_t len = 0;
        uint8_t *body = listed ? th_read(th_fmt("%s/%s", dir, n), &len) : NULL;
        char *want = th_fmt("%s:%s\n", tag, n);
        if (!body || len != strlen(want) || memcmp(body, want, len) != 0) {
            if (getenv("PRW_TEST_DEBUG"))
                th_note("%s: unexpected %s", dir, n);
            ok = false;
        }
        seen++;
    }
    closedir(d);
    return ok && seen == count(set) && access(th_fmt("%s/%s", dir, OTHER), F_OK) == 0;
}

/* A fresh output directory with the old set and a staging folder with the new one. */
static bool setup(const char *dir, prw__owned_dir *stage) {
    prw_error err;
    memset(stage, 0, sizeof *stage);
    return prw__mkdir_p(dir, &err) == PRW_OK && put_set(dir, k_old, "old") &&
           put(dir, OTHER, "user") && prw__owned_dir_create(stage, dir, "staging", &err) == 0 &&
           put_set(stage->path, k_new, "new");
}

static const prw__publish_spec k_spec = {k_owned, true, NULL};

TEST(publish_replaces_the_whole_set) {
    const char *dir = th_fmt("%s/out", th_tmpdir());
    prw__owned_dir stage;
    ASSERT_TRUE(setup(dir, &stage));
    prw_error err;
    ASSERT_OK(prw__publish(dir, stage.path, &k_spec, &err), &err);
    ASSERT_OK(prw__owned_dir_remove(&stage, &err), &err);
    ASSERT_TRUE(holds(dir, k_new, "new")); /* the 4-shard files are gone, OTHER stays */
    int r;
    ASSERT_OK(prw__publish_recover(dir, &r, &err), &err);
    ASSERT_EQ_I64(r, PRW__RECOVERY_NONE);
}

TEST(publish_same_names_only_keeps_other_shards) {
    const char *dir = th_fmt("%s/out", th_tmpdir());
    prw__owned_dir stage;
    ASSERT_TRUE(setup(dir, &stage));
    prw__publish_spec spec = {k_owned, false, NULL};
    prw_error err;
    ASSERT_OK(prw__publish(dir, stage.path, &spec, &err), &err);
    prw__owned_dir_remove(&stage, NULL);
    static const char *const both[] = {
        "train.arrayrecord-00000-of-00004", "train.arrayrecord-00001-of-00004",
        "train.arrayrecord-00002-of-00004", "train.arrayrecord-00003-of-00004",
        "test.arrayrecord-00000-of-00004",  NULL};
    ASSERT_TRUE(access(th_fmt("%s/%s", dir, both[0]), F_OK) == 0);
    ASSERT_TRUE(access(th_fmt("%s/%s", dir, both[4]), F_OK) == 0);
    size_t len;
    uint8_t *m = th_read(th_fmt("%s/manifest.json", dir), &len);
    ASSERT_TRUE(m && len > 4 && memcmp(m, "new:", 4) == 0);
}

TEST(publish_refuses_a_directory_in_the_way) {
    const char *dir = th_fmt("%s/out", th_tmpdir());
    prw__owned_dir stage;
    ASSERT_TRUE(setup(dir, &stage));
    /* The case: DIR/test.arrayrecord is a non-empty directory. */
    ASSERT_TRUE(mkdir(th_fmt("%s/test.arrayrecord", dir), 0755) == 0);
    ASSERT_TRUE(put(th_fmt("%s/test.arrayrecord", dir), "x", "user"));
    prw_error err;
    ASSERT_ERR(prw__publish(dir, stage.path, &k_spec, &err), PRW_E_IO);
    ASSERT_TRUE(strstr(err.msg, "test.arrayrecord is a directory") != NULL);
    ASSERT_TRUE(access(th_fmt("%s/train.arrayrecord", dir), F_OK) != 0); /* nothing moved */
    ASSERT_TRUE(access(th_fmt("%s/%s", dir, k_old[0]), F_OK) == 0);
    ASSERT_TRUE(!prw__publish_pending(dir));
    prw__owned_dir_remove(&stage, NULL);
}

/* Publishes with a failure injected after step k; true once k is past the last step. */
static bool fail_at(const char *dir, int k, int *outcome) {
    prw__owned_dir stage;
    if (!setup(dir, &stage))
        return false;
    prw__publish_inject_fault(k, PRW__FAULT_FAIL);
    prw_error err;
    prw_status st = prw__publish(dir, stage.path, &k_spec, &err);
    int steps = prw__publish_inject_fault(0, PRW__FAULT_OFF);
    prw__owned_dir_remove(&stage, NULL);
    *outcome = st == PRW_OK ? 1 : 0;
    return steps < k;
}

TEST(publish_fault_fail_after_every_step) {
    int seen[2] = {0, 0}, k;
    for (k = 1; k < 100; k++) {
        const char *dir = th_fmt("%s/out%d", th_tmpdir(), k);
        int outcome = -1;
        bool past = fail_at(dir, k, &outcome);
        ASSERT_TRUE(outcome >= 0);
        /* No recovery needed: a failure is undone (or the commit finished) before returning. */
        ASSERT_TRUE(!prw__publish_pending(dir));
        if (outcome)
            ASSERT_TRUE(holds(dir, k_new, "new"));
        else
            ASSERT_TRUE(holds(dir, k_old, "old"));
        seen[outcome]++;
        if (past)
            break;
    }
    ASSERT_TRUE(k < 100);
    ASSERT_TRUE(seen[0] >= 8 && seen[1] >= 2); /* both sides of the commit were hit */
    th_note("%d steps", k - 1);
}

/* In a child: publish, SIGKILLed after step k; then, with j > 0, in another child recovery
 * SIGKILLed after its step j (*rec = that child's wait status, else -1). Returns the first
 * child's wait status. */
static int killed_child(const char *dir, int k, int j, int *rec) {
    *rec = -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        prw__owned_dir stage;
        if (!setup(dir, &stage))
            _exit(3);
        prw__publish_inject_fault(k, PRW__FAULT_KILL);
        prw_error err;
        prw_status st = prw__publish(dir, stage.path, &k_spec, &err);
        _exit(st == PRW_OK ? 0 : 4);
    }
    int ws = 0;
    waitpid(pid, &ws, 0);
    if (j <= 0 || !WIFSIGNALED(ws))
        return ws;
    pid = fork();
    if (pid == 0) {
        prw__publish_inject_fault(j, PRW__FAULT_KILL);
        int r;
        prw_error err;
        _exit(prw__publish_recover(dir, &r, &err) == PRW_OK ? 0 : 4);
    }
    waitpid(pid, rec, 0);
    return ws;
}

/* After a kill: recovery, then exactly the old or the new set, and no leftovers. */
static bool recovered(const char *dir, bool *is_new) {
    int r;
    prw_error err;
    if (prw__publish_recover(dir, &r, &err) != PRW_OK) {
        th_note("recover: %s", err.msg);
        return false;
    }
    prw__sweep_stats sw;
    if (prw__sweep_leftovers(dir, false, &sw, &err) != PRW_OK || sw.in_use != 0)
        return false;
    *is_new = holds(dir, k_new, "new");
    return *is_new || holds(dir, k_old, "old");
}

TEST(publish_fault_kill_after_every_step) {
    int seen[2] = {0, 0}, k, runs = 0, steps = 0;
    bool finished = false;
    for (k = 1; k < 100 && !finished; k++) {
        /* j = 0: recovery runs unharmed; j > 0: recovery is killed after its step j too, and
         * the next recovery must still end in the old or the new set. */
        for (int j = 0; j < 100; j++) {
            const char *dir = th_fmt("%s/k%d-j%d", th_tmpdir(), k, j);
            int rec, ws = killed_child(dir, k, j, &rec);
            runs++;
            if (WIFEXITED(ws)) { /* k is past the last step: the publish finished */
                ASSERT_EQ_I64(WEXITSTATUS(ws), 0);
                ASSERT_TRUE(holds(dir, k_new, "new"));
                finished = true;
                steps = k - 1;
                break;
            }
            ASSERT_EQ_I64(WTERMSIG(ws), SIGKILL);
            bool is_new = false;
            ASSERT_TRUE(recovered(dir, &is_new));
            seen[is_new]++;
            if (j > 0 && WIFEXITED(rec)) { /* j is past recovery's last step */
                ASSERT_EQ_I64(WEXITSTATUS(rec), 0);
                break;
            }
        }
    }
    ASSERT_TRUE(finished);
    ASSERT_TRUE(seen[0] > 0 && seen[1] > 0);
    th_note("%d publish steps, %d runs", steps, runs);
}

TEST(publish_recover_rejects_a_damaged_journal) {
    const char *dir = th_fmt("%s/out", th_tmpdir());
    prw_error err;
    ASSERT_OK(prw__mkdir_p(dir, &err), &err);
    /* A backup folder of a pid that cannot exist, with a journal naming a path outside. */
    const char *b = th_fmt("%s/.proberows-backup-2147483600-abcdef", dir);
    ASSERT_TRUE(mkdir(b, 0755) == 0);
    const char *j = "proberows-publish 2\nstage ../etc\nend\n";
    ASSERT_TRUE(th_write(th_fmt("%s/.journal", b), j, strlen(j)));
    int r;
    ASSERT_ERR(prw__publish_recover(dir, &r, &err), PRW_E_CORRUPT);
    ASSERT_TRUE(strstr(err.msg, "unreadable publish journal (line 2)") != NULL);
}

/* ---- the lock ------------------------------------------------------------------------------- */

/* What a child process sets up and then holds until it is SIGKILLed. */
enum { HOLD_LOCK, HOLD_STAGING };

/* Forks a child that takes the lock of `dir` (or creates a staging folder with 1000 bytes in
 * it) and waits to be killed; returns its pid once that is done, or -1. */
static pid_t spawn_holder(const char *dir, int what) {
    int go[2];
    if (pipe(go) != 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        prw__dirlock l;
        prw__owned_dir d;
        prw_error err;
        bool ok = what == HOLD_LOCK
                      ? prw__dirlock_acquire(&l, dir, false, &err) == PRW_OK
                      : prw__owned_dir_create(&d, dir, "staging", &err) == PRW_OK &&
                            th_write(th_fmt("%s/data", d.path), th_fmt("%1000s", ""), 1000);
        char c = ok ? 'y' : 'n';
        if (write(go[1], &c, 1) != 1)
            _exit(2);
        for (;;)
            pause();
    }
    char c = 0;
    bool ok = pid > 0 && read(go[0], &c, 1) == 1 && c == 'y';
    close(go[0]);
    close(go[1]);
    if (!ok && pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    return ok ? pid : -1;
}

static void reap(pid_t pid) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

TEST(dirlock_second_writer_fails_naming_the_pid) {
    const char *dir = th_tmpdir();
    prw__dirlock a, b;
    prw_error err;
    ASSERT_EQ_I64(prw__dirlock_holder(dir), 0);
    ASSERT_OK(prw__dirlock_acquire(&a, dir, false, &err), &err);
    ASSERT_EQ_I64(prw__dirlock_holder(dir), getpid());
    ASSERT_ERR(prw__dirlock_acquire(&b, dir, false, &err), PRW_E_IO);
    ASSERT_EQ_I64(err.sys_errno, EAGAIN);
    ASSERT_TRUE(strstr(err.msg, th_fmt("pid %ld", (long)getpid())) != NULL);
    ASSERT_ERR(prw__dirlock_acquire(&b, dir, true, &err), PRW_E_IO); /* nor a shared one */
    prw__dirlock_release(&a);
    prw__dirlock_release(&a);
    ASSERT_EQ_I64(prw__dirlock_holder(dir), 0);
    ASSERT_OK(prw__dirlock_acquire(&b, dir, false, &err), &err);
    prw__dirlock_release(&b);
    /* Scale-out tasks share it, and keep an exclusive writer out. */
    prw__dirlock s1, s2;
    ASSERT_OK(prw__dirlock_acquire(&s1, dir, true, &err), &err);
    ASSERT_OK(prw__dirlock_acquire(&s2, dir, true, &err), &err);
    ASSERT_EQ_I64(prw__dirlock_holder(dir), getpid());
    ASSERT_ERR(prw__dirlock_acquire(&a, dir, false, &err), PRW_E_IO);
    prw__dirlock_release(&s1);
    prw__dirlock_release(&s2);
    ASSERT_OK(prw__dirlock_acquire(&a, dir, false, &err), &err);
    prw__dirlock_release(&a);
}

TEST(dirlock_two_processes_and_a_dead_holder) {
    const char *dir = th_tmpdir();
    pid_t pid = spawn_holder(dir, HOLD_LOCK);
    ASSERT_TRUE(pid > 0);
    prw__dirlock l;
    prw_error err;
    ASSERT_ERR(prw__dirlock_acquire(&l, dir, false, &err), PRW_E_IO);
    ASSERT_TRUE(strstr(err.msg, th_fmt("(pid %ld,", (long)pid)) != NULL);
    ASSERT_EQ_I64(prw__dirlock_holder(dir), pid);
    reap(pid);
    ASSERT_EQ_I64(prw__dirlock_holder(dir), 0); /* the stale pid in the file means nothing */
    ASSERT_OK(prw__dirlock_acquire(&l, dir, false, &err), &err);
    prw__dirlock_release(&l);
}

/* ---- the sweeper ---------------------------------------------------------------------------- */

static bool fill(const char *dir, size_t n) {
    char *buf = th_fmt("%*s", (int)n, "");
    return th_write(th_fmt("%s/data", dir), buf, n);
}

TEST(sweep_removes_folders_of_dead_owners_only) {
    const char *dir = th_tmpdir();
    prw_error err;
    /* A staging folder whose owner is SIGKILLed. */
    pid_t pid = spawn_holder(dir, HOLD_STAGING);
    ASSERT_TRUE(pid > 0);
    prw__sweep_stats sw;
    ASSERT_OK(prw__sweep_leftovers(dir, false, &sw, &err), &err);
    ASSERT_EQ_I64(sw.removed, 0); /* its owner lives */
    ASSERT_EQ_I64(sw.in_use, 1);
    reap(pid);
    /* Ours (alive), one named for a pid that cannot exist and one of the old naming. */
    prw__owned_dir mine;
    ASSERT_OK(prw__owned_dir_create(&mine, dir, "spill", &err), &err);
    ASSERT_TRUE(fill(mine.path, 300));
    const char *ghost = th_fmt("%s/.proberows-spill-2147483600-abcdef", dir);
    const char *legacy = th_fmt("%s/.proberows-staging-Q1w2E3", dir);
    ASSERT_TRUE(mkdir(ghost, 0755) == 0 && fill(ghost, 20));
    ASSERT_TRUE(mkdir(legacy, 0755) == 0 && fill(legacy, 7));
    ASSERT_OK(prw__sweep_leftovers(dir, false, &sw, &err), &err);
    ASSERT_EQ_I64(sw.removed, 2);
    /* The dead owner's data and its .owner file (its pid and a newline), and the ghost's. */
    ASSERT_EQ_I64(sw.bytes, 1000 + (int64_t)strlen(th_fmt("%ld\n", (long)pid)) + 20);
    ASSERT_EQ_I64(sw.in_use, 2);
    ASSERT_TRUE(access(ghost, F_OK) != 0 && access(legacy, F_OK) == 0);
    ASSERT_OK(prw__sweep_leftovers(dir, true, &sw, &err), &err);
    ASSERT_EQ_I64(sw.removed, 1);
    ASSERT_EQ_I64(sw.bytes, 7);
    ASSERT_TRUE(access(mine.path, F_OK) == 0);
    ASSERT_OK(prw__owned_dir_remove(&mine, &err), &err);
}

TEST(sweep_waits_for_a_pending_journal) {
    const char *dir = th_tmpdir();
    const char *ghost = th_fmt("%s/.proberows-backup-2147483600-abcdef", dir);
    ASSERT_TRUE(mkdir(ghost, 0755) == 0);
    ASSERT_TRUE(th_write(th_fmt("%s/.journal", ghost), "x", 1));
    prw__sweep_stats sw;
    prw_error err;
    ASSERT_OK(prw__sweep_leftovers(dir, true, &sw, &err), &err);
    ASSERT_EQ_I64(sw.removed, 0);
    ASSERT_TRUE(access(ghost, F_OK) == 0);
}

TEST(io_remove_dir_and_bytes) {
    const char *dir = th_fmt("%s/tree", th_tmpdir());
    prw_error err;
    ASSERT_OK(prw__mkdir_p(th_fmt("%s/a/b", dir), &err), &err);
    ASSERT_TRUE(fill(dir, 10) && fill(th_fmt("%s/a/b", dir), 5));
    ASSERT_TRUE(symlink("/etc", th_fmt("%s/a/link", dir)) == 0);
    ASSERT_EQ_I64(prw__dir_bytes(dir), 15); /* the link is not followed */
    ASSERT_OK(prw__remove_dir(dir, &err), &err);
    ASSERT_TRUE(access(dir, F_OK) != 0);
    ASSERT_TRUE(access("/etc/passwd", F_OK) == 0);
    ASSERT_OK(prw__remove_dir(dir, &err), &err); /* missing: fine */
    /* More entries than one getdents64 buffer lists: unlinking while listing skips some. */
    ASSERT_OK(prw__mkdir_p(th_fmt("%s/many", dir), &err), &err);
    for (int i = 0; i < 1500; i++)
        ASSERT_TRUE(th_write(th_fmt("%s/many/file-with-a-longish-name-%04d", dir, i), "x", 1));
    ASSERT_EQ_I64(prw__dir_bytes(dir), 1500);
    ASSERT_OK(prw__remove_dir(dir, NULL), NULL);
    ASSERT_TRUE(access(dir, F_OK) != 0);
}

/* Two processes publish their own shards into one directory at once (scale-out reduce tasks
 * under the shared lock), 20 times each: each publish has its own backup folder and journal. */
TEST(publish_side_by_side_shards) {
    const char *dir = th_fmt("%s/out", th_tmpdir());
    prw_error err;
    ASSERT_OK(prw__mkdir_p(dir, &err), &err);
    ASSERT_TRUE(put(dir, OTHER, "user"));
    pid_t kids[2];
    fflush(stdout);
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            const char *own[] = {th_fmt("train.arrayrecord-%05d-of-00002", k),
                                 th_fmt("test.arrayrecord-%05d-of-00002", k), NULL};
            prw__publish_spec spec = {k_owned, false, NULL};
            prw__dirlock l;
            if (prw__dirlock_acquire(&l, dir, true, &err) != PRW_OK)
                _exit(2);
            for (int round = 0; round < 20; round++) {
                prw__owned_dir stage;
                if (prw__owned_dir_create(&stage, dir, "staging", &err) != PRW_OK ||
                    !put_set(stage.path, own, "new") ||
                    prw__publish(dir, stage.path, &spec, &err) != PRW_OK)
                    _exit(3);
                prw__owned_dir_remove(&stage, NULL);
            }
            _exit(0);
        }
    }
    for (int k = 0; k < 2; k++) {
        int ws;
        waitpid(kids[k], &ws, 0);
        ASSERT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    }
    static const char *const all[] = {
        "train.arrayrecord-00000-of-00002", "test.arrayrecord-00000-of-00002",
        "train.arrayrecord-00001-of-00002", "test.arrayrecord-00001-of-00002", NULL};
    ASSERT_TRUE(holds(dir, all, "new"));
}

/* Readers first: a publish killed before its commit is undone, one killed after it finished;
 * while a writer holds the lock, nothing is touched and its pid is reported. */
TEST(outdir_prepare_read_recovers_or_reports_the_writer) {
    int rec;
    const char *before = th_fmt("%s/before", th_tmpdir()), *after = th_fmt("%s/after", th_tmpdir());
    ASSERT_TRUE(WIFSIGNALED(killed_child(before, 3, 0, &rec))); /* two old files moved aside */
    ASSERT_TRUE(WIFSIGNALED(killed_child(after, 11, 0, &rec))); /* committed */
    ASSERT_TRUE(prw__publish_pending(before) && prw__publish_pending(after));
    prw_outdir_state st;
    prw_error err;
    ASSERT_OK(prw_outdir_prepare_read(before, &st, &err), &err);
    ASSERT_TRUE(st.undone && !st.finished && st.writer_pid == 0);
    ASSERT_TRUE(holds(before, k_old, "old"));
    ASSERT_OK(prw_outdir_prepare_read(after, &st, &err), &err);
    ASSERT_TRUE(st.finished && !st.undone);
    ASSERT_TRUE(holds(after, k_new, "new"));
    /* A live writer: reported, its directory left alone. */
    const char *busy = th_fmt("%s/busy", th_tmpdir());
    ASSERT_TRUE(WIFSIGNALED(killed_child(busy, 3, 0, &rec)));
    pid_t pid = spawn_holder(busy, HOLD_LOCK);
    ASSERT_TRUE(pid > 0);
    ASSERT_OK(prw_outdir_prepare_read(busy, &st, &err), &err);
    reap(pid);
    ASSERT_EQ_I64(st.writer_pid, pid);
    ASSERT_TRUE(!st.undone && !st.finished && prw__publish_pending(busy));
    ASSERT_OK(prw_outdir_prepare_read(busy, &st, &err), &err); /* the writer is gone now */
    ASSERT_TRUE(st.undone && holds(busy, k_old, "old"));
}

/* finalize's case: the shards are in place, the manifest arrives, other shard counts go. */
TEST(publish_keeps_listed_files) {
    const char *dir = th_fmt("%s/out", th_tmpdir());
    prw_error err;
    ASSERT_OK(prw__mkdir_p(dir, &err), &err);
    static const char *const shards[] = {"train.arrayrecord-00000-of-00001",
                                         "test.arrayrecord-00000-of-00001", NULL};
    ASSERT_TRUE(put_set(dir, shards, "new") && put_set(dir, k_old, "old") && put(dir, OTHER, "u"));
    prw__owned_dir stage;
    ASSERT_OK(prw__owned_dir_create(&stage, dir, "staging", &err), &err);
    ASSERT_TRUE(put(stage.path, "manifest.json", "new"));
    prw__publish_spec spec = {k_owned, true, shards};
    ASSERT_OK(prw__publish(dir, stage.path, &spec, &err), &err);
    prw__owned_dir_remove(&stage, NULL);
    static const char *const want[] = {"train.arrayrecord-00000-of-00001",
                                       "test.arrayrecord-00000-of-00001", "manifest.json", NULL};
    ASSERT_TRUE(holds(dir, want, "new"));
}
