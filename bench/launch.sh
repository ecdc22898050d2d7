#!/bin/bash
# bench/launch.sh [RUNS] - launch cost (the launch goal, <= 1.03x the
# floor): the whole process `./qlua bench/launch.lua` next to
# bench/launch_floor, the same steps in bare C (socketpair, posix_spawn of
# QEMU -machine none with QMP on fd 3, greeting, qmp_capabilities,
# query-status, quit, waitpid).  The commands run alternately (their order
# rotating), RUNS times each (default 40), after 3 warm-up runs each; it
# reports mean, median and min per command and the ratios to the floor, and
# ends with the bench-result line bench/run.lua (`make bench`) collects.
# The machines are shared and noisy: only ratios from one session mean
# anything.
#
# BREAKDOWN=1 adds, in the same alternation, the commands that split qlua's
# extra time (see bench/README.md): bench/launch_floor_fork (the floor
# starting QEMU the way src/spawn.c does), `./qlua -e ''` and `true` (a
# process that does nothing: qlua's start-up cost is the difference).
#
# QLUA=path measures another qlua binary (default ./qlua), e.g. a build of
# another commit, next to the same floor; QLUA_ALSO="path ..." adds more
# qlua binaries to the same rotation, each with its ratios (the result line
# stays QLUA's).
#
# Timed as bench/lib.sh says (bash's $EPOCHREALTIME).  Every command bounds
# itself (launch_floor: alarm(30); qlua: its QMP and wait timeouts)
# and leaves no QEMU behind (launch_floor kills it on any failure; qlua's
# QEMU gets SIGKILL when qlua dies).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-40}
qlua=${QLUA:-./qlua}
[ -x "$qlua" ] || { echo "bench/launch.sh: build qlua first (make)" >&2; exit 1; }
make -s -C bench >/dev/null
. bench/lib.sh

names=("bench/launch_floor" "qlua bench/launch.lua")
cmds=("bench/launch_floor" "$qlua bench/launch.lua")
ratio=(1 1)   # whether a row's ratios to the floor mean anything
if [ "${BREAKDOWN:-0}" = 1 ]; then
	names+=("bench/launch_floor_fork" "qlua -e ''" "true (/bin/true)")
	# /bin/true, not the shell's builtin: it must be a process too
	cmds+=("bench/launch_floor_fork" "$qlua -e ''" "/bin/true")
	ratio+=(1 0 0)
fi
for other in ${QLUA_ALSO:-}; do
	names+=("$other")
	cmds+=("$other bench/launch.lua")
	ratio+=(1)
done
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
alternate 3 "$runs" "$tmp"

printf '%-26s %9s %9s %9s %8s %8s\n' "whole process, $runs runs" mean median min "mean/fl" "med/fl"
while read -r j mean med min; do
	[ "$j" = 0 ] && { fmean=$mean; fmed=$med; }
	[ "$j" = 1 ] && qmed=$med
	if [ "${ratio[j]}" = 1 ]; then
		r=$(awk -v a="$mean" -v b="$fmean" -v c="$med" -v d="$fmed" 'BEGIN { printf "%8.3f %8.3f", a / b, c / d }')
	else
		r=""
	fi
	awk -v name="${names[j]}" -v a="$mean" -v b="$med" -v c="$min" -v r="$r" \
	    'BEGIN { printf "%-26s %6.2f ms %6.2f ms %6.2f ms %s\n", name, a / 1000, b / 1000, c / 1000, r }'
done < <(stats "$tmp")
echo "goal: qlua/floor <= 1.03"
echo "bench-result launch qlua=$qmed base=$fmed unit=us runs=$runs"
