/*
 * proberows._build: prw_build run in a child process, so that Ctrl-C can cancel it cleanly.
 *
 * The library's only cancellation hook is prw_build_remove_temp_files() from a signal
 * handler, after which the process must end (the CLI does this on SIGINT). So the build runs
 * in a forked child that calls only the C library: its SIGINT handler removes the staged
 * output and run files and ends the child. The parent waits with the GIL released, checks
 * Python's signals every 50 ms, and on KeyboardInterrupt interrupts the child, reaps it and
 * re-raises: no partial output is left. The child sends its status, error and statistics
 * back through a pipe.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proberows/pipeline.h"
#include "py_internal.h"

typedef struct build_result {
    prw_status st;
    prw_error err;
    prw_build_stats stats;
} build_result;

static void child_signal(int sig) {
    prw_build_remove_temp_files();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void child_progress(void *ctx, const prw_build_progress *p) {
    (void)ctx;
    if (p->phase_end)
        fprintf(stderr, "proberows: %s done (%.1fs)\n", p->phase, p->elapsed);
}

/* The child: run the build, write the result, end without returning to Python. */
static void run_child(int fd, prw_build_options *o, bool quiet) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = child_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigset_t all;
    sigemptyset(&all);
    sigaddset(&all, SIGINT);
    sigaddset(&all, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &all, NULL);
    if (!quiet)
        o->progress = child_progress;
    build_result res;
    memset(&res, 0, sizeof res);
    prw_error_clear(&res.err);
    res.st = prw_build(o, &res.stats, &res.err);
    const char *p = (const char *)&res;
    size_t left = sizeof res;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            _exit(3);
        p += w;
        left -= (size_t)w;
    }
    _exit(0);
}

/* Waits for the child's result; -1 with a Python error set (KeyboardInterrupt, or an error of
 * the pipe), the child then interrupted. */
static int wait_child(pid_t pid, int fd, build_result *res, size_t *got) {
    char *p = (char *)res;
    for (;;) {
        int rc, e = 0;
        ssize_t r = 0;
        Py_BEGIN_ALLOW_THREADS struct pollfd pf = {fd, POLLIN, 0};
        rc = poll(&pf, 1, 50);
        e = rc < 0 ? errno : 0;
        if (rc > 0 && (r = read(fd, p + *got, sizeof *res - *got)) < 0)
            e = errno;
        Py_END_ALLOW_THREADS if (e && e != EINTR && e != EAGAIN) {
            kill(pid, SIGINT); /* cannot hear from the child: stop it */
            errno = e;
            PyErr_SetFromErrno(PyExc_OSError);
            return -1;
        }
        if (rc > 0 && r > 0) {
            *got += (size_t)r;
            if (*got == sizeof *res)
                return 0;
            continue;
        }
        if (rc > 0 && r == 0)
            return 0; /* end of the pipe: the child ended */
        if (PyErr_CheckSignals() < 0) {
            kill(pid, SIGINT);
            return -1;
        }
    }
}

static PyObject *finish(pid_t pid, int fd, bool interrupted, const build_result *res, size_t got) {
    int status = 0;
    close(fd);
    Py_BEGIN_ALLOW_THREADS while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    Py_END_ALLOW_THREADS if (interrupted) return NULL; /* KeyboardInterrupt stays set */
    if (got != sizeof *res) {
        if (WIFSIGNALED(status))
            return PyErr_Format(prwpy_error_base,
                                "the build process was ended by signal %d; no output was written",
                                WTERMSIG(status));
        return PyErr_Format(prwpy_error_base,
                            "the build process ended (status %d) without a result",
                            WEXITSTATUS(status));
    }
    if (res->st < 0)
        return prwpy_raise(res->st, &res->err, NULL);
    return PyLong_FromLongLong(res->stats.peak_rss_bytes);
}

static int parse_columns(PyObject *cols, prw_build_options *o) {
    if (cols == Py_None)
        return 0;
    if (!PyTuple_Check(cols) || PyTuple_GET_SIZE(cols) != PRW_COL_COUNT) {
        PyErr_SetString(PyExc_TypeError, "_build: columns must be a tuple of 5 str or None");
        return -1;
    }
    for (int c = 0; c < PRW_COL_COUNT; c++) {
        PyObject *v = PyTuple_GET_ITEM(cols, c);
        if (v != Py_None && !(o->columns[c] = PyUnicode_AsUTF8(v)))
            return -1;
    }
    return 0;
}

PyObject *prwpy_build(PyObject *self, PyObject *args, PyObject *kw) {
    (void)self;
    static char *names[] = {"inputs",       "output",       "workers",  "max_row_size",
                            "train_ratio",  "split",        "null_rtt", "columns",
                            "ar_options",   "shards",       "plan",     "temp_dir",
                            "memory_limit", "command_line", "quiet",    "strict",
                            "rtt",          "src_addr",     NULL};
    prw_build_options o;
    prw_build_options_init(&o);
    PyObject *inputs, *cols = Py_None;
    int split = 0, null_rtt = 0, quiet = 1, strict = 0, rtt = 0, src = 0;
    unsigned long long max_row = 0, mem = 0;
    if (!PyArg_ParseTupleAndKeywords(
            args, kw, "O!s|iKdiiOzizzKzppii:_build", names, &PyList_Type, &inputs, &o.output_dir,
            &o.workers, &max_row, &o.train_ratio, &split, &null_rtt, &cols, &o.ar_options,
            &o.shards, &o.plan, &o.temp_dir, &mem, &o.command_line, &quiet, &strict, &rtt, &src))
        return NULL;
    if (rtt < 0 || rtt > PRW_ATLAS_RTT_MAX || src < 0 || src > PRW_ATLAS_SRC_FROM) {
        PyErr_SetString(PyExc_ValueError, "_build: rtt must be 0..2 and src_addr 0..1");
        return NULL;
    }
    o.strict = strict != 0;
    o.atlas_rtt = (prw_atlas_rtt)rtt;
    o.atlas_src = (prw_atlas_src)src;
    o.split = split ? PRW_SPLIT_HASH : PRW_SPLIT_RATIO;
    o.null_rtt = null_rtt == 1   ? PRW_NULL_RTT_DROP
                 : null_rtt == 2 ? PRW_NULL_RTT_FAILED
                                 : PRW_NULL_RTT_KEEP;
    o.max_row_size = max_row;
    o.memory_limit = mem;
    if (parse_columns(cols, &o) < 0)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(inputs);
    const char **in = PyMem_Calloc((size_t)(n ? n : 1), sizeof *in);
    if (!in)
        return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < n; i++)
        if (!(in[i] = PyUnicode_AsUTF8(PyList_GET_ITEM(inputs, i)))) {
            PyMem_Free(in);
            return NULL;
        }
    o.inputs = in;
    o.n_inputs = (size_t)n;
    int fds[2];
    if (pipe(fds) < 0) {
        PyMem_Free(in);
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        run_child(fds[1], &o, quiet != 0);
    }
    close(fds[1]);
    PyMem_Free(in);
    if (pid < 0) {
        close(fds[0]);
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    build_result res;
    size_t got = 0;
    int rc = wait_child(pid, fds[0], &res, &got);
    return finish(pid, fds[0], rc < 0, &res, got);
}
