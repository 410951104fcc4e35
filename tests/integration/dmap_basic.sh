#!/usr/bin/env bash
# Direct map (docs/DIRECT-MAP.md): pmem_map_file on a pmemfs file maps the
# device; stores + persist are read back through the mount (also by a
# reader that cached the old bytes first), a write() through the mount is
# seen by a new mapping, and everything survives a remount; fsck is clean.
source "$(dirname "$0")/lib.sh"
require_fuse
TOOL=$HELPER_DIR/dmap_tool
setup_fs 256M
mount_fs

# created by pmem_map_file (PMEM_FILE_CREATE), not a multiple of 2 MiB
out=$("$TOOL" map "$MNT/a" 5000000 11) || fail "map with PMEM_FILE_CREATE: $out"
assert_eq "mapping of a new file" "mode=direct is_pmem=0 len=5000000" "$out"
"$TOOL" verify "$MNT/a" 11 || fail "read() after direct stores: wrong bytes"

# a reader caches the old bytes, then direct stores replace them
"$TOOL" write "$MNT/a" 12 || fail "pwrite through the mount"
"$TOOL" verify "$MNT/a" 12 || fail "read() after pwrite"
out=$("$TOOL" map "$MNT/a" 0 13) || fail "map of an existing file: $out"
assert_eq "mapping of an existing file" "mode=direct is_pmem=0 len=5000000" "$out"
"$TOOL" verify "$MNT/a" 13 || fail "read() after direct stores returned cached bytes"

# write() through the mount, then a mapping sees it
"$TOOL" write "$MNT/a" 14 || fail "pwrite through the mount"
out=$("$TOOL" check "$MNT/a" 14) || fail "the direct mapping does not show the write(): $out"

# PMEM_IS_PMEM_FORCE=1 is honoured as for any file
out=$(PMEM_IS_PMEM_FORCE=1 "$TOOL" map "$MNT/a" 0 15) || fail "map with FORCE: $out"
assert_eq "is_pmem with PMEM_IS_PMEM_FORCE=1" "mode=direct is_pmem=1 len=5000000" "$out"

# a sparse file written in the middle first: holes are allocated by the grant
truncate -s 7M "$MNT/sparse"
dd if=/dev/urandom of="$MNT/sparse" bs=4k seek=300 count=3 conv=notrunc status=none
out=$("$TOOL" map "$MNT/sparse" 0 16) || fail "map of a sparse file: $out"
assert_eq "mapping of a sparse file" "mode=direct is_pmem=0 len=7340032" "$out"
"$TOOL" verify "$MNT/sparse" 16 || fail "sparse file: wrong bytes after direct stores"

# a file written through the mount in small unaligned pieces: the grant
# relocates its chunks to aligned runs, and the mapping shows its bytes
printf x >"$MNT/small"
truncate -s 5000000 "$MNT/small"
"$TOOL" write "$MNT/small" 17 || fail "pwrite of small"
out=$("$TOOL" check "$MNT/small" 17) || fail "relocated file: the mapping shows wrong bytes: $out"
assert_eq "mapping of a relocated file" "mode=direct is_pmem=0 len=5000000" "$out"
"$TOOL" verify "$MNT/small" 17 || fail "relocated file: read() shows wrong bytes"

# map/unmap cycles leave no fd and no mapping behind (the grant goes with
# the last close), and the file is not left pinned (a truncate frees space)
"$TOOL" cycle "$MNT/small" 200 || fail "map/unmap cycles leaked"

unmount_fs
mount_fs
"$TOOL" verify "$MNT/small" 17 || fail "after remount: wrong bytes in small"
"$TOOL" verify "$MNT/a" 15 || fail "after remount: wrong bytes in a"
"$TOOL" verify "$MNT/sparse" 16 || fail "after remount: wrong bytes in sparse"
unmount_fs
fsck_clean
note "ok"
