# As build_dump_duckdb_equal, on RIPE's 3,061 real ping results of 28 firmware versions
# (../shared/testdata/atlas/), compressed with bzip2 on the fly.
. tests/cli/build_dump_check.sh
need_duckdb
[ -n "$SHARED" ] && [ -f "$SHARED/testdata/atlas/results.jsonl" ] || exit 77
f=$(cd "$SHARED/testdata/atlas" && pwd)/results.jsonl
bzip2 -c "$f" > "$TMP/real.bz2"
same_as_duckdb "$f" "$TMP/real.bz2" real
same_as_duckdb "$f" "$TMP/real.bz2" real --rtt min --src-addr from
same_as_duckdb "$f" "$TMP/real.bz2" real --memory-limit 64M
