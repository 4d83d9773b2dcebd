/*
 * proberows.ArrayRecordReader: the methods of Google's array_record_module.ArrayRecordReader
 * with the same names and semantics, over the C reader (the writer is in py_writer.c).
 *
 * Thread safety: the reader's state that Python sees (the sequential position, the pool of
 * cursors, the count of calls in flight) changes only with the GIL held; reads run on
 * cursors (prw_ar_cursor, one per thread) with the GIL released, so any number of Python
 * threads may read one reader at once. close() while calls are in flight only marks the
 * reader closed: the last call to finish frees it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proberows/arrayrecord.h"
#include "py_internal.h"

/* Most threads a batch read uses (cursors handed to prw_ar_read_batch). */
#define MAX_THREADS 64
/* Uncompressed batches smaller than this are read with the GIL held, each record becoming its
 * bytes object at once: cheaper than staging copies for threads (measured, bench/README.md). */
#define GIL_FREE_MIN 4096

typedef struct reader_obj {
    PyObject_HEAD prw_ar_reader *r;
    PyObject *path;
    uint64_t n;
    uint64_t pos;      /* sequential read position (read() without arguments, seek) */
    int threads;       /* cursors per batch */
    bool compressed;   /* data chunks need decompression: reads always drop the GIL */
    bool closed;       /* close() was called */
    Py_ssize_t active; /* calls in flight with the GIL released */
    prw_ar_cursor **idle;
    size_t n_idle, cap_idle;
} reader_obj;

/* ---- lifetime ------------------------------------------------------------------------ */

static void reader_free_native(reader_obj *self) {
    for (size_t i = 0; i < self->n_idle; i++)
        prw_ar_cursor_destroy(self->idle[i]);
    free(self->idle);
    self->idle = NULL;
    self->n_idle = self->cap_idle = 0;
    prw_ar_reader_close(self->r);
    self->r = NULL;
}

static int check_open(reader_obj *self) {
    if (self->closed || !self->r) {
        PyErr_SetString(PyExc_ValueError, "I/O operation on a closed ArrayRecordReader");
        return -1;
    }
    return 0;
}

/* Takes `k` cursors from the idle pool (creating what is missing). GIL held. */
static int take_cursors(reader_obj *self, prw_ar_cursor **out, int k) {
    for (int i = 0; i < k; i++) {
        if (self->n_idle) {
            out[i] = self->idle[--self->n_idle];
            continue;
        }
        prw_error err;
        prw_error_clear(&err);
        prw_status st = prw_ar_cursor_create(self->r, &out[i], &err);
        if (st < 0) {
            while (i-- > 0)
                prw_ar_cursor_destroy(out[i]);
            prwpy_raise(st, &err, NULL);
            return -1;
        }
    }
    self->active++;
    return 0;
}

/* Gives cursors back; frees everything when a closed reader's last call ends. GIL held. */
static void give_cursors(reader_obj *self, prw_ar_cursor **cur, int k) {
    if (self->n_idle + (size_t)k > self->cap_idle) {
        size_t cap = (self->n_idle + (size_t)k) * 2;
        prw_ar_cursor **p = realloc(self->idle, cap * sizeof *p);
        if (p) {
            self->idle = p;
            self->cap_idle = cap;
        }
    }
    for (int i = 0; i < k; i++) {
        if (self->n_idle < self->cap_idle)
            self->idle[self->n_idle++] = cur[i];
        else
            prw_ar_cursor_destroy(cur[i]);
    }
    self->active--;
    if (self->closed && self->active == 0)
        reader_free_native(self);
}

/* Reader options (Google's grammar): readahead_buffer_size:N, max_parallelism:N|auto. */
static int parse_reader_options(reader_obj *self, const char *opts) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    self->threads = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (int)cpus;
    const char *p = opts;
    while (p && *p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[128];
        if (len >= sizeof item)
            goto bad;
        memcpy(item, p, len);
        item[len] = '\0';
        char *colon = strchr(item, ':');
        const char *val = colon ? colon + 1 : "";
        if (colon)
            *colon = '\0';
        char *end = NULL;
        if (len == 0) {
            /* empty items are allowed */
        } else if (strcmp(item, "readahead_buffer_size") == 0 && *val) {
            (void)strtod(val, &end); /* the reader maps the file: nothing to size */
            if (end == val || (*end && !strchr("BkKMGTPE", *end)))
                goto bad;
        } else if (strcmp(item, "max_parallelism") == 0 && *val) {
            if (strcmp(val, "auto") != 0) {
                long v = strtol(val, &end, 10);
                if (end == val || *end || v < 0)
                    goto bad;
                self->threads = v < 1 ? 1 : v > MAX_THREADS ? MAX_THREADS : (int)v;
            }
        } else {
            goto bad;
        }
        p = comma ? comma + 1 : NULL;
    }
    return 0;
