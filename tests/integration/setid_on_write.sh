#!/usr/bin/env bash
# Set-ID bits after a write, truncate, O_TRUNC open and chown.  The daemon
# negotiates FUSE_HANDLE_KILLPRIV_V2 (fs/fuse_io.c), so it, not the kernel,
# clears them: a write by a user without CAP_FSETID must drop S_ISUID (and
# S_ISGID when group-execute is set), root keeps them, a stat() right after
# sees the new mode, a file capability is removed, and a second write (the
# kernel has marked the inode S_NOSEC) still clears a bit set meanwhile.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 64M
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
chmod 0755 "$WORK"
mount_fs -o allow_other
chmod 0777 "$MNT"
f=$MNT/f
echo data >"$f"

chmod 6777 "$f"; echo root >>"$f"
assert_eq "mode after a write by root (CAP_FSETID)" -rwsrwsrwx "$(stat -c %A "$f")"
as_nobody sh -c "echo nobody >>'$f'" || fail "user 65534 could not append to a 0777 file"
assert_eq "mode right after a write by user 65534" -rwxrwxrwx "$(stat -c %A "$f")"
chmod 4777 "$f"; as_nobody sh -c "echo again >>'$f'"
assert_eq "mode after a second write (S_NOSEC inode)" -rwxrwxrwx "$(stat -c %A "$f")"
chmod 6767 "$f"; as_nobody sh -c "echo nox >>'$f'"
assert_eq "set-group-ID without group-execute stays" -rwxrwSrwx "$(stat -c %A "$f")"
chmod 6777 "$f"; as_nobody truncate -s 1 "$f"
assert_eq "mode after a truncate by user 65534" -rwxrwxrwx "$(stat -c %A "$f")"
chmod 6777 "$f"; as_nobody sh -c ": >'$f'"
assert_eq "mode after an O_TRUNC open by user 65534" -rwxrwxrwx "$(stat -c %A "$f")"
chmod 6777 "$f"; chown 65534 "$f"
assert_eq "mode after chown by root" -rwxrwxrwx "$(stat -c %A "$f")"
chmod 6777 "$f"; as_nobody dd if=/dev/zero of="$f" bs=1M count=3 conv=notrunc status=none
assert_eq "mode and size after a 3 MiB write by user 65534" "-rwxrwxrwx 3145728" "$(stat -c '%A %s' "$f")"

if command -v setcap >/dev/null; then
	chown 0 "$f"; chmod 0777 "$f"
	setcap cap_net_raw+ep "$f" || fail "setcap on the mount"
	as_nobody sh -c "echo cap >>'$f'"
	assert_eq "file capability after a write by user 65534" "" "$(getcap "$f")"
fi
setfattr -n user.kept -v yes "$f"
as_nobody sh -c "echo x >>'$f'"
assert_eq "user xattr after a write" yes "$(getfattr --only-values -n user.kept "$f")"
unmount_fs
mount_fs
assert_eq "mode after remount" -rwxrwxrwx "$(stat -c %A "$f")"
unmount_fs
fsck_clean
