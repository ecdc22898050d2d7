#!/bin/sh
# check-valgrind.sh [SPEC...] - the specs that boot no guest (busted's
# --exclude-tags=guest) under valgrind's memcheck with the leak check on:
# busted runs in ./qlua under valgrind, and every qlua a spec starts runs
# under valgrind too ($QLUA_WRAP).  QEMU and other programs run as they are
# (no --trace-children).  valgrind's reports go to build/valgrind/logs, one
# file per process; any report fails the run.
set -u
cd "$(dirname "$0")/.."
dir=$PWD/build/valgrind
rm -rf "$dir/logs"
mkdir -p "$dir/logs"
# specs run qlua as nobody too (setpriv): its logs must land here as well
chmod 1777 "$dir/logs"
# -q: a log stays empty unless there is something to report.  Leaks that
# count: definite and indirect (memory still reachable at exit is not a
# leak: Lua's state when a script calls os.exit, for one).
# --child-silent-after-fork: a child that fails to exec exits at once
# (_exit), holding what its parent had allocated; that is not a leak.
vg="valgrind -q --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
--errors-for-leak-kinds=definite,indirect --error-exitcode=99 --child-silent-after-fork=yes \
--log-file=$dir/logs/%p.log"
# The test guest (the dry runs of examples/ want it): through QLUA_GUEST_DIR,
# since the binary /proc names for a qlua under valgrind is valgrind's.
export QLUA_GUEST_DIR="$PWD/build/guest"
# Lua's blocks from malloc, not qlua's pool (src/lalloc.c): memcheck sees them all
export QLUA_SYSTEM_MALLOC=1
QLUA_WRAP=$vg QLUA_LUA="$vg ./qlua" QLUA_TAP=$dir/test-results.tap \
	scripts/check.sh --exclude-tags=guest "$@"
status=$?
# Reports are valgrind's "==PID==" lines.  Its "--PID--" notes are not:
# valgrind 3.19 warns that it does not know pidfd_open (qlua then watches
# its children through SIGCHLD, see loop_watch_children).
reports=$(grep -l '^==[0-9]*==' "$dir"/logs/* 2>/dev/null | sort)
if [ -n "$reports" ]; then
	for f in $reports; do
		echo "---- $f"
		cat "$f"
	done
	echo "check-valgrind: $(echo "$reports" | wc -l) valgrind report(s) above" >&2
	exit 1
fi
exit $status
