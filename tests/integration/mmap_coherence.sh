#!/usr/bin/env bash
# MAP_SHARED mappings through the kernel stay coherent with read()/write(),
# and msync makes mapped stores reach the device (checked after remount).
# Read-only and write-only opens go past the page cache by default and
# through it with -o page_cache (or its older name, -o read_cache): both
# ways are checked, and which way reads went (the pages of a file read with
# cat that the page cache holds, counted through a read-write open).  daemon_options.sh tells the two
# ways of writing apart.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 64M
cached_pages() { "$HELPER_DIR/cached_pages" "$1" || fail "cached_pages $1 failed"; }

for opt in page_cache read_cache; do
	mount_fs -o $opt
	"$HELPER_DIR/mmap_coherence" "$MNT/mapped" || fail "mmap_coherence with -o $opt reported a difference"
	rm -f "$MNT/cat-me"
	head -c 4M /dev/urandom | dd of="$MNT/cat-me" bs=1M iflag=fullblock status=none
	echo 3 >/proc/sys/vm/drop_caches
	cat "$MNT/cat-me" >/dev/null
	[ "$(cached_pages "$MNT/cat-me")" -gt 0 ] || fail "-o $opt: a file read with cat left no pages in the page cache"
	unmount_fs
done

mount_fs
echo 3 >/proc/sys/vm/drop_caches
cat "$MNT/cat-me" >/dev/null
assert_eq "pages a read-only open left in the page cache (direct reads)" 0 "$(cached_pages "$MNT/cat-me")"
cat <>"$MNT/cat-me" >/dev/null # a read-write open keeps the page cache
[ "$(cached_pages "$MNT/cat-me")" -gt 0 ] || fail "a file read through a read-write open left no pages in the page cache"
"$HELPER_DIR/mmap_coherence" "$MNT/mapped" || fail "mmap_coherence reported a difference"
sum=$(md5sum <"$MNT/mapped")
unmount_fs
mount_fs
assert_eq "mapped file after remount" "$sum" "$(md5sum <"$MNT/mapped")"
unmount_fs
fsck_clean
