#!/usr/bin/env bash
# kill -9 of the daemon while an application holds a direct mapping: the
# application keeps storing and persisting (no FUSE involved), and after
# the daemon restarts (recovery) the file holds what it persisted.
source "$(dirname "$0")/lib.sh"
require_fuse
TOOL=$HELPER_DIR/dmap_tool
setup_fs 256M
mount_fs
SYNC=$WORK/sync
mkdir "$SYNC"
"$TOOL" map "$MNT/f" 6291456 1 >/dev/null || fail "creating the file"
"$TOOL" hold "$MNT/f" 2 3 "$SYNC" >"$WORK/hold.out" 2>&1 &
HOLD=$!
EXTRA_CLEANUP="$SYNC"
deadline=$((SECONDS + 20))
until [ -e "$SYNC/ready" ]; do
	kill -0 $HOLD 2>/dev/null || fail "holder died: $(cat "$WORK/hold.out")"
	[ $SECONDS -lt $deadline ] || fail "holder not ready"
	sleep 0.05
done
grep -q "mode=direct" "$WORK/hold.out" || fail "holder not mapped directly: $(cat "$WORK/hold.out")"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=
fusermount3 -u -z "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
touch "$SYNC/go" # stores + persist with the daemon dead
until [ -e "$SYNC/done" ]; do
	kill -0 $HOLD 2>/dev/null || fail "the application died without its daemon: $(cat "$WORK/hold.out")"
	sleep 0.05
done
mount_fs
grep -q "was not unmounted cleanly" "$DAEMON_LOG" || fail "the restart did not recover"
"$TOOL" verify "$MNT/f" 3 || fail "after restart: not what the application persisted"
touch "$SYNC/exit"
wait $HOLD || fail "holder failed: $(cat "$WORK/hold.out")"
unmount_fs
fsck_clean
note "ok"
