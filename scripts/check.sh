#!/bin/sh
# check.sh [BUSTED-OPTION...] [SPEC...] - run the busted specs (all of spec/ by default) with the
# qemu module and qlua binary of this tree.  The TAP stream is kept in
# build/test-results.tap, which .ci/run counts.
set -u
cd "$(dirname "$0")/.."
mkdir -p build
# The Lua that runs busted: Lua 5.4 explicitly (/usr/bin/busted runs
# whatever "lua" is), or $QLUA_LUA: make check-asan runs busted in its
# sanitized qlua, whose built-in qemu module is then the one under test, and
# make check-valgrind in valgrind (so it is split into words).  $QLUA_TAP:
# where the TAP stream goes.
tap=${QLUA_TAP:-build/test-results.tap}
LPATH='--lpath=lua/?.lua;lua/?/init.lua;spec/?.lua' CPATH='--cpath=./?.so'

# Without a spec file or directory among the arguments (only options, such
# as make check's --exclude-tags), all of spec/.
paths=0
for a in "$@"; do
	case $a in
	-*) ;;
	*) paths=1 ;;
	esac
done

if [ "$paths" = 1 ]; then
	# shellcheck disable=SC2086
	${QLUA_LUA:-lua5.4} /usr/bin/busted "$LPATH" "$CPATH" -o TAP "$@" | tee "$tap"
	status=$?
	# tee hides busted's status: a failure or an error is "not ok" in the stream
	if grep -q '^not ok' "$tap" || ! grep -q '^1\.\.' "$tap"; then
		exit 1
	fi
	exit $status
fi

# ---- the whole suite, in lanes --------------------------------------------------
# Most specs spend their time in one single-threaded TCG guest at a time, so
# the spec files run in $QLUA_LANES busted processes side by side (default:
# the number of CPUs, at most 2; 1 runs them one after the other).  Each lane
# takes the next file not yet taken (mkdir is the claim), so the files start
# in the order below: the long ones first, so that no lane is left with one
# at the end, and spec/distro_spec.lua last, because it boots the Debian
# image, which make check (QLUA_DISTRO_BACKGROUND=1) builds in the background
# meanwhile (3 to 6 minutes from nothing, at the lowest CPU priority so the
# other specs' guests come first; its log is build/distro-image.log), and
# the spec waits for that build.  The order is only a schedule: the specs do
# not depend on it (each file runs alone too), and a file missing from FIRST
# runs in the middle.  The times are one file alone on 2 quiet cores.
FIRST="examples guest agent bench qemu_accepts lifetime ssh process matrix install html guest_kinds"
# examples 81 s, guest 52, agent 46, bench 42, qemu_accepts 39, lifetime 37,
# ssh 37, process 37, matrix 35, install 31, html 26, guest_kinds 22; the
# other 22 files 1 to 18 s each, 200 s together; distro 130 s.
queue=
for name in $FIRST; do
	[ -f "spec/${name}_spec.lua" ] && queue="$queue spec/${name}_spec.lua"
