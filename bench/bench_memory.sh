#!/bin/sh
# The memory-bounded build (issue 8): M unlimited vs M at 256M (time ratio, peak RSS, output
# compared byte for byte), then L at 2G (wall, peak RSS, temp bytes against the input size).
#   bench/bench_memory.sh [DATA_DIR] [RUNS] [WORKERS]
# DATA_DIR holds M/ and L/ made by ../shared/bench/gen_measurements.mjs (bench/README.md).
# L runs once (about a minute); it needs twice its output size (about 8 GB) free in $TMPDIR.
set -eu
cd "$(dirname "$0")/.."
DATA=${1:-/work/data}
RUNS=${2:-3}
WORKERS=${3:-2}
CLI=build/release/proberows
TMP=${TMPDIR:-/tmp}
make -s "$CLI"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
json_num() { sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p" "$1" | head -n 1; }

# run SET LIMIT OUT: one build; appends "wall rss_kib cpu_s" to $TMP/prw-mem-times
run() {
    rm -rf "$3"
    set -- "$1" "$2" "$3"
    if [ "$2" = none ]; then lim=; else lim="--memory-limit $2"; fi
    # shellcheck disable=SC2086
    /usr/bin/time -f '%e %M %U %S' -o "$TMP/prw-mem-one" "$CLI" build --quiet --workers "$WORKERS" \
        $lim --input "$DATA/$1/*.parquet" --output "$3"
    awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}' "$TMP/prw-mem-one" >> "$TMP/prw-mem-times"
}

# report SET LIMIT OUT: median wall, max RSS, median CPU, temp bytes of the last run
report() {
    wall=$(cut -d' ' -f1 "$TMP/prw-mem-times" | median)
    rss=$(cut -d' ' -f2 "$TMP/prw-mem-times" | sort -n | tail -n 1)
    cpu=$(cut -d' ' -f3 "$TMP/prw-mem-times" | median)
    temp=$(json_num "$3/manifest.json" temp_bytes)
    in=$(du -sb "$DATA/$1" | cut -f1)
    printf '%s\t%s\t%s\t%s\t%d\t%s\t%.2f\n' "$1" "$2" "$wall" "$cpu" $((rss / 1024)) "$temp" \
        "$(echo "${temp:-0} / $in" | bc -l)"
}

printf 'set\tlimit\twall_med_s\tcpu_med_s\tpeak_rss_mib\ttemp_bytes\ttemp_per_input_byte\n'
if [ -d "$DATA/M" ]; then
    : > "$TMP/prw-mem-times"
    for r in $(seq "$RUNS"); do run M none "$TMP/prw-mem-ref"; done
    report M none "$TMP/prw-mem-ref"
    ref=$wall
    : > "$TMP/prw-mem-times"
    for r in $(seq "$RUNS"); do run M 256M "$TMP/prw-mem-out"; done
    report M 256M "$TMP/prw-mem-out"
    for f in train.arrayrecord test.arrayrecord; do
        cmp "$TMP/prw-mem-ref/$f" "$TMP/prw-mem-out/$f" || { echo "M: $f differs" >&2; exit 1; }
    done
    echo "M: 256M output byte-identical to the unlimited run; time ratio $(echo "$wall / $ref" |
        bc -l | cut -c1-4); RSS bound $((256 * 11 / 10)) MiB" >&2
    rm -rf "$TMP/prw-mem-ref" "$TMP/prw-mem-out"
else
    echo "skip M: no $DATA/M" >&2
fi
if [ -d "$DATA/L" ]; then
    : > "$TMP/prw-mem-times"
    run L 2G "$TMP/prw-mem-out"
    report L 2G "$TMP/prw-mem-out"
    "$CLI" verify --workers "$WORKERS" "$TMP/prw-mem-out" >&2
    rm -rf "$TMP/prw-mem-out"
else
    echo "skip L: no $DATA/L" >&2
fi
rm -f "$TMP/prw-mem-one" "$TMP/prw-mem-times"
