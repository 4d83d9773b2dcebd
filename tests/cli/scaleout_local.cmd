# plan -> 3 map tasks and 3 reduce tasks as separate processes running at the same time ->
# finalize; the shards equal build --plan byte for byte, and verify accepts the directory.
D="$TMP/run"
"$PRW" plan --quiet --input 'tests/fixtures/scaleout/*.parquet' --input tests/fixtures/nulls.parquet \
    --output "$D" --map-tasks 3 --reduce-tasks 3 --null-rtt failed || exit 3
for i in 0 1 2; do SLURM_ARRAY_TASK_ID=$i "$PRW" map --plan "$D/plan.json" & done
wait
for k in 2 1 0; do "$PRW" reduce --plan "$D/plan.json" --task $k --workers 1 & done
wait
"$PRW" finalize --plan "$D/plan.json" 2>/dev/null || exit 4
"$PRW" build --quiet --plan "$D/plan.json" --output "$TMP/ref" || exit 5
for f in "$TMP"/ref/*.arrayrecord-*; do
    cmp "$f" "$D/$(basename "$f")" && echo "same $(basename "$f")"
done
[ -d "$D/.runs" ] && echo "runs left behind"
"$PRW" verify "$D" 2>/dev/null | tail -n 1
