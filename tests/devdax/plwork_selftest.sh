#!/usr/bin/env bash
# plwork_selftest.sh - the power-loss verifier can fail: on the host, in a
# scratch directory, plwork verify must accept the state after K or K+1
# operations and reject older states, a changed byte, a lost file and a
# stray file.  Runs without qemu.
set -euo pipefail
PLWORK=${PLWORK:?PLWORK is not set (run through meson test)}
DIR=$(mktemp -d /tmp/plwork-selftest.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
SEED=7

fail() {
	echo "FAIL: plwork_selftest: $*"
	exit 1
}

# expect_verify WHAT 0|1 K: plwork verify's exit status must be as given.
expect_verify() {
	local status=0
	"$PLWORK" verify "$DIR/w" $SEED "$3" >"$DIR/out" 2>&1 || status=$?
	[ "$status" = "$2" ] || fail "$1: expected verify exit $2, got $status: $(cat "$DIR/out")"
	echo "PASS: $1"
}

"$PLWORK" run "$DIR/w" $SEED 200 >"$DIR/run.log"
[ "$(grep -c '^PL ACK ' "$DIR/run.log")" = 200 ] || fail "plwork run: expected 200 ACK lines"
expect_verify "state after op 200 accepted as 'acked 200'" 0 200
expect_verify "state after op 200 accepted as 'acked 199, op 200 in flight'" 0 199
expect_verify "state after op 200 rejected as 'acked 150'" 1 150
expect_verify "state after op 200 rejected as 'acked 198'" 1 198

f=$(cd "$DIR/w" && ls f?? | head -n 1)
cp "$DIR/w/$f" "$DIR/saved"
printf 'X' | dd of="$DIR/w/$f" bs=1 seek=0 conv=notrunc status=none
expect_verify "a changed byte in $f rejected" 1 200
cp "$DIR/saved" "$DIR/w/$f"
expect_verify "restored $f accepted again" 0 200
rm "$DIR/w/$f"
expect_verify "a lost file ($f) rejected" 1 200
cp "$DIR/saved" "$DIR/w/$f"
touch "$DIR/w/stray"
expect_verify "a stray file rejected" 1 200
rm "$DIR/w/stray"
touch "$DIR/w/tmp.5"
expect_verify "an old operation's temporary file rejected" 1 200
rm "$DIR/w/tmp.5"
expect_verify "the clean state accepted at the end" 0 200
