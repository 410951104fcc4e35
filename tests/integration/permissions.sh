#!/usr/bin/env bash
# Permissions and allow_other: modes are checked against the uid/gid the
# core stores (by the daemon, perm.c, or with -o default_permissions by the
# kernel); new files belong to the calling process (fuse_req_ctx); without
# allow_other other users cannot enter the mount.
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

# --- the daemon's own checks (perm.c; no -o default_permissions) --------
# Every rule of the kernel's generic_permission/may_create/may_delete/
# setattr_prepare/xattr_permission, run by unprivileged users through
# allow_other: 65534 (nobody), 1000 with supplementary group 2000, 1001.
# op.py does one system call and prints OK or the errno's name, so each
# case checks the exact error the kernel would give.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
cat >"$WORK/op.py" <<'PY'
import errno, os, subprocess, sys
op, a = sys.argv[1], sys.argv[2:]
flags = {"r": os.O_RDONLY, "w": os.O_WRONLY, "rw": os.O_RDWR, "rt": os.O_RDONLY | os.O_TRUNC}
modes = {"r": os.R_OK, "w": os.W_OK, "x": os.X_OK}
# a valid POSIX ACL (version 2): user::rw- group::r-- other::r--
acl = b"\x02\x00\x00\x00" + b"".join(
    t.to_bytes(2, "little") + p.to_bytes(2, "little") + (0xFFFFFFFF).to_bytes(4, "little")
    for t, p in ((1, 6), (4, 4), (0x20, 4)))
try:
    if op == "open": os.close(os.open(a[0], flags[a[1]]))
    elif op == "create": os.close(os.open(a[0], os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    elif op == "mkdir": os.mkdir(a[0])
    elif op == "mkfifo": os.mkfifo(a[0])
    elif op == "symlink": os.symlink(a[0], a[1])
    elif op == "link": os.link(a[0], a[1])
    elif op == "unlink": os.unlink(a[0])
    elif op == "rmdir": os.rmdir(a[0])
    elif op == "rename": os.rename(a[0], a[1])
    elif op == "stat": os.stat(a[0])
    elif op == "listdir": os.listdir(a[0])
    elif op == "access": print("OK" if os.access(a[0], modes[a[1]]) else "denied"); sys.exit()
    elif op == "chdir": os.chdir(a[0])
    elif op == "chmod": os.chmod(a[0], int(a[1], 8))
    elif op == "chown": os.chown(a[0], int(a[1]), int(a[2]))
    elif op == "touch": os.utime(a[0])
    elif op == "utime": os.utime(a[0], (1000000000, 1000000000))
    elif op == "truncate": os.truncate(a[0], int(a[1]))
    elif op == "ftruncate":
        fd = os.open(a[0], os.O_WRONLY); os.chmod(a[0], 0o444) if len(a) > 1 else None
        os.ftruncate(fd, 0); os.close(fd)
    elif op == "getxattr": os.getxattr(a[0], a[1])
    elif op == "setxattr": os.setxattr(a[0], a[1], b"v")
    elif op == "removexattr": os.removexattr(a[0], a[1])
    elif op == "setacl": os.setxattr(a[0], "system.posix_acl_access", acl)
    elif op == "exec": subprocess.run([a[0]], check=True)
    else: sys.exit("op.py: unknown op " + op)
    print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])
PY
chmod 0644 "$WORK/op.py"
run_as() { # run_as UID GROUPS|- OP ARGS...
	local uid=$1 groups=$2
	shift 2
	if [ "$groups" = - ]; then
		setpriv --reuid="$uid" --regid="$uid" --clear-groups "$PY" "$WORK/op.py" "$@"
	else
		setpriv --reuid="$uid" --regid="$uid" --groups="$groups" "$PY" "$WORK/op.py" "$@"
	fi
}
# expect WANT UID GROUPS OP ARGS...: UID root runs op.py directly
expect() {
	local want=$1 uid=$2 groups=$3 got
	shift 3
	if [ "$uid" = root ]; then got=$("$PY" "$WORK/op.py" "$@"); else got=$(run_as "$uid" "$groups" "$@"); fi
	assert_eq "user $uid (groups $groups): $*" "$want" "$got"
}
N=65534 # nobody
U=1000  # in group 2000 too
V=1001

