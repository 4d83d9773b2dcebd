/*
 * proberows.ArrayRecordWriter: write(bytes) and close() of Google's
 * array_record_module.ArrayRecordWriter, over the C writer (compression on its thread pool).
 */
#include "proberows/arrayrecord.h"
#include "py_internal.h"

typedef struct writer_obj {
    PyObject_HEAD prw_ar_writer *w;
    PyObject *path;
    bool busy; /* a write or close runs with the GIL released */
} writer_obj;

static int writer_init(writer_obj *self, PyObject *args, PyObject *kw) {
    static char *names[] = {"path", "options", NULL};
    PyObject *path;
    const char *opts = "";
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|s:ArrayRecordWriter", names,
                                     PyUnicode_FSConverter, &path, &opts))
        return -1;
    if (self->w) {
        Py_DECREF(path);
        PyErr_SetString(PyExc_RuntimeError, "ArrayRecordWriter.__init__ called twice");
        return -1;
    }
    prw_error err;
    prw_error_clear(&err);
    prw_status st;
    prw_ar_writer *w = NULL;
    Py_BEGIN_ALLOW_THREADS st = prw_ar_writer_open(&w, PyBytes_AS_STRING(path), opts, &err);
    Py_END_ALLOW_THREADS if (st < 0) {
        prwpy_raise_in_file(path, st, &err);
        Py_DECREF(path);
        return -1;
    }
    self->w = w;
    Py_XSETREF(self->path, path);
    return 0;
}

static void writer_dealloc(writer_obj *self) {
    prw_ar_writer_abort(self->w); /* never closed: no file appears */
    Py_CLEAR(self->path);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int writer_usable(writer_obj *self) {
    if (!self->w) {
        PyErr_SetString(PyExc_ValueError, "I/O operation on a closed ArrayRecordWriter");
        return -1;
    }
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "ArrayRecordWriter used from two threads at once");
        return -1;
    }
    return 0;
}

static PyObject *writer_write(writer_obj *self, PyObject *arg) {
    if (writer_usable(self) < 0)
        return NULL;
    if (!PyBytes_Check(arg))
        return PyErr_Format(PyExc_TypeError, "write() takes bytes, not %.100s",
                            Py_TYPE(arg)->tp_name);
    prw_error err;
    prw_error_clear(&err);
    prw_status st = prw_ar_writer_add_record(self->w, PyBytes_AS_STRING(arg),
                                             (size_t)PyBytes_GET_SIZE(arg), &err);
    if (st < 0)
        return prwpy_raise(st, &err, NULL);
    Py_RETURN_NONE;
}

static PyObject *writer_close(writer_obj *self, PyObject *noargs) {
    (void)noargs;
    if (!self->w)
        Py_RETURN_NONE;
    if (writer_usable(self) < 0)
        return NULL;
    prw_error err;
    prw_error_clear(&err);
    prw_status st;
    prw_ar_writer *w = self->w;
    self->busy = true;
    Py_BEGIN_ALLOW_THREADS st = prw_ar_writer_close(w, &err);
    Py_END_ALLOW_THREADS self->busy = false;
    self->w = NULL;
    if (st < 0)
        return prwpy_raise(st, &err, NULL);
    Py_RETURN_NONE;
}

static PyObject *writer_is_open(writer_obj *self, PyObject *noargs) {
    (void)noargs;
    return PyBool_FromLong(self->w != NULL);
}

static PyObject *writer_enter(writer_obj *self, PyObject *noargs) {
    (void)noargs;
    if (writer_usable(self) < 0)
        return NULL;
    Py_INCREF(self);
    return (PyObject *)self;
}

static PyObject *writer_exit(writer_obj *self, PyObject *args) {
    PyObject *type = PyTuple_GET_SIZE(args) > 0 ? PyTuple_GET_ITEM(args, 0) : Py_None;
    if (type != Py_None && self->w && !self->busy) {
        prw_ar_writer_abort(self->w); /* an exception: leave no file behind */
        self->w = NULL;
        Py_RETURN_NONE;
    }
    return writer_close(self, NULL);
}

static PyObject *writer_num_records(writer_obj *self, PyObject *noargs) {
    (void)noargs;
    if (writer_usable(self) < 0)
        return NULL;
    return PyLong_FromUnsignedLongLong(prw_ar_writer_num_records(self->w));
}

static PyMethodDef writer_methods[] = {
    {"write", (PyCFunction)writer_write, METH_O,
     "write(record: bytes): appends one record (only bytes, as Google's writer)."},
    {"close", (PyCFunction)writer_close, METH_NOARGS,
     "close(): writes the footer and moves the file onto its name (until then it is a "
     "temporary beside it). A writer never closed leaves no file."},
    {"is_open", (PyCFunction)writer_is_open, METH_NOARGS, "is_open() -> bool"},
    {"ok", (PyCFunction)writer_is_open, METH_NOARGS, "ok() -> bool"},
    {"num_records", (PyCFunction)writer_num_records, METH_NOARGS,
     "num_records() -> int: records written so far."},
    {"__enter__", (PyCFunction)writer_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)writer_exit, METH_VARARGS,
     "Closes the writer; on an exception, aborts it (no file)."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject writer_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "proberows.ArrayRecordWriter",
    .tp_basicsize = sizeof(writer_obj),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "ArrayRecordWriter(path, options='')\n\nWrites an ArrayRecord file readable by "
              "Google's array_record. options: Google's writer grammar, e.g. "
              "'group_size:1,zstd:3' (the default), 'uncompressed', 'brotli:6', 'snappy'. "
              "Chunks are compressed on a thread pool. One thread writes at a time.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)writer_init,
    .tp_dealloc = (destructor)writer_dealloc,
    .tp_methods = writer_methods,
};

int prwpy_writer_init(PyObject *m) {
    if (PyType_Ready(&writer_type) < 0)
        return -1;
    return PyModule_AddObjectRef(m, "ArrayRecordWriter", (PyObject *)&writer_type);
}
