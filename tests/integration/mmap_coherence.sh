#!/usr/bin/env bash
# MAP_SHARED mappings through the kernel stay coherent with read()/write(),
# and msync makes mapped stores reach the device (checked after remount).
# Read-only opens read past the page cache by default and through it with
# -o read_cache: both ways are checked, and which way each one read (the
# pages of a file read with cat that the page cache holds, fincore).
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 64M
cached_pages() { fincore --noheadings --output PAGES "$1" | tr -d ' '; }

mount_fs -o read_cache
"$HELPER_DIR/mmap_coherence" "$MNT/mapped" || fail "mmap_coherence with -o read_cache reported a difference"
head -c 4M /dev/urandom >"$MNT/cat-me"
echo 3 >/proc/sys/vm/drop_caches
cat "$MNT/cat-me" >/dev/null
[ "$(cached_pages "$MNT/cat-me")" -gt 0 ] || fail "-o read_cache: a file read with cat left no pages in the page cache"
unmount_fs

mount_fs
echo 3 >/proc/sys/vm/drop_caches
cat "$MNT/cat-me" >/dev/null
assert_eq "pages a read-only open left in the page cache (direct reads)" 0 "$(cached_pages "$MNT/cat-me")"
"$HELPER_DIR/mmap_coherence" "$MNT/mapped" || fail "mmap_coherence reported a difference"
sum=$(md5sum <"$MNT/mapped")
unmount_fs
mount_fs
assert_eq "mapped file after remount" "$sum" "$(md5sum <"$MNT/mapped")"
unmount_fs
fsck_clean
