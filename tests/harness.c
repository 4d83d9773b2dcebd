/*
 * Test runner: unit tests (tests/unit, listed by the generated test_list.h), CLI cases
 * (tests/cli/NAME.cmd with optional NAME.stdout and NAME.exit) and fuzz-corpus replays
 * (fuzz/corpus/TARGET/, through the targets in the generated fuzz_list.h). Usage:
 *   prw_tests [--list] [--fork] [-v] [FILTER...]
 * A FILTER is a substring of a test name; CLI cases are named cli/NAME, replays fuzz/TARGET.
 * Exit 1 if anything failed. The last line is `tests: N passed, M failed, K skipped`.
 */

#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PRW_CLI_PATH
#define PRW_CLI_PATH "build/release/proberows"
#endif

#define X(name) void test_##name(void);
#include "test_list.h"
#undef X
#define X(name) int prw_fuzz_##name(const uint8_t *data, size_t size);
#include "fuzz_list.h"
#undef X

typedef struct {
    const char *name;
    void (*fn)(void);
} unit_test;

static const unit_test g_tests[] = {
#define X(name) {#name, test_##name},
#include "test_list.h"
#undef X
    {NULL, NULL}};

typedef struct {
    const char *name;
    int (*fn)(const uint8_t *, size_t);
} fuzz_target;

static const fuzz_target g_fuzz[] = {
#define X(name) {#name, prw_fuzz_##name},
#include "fuzz_list.h"
#undef X
    {NULL, NULL}};

static int g_failed_now, g_skipped_now, g_verbose;
static const char *g_current = "";
static char g_run_tmp[2048];
static char g_test_tmp[4096];
static int g_test_seq;
static void **g_owned;
static size_t g_nowned, g_capowned;

static void own(void *p) {
    if (g_nowned == g_capowned) {
        g_capowned = g_capowned ? 2 * g_capowned : 16;
        g_owned = realloc(g_owned, g_capowned * sizeof *g_owned);
        if (!g_owned)
            abort();
    }
    g_owned[g_nowned++] = p;
}

static void free_owned(void) {
    for (size_t i = 0; i < g_nowned; i++)
        free(g_owned[i]);
    g_nowned = 0;
}

