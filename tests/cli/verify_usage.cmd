# Usage errors exit 2; --help exits 0.
"$PRW" verify >/dev/null 2>&1; echo "no dir: $?"
"$PRW" verify "$TMP" --sample 5 --input x.parquet >/dev/null 2>&1; echo "sample+input: $?"
"$PRW" verify "$TMP" --bogus >/dev/null 2>&1; echo "unknown option: $?"
"$PRW" verify --help >/dev/null; echo "help: $?"
"$PRW" inspect >/dev/null 2>&1; echo "inspect no path: $?"
"$PRW" inspect "$TMP" --row 1 >/dev/null 2>&1; echo "inspect --row on a dir: $?"
"$PRW" inspect "$TMP/nothing" >/dev/null 2>&1; echo "inspect missing: $?"
"$PRW" inspect --help >/dev/null; echo "inspect help: $?"
