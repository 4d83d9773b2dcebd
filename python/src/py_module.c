/*
 * The proberows._proberows extension module: exception types (one per prw_status), the module
 * table and its init. The Python package (proberows/__init__.py) re-exports everything.
 */
#include "py_internal.h"

#include <string.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL prwpy_ARRAY_API
#include <numpy/arrayobject.h>

PyObject *prwpy_error_base;

/* One exception class per error status, in the order of the codes -1 .. -9. */
typedef struct error_kind {
    prw_status st;
    const char *name; /* attribute name in the module */
    PyObject *extra;  /* second base class or NULL (set at init) */
    const char *doc;
    PyObject *type;
} error_kind;

static error_kind g_kinds[] = {
    {PRW_E_INVALID, "InvalidArgumentError", NULL, "A bad argument or option (also a ValueError).",
     NULL},
    {PRW_E_NOMEM, "OutOfMemoryError", NULL, "An allocation failed (also a MemoryError).", NULL},
    {PRW_E_IO, "FileError", NULL,
     "The operating system reported an error on a file (also an OSError).", NULL},
    {PRW_E_TRUNCATED, "TruncatedError", NULL, "Input ends before a structure it announces.", NULL},
    {PRW_E_CORRUPT, "CorruptError", NULL, "Input bytes violate the format.", NULL},
    {PRW_E_CHECKSUM, "ChecksumError", NULL, "A stored checksum or hash does not match the bytes.",
     NULL},
    {PRW_E_UNSUPPORTED, "UnsupportedError", NULL, "A valid feature proberows does not implement.",
     NULL},
    {PRW_E_CODEC, "CodecError", NULL, "A compression library failed on the bytes.", NULL},
    {PRW_E_LIMIT, "LimitError", NULL, "A size or count exceeds a limit of proberows.", NULL},
};
#define N_KINDS (sizeof g_kinds / sizeof g_kinds[0])

static PyObject *kind_type(prw_status st) {
    for (size_t i = 0; i < N_KINDS; i++)
        if (g_kinds[i].st == st)
            return g_kinds[i].type;
    return prwpy_error_base;
}

static int set_attr_long(PyObject *o, const char *name, long long v) {
    PyObject *x = PyLong_FromLongLong(v);
    int rc = x ? PyObject_SetAttrString(o, name, x) : -1;
    Py_XDECREF(x);
    return rc;
}

PyObject *prwpy_raise(prw_status st, const prw_error *err, const char *prefix) {
    const char *msg = err && err->msg[0] ? err->msg : prw_strerror(st);
    PyObject *type = kind_type(st);
    PyObject *exc = PyObject_CallFunction(type, "s", msg);
    if (prefix && exc) {
        Py_DECREF(exc);
        exc = PyObject_CallFunction(type, "N", PyUnicode_FromFormat("%s%s", prefix, msg));
    }
    if (!exc)
        return NULL;
    PyObject *name = PyUnicode_FromString(prw_strerror(st));
    if (!name || set_attr_long(exc, "status", st) < 0 ||
        PyObject_SetAttrString(exc, "status_name", name) < 0 ||
        set_attr_long(exc, "offset", err ? err->offset : -1) < 0 ||
        set_attr_long(exc, "sys_errno", err ? err->sys_errno : 0) < 0) {
        Py_XDECREF(name);
        Py_DECREF(exc);
        return NULL;
    }
    Py_DECREF(name);
    PyErr_SetObject(type, exc);
    Py_DECREF(exc);
    return NULL;
}

PyObject *prwpy_raise_in_file(PyObject *path, prw_status st, const prw_error *err) {
    const char *p = path ? PyBytes_AS_STRING(path) : NULL;
    char prefix[1100];
    if (p && !strstr(err->msg, p) && strlen(p) < 1024)
        snprintf(prefix, sizeof prefix, "%s: ", p);
    else
        prefix[0] = '\0';
    return prwpy_raise(st, err, prefix[0] ? prefix : NULL);
}

static int add_errors(PyObject *m) {
    prwpy_error_base = PyErr_NewExceptionWithDoc(
        "proberows.Error",
        "Base of every proberows error. Attributes: status (the library's status code, "
        "negative), status_name (e.g. 'corrupt input'), offset (the byte offset in the input "
        "the problem was found at, or -1) and sys_errno (for file errors). str(e) names the "
        "file, column and offset where the library knows them.",
        PyExc_Exception, NULL);
    if (!prwpy_error_base || PyModule_AddObjectRef(m, "Error", prwpy_error_base) < 0)
        return -1;
    for (size_t i = 0; i < N_KINDS; i++) {
        error_kind *k = &g_kinds[i];
        PyObject *extra = k->st == PRW_E_INVALID ? PyExc_ValueError
                          : k->st == PRW_E_NOMEM ? PyExc_MemoryError
                          : k->st == PRW_E_IO    ? PyExc_OSError
                                                 : NULL;
        PyObject *bases =
            extra ? PyTuple_Pack(2, prwpy_error_base, extra) : PyTuple_Pack(1, prwpy_error_base);
        if (!bases)
            return -1;
        char full[64];
        snprintf(full, sizeof full, "proberows.%s", k->name);
        k->type = PyErr_NewExceptionWithDoc(full, k->doc, bases, NULL);
        Py_DECREF(bases);
        if (!k->type || PyModule_AddObjectRef(m, k->name, k->type) < 0)
            return -1;
    }
    return 0;
}

static PyMethodDef module_methods[] = {
    {"decode_row", prwpy_decode_row, METH_O,
     "decode_row(record) -> ProbeRow\n\nDecodes one output record (the outer Arrow IPC stream "
     "of CONTRACT.md section 4: bytes, or any buffer) without pyarrow. The columns are numpy "
     "arrays over the record's bytes where the layout allows. Raises CorruptError, "
     "TruncatedError or UnsupportedError (with the byte offset) for a bad record."},
    {"_build", (PyCFunction)(void (*)(void))prwpy_build, METH_VARARGS | METH_KEYWORDS,
     "_build(inputs, output, **typed_options) -> None: the C call behind proberows.build."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "proberows._proberows",
    "The C core of the proberows package; use the proberows package instead.", -1, module_methods};

PyMODINIT_FUNC PyInit__proberows(void);

PyMODINIT_FUNC PyInit__proberows(void) {
    import_array();
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    if (add_errors(m) < 0 || prwpy_reader_init(m) < 0 || prwpy_writer_init(m) < 0 ||
        prwpy_row_init(m) < 0 ||
        PyModule_AddStringConstant(m, "__version__", PRW_VERSION_STRING) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
