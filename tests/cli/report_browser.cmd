# The report of the sample data in a real browser (headless Chromium): every chart has marks,
# no mark or label lies outside its chart, the XHTML parser accepts the page, and a
# screenshot is written to $TMP/report.png. SKIPs with the reason when Chromium cannot start.
"$PRW" build --quiet --input 'examples/*.parquet' --output "$TMP/out" || exit 3
"$PRW" report "$TMP/out" >/dev/null || exit 4
sh tests/browser/report_browser.sh "$TMP/out/report.html" "$TMP" >"$TMP/browser.txt"
rc=$?
[ $rc = 77 ] && exit 77
cat "$TMP/browser.txt" >&2
[ $rc = 0 ] || exit $rc
grep -c '^chart ".*": [1-9][0-9]* marks' "$TMP/browser.txt"
grep '^charts ' "$TMP/browser.txt"
