#!/bin/sh
# check.sh [SPEC...] - run the busted specs (all of spec/ by default) with the
# qemu module and qlua binary of this tree.  The TAP stream is kept in
# build/test-results.tap, which .ci/run counts.
set -u
cd "$(dirname "$0")/.."
mkdir -p build
[ $# -gt 0 ] || set -- spec
# Lua 5.4 explicitly: /usr/bin/busted runs whatever "lua" is.
lua5.4 /usr/bin/busted --lpath='lua/?.lua;lua/?/init.lua;spec/?.lua' --cpath='./?.so' \
	-o TAP "$@" | tee build/test-results.tap
status=$?
# tee hides busted's status: a failure or an error is "not ok" in the stream
if grep -q '^not ok' build/test-results.tap || ! grep -q '^1\.\.' build/test-results.tap; then
	exit 1
fi
exit $status
