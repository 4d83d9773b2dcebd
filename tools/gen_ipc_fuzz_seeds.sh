#!/bin/sh
# Regenerates fuzz/corpus/ipc_decode/ with our own encoder: make, then sh tools/gen_ipc_fuzz_seeds.sh
set -eu
cd "$(dirname "$0")/.."
make --no-print-directory build/release/libproberows.a
out=$(mktemp -d)
cc -std=c17 -Iinclude tools/gen_ipc_fuzz_seeds.c build/release/libproberows.a \
    $(pkg-config --libs libzstd snappy libbrotlienc libbrotlidec liblz4 libdeflate zlib libmd) \
    -lhighwayhash -lstdc++ -lpthread -lm -o "$out/gen"
mkdir -p fuzz/corpus/ipc_decode
"$out/gen" fuzz/corpus/ipc_decode
rm -rf "$out"
