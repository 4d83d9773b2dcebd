# --memory-limit 150M is 150 MiB: the summary and the too-small error print sizes the one way
# (powers of 1024, prw_format_bytes), as the option parses them.
"$PRW" build --input tests/fixtures/verify_base.parquet --output "$TMP/a" --memory-limit 150M \
    --workers 1 2>&1 >/dev/null | grep -o 'limit [0-9.]* [KMGT]*i*B'
"$PRW" build --input tests/fixtures/verify_base.parquet --output "$TMP/b" --memory-limit 2M \
    --workers 1 2>&1 >/dev/null | grep -o 'limit of [0-9.]* [KMGT]*i*B'
exit 0
