#!/bin/sh
# Writes the seed corpus of the bz_decode fuzz target (fuzz/corpus/bz_decode/) with the bzip2
# command-line tool (libbz2): small streams of each kind the decoder must handle, and a few
# broken ones. Deterministic: the inputs come from awk with a fixed seed.
#   sh tools/gen_bz_fuzz_seeds.sh
set -eu
cd "$(dirname "$0")/.."
out=fuzz/corpus/bz_decode
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
rm -f "$out"/*.bz2
gen() { # seed count alphabet-size -> pseudo-random letters
    awk -v s="$1" -v n="$2" -v k="$3" 'BEGIN { srand(s); for (i = 0; i < n; i++)
        printf "%c", 97 + int(rand() * k); }'
}
: > "$tmp/empty"
printf 'a' > "$tmp/one"
# runs of 1..260 equal bytes exercise RLE1 (4 bytes + a count byte) at every count
awk 'BEGIN { for (n = 1; n <= 260; n += 7) { for (i = 0; i < n; i++) printf "%c", 65 + n % 26;
    printf "-" } }' > "$tmp/runs"
awk 'BEGIN { for (i = 0; i < 60; i++) printf "{\"dst_addr\":\"10.0.%d.1\",\"avg\":%d.5}\n",
    i % 7, i * 13 % 300 }' > "$tmp/json"
gen 1 1500 256 > "$tmp/random"
# level 1 and 240 kB of few distinct lines: three 100 kB blocks in a small file
awk 'BEGIN { for (i = 0; i < 8000; i++) printf "line %d of thirty\n", i % 30 }' > "$tmp/blocks"
bzip2 -9 -c "$tmp/empty" > "$out/empty.bz2"
bzip2 -9 -c "$tmp/one" > "$out/one.bz2"
bzip2 -9 -c "$tmp/runs" > "$out/runs.bz2"
bzip2 -1 -c "$tmp/json" > "$out/json_level1.bz2"
bzip2 -9 -c "$tmp/random" > "$out/random.bz2"
bzip2 -1 -c "$tmp/blocks" > "$out/three_blocks.bz2"
cat "$out/one.bz2" "$out/json_level1.bz2" "$out/empty.bz2" > "$out/three_streams.bz2"
cat "$out/one.bz2" > "$out/trailing_garbage.bz2"
printf 'garbage' >> "$out/trailing_garbage.bz2"
head -c 40 "$out/json_level1.bz2" > "$out/truncated.bz2"
ls -l "$out"
