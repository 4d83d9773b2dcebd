/*
 * proberows.decode_row and proberows.ProbeRow: one output record (the outer Arrow IPC stream
 * of CONTRACT.md §4, its measurements an inner stream) decoded by the C decoder, which
 * verifies every flatbuffer and buffer bound. The outer fields become Python scalars; the
 * inner columns become numpy arrays on first access: views of the record's bytes for
 * event_time, ip_version and rtt when they hold no nulls, copies otherwise (NaT, 0 and NaN at
 * the nulls, with nulls(name) giving the mask), and 'U' string arrays for the addresses.
 * window(start, length) is a ProbeRow over rows [start, start + length) of the same bytes.
 */
#include "py_internal.h"

#include <math.h>
#include <string.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL prwpy_ARRAY_API
#define NO_IMPORT_ARRAY
#include <numpy/arrayobject.h>

enum { COL_EVENT_TIME, COL_SRC_ADDR, COL_DST_ADDR, COL_IP_VERSION, COL_RTT, N_COLS };
static const char *const col_names[N_COLS] = {"event_time", "src_addr", "dst_addr", "ip_version",
                                              "rtt"};

static PyArray_Descr *g_dt_us; /* datetime64[us] */

typedef struct row_obj {
    PyObject_HEAD struct row_obj *root; /* the row owning the bytes (self for a root) */
    Py_buffer view;                     /* root only: the record */
    bool has_view;
    prwpy_row_data d;
    int64_t start, len; /* rows this object shows */
    PyObject *cache[N_COLS];
} row_obj;

static PyTypeObject row_type;

/* ---- decoding ------------------------------------------------------------------------- */

static prw_status fail(prw_error *err, prw_status st, const char *msg) {
    prw_error_clear(err);
    err->code = st;
    snprintf(err->msg, sizeof err->msg, "%s", msg);
    return st;
}

/* Reads the one batch of a stream with schema `want` into cols (its columns, copied: they
 * point into the stream bytes) and *length; PRW_DONE when it has none. */
static prw_status one_batch(prw_ipc_decoder *d, const prw_ipc_schema *want, prw_ipc_array *cols,
                            int64_t *length, prw_error *err) {
    if (!prw_ipc_schema_equal(prw_ipc_decoder_schema(d), want))
        return fail(err, PRW_E_CORRUPT, "the schema is not the one of CONTRACT.md section 4");
    prw_ipc_batch b;
    prw_status st = prw_ipc_decoder_next(d, &b, err);
    if (st != PRW_OK)
        return st;
    memcpy(cols, b.columns, want->n_fields * sizeof *cols);
    *length = b.length;
    st = prw_ipc_decoder_next(d, &b, err);
    if (st == PRW_OK)
        return fail(err, PRW_E_UNSUPPORTED,
                    "more than one record batch; decode_row reads one (to_arrow() reads any)");
    return st < 0 ? st : PRW_OK;
}

static prw_status decode_outer(prwpy_row_data *row, const uint8_t *p, size_t n, prw_error *err) {
    prw_ipc_decoder *d = NULL;
    prw_ipc_array c[6];
    int64_t len = 0;
    prw_status st = prw_ipc_decoder_create(p, n, &d, err);
    if (st >= 0)
        st = one_batch(d, prw_ipc_outer_schema(), c, &len, err);
    prw_ipc_decoder_destroy(d);
    if (st == PRW_DONE || (st >= 0 && len != 1))
        return fail(err, PRW_E_CORRUPT, "the outer stream does not hold exactly one row");
    for (int k = 0; st >= 0 && k < 6; k++)
        if (c[k].null_count != 0)
            return fail(err, PRW_E_CORRUPT, "an outer field of the row is null");
    if (st < 0)
        return st;
    row->src_id = prw_ipc_array_int(&c[0], 0);
    prw_bytes m = prw_ipc_array_bytes(&c[1], 0);
    row->inner = m.ptr;
    row->inner_len = m.len;
    row->n_meas = (int32_t)prw_ipc_array_int(&c[2], 0);
    row->span = prw_ipc_array_float(&c[3], 0);
    row->first_ts = prw_ipc_array_int(&c[4], 0);
    row->last_ts = prw_ipc_array_int(&c[5], 0);
    return PRW_OK;
}

