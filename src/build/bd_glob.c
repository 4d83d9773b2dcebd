/*
 * Input globs (CONTRACT.md §1): `*`, `?` and `[...]` within one path component, `**` for any
 * number of directories. Matches are de-duplicated and sorted in byte order of their paths,
 * which is the pipeline's "input order". A pattern without wildcards names one file.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "build/bd_internal.h"

typedef struct {
    char **items;
    size_t n, cap;
} strvec;

static prw_status vec_push(strvec *v, const char *s, prw_error *err) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 16;
        char **p = prw__realloc(v->items, cap * sizeof *p);
        if (!p)
            return prw__error_nomem(err, "the input file list", cap * sizeof *p);
        v->items = p;
        v->cap = cap;
    }
    char *d = prw__strdup(s);
    if (!d)
        return prw__error_nomem(err, "a path", strlen(s));
    v->items[v->n++] = d;
    return PRW_OK;
}

static bool has_magic(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] == '*' || s[i] == '?' || s[i] == '[')
            return true;
    return false;
}

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Joins dir and name ("" dir means the current directory, kept relative). */
static char *join(const char *dir, const char *name, size_t name_len) {
    size_t dl = strlen(dir);
    char *s = prw__malloc(dl + name_len + 2);
    if (!s)
        return NULL;
    size_t k = 0;
    if (dl) {
        memcpy(s, dir, dl);
        k = dl;
        if (s[k - 1] != '/')
            s[k++] = '/';
    }
    memcpy(s + k, name, name_len);
    s[k + name_len] = '\0';
    return s;
}

static prw_status walk(const char *dir, const char *pat, strvec *out, int depth, prw_error *err);

/* A path that matched one component: descend with the rest of the pattern, or keep the file. */
static prw_status visit(const char *p, const char *rest, strvec *out, int depth, prw_error *err) {
    if (rest)
        return is_dir(p) ? walk(p, rest, out, depth + 1, err) : PRW_OK;
    return is_file(p) ? vec_push(out, p, err) : PRW_OK;
}

/* Matches the remaining pattern `pat` (components separated by '/') under directory `dir`. */
static prw_status walk(const char *dir, const char *pat, strvec *out, int depth, prw_error *err) {
    if (depth > 64)
        return prw__error_set(err, PRW_E_LIMIT, -1, "directory tree too deep under %s", dir);
    while (*pat == '/')
        pat++;
    const char *slash = strchr(pat, '/');
    size_t clen = slash ? (size_t)(slash - pat) : strlen(pat);
    const char *rest = slash ? slash + 1 : NULL;
    if (clen == 0) { /* pattern ended with '/' */
        return PRW_OK;
    }
    if (clen == 2 && pat[0] == '*' && pat[1] == '*') {
        /* `**`: zero directories here, then recurse into every subdirectory. */
        const char *after = rest ? rest : "*";
        PRW_TRY(walk(dir, after, out, depth + 1, err));
        DIR *d = opendir(*dir ? dir : ".");
        if (!d)
            return PRW_OK;
        struct dirent *e;
        prw_status st = PRW_OK;
        while ((e = readdir(d)) && st == PRW_OK) {
            if (e->d_name[0] == '.')
                continue;
            char *sub = join(dir, e->d_name, strlen(e->d_name));
            if (!sub) {
                st = prw__error_nomem(err, "a path", 0);
                break;
            }
            if (is_dir(sub))
                st = walk(sub, pat, out, depth + 1, err);
            prw__free(sub);
        }
        closedir(d);
        return st;
    }
    if (!has_magic(pat, clen)) {
        char *p = join(dir, pat, clen);
        if (!p)
            return prw__error_nomem(err, "a path", clen);
        prw_status st = visit(p, rest, out, depth, err);
        prw__free(p);
        return st;
    }
    char comp[1024];
    if (clen >= sizeof comp)
        return prw__error_set(err, PRW_E_LIMIT, -1, "path component too long in pattern");
    memcpy(comp, pat, clen);
    comp[clen] = '\0';
    DIR *d = opendir(*dir ? dir : ".");
    if (!d)
        return PRW_OK;
    struct dirent *e;
    prw_status st = PRW_OK;
    while ((e = readdir(d)) && st == PRW_OK) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (fnmatch(comp, e->d_name, FNM_PERIOD) != 0)
            continue;
        char *p = join(dir, e->d_name, strlen(e->d_name));
        if (!p) {
            st = prw__error_nomem(err, "a path", 0);
            break;
        }
        st = visit(p, rest, out, depth, err);
        prw__free(p);
    }
    closedir(d);
    return st;
}

static int cmp_path(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

prw_status prw__pl_glob(const char *const *patterns, size_t npatterns, char ***paths,
                        size_t *npaths, prw_error *err) {
    strvec v = {0};
    prw_status st = PRW_OK;
    for (size_t i = 0; i < npatterns && st == PRW_OK; i++) {
        const char *pat = patterns[i];
        size_t before = v.n;
        st = walk(pat[0] == '/' ? "/" : "", pat, &v, 0, err);
        if (st == PRW_OK && v.n == before)
            st = prw__error_set(err, PRW_E_IO, -1, "%s: no such file (no file matches)", pat);
    }
    if (st < 0) {
        prw__pl_free_paths(v.items, v.n);
        return st;
    }
    if (v.n)
        qsort(v.items, v.n, sizeof *v.items, cmp_path);
    size_t k = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (k > 0 && strcmp(v.items[k - 1], v.items[i]) == 0) {
            prw__free(v.items[i]);
            continue;
        }
        v.items[k++] = v.items[i];
    }
    *paths = v.items;
    *npaths = k;
    return PRW_OK;
}

void prw__pl_free_paths(char **paths, size_t n) {
    for (size_t i = 0; paths && i < n; i++)
        prw__free(paths[i]);
    prw__free(paths);
}
