# shellcheck shell=bash disable=SC2154
# bench/lib.sh - what bench/argv.sh, launch.sh and matrix.sh share (bash,
# sourced): timing whole commands alternately, and their statistics.
#
# The caller sets cmds, an array of command lines.  Each is timed with bash's
# $EPOCHREALTIME: reading the clock forks nothing, so no helper process's
# start or exit lands inside a measured interval.

# run J: command J, its output discarded; a failure stops the script (set -e).
# A script may define its own after sourcing this (matrix.sh shows the output
# of a command that failed).
run() { eval "${cmds[$1]}" >/dev/null; }

# alternate WARMUPS RUNS FILE: each command WARMUPS times untimed, then RUNS
# rounds in which each runs once, the order rotating every round so that a
# change of the machine's load hits all of them alike; appends "J MICROSECONDS"
# to FILE for each timed run.
alternate() {
	local n=${#cmds[@]} i j k t0 t1
	for ((i = 0; i < $1; i++)); do
		for ((j = 0; j < n; j++)); do run "$j"; done
	done
	for ((i = 0; i < $2; i++)); do
		for ((k = 0; k < n; k++)); do
			j=$(((i + k) % n))
			t0=${EPOCHREALTIME/[.,]/}
			run "$j"
			t1=${EPOCHREALTIME/[.,]/}
			echo "$j $((t1 - t0))" >>"$3"
		done
	done
}

# stats FILE: for each command of alternate's FILE, a line "J MEAN MEDIAN MIN"
# (microseconds).
stats() {
	sort -k1,1n -k2,2n "$1" | awk '
		{ v[$1, c[$1]++] = $2; s[$1] += $2 }
		END { for (j = 0; j in c; j++) {
			k = c[j]; m = k % 2 ? v[j, (k - 1) / 2] : (v[j, k / 2 - 1] + v[j, k / 2]) / 2
			print j, s[j] / k, m, v[j, 0] } }'
}
