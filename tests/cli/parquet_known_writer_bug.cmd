# A known writer bug is read the way parquet-mr and Arrow read it, with one warning; the same
# breakage from another writer is rejected. Both files are tests/data/parquet/snappy_v1_req.parquet
# (DuckDB) with its footer rewritten by tools/patch_parquet_footer.py: the column chunks with a
# dictionary page undercount their size by that page's header (PARQUET-816), and created_by
# names parquet-mr 1.2.8 (parquet_mr_816) or stays DuckDB's (undercount_duckdb).
D=tests/data/parquet
"$PRW" parquet cat $D/parquet_mr_816.parquet > "$TMP/a" 2> "$TMP/err" || exit 1
"$PRW" parquet cat $D/snappy_v1_req.parquet > "$TMP/b" || exit 2
cmp "$TMP/a" "$TMP/b" && echo "parquet_mr_816: the same rows as the original"
echo "warnings: $(grep -c 'warning: .*PARQUET-816' "$TMP/err"), other lines: $(grep -vc PARQUET-816 "$TMP/err")"
"$PRW" parquet cat $D/undercount_duckdb.parquet > /dev/null 2> "$TMP/err"
echo "undercount_duckdb: exit $?"
cat "$TMP/err"
