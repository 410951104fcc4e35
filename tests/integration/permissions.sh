#!/usr/bin/env bash
# default_permissions and allow_other: the kernel checks modes against the
# uid/gid the core stores; new files belong to the calling process
# (fuse_req_ctx); without allow_other other users cannot enter the mount.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 64M
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
chmod 0755 "$WORK"   # mktemp made it 0700: let user 65534 reach the mountpoint

mount_fs
chmod 0755 "$MNT"
echo secret >"$MNT/root-only"; chmod 0600 "$MNT/root-only"
as_nobody stat "$MNT" >/dev/null 2>&1 && fail "without allow_other another user could stat the mount"
unmount_fs

mount_fs -o allow_other
as_nobody cat "$MNT/root-only" >/dev/null 2>&1 && fail "user 65534 read a 0600 root file (default_permissions not enforced)"
echo public >"$MNT/readable"; chmod 0644 "$MNT/readable"
assert_eq "user 65534 reads a 0644 file" public "$(as_nobody cat "$MNT/readable")"
as_nobody sh -c "echo x >>'$MNT/readable'" 2>/dev/null && fail "user 65534 appended to a 0644 root file"
mkdir -m 0777 "$MNT/shared"
as_nobody sh -c "echo mine >'$MNT/shared/by-nobody' && mkdir '$MNT/shared/dir-by-nobody'" ||
	fail "user 65534 could not create in a 0777 directory"
assert_eq "owner of a file created by user 65534" 65534:65534 "$(stat -c %u:%g "$MNT/shared/by-nobody")"
assert_eq "owner of a directory created by user 65534" 65534:65534 "$(stat -c %u:%g "$MNT/shared/dir-by-nobody")"
chmod 1777 "$MNT/shared"; echo r >"$MNT/shared/roots"
as_nobody rm -f "$MNT/shared/roots" 2>/dev/null || true
[ -e "$MNT/shared/roots" ] || fail "sticky directory: user 65534 removed root's file"
as_nobody chmod 0600 "$MNT/readable" 2>/dev/null && fail "user 65534 chmod-ed root's file"
unmount_fs
mount_fs
chmod 0755 "$MNT"
assert_eq "owner after remount" 65534:65534 "$(stat -c %u:%g "$MNT/shared/by-nobody")"
unmount_fs
fsck_clean
