# An input cut short by another process while the build reads it (PROBEROWS_TEST_CUT_AFTER_SCAN
# cuts it to a third when the scan ends, before any row is read). The memory mode reads it
# mapped, where a read past the new end raises SIGBUS: the build fails (exit 1, not a crash)
# naming the file, its two sizes and the offset it could no longer be read from. The bounded mode
# reads it with pread, which comes back short. Neither leaves an output directory.
W="$TMP/w"
mkdir "$W" || exit 3
IN="$W/in.parquet"
R=$(cd "$W" && pwd -P)
for mode in "" "--memory-limit 16M"; do
    cp tests/fixtures/dominant_probe.parquet "$IN"
    size=$(stat -c %s "$IN")
    PROBEROWS_TEST_CUT_AFTER_SCAN="$((size / 3)):$IN" "$PRW" build --quiet --input "$IN" \
        --output "$W/out" --workers 2 $mode 2> "$W/err"
    echo "build${mode:+ $mode}: exit $?"
    # which row group's read failed first depends on the threads
    sed -e "s|$R/||g" -e "s|$W/||g" -e "s/ $size bytes / SIZE bytes /" \
        -e "s/ $((size / 3)) now/ SIZE\/3 now/" -e 's/ (reading it then failed: .*)$/ (...)/' \
        -e 's/byte offset [0-9]* on/byte offset N on/' "$W/err"
    at=$(sed -n 's/.*could not be read from byte offset \([0-9]*\) on.*/\1/p' "$W/err")
    [ -z "$at" ] || [ "$at" -ge $((size / 3 / 4096 * 4096)) ] || echo "offset $at is before the cut"
    ls "$W"
done
