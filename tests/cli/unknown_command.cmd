"$PRW" frobnicate 2>&1 | grep -q "unknown command 'frobnicate'" || exit 9
"$PRW" frobnicate 2>/dev/null
