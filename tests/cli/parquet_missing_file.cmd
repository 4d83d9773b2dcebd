"$PRW" parquet checksum tests/data/parquet/no_such_file.parquet
