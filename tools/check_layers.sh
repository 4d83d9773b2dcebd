#!/bin/sh
# Checks the dependency rule of docs/ARCHITECTURE.md by grepping #include lines. Each folder of
# src/ lists the folders of ours it may include (besides itself and include/proberows/):
#   common <- {parquet, arrayrecord, arrow, bzip2} <- build <- {scaleout, verify} <- cli
#   common <- {parquet, arrayrecord, arrow} <- report <- cli
#   common <- bzip2 <- atlas <- {build, scaleout, verify}
# The CLI includes only public headers and its own; nothing includes the CLI. A folder that is
# not in the table fails the check, so a new module has to be placed in the rule.
set -u
cd "$(dirname "$0")/.." || exit 2
fail=0
allowed() { # folder -> the folders it may include
    case $1 in
    common) echo "" ;;
    parquet | arrayrecord | arrow | bzip2) echo "common" ;;
    atlas) echo "common bzip2" ;;
    build) echo "common parquet arrayrecord arrow bzip2 atlas" ;;
    scaleout | verify) echo "common parquet arrayrecord arrow bzip2 atlas build" ;;
    report) echo "common parquet arrayrecord arrow" ;;
    cli) echo "" ;;
    *) echo "?" ;;
    esac
}
for path in src/*/; do
    dir=$(basename "$path")
    ok=$(allowed "$dir")
    if [ "$ok" = "?" ]; then
        echo "layering: src/$dir/ is not in the dependency rule of docs/ARCHITECTURE.md"; fail=1
        continue
    fi
    for other in src/*/; do
        dep=$(basename "$other")
        [ "$dep" = "$dir" ] && continue
        case " $ok " in *" $dep "*) continue ;; esac
        hits=$(grep -rnE "#include[[:space:]]+\"$dep/" "src/$dir" 2>/dev/null || true)
        if [ -n "$hits" ]; then
            echo "layering: src/$dir must not include $dep/:"; echo "$hits"; fail=1
        fi
    done
done
hits=$(grep -rn '#include[[:space:]]*"\.\./' src include 2>/dev/null || true)
if [ -n "$hits" ]; then echo "layering: relative includes are not allowed:"; echo "$hits"; fail=1; fi
hits=$(grep -rnE '#include[[:space:]]+"' include | grep -v '"proberows/' || true)
if [ -n "$hits" ]; then echo "layering: public headers include only proberows/*.h:"; echo "$hits"; fail=1; fi
[ $fail = 0 ] && echo "check-layers: ok"
exit $fail
