#!/bin/bash
# bench/argv.sh [RUNS [N]] - the argv benchmark:
#  1. microseconds per configuration built in one process (bench/argv.lua N,
#     default 20000), next to the same Lua tables built alone and to the
#     Lua-API floor (bench/api_floor.c);
#  2. whole-process time of `qlua -n bench/dry_run.lua` next to `lua5.4 -e ''`,
#     alternately, RUNS times each (default 200) after 3 warm-up runs each:
#     mean, median and min, and the ratio of the medians.
# The machines are shared and noisy: only ratios from one session mean
# anything.  QLUA=path measures another qlua binary (default ./qlua), and
# QLUA_ALSO="path ..." adds more to the same rotation (an old build).  The
# bench-result lines are what bench/run.lua (`make bench`) collects.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
n=${2:-20000}
qlua=${QLUA:-./qlua}
[ -x "$qlua" ] || { echo "bench/argv.sh: build qlua first (make)" >&2; exit 1; }
make -s -C bench >/dev/null  # bench/api_floor.so, the argv floor
. bench/lib.sh

"$qlua" bench/argv.lua "$n"

names=("lua5.4 -e ''" "qlua -n bench/dry_run.lua")
cmds=("lua5.4 -e ''" "$qlua -n bench/dry_run.lua")
# QLUA_ALSO="path ...": other qlua binaries (builds of other commits) in the
# same rotation, each with its own ratio; the result line stays QLUA's.
for other in ${QLUA_ALSO:-}; do
	names+=("$other -n")
	cmds+=("$other -n bench/dry_run.lua")
done
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
alternate 3 "$runs" "$tmp"

printf '%-28s %9s %9s %9s\n' "whole process, $runs runs" mean median min
while read -r j mean med min; do
	median[j]=$med
	awk -v name="${names[j]}" -v a="$mean" -v b="$med" -v c="$min" \
	    'BEGIN { printf "%-28s %6.2f ms %6.2f ms %6.2f ms\n", name, a / 1000, b / 1000, c / 1000 }'
done < <(stats "$tmp")
awk -v q="${median[1]}" -v b="${median[0]}" 'BEGIN { printf "qlua -n / lua5.4: %.3f (medians); goal <= 1.1\n", q / b }'
for ((j = 2; j < ${#cmds[@]}; j++)); do
	awk -v name="${names[j]}" -v q="${median[j]}" -v b="${median[0]}" \
	    'BEGIN { printf "%s / lua5.4: %.3f (medians)\n", name, q / b }'
done
echo "bench-result process qlua=${median[1]} base=${median[0]} unit=us runs=$runs"
