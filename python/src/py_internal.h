/*
 * Internals of the proberows CPython extension (python/src): the module's exception types and
 * the entry points each file registers. Built over the public API in include/proberows/ only.
 */
#ifndef PRW_PY_INTERNAL_H
#define PRW_PY_INTERNAL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "proberows/proberows.h"

/** proberows.Error and its subclasses, created by the module init (py_module.c). */
extern PyObject *prwpy_error_base;

/**
 * Raises the proberows.Error subclass of `st` with err's message; the exception carries
 * `status` (the int), `status_name`, `offset` (-1 if none) and `errno`. `prefix` (may be NULL)
 * goes before the message, e.g. the file name. Returns NULL, for `return prwpy_raise(...)`.
 */
PyObject *prwpy_raise(prw_status st, const prw_error *err, const char *prefix);

/** Adds ArrayRecordReader and ArrayRecordWriter (py_reader.c); -1 on error. */
int prwpy_reader_init(PyObject *module);

/** Adds ProbeRow and decode_row (py_row.c); -1 on error. */
int prwpy_row_init(PyObject *module);

/** The decode_row function (py_row.c). */
PyObject *prwpy_decode_row(PyObject *self, PyObject *record);

/** The _build function behind proberows.build (py_build.c). */
PyObject *prwpy_build(PyObject *self, PyObject *args, PyObject *kwargs);

#endif
