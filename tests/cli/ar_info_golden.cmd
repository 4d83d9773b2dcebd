[ -n "$SHARED" ] || exit 77
"$PRW" ar info "$SHARED/testdata/arrayrecord/golden/small1000_uncompressed_group10.array_record" | sed 's|^file: .*/|file: |'
