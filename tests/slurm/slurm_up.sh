#!/bin/sh
# Starts a one-host Slurm cluster (munged, slurmctld, slurmd) for the real-Slurm tests, as
# ../shared/docs/SLURM.md describes: installs the Debian packages when missing, writes a minimal
# slurm.conf for this host, starts the daemons and waits until the node is idle.
# Exit status: 0 up; 77 cannot run here (not root, no apt, packages unavailable); 1 failed.
# Stop with slurm_down.sh (callers should `trap` it).
set -u
log() { echo "slurm_up: $*" >&2; }

[ "$(id -u)" = 0 ] || { log "not root: skipped"; exit 77; }
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 ||
    ! command -v sbatch >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || { log "no apt-get: skipped"; exit 77; }
    log "installing slurmctld slurmd slurm-client munge"
    if ! { apt-get update -qq >/dev/null 2>&1 || true; } ||
        ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            slurmctld slurmd slurm-client munge >/dev/null 2>&1; then
        log "apt-get install failed: skipped"
        exit 77
    fi
fi
if [ -f /run/slurmctld.pid ] && kill -0 "$(cat /run/slurmctld.pid)" 2>/dev/null; then
    log "slurmctld already running: stop it first (slurm_down.sh)"
    exit 1
fi

if [ ! -s /etc/munge/munge.key ]; then
    install -d -o munge -g munge -m 0700 /etc/munge
    mungekey --create --keyfile=/etc/munge/munge.key || exit 1
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
fi

host=$(hostname -s)
cpus=$(nproc)
mem_kib=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
real_mem=$((mem_kib / 1024 * 9 / 10)) # below MemTotal, or the node drains
node_line=$(slurmd -C 2>/dev/null | sed -n 's/^\(NodeName=.*\)$/\1/p' | head -n 1)
# slurmd -C names sockets and cores; we keep our own RealMemory and address.
[ -n "$node_line" ] || node_line="NodeName=$host CPUs=$cpus"
node_line=$(echo "$node_line" | sed -e 's/ RealMemory=[0-9]*//' -e 's/ UpTime=.*//')
install -d /etc/slurm
cat >/etc/slurm/slurm.conf <<CONF
ClusterName=ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobAcctGatherParams=OverMemoryKill
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.log
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ReturnToService=2
MailProg=/bin/true
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
DependencyParameters=kill_invalid_depend
EnforcePartLimits=ALL
MinJobAge=300
KillWait=5
InactiveLimit=0
$node_line NodeAddr=127.0.0.1 RealMemory=$real_mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

install -d -o munge -g munge -m 0755 /run/munge
install -d -o slurm -g slurm -m 0755 /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged || { log "munged did not start"; exit 1; }
    munge -n | unmunge >/dev/null || { log "munge does not work"; exit 1; }
fi
/usr/sbin/slurmctld -c || { log "slurmctld did not start"; exit 1; }
/usr/sbin/slurmd || { log "slurmd did not start"; exit 1; }
i=0
while [ $i -lt 120 ]; do
    state=$(sinfo -h -N -o %T 2>/dev/null | head -n 1)
    case "$state" in
    idle) log "up (node $host idle)"; exit 0 ;;
    esac
    sleep 0.25
    i=$((i + 1))
done
log "node not idle after 30 s (state: ${state:-none}); see /var/log/slurm/"
exit 1