static prw_status decode_inner(prwpy_row_data *row, prw_error *err) {
    prw_ipc_decoder *d = NULL;
    prw_status st = prw_ipc_decoder_create(row->inner, row->inner_len, &d, err);
    if (st >= 0)
        st = one_batch(d, prw_ipc_inner_schema(), row->col, &row->rows, err);
    prw_ipc_decoder_destroy(d);
    if (st == PRW_DONE) { /* a stream without batches: no measurements */
        const prw_ipc_schema *s = prw_ipc_inner_schema();
        for (int c = 0; c < N_COLS; c++)
            row->col[c] = (prw_ipc_array){.type = s->fields[c].type};
        row->rows = 0;
        st = PRW_OK;
    }
    return st;
}

prw_status prwpy_row_parse(const uint8_t *p, size_t n, prwpy_row_data *d, const char **where,
                           prw_error *err) {
    memset(d, 0, sizeof *d);
    *where = "decode_row: outer stream: ";
    prw_status st = decode_outer(d, p, n, err);
    if (st < 0)
        return st;
    *where = "decode_row: measurements (inner stream): ";
    st = decode_inner(d, err);
    if (st < 0 && err->offset >= 0)
        err->offset += (int64_t)(d->inner - p); /* an offset in the record */
    return st;
}

PyObject *prwpy_row_raise(prw_status st, const prw_error *err, const char *where) {
    if (err->offset < 0)
        return prwpy_raise(st, err, where);
    char prefix[160];
    snprintf(prefix, sizeof prefix, "%s(record byte %lld) ", where, (long long)err->offset);
    return prwpy_raise(st, err, prefix);
}

/* Moves a pointer parsed in one copy of the record onto another. */
static const uint8_t *rebase(const uint8_t *ptr, const uint8_t *from, const uint8_t *to) {
    return ptr ? to + (ptr - from) : NULL;
}

/* A root row over `record`'s buffer, its fields unset. */
static row_obj *row_open(PyObject *record) {
    row_obj *row = PyObject_New(row_obj, &row_type);
    if (!row)
        return NULL;
    memset((char *)row + offsetof(row_obj, root), 0, sizeof *row - offsetof(row_obj, root));
    row->root = row;
    if (PyObject_GetBuffer(record, &row->view, PyBUF_SIMPLE) < 0) {
        Py_DECREF(row);
        return NULL;
    }
    row->has_view = true;
    return row;
}

PyObject *prwpy_row_wrap(PyObject *record, const prwpy_row_data *d, const uint8_t *parsed_at) {
    row_obj *row = row_open(record);
    if (!row)
        return NULL;
    const uint8_t *to = row->view.buf;
    row->d = *d;
    row->d.inner = rebase(d->inner, parsed_at, to);
    for (int c = 0; c < N_COLS; c++) {
        prw_ipc_array *a = &row->d.col[c];
        a->validity = rebase(a->validity, parsed_at, to);
        a->values = rebase(a->values, parsed_at, to);
        a->offsets = rebase(a->offsets, parsed_at, to);
    }
    row->start = 0;
    row->len = row->d.rows;
    return (PyObject *)row;
}

PyObject *prwpy_decode_row(PyObject *self, PyObject *record) {
    (void)self;
    row_obj *row = row_open(record);
    if (!row)
        return NULL;
    prw_error err;
    prw_error_clear(&err);
    const char *where;
    prw_status st = prwpy_row_parse(row->view.buf, (size_t)row->view.len, &row->d, &where, &err);
    if (st < 0) {
        Py_DECREF(row);
        return prwpy_row_raise(st, &err, where);
    }
    row->start = 0;
    row->len = row->d.rows;
    return (PyObject *)row;
}

static void row_dealloc(row_obj *self) {
    for (int c = 0; c < N_COLS; c++)
        Py_CLEAR(self->cache[c]);
    if (self->root == self) {
        if (self->has_view)
            PyBuffer_Release(&self->view);
    } else {
        Py_XDECREF(self->root);
    }
    PyObject_Free(self);
}

/* ---- columns -------------------------------------------------------------------------- */

/* A read-only view of `n` values at `data`, kept alive by the root row. */
static PyObject *view_array(row_obj *self, PyArray_Descr *descr, const uint8_t *data, npy_intp n) {
    npy_intp dims[1] = {n};
    PyObject *a = PyArray_NewFromDescr(&PyArray_Type, descr, 1, dims, NULL, (void *)data, 0, NULL);
    if (!a)
        return NULL;
    Py_INCREF(self->root);
    if (PyArray_SetBaseObject((PyArrayObject *)a, (PyObject *)self->root) < 0) {
        Py_DECREF(a);
        return NULL;
    }
    return a;
}

static bool is_null(const prw_ipc_array *a, int64_t i) {
    return prw_ipc_array_is_null(a, i);
}

