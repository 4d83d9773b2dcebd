# Bad lines are skipped and counted by reason; the first five are reported with line and byte.
"$PRW" atlas stats tests/fixtures/atlas/bad.jsonl | grep '^bad\|^lines\|^results\|^dropped\|^first_bad line'  | sed 's/ byte [0-9]*//'
"$PRW" atlas cat tests/fixtures/atlas/bad.jsonl 2>&1 >/dev/null | sed 's/(byte [0-9]*)/(byte B)/'
