# One writer per output directory: while a build holds DIR's lock (held open by the test hook
# PROBEROWS_TEST_HOLD_LOCK, so no timing luck), a second build into DIR fails at once naming the
# first one's pid, and verify (a reader: no lock) says a build is in progress and checks the
# older output, intact; the first build finishes and its output verifies.
IN=tests/fixtures/verify_base.parquet
"$PRW" build --quiet --input $IN --output "$TMP/out" --shards 2 --workers 2 || exit 3
touch "$TMP/hold"
PROBEROWS_TEST_HOLD_LOCK="$TMP/hold" "$PRW" build --quiet --input $IN --output "$TMP/out" \
    --workers 2 &
first=$!
i=0
while [ ! -e "$TMP/hold.locked" ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i + 1)); done
"$PRW" build --quiet --input $IN --output "$TMP/out" --workers 2 2> "$TMP/err"
echo "second build: exit $?"
grep -q "(pid $first," "$TMP/err" && echo "its error names the first build's pid"
sed -e "s|$TMP/||g" -e 's/pid [0-9]*/pid N/' "$TMP/err"
"$PRW" verify "$TMP/out" 2> "$TMP/err" | tail -n 1
grep -q "pid $first;" "$TMP/err" && echo "verify notes the build in progress (its pid)"
rm "$TMP/hold"
wait $first
echo "first build: exit $?"
ls "$TMP/out"
"$PRW" verify "$TMP/out" 2> "$TMP/err" | tail -n 1
grep -q "being written" "$TMP/err" || echo "and no note of a build in progress"
