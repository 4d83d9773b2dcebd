# Every option listed under "Options:" in a command's --help appears in its Usage lines, and the
# descriptions of the Options block start in one column (continuation lines included).
for c in build plan map reduce finalize verify inspect ar ipc; do
    "$PRW" $c --help | awk -v cmd="$c" '
        /^Usage:/ { in_usage = 1 }
        in_usage && /^$/ { in_usage = 0 }
        in_usage { usage = usage " " $0 " " }
        /^Options:/ { in_opts = 1; next }
        in_opts && /^$/ { in_opts = 0 }
        in_opts && /^  -/ {
            line = $0; sub(/^  /, "", line)
            # the option is what comes before the first run of 2+ spaces
            n = match(line, /  +[^ ]/)
            opt = n ? substr(line, 1, n - 1) : line
            if (n) { col = 2 + RSTART + RLENGTH - 2; cols[col] = 1 }
            split(opt, words, /[ ,]+/)
            for (w in words) if (words[w] ~ /^--/ && words[w] != "--help") {
                nopt++
                if (index(usage, "[" words[w] " ") == 0 && index(usage, " " words[w] " ") == 0 &&
                    index(usage, "[" words[w] "]") == 0)
                    print cmd ": " words[w] " is missing from the usage lines"
            }
            next
        }
        in_opts && /^   / { match($0, /^ +/); cols[RLENGTH] = 1 }
        END {
            k = 0; for (c in cols) { k++; at = c }
            if (k != 1) print cmd ": option descriptions start in " k " columns"
            else print cmd ": " nopt " options in the usage lines, descriptions at column " at
        }'
done
