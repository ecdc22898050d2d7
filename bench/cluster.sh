#!/bin/bash
# bench/cluster.sh [ROUNDS] - a matrix of 32 cells (bench/matrix.lua: QEMU
# -machine none, launch, query-status, quit) three ways, each taking both
# cores of this machine, timed from start to a merged report:
#   qlua -j 2         one process:  ./qlua bench/matrix.lua -j 2 --out DIR
#   Slurm, 2 tasks    sbatch --array=0-1 --cpus-per-task=1 --wait --wrap
#                     './qlua bench/matrix.lua --shard auto -j 1 --out DIR'
#                     on a one-node cluster on this machine
#                     (scripts/slurm-local.sh), then ./qlua --merge DIR
#   GNU parallel      parallel -j 2 ./qlua bench/matrix.lua --shard {}/2 -j 1
#                     --out DIR ::: 1 2, then ./qlua --merge DIR
# and prints mean, median and min of each, cells per second (of the
# median), and the scheduler's overhead per cell: (median of a fan-out -
# median of qlua -j 2) / 32; and for the fan-outs, how much of it is the
# cells' own span (first start to last end, from the merged results).  Not part of `make bench`: it needs root and
# Debian's slurm-wlm and munge (sh scripts/deps.sh), and starts (and stops)
# a Slurm cluster of its own.
#
# The commands alternate, their order rotating every round, ROUNDS times
# each (default 5) after one warm-up each (bench/lib.sh's alternate).
# CELLS=N runs N cells instead of 32; QLUA=path another qlua binary.  Ends
# with the line `bench-result cluster qlua=X base=Y unit=cells/s ...`
# (X: Slurm's cells/s, Y: qlua -j 2's).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
cells=${CELLS:-32}
qlua=${QLUA:-./qlua}
[ -x "$qlua" ] || { echo "bench/cluster.sh: build qlua first (make)" >&2; exit 1; }
command -v parallel >/dev/null || { echo "bench/cluster.sh: GNU parallel is missing (sh scripts/deps.sh)" >&2; exit 1; }
command -v sbatch >/dev/null || { echo "bench/cluster.sh: slurm-wlm is missing (sh scripts/deps.sh)" >&2; exit 1; }
. bench/lib.sh

qlua=$(cd "$(dirname "$qlua")" && pwd)/$(basename "$qlua")
tmp=$(mktemp -d)
chmod 755 "$tmp"  # munged wants every directory above its socket searchable by all
cleanup() {
	scripts/slurm-local.sh stop "$tmp/cluster" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
scripts/slurm-local.sh start "$tmp/cluster" >/dev/null
export SLURM_CONF="$tmp/cluster/slurm.conf"
export MATRIX_CELLS=$cells
root=$(pwd)

names=("qlua -j 2" "Slurm, 2 array tasks" "GNU parallel, 2 shards")
cmds=("rm -rf $tmp/a && $qlua bench/matrix.lua -j 2 --out $tmp/a"
      "rm -rf $tmp/b && (cd $tmp && sbatch --quiet --array=0-1 --cpus-per-task=1 --output=/dev/null --wait \
--wrap 'exec $qlua $root/bench/matrix.lua --shard auto -j 1 --out $tmp/b') && $qlua --merge $tmp/b"
      "rm -rf $tmp/c && parallel --will-cite -j 2 $qlua bench/matrix.lua --shard {}/2 -j 1 --out $tmp/c ::: 1 2 \
&& $qlua --merge $tmp/c")
run() {
	if ! eval "${cmds[$1]}" >"$tmp/out" 2>&1; then
		echo "bench/cluster.sh: '${names[$1]}' failed:" >&2
		tail -n 25 "$tmp/out" >&2
		exit 1
	fi
	# the merge's span: first cell's start to last cell's end, in any shard
	[ "$1" = 0 ] || sed -n "s/^bench: $cells cells: .* (\([0-9.]*\) s, .*/$1 \1/p" "$tmp/out" >>"$tmp/spans"
}

alternate 1 "$rounds" "$tmp/times"

printf '%-28s %10s %10s %10s %9s %14s\n' "$cells cells, $rounds rounds" mean median min "cells/s" "overhead/cell"
declare -A med
while read -r j mean m min; do med[$j]=$m; done < <(stats "$tmp/times")
while read -r j mean m min; do
	awk -v name="${names[j]}" -v a="$mean" -v b="$m" -v c="$min" -v n="$cells" -v base="${med[0]}" \
	    'BEGIN { printf "%-28s %7.1f ms %7.1f ms %7.1f ms %9.1f %11.1f ms\n", name, a / 1000, b / 1000, c / 1000,
	             n * 1e6 / b, (b - base) / n / 1000 }'
done < <(stats "$tmp/times")
# where a fan-out's time goes: the span of its cells (the shards' work, from
# the first cell's start to the last one's end) and the rest (submitting,
# dispatching, sbatch --wait noticing the end, the merge)
for j in 1 2; do
	awk -v j=$j '$1 == j { print $2 }' "$tmp/spans" | sort -n | awk -v name="${names[j]}" -v all="${med[$j]}" \
	    '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	       printf "%-28s cells from first start to last end %.1f s (median), the rest %.1f s\n", name, m, all / 1e6 - m }'
done
awk -v n="$cells" -v s="${med[1]}" -v q="${med[0]}" -v p="${med[2]}" -v r="$rounds" \
    'BEGIN { printf "bench-result cluster qlua=%.2f base=%.2f unit=cells/s cells=%d rounds=%d parallel=%.2f\n",
             n * 1e6 / s, n * 1e6 / q, n, r, n * 1e6 / p }'
