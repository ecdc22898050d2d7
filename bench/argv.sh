#!/bin/sh
# bench/argv.sh [RUNS] - the argv benchmark of issue #2:
#  1. microseconds per configuration built in one process (bench/argv.lua);
#  2. whole-process time of `qlua -n bench/dry_run.lua` next to `lua5.4 -e ''`,
#     run alternately in the same session, reported as a ratio (the machines
#     are shared and noisy: only ratios from one session mean anything).
set -eu
cd "$(dirname "$0")/.."
runs=${1:-200}
./qlua bench/argv.lua 20000

now() { date +%s%N; }
# alternate the two commands so load changes hit both alike
base=0 qlua=0
i=0
while [ $i -lt "$runs" ]; do
	t0=$(now); lua5.4 -e '' ; t1=$(now)
	./qlua -n bench/dry_run.lua >/dev/null; t2=$(now)
	base=$((base + t1 - t0)); qlua=$((qlua + t2 - t1))
	i=$((i + 1))
done
echo "process: lua5.4 -e '' $((base / runs / 1000)) us, qlua -n $((qlua / runs / 1000)) us," \
     "ratio $(echo "scale=2; $qlua / $base" | bc 2>/dev/null || awk "BEGIN{printf \"%.2f\", $qlua/$base}") ($runs runs each, alternating)"
