# report --json against DuckDB reading the same Parquet input (tests/interop/report_duckdb.mjs):
# splits, per-probe bins, hours, rtt bins by IP version, top probes; sample data and fixtures.
command -v node >/dev/null || { echo "node is not installed: report vs DuckDB not run" >&2; exit 77; }
[ -d tools/node_modules/@duckdb/node-api ] ||
    { echo "tools/node_modules lacks @duckdb/node-api (cd tools && npm ci)" >&2; exit 77; }
set -e
for c in "examples/*.parquet|0" "tests/fixtures/nulls.parquet|0" \
         "tests/fixtures/verify_base.parquet|0.001953125" "tests/fixtures/ipv6_long.parquet|0"; do
    in=${c%|*} mb=${c#*|}
    if [ "$mb" = 0 ]; then lim=""; else lim="--max-row-size-mb $mb"; fi
    rm -rf "$TMP/out"
    "$PRW" build --quiet --input "$in" --output "$TMP/out" $lim
    "$PRW" report "$TMP/out" --json -o "$TMP/report.json" >/dev/null
    node tests/interop/report_duckdb.mjs "$TMP/report.json" "$in" 0.9
done
