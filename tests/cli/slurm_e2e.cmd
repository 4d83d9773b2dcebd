# The real-Slurm end-to-end test (tests/slurm/e2e.sh): skipped (77) unless root with Slurm
# installable; PRW_SLURM=0 skips it.
sh tests/slurm/e2e.sh "$PRW" "$TMP" 2>"$TMP/e2e.log"
rc=$?
[ $rc = 0 ] || [ $rc = 77 ] || cat "$TMP/e2e.log" >&2
exit $rc