# permission_cases DIR: every case, in a fresh directory DIR; the same
# expectations hold for the daemon's checks and for the kernel's.
permission_cases() {
	M=$1
	mkdir -m 0755 "$M"
	# search permission: on lookup, and on names the kernel may have cached
	mkdir -m 0700 "$M/private"; echo s >"$M/private/f"; chmod 0644 "$M/private/f"
	cat "$M/private/f" >/dev/null # root walks it first
	expect EACCES $N - stat "$M/private/f"
	expect EACCES $N - open "$M/private/f" r
	expect EACCES $N - stat "$M/private/absent"
	expect EACCES $N - chdir "$M/private"
	expect OK root - chdir "$M/private"
	mkdir -m 0755 "$M/closing"; echo c >"$M/closing/f"
	expect OK $N - open "$M/closing/f" r # cached now, for entry_timeout
	chmod 0700 "$M/closing"
	expect EACCES $N - open "$M/closing/f" r
	chmod 0711 "$M/closing"
	expect OK $N - open "$M/closing/f" r
	expect EACCES $N - listdir "$M/closing" # x without r: no readdir

	# create-like ops need w and x on the parent
	mkdir -m 0755 "$M/ro"; mkdir -m 0776 "$M/nox"; mkdir -m 0777 "$M/rw"
	echo t >"$M/ro/target"
	for d in ro nox; do
		expect EACCES $N - create "$M/$d/new"
		expect EACCES $N - mkdir "$M/$d/newdir"
		expect EACCES $N - mkfifo "$M/$d/fifo"
		expect EACCES $N - symlink target "$M/$d/sym"
	done
	expect OK $N - create "$M/rw/new"
	expect OK $N - mkfifo "$M/rw/fifo"
	expect OK $N - symlink target "$M/rw/sym"
	expect OK $N - link "$M/rw/new" "$M/rw/new-link"
	expect EACCES $N - link "$M/rw/new" "$M/ro/hard"
	# fs.protected_hardlinks: no link to someone else's file one cannot write
	if [ "$(cat /proc/sys/fs/protected_hardlinks)" = 1 ]; then
		expect EPERM $N - link "$M/ro/target" "$M/rw/stolen"
	fi

	# unlink, rmdir, rename: w and x on each parent, the sticky bit
	expect EACCES $N - unlink "$M/ro/target"
	mkdir "$M/ro/sub"
	expect EACCES $N - rmdir "$M/ro/sub"
	echo r >"$M/rw/roots"; mkdir "$M/rw/rootdir"
	expect OK $N - unlink "$M/rw/roots" # not sticky: the directory decides
	expect OK $N - rmdir "$M/rw/rootdir"
	mkdir -m 1777 "$M/sticky"; echo r >"$M/sticky/roots"; mkdir "$M/sticky/rootdir"
	expect EPERM $N - unlink "$M/sticky/roots"
	expect EPERM $N - rmdir "$M/sticky/rootdir"
	expect EPERM $N - rename "$M/sticky/roots" "$M/sticky/moved"
	expect EPERM $N - rename "$M/sticky/roots" "$M/ro/moved" # the source is checked first
	expect OK $N - create "$M/sticky/nobodys"
	run_as $U - create "$M/sticky/u-file" >/dev/null
	expect EPERM $U - rename "$M/sticky/u-file" "$M/sticky/nobodys" # replaces nobody's
	expect EPERM $U - unlink "$M/sticky/nobodys"
	expect OK $N - unlink "$M/sticky/nobodys"
	chown $N "$M/sticky" # the directory's owner may remove anything in it
	expect OK $N - unlink "$M/sticky/u-file"
	expect OK $N - rmdir "$M/sticky/rootdir"
	expect OK root - unlink "$M/sticky/roots"
	echo x >"$M/rw/file"
	expect EACCES $N - rename "$M/rw/file" "$M/ro/file"
	expect EACCES $N - rename "$M/ro/target" "$M/rw/target"
	mkdir "$M/rw/rootsub"; mkdir -m 0777 "$M/rw2"
	expect EACCES $N - rename "$M/rw/rootsub" "$M/rw2/rootsub" # its ".." would change
	expect OK $N - rename "$M/rw/rootsub" "$M/rw/rootsub2"        # same parent: allowed
	expect OK $N - rename "$M/rw/file" "$M/rw2/file"

	# open: access mode against the mode bits, O_TRUNC needs write, exec
	echo p >"$M/pub"; chmod 0644 "$M/pub"
	expect OK $N - open "$M/pub" r
	expect EACCES $N - open "$M/pub" w
	expect EACCES $N - open "$M/pub" rw
	expect EACCES $N - open "$M/pub" rt
	echo w >"$M/wonly"; chmod 0622 "$M/wonly"
	expect EACCES $N - open "$M/wonly" r
	expect OK $N - open "$M/wonly" w
	printf '#!/bin/sh\nexit 0\n' >"$M/script"; chmod 0744 "$M/script"
	expect EACCES $N - exec "$M/script"
	chmod 0755 "$M/script"
	expect OK $N - exec "$M/script"
	echo z >"$M/zero"; chmod 0000 "$M/zero"
	expect OK root - open "$M/zero" rw # CAP_DAC_OVERRIDE
	chmod 0644 "$M/zero"
	expect EACCES root - exec "$M/zero" # ... but exec needs an x bit
	mkdir -m 0711 "$M/noread"
	expect EACCES $N - listdir "$M/noread"

	# access(2)
	expect OK $N - access "$M/pub" r
	expect denied $N - access "$M/pub" w
	expect denied $N - access "$M/pub" x
	expect OK $N - access "$M/script" x
	expect OK root - access "$M/zero" w
	expect denied root - access "$M/zero" x

	# supplementary groups (fuse_req_getgroups) and the group class
	echo g >"$M/grp"; chown 0:2000 "$M/grp"; chmod 0640 "$M/grp"
	expect OK $U 2000 open "$M/grp" r
	expect EACCES $V - open "$M/grp" r
	chmod 0604 "$M/grp" # the group class applies even when "other" is wider
	expect EACCES $U 2000 open "$M/grp" r
	expect OK $V - open "$M/grp" r

	# setattr: chmod and chown by the owner or root, chgrp to one's groups
	run_as $U - create "$M/rw/ufile" >/dev/null
	expect EPERM $N - chmod "$M/rw/ufile" 0777
	expect OK $U - chmod "$M/rw/ufile" 0666
	expect EPERM $U - chown "$M/rw/ufile" $N -1
	expect OK $U - chown "$M/rw/ufile" $U -1 # to oneself: a no-op
	expect EPERM $U - chown "$M/rw/ufile" -1 3000
	expect OK $U 2000 chown "$M/rw/ufile" -1 2000
	assert_eq "group after chgrp by a member" $U:2000 "$(stat -c %u:%g "$M/rw/ufile")"
	expect OK root - chown "$M/rw/ufile" $V $V
	run_as $V - chmod "$M/rw/ufile" 2755 >/dev/null # $V is in group $V: kept
	assert_eq "set-group-ID set by a member" 2755 "$(stat -c %a "$M/rw/ufile")"
	chgrp 2000 "$M/rw/ufile"; chmod 0666 "$M/rw/ufile"
	expect OK $V - chmod "$M/rw/ufile" 2755 # not in group 2000: S_ISGID dropped
	assert_eq "set-group-ID set by a non-member" 755 "$(stat -c %a "$M/rw/ufile")"
	chmod 4755 "$M/rw/ufile"; chown 0 "$M/rw/ufile"
	assert_eq "chown clears set-user-ID" 755 "$(stat -c %a "$M/rw/ufile")"
	# times: "now" needs ownership or write permission, explicit times ownership
	echo t >"$M/times"; chmod 0666 "$M/times"
	expect OK $N - touch "$M/times"
	expect EPERM $N - utime "$M/times"
	expect OK root - utime "$M/times"
	chmod 0644 "$M/times"
	expect EACCES $N - touch "$M/times"
	# truncate: by path needs write; ftruncate only a descriptor open for writing
	expect EACCES $N - truncate "$M/times" 0
	chmod 0666 "$M/times"
	expect OK $N - truncate "$M/times" 0
	run_as $N - create "$M/rw/nfile" >/dev/null
	expect OK $N - ftruncate "$M/rw/nfile" then-read-only # chmod 0444 between open and ftruncate

	# xattrs: user.* needs read/write permission; trusted.* is root's
	setfattr -n user.k -v v "$M/pub"
	expect OK $N - getxattr "$M/pub" user.k
	expect EACCES $N - setxattr "$M/pub" user.k
	expect EACCES $N - removexattr "$M/pub" user.k
	expect EACCES $N - getxattr "$M/private/f" user.k
	chmod 0666 "$M/pub"
	expect OK $N - setxattr "$M/pub" user.n
	expect OK $N - removexattr "$M/pub" user.n
	expect EPERM $N - setxattr "$M/pub" trusted.k
	expect OK root - setxattr "$M/pub" trusted.k
	expect ENODATA $N - getxattr "$M/pub" trusted.k
	expect EPERM $N - setacl "$M/pub"   # the kernel: owner only
	expect ENOTSUP root - setacl "$M/pub" # no POSIX ACLs: only mode bits count
}

mount_fs -o allow_other
grep " $MNT " /proc/mounts | grep -q default_permissions &&
	fail "mounted with default_permissions although not asked for"
chmod 0755 "$MNT"
permission_cases "$MNT/daemon-checks"
unmount_fs
# -o default_permissions: the kernel checks, and must agree on every case
mount_fs -o allow_other,default_permissions
grep " $MNT " /proc/mounts | grep -q default_permissions ||
	fail "-o default_permissions did not reach the kernel mount"
chmod 0755 "$MNT"
permission_cases "$MNT/kernel-checks"
unmount_fs
# -o writeback_cache hides "touch" behind an explicit mtime: the kernel checks
mount_fs -o writeback_cache
grep " $MNT " /proc/mounts | grep -q default_permissions ||
	fail "-o writeback_cache did not imply default_permissions"
unmount_fs
fsck_clean
