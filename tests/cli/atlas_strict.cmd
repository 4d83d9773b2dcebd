# --strict: the first bad line is an error naming the file and the line (exit 1).
"$PRW" atlas stats tests/fixtures/atlas/bad.jsonl --strict
