"""proberows: read and build proberows' output from Python, without pyarrow.

proberows turns ping measurements (Parquet) into one row per probe: an Arrow IPC stream per
record, in ArrayRecord files (Google's format). This package is a CPython extension over the
C library:

- ``build(input, output, **options)`` runs the job of ``proberows build`` (GIL released,
  Ctrl-C cancels with no partial output) and returns the manifest as a dict.
- ``ArrayRecordReader`` / ``ArrayRecordWriter``: the methods of Google's
  ``array_record_module`` (``read()``, ``read([i, ...])``, ``read(begin, end)``,
  ``num_records()``, ``writer_options_string()``, ``close()``), thread-safe, batched reads in
  parallel in C.
- ``ProbeRowDataSource(paths, decode=False)``: grain's random-access data source protocol,
  a drop-in for ``grain.ArrayRecordDataSource``.
- ``decode_row(record) -> ProbeRow``: the row's fields and its measurements as numpy arrays.

Errors are ``proberows.Error`` subclasses carrying ``status``, ``status_name`` and
``offset``.

Example::

    import proberows
    summary = proberows.build("pings/*.parquet", "out")
    ds = proberows.ProbeRowDataSource("out/train.arrayrecord*", decode=True)
    row = ds[0]
    print(row.src_id, len(row), row.event_time[:3], row.rtt.mean())
"""
from ._proberows import (
    ArrayRecordReader,
    ArrayRecordWriter,
    ChecksumError,
    CodecError,
    CorruptError,
    Error,
    FileError,
    InvalidArgumentError,
    LimitError,
    OutOfMemoryError,
    ProbeRow,
    TruncatedError,
    UnsupportedError,
    __version__,
    decode_row,
)
from ._build import build
from ._datasource import ProbeRowDataSource, RecordKeyError

__all__ = [
    "ArrayRecordReader",
    "ArrayRecordWriter",
    "ChecksumError",
    "CodecError",
    "CorruptError",
    "Error",
    "FileError",
    "InvalidArgumentError",
    "LimitError",
    "OutOfMemoryError",
    "ProbeRow",
    "ProbeRowDataSource",
    "RecordKeyError",
    "TruncatedError",
    "UnsupportedError",
    "build",
    "decode_row",
]
