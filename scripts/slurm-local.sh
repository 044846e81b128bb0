#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for testing `vtmm run --executor
# slurm` (Debian packages slurm-wlm and munge; no systemd needed).
#
#   scripts/slurm-local.sh start   # munged + slurmctld + slurmd on localhost
#   scripts/slurm-local.sh env     # prints `export SLURM_CONF=...` for clients
#   scripts/slurm-local.sh status
#   scripts/slurm-local.sh stop    # stops the three daemons, removes the state
#
# Everything lives in $VTMM_SLURM_DIR (default /tmp/vtmm-slurm): its own munge
# key and socket, slurm.conf, spool and state folders, logs and pid files, so
# it never touches a Slurm or munge the machine already runs. Ports default to
# 16817/16818 (not Slurm's usual 6817/6818) for the same reason. The node is
# described by `slurmd -C` (the machine's real CPUs and memory) and carries the
# feature "$VTMM_SLURM_FEATURES" (default "local"), which `--constraint` can
# select. Needs root (slurmd starts jobs as their owner).
set -euo pipefail

DIR=${VTMM_SLURM_DIR:-/tmp/vtmm-slurm}
PORT=${VTMM_SLURM_PORT:-16817}
FEATURES=${VTMM_SLURM_FEATURES:-local}
CONF=$DIR/etc/slurm.conf

die() { echo "slurm-local: $*" >&2; exit 1; }

need() {
  for b in munged slurmctld slurmd sbatch squeue scontrol sinfo; do
    command -v "$b" >/dev/null || die "'$b' not found (install Debian packages slurm-wlm and munge: scripts/setup.sh)"
  done
  [ "$(id -u)" -eq 0 ] || die "must run as root (slurmd starts jobs as their submitting user)"
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

write_conf() {
  local node features_line
  # `slurmd -C` reports this node as Slurm sees it (CPUs, sockets, cores, memory).
  node=$(slurmd -C | head -1)
  [[ $node == NodeName=* ]] || die "slurmd -C gave no node line: $node"
  local name=${node%% *}
  name=${name#NodeName=}
  features_line="Features=$FEATURES"
  cat >"$CONF" <<EOF
# Written by scripts/slurm-local.sh: one node, controller and compute on localhost.
ClusterName=vtmm-local
SlurmctldHost=$name(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
# No cgroups here (no systemd): track job processes through /proc.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# Cores are the consumable, so several one-core array tasks share the node.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# No slurmdbd: job completions go to a text log (the record of what ran where).
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.log
# Test-sized timers: schedule at once, keep finished jobs visible for 10 min.
SchedulerParameters=sched_interval=2,bf_interval=2
MinJobAge=600
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
KillWait=2
MpiDefault=none
$node $features_line State=UNKNOWN
PartitionName=local Nodes=$name Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  need
  if pid_alive "$DIR/run/slurmctld.pid"; then
    echo "slurm-local: already running (state in $DIR)"
    return 0
  fi
  mkdir -p "$DIR"/{etc,munge,state,spool,run,log}
  chmod 700 "$DIR/munge"
  # A key of our own: 1 KiB from the kernel's CSPRNG, readable by root only.
  [ -f "$DIR/munge/munge.key" ] || { dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none; }
  chmod 400 "$DIR/munge/munge.key"
  munged --force --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket" \
    --pid-file="$DIR/run/munged.pid" --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed"
  write_conf
  slurmctld -f "$CONF"
  slurmd -f "$CONF"
  export SLURM_CONF=$CONF
  # Wait until the node has registered and is idle (a few seconds).
  local state=""
  for _ in $(seq 1 60); do
    state=$(sinfo -h -o %T 2>/dev/null | head -1 || true)
    [[ $state == idle* ]] && break
    sleep 0.5
  done
  [[ $state == idle* ]] || { tail -5 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true; die "node not idle after 30 s (state '$state')"; }
  echo "slurm-local: up (node $(sinfo -h -o '%N %c CPUs %m MB features=%f')); export SLURM_CONF=$CONF"
}

stop_daemon() {
  local pidfile=$1
  pid_alive "$pidfile" || return 0
  local pid
  pid=$(cat "$pidfile")
  kill "$pid"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

stop() {
  [ -d "$DIR" ] || { echo "slurm-local: not running"; return 0; }
  stop_daemon "$DIR/run/slurmd.pid"
  stop_daemon "$DIR/run/slurmctld.pid"
  stop_daemon "$DIR/run/munged.pid"
  rm -rf "$DIR"
  echo "slurm-local: stopped, $DIR removed"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  status)
    export SLURM_CONF=$CONF
    pid_alive "$DIR/run/slurmctld.pid" || { echo "slurm-local: not running"; exit 1; }
    sinfo
    squeue
    ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
