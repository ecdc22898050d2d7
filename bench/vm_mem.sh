#!/bin/bash
# bench/vm_mem.sh [RUNS [N...]] - the launcher's memory per supervised VM
# (the goal: <= 8 KiB per VM): `./qlua bench/many.lua N` (N QEMUs -machine
# none, each with its QMP channel and a captured console, all running at
# once; see bench/many.lua) for each N (default 32 128 256), and `bench/many.lua
# 0` (the same script, no VM), RUNS times each (default 2); qlua's peak RSS
# (VmHWM of the launcher itself) is the largest of the runs and its memory per
# VM (HWM(N) - HWM(0)) / N.  The baseline, in the same session: the same for
# `bench/launch_floor -c N` (the same steps in C), whose smallest count that prints its
# peak is 2:
# (HWM(N) - HWM(2)) / (N - 2).
# One bench-result line per N (see bench/run.lua), KiB per VM: vm_mem1 for the
# first N, vm_mem2 for the second, ...
#
# Next to it, the same differences of the processes' anonymous memory
# (RssAnon, the largest of the samples each takes after launching and after
# querying; anon= in their output lines): their own memory without the pages
# of the binary and the shared libraries, whose count moves by 100 KiB and
# more from run to run whatever the program does (the kernel maps file pages
# around each fault), which is 3 KiB per VM at 32 VMs.  Printed, and as
# anon_qlua/anon_base on the bench-result line; the goal is judged on VmHWM.
#
# Each VM costs qlua a few descriptors (QMP socket, console socket, stderr
# pipe, ...): when the soft RLIMIT_NOFILE is below 8 per VM + 64, the soft
# limit is raised (for this script and what it runs) up to the hard limit,
# and the script says so.  QLUA=path measures another qlua binary.
#
# Every run is bounded (timeout(1); launch_floor also alarm(30 + N - 1)) and leaves
# no QEMU behind.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-2}
shift || true
counts=("${@:-32 128 256}")
read -r -a counts <<<"${counts[*]}"
qlua=${QLUA:-./qlua}
[ -x "$qlua" ] || { echo "bench/vm_mem.sh: build qlua first (make)" >&2; exit 1; }
make -s -C bench >/dev/null
bound() { timeout -k 20 "$@"; }
hwm() { sed -n 's/.* hwm=\([0-9]*\).*/\1/p'; }
anon() { sed -n 's/.* anon=\([0-9]*\).*/\1/p'; }

max=0
for n in "${counts[@]}"; do ((n > max)) && max=$n; done
need=$((max * 8 + 64))
soft=$(ulimit -Sn) hard=$(ulimit -Hn)
if [ "$soft" != unlimited ] && ((soft < need)); then
	[ "$hard" = unlimited ] || ((hard >= need)) || { echo "bench/vm_mem.sh: RLIMIT_NOFILE hard limit $hard < $need" >&2; exit 1; }
	ulimit -Sn "$need"
	echo "bench/vm_mem.sh: soft RLIMIT_NOFILE raised from $soft to $need for $max VMs" >&2
fi

# "HWM ANON": the largest VmHWM and the largest anon (KiB) of RUNS runs of a
# command
peak() {
	local best=0 besta=0 out v a i
	for ((i = 0; i < runs; i++)); do
		out=$("$@")
		v=$(hwm <<<"$out") a=$(anon <<<"$out")
		[ -n "$v" ] && [ -n "$a" ] || { echo "bench/vm_mem.sh: no hwm or anon from: $*" >&2; exit 1; }
		((v > best)) && best=$v
		((a > besta)) && besta=$a
	done
	echo "$best $besta"
}

p=$(peak bound 60 "$qlua" bench/many.lua 0)
read -r q0 qa0 <<<"$p"
p=$(peak bound 300 bench/launch_floor -c 2)
read -r f1 fa1 <<<"$p"
echo "peak RSS, largest of $runs runs: qlua bench/many.lua 0: $q0 KiB; launch_floor -c 2: $f1 KiB"
row=0
for n in "${counts[@]}"; do
	row=$((row + 1))
	p=$(peak bound 600 "$qlua" bench/many.lua "$n")
	read -r qn qan <<<"$p"
	p=$(peak bound 600 bench/launch_floor -c "$n")
	read -r fn fan <<<"$p"
	awk -v row="$row" -v n="$n" -v q0="$q0" -v qn="$qn" -v f1="$f1" -v fn="$fn" \
	    -v qa0="$qa0" -v qan="$qan" -v fa1="$fa1" -v fan="$fan" 'BEGIN {
		q = (qn - q0) / n; f = (n > 2) ? (fn - f1) / (n - 2) : 0
		qa = (qan - qa0) / n; fa = (n > 2) ? (fan - fa1) / (n - 2) : 0
		printf "%d VMs: qlua %d KiB peak (%.2f MiB), %.1f KiB per VM (goal <= 8); launch_floor %d KiB peak, %.1f KiB per VM\n",
		       n, qn, qn / 1024, q, fn, f
		printf "%d VMs, anonymous memory (RssAnon): qlua %.1f KiB per VM; launch_floor %.1f KiB per VM\n", n, qa, fa
		printf "bench-result vm_mem%d qlua=%.2f base=%.2f unit=KiB/VM n=%d runs=%d qlua0=%d qluan=%d floor2=%d floorn=%d anon_qlua=%.2f anon_base=%.2f\n",
		       row, q, f, n, '"$runs"', q0, qn, f1, fn, qa, fa }'
done
