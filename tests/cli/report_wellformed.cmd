# The HTML report is well-formed XML (libxml2's parser), self-contained (no script, no
# external reference) and written atomically; the JSON parses (node, when installed).
command -v xmllint >/dev/null ||
    { echo "xmllint is not installed (apt-get install libxml2-utils)" >&2; exit 77; }
set -e
"$PRW" build --quiet --input 'examples/*.parquet' --output "$TMP/out"
"$PRW" report "$TMP/out" | sed "s|$TMP/||"
xmllint --noout "$TMP/out/report.html"
echo "well-formed"
grep -c '<script\|<link\|<img\|src=\|href=\|@import\|url(' "$TMP/out/report.html" || true
grep -c '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' "$TMP/out/report.html"
"$PRW" report "$TMP/out" --sample 3 -o "$TMP/s.html" | sed "s|$TMP/||"
xmllint --noout "$TMP/s.html"
grep -o 'Sampled: [^(]*' "$TMP/s.html"
ls -a "$TMP/out" | grep -c 'report' # no temporary left beside it
