#!/bin/sh
# Checks the dependency rule of docs/ARCHITECTURE.md by grepping #include lines:
#   common <- {parquet, arrayrecord, arrow} <- pipeline <- cli; common <- atlas
# common includes no other module; the three format folders never include each other or the
# pipeline; the pipeline does not include the CLI; the CLI includes only public headers and
# its own.
set -u
cd "$(dirname "$0")/.." || exit 2
fail=0
check() { # folder, forbidden include prefixes...
    dir=$1; shift
    for bad in "$@"; do
        hits=$(grep -rnE "#include[[:space:]]+\"$bad/" "src/$dir" 2>/dev/null || true)
        if [ -n "$hits" ]; then
            echo "layering: src/$dir must not include $bad/:"; echo "$hits"; fail=1
        fi
    done
}
check common parquet arrayrecord arrow pipeline cli atlas
check parquet arrayrecord arrow pipeline cli
check arrayrecord parquet arrow pipeline cli
check arrow parquet arrayrecord pipeline cli
check pipeline cli
check atlas parquet arrayrecord arrow pipeline cli
check cli common parquet arrayrecord arrow pipeline atlas
hits=$(grep -rn '#include[[:space:]]*"\.\./' src include 2>/dev/null || true)
if [ -n "$hits" ]; then echo "layering: relative includes are not allowed:"; echo "$hits"; fail=1; fi
hits=$(grep -rnE '#include[[:space:]]+"' include | grep -v '"proberows/' || true)
if [ -n "$hits" ]; then echo "layering: public headers include only proberows/*.h:"; echo "$hits"; fail=1; fi
[ $fail = 0 ] && echo "check-layers: ok"
exit $fail
