#!/bin/sh
# Our bzip2 decoder (build/release/bench_bzip2) against the bzip2 tools, in one run.
#   bench/bench_bzip2.sh [FILE.bz2]
# Without a file it makes $LINES (default 5M) JSON lines shaped like RIPE Atlas ping results
# (~125 bytes each) in $WORK (default /tmp/prw-bench-bz2) and compresses them with bzip2 -9.
# Then, $ROUNDS times (default 3), alternating: lbzip2 -d -n 2, lbzip2 -d -n 1, bzip2 -d (all
# > /dev/null) and ours at 1 and 2 threads (decode only, the output checksummed in memory).
# bzip2 -d, the slowest by far, runs in the first $BZIP2_ROUNDS rounds only (default: all).
# Prints the median wall time, the median CPU time (user + sys: steadier than wall time on a
# shared machine), compressed and decoded MB/s (10^6 B/s, from wall time) and peak RSS.
# lbzip2 is optional (apt package lbzip2); the bench is not a test.
set -eu
cd "$(dirname "$0")/.."
WORK=${WORK:-/tmp/prw-bench-bz2}
LINES=${LINES:-5000000}
ROUNDS=${ROUNDS:-3}
BZIP2_ROUNDS=${BZIP2_ROUNDS:-$ROUNDS}
BENCH=build/release/bench_bzip2
make -s "$BENCH"
mkdir -p "$WORK"
FILE=${1:-}
if [ -z "$FILE" ]; then
    FILE=$WORK/lines.json.bz2
    if [ ! -s "$FILE" ]; then
        awk -v n="$LINES" 'BEGIN { srand(18); for (i = 0; i < n; i++) {
            r = rand(); p = 1000 + int(r * 30000); a = 5 + rand() * 200;
            printf "{\"fw\":%d,\"af\":4,\"dst_addr\":\"193.0.%d.%d\",\"src_addr\":\"10.%d.0.%d\",",
                4700 + (p % 7) * 100, p % 20, p % 250, p % 200, p % 9;
            printf "\"min\":%.3f,\"max\":%.3f,\"avg\":%.3f,\"prb_id\":%d,\"timestamp\":%d}\n",
                a * 0.98, a * 1.05, a, p, 1700000000 + int(i / 8000) * 240 }
        }' | bzip2 -9 > "$FILE.tmp"
        mv "$FILE.tmp" "$FILE"
    fi
fi
size=$(wc -c < "$FILE")
[ -s "$FILE.size" ] || bzip2 -dc "$FILE" | wc -c > "$FILE.size" # cached: decoding takes a while
plain=$(cat "$FILE.size")
echo "input: $FILE, $size bytes compressed, $plain decoded; $ROUNDS rounds" >&2
run() { # name command... -> appends "wall kb" to $WORK/t.name
    name=$1
    shift
    /usr/bin/time -f '%e %M %U %S' -o "$WORK/one" sh -c "$*" > /dev/null
    cat "$WORK/one" >> "$WORK/t.$name"
    echo "$name: $(cat "$WORK/one") (wall s, peak KiB, user s, sys s)" >&2
}
tools="lbzip2-n2 lbzip2-n1 bzip2 ours-1 ours-2"
for t in $tools; do : > "$WORK/t.$t"; done
for r in $(seq "$ROUNDS"); do
    if command -v lbzip2 > /dev/null; then
        run lbzip2-n2 "lbzip2 -d -n 2 < '$FILE'"
        run lbzip2-n1 "lbzip2 -d -n 1 < '$FILE'"
    fi
    [ "$r" -gt "$BZIP2_ROUNDS" ] || run bzip2 "bzip2 -d < '$FILE'"
    run ours-1 "$BENCH --runs 1 --threads 1 '$FILE'"
    run ours-2 "$BENCH --runs 1 --threads 2 '$FILE'"
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
printf 'tool\twall_med_s\tcpu_med_s\tcompressed_MB_s\tdecoded_MB_s\tpeak_rss_MiB\n'
for t in $tools; do
    [ -s "$WORK/t.$t" ] || continue
    wall=$(awk '{print $1}' "$WORK/t.$t" | median)
    cpu=$(awk '{print $3 + $4}' "$WORK/t.$t" | median)
    rss=$(awk '$2 > m {m = $2} END {print int(m / 1024)}' "$WORK/t.$t")
    awk -v t="$t" -v w="$wall" -v u="$cpu" -v c="$size" -v d="$plain" -v m="$rss" 'BEGIN {
        printf "%s\t%.2f\t%.2f\t%.1f\t%.1f\t%d\n", t, w, u, c / w / 1e6, d / w / 1e6, m }'
done
