/* CLI helpers: error printing and argument parsing (see cli.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int cli_error(const char *file, const prw_error *err) {
    if (file)
        fprintf(stderr, "proberows: %s: %s", file,
                err->msg[0] ? err->msg : prw_strerror(err->code));
    else
        fprintf(stderr, "proberows: %s", err->msg[0] ? err->msg : prw_strerror(err->code));
    if (err->offset >= 0)
        fprintf(stderr, " (at byte %lld)", (long long)err->offset);
    fputc('\n', stderr);
    return CLI_FAIL;
}

int cli_fail(const char *fmt, ...) {
    fputs("proberows: ", stderr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_FAIL;
}

void cli_warning(void *ctx, const char *path, const char *message) {
    (void)ctx;
    fprintf(stderr, "proberows: warning: %s: %s\n", path, message);
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    fputs("proberows: ", stderr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'proberows %s--help' for more information.\n", cmd ? cmd : "");
    return CLI_USAGE;
}

int cli_status(const char *cmd, prw_status st, const prw_error *err) {
    if (st == PRW_E_INVALID)
        return cli_usage_error(cmd, "%s", err->msg);
    return st < 0 ? cli_error(NULL, err) : CLI_OK;
}

bool cli_is_help(const char *arg) {
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

bool cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out) {
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool cli_parse_size(const char *s, uint64_t *out) {
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !(v >= 0) || !isfinite(v))
        return false;
    double mult = 1;
    switch (*end) {
    case 'k':
    case 'K':
        mult = 1024.0;
        end++;
        break;
    case 'm':
    case 'M':
        mult = 1024.0 * 1024;
        end++;
        break;
    case 'g':
    case 'G':
        mult = 1024.0 * 1024 * 1024;
        end++;
        break;
    case 't':
    case 'T':
        mult = 1024.0 * 1024 * 1024 * 1024;
        end++;
        break;
    default:
        break;
    }
    if (*end == 'i' && mult > 1)
        end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end)
        return false;
    double bytes = v * mult;
    if (bytes >= 18446744073709551615.0)
        return false;
    *out = (uint64_t)bytes;
    return true;
}

const char *cli_opt_value(int argc, char **argv, int *i, const char *name, bool *missing) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    *i += 1;
    return argv[*i];
}

int cli_outdir_prepare(const char *dir) {
    prw_outdir_state st;
    prw_error err;
    prw_error_clear(&err);
    if (prw_outdir_prepare_read(dir, &st, &err) < 0)
        return cli_error(dir, &err);
    if (st.writer_pid > 0)
        fprintf(stderr,
                "proberows: note: %s is being written by proberows pid %ld; reading the "
                "files as they are now\n",
                dir, st.writer_pid);
    else if (st.writer_pid < 0)
        fprintf(stderr,
                "proberows: note: %s is being written by another proberows; reading the "
                "files as they are now\n",
                dir);
    if (st.finished)
        fprintf(stderr,
                "proberows: note: %s: finished a publish that a stopped writer left "
                "halfway (the new output is in place)\n",
                dir);
    if (st.undone)
        fprintf(stderr,
                "proberows: note: %s: undid a publish that a stopped writer left "
                "halfway (the previous output is back)\n",
                dir);
    if (st.pending)
        fprintf(stderr,
                "proberows: note: %s: a stopped writer left a publish halfway; the next "
                "proberows command with write access to it completes it\n",
                dir);
    return CLI_OK;
}
