# Sourced by build_dump_*.cmd. same_as_duckdb JSONL DUMP LABEL [OPTIONS]: builds DUMP (the
# dump, compressed or not, whose text is JSONL) and DuckDB's Parquet conversion of JSONL
# (tools/atlas_to_parquet.mjs, the users' former ingest) with the same options, and prints
# "LABEL OPTIONS: same" when every output file is byte-identical.
same_as_duckdb() {
    jsonl=$1; dump=$2; label=$3; shift 3
    conv=""
    for a in "$@"; do
        case "$a" in --rtt|--src-addr) conv="$conv $a"; next=1 ;;
        *) [ -n "${next:-}" ] && conv="$conv $a"; next="" ;; esac
    done
    rm -rf "$TMP/pq" "$TMP/dump"
    # shellcheck disable=SC2086
    (cd tools && node atlas_to_parquet.mjs "$jsonl" "$TMP/conv.parquet" $conv) || return 1
    "$PRW" build --quiet --input "$TMP/conv.parquet" --output "$TMP/pq" "$@" || return 1
    "$PRW" build --quiet --input "$dump" --output "$TMP/dump" "$@" || return 1
    n=0
    for out in "$TMP"/pq/*.arrayrecord*; do
        cmp "$out" "$TMP/dump/${out##*/}" || return 1
        n=$((n + 1))
    done
    [ "$n" = "$(ls "$TMP"/dump/*.arrayrecord* | wc -l)" ] || return 1
    echo "$label $*: same" | sed 's/ :/:/'
}
need_duckdb() {
    [ -d tools/node_modules/@duckdb/node-api ] ||
        { echo "tools/node_modules missing (cd tools && npm ci)" >&2; exit 77; }
    command -v node >/dev/null || { echo "node is not installed" >&2; exit 77; }
}