/* event_time, ip_version or rtt over the shown rows. */
static PyObject *fixed_column(row_obj *self, int c) {
    const prw_ipc_array *a = &self->d.col[c];
    PyArray_Descr *descr = c == COL_EVENT_TIME ? g_dt_us
                           : c == COL_RTT      ? PyArray_DescrFromType(NPY_FLOAT32)
                                               : PyArray_DescrFromType(NPY_INT8);
    if (c == COL_EVENT_TIME)
        Py_INCREF(descr);
    size_t w = prw_ipc_type_width(a->type);
    if (a->null_count == 0)
        return view_array(self, descr, a->values ? a->values + self->start * (int64_t)w : NULL,
                          self->len);
    npy_intp dims[1] = {self->len};
    PyObject *arr = PyArray_SimpleNewFromDescr(1, dims, descr);
    if (!arr)
        return NULL;
    uint8_t *dst = PyArray_DATA((PyArrayObject *)arr);
    for (int64_t i = 0; i < self->len; i++) {
        int64_t r = self->start + i;
        if (c == COL_EVENT_TIME) {
            int64_t v = is_null(a, r) ? INT64_MIN : prw_ipc_array_int(a, r); /* NaT */
            memcpy(dst + 8 * i, &v, 8);
        } else if (c == COL_RTT) {
            float v = is_null(a, r) ? NAN : (float)prw_ipc_array_float(a, r);
            memcpy(dst + 4 * i, &v, 4);
        } else {
            dst[i] = is_null(a, r) ? 0 : (uint8_t)prw_ipc_array_int(a, r);
        }
    }
    PyArray_CLEARFLAGS((PyArrayObject *)arr, NPY_ARRAY_WRITEABLE);
    return arr;
}

/* src_addr or dst_addr over the shown rows as a 'U' array (nulls are ''). */
static PyObject *string_column(row_obj *self, int c) {
    const prw_ipc_array *a = &self->d.col[c];
    Py_ssize_t width = 1;
    bool ascii = true;
    for (int64_t i = 0; i < self->len; i++) {
        prw_bytes s = prw_ipc_array_bytes(a, self->start + i);
        if ((Py_ssize_t)s.len > width)
            width = (Py_ssize_t)s.len;
        for (size_t k = 0; k < s.len && ascii; k++)
            ascii = s.ptr[k] < 0x80;
    }
    PyObject *strs = NULL;
    if (!ascii) { /* decode each value; the width is then in code points */
        strs = PyList_New((Py_ssize_t)self->len);
        width = 1;
        for (int64_t i = 0; strs && i < self->len; i++) {
            prw_bytes s = prw_ipc_array_bytes(a, self->start + i);
            PyObject *u = PyUnicode_DecodeUTF8((const char *)s.ptr, (Py_ssize_t)s.len, "replace");
            if (!u) {
                Py_CLEAR(strs);
                return NULL;
            }
            if (PyUnicode_GET_LENGTH(u) > width)
                width = PyUnicode_GET_LENGTH(u);
            PyList_SET_ITEM(strs, (Py_ssize_t)i, u);
        }
        if (!strs)
            return NULL;
    }
    PyArray_Descr *d = PyArray_DescrNewFromType(NPY_UNICODE);
    if (!d) {
        Py_XDECREF(strs);
        return NULL;
    }
    d->elsize = (int)(width * 4);
    npy_intp dims[1] = {self->len};
    PyObject *arr = PyArray_Zeros(1, dims, d, 0);
    if (!arr) {
        Py_XDECREF(strs);
        return NULL;
    }
    uint8_t *dst = PyArray_DATA((PyArrayObject *)arr);
    for (int64_t i = 0; i < self->len; i++) {
        Py_UCS4 *out = (Py_UCS4 *)(dst + (size_t)i * (size_t)width * 4);
        if (strs) {
            PyObject *u = PyList_GET_ITEM(strs, (Py_ssize_t)i);
            PyUnicode_AsUCS4(u, out, width, 0);
            continue;
        }
        prw_bytes s = prw_ipc_array_bytes(a, self->start + i);
        for (size_t k = 0; k < s.len; k++)
            out[k] = s.ptr[k];
    }
    Py_XDECREF(strs);
    PyArray_CLEARFLAGS((PyArrayObject *)arr, NPY_ARRAY_WRITEABLE);
    return arr;
}

static PyObject *column(row_obj *self, int c) {
    if (!self->cache[c])
        self->cache[c] =
            c == COL_SRC_ADDR || c == COL_DST_ADDR ? string_column(self, c) : fixed_column(self, c);
    Py_XINCREF(self->cache[c]);
    return self->cache[c];
}

static PyObject *get_column(row_obj *self, void *closure) {
    return column(self, (int)(intptr_t)closure);
}

