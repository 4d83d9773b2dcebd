# A build with --shards 4, then one with 1 shard into the same directory: the 4-shard files go
# in the same step as the new files arrive, so a glob of train.arrayrecord* reads no duplicate.
IN=tests/fixtures/verify_base.parquet
"$PRW" build --quiet --input $IN --output "$TMP/out" --shards 4 --workers 2 || exit 3
ls "$TMP/out"
"$PRW" build --quiet --input $IN --output "$TMP/out" --workers 2 || exit 4
ls -A "$TMP/out"
"$PRW" verify "$TMP/out" | tail -n 1
