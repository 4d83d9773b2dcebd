#!/bin/sh
# Scale-out overhead: one `proberows build --plan` process vs the same plan run as separate
# map and reduce processes (2 at a time, as on this 2-core machine) and, when root, through a
# real one-host Slurm (tests/slurm/slurm_up.sh; contrib/slurm/submit.sh). Prints wall times
# per step, the run-file volume and the overhead. Outputs are compared byte for byte.
#   bench/bench_scaleout.sh [DATA_DIR] [MAPS] [REDUCES] [SLURM=0|1]
# DATA_DIR: a folder of Parquet shards (default /work/data/M; skipped when absent).
set -eu
cd "$(dirname "$0")/.."
DATA=${1:-/work/data/M}
M=${2:-4}
N=${3:-4}
USE_SLURM=${4:-1}
CLI=$(pwd)/build/release/proberows
OUT=${TMPDIR:-/tmp}/prw-bench-scaleout
[ -d "$DATA" ] || { echo "bench_scaleout: no $DATA: skipped" >&2; exit 0; }
make -s build/release/proberows
now() { date +%s.%N; }
el() { echo "$2 - $1" | bc -l | xargs printf '%.2f'; }
rm -rf "$OUT"
mkdir -p "$OUT"
t0=$(now)
"$CLI" plan --quiet --input "$DATA/*.parquet" --output "$OUT/p" --map-tasks "$M" --reduce-tasks "$N"
t1=$(now)
seq 0 $((M - 1)) | xargs -P 2 -I{} "$CLI" map --plan "$OUT/p/plan.json" --task {}
t2=$(now)
runs=$(du -sb "$OUT/p/.runs" | cut -f1)
seq 0 $((N - 1)) | xargs -P 2 -I{} "$CLI" reduce --plan "$OUT/p/plan.json" --task {} --workers 1
t3=$(now)
"$CLI" finalize --plan "$OUT/p/plan.json" 2>/dev/null
t4=$(now)
"$CLI" build --quiet --plan "$OUT/p/plan.json" --output "$OUT/one" --workers 2
t5=$(now)
for f in "$OUT"/one/*.arrayrecord*; do cmp "$f" "$OUT/p/$(basename "$f")"; done
local_total=$(el "$t0" "$t4")
one=$(el "$t4" "$t5")
printf 'set\tsteps\tplan_s\tmap_s\treduce_s\tfinalize_s\ttotal_s\tbuild_s\toverhead\truns_MB\n'
printf '%s\tlocal %dx%d\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%.0f\n' "$(basename "$DATA")" "$M" "$N" \
    "$(el "$t0" "$t1")" "$(el "$t1" "$t2")" "$(el "$t2" "$t3")" "$(el "$t3" "$t4")" "$local_total" \
    "$one" "$(echo "$local_total / $one" | bc -l)" "$(echo "$runs / 1000000" | bc -l)"
if [ "$USE_SLURM" = 1 ] && [ "$(id -u)" = 0 ]; then
    sh tests/slurm/slurm_up.sh 2>/dev/null || { echo "bench_scaleout: no Slurm" >&2; exit 0; }
    trap 'sh tests/slurm/slurm_down.sh' EXIT
    t6=$(now)
    ids=$(PROBEROWS="$CLI" sh contrib/slurm/submit.sh --output "$OUT/s" --map-tasks "$M" --plan-cpus 2 \
        --reduce-tasks "$N" --sbatch "--mem-per-cpu=5G" -- --input "$DATA/*.parquet")
    all=$(echo "$ids" | tr ' ' ',')
    while squeue -h -j "$all" 2>/dev/null | grep -q .; do sleep 0.25; done
    t7=$(now)
    for f in "$OUT"/one/*.arrayrecord*; do cmp "$f" "$OUT/s/$(basename "$f")"; done
    slurm_total=$(el "$t6" "$t7")
    printf '%s\tslurm %dx%d\t-\t-\t-\t-\t%s\t%s\t%.2f\t-\n' "$(basename "$DATA")" "$M" "$N" \
        "$slurm_total" "$one" "$(echo "$slurm_total / $one" | bc -l)"
fi
rm -rf "$OUT"
