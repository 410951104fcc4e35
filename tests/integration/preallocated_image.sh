#!/usr/bin/env bash
# A fully allocated emulation image (fallocate, as bench/fs does): the daemon
# populates its mapping at mount (MADV_POPULATE_WRITE, fs/device.c).  The
# mount must work, data written must read back after a remount, and fsck
# must find the image clean.  (The other tests use sparse images, which the
# daemon does not populate.)
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 64M
rm -f "$IMG"
fallocate -l 64M "$IMG" || fail "fallocate -l 64M $IMG"
"$MKFS_PMEMFS" "$IMG" >"$WORK/mkfs.log" 2>&1 || fail "mkfs.pmemfs: $(cat "$WORK/mkfs.log")"
head -c 8M /dev/urandom >"$WORK/data"
mount_fs
cp "$WORK/data" "$MNT/data" || fail "cp of 8 MiB into the mount"
cmp -s "$WORK/data" "$MNT/data" || fail "8 MiB read back differ before the remount"
unmount_fs
mount_fs
cmp -s "$WORK/data" "$MNT/data" || fail "8 MiB read back differ after the remount"
assert_eq "blocks of the image still allocated" 1 "$(($(stat -c %b "$IMG") * 512 >= 64 << 20))"
unmount_fs
fsck_clean