bad:
    PyErr_Format(PyExc_ValueError,
                 "ArrayRecordReader options '%s': expected comma-separated "
                 "readahead_buffer_size:N or max_parallelism:N|auto",
                 opts);
    return -1;
}

static int reader_init(reader_obj *self, PyObject *args, PyObject *kw) {
    static char *names[] = {"path", "options", "file_reader_buffer_size", NULL};
    PyObject *path;
    const char *opts = "";
    PyObject *bufsize = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|sO:ArrayRecordReader", names,
                                     PyUnicode_FSConverter, &path, &opts, &bufsize))
        return -1;
    if (self->r || self->active) {
        Py_DECREF(path);
        PyErr_SetString(PyExc_RuntimeError, "ArrayRecordReader.__init__ called twice");
        return -1;
    }
    if (parse_reader_options(self, opts) < 0) {
        Py_DECREF(path);
        return -1;
    }
    prw_error err;
    prw_error_clear(&err);
    prw_status st;
    prw_ar_reader *r = NULL;
    Py_BEGIN_ALLOW_THREADS st = prw_ar_reader_open(&r, PyBytes_AS_STRING(path), &err);
    Py_END_ALLOW_THREADS if (st < 0) {
        prwpy_raise_in_file(path, st, &err);
        Py_DECREF(path);
        return -1;
    }
    self->r = r;
    Py_XSETREF(self->path, path);
    self->n = prw_ar_reader_num_records(r);
    self->pos = 0;
    self->closed = false;
    self->compressed = prw_ar_reader_compression(r) != PRW_AR_UNCOMPRESSED;
    return 0;
}

static void reader_dealloc(reader_obj *self) {
    /* No call can be in flight: each holds a reference to the reader. */
    reader_free_native(self);
    Py_CLEAR(self->path);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* ---- reading -------------------------------------------------------------------------- */

/* Where each record of a batch landed: per-thread growing buffers (GIL released). */
typedef struct stage {
    uint8_t *buf[MAX_THREADS];
    size_t len[MAX_THREADS], cap[MAX_THREADS];
    uint64_t *off; /* per slot: offset in its thread's buffer */
    uint32_t *size;
    uint8_t *worker;
} stage;

static prw_status stage_record(void *ctx, int w, size_t pos, const uint8_t *data, size_t len) {
    stage *s = ctx;
    if (len > UINT32_MAX)
        return PRW_E_LIMIT;
    if (s->len[w] + len > s->cap[w]) {
        size_t cap = (s->len[w] + len) * 2 + 4096;
        uint8_t *p = realloc(s->buf[w], cap);
        if (!p)
            return PRW_E_NOMEM;
        s->buf[w] = p;
        s->cap[w] = cap;
    }
    if (len) /* an empty record may come with no data pointer, into no buffer yet */
        memcpy(s->buf[w] + s->len[w], data, len);
    s->off[pos] = s->len[w];
    s->size[pos] = (uint32_t)len;
    s->worker[pos] = (uint8_t)w;
    s->len[w] += len;
    return PRW_OK;
}

/* With the GIL held: each record becomes its bytes object at once. */
static prw_status direct_record(void *ctx, int w, size_t pos, const uint8_t *data, size_t len) {
    (void)w;
    PyObject *b = PyBytes_FromStringAndSize((const char *)data, (Py_ssize_t)len);
    if (!b)
        return PRW_E_NOMEM;
    PyList_SET_ITEM((PyObject *)ctx, (Py_ssize_t)pos, b);
    return PRW_OK;
}

static void stage_free(stage *s) {
    for (int i = 0; i < MAX_THREADS; i++)
        free(s->buf[i]);
    free(s->off);
    free(s->size);
    free(s->worker);
}

/* Where slot k's record lies in a finished stage. */
static const uint8_t *staged(const stage *s, size_t k) {
    static const uint8_t empty[1];
    const uint8_t *b = s->buf[s->worker[k]];
    return b ? b + s->off[k] : empty; /* a thread that read only empty records */
}

/* Builds the list of bytes from a finished stage. */
static PyObject *stage_list(const stage *s, size_t n) {
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t k = 0; list && k < n; k++) {
        PyObject *b = PyBytes_FromStringAndSize((const char *)staged(s, k), (Py_ssize_t)s->size[k]);
        if (!b) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)k, b);
    }
    return list;
}

