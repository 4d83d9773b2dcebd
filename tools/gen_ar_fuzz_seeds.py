#!/usr/bin/env python3
"""Turns ArrayRecord files into seeds for fuzz/fuzz_ar_reader.c (see its header comment):
byte 0 = blocks - 2, bytes 1-2 = length of the head (u16le), then the head (the file up to
its last block, trailing zeros dropped), then the last block with trailing zeros dropped.
Usage: gen_ar_fuzz_seeds.py OUTDIR FILE...   (files of 2..5 blocks whose seed is < 64 KiB)"""
import os
import sys

BLOCK = 65536
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for path in sys.argv[2:]:
    data = open(path, "rb").read()
    blocks = len(data) // BLOCK
    if len(data) % BLOCK or not 2 <= blocks <= 5:
        continue
    head = data[: len(data) - BLOCK].rstrip(b"\0")
    tail = data[len(data) - BLOCK :].rstrip(b"\0")
    if len(head) > 0xFFFF:
        continue
    seed = bytes([blocks - 2, len(head) & 0xFF, len(head) >> 8]) + head + tail
    if len(seed) >= 64 * 1024:
        continue
    name = os.path.basename(path).replace(".array_record", "")
    open(os.path.join(out, name), "wb").write(seed)
    print(name, len(seed))
