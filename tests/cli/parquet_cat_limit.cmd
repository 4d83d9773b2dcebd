"$PRW" parquet cat tests/data/parquet/zstd_v1_null.parquet --columns id,s,b,d,ts --limit 3
