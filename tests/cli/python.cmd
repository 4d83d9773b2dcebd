# The Python package's tests (python/tests, pytest): the extension is built into $TMP from
# python/ (setup.py runs `make pic` first), then pytest runs on it with $PRW as the CLI.
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "Debian's /usr/bin/python3 is missing (apt-get install python3-dev)" >&2; exit 77; }
"$PY" -c "import numpy, pytest, setuptools" 2>/dev/null ||
    { echo "python3-numpy, python3-pytest or python3-setuptools is missing" >&2; exit 77; }
inc=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
[ -f "$inc/Python.h" ] || { echo "python3-dev is missing (no $inc/Python.h)" >&2; exit 77; }
# Under make check SAN=asan the extension and the library are built with ASan+UBSan and the
# interpreter preloads the runtimes (the RSS test is skipped: ASan's shadow memory grows).
san="" preload="" skip=""
case "$PRW" in */asan/*)
    san=asan skip="not no_reference_leaks"
    preload="$(cc -print-file-name=libasan.so) $(cc -print-file-name=libubsan.so)" ;;
esac
(cd python && PRW_SAN=$san "$PY" setup.py -q build --build-base "$TMP/build" \
    --build-lib "$TMP/lib") >"$TMP/build.log" 2>&1 || { tail -20 "$TMP/build.log" >&2; exit 1; }
PRW_SHARED="$SHARED" PYTHONPATH="$TMP/lib" PYTHONDONTWRITEBYTECODE=1 LD_PRELOAD="$preload" \
    ASAN_OPTIONS=detect_leaks=0 \
    "$PY" -m pytest -q -p no:cacheprovider --basetemp="$TMP/pytest" ${skip:+-k "$skip"} \
    python/tests >&2
