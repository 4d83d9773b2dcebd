# The users' DuckDB conversion (tools/atlas_to_parquet.mjs: read_json -> Parquet) of the
# generated fixtures, read back with `parquet cat`, equals `atlas cat` of the same dump; the
# rows DuckDB keeps with a NULL src_addr are the ones atlas counts as dropped_no_src.
[ -d tools/node_modules/@duckdb/node-api ] || { echo "tools/node_modules missing (cd tools && npm ci)" >&2; exit 77; }
command -v node >/dev/null || { echo "node is not installed" >&2; exit 77; }
. tests/cli/atlas_duckdb_check.sh
check "$PWD/tests/fixtures/atlas/firmware.jsonl" fixtures
check "$PWD/tests/fixtures/atlas/firmware.jsonl" fixtures --rtt min
check "$PWD/tests/fixtures/atlas/firmware.jsonl" fixtures --src-addr from
