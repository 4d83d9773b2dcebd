# The pipeline reads a file of a known-broken writer the way parquet-mr and Arrow do, warning once
# per file and command, with the same output as for the intact file. The input is
# tests/fixtures/verify_base.parquet (DuckDB) with its footer rewritten by
#   tools/patch_parquet_footer.py verify_base.parquet faults/probes_parquet_mr_816.parquet \
#       --undercount-dict --created-by "parquet-mr version 1.2.8 (build PARQUET-816 reproduction)"
# (column chunk sizes without their dictionary page header: PARQUET-816 of parquet-mr < 1.2.9);
# faults/probes_undercount_duckdb.parquet is the same without --created-by.
F=tests/fixtures
MR=$F/faults/probes_parquet_mr_816.parquet
warnings() { # $1: a stderr file: the PARQUET-816 warnings naming the file, all lines with "warning"
    echo "$(grep -c "^proberows: warning: $MR: written by parquet-mr before 1.2.9, .*PARQUET-816" "$1")" \
        "warning naming the file and writer ($(grep -c warning "$1") line with 'warning')"
}
"$PRW" build --quiet --input $F/verify_base.parquet --output "$TMP/duckdb" --workers 2 || exit 1
for mode in "" "--memory-limit 40M"; do
    rm -rf "$TMP/mr"
    "$PRW" build --quiet --input $MR --output "$TMP/mr" --workers 2 $mode 2> "$TMP/err" || exit 2
    echo "build ${mode:-in memory}: $(warnings "$TMP/err")"
    for f in train.arrayrecord test.arrayrecord; do
        cmp "$TMP/mr/$f" "$TMP/duckdb/$f" && echo "  $f: the same bytes as from the DuckDB file"
    done
done
"$PRW" verify "$TMP/mr" --input $MR > /dev/null 2> "$TMP/err" && echo "verify --input: OK, $(warnings "$TMP/err")"
"$PRW" plan --quiet --input $MR --output "$TMP/so" --map-tasks 1 --reduce-tasks 1 2> "$TMP/err" || exit 3
sed -i "s|^proberows: warning: [^:]*/$MR:|proberows: warning: $MR:|" "$TMP/err" # plan's paths are absolute
echo "plan: $(warnings "$TMP/err")"
"$PRW" map --plan "$TMP/so/plan.json" --task 0 2> "$TMP/err" || exit 4
sed -i "s|^proberows: warning: [^:]*/$MR:|proberows: warning: $MR:|" "$TMP/err"
echo "map: $(warnings "$TMP/err")"
# The same undercount with DuckDB's created_by (patched without --created-by) is rejected.
"$PRW" build --quiet --input $F/faults/probes_undercount_duckdb.parquet --output "$TMP/bad" \
    2> "$TMP/err"
echo "undercount by another writer: exit $?, $(grep -c 'overruns the column chunk' "$TMP/err")" \
    "overrun error, $(grep -c warning "$TMP/err") warning"
