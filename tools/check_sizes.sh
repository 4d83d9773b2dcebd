#!/bin/sh
# Checks the size rule of docs/ARCHITECTURE.md: no file under src/ over 800 lines, no function
# over 100 lines (from the line of its name to its closing brace at column 0).
#   tools/check_sizes.sh [--list N]   --list prints the N longest functions instead
set -u
cd "$(dirname "$0")/.." || exit 2
MAX_FILE=800
MAX_FN=100
lengths() {
    for f in src/*/*.c src/*/*.h python/src/*.c; do
        [ -f "$f" ] || continue
        awk -v F="$f" '
            depth == 0 && /^[A-Za-z_].*\(/ && !/;[[:space:]]*$/ { name = $0; start = NR }
            {
                line = $0; gsub(/"([^"\\]|\\.)*"/, "", line); gsub(/\047.\047/, "", line)
                o = gsub(/\{/, "{", line); c = gsub(/\}/, "}", line)
                if (depth == 0 && o > c && start) open = start
                depth += o - c
                if (depth == 0 && open) {
                    n = NR - open + 1; sub(/\(.*/, "", name); k = split(name, w, /[ *]+/)
                    print n, F ":" open ": " w[k]; open = 0
                }
                if (depth == 0 && /;[[:space:]]*$/) start = 0
            }' "$f"
    done
}
if [ "${1:-}" = --list ]; then
    lengths | sort -n | tail -n "${2:-10}"
    exit 0
fi
fail=0
for f in src/*/*.c src/*/*.h python/src/*.c; do
    [ -f "$f" ] || continue
    n=$(wc -l < "$f")
    if [ "$n" -gt $MAX_FILE ]; then echo "sizes: $f has $n lines (over $MAX_FILE)"; fail=1; fi
done
long=$(lengths | awk -v m=$MAX_FN '$1 > m')
if [ -n "$long" ]; then echo "sizes: functions over $MAX_FN lines:"; echo "$long"; fail=1; fi
[ $fail = 0 ] && echo "check-sizes: ok"
exit $fail
