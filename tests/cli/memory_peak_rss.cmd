# The memory bound itself: spilled builds of the dominant-probe fixture at 16M stay within the
# limit + 10% of peak resident set (VmHWM of the proberows process, from its summary), with 1,
# 2 and 8 workers; the output is the same as the unlimited run's. Sanitizer builds (shadow
# memory) are skipped.
case "$PRW" in */asan/* | */tsan/* | */debug/*) echo "RSS of a sanitizer build" >&2 && exit 77 ;; esac
"$PRW" build --quiet --input tests/fixtures/dominant_probe.parquet --output "$TMP/ref" \
    --max-row-size-mb 0.0625 || exit 3
for w in 1 2 8; do
    "$PRW" build --input tests/fixtures/dominant_probe.parquet --output "$TMP/w$w" \
        --max-row-size-mb 0.0625 --memory-limit 16M --workers "$w" 2> "$TMP/err$w" ||
        { cat "$TMP/err$w" >&2; exit 1; }
    grep -q 'spilled' "$TMP/err$w" || { echo "w$w: did not spill" >&2; exit 1; }
    peak=$(sed -n 's/.*peak RSS \([0-9.]*\) MiB.*/\1/p' "$TMP/err$w")
    awk -v p="$peak" 'BEGIN { exit !(p > 0 && p <= 16 * 1.1) }' ||
        { echo "w$w: peak RSS ${peak} MiB over 16 MiB + 10%" >&2; exit 1; }
    cmp "$TMP/ref/train.arrayrecord" "$TMP/w$w/train.arrayrecord" || exit 1
    cmp "$TMP/ref/test.arrayrecord" "$TMP/w$w/test.arrayrecord" || exit 1
done
