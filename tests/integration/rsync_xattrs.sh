#!/usr/bin/env bash
# rsync -aHAX into pmemfs keeps contents, hard links, modes, owners, times
# and user xattrs; a second run finds nothing to transfer.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 128M
mount_fs
SRC=$WORK/src
mkdir -p "$SRC/d/e"
head -c 200000 /dev/urandom >"$SRC/d/data"
ln "$SRC/d/data" "$SRC/d/e/hard"
ln -s data "$SRC/d/sym"
echo x >"$SRC/d/e/small"; chmod 0640 "$SRC/d/e/small"; chown 11:22 "$SRC/d/e/small"
setfattr -n user.tag -v rsync-me "$SRC/d/data"
mkfifo "$SRC/d/fifo"
# Old times: rsync treats times within the same second as equal and would
# skip setting them on what it just created.
find "$SRC" -exec touch -h -d '2015-05-05 05:05:05.123456789' {} +
rsync -aHAX "$SRC/" "$MNT/dst/" 2>"$WORK/rsync.err" || fail "rsync -aHAX failed: $(cat "$WORK/rsync.err")"
diff -r --no-dereference -x fifo "$SRC" "$MNT/dst" || fail "diff -r after rsync"
assert_eq "metadata after rsync" "$(stat_tree "$SRC")" "$(stat_tree "$MNT/dst")"
assert_eq "hard link kept" "$(stat -c %i "$MNT/dst/d/data")" "$(stat -c %i "$MNT/dst/d/e/hard")"
assert_eq "xattr kept" 'user.tag="rsync-me"' "$(getfattr -n user.tag "$MNT/dst/d/data" 2>/dev/null | grep '^user')"
[ -p "$MNT/dst/d/fifo" ] || fail "fifo not recreated by rsync (mknod)"
n=$(rsync -aHAX --itemize-changes "$SRC/" "$MNT/dst/" | wc -l)
assert_eq "items a second rsync transfers" 0 "$n"
unmount_fs
fsck_clean
