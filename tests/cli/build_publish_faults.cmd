# A build killed (SIGKILL, from the test hook PROBEROWS_TEST_PUBLISH_FAULT) after each step k of
# its publish, replacing a 4-shard output with a 1-shard one: afterwards the directory holds
# exactly the old files or exactly the new ones (byte for byte), and verify passes, its
# recovery step included. Then the same with a failure instead of a kill at every step.
# (k past the last step: the build finishes, the new set.)
IN=tests/fixtures/verify_base.parquet
OPTS="--quiet --input $IN --workers 2"
"$PRW" build $OPTS --output "$TMP/old" --shards 4 || exit 3
"$PRW" build $OPTS --output "$TMP/new" || exit 3
same_set() { # dir ref: the same file names (ignoring the lock file) and the same arrayrecords
    [ "$(cd "$1" && ls)" = "$(cd "$2" && ls)" ] || return 1
    for f in "$2"/*.arrayrecord*; do cmp -s "$f" "$1/${f##*/}" || return 1; done
}
for mode in kill fail; do
    k=1 seen_old=0 seen_new=0
    while [ $k -le 20 ]; do # the publish has 16 steps (9 old files, 3 new ones)
        D="$TMP/$mode$k"
        cp -r "$TMP/old" "$D"
        PROBEROWS_TEST_PUBLISH_FAULT=$k:$mode "$PRW" build $OPTS --output "$D" 2>/dev/null
        "$PRW" verify "$D" > "$TMP/v" 2>/dev/null || { echo "$mode $k: verify fails"; cat "$TMP/v"; }
        if same_set "$D" "$TMP/old"; then seen_old=$((seen_old + 1))
        elif same_set "$D" "$TMP/new"; then seen_new=$((seen_new + 1))
        else echo "$mode $k: neither the old nor the new set:" $(cd "$D" && ls -A); fi
        k=$((k + 1))
    done
    echo "$mode after step 1..20: the old set $seen_old times, the new set $seen_new times"
done
