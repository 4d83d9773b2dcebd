"""ArrayRecordReader / ArrayRecordWriter: Google's files, round trips, threads, bad input."""
import concurrent.futures
import hashlib
import os
import random
import threading

import pytest

import proberows
from conftest import shared


def golden_cases():
    path = shared("testdata", "arrayrecord", "golden", "cases.tsv")
    with open(path) as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    return [r[0] for r in rows if r and r[0]]


def expected(records_txt):
    with open(records_txt) as f:
        head = f.readline().split()
        assert head[0] == "records"
        rows = [line.split() for line in f if line.strip()]
    assert len(rows) == int(head[1])
    return [(int(n), h) for _, n, h in rows]


def check_google(path, want):
    with proberows.ArrayRecordReader(path) as r:
        assert r.num_records() == len(want) == len(r)
        got = r.read(0, len(want)) if want else []
        assert [(len(b), hashlib.sha256(b).hexdigest()) for b in got] == want
        order = list(range(len(want)))
        random.Random(1).shuffle(order)
        batch = r.read(order)
        for i, b in zip(order, batch):
            assert (len(b), hashlib.sha256(b).hexdigest()) == want[i]
        seq = [r.read() for _ in range(len(want))]
        assert seq == got
        with pytest.raises(IndexError):
            r.read()


def test_google_golden_files():
    names = golden_cases()
    assert len(names) >= 17
    for name in names:
        base = os.path.join(shared("testdata", "arrayrecord", "golden"), name)
        if name == "transposed_small":
            with proberows.ArrayRecordReader(base + ".array_record") as r:
                with pytest.raises(proberows.UnsupportedError, match="transposed"):
                    r.read([0])
            continue
        check_google(base + ".array_record", expected(base + ".records.txt"))


def test_google_real_c4_files():
    real = shared("testdata", "arrayrecord", "real")
    files = sorted(f for f in os.listdir(real) if "array_record" in f and not f.endswith(".txt"))
    assert files
    for f in files:
        check_google(os.path.join(real, f), expected(os.path.join(real, f + ".records.txt")))
        with proberows.ArrayRecordReader(os.path.join(real, f)) as r:
            assert r.writer_options_string().startswith("group_size:1,")


@pytest.mark.parametrize("options", ["", "uncompressed", "group_size:7,zstd:5", "brotli:6",
                                     "snappy,group_size:100"])
def test_round_trip(tmp_path, options):
    rng = random.Random(options)
    recs = [bytes(rng.randrange(256) for _ in range(rng.randrange(300))) for _ in range(1500)]
    path = str(tmp_path / "rt.array_record")
    w = proberows.ArrayRecordWriter(path, options)
    for rec in recs:
        w.write(rec)
    assert w.num_records() == len(recs)
    assert not os.path.exists(path)  # appears only on close
    w.close()
    assert not w.is_open()
    r = proberows.ArrayRecordReader(path, "readahead_buffer_size:0,max_parallelism:2")
    assert r.read_all() == recs
    assert r.read(-3, -1) == recs[-3:-1]
    assert [r[i] for i in (0, 5, 1499)] == [recs[0], recs[5], recs[1499]]
    assert list(r) == recs
    idx = [rng.randrange(len(recs)) for _ in range(5000)]
    assert r.read(idx) == [recs[i] for i in idx]
    r.seek(1498)
    assert r.record_index() == 1498 and r.read() == recs[1498]
    if options:
        assert r.writer_options_string().startswith(
            "group_size:%s," % (options.split("group_size:")[1].split(",")[0]
                                if "group_size" in options else "1"))
    r.close()


def test_writer_rejects_bad_options_and_non_bytes(tmp_path):
    with pytest.raises(proberows.InvalidArgumentError, match="bogus"):
        proberows.ArrayRecordWriter(str(tmp_path / "x"), "bogus:1")
    with pytest.raises(ValueError):
        proberows.ArrayRecordReader(str(tmp_path / "x"), "bogus:1")
    w = proberows.ArrayRecordWriter(str(tmp_path / "x"))
    with pytest.raises(TypeError):
        w.write("text")
    del w  # never closed: no file
    assert os.listdir(tmp_path) == []
    with pytest.raises(RuntimeError):
        with proberows.ArrayRecordWriter(str(tmp_path / "y")) as w2:
            w2.write(b"abc")
            raise RuntimeError("stop")
    assert os.listdir(tmp_path) == []


def test_many_threads_one_reader(tmp_path):
    path = str(tmp_path / "mt.array_record")
    recs = [b"%06d" % i * (i % 13 + 1) for i in range(20000)]
    with proberows.ArrayRecordWriter(path, "group_size:8") as w:
        for rec in recs:
            w.write(rec)
    r = proberows.ArrayRecordReader(path)
    errors = []

    def work(seed):
        rng = random.Random(seed)
        for _ in range(30):
            idx = [rng.randrange(len(recs)) for _ in range(rng.choice([1, 10, 700]))]
            if r.read(idx) != [recs[i] for i in idx]:
                errors.append(seed)
            i = rng.randrange(len(recs))
            if r[i] != recs[i]:
                errors.append(seed)

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        list(ex.map(work, range(16)))
    assert errors == []
    # close while other threads read: they finish or see a closed reader, never crash
    stop = threading.Event()
    seen = []

    def reader_loop():
        while not stop.is_set():
            try:
                r.read(list(range(0, 20000, 7)))
            except ValueError as e:
                seen.append(str(e))
                return

    threads = [threading.Thread(target=reader_loop) for _ in range(4)]
    for t in threads:
        t.start()
    r.close()
    stop.set()
    for t in threads:
        t.join()
    assert all("closed" in s for s in seen)


def test_bad_input_raises(tmp_path):
    src = shared("testdata", "arrayrecord", "golden", "small1000_uncompressed.array_record")
    data = bytearray(open(src, "rb").read())
    p = tmp_path / "cut.array_record"
    p.write_bytes(bytes(data[:100000]))
    with pytest.raises(proberows.TruncatedError) as e:
        proberows.ArrayRecordReader(str(p))
    assert e.value.status == -4 and e.value.offset == 100000
    assert "65536" in str(e.value)
    flipped = bytearray(data)
    flipped[200] ^= 0x10  # inside the first data chunks
    p2 = tmp_path / "flip.array_record"
    p2.write_bytes(bytes(flipped))
    r = proberows.ArrayRecordReader(str(p2))
    with pytest.raises(proberows.Error) as e2:
        r.read(0, 1000)
    assert e2.value.offset >= 0 and e2.value.status < 0
    assert "flip.array_record" in str(e2.value) and str(e2.value.offset) in str(e2.value)
    with pytest.raises(proberows.FileError) as e3:
        proberows.ArrayRecordReader(str(tmp_path / "missing"))
    assert isinstance(e3.value, OSError) and "missing" in str(e3.value)
    good = proberows.ArrayRecordReader(src)
    for bad in ([1000], [0, -1001], [10**12]):
        with pytest.raises(IndexError):
            good.read(bad)
    with pytest.raises(IndexError):
        good.read(5, 5)
    with pytest.raises(IndexError):
        good[1000]
    with pytest.raises(TypeError):
        good.read(["a"])
    good.close()
    good.close()
    for call in (good.num_records, good.read, lambda: good.read([0]), lambda: len(good),
                 good.writer_options_string):
        with pytest.raises(ValueError, match="closed"):
            call()
    assert "closed" in repr(good)
