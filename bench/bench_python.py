"""Python-side read and decode rates of the proberows package (bench/README.md).

usage: PYTHONPATH=build/python /usr/bin/python3 bench/bench_python.py [--runs 5] [--dir D]
       [--s-output DIR]

Writes (once) a 1M-record file of 100-byte records (uncompressed, group_size:1) into D
(default /work/scratch-python), then measures, as medians of --runs runs:
  random single reads/s    reader.read([i]) and ds[i] (ProbeRowDataSource), one call each
  batched reads/s          reader.read(keys) and ds.__getitems__(keys), 1,000 random keys per call
  sequential MB/s          reader.read(begin, end) over the whole file in 10,000-record calls
Each rate is given by wall time and per CPU-second of the process (all its threads): on a
shared machine the second is what one idle core would do for the single-threaded calls.
On the S output (--s-output DIR with train.arrayrecord, made by `proberows build` on
/work/data/S; built here if missing) the same reads, plus decoded rows/s: decode_row on
batches of 1,000 random records with every column read, and window(start, 34) on them.
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import time

import proberows

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(fn, units):
    t, c = time.perf_counter(), time.process_time()
    fn()
    return units / (time.perf_counter() - t), units / (time.process_time() - c)


def median(runs, fn, units):
    """(median wall rate, median rate per CPU-second of this process, all threads)."""
    r = [timed(fn, units) for _ in range(runs)]
    return statistics.median(x[0] for x in r), statistics.median(x[1] for x in r)


def make_100b(path, n=1_000_000):
    if os.path.exists(path):
        return
    rng = random.Random(1)
    with proberows.ArrayRecordWriter(path, "uncompressed,group_size:1") as w:
        for i in range(n):
            w.write(i.to_bytes(8, "little") + rng.randbytes(92))


def read_rates(path, runs, label):
    r = proberows.ArrayRecordReader(path, "readahead_buffer_size:0")
    ds = proberows.ProbeRowDataSource(path)
    n = r.num_records()
    rng = random.Random(7)
    single = [rng.randrange(n) for _ in range(100_000)]
    batches = [[rng.randrange(n) for _ in range(1000)] for _ in range(200)]
    size = os.path.getsize(path)
    read = r.read
    get = ds.__getitem__

    def singles_reader():
        for i in single:
            read([i])

    def singles_ds():
        for i in single:
            get(i)

    def batched_reader():
        for b in batches:
            read(b)

    def batched_ds():
        for b in batches:
            ds.__getitems__(b)

    def sequential():
        for b in range(0, n, 10_000):
            read(b, min(n, b + 10_000))

    out = {
        "read([i]) /s": median(runs, singles_reader, len(single)),
        "ds[i] /s": median(runs, singles_ds, len(single)),
        "read(1000 keys) records/s": median(runs, batched_reader, 200 * 1000),
        "ds.__getitems__(1000) records/s": median(runs, batched_ds, 200 * 1000),
        "sequential MB/s": median(runs, sequential, size / 1e6),
    }
    print(f"== {label}: {path} ({n} records, {size / 1e6:.1f} MB, "
          f"{r.writer_options_string()})")
    show(out)
    return r, batches


def decode_rates(r, batches, runs):
    ds = proberows.ProbeRowDataSource(r.path, decode=True)
    decode = proberows.decode_row
    rows_per_batch = len(batches[0])

    def full():
        for b in batches[:50]:
            for row in map(decode, r.read(b)):
                row.event_time, row.src_addr, row.dst_addr, row.ip_version, row.rtt

    def windows():
        for b in batches[:50]:
            for row in map(decode, r.read(b)):
                w = row.window(len(row) // 2, 34)
                w.event_time, w.src_addr, w.dst_addr, w.ip_version, w.rtt

    def ds_decoded():
        for b in batches[:50]:
            ds.__getitems__(b)

    units = 50 * rows_per_batch
    out = {
        "decode_row, all columns rows/s": median(runs, full, units),
        "decode_row + window(, 34) rows/s": median(runs, windows, units),
        "ds(decode=True) __getitems__ rows/s": median(runs, ds_decoded, units),
    }
    show(out)


def show(out):
    for k, (wall, cpu) in out.items():
        print(f"  {k:36s} wall {wall:12,.0f}   per CPU-second {cpu:12,.0f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", default="/work/scratch-python")
    ap.add_argument("--s-output", default=None)
    ap.add_argument("--s-input", default="/work/data/S/*.parquet")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    path = os.path.join(a.dir, "records_1m_100b.array_record")
    make_100b(path)
    print(f"python {sys.version.split()[0]}, proberows {proberows.__version__}, "
          f"{os.cpu_count()} CPUs, medians of {a.runs} runs; load {os.getloadavg()[0]:.2f}")
    read_rates(path, a.runs, "1M x 100-byte records, uncompressed")
    s_out = a.s_output or os.path.join(a.dir, "S_out")
    train = os.path.join(s_out, "train.arrayrecord")
    if not os.path.exists(train):
        proberows.build(a.s_input, s_out)
    r, batches = read_rates(train, a.runs, "S output (train, zstd rows)")
    decode_rates(r, batches, a.runs)


if __name__ == "__main__":
    main()
