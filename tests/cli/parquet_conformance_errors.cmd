# Every conformance file expected to fail must exit 1 with a message naming the file.
[ -n "$SHARED" ] || exit 77
d="$SHARED/testdata/parquet/conformance"
for f in ARROW-GH-47662 PARQUET-1481 bad_empty_file bad_magic_tail bad_truncated_half; do
    "$PRW" parquet checksum "$d/$f.parquet" >/dev/null 2>"$TMP/err"
    rc=$?
    [ $rc = 1 ] || { echo "$f: exit $rc"; exit 1; }
    grep -q "^proberows: $d/$f.parquet: " "$TMP/err" || { echo "$f: message"; cat "$TMP/err"; exit 1; }
done
echo ok
