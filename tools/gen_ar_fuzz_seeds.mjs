#!/usr/bin/env node
// Turns ArrayRecord files into seeds for fuzz/fuzz_ar_reader.c (see its header comment):
// byte 0 = blocks - 2, bytes 1-2 = length of the head (u16le), then the head (the file up to
// its last block, trailing zeros dropped), then the last block with trailing zeros dropped.
// Usage: node tools/gen_ar_fuzz_seeds.mjs OUTDIR FILE...
// (files of 2..5 blocks whose seed is < 64 KiB; others are skipped). Needs no npm packages.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const BLOCK = 65536;

// The bytes without their trailing zeros.
function stripZeros(bytes) {
    let end = bytes.length;
    while (end > 0 && bytes[end - 1] === 0) end--;
    return bytes.subarray(0, end);
}

const [out, ...files] = process.argv.slice(2);
if (!out) {
    console.error('usage: gen_ar_fuzz_seeds.mjs OUTDIR FILE...');
    process.exit(2);
}
mkdirSync(out, { recursive: true });
for (const path of files) {
    const data = readFileSync(path);
    const blocks = Math.floor(data.length / BLOCK);
    if (data.length % BLOCK !== 0 || blocks < 2 || blocks > 5) continue;
    const head = stripZeros(data.subarray(0, data.length - BLOCK));
    const tail = stripZeros(data.subarray(data.length - BLOCK));
    if (head.length > 0xffff) continue;
    const seed = Buffer.concat([
        Buffer.from([blocks - 2, head.length & 0xff, head.length >> 8]),
        head,
        tail,
    ]);
    if (seed.length >= 64 * 1024) continue;
    const name = basename(path).split('.array_record').join('');
    writeFileSync(join(out, name), seed);
    console.log(name, seed.length);
}
