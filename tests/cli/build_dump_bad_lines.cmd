# Bad dump lines are skipped and counted by reason in the build's summary and manifest, the
# first ones reported with file, line, byte offset and column; --strict makes the first one an
# error (exit 1) and leaves no output; a dump event_time outside 1970..2199 is dropped and
# counted, or with --strict an error naming the line; a truncated bzip2 dump is an error naming
# the file, the format and the offset, with no output directory left; verify --input
# recounts it all from the dump; and a file that is no dump is an error.
bad=tests/fixtures/atlas/bad.jsonl
"$PRW" build --input "$bad" --output "$TMP/a" 2>&1 | grep -E '^  (dumps|dropped)|^    ' |
    sed 's/parsed into [^;]* of chunks/parsed into (size) of chunks/'
grep '"lines_skipped"' "$TMP/a/manifest.json"
grep '"format"' "$TMP/a/manifest.json" | sed 's/"bytes": [0-9]*/"bytes": N/'
"$PRW" verify "$TMP/a" --input "$bad" | tail -n 1
"$PRW" build --quiet --strict --input "$bad" --output "$TMP/b" 2>&1
echo "strict: exit $?"
[ -e "$TMP/b" ] && echo "strict left $TMP/b"
head -n 1 tests/fixtures/atlas/firmware.jsonl > "$TMP/t.jsonl"
sed -n 1p tests/fixtures/atlas/firmware.jsonl | sed 's/"timestamp":[0-9]*/"timestamp":-86400/' >> "$TMP/t.jsonl"
grep -c '"timestamp":-86400' "$TMP/t.jsonl"
"$PRW" build --input "$TMP/t.jsonl" --output "$TMP/c" 2>&1 | grep '^  dropped'
"$PRW" build --quiet --strict --input "$TMP/t.jsonl" --output "$TMP/d" 2> "$TMP/err"
echo "strict range: exit $?"
sed "s|$TMP/||" "$TMP/err"
size=$(wc -c < examples/ping-2024-03-01T0000.bz2)
head -c $((size - 100)) examples/ping-2024-03-01T0000.bz2 > "$TMP/cut.bz2"
"$PRW" build --quiet --input "$TMP/cut.bz2" --output "$TMP/e" 2> "$TMP/err"
echo "truncated: exit $?"
sed "s|$TMP/||; s/byte [0-9]*/byte B/g" "$TMP/err"
[ -e "$TMP/e" ] && echo "truncated left $TMP/e"
# A file that is neither Parquet nor a dump (a CSV a glob matched) is an error, not skipped lines.
printf 'event_time,src_addr\n1,a\n' > "$TMP/x.csv"
"$PRW" build --quiet --input "$TMP/x.csv" --output "$TMP/f" 2> "$TMP/err"
echo "csv: exit $?"
sed "s|$TMP/||" "$TMP/err"
# Reading a dump needs 64 MiB: a smaller --memory-limit is refused before any work.
"$PRW" build --quiet --input "$bad" --output "$TMP/g" --memory-limit 40M 2>&1
echo "40M: exit $?"
exit 0