static PyObject *read_failed(reader_obj *self, prw_status st, const prw_error *err) {
    if (st == PRW_E_INVALID)
        PyErr_SetString(PyExc_IndexError, err->msg);
    else if (st == PRW_E_NOMEM && !err->msg[0])
        PyErr_NoMemory();
    else
        prwpy_raise_in_file(self->path, st, err);
    return NULL;
}

/* ---- decoded batches ------------------------------------------------------------------ */

/* Parses the staged records on several threads (GIL released): the decode of read_rows. */
typedef struct parse_job {
    const stage *s;
    size_t n;
    prwpy_row_data *d;
    prw_status *st;
    _Atomic size_t next;
} parse_job;

static void *parse_worker(void *arg) {
    parse_job *j = arg;
    prw_error err;
    const char *where;
    for (;;) {
        size_t lo = atomic_fetch_add(&j->next, 64);
        for (size_t k = lo; k < j->n && k < lo + 64; k++)
            j->st[k] = prwpy_row_parse(staged(j->s, k), j->s->size[k], &j->d[k], &where, &err);
        if (lo >= j->n)
            return NULL;
    }
}

static void parse_stage(parse_job *j, int threads) {
    pthread_t th[MAX_THREADS];
    int started = 0;
    for (int t = 1; t < threads; t++)
        if (pthread_create(&th[started], NULL, parse_worker, j) == 0)
            started++;
    parse_worker(j);
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
}

/* The rows of a finished stage, or the first slot's decode error. */
static PyObject *stage_rows(const stage *s, size_t n, int threads) {
    prwpy_row_data *d = malloc((n ? n : 1) * sizeof *d);
    prw_status *st = malloc((n ? n : 1) * sizeof *st);
    PyObject *list = d && st ? PyList_New((Py_ssize_t)n) : PyErr_NoMemory();
    if (list) {
        parse_job j = {.s = s, .n = n, .d = d, .st = st};
        atomic_init(&j.next, 0);
        Py_BEGIN_ALLOW_THREADS parse_stage(&j, threads);
        Py_END_ALLOW_THREADS
    }
    for (size_t k = 0; list && k < n; k++) {
        PyObject *b = st[k] >= 0 ? PyBytes_FromStringAndSize((const char *)staged(s, k),
                                                             (Py_ssize_t)s->size[k])
                                 : NULL;
        PyObject *row = b ? prwpy_row_wrap(b, &d[k], staged(s, k)) : NULL;
        Py_XDECREF(b);
        if (!row && st[k] < 0) { /* parse the failing record again for its error */
            prw_error err;
            const char *where;
            prw_status e = prwpy_row_parse(staged(s, k), s->size[k], &d[k], &where, &err);
            prwpy_row_raise(e, &err, where);
        }
        if (!row) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)k, row);
    }
    free(d);
    free(st);
    return list;
}

/* ---- the core of every read ----------------------------------------------------------- */

