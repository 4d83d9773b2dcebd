#!/bin/sh
# `make run`: the main job on the sample data shipped in examples/, into out/, and its report;
# then the sample RIPE Atlas dump into out-dump/.
set -eu
CLI=${1:-build/release/proberows}
cd "$(dirname "$0")/.."
if ! "$CLI" build --help >/dev/null 2>&1; then
    echo "make run: 'proberows build' is not part of this build yet (it arrives with the pipeline)" >&2
    exit 1
fi
"$CLI" build --input 'examples/*.parquet' --output out
# The dataset report of that output; prints its path (open it in a browser).
"$CLI" report out
# The same job straight from a RIPE Atlas hourly dump (bzip2 JSON lines), no Parquet step.
exec "$CLI" build --input 'examples/*.bz2' --output out-dump
