#!/usr/bin/env bash
# cp -a keeps modes, owners, times, symlinks and hard links.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 128M
mount_fs
SRC=$WORK/src
mkdir -p "$SRC/a/b" "$SRC/c"
head -c 300000 /dev/urandom >"$SRC/a/big"
echo small >"$SRC/a/b/small"
ln "$SRC/a/big" "$SRC/c/big-link"
ln -s ../a/b/small "$SRC/c/sym"
chmod 0751 "$SRC/a"; chmod 0604 "$SRC/a/b/small"
chown 1234:5678 "$SRC/a/b/small"
touch -h -d '2001-02-03 04:05:06.789' "$SRC/c/sym"
touch -d '1999-12-31 23:59:59.123456789' "$SRC/a/big"
cp -a "$SRC" "$MNT/copy" || fail "cp -a into the mount failed"
assert_eq "stat of the copied tree" "$(stat_tree "$SRC")" "$(stat_tree "$MNT/copy")"
assert_eq "hard link inode shared" "$(stat -c %i "$MNT/copy/a/big")" "$(stat -c %i "$MNT/copy/c/big-link")"
cmp "$SRC/a/big" "$MNT/copy/c/big-link" || fail "hard-linked file contents differ"
cp -a "$MNT/copy" "$WORK/back" || fail "cp -a out of the mount failed"
assert_eq "stat of the tree copied back" "$(stat_tree "$SRC")" "$(stat_tree "$WORK/back")"
unmount_fs
fsck_clean