/* Reads indices[0..n) into a new list of bytes, or of ProbeRows when `decode`. */
static PyObject *read_indices(reader_obj *self, const uint64_t *ix, size_t n, bool decode) {
    if (check_open(self) < 0)
        return NULL;
    for (size_t k = 0; k < n; k++)
        if (ix[k] >= self->n)
            return PyErr_Format(PyExc_IndexError,
                                "record %llu (position %zu) is out of range: the file has %llu",
                                (unsigned long long)ix[k], k, (unsigned long long)self->n);
    bool free_gil = decode || self->compressed || n >= GIL_FREE_MIN;
    size_t want = n / PRW_AR_BATCH_PER_THREAD ? n / PRW_AR_BATCH_PER_THREAD : 1;
    int k = !free_gil ? 1 : want < (size_t)self->threads ? (int)want : self->threads;
    prw_ar_cursor *cur[MAX_THREADS];
    if (take_cursors(self, cur, k) < 0)
        return NULL;
    prw_error err;
    prw_error_clear(&err);
    prw_status st;
    PyObject *list = NULL;
    if (!free_gil) {
        list = PyList_New((Py_ssize_t)n);
        st = list ? prw_ar_read_batch(cur, 1, ix, n, direct_record, list, &err) : PRW_E_NOMEM;
        if (st < 0)
            Py_CLEAR(list);
    } else {
        stage s;
        memset(&s, 0, sizeof s);
        s.off = malloc((n ? n : 1) * sizeof *s.off);
        s.size = malloc((n ? n : 1) * sizeof *s.size);
        s.worker = malloc(n ? n : 1);
        st = s.off && s.size && s.worker ? PRW_OK : PRW_E_NOMEM;
        if (st >= 0) {
            Py_BEGIN_ALLOW_THREADS st = prw_ar_read_batch(cur, k, ix, n, stage_record, &s, &err);
            Py_END_ALLOW_THREADS
        }
        if (st >= 0)
            list = decode ? stage_rows(&s, n, k) : stage_list(&s, n);
        stage_free(&s);
    }
    give_cursors(self, cur, k);
    if (st < 0 && !PyErr_Occurred())
        return read_failed(self, st, &err);
    return list;
}

/* Converts a sequence of ints to an array of indices (negative ones count from the end). */
static uint64_t *indices_of(reader_obj *self, PyObject *seq, size_t *n) {
    PyObject *fast = PySequence_Fast(seq, "read() takes a sequence of record indices");
    if (!fast)
        return NULL;
    Py_ssize_t len = PySequence_Fast_GET_SIZE(fast);
    uint64_t *ix = malloc((len ? (size_t)len : 1) * sizeof *ix);
    if (!ix) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return NULL;
    }
    PyObject **items = PySequence_Fast_ITEMS(fast);
    for (Py_ssize_t i = 0; i < len; i++) {
        long long v = PyLong_AsLongLong(items[i]);
        if (v == -1 && PyErr_Occurred()) {
            free(ix);
            Py_DECREF(fast);
            return NULL;
        }
        ix[i] = v < 0 && (uint64_t)-v <= self->n ? self->n - (uint64_t)-v
                : v < 0                          ? UINT64_MAX
                                                 : (uint64_t)v;
    }
    Py_DECREF(fast);
    *n = (size_t)len;
    return ix;
}

static PyObject *read_one(reader_obj *self, uint64_t i) {
    PyObject *list = read_indices(self, &i, 1, false);
    if (!list)
        return NULL;
    PyObject *b = PyList_GET_ITEM(list, 0);
    Py_INCREF(b);
    Py_DECREF(list);
    return b;
}

static PyObject *read_range(reader_obj *self, long long begin, long long end) {
    long long n = (long long)self->n, b = begin < 0 ? n + begin : begin,
              e = end < 0 ? n + end : end;
    if (b < 0 || e < 0 || b > n || e > n || e <= b)
        return PyErr_Format(PyExc_IndexError, "[%lld, %lld) is out of range of [0, %lld)", begin,
                            end, n);
    uint64_t *ix = malloc((size_t)(e - b) * sizeof *ix);
    if (!ix)
        return PyErr_NoMemory();
    for (long long i = b; i < e; i++)
        ix[i - b] = (uint64_t)i;
    PyObject *list = read_indices(self, ix, (size_t)(e - b), false);
    free(ix);
    return list;
}

