#!/bin/sh
# check-asan.sh [SPEC...] - the suite with build/asan/qlua (make check-asan
# builds it): busted runs inside it, and every spec that runs qlua runs it.
# Sanitizer reports go to files in build/asan/logs rather than stderr, so a
# report from a qlua whose status or stderr no spec looks at (a detached
# run, a background matrix) still fails the run.
set -u
cd "$(dirname "$0")/.."
dir=$PWD/build/asan
rm -rf "$dir/logs"
mkdir -p "$dir/logs"
# specs run qlua as nobody too (setpriv): its reports must land here as well
chmod 1777 "$dir/logs"
export ASAN_OPTIONS="log_path=$dir/logs/asan:detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="log_path=$dir/logs/ubsan:print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"
# The test guest: found through QLUA_GUEST_DIR, and in the binary's tree
# (build/asan/build/guest) by the spec that looks there.
mkdir -p "$dir/build"
ln -sfn ../../guest "$dir/build/guest"
export QLUA_GUEST_DIR="$PWD/build/guest"
# The Debian image, for the specs that look for it in the binary's tree.
ln -sfn ../../distro "$dir/build/distro"
# Not the Debian boots (tags distro, distro_full): what they add is minutes of
# QEMU booting a whole system, which the sanitizers do not watch, for the
# same qlua code paths (launch, agent, ssh, matrix) the test guest's specs
# run here already; CI runs the suite twice, and twice those boots would
# push it past its time.
QLUA_BIN=$dir/qlua QLUA_LUA=$dir/qlua QLUA_REPLAY_DIR=$dir/replay QLUA_TAP=$dir/test-results.tap \
	scripts/check.sh --exclude-tags=distro,distro_full "$@"
status=$?
reports=$(find "$dir/logs" -type f | sort)
if [ -n "$reports" ]; then
	for f in $reports; do
		echo "---- $f"
		cat "$f"
	done
	echo "check-asan: $(echo "$reports" | wc -l) sanitizer report(s) above" >&2
	exit 1
fi
exit $status
