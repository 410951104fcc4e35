#!/usr/bin/env bash
# Truncate and unlink of a directly mapped file: the pinned blocks are not
# freed or reused while mapped, so a second file allocated meanwhile keeps
# its data while the application goes on storing into its mapping; both
# patterns verify.  Then the same with a daemon crash while the truncated
# blocks are held: recovery frees them, fsck is clean.
source "$(dirname "$0")/lib.sh"
require_fuse
TOOL=$HELPER_DIR/dmap_tool
setup_fs 128M
mount_fs
EXTRA_CLEANUP=

# run_holder FILE SEED1 SEED2: starts dmap_tool hold, waits until mapped
run_holder() {
	SYNC=$(mktemp -d "$WORK/sync.XXXXXX")
	"$TOOL" hold "$1" "$2" "$3" "$SYNC" >"$SYNC/out" 2>&1 &
	HOLD=$!
	local deadline=$((SECONDS + 20))
	until [ -e "$SYNC/ready" ]; do
		kill -0 $HOLD 2>/dev/null || fail "holder died: $(cat "$SYNC/out")"
		[ $SECONDS -lt $deadline ] || fail "holder not ready"
		sleep 0.05
	done
	grep -q "mode=direct" "$SYNC/out" || fail "not mapped directly: $(cat "$SYNC/out")"
}

# go_holder: let it store SEED2 over its whole mapping and verify it
go_holder() {
	touch "$SYNC/go"
	until [ -e "$SYNC/done" ]; do
		kill -0 $HOLD 2>/dev/null || fail "holder failed: $(cat "$SYNC/out")"
		sleep 0.05
	done
}

# Fill most of the free space around the mapped file so that any block
# freed too early would be handed to the next file.
fill_others() {
	local i
	for i in 1 2 3 4; do
		"$TOOL" map "$MNT/other$i" 16777216 $((100 + i)) >/dev/null ||
			fail "map other$i"
	done
}
verify_others() {
	local i
	for i in 1 2 3 4; do
		"$TOOL" verify "$MNT/other$i" $((100 + i)) || fail "other$i corrupted ($1)"
	done
}

"$TOOL" map "$MNT/victim" 33554432 1 >/dev/null || fail "creating victim"
run_holder "$MNT/victim" 1 2
truncate -s 4096 "$MNT/victim" || fail "truncate of a mapped file"
fill_others
go_holder
verify_others "after truncate"
assert_eq "victim size after truncate" 4096 "$(stat -c %s "$MNT/victim")"
rm "$MNT/victim" || fail "unlink of a mapped file"
rm "$MNT"/other*
fill_others
"$TOOL" map "$MNT/other5" 16777216 105 >/dev/null || fail "map other5"
touch "$SYNC/exit"
wait $HOLD || fail "holder failed: $(cat "$SYNC/out")"
verify_others "after unlink"
"$TOOL" verify "$MNT/other5" 105 || fail "other5 corrupted"
rm "$MNT"/other*
unmount_fs
fsck_clean

# crash while truncated and unlinked blocks are held
mount_fs
"$TOOL" map "$MNT/v2" 16777216 7 >/dev/null || fail "creating v2"
"$TOOL" map "$MNT/v3" 16777216 8 >/dev/null || fail "creating v3"
run_holder "$MNT/v2" 7 9
H2=$HOLD S2=$SYNC
run_holder "$MNT/v3" 8 10
truncate -s 0 "$MNT/v2"
rm "$MNT/v3"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=
fusermount3 -u -z "$MNT" 2>/dev/null || true
kill $H2 $HOLD 2>/dev/null
wait $H2 $HOLD 2>/dev/null || true
"$FSCK_PMEMFS" -n -f "$IMG" >"$WORK/fsck-crash.log" 2>&1
st=$?
# before recovery fsck may only report the orphans it would free
[ $st -le 1 ] || fail "fsck before recovery: exit $st: $(cat "$WORK/fsck-crash.log")"
mount_fs
grep -q "orphan" "$DAEMON_LOG" || fail "recovery did not mention orphans"
assert_eq "v2 size after recovery" 0 "$(stat -c %s "$MNT/v2")"
[ ! -e "$MNT/v3" ] || fail "v3 came back"
unmount_fs
fsck_clean
note "ok"
