#!/bin/bash
# bench/matrix.sh [ROUNDS] - matrix throughput (the goal: qlua at least
# 0.9 of GNU parallel's cells per second): the whole process
#   ./qlua bench/matrix.lua -j 2 --out DIR
# (16 cells of QEMU -machine none: launch, query-status, quit, exit) next to
#   parallel -j 2 -N0 bench/launch_floor ::: $(seq 16)
# (GNU parallel running the bare C launcher 16 times, 2 at once: the same
# steps per VM, see bench/launch_floor.c).
#
# -N0: launch_floor's one argument is how many VMs it starts (`launch_floor
# [-c] [N]`), so `parallel -j 2 bench/launch_floor ::: $(seq 16)` would run
# `launch_floor 1` ... `launch_floor 16`: 136 VMs.  -N0 takes one input per
# job and passes none of it.
#
# The two commands alternate, their order swapping every round, ROUNDS times
# each (default 10) after 2 warm-up runs each; the script prints mean, median
# and min per command, cells per second (of the median), and the ratio
# qlua/parallel of cells per second (of medians and of means), and the
# bench-result line bench/run.lua (`make bench`) collects.  The machines are
# shared and noisy: only ratios from one session mean anything.
#
# BREAKDOWN=1 adds, in the same alternation: `xargs -P 2` running the floor
# (a fan-out with no start-up of its own), `parallel -j 2 -N0 /bin/true`
# (GNU parallel's own cost for 16 jobs) and `bench/launch_floor -c` through
# parallel (the floor with a console socketpair, as qlua's captured console).
# CELLS=N runs N cells instead of 16; QLUA=path another qlua binary; KEEP=1
# keeps the temporary directory (qlua's run directories) at the end.
#
# Timed as bench/lib.sh says (bash's $EPOCHREALTIME).  Every command bounds
# itself (launch_floor: alarm(30); qlua: the cell timeout and its QMP
# timeouts) and leaves no QEMU behind; a command that fails stops the
# script, showing its output.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-10}
cells=${CELLS:-16}
qlua=${QLUA:-./qlua}
[ -x "$qlua" ] || { echo "bench/matrix.sh: build qlua first (make)" >&2; exit 1; }
command -v parallel >/dev/null || { echo "bench/matrix.sh: GNU parallel is missing (sh scripts/deps.sh)" >&2; exit 1; }
make -s -C bench >/dev/null
. bench/lib.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MATRIX_CELLS=$cells

names=("parallel + launch_floor" "qlua bench/matrix.lua")
cmds=("parallel --will-cite -j 2 -N0 bench/launch_floor ::: \$(seq $cells)"
      "$qlua bench/matrix.lua -j 2 --out $tmp/runs")
if [ "${BREAKDOWN:-0}" = 1 ]; then
	names+=("xargs -P 2 + launch_floor" "parallel + /bin/true" "parallel + launch_floor -c")
	cmds+=("seq $cells | xargs -P 2 -I{} bench/launch_floor"
	       "parallel --will-cite -j 2 -N0 /bin/true ::: \$(seq $cells)"
	       "parallel --will-cite -j 2 -N0 bench/launch_floor -c ::: \$(seq $cells)")
fi
# runs command j, its output kept in $tmp/out; a failure stops the script
# with that output (qlua's report says which cell failed and where its logs
# are: keep them with KEEP=1)
run() {
	if ! eval "${cmds[$1]}" >"$tmp/out" 2>&1; then
		echo "bench/matrix.sh: '${names[$1]}' failed:" >&2
		tail -n 25 "$tmp/out" >&2
		exit 1
	fi
}
[ "${KEEP:-0}" = 1 ] && trap 'echo "bench/matrix.sh: kept $tmp" >&2' EXIT

alternate 2 "$rounds" "$tmp/times"

printf '%-28s %9s %9s %9s %9s\n' "$cells cells, -j 2, $rounds rounds" mean median min "cells/s"
while read -r j mean med min; do
	[ "$j" = 0 ] && { pmean=$mean; pmed=$med; }
	[ "$j" = 1 ] && { qmean=$mean; qmed=$med; }
	awk -v name="${names[j]}" -v a="$mean" -v b="$med" -v c="$min" -v n="$cells" \
	    'BEGIN { printf "%-28s %6.1f ms %6.1f ms %6.1f ms %9.1f\n", name, a / 1000, b / 1000, c / 1000, n * 1e6 / b }'
done < <(stats "$tmp/times")
awk -v pm="$pmean" -v pd="$pmed" -v qm="$qmean" -v qd="$qmed" 'BEGIN {
	printf "qlua/parallel throughput: %.3f (medians), %.3f (means); goal >= 0.9\n", pd / qd, pm / qm }'
awk -v n="$cells" -v q="$qmed" -v p="$pmed" -v r="$rounds" \
    'BEGIN { printf "bench-result matrix qlua=%.2f base=%.2f unit=cells/s cells=%d rounds=%d\n", n * 1e6 / q, n * 1e6 / p, n, r }'
