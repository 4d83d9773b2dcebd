[ -n "$SHARED" ] || exit 77
# --outer prints the inner rows under the outer row; the binary column itself is long hex.
"$PRW" ipc cat --outer - < "$SHARED/testdata/arrow/ref_outer_three_null_rtt.arrows" | sed 's/"ffffffff[0-9a-f]*"/HEX/'
