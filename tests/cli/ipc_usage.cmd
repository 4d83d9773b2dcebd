"$PRW" ipc --help | grep -q '^Usage: proberows ipc cat' || exit 9
"$PRW" ipc cat --help | grep -q -- '--outer' || exit 9
"$PRW" ipc cat 2>/dev/null; [ $? = 2 ] || exit 9
"$PRW" ipc frob x 2>/dev/null; [ $? = 2 ] || exit 9
"$PRW" ipc cat --bogus x 2>/dev/null; [ $? = 2 ] || exit 9
"$PRW" ipc cat /nonexistent/file 2>/dev/null; [ $? = 1 ] || exit 9
printf 'not arrow at all' | "$PRW" ipc cat - 2>/dev/null; [ $? = 1 ] || exit 9
"$PRW" ipc 2>/dev/null
