# A page whose snappy or zstd stream is damaged (64 bytes of 0xff at byte 40, inside the first
# page of column 'id'): the error names the file, row group, column, page and the byte offset
# of the compressed data in the file (the README promises one).
for c in snappy zstd; do
    cp tests/data/parquet/${c}_v1_req.parquet "$TMP/$c.parquet"
    head -c 64 /dev/zero | tr '\0' '\377' |
        dd of="$TMP/$c.parquet" bs=1 seek=40 conv=notrunc 2>/dev/null
    "$PRW" parquet cat "$TMP/$c.parquet" > /dev/null 2> "$TMP/err" && echo "$c: no error"
    sed "s|$TMP/||" "$TMP/err"
done
