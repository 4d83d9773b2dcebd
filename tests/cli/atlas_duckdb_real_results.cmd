# As atlas_duckdb_parquet_equal, on RIPE's 3,061 real results (../shared/testdata/atlas/).
[ -d tools/node_modules/@duckdb/node-api ] || { echo "tools/node_modules missing (cd tools && npm ci)" >&2; exit 77; }
command -v node >/dev/null || { echo "node is not installed" >&2; exit 77; }
[ -n "$SHARED" ] && [ -f "$SHARED/testdata/atlas/results.jsonl" ] || exit 77
. tests/cli/atlas_duckdb_check.sh
f=$(cd "$SHARED/testdata/atlas" && pwd)/results.jsonl
check "$f" real
check "$f" real --rtt max --src-addr from
