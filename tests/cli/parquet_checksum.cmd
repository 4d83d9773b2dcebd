"$PRW" parquet checksum tests/data/parquet/snappy_v2_null.parquet