static int column_index(PyObject *name) {
    const char *s = PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
    for (int c = 0; s && c < N_COLS; c++)
        if (strcmp(s, col_names[c]) == 0)
            return c;
    if (!PyErr_Occurred())
        PyErr_Format(PyExc_KeyError,
                     "%R is not a column (event_time, src_addr, dst_addr, ip_version, rtt)", name);
    return -1;
}

/* Boolean mask, True where column c is null, over the shown rows. */
static PyObject *null_mask(row_obj *self, int c) {
    npy_intp dims[1] = {self->len};
    PyObject *arr = PyArray_ZEROS(1, dims, NPY_BOOL, 0);
    if (!arr)
        return NULL;
    const prw_ipc_array *a = &self->d.col[c];
    uint8_t *dst = PyArray_DATA((PyArrayObject *)arr);
    for (int64_t i = 0; a->null_count && i < self->len; i++)
        dst[i] = is_null(a, self->start + i);
    return arr;
}

static PyObject *row_nulls(row_obj *self, PyObject *name) {
    int c = column_index(name);
    return c < 0 ? NULL : null_mask(self, c);
}

static PyObject *row_null_count(row_obj *self, PyObject *name) {
    int c = column_index(name);
    if (c < 0)
        return NULL;
    const prw_ipc_array *a = &self->d.col[c];
    int64_t k = 0;
    for (int64_t i = 0; a->null_count && i < self->len; i++)
        k += is_null(a, self->start + i);
    return PyLong_FromLongLong(k);
}

static PyObject *get_rtt_null(row_obj *self, void *closure) {
    (void)closure;
    return null_mask(self, COL_RTT);
}

/* ---- the row ------------------------------------------------------------------------- */

static PyObject *row_window(row_obj *self, PyObject *args) {
    long long start, length;
    if (!PyArg_ParseTuple(args, "LL:window", &start, &length))
        return NULL;
    if (start < 0 || length < 0 || start > self->len)
        return PyErr_Format(PyExc_IndexError,
                            "window(%lld, %lld) of a row of %lld measurements: start must be in "
                            "0..%lld and length >= 0",
                            start, length, (long long)self->len, (long long)self->len);
    row_obj *w = PyObject_New(row_obj, &row_type);
    if (!w)
        return NULL;
    memcpy((char *)w + offsetof(row_obj, root), (char *)self + offsetof(row_obj, root),
           sizeof *w - offsetof(row_obj, root));
    memset(w->cache, 0, sizeof w->cache);
    w->has_view = false;
    Py_INCREF(self->root);
    w->root = self->root;
    w->start = self->start + start;
    w->len = length < self->len - start ? length : self->len - start;
    return (PyObject *)w;
}

static PyObject *datetime_scalar(int64_t us) {
    PyObject *i = PyArray_Scalar(&us, g_dt_us, NULL);
    return i;
}

static PyObject *row_get(row_obj *self, void *closure) {
    switch ((int)(intptr_t)closure) {
    case 0:
        return PyLong_FromLongLong(self->d.src_id);
    case 1:
        return PyLong_FromLong(self->d.n_meas);
    case 2:
        return datetime_scalar(self->d.first_ts);
    case 3:
        return datetime_scalar(self->d.last_ts);
    case 4:
        return PyFloat_FromDouble(self->d.span);
    case 5:
        return PyLong_FromLongLong(self->start);
    default:
        return PyMemoryView_FromMemory((char *)self->d.inner, (Py_ssize_t)self->d.inner_len,
                                       PyBUF_READ);
    }
}

static PyObject *row_to_arrow(row_obj *self, PyObject *noargs) {
    (void)noargs;
    PyObject *ipc = PyImport_ImportModule("pyarrow.ipc");
    if (!ipc) {
        if (PyErr_ExceptionMatches(PyExc_ImportError)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ImportError,
                            "ProbeRow.to_arrow() needs pyarrow, which is not installed "
                            "(pip install pyarrow); the numpy columns of ProbeRow need nothing");
        }
        return NULL;
    }
    PyObject *buf = row_get(self, (void *)(intptr_t)6);
    PyObject *reader = buf ? PyObject_CallMethod(ipc, "open_stream", "O", buf) : NULL;
    PyObject *table = reader ? PyObject_CallMethod(reader, "read_all", NULL) : NULL;
    PyObject *out = table && (self->start != 0 || self->len != self->d.rows)
                        ? PyObject_CallMethod(table, "slice", "LL", (long long)self->start,
                                              (long long)self->len)
                        : Py_XNewRef(table);
    Py_XDECREF(table);
    Py_XDECREF(reader);
    Py_XDECREF(buf);
    Py_DECREF(ipc);
    return out;
}

