# Usage errors exit 2 (no plan, no task outside Slurm, bad counts); --help exits 0; a task that
# finds its inputs missing exits 1 and names the file.
unset SLURM_ARRAY_TASK_ID
"$PRW" map >/dev/null 2>&1; echo "map no plan: $?"
"$PRW" map --plan "$TMP/plan.json" >/dev/null 2>&1; echo "map no task: $?"
SLURM_ARRAY_TASK_ID=x "$PRW" map --plan "$TMP/plan.json" >/dev/null 2>&1; echo "map bad env: $?"
"$PRW" reduce --plan p --task -1 >/dev/null 2>&1; echo "reduce bad task: $?"
"$PRW" finalize --plan p --task 1 >/dev/null 2>&1; echo "finalize --task: $?"
"$PRW" plan --input x --output "$TMP" --map-tasks 0 --reduce-tasks 1 >/dev/null 2>&1; echo "plan 0 maps: $?"
"$PRW" plan --input x --output "$TMP" --map-tasks 2 >/dev/null 2>&1; echo "plan no reduces: $?"
"$PRW" build --plan p --input x --output "$TMP/o" >/dev/null 2>&1; echo "build --plan --input: $?"
for c in plan map reduce finalize; do "$PRW" $c --help >/dev/null; echo "$c help: $?"; done
"$PRW" plan --quiet --input tests/fixtures/nulls.parquet --output "$TMP/p" --map-tasks 1 --reduce-tasks 2
"$PRW" map --plan "$TMP/p/plan.json" --task 5 >/dev/null 2>&1; echo "map task out of range: $?"
"$PRW" reduce --plan "$TMP/p/plan.json" --task 1 2>&1 | sed "s|$TMP/||"; echo "reduce before map: done"
"$PRW" finalize --plan "$TMP/p/plan.json" 2>&1 | sed "s|$TMP/||"
