# Bad options are usage errors (exit 2) and leave no file behind.
printf '' | "$PRW" ar pack --options 'zstd,brotli' "$TMP/x.ar" 2>&1
[ ! -e "$TMP/x.ar" ] || exit 9
printf '' | "$PRW" ar pack --options transpose "$TMP/x.ar" 2>/dev/null; echo "transpose: $?"
"$PRW" ar frob x 2>/dev/null; echo "frob: $?"
"$PRW" ar cat 2>/dev/null; echo "cat: $?"
"$PRW" ar --help | head -1
printf '\005\000\000\000ab' | "$PRW" ar pack "$TMP/y.ar" 2>/dev/null; echo "truncated stdin: $?"
[ ! -e "$TMP/y.ar" ] || exit 8
echo "left: $(ls -A "$TMP" | grep -c -v -e "^stdout$" -e "^stderr$")"
