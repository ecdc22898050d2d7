#!/bin/bash
# bench/govmm.sh [N [ROUNDS]] - qlua's argv next to govmm's:
#  1. govmm's builder on bench/typical.lua's configuration with Go's own
#     testing.B: bench/govmm/typical_test.go copied into a copy of govmm's
#     qemu package (Debian's golang-github-kata-containers-govmm-dev, under
#     /usr/share/gocode) in build/govmm/, `go test -bench Typical
#     -benchtime Nx -count ROUNDS` (default 20000 builds, 5 rounds), offline
#     (GOPROXY=off, GOFLAGS=-mod=mod: govmm needs nothing outside Go's
#     standard library); the best round's CPU time per build, next to
#     `qlua bench/argv.lua N` (also the best of 5 rounds of N, CPU time);
#  2. instructions per build under callgrind, for both: two runs, of N/20 and
#     N/10 builds, the difference of their instruction counts divided by the
#     difference of the builds, so that start-up and warm-up cancel out; for
#     qlua and the floor, the mean of that over 4 seeds of Lua's string
#     hashes (bench/seed.c), each the same in every run.
# Without Go (sh scripts/deps.sh bench installs it) it says so and prints
# `bench-result govmm skipped=...` lines that bench/run.lua shows as not
# measured (GO=/nonexistent shows it).  QLUA=path measures another qlua binary (default ./qlua).
set -euo pipefail
cd "$(dirname "$0")/.."
make -s -C bench >/dev/null  # bench/api_floor.so, the argv floor
n=${1:-20000}
rounds=${2:-5}
qlua=${QLUA:-./qlua}
[ -x "$qlua" ] || { echo "bench/govmm.sh: build qlua first (make)" >&2; exit 1; }
src=/usr/share/gocode/src/github.com/kata-containers/govmm
go=${GO:-go}   # GO=/nonexistent: as on a machine without Go

# callgrind_ir CMD...: the instructions (Ir) callgrind counted for CMD
callgrind_ir() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
		awk '/Collected :/ { print $NF }'
}
# per_build N1 N2 IR1 IR2: instructions per build between two runs
per_build() { awk -v a="$1" -v b="$2" -v x="$3" -v y="$4" 'BEGIN { printf "%.0f", (y - x) / (b - a) }'; }
cg1=$((n / 20 > 0 ? n / 20 : 1)) cg2=$((n / 10 > 1 ? n / 10 : 2))
# lua_per_build ARGS...: per_build of `qlua bench/argv.lua N ARGS...` at cg1
# and cg2 builds, the mean over 4 fixed seeds of Lua's string hashes
lua_per_build() {
	local sum=0 t a b
	for t in 1000000 2000000 3000000 4000000; do
		a=$(BENCH_TIME=$t LD_PRELOAD="$PWD/bench/seed.so" callgrind_ir "$qlua" bench/argv.lua "$cg1" "$@")
		b=$(BENCH_TIME=$t LD_PRELOAD="$PWD/bench/seed.so" callgrind_ir "$qlua" bench/argv.lua "$cg2" "$@")
		sum=$((sum + $(per_build "$cg1" "$cg2" "$a" "$b")))
	done
	echo $((sum / 4))
}

# qlua: bench/argv.lua's own line, then the instructions
line=$("$qlua" bench/argv.lua "$n")
echo "$line" >&2
qus=$(echo "$line" | awk '$1 == "bench-result" && $2 == "argv" { sub("qlua=", "", $3); print $3 }')
fus=$(echo "$line" | awk '$1 == "bench-result" && $2 == "argv_floor" { sub("base=", "", $4); print $4 }')
qir=- fir=-
if command -v valgrind >/dev/null; then
	qir=$(lua_per_build build)
	# the Lua-API floor's instructions (bench/api_floor.c), the same way
	fir=$(lua_per_build floor)
	echo "instructions per build (callgrind, $cg2 - $cg1 builds): qlua $qir, the Lua-API floor $fir"
	echo "bench-result argv_floor_ir qlua=$qir base=$fir unit=Ir n=$((cg2 - cg1))"
