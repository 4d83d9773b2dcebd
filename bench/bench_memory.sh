#!/bin/sh
# The memory-bounded build (issues 8, 22): M unlimited vs M at 256M and 128M, alternating runs
# (time ratio, peak RSS, output compared byte for byte), then L at 2G against L in memory
# (20G). Per phase (key pass, decode + spill, encode + write) the median wall and CPU seconds
# from the build's own summary, and CPU / wall: the cores the phase kept busy.
#   bench/bench_memory.sh [DATA_DIR] [RUNS] [WORKERS]
# DATA_DIR holds M/ and L/ made by ../shared/bench/gen_measurements.mjs (bench/README.md).
# L runs once per mode (about a minute each); it needs twice its output size free in $TMPDIR.
# PRW=path/to/proberows measures another binary (e.g. a baseline) with the same script.
set -eu
cd "$(dirname "$0")/.."
DATA=${1:-/work/data}
RUNS=${2:-3}
WORKERS=${3:-2}
CLI=${PRW:-build/release/proberows}
TMP=${TMPDIR:-/tmp}
[ -n "${PRW:-}" ] || make -s "$CLI"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
json_num() { sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p" "$1" | head -n 1; }

# run SET LIMIT OUT: one build; appends to $TMP/prw-mem-times.LIMIT the line
# "wall rss_kib cpu_s keys_wall keys_cpu decode_wall decode_cpu write_wall write_cpu"
run() {
    rm -rf "$3"
    if [ "$2" = none ]; then lim=; else lim="--memory-limit $2"; fi
    # shellcheck disable=SC2086
    /usr/bin/time -f '%e %M %U %S' -o "$TMP/prw-mem-one" "$CLI" build --workers "$WORKERS" \
        $lim --input "$DATA/$1/*.parquet" --output "$3" 2> "$TMP/prw-mem-log" ||
        { echo "$1 at $2: $(tail -n 1 "$TMP/prw-mem-log")" >&2; return 1; }
    # "time: scan Xs, decode Xs, group Xs, encode+write Xs" and "key pass Xs" (wall), then
    # "cpu: key pass Xs, decode Xs, group Xs, encode+write Xs" (CPU)
    phases=$(awk '
        /^  time:/ { gsub(/[s,;]/, " "); dw = $5; ww = $9 }
        /key pass/ && /memory:/ { n = split($0, a, " "); kw = a[n]; sub(/s$/, "", kw) }
        /^  cpu:/ { gsub(/[s,;(]/, " "); kc = $4; dc = $6; wc = $10 }
        END { printf "%s %s %s %s %s %s", kw + 0, kc + 0, dw + 0, dc + 0, ww + 0, wc + 0 }
    ' "$TMP/prw-mem-log")
    awk -v ph="$phases" '{printf "%s %s %.2f %s\n", $1, $2, $3 + $4, ph}' "$TMP/prw-mem-one" \
        >> "$TMP/prw-mem-times.$2"
}

# col LIMIT N: median of column N
col() { cut -d' ' -f"$2" "$TMP/prw-mem-times.$1" | median; }
ratio() { echo "$1 $2" | awk '{printf "%.2f", ($2 > 0) ? $1 / $2 : 0}'; }

# report SET LIMIT OUT: medians (wall, CPU, per phase), max RSS, temp bytes of the last run
report() {
    wall=$(col "$2" 1)
    rss=$(cut -d' ' -f2 "$TMP/prw-mem-times.$2" | sort -n | tail -n 1)
    cpu=$(col "$2" 3)
    temp=$(json_num "$3/manifest.json" temp_bytes)
    in=$(du -sb "$DATA/$1" | cut -f1)
    k="$(col "$2" 4)/$(col "$2" 5)"
    d="$(col "$2" 6)/$(col "$2" 7)"
    w="$(col "$2" 8)/$(col "$2" 9)"
    printf '%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%.2f\n' "$1" "$2" "$wall" "$cpu" \
        "$(ratio "$cpu" "$wall")" $((rss / 1024)) "$k" "$d" "$w" "${temp:-0}" \
        "$(echo "${temp:-0} / $in" | bc -l)"
}

same() {
    for f in train.arrayrecord test.arrayrecord; do
        cmp "$1/$f" "$2/$f" || { echo "$3: $f differs" >&2; exit 1; }
    done
}

printf 'set\tlimit\twall_med_s\tcpu_med_s\tcpu/wall\tpeak_rss_mib\tkeys_wall/cpu\t'
printf 'decode_wall/cpu\twrite_wall/cpu\ttemp_bytes\ttemp_per_input_byte\n'
if [ -d "$DATA/M" ]; then
    : > "$TMP/prw-mem-times.none"
    : > "$TMP/prw-mem-times.256M"
    : > "$TMP/prw-mem-times.128M"
    for _ in $(seq "$RUNS"); do
        run M none "$TMP/prw-mem-ref"
        run M 256M "$TMP/prw-mem-out"
        same "$TMP/prw-mem-ref" "$TMP/prw-mem-out" "M at 256M"
        if run M 128M "$TMP/prw-mem-out2"; then
            same "$TMP/prw-mem-ref" "$TMP/prw-mem-out2" "M at 128M"
        fi
    done
    report M none "$TMP/prw-mem-ref"
    ref=$wall
    report M 256M "$TMP/prw-mem-out"
    echo "M: 256M output byte-identical to the unlimited run; time ratio $(ratio "$wall" "$ref");" \
        "RSS bound $((256 * 11 / 10)) MiB" >&2
    if [ -s "$TMP/prw-mem-times.128M" ]; then
        report M 128M "$TMP/prw-mem-out2"
        echo "M: 128M output byte-identical; time ratio $(ratio "$wall" "$ref");" \
            "RSS bound $((128 * 11 / 10)) MiB" >&2
    fi
    rm -rf "$TMP/prw-mem-ref" "$TMP/prw-mem-out" "$TMP/prw-mem-out2"
else
    echo "skip M: no $DATA/M" >&2
fi
if [ -d "$DATA/L" ] && [ "${SKIP_L:-0}" != 1 ]; then
    : > "$TMP/prw-mem-times.20G"
    : > "$TMP/prw-mem-times.2G"
    run L 20G "$TMP/prw-mem-ref"
    report L 20G "$TMP/prw-mem-ref"
    ref=$wall
    run L 2G "$TMP/prw-mem-out"
    report L 2G "$TMP/prw-mem-out"
    same "$TMP/prw-mem-ref" "$TMP/prw-mem-out" "L at 2G"
    echo "L: 2G output byte-identical to the in-memory run; time ratio $(ratio "$wall" "$ref")" >&2
    "$CLI" verify --workers "$WORKERS" "$TMP/prw-mem-out" >&2
    rm -rf "$TMP/prw-mem-ref" "$TMP/prw-mem-out"
else
    echo "skip L: no $DATA/L (or SKIP_L=1)" >&2
fi
rm -f "$TMP/prw-mem-one" "$TMP/prw-mem-log" "$TMP"/prw-mem-times.*
