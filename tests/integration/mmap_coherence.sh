#!/usr/bin/env bash
# MAP_SHARED mappings through the kernel stay coherent with read()/write(),
# and msync makes mapped stores reach the device (checked after remount).
# Read-only and write-only opens, and read-write opens of an empty file,
# go past the page cache by default and through it with -o page_cache (or
# its older name, -o read_cache): both
# ways are checked, and which way reads went (the pages of a file read with
# cat that the page cache holds, counted through a read-write open).  daemon_options.sh tells the two
# ways of writing apart.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 64M
cached_pages() { "$HELPER_DIR/cached_pages" "$1" || fail "cached_pages $1 failed"; }

# $1: how the read-write open must have gone; the rest: the helper's arguments
coherent() {
	local want=$1 out
	shift
	out=$("$HELPER_DIR/mmap_coherence" "$@") || fail "mmap_coherence $* reported a difference"
	case "$out" in *"read-write open: $want"*) ;; *) fail "mmap_coherence $*: want the read-write open $want, got: $out" ;; esac
}

for opt in page_cache read_cache; do
	mount_fs -o $opt
	coherent cached "$MNT/mapped"
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
coherent cached --with-data "$MNT/mapped"
coherent direct "$MNT/mapped-new" # a read-write open of an empty file goes direct
sum=$(md5sum <"$MNT/mapped")
unmount_fs
mount_fs
assert_eq "mapped file after remount" "$sum" "$(md5sum <"$MNT/mapped")"
unmount_fs
fsck_clean
