# The Python package's tests (python/tests, pytest): the extension is built into $TMP from
# python/ (setup.py runs `make pic` first), then pytest runs on it with $PRW as the CLI.
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "Debian's /usr/bin/python3 is missing (apt-get install python3-dev)" >&2; exit 77; }
"$PY" -c "import numpy, pytest, setuptools" 2>/dev/null ||
    { echo "python3-numpy, python3-pytest or python3-setuptools is missing" >&2; exit 77; }
inc=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
[ -f "$inc/Python.h" ] || { echo "python3-dev is missing (no $inc/Python.h)" >&2; exit 77; }
(cd python && "$PY" setup.py -q build --build-base "$TMP/build" --build-lib "$TMP/lib") \
    >"$TMP/build.log" 2>&1 || { tail -20 "$TMP/build.log" >&2; exit 1; }
PRW_SHARED="$SHARED" PYTHONPATH="$TMP/lib" PYTHONDONTWRITEBYTECODE=1 \
    "$PY" -m pytest -q -p no:cacheprovider --basetemp="$TMP/pytest" python/tests >&2
