#!/usr/bin/env bash
# kill -9 of the daemon while an application holds a direct mapping: the
# application keeps storing and persisting (no FUSE involved), and after
# the daemon restarts (recovery) the file holds what it persisted.
source "$(dirname "$0")/lib.sh"
require_fuse
source "$(dirname "$0")/dmap_restart_lib.sh"
setup_fs 256M
mount_fs
map_held "$MNT/f" 6291456 2 3
kill_daemon
go_holder "$SYNC" "$HOLD" # stores + persist with the daemon dead
mount_fs
grep -q "was not unmounted cleanly" "$DAEMON_LOG" || fail "the restart did not recover"
"$TOOL" verify "$MNT/f" 3 || fail "after restart: not what the application persisted"
exit_holder "$SYNC" "$HOLD"
unmount_fs
fsck_clean
note "ok"
