#!/usr/bin/env bash
# Unlink and truncate BEFORE a kill -9 of the daemon, while applications
# map the files: the unlinked file and the truncated file's holder are on
# the orphan list, and the restarted daemon's recovery must keep them
# (the clients' locks say they may still be mapped) instead of freeing
# blocks the applications store into.  A file filling all free space
# stays intact; after the applications exit the orphans are freed within
# the poll interval, even while a client of the new daemon maps another
# file; fsck is clean.  Without live clients the orphans are
# freed at mount as always (dmap_truncate, kill_recovery).
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 128M
source "$(dirname "$0")/dmap_restart_lib.sh"
mount_baseline

"$TOOL" map "$MNT/a" 33554432 1 >/dev/null || fail "creating a"
"$TOOL" map "$MNT/c" 16777216 3 >/dev/null || fail "creating c"
run_holder "$MNT/a" 1 2
HA=$HOLD SA=$SYNC
run_holder "$MNT/c" 3 4
HC=$HOLD SC=$SYNC
rm "$MNT/a" || fail "unlink of a mapped file"
truncate -s 0 "$MNT/c" || fail "truncate of a mapped file"
kill_daemon
mount_fs
grep -q "orphans kept for live direct maps" "$DAEMON_LOG" ||
	fail "recovery did not keep the mapped orphans: $(cat "$DAEMON_LOG")"
F1=$(free_blocks)
[ "$F1" -le $((F0 - 12288)) ] ||
	fail "mapped blocks were freed by recovery: free $F1, before $F0"
# a client of the new daemon, mapping another file throughout
map_held "$MNT/d" 4194304 5 6
HD=$HOLD SD=$SYNC
fill_free "$MNT/b" 55
go_holder "$SA" $HA
go_holder "$SC" $HC
"$TOOL" verify "$MNT/b" 55 || fail "b corrupted by the applications' stores"
exit_holder "$SA" $HA
exit_holder "$SC" $HC
rm "$MNT/b" "$MNT/c"
wait_free $((F0 - 1024)) # all but d's 4 MiB, d still mapped
go_holder "$SD" $HD
exit_holder "$SD" $HD
"$TOOL" verify "$MNT/d" 6 || fail "d: not what its application persisted"
rm "$MNT/d"
wait_free "$F0"
unmount_fs
fsck_clean
note "ok"
