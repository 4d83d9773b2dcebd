"""ProbeRowDataSource: grain's random-access data source protocol over ArrayRecord files."""
import bisect
import glob
import hashlib
import operator
import os
import re
import threading

from . import _proberows


class RecordKeyError(IndexError, ValueError):
    """A record key outside [0, len(source)): an IndexError, and a ValueError as grain's."""


def _expand(paths):
    """A path, a glob or a list of paths -> the list of files (globs sorted, as grain's users
    sort them; a list keeps its order)."""
    if isinstance(paths, (str, os.PathLike)):
        p = os.fspath(paths)
        if glob.has_magic(re.sub(r"\[\d+:\d+\]$", "", p)):
            files = sorted(glob.glob(p, recursive=True))
            if not files:
                raise FileNotFoundError(f"ProbeRowDataSource: no file matches {p!r}")
            return files
        return [p]
    try:
        files = [os.fspath(p) for p in paths]
    except TypeError:
        raise ValueError("ProbeRowDataSource takes a path, a glob or a sequence of paths, "
                         f"not {type(paths).__name__}") from None
    if not files:
        raise ValueError("ProbeRowDataSource: the sequence of paths is empty")
    return files


def _instruction(path):
    """(file, start, end) of a path, honouring grain's 'file[start:end]' suffix."""
    m = re.fullmatch(r"(.*)\[(\d+):(\d+)\]", path)
    if m:
        return m.group(1), int(m.group(2)), int(m.group(3))
    with _proberows.ArrayRecordReader(path) as r:
        return path, 0, r.num_records()


class ProbeRowDataSource:
    """ProbeRowDataSource(paths, decode=False)

    grain's random-access data source over ArrayRecord files: ``len(ds)``, ``ds[key]``,
    ``ds.__getitems__(keys)`` (a batch, read in parallel in C), ``repr``, picklable (a worker
    reopens the files) and thread-safe. Keys run over the files in order, as in
    ``grain.ArrayRecordDataSource``.

    paths: a path, a glob (its matches sorted by name) or a sequence of paths; a path may end
    in ``[start:end]`` to take records start..end-1 of the file, as in grain.
    decode: False (default): items are the raw record bytes, a drop-in for
    ``grain.ArrayRecordDataSource``; True: items are ``ProbeRow`` objects (decode_row).
    """

    def __init__(self, paths, decode=False):
        self._instructions = [_instruction(p) for p in _expand(paths)]
        self._decode = bool(decode)
        self._init_state()

    def _init_state(self):
        ends, total = [], 0
        for _, start, end in self._instructions:
            if end < start:
                raise ValueError(f"ProbeRowDataSource: empty or reversed range {start}:{end}")
            total += end - start
            ends.append(total)
        self._ends = ends
        self._len = total
        self._readers = [None] * len(self._instructions)
        self._lock = threading.Lock()
        self._single = len(self._instructions) == 1 and self._instructions[0][1] == 0

    def _reader(self, k):
        r = self._readers[k]
        if r is None:
            with self._lock:
                r = self._readers[k]
                if r is None:
                    r = _proberows.ArrayRecordReader(self._instructions[k][0])
                    if r.num_records() < self._instructions[k][2]:
                        n = r.num_records()
                        r.close()
                        raise _proberows.CorruptError(
                            f"{self._instructions[k][0]} has {n} records, fewer than the "
                            f"{self._instructions[k][2]} it had when the source was made")
                    self._readers[k] = r
        return r

    def __len__(self):
        """Records over all the files."""
        return self._len

    def _check(self, key):
        key = operator.index(key)
        if key < 0 or key >= self._len:
            raise RecordKeyError(f"record key {key} is out of range: the source has "
                                 f"{self._len} records")
        return key

    def __getitem__(self, key):
        """The record (bytes, or a ProbeRow with decode=True) with global key `key`."""
        key = self._check(key)
        if self._single:
            rec = self._reader(0)[key]
        else:
            k = bisect.bisect_right(self._ends, key)
            first = self._ends[k - 1] if k else 0
            rec = self._reader(k)[key - first + self._instructions[k][1]]
        return _proberows.decode_row(rec) if self._decode else rec

    def __getitems__(self, keys):
        """The records of `keys` (a batch: one parallel read per file), in key order given."""
        keys = [operator.index(k) for k in keys]
        if keys and (min(keys) < 0 or max(keys) >= self._len):
            bad = next(k for k in keys if k < 0 or k >= self._len)
            self._check(bad)
        if not keys:
            return []
        if self._single:
            r = self._reader(0)
            return r.read_rows(keys) if self._decode else r.read(keys)
        return self._read_spread(keys)

    def _read_spread(self, keys):
        """Keys over several files: one batched read per file."""
        per_file = {}
        for slot, key in enumerate(keys):
            k = bisect.bisect_right(self._ends, key)
            first = self._ends[k - 1] if k else 0
            per_file.setdefault(k, ([], []))
            per_file[k][0].append(key - first + self._instructions[k][1])
            per_file[k][1].append(slot)
        out = [None] * len(keys)
        for k, (positions, slots) in per_file.items():
            r = self._reader(k)
            for slot, rec in zip(slots, r.read_rows(positions) if self._decode else
                                 r.read(positions)):
                out[slot] = rec
        return out

    def __iter__(self):
        """Every record in key order."""
        for key in range(self._len):
            yield self[key]

    def close(self):
        """Closes the open readers (they reopen on the next read)."""
        with self._lock:
            readers, self._readers = self._readers, [None] * len(self._instructions)
        for r in readers:
            if r is not None:
                r.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __getstate__(self):
        """The files and ranges only: a worker reopens the files it reads."""
        return {"instructions": self._instructions, "decode": self._decode}

    def __setstate__(self, state):
        self._instructions = [tuple(i) for i in state["instructions"]]
        self._decode = state["decode"]
        self._init_state()

    @property
    def paths(self):
        """The files, in key order."""
        return [i[0] for i in self._instructions]

    def __repr__(self):
        h = hashlib.sha1()
        for path, start, end in self._instructions:
            h.update(f"{path}[{start}:{end}]".encode())
        return (f"ProbeRowDataSource(hash_of_paths={h.hexdigest()}, files="
                f"{len(self._instructions)}, records={self._len}, decode={self._decode})")
