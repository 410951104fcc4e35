#!/usr/bin/env bash
# Truncate and unlink of a directly mapped file: the pinned blocks are not
# freed or reused while mapped, so a second file allocated meanwhile keeps
# its data while the application goes on storing into its mapping; both
# patterns verify.  Then the same with a daemon crash while the truncated
# blocks are held: recovery frees them, fsck is clean.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 128M
source "$(dirname "$0")/dmap_restart_lib.sh"
mount_fs
EXTRA_CLEANUP=

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

map_held "$MNT/victim" 33554432 1 2
truncate -s 4096 "$MNT/victim" || fail "truncate of a mapped file"
fill_others
go_holder "$SYNC" $HOLD
verify_others "after truncate"
assert_eq "victim size after truncate" 4096 "$(stat -c %s "$MNT/victim")"
rm "$MNT/victim" || fail "unlink of a mapped file"
rm "$MNT"/other*
fill_others
"$TOOL" map "$MNT/other5" 16777216 105 >/dev/null || fail "map other5"
exit_holder "$SYNC" $HOLD
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
kill_daemon
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
