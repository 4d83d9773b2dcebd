# Column names as DuckDB and pyarrow users expect: matched ignoring case when only one column
# fits; two that differ only in case, or a nested (STRUCT/LIST) column, are errors that say so.
F=tests/fixtures/faults
"$PRW" build --quiet --input $F/column_case.parquet --output "$TMP/case" --workers 2 &&
    "$PRW" verify "$TMP/case" --input $F/column_case.parquet 2>/dev/null | tail -n 1
for f in column_ambiguous column_nested; do
    "$PRW" build --quiet --input $F/$f.parquet --output "$TMP/$f" 2> "$TMP/err"
    echo "$f: exit $?"
    grep -v '^proberows: scan' "$TMP/err"
done
"$PRW" build --quiet --input $F/column_ambiguous.parquet --output "$TMP/exact" \
    --column rtt=RTT --workers 2 && echo "--column rtt=RTT: built"
