#!/usr/bin/env bash
# The ways to mount besides "pmemfs-fuse -f": daemonised (returns after the
# mount; SIGTERM unmounts cleanly), mount -t fuse.pmemfs and an fstab line,
# -o ro.  mount(8) drops PATH before it runs mount.fuse3, whose shell then
# looks for "pmemfs" in the default PATH only (meson install puts it in
# /usr/local/bin).  The test links the daemon under test into
# /usr/local/sbin for its own duration.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 64M
command -v mount.fuse3 >/dev/null || fail "mount.fuse3 is not installed (package fuse3)"

daemon_pid_of_image() {
	local p
	for p in /proc/[0-9]*; do
		tr '\0' '\n' 2>/dev/null <"$p/cmdline" | grep -qxF "$IMG" && { basename "$p"; return; }
	done
}
wait_gone() {
	local deadline=$((SECONDS + MOUNT_TIMEOUT))
	while kill -0 "$1" 2>/dev/null; do
		[ $SECONDS -lt $deadline ] || fail "daemon $1 still running ${MOUNT_TIMEOUT}s after $2"
		sleep 0.05
	done
}

# 1. Daemonised: the exit status is the mount's, then SIGTERM unmounts.
"$PMEMFS_FUSE" "$IMG" "$MNT" || fail "pmemfs-fuse (daemonised) exited non-zero"
is_mounted "$MNT" || fail "pmemfs-fuse returned 0 but $MNT is not mounted"
assert_eq "file-system type in mountinfo" fuse.pmemfs "$(findmnt -n -o FSTYPE "$MNT")"
assert_eq "source in mountinfo" "$IMG" "$(findmnt -n -o SOURCE "$MNT")"
echo daemonised >"$MNT/one"
pid=$(daemon_pid_of_image)
[ -n "$pid" ] || fail "cannot find the daemon process serving $IMG"
kill -TERM "$pid"
wait_gone "$pid" SIGTERM
is_mounted "$MNT" && fail "$MNT still mounted after SIGTERM to the daemon"
fsck_clean

# 2. mount -t fuse.pmemfs DEVICE MOUNTPOINT.  /usr/local/sbin comes first
# in the shell's default PATH, so a link there makes mount.fuse3 run the
# pmemfs-fuse under test even where an older one is installed.
# A symbolic link left there is a leftover of an interrupted run.
if [ -e /usr/local/sbin/pmemfs ] && [ ! -L /usr/local/sbin/pmemfs ]; then
	fail "/usr/local/sbin/pmemfs is a real file: remove it, this test links the built daemon there"
fi
mkdir -p /usr/local/sbin
ln -sfn "$PMEMFS_FUSE" /usr/local/sbin/pmemfs || fail "cannot link /usr/local/sbin/pmemfs for mount.fuse3"
EXTRA_CLEANUP=/usr/local/sbin/pmemfs
mount -t fuse.pmemfs "$IMG" "$MNT" 2>"$WORK/mount.err" ||
	fail "mount -t fuse.pmemfs failed: $(cat "$WORK/mount.err")"
is_mounted "$MNT" || fail "mount -t fuse.pmemfs returned 0 but nothing is mounted"
assert_eq "file written by the daemonised mount" daemonised "$(cat "$MNT/one")"
echo via-mount >"$MNT/two"
pid=$(daemon_pid_of_image)
umount "$MNT" || fail "umount of the mount -t fuse.pmemfs mount failed"
wait_gone "$pid" umount
fsck_clean

# 3. An fstab line (read-only) through mount --fstab.
printf '%s %s fuse.pmemfs ro,allow_other 0 0\n' "$IMG" "$MNT" >"$WORK/fstab"
mount --fstab "$WORK/fstab" "$MNT" 2>"$WORK/mount.err" ||
	fail "mount of an fstab line failed: $(cat "$WORK/mount.err")"
is_mounted "$MNT" || fail "fstab mount returned 0 but nothing is mounted"
findmnt -n -o OPTIONS "$MNT" | grep -qw ro || fail "fstab mount with ro: expected ro in the mount options, got $(findmnt -n -o OPTIONS "$MNT")"
findmnt -n -o OPTIONS "$MNT" | grep -qw allow_other || fail "fstab mount: allow_other missing from $(findmnt -n -o OPTIONS "$MNT")"
assert_eq "file written through mount -t" via-mount "$(cat "$MNT/two")"
err=$(touch "$MNT/three" 2>&1) && fail "writing to a read-only mount succeeded"
case "$err" in *"Read-only file system"*) ;; *) fail "write on ro mount: expected 'Read-only file system', got: $err" ;; esac
pid=$(daemon_pid_of_image)
umount "$MNT" || fail "umount of the fstab mount failed"
wait_gone "$pid" umount
fsck_clean

# 4. mount -t fuse "PROGRAM#DEVICE": mount.fuse3 runs the given program.
mount -t fuse "$PMEMFS_FUSE#$IMG" "$MNT" 2>"$WORK/mount.err" ||
	fail "mount -t fuse PROGRAM#DEVICE failed: $(cat "$WORK/mount.err")"
assert_eq "file read through mount -t fuse" via-mount "$(cat "$MNT/two")"
pid=$(daemon_pid_of_image)
umount "$MNT" || fail "umount of the mount -t fuse mount failed"
wait_gone "$pid" umount
fsck_clean
