"$PRW" --help | grep -q '^Usage: proberows COMMAND' || exit 9
"$PRW" 2>/dev/null
