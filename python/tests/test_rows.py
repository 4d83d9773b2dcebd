"""decode_row / ProbeRow against `proberows ipc cat --outer` and apache-arrow's decoding."""
import json
import math
import os
import random
import shutil
import subprocess

import numpy as np
import pytest

import proberows
from conftest import CLI, ROOT, shared


def records(path):
    with proberows.ArrayRecordReader(path) as r:
        return r.read_all() if r.num_records() else []


def test_build_matches_cli(sample_build):
    out, manifest, cli_out = sample_build
    if cli_out is None:
        pytest.skip("the CLI is not built")
    assert manifest["rows_read"] == 20000 and manifest["rows_written"] == 20000
    assert manifest["splits"]["train"]["records"] + manifest["splits"]["test"]["records"] == 400
    for split in ("train", "test"):
        assert records(str(out / f"{split}.arrayrecord")) == records(
            str(cli_out / f"{split}.arrayrecord"))


def ipc_cat(record, tmp_path):
    p = tmp_path / "rec.arrows"
    p.write_bytes(record)
    out = subprocess.run([CLI, "ipc", "cat", "--outer", str(p)], check=True,
                         capture_output=True, text=True).stdout.splitlines()
    outer = json.loads(out[1])
    inner = [json.loads(line) for line in out[2:] if line.startswith("  [")]
    return outer, inner


def check_against_cat(row, outer, inner):
    assert row.src_id == outer[0]
    assert row.n_measurements == outer[2] == len(row) == len(inner)
    assert row.time_span_seconds == outer[3]
    assert row.first_timestamp.astype("int64") == outer[4]
    assert row.last_timestamp.astype("int64") == outer[5]
    assert row.event_time.dtype == np.dtype("datetime64[us]")
    assert row.ip_version.dtype == np.int8 and row.rtt.dtype == np.float32
    assert [int(t) for t in row.event_time.astype("int64")] == [x[0] for x in inner]
    assert list(row.src_addr) == [x[1] or "" for x in inner]
    assert list(row.dst_addr) == [x[2] or "" for x in inner]
    assert [int(v) for v in row.ip_version] == [x[3] or 0 for x in inner]
    for got, null, want in zip(row.rtt, row.rtt_null, inner):
        if want[4] is None:
            assert null and math.isnan(got)
        else:
            assert not null and got == np.float32(want[4])


def test_decode_equals_ipc_cat(sample_build, tmp_path):
    out, _, _ = sample_build
    if not os.access(CLI, os.X_OK):
        pytest.skip("the CLI is not built")
    recs = records(str(out / "test.arrayrecord")) + records(str(out / "train.arrayrecord"))[:30]
    for rec in recs:
        check_against_cat(proberows.decode_row(rec), *ipc_cat(rec, tmp_path))


def test_decode_shared_outer_streams(tmp_path):
    d = shared("testdata", "arrow")
    if not os.access(CLI, os.X_OK):
        pytest.skip("the CLI is not built")
    names = sorted(f for f in os.listdir(d) if f.startswith("outer_") and f.endswith(".arrows"))
    assert "outer_three_null_rtt.arrows" in names
    for name in names:
        rec = open(os.path.join(d, name), "rb").read()
        row = proberows.decode_row(rec)
        check_against_cat(row, *ipc_cat(rec, tmp_path))
    row = proberows.decode_row(open(os.path.join(d, "outer_three_null_rtt.arrows"), "rb").read())
    assert row.null_count("rtt") == 1 and list(row.rtt_null) == [False, True, False]
    assert list(row.nulls("rtt")) == list(row.rtt_null)


def js_number(x):
    """String(x) of JavaScript for a float32 widened to double."""
    x = float(x)
    if x == int(x) and abs(x) < 1e21:
        return str(int(x))
    s = repr(x)
    if "e" in s:
        mant, exp = s.split("e")
        s = f"{mant}e{'+' if int(exp) > 0 else '-'}{abs(int(exp))}"
    return s


def probe_lines(rows, split):
    """decode_rows.mjs's summary lines from ProbeRows (pieces of a probe in record order)."""
    out, cur = [], None
    for row in rows:
        t = row.event_time.astype("int64")
        for i in range(len(row)):
            s = row.src_addr[i]
            r = "" if row.rtt_null[i] else js_number(row.rtt[i])
            v = "" if row.nulls("ip_version")[i] else str(int(row.ip_version[i]))
            d = "" if row.nulls("dst_addr")[i] else row.dst_addr[i]
            line = f"{int(t[i])},{s},{d},{v},{r}\n".encode()
            if cur is None or cur[0] != s:
                if cur:
                    out.append(cur)
                cur = [s, 0, int(t[i]), int(t[i]), 0xCBF29CE484222325]
            for b in line:
                cur[4] = ((cur[4] ^ b) * 0x100000001B3) & (2**64 - 1)
            cur[1] += 1
            cur[3] = int(t[i])
    if cur:
        out.append(cur)
    return [f"{s}\t{n}\t{f}\t{l}\t{h:016x}\t{split}" for s, n, f, l, h in out]


