#!/bin/sh
# proberows build vs the DuckDB baseline (the original tool's GROUP BY, `copy`), in one run.
#   bench/bench_build.sh [DATA_DIR] [RUNS]
# DATA_DIR holds S/ and M/ made by ../shared/bench/gen_measurements.mjs (bench/README.md);
# needs the Node tools of ../shared/bench/README.md in $DUCKDB_NODE_DIR.
set -eu
cd "$(dirname "$0")/.."
DATA=${1:-/work/data}
RUNS=${2:-3}
CLI=build/release/proberows
OUT=${TMPDIR:-/tmp}/prw-bench-out
make -s "$CLI"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
printf 'set\ttool\tthreads\twall_med_s\tpeak_rss_mib\tmeasurements_per_s\n'
for set in S M; do
    [ -d "$DATA/$set" ] || { echo "skip $set: no $DATA/$set" >&2; continue; }
    rows=$(cat "$DATA/$set.rows" 2>/dev/null || echo 0)
    for th in 1 2; do
        : > /tmp/prw-bench-times
        rss=0
        for r in $(seq "$RUNS"); do
            rm -rf "$OUT"
            /usr/bin/time -f '%e %M' -o /tmp/prw-bench-one "$CLI" build --quiet --workers "$th" \
                --input "$DATA/$set/*.parquet" --output "$OUT"
            read -r wall kb < /tmp/prw-bench-one
            echo "$wall" >> /tmp/prw-bench-times
            [ "$kb" -gt "$rss" ] && rss=$kb
        done
        med=$(median < /tmp/prw-bench-times)
        meas=$(sed -n 's/.*"rows_written": \([0-9]*\).*/\1/p' "$OUT/manifest.json")
        printf '%s\tproberows\t%s\t%s\t%d\t%.0f\n' "$set" "$th" "$med" $((rss / 1024)) \
            "$(echo "$meas / $med" | bc -l)"
    done
    if [ -n "${DUCKDB_NODE_DIR:-}" ] && [ -f ../shared/bench/duckdb_anchor.mjs ]; then
        node ../shared/bench/duckdb_anchor.mjs --runs "$RUNS" --threads 1,2 --queries copy \
            --out /tmp/prw-duck.parquet "$DATA/$set/*.parquet" | tail -n +2 |
            awk -F'\t' -v s="$set" '{printf "%s\tduckdb-copy\t%s\t%s\t%s\t-\n", s, $3, $5, $9}'
    fi
done
rm -rf "$OUT"
