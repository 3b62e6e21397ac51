#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for testing the workflow's Slurm profile.
#
#   tests/slurm/cluster.sh start    # as root on Debian: install, configure, start, wait idle
#   tests/slurm/cluster.sh stop     # stop the daemons this script started
#   tests/slurm/cluster.sh status   # sinfo and squeue
#
# No accounting database (no slurmdbd, no MariaDB): the profile asks job states from
# squeue, which the controller answers for MinJobAge seconds after a job ends (an hour
# here, so the test can still read every job's final state after the run). Processes
# are tracked without cgroups (proctrack/linuxproc), so it also runs in containers.
# A node set DOWN stays down until `scontrol update NodeName=... State=RESUME`
# (ReturnToService=1, as on most clusters): the node failure test needs that.
set -euo pipefail

SLURM_CONF=/etc/slurm/slurm.conf
STATE=/var/lib/slurm
LOGS=/var/log/slurm
PIDS=/run/livingmeta-slurm
PARTITION=debug
MARK="# Written by livingmeta tests/slurm/cluster.sh"

die() { echo "cluster.sh: $*" >&2; exit 1; }

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
    && command -v munged >/dev/null && command -v sbatch >/dev/null; then
    return
  fi
  command -v apt-get >/dev/null || die "slurm-wlm and munge are missing and this is not Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq -o DPkg::Lock::Timeout=900 slurm-wlm munge >/dev/null
}

write_config() {
  local host cpus memory
  if [ -e "$SLURM_CONF" ] && ! grep -q "^$MARK" "$SLURM_CONF"; then
    die "$SLURM_CONF exists and was not written by this script: not touching a real cluster"
  fi
  host=$(hostname -s)
  cpus=$(nproc)
  memory=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512))
  mkdir -p /etc/slurm "$STATE/slurmctld" "$STATE/slurmd" "$LOGS" "$PIDS"
  cat >"$SLURM_CONF" <<EOF
$MARK: one node that is also the controller.
ClusterName=livingmeta-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$STATE/slurmctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$PIDS/slurmctld.pid
SlurmdPidFile=$PIDS/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=1
MinJobAge=3600
SlurmdTimeout=60
SlurmctldTimeout=60
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
}

munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  if munge_works; then return; fi
  [ -s /etc/munge/munge.key ] || mungekey --create --keyfile /etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge && chown munge:munge /run/munge
  runuser -u munge -- /usr/sbin/munged
  echo started >"$PIDS/munged.started"
  for _ in $(seq 1 20); do munge_works && return; sleep 0.5; done
  die "munged does not answer"
}

wait_idle() {
  local host
  host=$(hostname -s)
  for _ in $(seq 1 60); do
    if sinfo --noheader --nodes "$host" --format '%t' 2>/dev/null | grep -qx idle; then
      sinfo
      return
    fi
    sleep 1
  done
  tail -n 20 "$LOGS/slurmctld.log" "$LOGS/slurmd.log" >&2 || true
  die "node $host did not become idle within 60 s"
}

start() {
  [ "$(id -u)" = 0 ] || die "start needs root (it installs packages and starts daemons)"
  install_packages
  mkdir -p "$PIDS"
  write_config
  # A cluster this script started earlier and never stopped is restarted.
  stop_daemon "$PIDS/slurmd.pid"
  stop_daemon "$PIDS/slurmctld.pid"
  start_munge
  # -c: a clean start, jobs of an earlier test cluster are forgotten.
  slurmctld -c
  slurmd
  scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true
  wait_idle
}

stop_daemon() {
  local pidfile=$1 pid
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 20); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

stop() {
  scancel --user "$(id -un)" >/dev/null 2>&1 || true
  stop_daemon "$PIDS/slurmd.pid"
  stop_daemon "$PIDS/slurmctld.pid"
  if [ -e "$PIDS/munged.started" ] && [ -s /run/munge/munged.pid ]; then
    stop_daemon /run/munge/munged.pid
    rm -f "$PIDS/munged.started"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) sinfo && squeue ;;
  *) die "usage: $0 start|stop|status" ;;
esac
