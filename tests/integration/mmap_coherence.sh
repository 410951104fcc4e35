#!/usr/bin/env bash
# MAP_SHARED mappings through the kernel stay coherent with read()/write(),
# and msync makes mapped stores reach the device (checked after remount).
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 64M
mount_fs
"$HELPER_DIR/mmap_coherence" "$MNT/mapped" || fail "mmap_coherence reported a difference"
sum=$(md5sum <"$MNT/mapped")
unmount_fs
mount_fs
assert_eq "mapped file after remount" "$sum" "$(md5sum <"$MNT/mapped")"
unmount_fs
fsck_clean
