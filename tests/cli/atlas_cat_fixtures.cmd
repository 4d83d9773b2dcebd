# atlas cat of the generated fixtures of every firmware generation equals the values Python's
# json module gives (tools/gen_atlas_fixtures.py), plain and bzip2-compressed, with each option.
set -e
F=tests/fixtures/atlas
bzip2 -c $F/firmware.jsonl > "$TMP/fw.bz2" 2>/dev/null || { echo "bzip2 is not installed" >&2; exit 77; }
"$PRW" atlas cat $F/firmware.jsonl | cmp - $F/firmware.tsv && echo "json avg src_addr: same"
"$PRW" atlas cat "$TMP/fw.bz2" --threads 3 | cmp - $F/firmware.tsv && echo "bzip2 avg src_addr: same"
"$PRW" atlas cat "$TMP/fw.bz2" --rtt max | cmp - $F/firmware.max.tsv && echo "bzip2 max: same"
"$PRW" atlas cat "$TMP/fw.bz2" --src-addr from | cmp - $F/firmware.from.tsv && echo "bzip2 from: same"
"$PRW" atlas cat $F/firmware.jsonl --limit 3 | cmp - "$(head -3 $F/firmware.tsv > "$TMP/h3"; echo "$TMP/h3")" && echo "limit: same"
"$PRW" atlas stats "$TMP/fw.bz2" | grep -v '^bad \|^file\|^format\|^bytes' | cmp - $F/firmware.stats && echo "stats: same"
