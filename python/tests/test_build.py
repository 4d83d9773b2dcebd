"""proberows.build: the CLI's options, errors as exceptions, Ctrl-C with no partial output."""
import _thread
import os
import signal
import threading
import time

import pytest

import proberows
from conftest import ROOT

EXAMPLES = os.path.join(ROOT, "examples", "*.parquet")


def test_options_like_the_cli(tmp_path):
    m = proberows.build([EXAMPLES], str(tmp_path / "o"), train_ratio=0.5, split="hash",
                        null_rtt="drop", workers=2, max_row_size_mb=0.01, ar_options="uncompressed",
                        memory_limit="1G", column={"rtt": "rtt"}, quiet=True)
    assert m["options"]["split"] == "hash" and m["options"]["null_rtt"] == "drop"
    assert m["options"]["max_row_size"] == int(0.01 * 1024 * 1024)
    assert m["options"]["ar_options"].endswith("uncompressed,max_parallelism:1") or \
        "uncompressed" in m["options"]["ar_options"]
    assert m["dropped"]["null_rtt"] == 20 and m["probes_cut_into_pieces"] > 0
    assert m["command_line"].startswith("proberows.build(")
    assert m["peak_rss_bytes"] > 0


def test_dump_like_the_cli(tmp_path):
    # A RIPE Atlas dump as input, with the dump options: the same files as the CLI's build.
    import subprocess
    from conftest import CLI
    if not os.access(CLI, os.X_OK):
        pytest.skip(f"{CLI} is not built")
    dump = os.path.join(ROOT, "examples", "ping-2024-03-01T0000.bz2")
    m = proberows.build(dump, str(tmp_path / "py"), rtt="min", src_addr="from", strict=True)
    assert m["inputs"][0]["format"] == "bzip2" and m["inputs"][0]["rows"] == 4000
    assert m["options"]["dump_rtt"] == "min" and m["options"]["dump_src_addr"] == "from"
    assert m["options"]["strict"] is True and m["lines_skipped"]["total"] == 0
    subprocess.run([CLI, "build", "--quiet", "--input", dump, "--output", str(tmp_path / "cli"),
                    "--rtt", "min", "--src-addr", "from", "--strict"], check=True)
    for name in ("train.arrayrecord", "test.arrayrecord"):
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
    bad = os.path.join(ROOT, "tests", "fixtures", "atlas", "bad.jsonl")
    with pytest.raises(proberows.CorruptError, match="line 6"):
        proberows.build(bad, str(tmp_path / "strict"), strict=True)
    assert not (tmp_path / "strict").exists()


@pytest.mark.parametrize("kw,match", [
    ({"train_ratio": 2}, "train_ratio"), ({"split": "x"}, "split"),
    ({"null_rtt": "zero"}, "null_rtt"), ({"workers": 0}, "workers"),
    ({"memory_limit": "lots"}, "memory_limit"), ({"column": {"nope": "x"}}, "unknown column"),
    ({"shards": 1.5}, "integer"), ({"max_row_size_mb": 0}, "max_row_size_mb"),
    ({"rtt": "median"}, "rtt"), ({"src_addr": "to"}, "src_addr"), ({"strict": 1}, "strict")])
def test_bad_options(tmp_path, kw, match):
    with pytest.raises(proberows.InvalidArgumentError, match=match):
        proberows.build(EXAMPLES, str(tmp_path / "o"), **kw)
    assert not (tmp_path / "o").exists()


def test_unknown_option_and_errors(tmp_path):
    with pytest.raises(TypeError, match="frobnicate"):
        proberows.build(EXAMPLES, str(tmp_path / "o"), frobnicate=1)
    with pytest.raises(proberows.Error) as e:
        proberows.build(str(tmp_path / "none-*.parquet"), str(tmp_path / "o"))
    assert e.value.status < 0 and "none-" in str(e.value)
    bad = tmp_path / "bad.parquet"
    good = open(os.path.join(ROOT, "examples", "pings-000.parquet"), "rb").read()
    bad.write_bytes(good[:4] + good[4:20000] + good[-3000:])
    with pytest.raises(proberows.Error) as e2:
        proberows.build(str(bad), str(tmp_path / "o2"))
    assert "bad.parquet" in str(e2.value)
    assert not (tmp_path / "o2" / "train.arrayrecord").exists()
    with pytest.raises(proberows.Error, match="column"):
        proberows.build(EXAMPLES, str(tmp_path / "o3"), column=["rtt=no_such_column"])


def test_keyboard_interrupt_cancels(tmp_path):
    # many copies of the examples and a memory limit that makes the build spill to run files:
    # a build of several seconds, with staged output and run files to remove when cancelled
    src = tmp_path / "in"
    src.mkdir()
    for f in ("pings-000.parquet", "pings-001.parquet"):
        data = open(os.path.join(ROOT, "examples", f), "rb").read()
        for k in range(250):
            (src / f"{k:03d}-{f}").write_bytes(data)
    out = tmp_path / "o"
    # Python may have started with SIGINT ignored (a background job): interrupt_main needs
    # Python's own handler, the one an interactive Ctrl-C reaches.
    old_handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    t0 = time.monotonic()
    timer.start()
    finished = None
    try:
        with pytest.raises(KeyboardInterrupt):
            proberows.build(str(src / "*.parquet"), str(out), workers=2, memory_limit="192M")
            finished = time.monotonic() - t0
            timer.join()
            time.sleep(1)  # the interrupt still comes, after the build
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, old_handler)
    assert finished is None, f"the build ended after {finished:.2f} s, before the interrupt"
    assert time.monotonic() - t0 < 60
    left = sorted(os.listdir(out)) if out.exists() else []
    assert left == [], f"left in the output folder: {left}"
    assert sorted(os.listdir(tmp_path)) == ["in", "o"] if out.exists() else ["in"]
