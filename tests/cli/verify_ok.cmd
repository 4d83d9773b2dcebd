# verify passes on a fresh build, with the input re-read (per-probe counts and digests).
"$PRW" build --quiet --input tests/fixtures/verify_base.parquet --output "$TMP/out" \
    --max-row-size-mb 0.001953125 --workers 2 || exit 3
"$PRW" verify "$TMP/out" --input tests/fixtures/verify_base.parquet --workers 2 2>/dev/null |
    sed "s|$TMP/||"