def test_decode_equals_apache_arrow(sample_build):
    out, _, _ = sample_build
    script = os.path.join(ROOT, "..", "shared", "bench", "decode_rows.mjs")
    modules = os.path.join(ROOT, "tools", "node_modules")
    if not shutil.which("node") or not os.path.isdir(os.path.join(modules, "apache-arrow")):
        pytest.skip("node or tools/node_modules (apache-arrow) is missing")
    shared("bench", "decode_rows.mjs")
    for split in ("train", "test"):
        recs = records(str(out / f"{split}.arrayrecord"))
        framed = b"".join(len(r).to_bytes(4, "little") + r for r in recs)
        env = dict(os.environ, NODE_PATH=modules)
        got = subprocess.run(["node", script, split], input=framed, capture_output=True,
                             check=True, env=env).stdout.decode().splitlines()
        assert got == probe_lines([proberows.decode_row(r) for r in recs], split)


def test_window_views(sample_build):
    out, _, _ = sample_build
    rec = max(records(str(out / "train.arrayrecord")), key=len)
    row = proberows.decode_row(rec)
    n = len(row)
    assert n > 40
    w = row.window(5, 34)
    assert len(w) == 34 and w.start == 5 and w.src_id == row.src_id
    for name in ("event_time", "ip_version", "rtt"):
        full, part = getattr(row, name), getattr(w, name)
        if row.null_count(name) == 0:
            assert np.shares_memory(full, part)
        assert np.array_equal(part, full[5:39], equal_nan=name == "rtt")
        assert not part.flags.writeable
    assert list(w.dst_addr) == list(row.dst_addr[5:39])
    assert len(row.window(n - 3, 34)) == 3 and len(row.window(n, 34)) == 0
    ww = w.window(1, 2)
    assert ww.start == 6 and np.array_equal(ww.rtt, row.rtt[6:8], equal_nan=True)
    with pytest.raises(IndexError):
        row.window(n + 1, 1)
    with pytest.raises(IndexError):
        row.window(-1, 1)
    del row, w  # arrays keep the bytes alive
    assert ww.event_time.shape == (2,)


def test_to_arrow(sample_build):
    out, _, _ = sample_build
    row = proberows.decode_row(records(str(out / "test.arrayrecord"))[0])
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pyarrow"):
            row.to_arrow()
        return
    t = row.to_arrow()
    assert t.num_rows == len(row)
    assert t.column("rtt").to_pylist()[:3] == [None if m else float(v) for v, m in
                                               zip(row.rtt[:3], row.rtt_null[:3])]
    assert row.window(1, 2).to_arrow().num_rows == 2


def test_bad_records_raise_never_crash(sample_build):
    out, _, _ = sample_build
    rec = records(str(out / "test.arrayrecord"))[0]
    with pytest.raises(TypeError):
        proberows.decode_row(12)
    with pytest.raises(proberows.Error):
        proberows.decode_row(b"")
    for cut in (8, 100, 951, len(rec) - 9):
        with pytest.raises(proberows.Error) as e:
            proberows.decode_row(rec[:cut])
        assert "decode_row" in str(e.value)
    rng = random.Random(19)
    raised = 0
    for _ in range(3000):
        b = bytearray(rec)
        for _ in range(rng.randrange(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        try:
            row = proberows.decode_row(bytes(b))
        except proberows.Error as e:
            assert e.status < 0
            raised += 1
            continue
        for name in ("event_time", "src_addr", "dst_addr", "ip_version", "rtt", "rtt_null"):
            assert len(getattr(row, name)) == len(row)
        row.window(0, 5).dst_addr
    assert raised > 0
    assert proberows.decode_row(memoryview(rec)).src_id == proberows.decode_row(rec).src_id


def test_read_rows_equals_decode_row(sample_build):
    out, _, _ = sample_build
    path = str(out / "train.arrayrecord")
    r = proberows.ArrayRecordReader(path, "max_parallelism:2")
    keys = [random.Random(5).randrange(len(r)) for _ in range(1500)]
    rows = r.read_rows(keys)
    raw = r.read(keys)
    for row, rec in zip(rows, raw):
        want = proberows.decode_row(rec)
        assert (row.src_id, len(row), row.time_span_seconds) == (want.src_id, len(want),
                                                                 want.time_span_seconds)
        assert np.array_equal(row.event_time, want.event_time)
        assert np.array_equal(row.rtt, want.rtt, equal_nan=True)
        assert list(row.dst_addr) == list(want.dst_addr)
        assert bytes(row.measurements) == bytes(want.measurements)
    assert r.read_rows([]) == []
    with pytest.raises(IndexError):
        r.read_rows([len(r)])


def test_read_rows_bad_record(tmp_path):
    p = str(tmp_path / "bad.array_record")
    with proberows.ArrayRecordWriter(p) as w:
        for i in range(600):
            w.write(b"not an arrow stream %d" % i if i == 450 else b"")
    r = proberows.ArrayRecordReader(p)
    with pytest.raises(proberows.Error, match="decode_row"):
        r.read_rows(list(range(600)))
