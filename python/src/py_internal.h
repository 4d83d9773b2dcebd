/*
 * Internals of the proberows CPython extension (python/src): the module's exception types and
 * the entry points each file registers. Built over the public API in include/proberows/ only.
 */
#ifndef PRW_PY_INTERNAL_H
#define PRW_PY_INTERNAL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "proberows/arrow_ipc.h"
#include "proberows/proberows.h"

/** proberows.Error and its subclasses, created by the module init (py_module.c). */
extern PyObject *prwpy_error_base;

/**
 * Raises the proberows.Error subclass of `st` with err's message; the exception carries
 * `status` (the int), `status_name`, `offset` (-1 if none) and `errno`. `prefix` (may be NULL)
 * goes before the message, e.g. the file name. Returns NULL, for `return prwpy_raise(...)`.
 */
PyObject *prwpy_raise(prw_status st, const prw_error *err, const char *prefix);

/** Adds ArrayRecordReader (py_reader.c); -1 on error. */
int prwpy_reader_init(PyObject *module);

/** Adds ArrayRecordWriter (py_writer.c); -1 on error. */
int prwpy_writer_init(PyObject *module);

/**
 * Raises a reader or writer error, its message prefixed by the file's path (bytes, from
 * PyUnicode_FSConverter) unless the message names it. Returns NULL.
 */
PyObject *prwpy_raise_in_file(PyObject *path, prw_status st, const prw_error *err);

/** Adds ProbeRow and decode_row (py_row.c); -1 on error. */
int prwpy_row_init(PyObject *module);

/** One record's decoded fields, pointers into the bytes it was parsed from (py_row.c). */
typedef struct prwpy_row_data {
    int64_t src_id, first_ts, last_ts;
    int32_t n_meas;
    double span;
    const uint8_t *inner; /* the measurements stream, inside the record */
    size_t inner_len;
    prw_ipc_array col[5]; /* event_time, src_addr, dst_addr, ip_version, rtt: every row */
    int64_t rows;         /* inner rows */
} prwpy_row_data;

/**
 * Parses record p[0..n) as decode_row does, without Python (any thread, no GIL). On error
 * *where names the stream and err->offset is a byte of the record (or -1).
 */
prw_status prwpy_row_parse(const uint8_t *p, size_t n, prwpy_row_data *d, const char **where,
                           prw_error *err);

/** Raises a prwpy_row_parse error as decode_row does; returns NULL. */
PyObject *prwpy_row_raise(prw_status st, const prw_error *err, const char *where);

/**
 * A ProbeRow over `record` (bytes or any buffer with the same bytes) from `d`, which was
 * parsed from a copy at `parsed_at`: its pointers are moved onto the record's buffer.
 */
PyObject *prwpy_row_wrap(PyObject *record, const prwpy_row_data *d, const uint8_t *parsed_at);

/** The decode_row function (py_row.c). */
PyObject *prwpy_decode_row(PyObject *self, PyObject *record);

/** The _build function behind proberows.build (py_build.c). */
PyObject *prwpy_build(PyObject *self, PyObject *args, PyObject *kwargs);

#endif
