#!/bin/sh
# `make run`: the main job on the sample data shipped in examples/, into out/.
set -eu
CLI=${1:-build/release/proberows}
cd "$(dirname "$0")/.."
if ! "$CLI" build --help >/dev/null 2>&1; then
    echo "make run: 'proberows build' is not part of this build yet (it arrives with the pipeline)" >&2
    exit 1
fi
exec "$CLI" build --input 'examples/*.parquet' --output out
