#!/bin/sh
# Stops what slurm_up.sh started: slurmctld and slurmd through `scontrol shutdown` (needs
# munged alive), then munged; removes the pid files slurmctld cannot remove itself.
# Safe to run when nothing is running.
set -u
pids=""
for f in /run/slurmctld.pid /run/slurmd.pid; do
    [ -f "$f" ] && pids="$pids $(cat "$f")"
done
if [ -n "$pids" ]; then
    scontrol shutdown >/dev/null 2>&1
    i=0
    while [ $i -lt 80 ]; do
        alive=""
        for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
        [ -z "$alive" ] && break
        sleep 0.25
        i=$((i + 1))
    done
    for p in $alive; do kill -TERM "$p" 2>/dev/null; done
fi
rm -f /run/slurmctld.pid /run/slurmd.pid
if [ -f /run/munge/munged.pid ]; then
    p=$(cat /run/munge/munged.pid)
    kill -TERM "$p" 2>/dev/null
    i=0
    while kill -0 "$p" 2>/dev/null && [ $i -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
fi
exit 0
