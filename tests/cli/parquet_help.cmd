"$PRW" parquet --help >/dev/null
