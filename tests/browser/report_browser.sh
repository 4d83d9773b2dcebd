#!/bin/sh
# Loads a proberows HTML report in headless Chromium: a test-only copy gets measure.js (the
# report itself has no script), which counts every chart's marks and checks every mark and
# label inside its chart; the XHTML parser must accept the page; a screenshot is written.
#   sh tests/browser/report_browser.sh REPORT.html WORKDIR [PNG_COPY]
# Exit 0 all charts drawn and inside, 1 not, 77 (SKIP) when Chromium is absent or cannot start.
set -u
html=$1 copy=${3:-}
work=$(cd "$2" && pwd) || exit 1
here=$(cd "$(dirname "$0")" && pwd)
browser=""
for b in ${CHROMIUM:-} chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
done
[ -n "$browser" ] || { echo "chromium is not installed (apt-get install chromium)" >&2; exit 77; }
run() { # chromium with a time limit; its chatter goes to work/chromium.log
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-dev-shm-usage --user-data-dir="$work/chromium-profile" "$@" 2>>"$work/chromium.log"
}
if ! run --dump-dom about:blank >/dev/null; then
    echo "chromium cannot start: $(grep -v '^$' "$work/chromium.log" | head -1)" >&2
    exit 77
fi
abs=$(cd "$(dirname "$html")" && pwd)/$(basename "$html")
# The measuring copy: the script goes in just before </body>.
awk -v js="$here/measure.js" '/<\/body>/ { print "<script>"; while ((getline l < js) > 0) print l;
    print "</script>" } { print }' "$abs" > "$work/measure.html"
run --window-size=1150,1000 --dump-dom "file://$work/measure.html" > "$work/measured.html" || { echo "dump-dom failed"; exit 1; }
sed -n '/<pre id="prw-measure">/,/<\/pre>/p' "$work/measured.html" |
    sed 's/.*<pre id="prw-measure">//; s/<\/pre>.*//' > "$work/measure.txt"
cat "$work/measure.txt"
grep -q '^charts [1-9][0-9]*, bad 0$' "$work/measure.txt" || { echo "FAIL: charts missing, empty or with labels outside"; exit 1; }
# Chromium's XML parser (the page as application/xhtml+xml) reports any well-formedness error.
cp "$abs" "$work/report.xhtml"
run --dump-dom "file://$work/report.xhtml" > "$work/xhtml.html" || exit 1
if grep -q 'parsererror' "$work/xhtml.html"; then echo "FAIL: not well-formed XHTML"; exit 1; fi
echo "xhtml: well-formed"
height=$(grep -o 'page [0-9]*x[0-9]*' "$work/measure.txt" | sed 's/.*x//')
run --hide-scrollbars --window-size="1150,${height:-3800}" --screenshot="$work/report.png" \
    "file://$abs" >/dev/null || { echo "FAIL: no screenshot"; exit 1; }
[ -s "$work/report.png" ] || { echo "FAIL: empty screenshot"; exit 1; }
echo "screenshot: $work/report.png"
if [ -n "$copy" ]; then
    # Half size for the README: the same screenshot at device scale 0.5.
    run --hide-scrollbars --force-device-scale-factor=0.5 --window-size="1150,${height:-3800}" \
        --screenshot="$copy" "file://$abs" >/dev/null && echo "copy: $copy"
fi
exit 0
