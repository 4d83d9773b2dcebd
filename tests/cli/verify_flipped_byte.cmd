# A flipped byte inside a record's chunk is reported with the file, the check and the byte.
"$PRW" build --quiet --input tests/fixtures/verify_base.parquet --output "$TMP/out" || exit 3
printf '\377' | dd of="$TMP/out/train.arrayrecord" bs=1 seek=30000 conv=notrunc 2>/dev/null
"$PRW" verify "$TMP/out" 2>/dev/null | sed "s|$TMP/||"
exit "$("$PRW" verify "$TMP/out" >/dev/null 2>&1; echo $?)"
