# Sourced by atlas_duckdb_*.cmd: check FILE LABEL [OPTIONS] prints "LABEL OPTIONS: same" when
# DuckDB's Parquet of FILE (tools/atlas_to_parquet.mjs) reads back as `atlas cat FILE OPTIONS`.
check() {
    f=$1; label=$2; shift 2
    (cd tools && node atlas_to_parquet.mjs "$f" "$TMP/p.parquet" "$@") || return 1
    "$PRW" parquet cat "$TMP/p.parquet" --columns event_time,src_addr,dst_addr,ip_version,rtt \
        > "$TMP/all" || return 1
    awk -F'\t' '$2!="\\N"' "$TMP/all" > "$TMP/pq"
    "$PRW" atlas cat "$f" "$@" | cmp - "$TMP/pq" || return 1
    nulls=$(awk -F'\t' '$2=="\\N"' "$TMP/all" | wc -l)
    dropped=$("$PRW" atlas stats "$f" "$@" | awk '$1=="dropped_no_src"{print $2}')
    [ "$nulls" -eq "$dropped" ] && echo "$label $*: same" | sed 's/ :/:/'
}
