# inspect: the summary of an output directory, one record, and a probe's records.
"$PRW" build --quiet --input tests/fixtures/verify_base.parquet --output "$TMP/out" \
    --max-row-size-mb 0.001953125 || exit 3
"$PRW" inspect "$TMP/out" | sed "s|$TMP/||"
"$PRW" inspect "$TMP/out/train.arrayrecord" --row 1 | sed "s|$TMP/||"
"$PRW" inspect "$TMP/out" --probe 10.20.34.1 | sed "s|$TMP/||"
"$PRW" inspect "$TMP/out/test.arrayrecord" --row 0 --json | sed "s|$TMP/||" | cut -c1-300
"$PRW" inspect "$TMP/out/test.arrayrecord" --row 2 --all | wc -l | tr -d " "