static PyObject *reader_read(reader_obj *self, PyObject *args) {
    Py_ssize_t na = PyTuple_GET_SIZE(args);
    if (check_open(self) < 0)
        return NULL;
    if (na == 0) {
        if (self->pos >= self->n)
            return PyErr_Format(PyExc_IndexError, "Out of range of num_records: %llu",
                                (unsigned long long)self->n);
        uint64_t i = self->pos++; /* claimed before the GIL is released */
        PyObject *b = read_one(self, i);
        if (!b && self->pos == i + 1)
            self->pos = i;
        return b;
    }
    if (na == 1 && !PyLong_Check(PyTuple_GET_ITEM(args, 0))) {
        size_t n = 0;
        uint64_t *ix = indices_of(self, PyTuple_GET_ITEM(args, 0), &n);
        if (!ix)
            return NULL;
        PyObject *list = read_indices(self, ix, n, false);
        free(ix);
        return list;
    }
    long long begin, end;
    if (na == 2 && PyArg_ParseTuple(args, "LL:read", &begin, &end))
        return read_range(self, begin, end);
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_TypeError,
                        "read() takes no argument, a list of indices, or begin and end");
    return NULL;
}

static PyObject *reader_read_rows(reader_obj *self, PyObject *arg) {
    size_t n = 0;
    uint64_t *ix = indices_of(self, arg, &n);
    if (!ix)
        return NULL;
    PyObject *list = read_indices(self, ix, n, true);
    free(ix);
    return list;
}

static PyObject *reader_read_all(reader_obj *self, PyObject *noargs) {
    (void)noargs;
    if (check_open(self) < 0)
        return NULL;
    if (self->n == 0)
        return PyList_New(0);
    return read_range(self, 0, (long long)self->n);
}

static PyObject *reader_num_records(reader_obj *self, PyObject *noargs) {
    (void)noargs;
    if (check_open(self) < 0)
        return NULL;
    return PyLong_FromUnsignedLongLong(self->n);
}

static Py_ssize_t reader_len(reader_obj *self) {
    if (check_open(self) < 0)
        return -1;
    return (Py_ssize_t)self->n;
}

static PyObject *reader_item(reader_obj *self, Py_ssize_t i) {
    if (check_open(self) < 0)
        return NULL;
    if (i < 0 || (uint64_t)i >= self->n)
        return PyErr_Format(PyExc_IndexError, "record %zd is out of range: the file has %llu", i,
                            (unsigned long long)self->n);
    return read_one(self, (uint64_t)i);
}

static PyObject *reader_seek(reader_obj *self, PyObject *arg) {
    long long i = PyLong_AsLongLong(arg);
    if (i == -1 && PyErr_Occurred())
        return NULL;
    if (check_open(self) < 0)
        return NULL;
    if (i < 0 || (uint64_t)i > self->n)
        return PyErr_Format(PyExc_IndexError, "cannot seek to record %lld of %llu", i,
                            (unsigned long long)self->n);
    self->pos = (uint64_t)i;
    Py_RETURN_NONE;
}

static PyObject *reader_record_index(reader_obj *self, PyObject *noargs) {
    (void)noargs;
    if (check_open(self) < 0)
        return NULL;
    return PyLong_FromUnsignedLongLong(self->pos);
}

static PyObject *reader_options(reader_obj *self, PyObject *noargs) {
    (void)noargs;
    if (check_open(self) < 0)
        return NULL;
    return PyUnicode_FromString(prw_ar_reader_options(self->r));
}

static PyObject *reader_close(reader_obj *self, PyObject *noargs) {
    (void)noargs;
    if (!self->closed) {
        self->closed = true;
        if (self->active == 0)
            reader_free_native(self);
    }
    Py_RETURN_NONE;
}

static PyObject *reader_is_open(reader_obj *self, PyObject *noargs) {
    (void)noargs;
    return PyBool_FromLong(!self->closed && self->r);
}

static PyObject *reader_enter(reader_obj *self, PyObject *noargs) {
    (void)noargs;
    if (check_open(self) < 0)
        return NULL;
    Py_INCREF(self);
    return (PyObject *)self;
}

static PyObject *reader_exit(reader_obj *self, PyObject *args) {
    (void)args;
    return reader_close(self, NULL);
}

static PyObject *reader_iter(reader_obj *self) {
    if (check_open(self) < 0)
        return NULL;
    self->pos = 0;
    Py_INCREF(self);
    return (PyObject *)self;
}

static PyObject *reader_next(reader_obj *self) {
    if (check_open(self) < 0)
        return NULL;
    if (self->pos >= self->n)
        return NULL; /* StopIteration */
    uint64_t i = self->pos++;
    PyObject *b = read_one(self, i);
    if (!b && self->pos == i + 1)
        self->pos = i;
    return b;
}

