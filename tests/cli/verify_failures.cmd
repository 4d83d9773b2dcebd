# An edited manifest and a row missing from the input are each reported; exit 1.
"$PRW" build --quiet --input tests/fixtures/verify_base.parquet --output "$TMP/out" || exit 3
sed 's/"rows_read": 3000/"rows_read": 3001/' "$TMP/out/manifest.json" > "$TMP/m" &&
    mv "$TMP/m" "$TMP/out/manifest.json"
"$PRW" verify "$TMP/out" --input tests/fixtures/verify_row_removed.parquet 2>/dev/null |
    sed "s|$TMP/||"
exit "$("$PRW" verify "$TMP/out" >/dev/null 2>&1; echo $?)"