void th_fail(const char *file, int line, const char *fmt, ...) {
    g_failed_now = 1;
    fprintf(stdout, "FAIL %s: %s:%d: ", g_current, file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

void th_fail_status(const char *file, int line, const char *expr, prw_status st,
                    const prw_error *err) {
    th_fail(file, line, "%s failed: %s: %s (offset %lld)", expr, prw_strerror(st),
            err ? err->msg : "", err ? (long long)err->offset : -1LL);
}

void th_skip(const char *fmt, ...) {
    g_skipped_now = 1;
    fprintf(stdout, "SKIP %s: ", g_current);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

void th_note(const char *fmt, ...) {
    if (!g_verbose)
        return;
    fprintf(stdout, "  note %s: ", g_current);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

const char *th_shared_dir(void) {
    static char path[4096];
    const char *env = getenv("PRW_SHARED");
    snprintf(path, sizeof path, "%s", env && *env ? env : "../shared");
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return path;
}

const char *th_tmpdir(void) {
    if (!g_test_tmp[0]) {
        snprintf(g_test_tmp, sizeof g_test_tmp, "%s/t%d", g_run_tmp, ++g_test_seq);
        if (mkdir(g_test_tmp, 0755) != 0) {
            fprintf(stderr, "cannot create %s: %s\n", g_test_tmp, strerror(errno));
            abort();
        }
    }
    return g_test_tmp;
}

char *th_fmt(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    own(s);
    return s;
}

uint8_t *th_read(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            cap *= 2;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[n] = 0; /* n < cap: text files read as C strings end here */
    own(buf);
    *len = n;
    return buf;
}

bool th_write(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

int th_sh(const char *cmd) {
    fflush(stdout);
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

const char *th_cli(void) {
    return PRW_CLI_PATH;
}

size_t th_mismatch(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return i;
    return (size_t)-1;
}

uint64_t th_rand(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static bool matches(const char *name, int nfilters, char **filters) {
    if (nfilters == 0)
        return true;
    for (int i = 0; i < nfilters; i++)
        if (strstr(name, filters[i]))
            return true;
    return false;
}

typedef struct {
    int passed, failed, skipped;
    bool fork_each;
} tally;

static void finish_test(tally *t) {
    if (g_failed_now)
        t->failed++;
    else if (g_skipped_now)
        t->skipped++;
    else {
        t->passed++;
        if (g_verbose)
            printf("ok %s\n", g_current);
    }
    if (g_test_tmp[0]) {
        nftw(g_test_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        g_test_tmp[0] = '\0';
    }
    free_owned();
    fflush(stdout);
}

static void run_unit(const unit_test *u, tally *t) {
    g_current = u->name;
    g_failed_now = g_skipped_now = 0;
    prw_alloc_fail_after(0);
    if (t->fork_each) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            u->fn();
            fflush(stdout);
            _exit(g_failed_now ? 1 : g_skipped_now ? 77 : 0);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        g_test_seq++; /* the number the child's th_tmpdir took: the next test needs another */
        if (!WIFEXITED(st)) {
            printf("FAIL %s: crashed (signal %d)\n", u->name, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
            g_failed_now = 1;
        } else if (WEXITSTATUS(st) == 1) {
            g_failed_now = 1;
        } else if (WEXITSTATUS(st) == 77) {
            g_skipped_now = 1;
        }
    } else {
        u->fn();
    }
    prw_alloc_fail_after(0);
    finish_test(t);
}

static bool file_equals(const char *a, const char *b, size_t *first_diff_line) {
    size_t na = 0, nb = 0;
    uint8_t *x = th_read(a, &na), *y = th_read(b, &nb);
    if (!x || !y)
        return false;
    if (na == nb && memcmp(x, y, na) == 0)
        return true;
    size_t line = 1, n = na < nb ? na : nb;
    for (size_t i = 0; i < n && x[i] == y[i]; i++)
        if (x[i] == '\n')
            line++;
    *first_diff_line = line;
    return false;
}

static void run_cli_case(const char *dir, const char *base, tally *t) {
    char name[512];
    snprintf(name, sizeof name, "cli/%s", base);
    g_current = name;
    g_failed_now = g_skipped_now = 0;
    const char *tmp = th_tmpdir();
    const char *shared = th_shared_dir();
    char *cmd = th_fmt("PRW=%s SHARED=%s TMP=%s sh %s/%s.cmd > %s/stdout 2> %s/stderr", th_cli(),
                       shared ? shared : "", tmp, dir, base, tmp, tmp);
    int code = th_sh(cmd);
    int want = 0;
    size_t len;
    uint8_t *exitf = th_read(th_fmt("%s/%s.exit", dir, base), &len);
    if (exitf)
        want = atoi((const char *)th_fmt("%.*s", (int)len, (const char *)exitf));
    if (code == 77) {
        /* The case's first line on stderr says why; by default, absent data. */
        size_t elen = 0;
        uint8_t *e = th_read(th_fmt("%s/stderr", tmp), &elen);
        size_t nl = 0;
        while (e && nl < elen && e[nl] != '\n')
            nl++;
        if (nl)
            th_skip("%.*s", (int)nl, (const char *)e);
        else
            th_skip("needs data that is absent");
    } else if (code != want) {
        size_t n = 0;
        uint8_t *e = th_read(th_fmt("%s/stderr", tmp), &n);
        th_fail(dir, 0, "%s.cmd exited %d, expected %d; stderr: %.*s", base, code, want,
                (int)(n > 400 ? 400 : n), e ? (const char *)e : "");
    } else {
        const char *want_out = th_fmt("%s/%s.stdout", dir, base);
        size_t diff_line = 0;
        if (access(want_out, R_OK) == 0 &&
            !file_equals(th_fmt("%s/stdout", tmp), want_out, &diff_line))
            th_fail(dir, 0, "%s: stdout differs from %s.stdout at line %zu", base, base, diff_line);
    }
    finish_test(t);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted list of entries in dir whose names end with `suffix` (suffix stripped). */
static char **list_dir(const char *dir, const char *suffix, size_t *count) {
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = NULL;
    size_t cap = 0;
    struct dirent *e;
    size_t sl = strlen(suffix);
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || l < sl || strcmp(e->d_name + l - sl, suffix) != 0)
            continue;
        if (*count == cap) {
            cap = cap ? cap * 2 : 32;
            names = realloc(names, cap * sizeof *names);
            if (!names)
                abort();
        }
        names[(*count)++] = strndup(e->d_name, l - sl);
    }
    closedir(d);
    if (*count)
        qsort(names, *count, sizeof *names, cmp_str);
    return names;
}

static void free_list(char **names, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void run_fuzz_replay(const fuzz_target *f, tally *t) {
    char name[256];
    snprintf(name, sizeof name, "fuzz/%s", f->name);
    g_current = name;
    g_failed_now = g_skipped_now = 0;
    char dir[512];
    snprintf(dir, sizeof dir, "fuzz/corpus/%s", f->name);
    size_t n = 0;
    char **files = list_dir(dir, "", &n);
    if (n == 0)
        th_fail(dir, 0, "corpus is empty or missing");
    for (size_t i = 0; i < n && !g_failed_now; i++) {
        size_t len = 0;
        char *path = th_fmt("%s/%s", dir, files[i]);
        uint8_t *data = th_read(path, &len);
        if (!data) {
            th_fail(path, 0, "cannot read");
            break;
        }
        /* Copy into an exact-size buffer so ASan sees reads past the input. */
        uint8_t *exact = malloc(len ? len : 1);
        memcpy(exact, data, len);
        if (f->fn(exact, len) != 0)
            th_fail(path, 0, "fuzz target returned non-zero");
        free(exact);
    }
    if (!g_failed_now)
        th_note("%zu inputs", n);
    free_list(files, n);
    finish_test(t);
}

int main(int argc, char **argv) {
    tally t = {0};
    bool list = false;
    char **filters = calloc((size_t)argc, sizeof *filters);
    int nfilters = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--list") == 0)
            list = true;
        else if (strcmp(argv[i], "--fork") == 0)
            t.fork_each = true;
        else if (strcmp(argv[i], "-v") == 0)
            g_verbose = 1;
        else
            filters[nfilters++] = argv[i];
    }
    size_t ncli = 0;
    char **cli = list_dir("tests/cli", ".cmd", &ncli);
    if (list) {
        for (const unit_test *u = g_tests; u->name; u++)
            printf("%s\n", u->name);
        for (size_t i = 0; i < ncli; i++)
            printf("cli/%s\n", cli[i]);
        for (const fuzz_target *f = g_fuzz; f->name; f++)
            printf("fuzz/%s\n", f->name);
        free_list(cli, ncli);
        free(filters);
        return 0;
    }
    const char *tmpbase = getenv("TMPDIR");
    snprintf(g_run_tmp, sizeof g_run_tmp, "%s/prw_tests.XXXXXX",
             tmpbase && *tmpbase ? tmpbase : "/tmp");
    if (!mkdtemp(g_run_tmp)) {
        fprintf(stderr, "cannot create a temporary directory: %s\n", strerror(errno));
        return 1;
    }
    for (const unit_test *u = g_tests; u->name; u++)
        if (matches(u->name, nfilters, filters))
            run_unit(u, &t);
    for (size_t i = 0; i < ncli; i++) {
        char name[512];
        snprintf(name, sizeof name, "cli/%s", cli[i]);
        if (matches(name, nfilters, filters))
            run_cli_case("tests/cli", cli[i], &t);
    }
    for (const fuzz_target *f = g_fuzz; f->name; f++) {
        char name[256];
        snprintf(name, sizeof name, "fuzz/%s", f->name);
        if (matches(name, nfilters, filters))
            run_fuzz_replay(f, &t);
    }
    free_list(cli, ncli);
    free(filters);
    nftw(g_run_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    printf("tests: %d passed, %d failed, %d skipped\n", t.passed, t.failed, t.skipped);
    return t.failed ? 1 : 0;
}
