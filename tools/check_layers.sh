#!/bin/sh
# Checks the dependency rule of docs/ARCHITECTURE.md by grepping #include lines:
#   common <- {parquet, arrayrecord, arrow} <- build <- {scaleout, verify} <- cli
#   common <- {parquet, arrayrecord, arrow} <- report <- cli
# common includes no other module; the three format folders never include each other or the
# engine; build includes neither scaleout nor verify; scaleout and verify do not include each
# other; report uses common and the formats, never the engine; nothing includes the CLI; the
# CLI includes only public headers and its own.
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
upper="build scaleout verify report cli"
check common parquet arrayrecord arrow $upper
check parquet arrayrecord arrow $upper
check arrayrecord parquet arrow $upper
check arrow parquet arrayrecord $upper
check build scaleout verify report cli
check scaleout verify report cli
check verify scaleout report cli
check report build scaleout verify cli
check cli common parquet arrayrecord arrow build scaleout verify report
for dir in src/*/; do
    case $dir in src/common/|src/parquet/|src/arrayrecord/|src/arrow/|src/build/|src/scaleout/|src/verify/|src/report/|src/cli/) ;;
    *) echo "layering: $dir is not in the dependency rule of docs/ARCHITECTURE.md"; fail=1 ;;
    esac
done
hits=$(grep -rn '#include[[:space:]]*"\.\./' src include 2>/dev/null || true)
if [ -n "$hits" ]; then echo "layering: relative includes are not allowed:"; echo "$hits"; fail=1; fi
hits=$(grep -rnE '#include[[:space:]]+"' include | grep -v '"proberows/' || true)
if [ -n "$hits" ]; then echo "layering: public headers include only proberows/*.h:"; echo "$hits"; fail=1; fi
[ $fail = 0 ] && echo "check-layers: ok"
exit $fail
