#!/bin/bash
# bench/many.sh [RUNS [N]] - many VMs from one process (the goal:
# the launcher's peak RSS <= 8 MiB with 32 VMs).  N QEMUs (default 32), each
# -machine none with a private QMP channel and a captured console:
# `./qlua bench/many.lua N` next to `bench/launch_floor -c N` (the same
# steps in bare C), alternately, RUNS times each (default 5).  Reported: the
# median time of each phase (launch all, query all, quit all and wait) and
# its ratio to the floor, and peak RSS (VmHWM of the launcher itself, from
# /proc/self/status) next to its baselines from the same session: `lua5.4
# -e ''`, `qlua -e ''` and `qlua bench/many.lua 0` (the script, no VM).
# The two bench-result lines (see bench/run.lua) are the total time, qlua's
# median next to the floor's, and qlua's peak RSS (the largest of the runs)
# next to lua5.4's (median).
#
# SHUTDOWN_TIMEOUT=T also runs `qlua bench/many.lua N shutdown T` once:
# vm:shutdown{ timeout = T } on each VM in turn (-machine none has no ACPI:
# expect about N x T seconds).
#
# QLUA=path measures another qlua binary (default ./qlua).
#
# Every run is bounded (timeout(1); launch_floor also alarm(30 + N - 1)) and leaves
# no QEMU behind: qlua's QEMUs get SIGKILL when qlua dies, launch_floor
# kills its own on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
n=${2:-32}
qlua=${QLUA:-./qlua}
[ -x "$qlua" ] || { echo "bench/many.sh: build qlua first (make)" >&2; exit 1; }
make -s -C bench >/dev/null
bound() { timeout -k 20 "$@"; }

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

hwm='print(io.open("/proc/self/status"):read("a"):match("VmHWM:%s*(%d+)"))'
for ((i = 0; i < runs; i++)); do
	echo "lua $(lua5.4 -e "$hwm")" >>"$tmp"
	echo "qlua-e $("$qlua" -e "$hwm")" >>"$tmp"
	echo "qlua0 $(bound 60 "$qlua" bench/many.lua 0)" >>"$tmp"
	if ((i % 2)); then
		echo "qlua $(bound 300 "$qlua" bench/many.lua "$n")" >>"$tmp"
		echo "floor $(bound 300 bench/launch_floor -c "$n")" >>"$tmp"
	else
		echo "floor $(bound 300 bench/launch_floor -c "$n")" >>"$tmp"
		echo "qlua $(bound 300 "$qlua" bench/many.lua "$n")" >>"$tmp"
	fi
done

# med WHO KEY: the median of KEY=value over WHO's lines
med() {
	awk -v who="$1" -v key="$2" '$1 == who { for (i = 2; i <= NF; i++) {
		split($i, kv, "="); if (kv[1] == key) print kv[2] } }' "$tmp" | sort -g |
	awk '{ v[NR] = $1 } END { if (!NR) print "nan"; else print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
max() {
	awk -v who="$1" -v key="$2" '$1 == who { for (i = 2; i <= NF; i++) {
		split($i, kv, "="); if (kv[1] == key) print kv[2] } }' "$tmp" | sort -g | tail -1
}
# the baselines print a bare number: make them key=value lines
sed -i -E 's/^(lua|qlua-e) ([0-9]+)$/\1 hwm=\2/' "$tmp"

echo "$n VMs (-machine none, QMP + captured console each), $runs runs each, alternating; medians"
printf '%-22s %12s %12s %8s\n' phase launch_floor qlua ratio
for k in launch_ms query_ms shutdown_ms total_ms; do
	f=$(med floor "$k") q=$(med qlua "$k")
	awk -v k="$k" -v f="$f" -v q="$q" 'BEGIN { printf "%-22s %9.1f ms %9.1f ms %8.2f\n", k, f, q, q / f }'
done
echo
echo "peak RSS (VmHWM of the launcher process; median / max of $runs)"
for w in "lua:lua5.4 -e ''" "qlua-e:qlua -e ''" "qlua0:qlua bench/many.lua 0" "qlua:qlua bench/many.lua $n" "floor:launch_floor -c $n"; do
	who=${w%%:*} name=${w#*:}
	awk -v name="$name" -v m="$(med "$who" hwm)" -v x="$(max "$who" hwm)" \
	    'BEGIN { printf "%-28s %6d KiB %6d KiB  (%.2f MiB)\n", name, m, x, x / 1024 }'
done
q=$(max qlua hwm) b=$(med qlua0 hwm) l=$(med lua hwm)
awk -v q="$q" -v b="$b" -v l="$l" -v n="$n" 'BEGIN {
	printf "qlua with %d VMs: %.2f MiB peak (goal <= 8 MiB), %.2fx lua5.4, +%d KiB over qlua without VMs (%.1f KiB per VM)\n",
	       n, q / 1024, q / l, q - b, (q - b) / n }'
echo "bench-result many_time qlua=$(med qlua total_ms) base=$(med floor total_ms) unit=ms n=$n runs=$runs"
echo "bench-result many_rss qlua=$q base=$l unit=KiB n=$n runs=$runs"
grep -h '^qlua ' "$tmp" | grep -o 'steps=[^ ]*' | sort | uniq -c | sed 's/^/qlua shutdown steps: /'

if [ -n "${SHUTDOWN_TIMEOUT:-}" ]; then
	echo
	echo "vm:shutdown{ timeout = $SHUTDOWN_TIMEOUT } on each of $n VMs in turn:"
	bound $((n * (SHUTDOWN_TIMEOUT + 15) + 60)) "$qlua" bench/many.lua "$n" shutdown "$SHUTDOWN_TIMEOUT"
fi
