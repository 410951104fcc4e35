#!/usr/bin/env bash
# A media error while the daemon serves a file: cutting the backing file
# below a file's blocks makes every load of those pages raise SIGBUS in the
# daemon, exactly as poisoned pmem does (and makes the kernel's own loads,
# in the daemon's writev from the mapping, fail with EFAULT).  Reads of the
# damaged range must give EIO, the daemon must survive, other files must
# read as written, and once the backing file is whole again a remount
# reads the file back and fsck finds the file system clean.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 32M
mount_fs

write_keep
# The victim takes every block left, so it holds the last data blocks of
# the device, just before the backup superblock.
fill_enospc "$MNT/victim" /dev/urandom
victim_sum=$(md5sum <"$MNT/victim")
cp "$MNT/victim" "$WORK/victim.copy"
head -c 4096 "$MNT/victim" >"$WORK/victim.head"
unmount_fs
fsck_clean

# A fresh mount: nothing of the victim is in the page cache.
mount_fs
img_size=$(stat -c %s "$IMG")
cut=$((64 << 10)) # the backup superblock and the victim's last 15 blocks
tail -c $cut "$IMG" >"$WORK/tail.saved"
truncate -s $((img_size - cut)) "$IMG"

# Writes first (a read would put the pages on the bad list): rewrite the
# victim's blocks with their own bytes, from the end, until one fails;
# the daemon's copy into a cut page must fail with EIO, not kill it.
blocks=$(($(stat -c %s "$MNT/victim") / 4096))
failed_at=
for ((b = blocks - 1; b >= 0 && b >= blocks - 2048; b--)); do
	if ! dd if="$WORK/victim.copy" of="$MNT/victim" bs=4096 skip=$b seek=$b count=1 \
		conv=notrunc oflag=direct status=none 2>"$WORK/write.err"; then
		failed_at=$b
		break
	fi
done
[ -n "$failed_at" ] || fail "rewriting the victim's last 2048 blocks: expected one to fail, none did"
grep -q "Input/output error" "$WORK/write.err" ||
	fail "rewriting victim block $failed_at: expected EIO, got: $(cat "$WORK/write.err")"
kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon died on a write over a media error"
note "write of victim block $failed_at over a cut page: EIO, daemon alive"

status=0
cat "$MNT/victim" >/dev/null 2>"$WORK/cat.err" || status=$?
[ $status -ne 0 ] || fail "reading the victim over the cut pages: expected an error, it succeeded"
grep -q "Input/output error" "$WORK/cat.err" ||
	fail "reading the victim: expected 'Input/output error', got: $(cat "$WORK/cat.err")"
kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon died on the media error"
grep -q "media error" "$DAEMON_LOG" || fail "the daemon log does not mention the media error"
# the damaged range stays EIO (from the bad list now: no second fault)
status=0
cat "$MNT/victim" >/dev/null 2>"$WORK/cat2.err" || status=$?
[ $status -ne 0 ] || fail "reading the victim a second time: expected EIO, it succeeded"
grep -q "Input/output error" "$WORK/cat2.err" ||
	fail "reading the victim a second time: expected EIO, got: $(cat "$WORK/cat2.err")"
# its first block (not cut) and the other files read as written
cmp -s <(dd if="$MNT/victim" bs=4096 count=1 iflag=direct status=none) "$WORK/victim.head" ||
	fail "the victim's first block (not cut) does not read back as written"
assert_eq "another file after the media error" "$keep_sum" "$(md5sum <"$MNT/keep")"
ls -l "$MNT" >/dev/null || fail "listing the root after the media error failed"
note "read over cut pages: EIO, daemon alive, other files intact"

# The backing file whole again: unmount, fsck, remount, the victim reads
# back as written (the bad list lives in DRAM only).
truncate -s "$img_size" "$IMG"
dd if="$WORK/tail.saved" of="$IMG" bs=4096 seek=$(((img_size - cut) / 4096)) conv=notrunc \
	status=none || fail "restoring the cut end of the image failed"
unmount_fs
fsck_clean
mount_fs
assert_eq "the victim after restoring the image and remounting" "$victim_sum" \
	"$(md5sum <"$MNT/victim")"
assert_eq "another file after remounting" "$keep_sum" "$(md5sum <"$MNT/keep")"
unmount_fs
fsck_clean