static Py_ssize_t row_len(row_obj *self) {
    return (Py_ssize_t)self->len;
}

static PyObject *row_repr(row_obj *self) {
    char span[32];
    snprintf(span, sizeof span, "%.3f", self->d.span);
    if (self->start == 0 && self->len == self->d.rows)
        return PyUnicode_FromFormat("<proberows.ProbeRow src_id=%lld: %lld measurements over %s s>",
                                    (long long)self->d.src_id, (long long)self->d.rows, span);
    return PyUnicode_FromFormat(
        "<proberows.ProbeRow src_id=%lld: window [%lld, %lld) of %lld measurements>",
        (long long)self->d.src_id, (long long)self->start, (long long)(self->start + self->len),
        (long long)self->d.rows);
}

static PyMethodDef row_methods[] = {
    {"window", (PyCFunction)row_window, METH_VARARGS,
     "window(start, length) -> ProbeRow: rows [start, start + length) of this row (clipped "
     "at its end; start in 0..len(row)), sharing its bytes: numeric columns are views."},
    {"nulls", (PyCFunction)row_nulls, METH_O,
     "nulls(name) -> numpy.ndarray[bool]: True where column `name` is null."},
    {"null_count", (PyCFunction)row_null_count, METH_O,
     "null_count(name) -> int: nulls of column `name` in the shown rows."},
    {"to_arrow", (PyCFunction)row_to_arrow, METH_NOARGS,
     "to_arrow() -> pyarrow.Table: the measurements (sliced to a window) read by pyarrow "
     "from the same bytes. ImportError when pyarrow is not installed."},
    {NULL, NULL, 0, NULL}};

#define COLUMN(c, doc)                                                                             \
    { col_names[c], (getter)get_column, NULL, doc, (void *)(intptr_t)c }
#define FIELD(name, k, doc)                                                                        \
    { name, (getter)row_get, NULL, doc, (void *)(intptr_t)k }
static PyGetSetDef row_getset[] = {
    FIELD("src_id", 0, "int: the probe's id (CONTRACT.md: hash of src_addr)."),
    FIELD("n_measurements", 1, "int: measurements of the whole row (the outer field)."),
    FIELD("first_timestamp", 2, "numpy.datetime64[us]: the row's first event_time."),
    FIELD("last_timestamp", 3, "numpy.datetime64[us]: the row's last event_time."),
    FIELD("time_span_seconds", 4, "float: last - first timestamp in seconds."),
    FIELD("start", 5, "int: first row of this window in the whole row (0 for a row)."),
    FIELD("measurements", 6, "memoryview: the inner Arrow IPC stream bytes (the whole row)."),
    COLUMN(COL_EVENT_TIME, "numpy.ndarray[datetime64[us]]: event times (NaT for nulls)."),
    COLUMN(COL_SRC_ADDR, "numpy.ndarray[str]: source addresses ('' for nulls)."),
    COLUMN(COL_DST_ADDR, "numpy.ndarray[str]: destination addresses ('' for nulls)."),
    COLUMN(COL_IP_VERSION, "numpy.ndarray[int8]: 4 or 6 (0 for nulls)."),
    COLUMN(COL_RTT, "numpy.ndarray[float32]: round-trip times in ms (NaN for nulls)."),
    {"rtt_null", (getter)get_rtt_null, NULL, "numpy.ndarray[bool]: True where rtt is null.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PySequenceMethods row_seq = {.sq_length = (lenfunc)row_len};

static PyTypeObject row_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "proberows.ProbeRow",
    .tp_basicsize = sizeof(row_obj),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One probe's row, made by decode_row(record) (or window()). len(row) is the "
              "number of measurements it shows. The columns event_time, src_addr, dst_addr, "
              "ip_version and rtt are read-only numpy arrays, built on first access; the "
              "record's bytes stay alive while the row or any of its arrays does.",
    .tp_dealloc = (destructor)row_dealloc,
    .tp_methods = row_methods,
    .tp_getset = row_getset,
    .tp_as_sequence = &row_seq,
    .tp_repr = (reprfunc)row_repr,
};

int prwpy_row_init(PyObject *m) {
    PyObject *spec = PyUnicode_FromString("M8[us]");
    if (!spec)
        return -1;
    int ok = PyArray_DescrConverter(spec, &g_dt_us);
    Py_DECREF(spec);
    if (!ok || PyType_Ready(&row_type) < 0)
        return -1;
    return PyModule_AddObjectRef(m, "ProbeRow", (PyObject *)&row_type);
}
