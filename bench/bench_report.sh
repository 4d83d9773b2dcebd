#!/bin/sh
# proberows report on the M build output, full pass and --sample 1000, side by side with
# `proberows inspect` of the same output (the same records read and decompressed, only the
# first inner row decoded) as the baseline for the reading cost; runs alternate, medians.
#   bench/bench_report.sh [OUTDIR] [RUNS]
# OUTDIR: a build output of M; default: built once into $TMPDIR/prw-bench-report-M from
# DATA_DIR/M (DATA_DIR defaults to /work/data, made by ../shared/bench/gen_measurements.mjs).
set -eu
cd "$(dirname "$0")/.."
CLI=build/release/proberows
RUNS=${2:-5}
make -s "$CLI"
OUT=${1:-${TMPDIR:-/tmp}/prw-bench-report-M}
if [ ! -f "$OUT/manifest.json" ]; then
    DATA=${DATA_DIR:-/work/data}
    [ -d "$DATA/M" ] || { echo "skip report bench: no $OUT/manifest.json and no $DATA/M" >&2; exit 0; }
    "$CLI" build --quiet --input "$DATA/M/*.parquet" --output "$OUT"
fi
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
T=${TMPDIR:-/tmp}/prw-bench-report.$$
mkdir -p "$T"
one() { # name, command...
    name=$1; shift
    /usr/bin/time -f '%e %U %M' -o "$T/one" "$@" >/dev/null
    read -r wall user kb < "$T/one"
    echo "$wall" >> "$T/$name.wall"; echo "$user" >> "$T/$name.user"; echo "$kb" >> "$T/$name.rss"
}
for r in $(seq "$RUNS"); do
    one report "$CLI" report "$OUT" -o "$T/r.html" --workers 2
    one sample "$CLI" report "$OUT" -o "$T/s.html" --workers 2 --sample 1000
    one json "$CLI" report "$OUT" --json -o "$T/r.json" --workers 2
    one inspect "$CLI" inspect "$OUT" --workers 2
done
printf 'case\twall_med_s\tuser_med_s\tpeak_rss_mib\n'
for c in report sample json inspect; do
    printf '%s\t%s\t%s\t%d\n' "$c" "$(median < "$T/$c.wall")" "$(median < "$T/$c.user")" \
        $(( $(sort -n "$T/$c.rss" | tail -1) / 1024 ))
done
rm -rf "$T"
