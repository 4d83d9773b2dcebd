"""ProbeRowDataSource: grain's protocol, files in order, pickling into workers, threads."""
import concurrent.futures
import multiprocessing
import os
import pickle
import random
import resource

import pytest

import proberows
from conftest import ROOT


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    out = tmp_path_factory.mktemp("shards")
    proberows.build(os.path.join(ROOT, "examples", "*.parquet"), str(out), shards=3)
    files = sorted(str(p) for p in out.glob("train.arrayrecord-*"))
    assert len(files) == 3
    return out, files


def all_records(files):
    recs = []
    for f in files:
        with proberows.ArrayRecordReader(f) as r:
            recs += r.read_all() if r.num_records() else []
    return recs


def test_protocol_and_order(shards):
    out, files = shards
    want = all_records(files)
    ds = proberows.ProbeRowDataSource(str(out / "train.arrayrecord-*"))
    assert ds.paths == files and len(ds) == len(want)
    assert [ds[i] for i in range(len(ds))] == want
    keys = [random.Random(3).randrange(len(ds)) for _ in range(2000)]
    assert ds.__getitems__(keys) == [want[k] for k in keys]
    assert ds.__getitems__([]) == []
    assert repr(ds).startswith("ProbeRowDataSource(hash_of_paths=")
    assert repr(ds) == repr(proberows.ProbeRowDataSource(files))
    listed = proberows.ProbeRowDataSource(list(reversed(files)))  # a list keeps its order
    assert listed[0] == all_records(files[-1:])[0]
    n0 = len(all_records(files[:1]))
    part = proberows.ProbeRowDataSource([f"{files[0]}[2:5]", files[1]])
    assert len(part) == 3 + len(all_records(files[1:2]))
    assert part.__getitems__([0, 2, 3]) == [want[2], want[4], want[n0]]
    single = proberows.ProbeRowDataSource(files[1])
    assert single[0] == want[n0]
    for bad in (len(ds), -1):
        with pytest.raises(IndexError):
            ds[bad]
        with pytest.raises(ValueError):
            ds.__getitems__([0, bad])
    with pytest.raises(FileNotFoundError):
        proberows.ProbeRowDataSource(str(out / "nothing-*"))
    with pytest.raises(ValueError):
        proberows.ProbeRowDataSource([])


def test_decoded_items(shards):
    out, files = shards
    ds = proberows.ProbeRowDataSource(files, decode=True)
    raw = proberows.ProbeRowDataSource(files)
    rows = ds.__getitems__([0, 5, 1])
    assert [r.src_id for r in rows] == [proberows.decode_row(raw[k]).src_id for k in (0, 5, 1)]
    assert isinstance(ds[3], proberows.ProbeRow)


def worker_read(args):
    ds, keys = args
    return [bytes(b) for b in ds.__getitems__(keys)], repr(ds), len(ds)


def test_pickle_into_multiprocessing_worker(shards):
    out, files = shards
    ds = proberows.ProbeRowDataSource(files)
    ds[0]  # open a reader: it must not travel
    clone = pickle.loads(pickle.dumps(ds))
    assert clone[7] == ds[7] and repr(clone) == repr(ds)
    keys = list(range(0, len(ds), 3))
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        results = pool.map(worker_read, [(ds, keys), (ds, keys[::-1])])
    assert results[0][0] == ds.__getitems__(keys)
    assert results[1][0] == ds.__getitems__(keys[::-1])
    assert results[0][1] == repr(ds) and results[0][2] == len(ds)


def test_threads_deterministic(shards):
    out, files = shards
    ds = proberows.ProbeRowDataSource(files)
    want = all_records(files)

    def work(seed):
        rng = random.Random(seed)
        keys = [rng.randrange(len(ds)) for _ in range(500)]
        return ds.__getitems__(keys) == [want[k] for k in keys] and all(
            ds[k] == want[k] for k in keys[:50])

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        assert all(ex.map(work, range(32)))


def rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def test_no_reference_leaks(shards):
    out, files = shards
    ds = proberows.ProbeRowDataSource(files)
    r = proberows.ArrayRecordReader(files[0])
    n = len(r)

    def loop(count):
        for i in range(count):
            r.read([i % n])
            b = ds[i % len(ds)]
            row = proberows.decode_row(b)
            row.window(1, 3).rtt
            row.dst_addr
        ds.__getitems__(list(range(len(ds))))

    loop(10000)
    before = rss_kb()
    loop(100000)
    grown = rss_kb() - before
    assert grown < 4096, f"RSS grew by {grown} KiB over 100k reads"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0
