# report: usage errors exit 2, unreadable or foreign directories exit 1 naming the file.
"$PRW" report 2>&1; echo "exit $?"
"$PRW" report a b 2>&1; echo "exit $?"
"$PRW" report out --sample 0 2>&1; echo "exit $?"
"$PRW" report out --bogus 2>&1; echo "exit $?"
msg=$("$PRW" report "$TMP/none" 2>&1); rc=$?; echo "$msg" | sed "s|$TMP/||"; echo "exit $rc"
mkdir -p "$TMP/d" && echo '{"tool": "x"}' > "$TMP/d/manifest.json"
msg=$("$PRW" report "$TMP/d" 2>&1); rc=$?; echo "$msg" | sed "s|$TMP/||"; echo "exit $rc"
ls "$TMP/d"
"$PRW" report --help | head -1
