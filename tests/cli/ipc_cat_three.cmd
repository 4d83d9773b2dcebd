[ -n "$SHARED" ] || exit 77
"$PRW" ipc cat "$SHARED/testdata/arrow/inner_three_null_rtt.arrows"
