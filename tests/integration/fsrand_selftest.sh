#!/usr/bin/env bash
# fsrand itself: two tmpfs trees must agree, and a planted difference must
# be reported with exit 1.  No FUSE needed.
set -euo pipefail
[ -n "${HELPER_DIR:-}" ] || { echo "FAIL: HELPER_DIR is not set" >&2; exit 1; }
a=$(mktemp -d /dev/shm/fsrand-self-a.XXXXXX)
b=$(mktemp -d /dev/shm/fsrand-self-b.XXXXXX)
trap 'rm -rf "$a" "$b"' EXIT
"$HELPER_DIR/fsrand" --emulate-zero-range --seed 42 --ops 20000 "$a" "$b" ||
	{ echo "FAIL: fsrand reported a difference between two tmpfs trees" >&2; exit 1; }
rm -rf "${a:?}"/* "${b:?}"/*
status=0
"$HELPER_DIR/fsrand" --emulate-zero-range --inject-difference 100 --seed 42 --ops 2000 "$a" "$b" 2>"$a.err" || status=$?
msg=$(cat "$a.err"); rm -f "$a.err"
[ $status -eq 1 ] || { echo "FAIL: planted difference: expected exit 1, got $status" >&2; exit 1; }
case "$msg" in *"mismatch at op"*"injected"*) ;; *) echo "FAIL: planted difference: expected a mismatch naming 'injected', got: $msg" >&2; exit 1 ;; esac
echo "fsrand_selftest: clean run agreed, planted difference reported"
