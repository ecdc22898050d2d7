#!/bin/bash
# bench/agent.sh [BOOTS [N]] - the guest agent (issue #12's Performance goal):
#
# 1. boot to "agent answers": the whole process `./qlua bench/agent.lua boot`
#    (launch the test guest with qemu-ga, vm.agent:wait, one ping, SIGKILL,
#    wait) next to bench/qga_floor.py running the same QEMU command line, the
#    argv `./qlua --json bench/agent.lua boot` prints, with the same
#    descriptors, polled with a bare guest-sync-delimited every 0.1 s, then
#    guest-ping, SIGKILL, wait.  Alternately (bench/lib.sh), BOOTS times each
#    (default 15) after one warm-up each; also `python3 -c ''` in the same
#    alternation: the part of the floor's time that is Python starting.
#    Goal: qlua/floor <= 1.02.
# 2. the round trip of `vm.agent:exec({ "true" })`: `./qlua bench/agent.lua N`
#    (N execs, default 50, next to N pings, medians, one boot).
#
# BENCH_DISTRO=1 adds row 1 for the Debian image (build/distro/debian-12.qcow2,
# `make distro-image`; SeaBIOS, -snapshot, no seed): `./qlua bench/agent.lua
# boot distro`, DISTRO_BOOTS times each (default 2; no warm-up; about 100 s
# a boot here).
#
# Ends with bench-result lines for bench/run.lua (`make bench`): boot_agent
# (and boot_agent_distro) in us, agent in ms.  Every command bounds itself
# (qlua: agent:wait's 120 s, 600 s for the distro; qga_floor.py: 120 s,
# $QGA_FLOOR_TIMEOUT) and leaves no QEMU behind (both SIGKILL it; qlua's QEMU
# also dies with qlua).  QLUA=path: another qlua binary; PYTHON: the Python 3
# that runs the floor (default /usr/bin/python3, else python3).
set -euo pipefail
cd "$(dirname "$0")/.."
boots=${1:-15}
n=${2:-50}
qlua=${QLUA:-./qlua}
py=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
[ -x "$qlua" ] || { echo "bench/agent.sh: build qlua first (make)" >&2; exit 1; }
[ -f build/guest/vmlinux ] || { echo "bench/agent.sh: build the test guest first (make guest)" >&2; exit 1; }
. bench/lib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# compare LABEL ROW WARMUPS BOOTS [distro]: one alternation of qlua, the
# floor and python's start-up; prints the table and the bench-result line.
compare() {
	local label=$1 row=$2 warmups=$3 runs=$4 mode=${5:-}
	"$qlua" --json bench/agent.lua boot $mode >"$tmp/$row.json" 2>/dev/null
	names=("bench/qga_floor.py (same argv)" "qlua bench/agent.lua boot $mode" "python3 -c '' (floor's start-up)")
	# the distro boots for minutes: the floor waits as long as qlua does
	cmds=("QGA_FLOOR_TIMEOUT=$([ -n "$mode" ] && echo 600 || echo 120) $py bench/qga_floor.py $tmp/$row.json"
	      "$qlua bench/agent.lua boot $mode" "$py -c ''")
	: >"$tmp/$row.times"
	alternate "$warmups" "$runs" "$tmp/$row.times"
	printf '%-42s %9s %9s %9s %8s\n' "$label, $runs runs" mean median min "med/fl"
	local j mean med min fmed=1 qmed=0
	while read -r j mean med min; do
		[ "$j" = 0 ] && fmed=$med
		[ "$j" = 1 ] && qmed=$med
		awk -v name="${names[j]}" -v a="$mean" -v b="$med" -v c="$min" -v f="$fmed" \
		    'BEGIN { printf "%-42s %7.3f s %7.3f s %7.3f s %8.3f\n", name, a / 1e6, b / 1e6, c / 1e6, b / f }'
	done < <(stats "$tmp/$row.times")
	echo "goal: qlua/floor <= 1.02"
	# whole microseconds: awk prints a median of 100 s or more as 1.6e+08
	echo "bench-result $row $(awk -v q="$qmed" -v f="$fmed" -v n="$runs" \
		'BEGIN { printf "qlua=%d base=%d unit=us runs=%d", q, f, n }')"
}

compare "boot to agent answers (test guest)" boot_agent 1 "$boots"
if [ "${BENCH_DISTRO:-0}" = 1 ]; then
	[ -f build/distro/debian-12.qcow2 ] || { echo "bench/agent.sh: no Debian image (make distro-image)" >&2; exit 1; }
	# no warm-up: the image's pages are in the host's cache after one boot
	# of either, and each boot is minutes
	compare "boot to agent answers (Debian image)" boot_agent_distro 0 "${DISTRO_BOOTS:-2}" distro
fi
"$qlua" bench/agent.lua "$n"
