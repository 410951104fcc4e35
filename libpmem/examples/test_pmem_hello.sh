#!/usr/bin/env bash
# test_pmem_hello.sh - runs pmem_hello twice on a fresh temp file: the first
# run must write the greeting, the second must print it back, and is_pmem
# must be what PMEM_IS_PMEM_FORCE asks for.  Then checks the refusals:
# a foreign file, a missing argument, --help.
# Usage: test_pmem_hello.sh PMEM_HELLO EXPECTED_IS_PMEM
set -u

hello=$1
want_pmem=$2
fail() {
	echo "test_pmem_hello: $*" >&2
	exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pmem_hello.XXXXXX") || fail "mktemp: cannot create a temp dir"
trap 'rm -rf "$tmp"' EXIT
file="$tmp/hello.pmem"

expect_run() {
	local what=$1 want=$2 got status=0
	shift 2
	got=$("$hello" "$@" 2>&1) || status=$?
	[ $status -eq 0 ] || fail "$what: expected exit 0, found exit $status: $got"
	[ "$got" = "$want" ] || fail "$what: expected output
$want
found
$got"
}

expect_run "first run" "is_pmem: $want_pmem
wrote: Hello, persistent memory!" "$file"
size=$(stat -c %s "$file")
[ "$size" -eq 4096 ] || fail "first run: expected a 4096-byte file, found $size bytes"
expect_run "second run" "is_pmem: $want_pmem
stored: Hello, persistent memory!" "$file"
expect_run "third run" "is_pmem: $want_pmem
stored: Hello, persistent memory!" "$file"

head -c 4096 /dev/urandom >"$tmp/foreign"
out=$("$hello" "$tmp/foreign" 2>&1) && fail "foreign file: expected a non-zero exit, found 0"
case "$out" in
*"pmem_hello: $tmp/foreign: not a pmem_hello file"*) ;;
*) fail "foreign file: expected 'pmem_hello: $tmp/foreign: not a pmem_hello file', found: $out" ;;
esac

out=$("$hello" "$tmp/no/such/dir/file" 2>&1) && fail "bad path: expected a non-zero exit, found 0"
case "$out" in
"pmem_hello: $tmp/no/such/dir/file: pmem_map_file: "*) ;;
*) fail "bad path: expected 'pmem_hello: $tmp/no/such/dir/file: pmem_map_file: <why>', found: $out" ;;
esac

"$hello" >/dev/null 2>&1 && fail "no argument: expected exit 2, found 0"
"$hello" --help | grep -q '^usage: pmem_hello FILE' || fail "--help: expected a usage line on stdout, found none"
echo "test_pmem_hello: is_pmem $want_pmem: write, read back and refusals all as expected"
