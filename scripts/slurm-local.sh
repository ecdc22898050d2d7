#!/bin/sh
# slurm-local.sh start|stop|env DIR - a one-node Slurm cluster on this machine,
# everything of it in DIR: what spec/cluster_spec.lua and bench/cluster.sh run
# qlua's matrices on (Debian's slurm-wlm and munge: sh scripts/deps.sh cluster).
#
#   start DIR  writes DIR/slurm.conf and DIR/munge.key, starts munged (its own
#              key and socket), slurmctld and slurmd (their own ports, state,
#              spool, logs and pid files, all in DIR) and waits until the node
#              is idle; prints the line to source (SLURM_CONF=DIR/slurm.conf)
#   stop DIR   kills what start started, by the pid files in DIR (TERM, then
#              KILL after 10 s), and every job step slurmd left; waits until
#              none of them is alive
#   env DIR    prints `export SLURM_CONF=DIR/slurm.conf`
#
# Nothing is installed or changed outside DIR: the system's munged and Slurm
# (if any run) are left alone, since the daemons here take their socket and
# ports from DIR/slurm.conf.  The ports are chosen free at start.  Must run
# as root (slurmd starts the jobs as their user; munged checks its files'
# owners).  Everything that waits has a timeout; on any failure start stops
# what it started and prints the daemons' logs.
set -eu

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|env DIR" >&2; exit 2; }

# the pids of the daemons started here, from their pid files
pids() {
	for f in "$dir/munged.pid" "$dir/slurmctld.pid" "$dir/slurmd.pid"; do
		[ -s "$f" ] && cat "$f"
	done
	return 0
}

# alive PID: it runs (a zombie does not: the daemons' parent is init,
# which may take a moment to reap them)
alive() {
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# the pids of processes that descend from pid $1 (ps's parent links)
descendants() {
	ps -eo pid=,ppid= | awk -v root="$1" '
		{ parent[$1] = $2 }
		END { for (p in parent) { q = p; while (q in parent && q != root && q > 1) q = parent[q]
		                          if (q == root && p != root) print p } }'
}

# The job steps first: scancel while slurmctld still runs (slurmstepd sends
# the jobs SIGTERM, then SIGKILL after KillWait), then whatever still
# descends from slurmd or from a slurmstepd of this cluster (marked by
# QLUA_SLURM_LOCAL in their environment, which slurmd passes on), then the
# daemons: TERM, and KILL after 10 s.
stop() {
	# read once: the daemons remove their pid files as they exit
	daemons=$(pids)
	slurmd_pid=$(cat "$dir/slurmd.pid" 2>/dev/null || true)
	if [ -s "$dir/slurmctld.pid" ] && alive "$(cat "$dir/slurmctld.pid")"; then
		SLURM_CONF="$dir/slurm.conf" timeout 10 scancel --full --quiet --user=root 2>/dev/null || true
		i=0
		while [ $i -lt 100 ] && [ -n "$(SLURM_CONF="$dir/slurm.conf" timeout 5 squeue -h -o %i 2>/dev/null)" ]; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	roots=""
	for pid in $(pgrep -x slurmstepd); do
		if { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qxF "QLUA_SLURM_LOCAL=$dir"; then
			roots="$roots $pid"
		fi
	done
	for root in $roots $slurmd_pid; do
		for pid in $(descendants "$root") $root; do
			[ "$pid" = "$slurmd_pid" ] || kill -KILL "$pid" 2>/dev/null || true
		done
	done
	for pid in $daemons; do kill -TERM "$pid" 2>/dev/null || true; done
	i=0
	while [ $i -lt 100 ]; do
		left=""
		for pid in $daemons; do alive "$pid" && left="$left $pid"; done
		[ -z "$left" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	for pid in $left; do kill -KILL "$pid" 2>/dev/null || true; done
	rm -f "$dir/munged.pid" "$dir/slurmctld.pid" "$dir/slurmd.pid"
}

# a TCP port nothing listens on (ss from iproute2)
free_port() {
	p=$1
	while ss -Htln "sport = :$p" | grep -q .; do p=$((p + 1)); done
	echo "$p"
}

fail() {
	echo "slurm-local.sh: $1" >&2
	for log in munged.log slurmctld.log slurmd.log; do
		[ -s "$dir/$log" ] && { echo "--- $log" >&2; tail -n 20 "$dir/$log" >&2; }
	done
	stop
	exit 1
}

case $cmd in
env)
	echo "export SLURM_CONF=$dir/slurm.conf"
	exit 0 ;;
stop)
	stop
	exit 0 ;;
start) ;;
*)
	echo "usage: $0 start|stop|env DIR" >&2
	exit 2 ;;
esac

[ "$(id -u)" = 0 ] || { echo "slurm-local.sh: must run as root" >&2; exit 1; }
for b in munged slurmctld slurmd sinfo; do
	command -v $b >/dev/null || { echo "slurm-local.sh: $b is missing (sh scripts/deps.sh cluster)" >&2; exit 1; }
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/state" "$dir/spool"
# munged wants its socket's directory searchable by all, writable by none else
chmod 755 "$dir"

# munge: a fresh key of its own, its own socket
dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$dir/munge.key"
munged --key-file="$dir/munge.key" --socket="$dir/munge.sock" --pid-file="$dir/munged.pid" \
	--log-file="$dir/munged.log" --seed-file="$dir/munged.seed" || fail "munged did not start"

host=$(hostname -s)
cpus=$(nproc)
base=$((20000 + $$ % 20000))
ctld_port=$(free_port $base)
d_port=$(free_port $((ctld_port + 1)))
cat >"$dir/slurm.conf" <<EOF
# written by scripts/slurm-local.sh: a one-node cluster, everything in $dir
ClusterName=qlua
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge.sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=60
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=qlua Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$dir/slurm.conf"
# the mark stop() finds slurmd's job steps by (slurmd passes it on to them)
export QLUA_SLURM_LOCAL="$dir"
# -i: ignore state from an earlier start in this DIR (there is none: fresh)
slurmctld -i || fail "slurmctld did not start"
slurmd || fail "slurmd did not start"

# the node is up when sinfo says idle (30 s at most)
i=0
until [ "$(sinfo -h -N -o %t 2>/dev/null)" = idle ]; do
	i=$((i + 1))
	[ $i -le 300 ] || fail "the node did not become idle within 30 s: $(sinfo -h -N -o '%t %E' 2>&1)"
	sleep 0.1
done
echo "export SLURM_CONF=$dir/slurm.conf"
