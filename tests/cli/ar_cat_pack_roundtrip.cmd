# Re-packing the records of an uncompressed golden file reproduces it byte for byte.
[ -n "$SHARED" ] || exit 77
G="$SHARED/testdata/arrayrecord/golden"
"$PRW" ar cat "$G/tiny_uncompressed.array_record" > "$TMP/recs" || exit 3
"$PRW" ar pack --options uncompressed "$TMP/out.ar" < "$TMP/recs" || exit 4
cmp "$G/tiny_uncompressed.array_record" "$TMP/out.ar" || exit 5
"$PRW" ar cat "$G/tiny_uncompressed.array_record" --range 1:2 | od -An -c | tr -s ' '
"$PRW" ar verify "$TMP/out.ar" | sed 's|^.*/out.ar|out.ar|'
