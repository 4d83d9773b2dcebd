# 'ar info' and 'ar verify' count chunks the same way and say what they count: info's chunks
# (holding records, from the footer) equal verify's record chunks; verify adds the total.
[ -n "$SHARED" ] || exit 77
G="$SHARED/testdata/arrayrecord/golden/small1000_uncompressed_group10.array_record"
"$PRW" ar info "$G" | sed -n 's/^chunks: //p'
"$PRW" ar verify "$G" | sed 's|^.*/||'
