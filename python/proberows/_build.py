"""proberows.build: the options of `proberows build`, checked as the CLI checks them."""
import json
import os
import re
import sys

from . import _proberows

_COLUMNS = ("event_time", "src_addr", "dst_addr", "ip_version", "rtt")
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([kKmMgGtT]?)[bB]?\s*$")


def _bad(msg):
    return _proberows.InvalidArgumentError(msg)


def _size(name, v):
    """Bytes from an int or a string like '512M' / '2G' (powers of 1024, as the CLI)."""
    if isinstance(v, bool):
        raise _bad(f"{name} takes a size like 512M or 2G, got {v!r}")
    if isinstance(v, int):
        if v <= 0:
            raise _bad(f"{name} must be positive, got {v}")
        return v
    m = _SIZE.match(str(v))
    if not m:
        raise _bad(f"{name} takes a size like 512M or 2G, got {v!r}")
    mult = 1024 ** " KMGT".index(m.group(2).upper() or " ")
    n = int(float(m.group(1)) * mult)
    if n <= 0:
        raise _bad(f"{name} must be positive, got {v!r}")
    return n


def _columns(column):
    """--column NAME=SOURCE, as a dict {name: source} or a list of 'NAME=SOURCE' strings."""
    if column is None:
        return None
    pairs = column.items() if isinstance(column, dict) else [
        tuple(s.split("=", 1)) if isinstance(s, str) and "=" in s else (s, None) for s in column]
    out = [None] * len(_COLUMNS)
    for name, source in pairs:
        if name not in _COLUMNS:
            raise _bad(f"column: unknown column {name!r} (one of {', '.join(_COLUMNS)})")
        if not source or not isinstance(source, str):
            raise _bad(f"column takes NAME=SOURCE, got {name!r}")
        out[_COLUMNS.index(name)] = source
    return tuple(out)


def _number(name, v, lo, hi, kind=float):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (lo <= v <= hi):
        raise _bad(f"{name} takes {lo}..{hi}, got {v!r}")
    if kind is int and int(v) != v:
        raise _bad(f"{name} takes an integer, got {v!r}")
    return kind(v)


def _typed(inputs, output, o):
    """Checks the keyword options; returns the keywords of _proberows._build."""
    kw = {}
    if "workers" in o:
        kw["workers"] = _number("workers", o.pop("workers"), 1, 1024, int)
    if "max_row_size_mb" in o:
        mb = _number("max_row_size_mb", o.pop("max_row_size_mb"), 0.001, 2047)
        kw["max_row_size"] = int(mb * 1024 * 1024)
    if "train_ratio" in o:
        kw["train_ratio"] = _number("train_ratio", o.pop("train_ratio"), 0, 1)
    for name, choices in (("split", ("ratio", "hash")), ("null_rtt", ("keep", "drop", "failed")),
                          ("rtt", ("avg", "min", "max")), ("src_addr", ("src_addr", "from"))):
        if name in o:
            v = o.pop(name)
            if v not in choices:
                raise _bad(f"{name} takes {' or '.join(choices)}, got {v!r}")
            kw[name] = choices.index(v)
    if "column" in o:
        kw["columns"] = _columns(o.pop("column"))
    for name in ("ar_options", "plan", "temp_dir"):
        if name in o:
            v = o.pop(name)
            if v is not None and not isinstance(v, (str, os.PathLike)):
                raise _bad(f"{name} takes a string, got {v!r}")
            kw[name] = None if v is None else os.fspath(v)
    if "shards" in o:
        kw["shards"] = _number("shards", o.pop("shards"), 1, 99999, int)
    if "memory_limit" in o and "memory_limit_gb" in o:
        raise _bad("give memory_limit or memory_limit_gb, not both")
    if "memory_limit" in o:
        kw["memory_limit"] = _size("memory_limit", o.pop("memory_limit"))
    if "memory_limit_gb" in o:
        gb = o.pop("memory_limit_gb")
        if isinstance(gb, bool) or not isinstance(gb, (int, float)) or gb <= 0:
            raise _bad(f"memory_limit_gb takes a positive number, got {gb!r}")
        kw["memory_limit"] = int(gb * 1024 ** 3)
    kw["quiet"] = bool(o.pop("quiet", True))
    if "strict" in o:
        v = o.pop("strict")
        if not isinstance(v, bool):
            raise _bad(f"strict takes True or False, got {v!r}")
        kw["strict"] = v
    if o:
        raise TypeError(f"build() got unknown options: {', '.join(sorted(o))} (the CLI's long "
                        "flags with '_': workers, max_row_size_mb, train_ratio, split, null_rtt, "
                        "column, ar_options, shards, plan, temp_dir, memory_limit, "
                        "memory_limit_gb, strict, rtt, src_addr, quiet)")
    return kw


def build(input, output, **options):
    """Runs ``proberows build`` on ``input`` into the folder ``output``; returns the manifest.

    input: a glob or a list of globs of Parquet files or RIPE Atlas dumps (``*``, ``?``,
    ``[..]``, ``**``; told apart by content); may be empty with ``plan=``. Options are the
    CLI's long flags with ``_``: ``workers``, ``max_row_size_mb``, ``train_ratio``, ``split``
    ('ratio'|'hash'), ``null_rtt`` ('keep'|'drop'|'failed'), ``column`` ({'rtt': 'avg'} or
    ['rtt=avg']), ``ar_options``, ``shards``, ``plan``, ``temp_dir``, ``memory_limit`` (bytes
    or '2G'), ``memory_limit_gb``, ``strict`` (bool), for dumps ``rtt`` ('avg'|'min'|'max')
    and ``src_addr`` ('src_addr'|'from'), and ``quiet`` (default True: no progress on stderr).

    The build runs in a child process with the GIL released. KeyboardInterrupt (Ctrl-C)
    cancels it: the staged output and run files are removed, no new file appears in
    ``output``, and the KeyboardInterrupt propagates. Errors raise proberows.Error
    subclasses whose message names the file, column, row group and byte offset.

    Returns the parsed ``output/manifest.json`` (inputs, options, rows read and written,
    dropped rows by reason, per-split probes/records/measurements/bytes, seconds), plus
    ``peak_rss_bytes`` of the build process.
    """
    inputs = [input] if isinstance(input, (str, os.PathLike)) else list(input or [])
    inputs = [os.fspath(i) for i in inputs]
    if not inputs and "plan" not in options:
        raise _bad("build: no input given")
    output = os.fspath(output)
    kw = _typed(inputs, output, dict(options))
    cmd = ["proberows.build(" + repr(inputs if len(inputs) != 1 else inputs[0]), repr(output)]
    cmd += [f"{k}={v!r}" for k, v in sorted(options.items())]
    kw["command_line"] = ", ".join(cmd) + ")"
    sys.stdout.flush()
    peak = _proberows._build(inputs, output, **kw)
    with open(os.path.join(output, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    manifest["peak_rss_bytes"] = peak
    return manifest
