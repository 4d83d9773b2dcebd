# A flipped bit in the footer is reported with its offset; exit 1.
[ -n "$SHARED" ] || exit 77
cp "$SHARED/testdata/arrayrecord/golden/tiny_uncompressed.array_record" "$TMP/bad.ar"
chmod u+w "$TMP/bad.ar"
printf '\377' | dd of="$TMP/bad.ar" bs=1 seek=200 conv=notrunc 2>/dev/null
"$PRW" ar verify "$TMP/bad.ar" 2>&1 | sed 's|^proberows: .*/bad.ar|bad.ar|'
exit "$("$PRW" ar verify "$TMP/bad.ar" >/dev/null 2>&1; echo $?)"
