#!/usr/bin/env bash
# pmempool_dropin.sh - Debian's pmempool (pmdk-tools) running on our
# libpmem.so.1: creates obj, blk and log pools, checks them (exit 0,
# "consistent") and prints their info.  The loader's own trace
# (LD_DEBUG=libs) proves which libpmem.so.1 each run initialised.
#
# Environment: PMEM_DROPIN_EXPECT is the path of our libpmem.so.1 and
# LD_LIBRARY_PATH points at its directory (meson sets both).
# PMEM_DROPIN_PRELOAD, when set, is the ASan runtime that a sanitized
# libpmem needs inside the uninstrumented pmempool; only pmempool gets it.
set -u

PROG=pmempool_dropin
fail() {
	echo "$PROG: $*" >&2
	exit 1
}

[ -n "${PMEM_DROPIN_EXPECT:-}" ] || fail "PMEM_DROPIN_EXPECT is not set: cannot tell which libpmem is ours"
expect=$(realpath "$PMEM_DROPIN_EXPECT") || fail "$PMEM_DROPIN_EXPECT: cannot resolve"
command -v pmempool >/dev/null || fail "pmempool not found: install pmdk-tools"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pmempool_dropin.XXXXXX") || fail "mktemp: cannot create a temp dir"
trap 'rm -rf "$tmp"' EXIT

# Runs pmempool with the loader tracing library initialisation, then fails
# unless the only libpmem.so it initialised is ours.
run_pmempool() {
	local trace="$tmp/ld.trace" status inits lib real
	rm -f "$trace".*
	if [ -n "${PMEM_DROPIN_PRELOAD:-}" ]; then
		# leak reports would be about Debian's pmempool, not our library
		LD_PRELOAD="$PMEM_DROPIN_PRELOAD" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
			LD_DEBUG=libs LD_DEBUG_OUTPUT="$trace" pmempool "$@" >"$tmp/out" 2>&1
	else
		LD_DEBUG=libs LD_DEBUG_OUTPUT="$trace" pmempool "$@" >"$tmp/out" 2>&1
	fi
	status=$?
	inits=$(grep -h 'calling init: .*/libpmem\.so' "$trace".* 2>/dev/null | sed 's/.*calling init: //' | sort -u)
	if [ -z "$inits" ]; then
		cat "$tmp/out" >&2
		fail "pmempool $*: expected the loader to initialise our $expect, found no libpmem.so initialised"
	fi
	while read -r lib; do
		real=$(realpath "$lib")
		[ "$real" = "$expect" ] ||
			fail "pmempool $*: expected libpmem.so from $expect, found $lib ($real) initialised"
	done <<<"$inits"
	return $status
}

expect_ok() {
	local status=0
	run_pmempool "$@" || status=$?
	if [ $status -ne 0 ]; then
		cat "$tmp/out" >&2
		fail "pmempool $*: expected exit 0, found exit $status"
	fi
}

expect_output() {
	local what=$1
	shift
	grep -q -- "$what" "$tmp/out" || {
		cat "$tmp/out" >&2
		fail "pmempool $*: expected output containing \"$what\", found none"
	}
}

pool="$tmp/dropin.obj"
expect_ok create obj --layout=dropin --size=32M "$pool"
[ -s "$pool" ] || fail "pmempool create obj: expected $pool to exist, found no file"
expect_ok check -v "$pool"
expect_output "consistent" check -v "$pool"
expect_ok info "$pool"
expect_output "Signature *: PMEMOBJ" info "$pool"
expect_output "Layout *: dropin" info "$pool"
expect_output "Checksum.*\[OK\]" info "$pool"

pool="$tmp/dropin.blk"
expect_ok create blk 4096 --size=32M "$pool"
expect_ok check -v "$pool"
expect_output "consistent" check -v "$pool"
expect_ok info "$pool"
expect_output "Signature *: PMEMBLK" info "$pool"

pool="$tmp/dropin.log"
expect_ok create log --size=16M "$pool"
expect_ok check -v "$pool"
expect_output "consistent" check -v "$pool"
expect_ok info "$pool"
expect_output "Signature *: PMEMLOG" info "$pool"

echo "$PROG: obj, blk and log pools created, checked and inspected on $expect"
