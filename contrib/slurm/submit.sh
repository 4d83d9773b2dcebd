#!/bin/sh
# Submits a whole proberows scale-out run to Slurm: plan -> map array -> reduce array ->
# finalize, each step starting only when the previous one succeeded (--dependency=afterok).
# Prints the four job ids on one line. See docs/SLURM.md.
#
#   contrib/slurm/submit.sh --output /shared/out --map-tasks 64 --reduce-tasks 64 \
#       [--plan-cpus 16] [--reduce-cpus 8] [--sbatch "--partition=batch --time=04:00:00"] \
#       -- --input '/shared/data/*.parquet' [build options]
#
# $PROBEROWS: the proberows binary, on a filesystem every node sees (default: proberows).
# Job logs go to OUTPUT/slurm-logs/.
set -eu
usage() {
    sed -n '2,12p' "$0" >&2
    exit 2
}
out="" maps="" reduces="" cpus=1 plan_cpus=1 extra=""
while [ $# -gt 0 ]; do
    case "$1" in
    --output) out=$2; shift 2 ;;
    --map-tasks) maps=$2; shift 2 ;;
    --reduce-tasks) reduces=$2; shift 2 ;;
    --reduce-cpus) cpus=$2; shift 2 ;;
    --plan-cpus) plan_cpus=$2; shift 2 ;;
    --sbatch) extra=$2; shift 2 ;;
    --) shift; break ;;
    -h | --help) usage ;;
    *) echo "submit.sh: unknown option '$1'" >&2; usage ;;
    esac
done
[ -n "$out" ] && [ -n "$maps" ] && [ -n "$reduces" ] || usage
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out/slurm-logs"
out=$(cd "$out" && pwd)
logs="$out/slurm-logs"
job="$here/proberows.sbatch"
# shellcheck disable=SC2086 # $extra is a list of sbatch options
plan=$(sbatch --parsable $extra --job-name=prw-plan --cpus-per-task="$plan_cpus" \
    --output="$logs/%x-%j.out" \
    "$job" plan --output "$out" --map-tasks "$maps" --reduce-tasks "$reduces" "$@")
# shellcheck disable=SC2086
map=$(sbatch --parsable $extra --job-name=prw-map --dependency="afterok:$plan" \
    --array="0-$((maps - 1))" --output="$logs/%x-%A_%a.out" "$job" map "$out/plan.json")
# shellcheck disable=SC2086
reduce=$(sbatch --parsable $extra --job-name=prw-reduce --dependency="afterok:$map" \
    --array="0-$((reduces - 1))" --cpus-per-task="$cpus" --output="$logs/%x-%A_%a.out" \
    "$job" reduce "$out/plan.json")
# shellcheck disable=SC2086
final=$(sbatch --parsable $extra --job-name=prw-finalize --dependency="afterok:$reduce" \
    --output="$logs/%x-%j.out" "$job" finalize "$out/plan.json")
echo "$plan $map $reduce $final"
