#!/usr/bin/env bash
# Clear refusals: a missing device, a device without pmemfs, a newer format
# version, a device already in use (after waiting 3 s for its lock), a
# mountpoint that is in use or not a directory.  Each must exit non-zero with a "pmemfs-fuse: ..." message
# naming the problem, and leave nothing mounted.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 64M

# expect_refusal WHAT PATTERN DEVICE MOUNTPOINT
expect_refusal() {
	local what=$1 pattern=$2 status=0
	timeout 20 "$PMEMFS_FUSE" "$3" "$4" -f >"$WORK/out" 2>&1 || status=$?
	[ $status -ne 0 ] || fail "$what: expected a non-zero exit, got 0"
	[ $status -ne 124 ] || fail "$what: pmemfs-fuse hung (killed after 20 s)"
	grep -q '^pmemfs-fuse: ' "$WORK/out" || fail "$what: expected a 'pmemfs-fuse: ...' message, got: $(cat "$WORK/out")"
	grep -qiE "$pattern" "$WORK/out" || fail "$what: expected the message to match /$pattern/, got: $(cat "$WORK/out")"
	note "$what -> $(grep -m1 '^pmemfs-fuse: ' "$WORK/out")"
}

expect_refusal "missing device" "no such" "$WORK/does-not-exist.img" "$MNT"
is_mounted "$MNT" && fail "missing device: something got mounted"

truncate -s 64M "$WORK/zeros.img"
expect_refusal "device without pmemfs" "pmemfs|magic|format" "$WORK/zeros.img" "$MNT"
is_mounted "$MNT" && fail "device without pmemfs: something got mounted"

cp "$IMG" "$WORK/newer.img"
"$HELPER_DIR/patch_super" "$WORK/newer.img" 99 || fail "could not patch the version of a copy of the image"
expect_refusal "newer format version" "version|newer|upgrade" "$WORK/newer.img" "$MNT"
is_mounted "$MNT" && fail "newer format version: something got mounted"

touch "$WORK/plain-file"
expect_refusal "mountpoint not a directory" "not a directory" "$IMG" "$WORK/plain-file"
expect_refusal "missing mountpoint" "no such" "$IMG" "$WORK/no-such-dir"

mount_fs
mkdir "$WORK/mnt2"
expect_refusal "device in use" "in use|busy|locked" "$IMG" "$WORK/mnt2"
is_mounted "$WORK/mnt2" && fail "device in use: got mounted twice"
truncate -s 64M "$WORK/other.img"
"$MKFS_PMEMFS" "$WORK/other.img" >/dev/null 2>&1 || fail "mkfs of a second image failed"
expect_refusal "mountpoint in use" "mountpoint in use" "$WORK/other.img" "$MNT"
echo still-works >"$MNT/probe" || fail "the first mount broke after the refused mounts"
unmount_fs
fsck_clean

# A device lock held for a moment, as by a daemon still leaving after
# umount(8) returned, is waited for (up to 3 s), not refused.
flock -x "$IMG" sleep 1 &
locker=$!
sleep 0.2
mount_fs
wait "$locker"
assert_eq "file written before the lock wait" still-works "$(cat "$MNT/probe")"
unmount_fs
