# A truncated bzip2 dump is an error naming the file, the format and the offset; nothing on stdout.
size=$(wc -c < examples/ping-2024-03-01T0000.bz2)
head -c $((size - 100)) examples/ping-2024-03-01T0000.bz2 > "$TMP/cut.bz2"
"$PRW" atlas cat "$TMP/cut.bz2" > "$TMP/out" 2> "$TMP/err"
code=$?
grep -q "cut.bz2: bzip2: .*(at byte [0-9]*)" "$TMP/err" && echo "names file, format, offset"
echo "exit $code"
