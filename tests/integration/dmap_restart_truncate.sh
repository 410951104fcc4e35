#!/usr/bin/env bash
# A daemon killed (kill -9) and restarted while an application maps a
# file: the new daemon sees the mapping (the client's lock on the device)
# and pins the file's blocks, so truncating and unlinking the file after
# the restart frees nothing the application still stores into.  A file
# filling all free space is not corrupted by the application's stores.
# A clean remount meanwhile keeps the protection.  When the application
# exits, the blocks come back within the poll interval; fsck is clean.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 128M
source "$(dirname "$0")/dmap_restart_lib.sh"
mount_baseline

map_held "$MNT/a" 33554432 1 2
kill_daemon
mount_fs
grep -q "applications still map files of an earlier daemon (files pinned: 1)" "$DAEMON_LOG" ||
	fail "the restarted daemon did not see the mapping: $(cat "$DAEMON_LOG")"
truncate -s 0 "$MNT/a" || fail "truncate after restart"
rm "$MNT/a" || fail "unlink after restart"
F1=$(free_blocks)
[ "$F1" -le $((F0 - 8192)) ] ||
	fail "a's 8192 blocks came back while mapped: free $F1, before a $F0"
# clean unmount and mount with the application still mapping
unmount_fs
mount_fs
assert_eq "free blocks after a clean remount while mapped" "$F1" "$(free_blocks)"
stores_spare_free "$SYNC" $HOLD
grep -q "no direct map of an earlier daemon left" "$DAEMON_LOG" || fail "kept orphans not freed: $(cat "$DAEMON_LOG")"
unmount_fs
fsck_clean
note "ok"