done
for f in spec/*_spec.lua; do
	case " $queue " in *" $f "*) continue ;; esac
	[ "$f" = spec/distro_spec.lua ] || queue="$queue $f"
done
queue="$queue spec/distro_spec.lua"

# In a session of its own, as the lanes' busteds, so that stopping the suite
# stops mmdebstrap too (the script's own trap only runs once its foreground
# child has ended; both take down their mounts and work tree on TERM).
imgpid=
if [ "${QLUA_DISTRO_BACKGROUND:-}" = 1 ]; then
	: >build/distro-image.log
	setsid nice -n 19 scripts/build-distro-image.sh >>build/distro-image.log 2>&1 </dev/null &
	imgpid=$!
fi

lanes=${QLUA_LANES:-$(nproc 2>/dev/null || echo 1)}
[ -n "${QLUA_LANES:-}" ] || [ "$lanes" -le 2 ] || lanes=2
case $lanes in
'' | *[!0-9]* | 0)
	echo "check.sh: QLUA_LANES must be a positive integer, got '$lanes'" >&2
	exit 2
	;;
esac

# each file's TAP and stderr while it runs, beside the whole stream
dir=${tap%.tap}.lanes
rm -rf "$dir"
mkdir -p "$dir"
: >"$tap"
echo 0 >"$dir/count"
n=0
for f in $queue; do
	n=$((n + 1))
	echo "$f" >"$dir/file.$n"
done

# Appends file K's finished TAP to the whole stream, numbered on from the
# tests before it, its plan line dropped (the whole plan comes last), and
# prints the same lines: one file's lines stay together whichever lane ends
# first.  A file that ended without its plan (busted crashed) or with a
# status its TAP does not explain is one more "not ok".  Holds the lock.
merge() {
	k=$1 f=$2 rc=$3 secs=$4
	before=$(cat "$dir/count")
	awk -v before="$before" -v file="$f" -v rc="$rc" -v secs="$secs" -v count="$dir/count" '
		BEGIN { n = before; printf "# %s (%d s)\n", file, secs }
		/^(not )?ok [0-9]+( |$)/ {
			n++
			if ($1 == "not") { bad++; sub(/^not ok [0-9]+/, "not ok " n) } else sub(/^ok [0-9]+/, "ok " n)
			print; next
		}
		/^1\.\.[0-9]+$/ { plan = 1; next }
		{ print }
		END {
			if (!plan) { n++; printf "not ok %d - %s: busted ended without its plan line (exit %d)\n", n, file, rc }
			else if (rc != 0 && !bad) { n++; printf "not ok %d - %s: busted exited %d\n", n, file, rc }
			print n > count
		}' "$dir/tap.$k" | tee -a "$tap"
	if [ -s "$dir/err.$k" ]; then
		cat "$dir/err.$k" >&2
	fi
}

# Lane L: takes files until none is left.  Each busted runs in a session
# of its own (setsid), so that stopping the suite can stop it with all it
# started (its pid, the group's, is in pid.L while it runs); and with INT
# and QUIT as they were (a shell without job control starts its & lists
# with them ignored): the specs run as they would in one busted.
lane() {
	l=$1
	shift
	k=1
	while [ "$k" -le "$n" ]; do
		if mkdir "$dir/claim.$k" 2>/dev/null; then
			f=$(cat "$dir/file.$k")
			t0=$(date +%s)
			# shellcheck disable=SC2086
			setsid env --default-signal=INT,QUIT ${QLUA_LUA:-lua5.4} /usr/bin/busted "$LPATH" "$CPATH" \
				-o TAP "$@" "$f" >"$dir/tap.$k" 2>"$dir/err.$k" &
			echo $! >"$dir/pid.$l"
			wait $!
			rc=$?
			rm -f "$dir/pid.$l"
			(
				flock 9
				merge "$k" "$f" "$rc" $(($(date +%s) - t0))
			) 9>"$dir/lock"
		fi
		k=$((k + 1))
	done
}

# end_groups TENTHS G...: waits up to TENTHS tenths of a second for the
# process groups G to be gone, then KILLs what is left of them.
end_groups() {
	t=0 max=$1
	shift
	while [ "$t" -lt "$max" ]; do
		left=
		for g in "$@"; do
			kill -s 0 -- "-$g" 2>/dev/null && left=1
		done
		[ -n "$left" ] || break
		sleep 0.1
		t=$((t + 1))
	done
	for g in "$@"; do
		kill -s KILL -- "-$g" 2>/dev/null
	done
}

# ^C (the lanes' sessions do not see the terminal's), TERM or HUP: the
# lanes take no more files, and each running busted's session gets TERM,
# then KILL for what is left after 5 s: a busted run by qlua (make
# check-asan) takes TERM as qlua does, and it would go on with its next test.
# The image's background build, if it still runs, gets TERM too, and 30 s
# to take down its mounts and work tree before the KILL.
stop() {
	trap - INT TERM HUP
	# shellcheck disable=SC2086
	kill $pids 2>/dev/null
	groups=
	for p in "$dir"/pid.*; do
		[ -f "$p" ] && groups="$groups $(cat "$p")"
	done
	for g in $groups $imgpid; do
		kill -s TERM -- "-$g" 2>/dev/null
	done
	# shellcheck disable=SC2086
	end_groups 50 $groups
	[ -z "$imgpid" ] || end_groups 300 "$imgpid"
	exit "$1"
}

echo "# $n spec files in $lanes lane(s)"
start=$(date +%s)
i=0 pids=
trap 'stop 130' INT
trap 'stop 143' TERM
trap 'stop 129' HUP
while [ "$i" -lt "$lanes" ]; do
	i=$((i + 1))
	lane "$i" "$@" &
	pids="$pids $!"
done
# (the lanes only: the image's build ends before spec/distro_spec.lua does)
# shellcheck disable=SC2086
wait $pids
total=$(cat "$dir/count")
echo "1..$total" | tee -a "$tap"
# the suite's wall time (the brief keeps make check under 15 minutes on 2
# cores; the per-file times above add up to more, lanes overlapping)
echo "# $n spec files in $lanes lane(s): $(($(date +%s) - start)) s"
if grep -q '^not ok' "$tap" || [ "$total" -eq 0 ]; then
	exit 1
fi
exit 0
