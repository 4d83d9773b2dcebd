# Parquet files and a dump in one build: the output equals the build of the Parquet files and
# DuckDB's conversion of the dump. The scale-out mode reads dumps too: plan (recording each
# input's format and the dump options) -> 2 map tasks -> 2 reduce tasks -> finalize gives the
# shards of build --plan, and verify accepts the directory.
. tests/cli/build_dump_check.sh
need_duckdb
mkdir -p "$TMP/in" "$TMP/ref"
cp examples/pings-000.parquet "$TMP/in/a.parquet"
cp examples/ping-2024-03-01T0000.bz2 "$TMP/in/b.bz2"
cp examples/pings-001.parquet "$TMP/in/c.parquet"
cp "$TMP/in/a.parquet" "$TMP/in/c.parquet" "$TMP/ref/"
bzip2 -dc "$TMP/in/b.bz2" > "$TMP/b.jsonl"
(cd tools && node atlas_to_parquet.mjs "$TMP/b.jsonl" "$TMP/ref/b.parquet" --src-addr from) || exit 3
"$PRW" build --quiet --input "$TMP/in/*" --output "$TMP/mixed" --src-addr from || exit 4
"$PRW" build --quiet --input "$TMP/ref/*" --output "$TMP/pq" || exit 5
for s in train test; do cmp "$TMP/mixed/$s.arrayrecord" "$TMP/pq/$s.arrayrecord" && echo "mixed $s: same"; done
grep -o '"format": "[a-z0-9]*"' "$TMP/mixed/manifest.json" | tr '\n' ' '; echo
D="$TMP/run"
"$PRW" plan --quiet --input "$TMP/in/*" --output "$D" --map-tasks 2 --reduce-tasks 2 \
    --src-addr from --strict || exit 6
grep -o '"format": "[a-z0-9]*"\|"strict": [a-z]*\|"dump_[a-z_]*": "[a-z_]*"' "$D/plan.json" | tr '\n' ' '; echo
for i in 0 1; do "$PRW" map --plan "$D/plan.json" --task $i || exit 7; done
for k in 0 1; do "$PRW" reduce --plan "$D/plan.json" --task $k || exit 8; done
"$PRW" finalize --plan "$D/plan.json" 2>/dev/null || exit 9
"$PRW" build --quiet --plan "$D/plan.json" --output "$TMP/byplan" || exit 10
for f in "$TMP"/byplan/*.arrayrecord-*; do
    cmp "$f" "$D/${f##*/}" && echo "same ${f##*/}"
done
"$PRW" verify "$D" 2>/dev/null | tail -n 1
"$PRW" verify "$TMP/mixed" --input "$TMP/in/*" 2>/dev/null | tail -n 1
