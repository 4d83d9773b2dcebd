#!/bin/sh
# bench_atlas.sh: reading a RIPE Atlas dump, side by side in one run (rounds alternate between
# the commands; the table gives medians): the parallel bzip2 floor `lbzip2 -d -n 2 > /dev/null`,
# `bzip2 -d > /dev/null`, `proberows atlas stats` (decompress + parse every line),
# `proberows build --input DUMP`, and the users' old path: bzip2 -d to a file (the bzip2 -d
# figure), DuckDB read_json -> Parquet (tools/atlas_to_parquet.mjs), proberows build.
#
#   sh bench/bench_atlas.sh [DUMP]          (default: $BENCH_DIR/ping-5M.bz2, generated if absent)
#   env: BENCH_DIR (default /tmp/prw-bench-atlas), RESULTS (5000000), ROUNDS (3),
#        SLOW_ROUNDS (1: bzip2 -d and the old path), PRW (build/release/proberows),
#        FAST (1; 0 skips lbzip2 and proberows, to run the slow commands in a second process),
#        PRW_ALT (a second proberows binary to time beside it, e.g. one built with another
#        bzip2 decoder; optional)
# Prints one line per run and a median table: wall s, results/s, MB/s of compressed input,
# peak RSS.
set -eu
cd "$(dirname "$0")/.."
PRW=${PRW:-build/release/proberows}
BENCH_DIR=${BENCH_DIR:-/tmp/prw-bench-atlas}
RESULTS=${RESULTS:-5000000}
ROUNDS=${ROUNDS:-3}
SLOW_ROUNDS=${SLOW_ROUNDS:-1}
mkdir -p "$BENCH_DIR"
DUMP=${1:-$BENCH_DIR/ping-5M.bz2}
if [ ! -f "$DUMP" ]; then
    echo "generating $RESULTS results into $DUMP (bench/gen_atlas_dump.py | lbzip2 -9)" >&2
    /usr/bin/python3 bench/gen_atlas_dump.py "$RESULTS" | lbzip2 -9 -n 2 > "$DUMP.tmp"
    mv "$DUMP.tmp" "$DUMP"
fi
for tool in lbzip2 bzip2 node; do
    command -v $tool >/dev/null || { echo "bench_atlas: $tool is not installed" >&2; exit 77; }
done
MB=$(stat -c %s "$DUMP" | awk '{printf "%.1f", $1 / 1e6}')
echo "dump $DUMP: $MB MB compressed"
LOG=$BENCH_DIR/runs.tsv
: > "$LOG"
timed() { # name, command...
    name=$1; shift
    /usr/bin/time -f "%e %M %U %S" -o "$BENCH_DIR/time" sh -c "$*" > "$BENCH_DIR/out.txt" 2> "$BENCH_DIR/err" ||
        { echo "$name failed:"; cat "$BENCH_DIR/err"; exit 1; }
    read -r wall rss usr sys < "$BENCH_DIR/time"
    cpu=$(echo "$usr $sys" | awk '{print $1 + $2}')
    printf '%s\t%s\t%s\t%s\n' "$name" "$wall" "$rss" "$cpu" >> "$LOG"
    printf '%-22s %8.2f s  %8.2f s CPU  %6.0f MB RSS\n' "$name" "$wall" "$cpu" "$((rss / 1024))"
}
builds_dumps=no
"$PRW" build --help 2>&1 | grep -q 'dump' && builds_dumps=yes
r=0
while [ $r -lt "$ROUNDS" ]; do
    r=$((r + 1))
    [ "${FAST:-1}" = 0 ] || timed lbzip2_d_n2 "lbzip2 -d -n 2 < '$DUMP' > /dev/null"
    if [ "${FAST:-1}" != 0 ] && [ -n "${PRW_ALT:-}" ]; then
        timed prw_alt_atlas_stats "'$PRW_ALT' atlas stats '$DUMP'"
        cp "$BENCH_DIR/out.txt" "$BENCH_DIR/stats_alt.txt"
    fi
    [ "${FAST:-1}" != 0 ] || [ "$r" -gt 1 ] || timed prw_atlas_stats_count "'$PRW_ALT' atlas stats '$DUMP'"
    [ "${FAST:-1}" = 0 ] || timed prw_atlas_stats "'$PRW' atlas stats '$DUMP'"
    N=$(awk '$1=="lines"{print $2}' "$BENCH_DIR/out.txt")
    if [ "${FAST:-1}" != 0 ] && [ -n "${PRW_ALT:-}" ]; then
        cmp -s "$BENCH_DIR/out.txt" "$BENCH_DIR/stats_alt.txt" || { echo "PRW_ALT counts differ"; exit 1; }
    fi
    if [ $builds_dumps = yes ]; then
        rm -rf "$BENCH_DIR/out"
        timed prw_build_dump "'$PRW' build --quiet --input '$DUMP' --output '$BENCH_DIR/out'"
    fi
    if [ $r -le "$SLOW_ROUNDS" ]; then
        # `bzip2 -d` is timed once, as the old path's first step (writing the text to a file,
        # which costs little beside the decompression): the slowest command here.
        timed old_1_bunzip2 "bzip2 -d < '$DUMP' > '$BENCH_DIR/dump.jsonl'"
        timed old_2_duckdb "cd tools && DUCKDB_THREADS=2 node atlas_to_parquet.mjs '$BENCH_DIR/dump.jsonl' '$BENCH_DIR/dump.parquet'"
        rm -f "$BENCH_DIR/dump.jsonl"
        rm -rf "$BENCH_DIR/old"
        timed old_3_build "'$PRW' build --quiet --input '$BENCH_DIR/dump.parquet' --output '$BENCH_DIR/old'"
        if [ $builds_dumps = yes ] && [ $r = 1 ]; then
            cmp "$BENCH_DIR/out/train.arrayrecord" "$BENCH_DIR/old/train.arrayrecord" &&
                cmp "$BENCH_DIR/out/test.arrayrecord" "$BENCH_DIR/old/test.arrayrecord" &&
                echo "byte-identical: build from the dump == build from DuckDB's Parquet"
        fi
    fi
done
echo
echo "$N results in $MB MB compressed"
echo "median of runs | wall s | CPU s | results/s | MB/s compressed | peak RSS MB"
awk -F'\t' -v n="$N" -v mb="$MB" '
    { w[$1] = w[$1] " " $2; m[$1] = m[$1] " " $3; c[$1] = c[$1] " " $4; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
    function med(s,   a, c, i, j, t) { c = split(s, a, " ");
        for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2 }
    END { old = 0
        for (i = 1; i <= k; i++) { x = order[i]; t = med(w[x]); if (x ~ /^old_/) old += t
            u = med(c[x]); if (x ~ /^old_/) oldc += u
            printf "%-22s | %7.2f | %7.2f | %10.0f | %7.1f | %6.0f\n", x, t, u, n / t, mb / t, med(m[x]) / 1024 }
        if (old > 0) printf "%-22s | %7.2f | %7.2f | %10.0f | %7.1f |\n", "old path total", old, oldc, n / old, mb / old }' "$LOG"
