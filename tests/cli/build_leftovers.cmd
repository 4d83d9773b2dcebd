# Leftovers of stopped runs: staging and spill folders whose owner is gone (a pid that cannot
# exist; the old naming without a pid) are removed by the next build into the directory or its
# --temp-dir, which says how many bytes it freed; a live owner's folder stays. A build that
# fails removes every directory it created.
IN=tests/fixtures/verify_base.parquet
mkdir -p "$TMP/out/.proberows-staging-2147483600-aaaaaa" "$TMP/out/.proberows-staging-Q1w2E3" \
    "$TMP/tmp/.proberows-spill-2147483601-bbbbbb" "$TMP/tmp/.proberows-spill-$$-cccccc"
head -c 1000 /dev/zero > "$TMP/out/.proberows-staging-2147483600-aaaaaa/train.arrayrecord"
head -c 500 /dev/zero > "$TMP/out/.proberows-staging-Q1w2E3/test.arrayrecord"
head -c 548 /dev/zero > "$TMP/tmp/.proberows-spill-2147483601-bbbbbb/run-0"
"$PRW" build --quiet --input $IN --output "$TMP/out" --temp-dir "$TMP/tmp" --workers 2 \
    2> "$TMP/err" || { cat "$TMP/err"; exit 3; }
sed "s|$TMP/||g" "$TMP/err"
ls -A "$TMP/out" "$TMP/tmp" | sed "s|$TMP/||; s/-$$-/-PID-/"
"$PRW" verify "$TMP/out" | tail -n 1
# Failed builds (a missing input, a memory limit too small) leave no directory behind.
"$PRW" build --quiet --input "$TMP/missing.parquet" --output "$TMP/new/a/b" 2>/dev/null
echo "missing input: exit $?, $(ls -d "$TMP/new" 2>/dev/null || echo 'no directory left')"
"$PRW" build --quiet --input $IN --output "$TMP/new2" --temp-dir "$TMP/new3" \
    --memory-limit 100K 2> "$TMP/err"
echo "limit too small: exit $?, $(ls -d "$TMP/new2" "$TMP/new3" 2>/dev/null || echo 'no directory left')"
sed "s|$TMP/||g" "$TMP/err"
