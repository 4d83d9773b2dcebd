# Issue #18's byte-identity test: `build` of a RIPE Atlas dump equals `build` of DuckDB's
# read_json conversion of it, on the generated fixtures of every firmware generation (plain,
# gzip, zstd, bzip2 as pbzip2 writes it: several streams) and on the example dump; with each
# --rtt / --src-addr choice, one worker or two, in memory and memory-bounded (spilled).
. tests/cli/build_dump_check.sh
need_duckdb
fw="$PWD/tests/fixtures/atlas/firmware.jsonl"
same_as_duckdb "$fw" "$fw" plain
same_as_duckdb "$fw" "$fw" plain --rtt min
same_as_duckdb "$fw" "$fw" plain --rtt max --src-addr from --workers 1
gzip -c "$fw" > "$TMP/fw.gz"
same_as_duckdb "$fw" "$TMP/fw.gz" gzip
zstd -q -c "$fw" > "$TMP/fw.zst" 2>/dev/null && same_as_duckdb "$fw" "$TMP/fw.zst" zstd
# Three bzip2 streams back to back.
split -l 500 "$fw" "$TMP/part."
for p in "$TMP"/part.*; do bzip2 -c "$p"; done > "$TMP/fw.bz2"
same_as_duckdb "$fw" "$TMP/fw.bz2" "bzip2 x3"
ex="$PWD/examples/ping-2024-03-01T0000.bz2"
bzip2 -dc "$ex" > "$TMP/ex.jsonl"
same_as_duckdb "$TMP/ex.jsonl" "$ex" example
same_as_duckdb "$TMP/ex.jsonl" "$ex" example --src-addr from --shards 3
same_as_duckdb "$TMP/ex.jsonl" "$ex" example --memory-limit 64M
grep -q '"spilled": true' "$TMP/dump/manifest.json" && echo "example at 64M: spilled"
# Many chunks per dump (a test hook: 97 results per chunk instead of 131,072), in memory and
# spilled, on one worker and two.
export PROBEROWS_TEST_DUMP_CHUNK_ROWS=97
same_as_duckdb "$fw" "$TMP/fw.bz2" "97-row chunks: bzip2 x3"
same_as_duckdb "$TMP/ex.jsonl" "$ex" "97-row chunks: example" --workers 1
same_as_duckdb "$TMP/ex.jsonl" "$ex" "97-row chunks: example" --memory-limit 64M
grep -q '"spilled": true' "$TMP/dump/manifest.json" && echo "97-row chunks at 64M: spilled"
unset PROBEROWS_TEST_DUMP_CHUNK_ROWS
