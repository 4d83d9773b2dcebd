#!/bin/sh
# The real-Slurm end-to-end test: starts a one-host Slurm (slurm_up.sh), submits plan -> map
# array -> reduce array -> finalize through contrib/slurm/submit.sh (each step afterok the one
# before), waits, checks every job completed with exit 0, compares every shard with
# `proberows build --plan` on this machine, runs `proberows verify`, and stops Slurm.
#
#   sh tests/slurm/e2e.sh PROBEROWS TMPDIR
# Exit: 0 pass, 1 fail, 77 skipped (not root, Slurm not installable, PRW_SLURM=0, or a Slurm
# that this script did not start is running). Runs serialised through a lock file.
set -u
[ "${PRW_SLURM:-1}" = 0 ] && { echo "e2e: PRW_SLURM=0: skipped" >&2; exit 77; }
[ $# -eq 2 ] || { echo "usage: e2e.sh PROBEROWS TMPDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PRW=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
mkdir -p "$2"
TMP=$(cd "$2" && pwd)
[ "$(id -u)" = 0 ] || { echo "e2e: not root: skipped" >&2; exit 77; }
if command -v flock >/dev/null 2>&1; then
    exec 9>/tmp/proberows-slurm-test.lock
    flock 9
fi
if [ -f /run/slurmctld.pid ] && kill -0 "$(cat /run/slurmctld.pid)" 2>/dev/null; then
    echo "e2e: a Slurm this test did not start is running: skipped" >&2
    exit 77
fi
sh "$here/slurm_up.sh"
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || exit 1
trap 'sh "$here/slurm_down.sh"' EXIT
fail() {
    echo "e2e: $*" >&2
    for f in "$D"/slurm-logs/*; do [ -f "$f" ] && { echo "== $f" >&2; cat "$f" >&2; }; done
    exit 1
}

D="$TMP/slurm-run"
cd "$root" || exit 1
ids=$(PROBEROWS="$PRW" sh contrib/slurm/submit.sh --output "$D" --map-tasks 3 --reduce-tasks 3 \
    --plan-cpus 2 --reduce-cpus 2 -- --input "$root/tests/fixtures/scaleout/*.parquet" \
    --input "$root/tests/fixtures/nulls.parquet" --input "$root/tests/fixtures/dominant_probe.parquet") ||
    fail "submit.sh failed"
set -- $ids
[ $# = 4 ] || fail "submit.sh printed '$ids', not four job ids"
all=$(echo "$ids" | tr ' ' ',')
i=0
while squeue -h -j "$all" 2>/dev/null | grep -q .; do
    sleep 0.25
    i=$((i + 1))
    [ $i -lt 1200 ] || fail "jobs still queued after 300 s: $(squeue -h -j "$all")"
done
for j in "$@"; do
    # An array job's tasks are listed one per record; each must be COMPLETED with 0:0.
    info=$(scontrol -o show job "$j" 2>/dev/null) || fail "job $j unknown to scontrol"
    echo "$info" | grep -v -q "JobState=COMPLETED" && fail "job $j did not complete: $info"
    echo "$info" | grep -o "ExitCode=[0-9:]*" | grep -v -q "ExitCode=0:0" &&
        fail "job $j exited non-zero: $info"
done
[ -f "$D/manifest.json" ] || fail "no manifest.json after finalize"
[ -d "$D/.runs" ] && fail "finalize left $D/.runs"
"$PRW" build --quiet --plan "$D/plan.json" --output "$TMP/ref" || fail "build --plan failed"
n=0
for f in "$TMP"/ref/*.arrayrecord-*; do
    cmp "$f" "$D/$(basename "$f")" || fail "$(basename "$f") differs from build --plan"
    n=$((n + 1))
done
[ $n = 6 ] || fail "expected 6 shards, found $n"
"$PRW" verify "$D" >/dev/null 2>&1 || fail "proberows verify rejects the Slurm output"
echo "e2e: Slurm plan/map/reduce/finalize (3 map, 3 reduce tasks): 6 shards identical to build --plan"
exit 0
