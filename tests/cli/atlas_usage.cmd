# Usage errors exit 2.
"$PRW" atlas cat tests/fixtures/atlas/bad.jsonl --rtt median
