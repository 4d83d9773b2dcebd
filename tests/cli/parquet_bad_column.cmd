"$PRW" parquet cat tests/data/parquet/zstd_v1_null.parquet --columns nope