static PyObject *reader_get_path(reader_obj *self, void *closure);

static PyObject *reader_repr(reader_obj *self) {
    PyObject *path = reader_get_path(self, NULL);
    if (!path)
        return NULL;
    PyObject *s = self->closed || !self->r
                      ? PyUnicode_FromFormat("<proberows.ArrayRecordReader %R (closed)>", path)
                      : PyUnicode_FromFormat("<proberows.ArrayRecordReader %R: %llu records>", path,
                                             (unsigned long long)self->n);
    Py_DECREF(path);
    return s;
}

static PyObject *reader_get_path(reader_obj *self, void *closure) {
    (void)closure;
    return self->path ? PyUnicode_DecodeFSDefaultAndSize(PyBytes_AS_STRING(self->path),
                                                         PyBytes_GET_SIZE(self->path))
                      : Py_NewRef(Py_None);
}

static PyMethodDef reader_methods[] = {
    {"read", (PyCFunction)reader_read, METH_VARARGS,
     "read() -> bytes: the record at the current position, then advances (IndexError at "
     "the end).\nread(indices) -> list[bytes]: the records at these indices (any order, "
     "repeats allowed), read in parallel with the GIL released.\nread(begin, end) -> "
     "list[bytes]: records [begin, end); negative values count from the end; an empty or "
     "out-of-range range raises IndexError."},
    {"read_all", (PyCFunction)reader_read_all, METH_NOARGS, "read_all() -> list[bytes]"},
    {"read_rows", (PyCFunction)reader_read_rows, METH_O,
     "read_rows(indices) -> list[ProbeRow]: read(indices) then decode_row of each record, "
     "reading and decoding on several threads with the GIL released (not in "
     "array_record_module)."},
    {"num_records", (PyCFunction)reader_num_records, METH_NOARGS,
     "num_records() -> int: records in the file."},
    {"seek", (PyCFunction)reader_seek, METH_O,
     "seek(index): sets the position read() and iteration continue from."},
    {"record_index", (PyCFunction)reader_record_index, METH_NOARGS,
     "record_index() -> int: the current position."},
    {"writer_options_string", (PyCFunction)reader_options, METH_NOARGS,
     "writer_options_string() -> str: the options the file was written with, as stored in "
     "its footer."},
    {"close", (PyCFunction)reader_close, METH_NOARGS,
     "close(): releases the file; later calls raise ValueError. Calls still running in other "
     "threads finish first."},
    {"is_open", (PyCFunction)reader_is_open, METH_NOARGS, "is_open() -> bool"},
    {"ok", (PyCFunction)reader_is_open, METH_NOARGS, "ok() -> bool: the reader is usable."},
    {"__enter__", (PyCFunction)reader_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)reader_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef reader_getset[] = {
    {"path", (getter)reader_get_path, NULL, "The file's path.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PySequenceMethods reader_seq = {.sq_length = (lenfunc)reader_len,
                                       .sq_item = (ssizeargfunc)reader_item};

static PyTypeObject reader_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "proberows.ArrayRecordReader",
    .tp_basicsize = sizeof(reader_obj),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "ArrayRecordReader(path, options='', file_reader_buffer_size=None)\n\n"
              "Reads an ArrayRecord file (Google's format; files written by Google's "
              "array_record read identically) with the methods of "
              "array_record_module.ArrayRecordReader. The file is memory-mapped and every "
              "chunk's hashes are checked. Thread-safe: any number of threads may read at "
              "once. options: 'max_parallelism:N' sets the threads of a batched read "
              "(default: the CPUs), 'readahead_buffer_size:N' is accepted and ignored. Also "
              "len(reader), reader[i], iteration (from the start) and a context manager.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)reader_init,
    .tp_dealloc = (destructor)reader_dealloc,
    .tp_methods = reader_methods,
    .tp_getset = reader_getset,
    .tp_as_sequence = &reader_seq,
    .tp_iter = (getiterfunc)reader_iter,
    .tp_iternext = (iternextfunc)reader_next,
    .tp_repr = (reprfunc)reader_repr,
};

int prwpy_reader_init(PyObject *m) {
    if (PyType_Ready(&reader_type) < 0)
        return -1;
    return PyModule_AddObjectRef(m, "ArrayRecordReader", (PyObject *)&reader_type);
}
