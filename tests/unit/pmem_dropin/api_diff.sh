#!/usr/bin/env bash
# api_diff.sh - runs pmem_dropin_api_diff once on PMDK's libpmem.so.1 (the
# system one: LD_LIBRARY_PATH unset) and once on ours (LD_LIBRARY_PATH from
# meson) and requires identical results, line for line.  The first line of
# each run names the library it had mapped; that must be the system one and
# ours ($PMEM_DROPIN_EXPECT) respectively.
# Usage: api_diff.sh PMEM_DROPIN_API_DIFF
set -u

PROG=api_diff
fail() {
	echo "$PROG: $*" >&2
	exit 1
}

exe=$1
[ -n "${PMEM_DROPIN_EXPECT:-}" ] || fail "PMEM_DROPIN_EXPECT is not set: cannot tell which libpmem is ours"
ours=$(realpath "$PMEM_DROPIN_EXPECT") || fail "$PMEM_DROPIN_EXPECT: cannot resolve"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pmem_api_diff.XXXXXX") || fail "mktemp: cannot create a temp dir"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/pmdk" "$tmp/ours"

env -u LD_LIBRARY_PATH "$exe" "$tmp/pmdk" >"$tmp/pmdk.out" 2>&1 ||
	fail "on PMDK's libpmem: expected exit 0, found $?: $(tail -3 "$tmp/pmdk.out")"
"$exe" "$tmp/ours" >"$tmp/ours.out" 2>&1 ||
	fail "on ours: expected exit 0, found $?: $(tail -3 "$tmp/ours.out")"

pmdk_lib=$(sed -n '1s/^lib: //p' "$tmp/pmdk.out")
ours_lib=$(sed -n '1s/^lib: //p' "$tmp/ours.out")
[ "$(realpath "$ours_lib")" = "$ours" ] || fail "second run: expected our $ours loaded, found $ours_lib"
[ -n "$pmdk_lib" ] && [ "$(realpath "$pmdk_lib")" != "$ours" ] ||
	fail "first run: expected PMDK's system libpmem loaded, found '$pmdk_lib'"

# paths in the output name the run's own temp dir; make them comparable
sed -e '1d' -e "s|$tmp/pmdk|DIR|g" "$tmp/pmdk.out" >"$tmp/pmdk.cmp"
sed -e '1d' -e "s|$tmp/ours|DIR|g" "$tmp/ours.out" >"$tmp/ours.cmp"
cases=$(wc -l <"$tmp/pmdk.cmp")
[ "$cases" -gt 50 ] || fail "expected more than 50 result lines from PMDK's run, found $cases"
if ! diff -u "$tmp/pmdk.cmp" "$tmp/ours.cmp" >"$tmp/diff"; then
	cat "$tmp/diff" >&2
	fail "expected ours to give PMDK's results (-PMDK +ours above)"
fi
echo "$PROG: $cases results identical on $pmdk_lib and $ours_lib"
