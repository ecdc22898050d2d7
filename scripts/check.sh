#!/bin/sh
# check.sh [BUSTED-OPTION...] [SPEC...] - run the busted specs (all of spec/ by default) with the
# qemu module and qlua binary of this tree.  The TAP stream is kept in
# build/test-results.tap, which .ci/run counts.
set -u
cd "$(dirname "$0")/.."
mkdir -p build
# Without a spec file or directory among the arguments (only options, such
# as make check's --exclude-tags), all of spec/.
paths=0
for a in "$@"; do
	case $a in
	-*) ;;
	*) paths=1 ;;
	esac
done
# The whole suite is spec/'s files with spec/distro_spec.lua last: it boots
# the Debian image, which make check (QLUA_DISTRO_BACKGROUND=1) builds in the
# background meanwhile (about 3 minutes from nothing, at the lowest CPU
# priority so the other specs' guests come first; its log is
# build/distro-image.log), and the spec waits for that build.
if [ "$paths" = 0 ]; then
	set -- "$@" $(ls spec/*_spec.lua | grep -vx 'spec/distro_spec.lua') spec/distro_spec.lua
	if [ "${QLUA_DISTRO_BACKGROUND:-}" = 1 ]; then
		: >build/distro-image.log
		nice -n 19 scripts/build-distro-image.sh >>build/distro-image.log 2>&1 </dev/null &
	fi
fi
# The Lua that runs busted: Lua 5.4 explicitly (/usr/bin/busted runs
# whatever "lua" is), or $QLUA_LUA: make check-asan runs busted in its
# sanitized qlua, whose built-in qemu module is then the one under test, and
# make check-valgrind in valgrind (so it is split into words).  $QLUA_TAP:
# where the TAP stream goes.
tap=${QLUA_TAP:-build/test-results.tap}
# shellcheck disable=SC2086
${QLUA_LUA:-lua5.4} /usr/bin/busted --lpath='lua/?.lua;lua/?/init.lua;spec/?.lua' --cpath='./?.so' \
	-o TAP "$@" | tee "$tap"
status=$?
# tee hides busted's status: a failure or an error is "not ok" in the stream
if grep -q '^not ok' "$tap" || ! grep -q '^1\.\.' "$tap"; then
	exit 1
fi
exit $status
