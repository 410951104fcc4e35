#!/usr/bin/env bash
# Filling a small device through FUSE: writes fail cleanly with ENOSPC,
# earlier data stays intact, the space comes back after rm, and fsck finds
# the file system consistent.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 32M
mount_fs
write_keep
# 64 MiB into a 32 MiB device
fill_enospc "$MNT/filler" /dev/zero count=64
filled=$(stat -c %s "$MNT/filler")
[ "$filled" -gt $((16 << 20)) ] || fail "only $filled bytes fitted before ENOSPC on a 32 MiB device; expected more than 16 MiB"
cmp -s "$MNT/filler" <(head -c "$filled" /dev/zero) || fail "the part of the filler that was written does not read back as written"
touch "$MNT/empty-after-full" || fail "creating an empty file on a full device failed"
mkdir "$MNT/dir-after-full" 2>/dev/null || true
assert_eq "earlier data after ENOSPC" "$keep_sum" "$(md5sum <"$MNT/keep")"
avail=$(df -B1 --output=avail "$MNT" | tail -1 | tr -d ' ')
[ "$avail" -lt $((1 << 20)) ] || fail "df avail on a full device: expected < 1 MiB, got $avail"
rm "$MNT/filler"
head -c $((8 << 20)) /dev/urandom >"$MNT/after-rm" || fail "writing 8 MiB after freeing the space failed"
unmount_fs
fsck_clean
mount_fs
assert_eq "earlier data after remount" "$keep_sum" "$(md5sum <"$MNT/keep")"
assert_eq "size of the file written after rm" $((8 << 20)) "$(stat -c %s "$MNT/after-rm")"
unmount_fs
