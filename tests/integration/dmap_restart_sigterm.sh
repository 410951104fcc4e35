#!/usr/bin/env bash
# A clean stop of the daemon (SIGTERM) while an application maps a file
# that was truncated and unlinked while mapped: the stopping daemon must
# not free the pinned blocks (the application's lock says it still maps
# them), and the next daemon keeps them too.  A file filling all free
# space is not corrupted by the application's stores; after it exits the
# blocks come back; fsck is clean.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 128M
source "$(dirname "$0")/dmap_restart_lib.sh"
mount_baseline

map_held "$MNT/a" 33554432 1 2
truncate -s 4096 "$MNT/a" || fail "truncate of a mapped file"
rm "$MNT/a" || fail "unlink of a mapped file"
kill -TERM "$DAEMON_PID"
wait_daemon_exit SIGTERM
assert_eq "pmemfs-fuse exit status after SIGTERM" 0 "$DAEMON_STATUS"
is_mounted "$MNT" && { fusermount3 -u -z "$MNT" 2>/dev/null || umount -l "$MNT"; }
fsck_clean
mount_fs
F1=$(free_blocks)
[ "$F1" -le $((F0 - 8192)) ] ||
	fail "a's 8192 blocks were freed while mapped: free $F1, before a $F0"
stores_spare_free "$SYNC" $HOLD
unmount_fs
fsck_clean
note "ok"
