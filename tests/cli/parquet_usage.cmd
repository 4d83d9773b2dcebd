"$PRW" parquet cat
