[ -n "$SHARED" ] || exit 77
head -c 900 "$SHARED/testdata/arrow/ref_inner_three_null_rtt.arrows" > "$TMP/t.arrows"
"$PRW" ipc cat "$TMP/t.arrows" > /dev/null 2> "$TMP/err"
rc=$?
grep -q "^proberows: $TMP/t.arrows: message body of 160 bytes runs past the end of the stream (at byte 784)\$" "$TMP/err" || { cat "$TMP/err"; exit 9; }
exit $rc
