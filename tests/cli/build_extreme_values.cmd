# Extreme values (DuckDB-made fixtures, tools/gen_faults_fixtures.mjs): event_time of
# +-infinity (INT64 extremes) and far-apart times (290000 BC and AD, 1969, 2201) are dropped
# and counted, and the output verifies, with the input re-read; --strict fails instead and
# leaves nothing. rtt NaN/+-infinity and ip_version other than 4/6 are kept and counted;
# --strict fails on the ip_version.
F=tests/fixtures/faults
for f in time_infinity time_far_apart odd_values; do
    "$PRW" build --input $F/$f.parquet --output "$TMP/$f" --workers 2 2> "$TMP/err" ||
        { cat "$TMP/err"; exit 3; }
    echo "$f:"
    grep -E 'dropped|kept as read' "$TMP/err"
    "$PRW" verify "$TMP/$f" --input $F/$f.parquet 2>/dev/null | tail -n 1
    "$PRW" build --strict --quiet --input $F/$f.parquet --output "$TMP/strict-$f" 2> "$TMP/err"
    echo "--strict: exit $?, $(ls -d "$TMP/strict-$f" 2>/dev/null || echo 'nothing written')"
    grep -v '^proberows: scan' "$TMP/err"
done
# The scale-out tasks keep --strict: plan records it, and the map task reading the rows fails.
"$PRW" plan --quiet --strict --input $F/time_infinity.parquet --output "$TMP/plan" \
    --map-tasks 1 --reduce-tasks 1 || exit 4
grep -o '"strict": [a-z]*' "$TMP/plan/plan.json"
"$PRW" map --plan "$TMP/plan/plan.json" --task 0 2> "$TMP/err"
echo "map --strict: exit $?"
grep -c 'outside 1970-01-01 .. 2199-12-31 (--strict)' "$TMP/err"
