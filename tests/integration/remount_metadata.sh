#!/usr/bin/env bash
# stat fields (mode, uid, gid, size, mtime in ns, nlink) of every file are
# the same before and after unmounting with fusermount3 -u and with umount.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 64M
mount_fs
mkdir -p "$MNT/a/b" "$MNT/c"
printf 'abc' >"$MNT/a/b/three"
head -c 123457 /dev/urandom >"$MNT/c/odd-size"
ln "$MNT/c/odd-size" "$MNT/a/link"
ln -s /nowhere "$MNT/c/dangling"
mknod "$MNT/c/chr" c 1 3
mkfifo -m 0620 "$MNT/c/fifo"
chmod 2775 "$MNT/a"; chown 7:8 "$MNT/a/b/three"
touch -d '2020-01-02 03:04:05.678901234' "$MNT/c/odd-size"
mkdir "$MNT/a/sgid-child"
assert_eq "set-gid directory passes its gid on" "$(stat -c %g "$MNT/a")" "$(stat -c %g "$MNT/a/sgid-child")"
assert_eq "rdev of the char device" "1,3" "$(stat -c '%Hr,%Lr' "$MNT/c/chr")"
before=$(stat_tree "$MNT")
sum=$(md5sum "$MNT/c/odd-size" | cut -d' ' -f1)
unmount_fs fusermount
mount_fs
assert_eq "stat after fusermount3 -u and remount" "$before" "$(stat_tree "$MNT")"
unmount_fs umount
mount_fs
assert_eq "stat after umount and remount" "$before" "$(stat_tree "$MNT")"
assert_eq "contents after two remounts" "$sum" "$(md5sum "$MNT/c/odd-size" | cut -d' ' -f1)"
assert_eq "rdev after remount" "1,3" "$(stat -c '%Hr,%Lr' "$MNT/c/chr")"
unmount_fs
fsck_clean