else
	echo "bench-result argv_floor_ir skipped=yes why=valgrind_not_installed qlua=- unit=Ir n=$((cg2 - cg1))"
fi

if ! command -v "$go" >/dev/null || [ ! -d "$src/qemu" ]; then
	why="Go or govmm's source is not installed (sh scripts/deps.sh bench)"
	echo "bench/govmm.sh: $why: govmm not measured" >&2
	echo "qlua: $qus us per build, $qir instructions per build (callgrind)"
	echo "bench-result govmm skipped=yes why=golang-go_or_govmm_not_installed:_sh_scripts/deps.sh_bench qlua=$qus unit=us n=$n rounds=$rounds"
	echo "bench-result govmm_ir skipped=yes why=golang-go_or_govmm_not_installed qlua=$qir unit=Ir n=$((cg2 - cg1))"
	exit 0
fi

# A copy of govmm's tree with our benchmark in its qemu package.
dir=build/govmm
rm -rf "$dir"
mkdir -p "$dir"
cp -r "$src/." "$dir/"
chmod -R u+w "$dir"
cp bench/govmm/typical_test.go "$dir/qemu/"
export GOPROXY=off GOFLAGS=-mod=mod GOCACHE="$PWD/build/go-cache" GOPATH="$PWD/build/go-path" GO111MODULE=on
(cd "$dir/qemu" && "$go" test -c -o ../qemu.test . && ../qemu.test -test.run TypicalArgv -test.v) |
	grep -E 'arguments|^(ok|PASS|FAIL)' >&2
out=$("$dir/qemu.test" -test.run '^$' -test.bench Typical -test.benchtime "${n}x" -test.count "$rounds" -test.benchmem)
echo "$out" >&2
# the best round's CPU time per build (ns), and its wall time
gns=$(echo "$out" | awk '/^BenchmarkTypical/ { for (i = 1; i <= NF; i++) if ($i == "cpu-ns/op") print $(i - 1) }' | sort -g | head -1)
gwall=$(echo "$out" | awk '/^BenchmarkTypical/ { print $3 }' | sort -g | head -1)
gus=$(awk -v x="$gns" 'BEGIN { printf "%.3f", x / 1000 }')

gir=-
if command -v valgrind >/dev/null; then
	gb() { echo "$dir/qemu.test" -test.run '^$' -test.bench Typical -test.benchtime "$1x" -test.count 1; }
	# Go under valgrind 3.19: no RDTSCP (SIGILL in runtime.cputicks), and no
	# asynchronous preemption (its SIGURGs trip an assertion of callgrind's)
	export GODEBUG=cpu.rdtscp=off,asyncpreemptoff=1 GOMAXPROCS=1
	a=$(callgrind_ir $(gb "$cg1")) b=$(callgrind_ir $(gb "$cg2"))
	unset GODEBUG GOMAXPROCS
	gir=$(per_build "$cg1" "$cg2" "$a" "$b")
fi

echo "argv of bench/typical.lua: qlua $qus us, govmm $gus us of CPU (wall $gwall ns/op); ratio $(awk -v q="$qus" -v g="$gus" 'BEGIN { printf "%.3f", q / g }') (goal <= 0.35)"
[ -n "$fus" ] && echo "the Lua-API floor: $fus us; floor / govmm $(awk -v f="$fus" -v g="$gus" 'BEGIN { printf "%.3f", f / g }') (what the goal's 0.35 is measured against)"
echo "instructions per build (callgrind, $cg2 - $cg1 builds): qlua $qir, govmm $gir"
echo "bench-result govmm qlua=$qus base=$gus unit=us n=$n rounds=$rounds wall_ns=$gwall"
if [ "$qir" != - ] && [ "$gir" != - ]; then
	echo "bench-result govmm_ir qlua=$qir base=$gir unit=Ir n=$((cg2 - cg1))"
else
	echo "bench-result govmm_ir skipped=yes why=valgrind_not_installed qlua=$qir unit=Ir n=$((cg2 - cg1))"
fi
