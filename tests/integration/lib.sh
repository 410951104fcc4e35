# lib.sh - shared by the integration tests (sourced, not run): makes a
# uniquely named pmemfs image in /dev/shm, formats it, mounts it with
# pmemfs-fuse in the foreground (so the test knows the daemon's pid and
# log), waits for the mount, and always cleans up: unmount, kill the
# daemon, remove the image and the scratch directory.
#
# meson passes the programs in the environment: PMEMFS_FUSE, MKFS_PMEMFS,
# FSCK_PMEMFS and HELPER_DIR (the directory of fsrand and the C helpers).

set -euo pipefail

TEST_NAME=$(basename "$0" .sh)
MOUNT_TIMEOUT=${MOUNT_TIMEOUT:-20}

fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	if [ -n "${DAEMON_LOG:-}" ] && [ -s "$DAEMON_LOG" ]; then
		echo "--- daemon log (last 30 lines) ---" >&2
		tail -n 30 "$DAEMON_LOG" >&2
	fi
	exit 1
}

# assert_eq WHAT EXPECTED GOT
assert_eq() {
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
}

note() {
	echo "$TEST_NAME: $*"
}

# Only a missing /dev/fuse skips: everything else must run.
require_fuse() {
	if [ ! -c /dev/fuse ]; then
		echo "SKIP: $TEST_NAME: /dev/fuse is absent, no FUSE mounts possible"
		exit 77
	fi
	for v in PMEMFS_FUSE MKFS_PMEMFS FSCK_PMEMFS HELPER_DIR; do
		[ -n "${!v:-}" ] || fail "environment variable $v is not set (run through meson test)"
	done
}

is_mounted() {
	# mountinfo escapes blanks; our mountpoints have none.
	awk -v m="$1" '$5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo
}

# setup_fs [SIZE] [MKFS ARGS...]: a formatted image and an empty mountpoint.
setup_fs() {
	local size=${1:-256M}
	shift || true
	WORK=$(mktemp -d "/tmp/pmemfs-$TEST_NAME.XXXXXX")
	IMG=/dev/shm/pmemfs-test-$TEST_NAME-$$-$RANDOM.img
	MNT=$WORK/mnt
	DAEMON_LOG=$WORK/daemon.log
	DAEMON_PID=
	EXTRA_CLEANUP=
	mkdir "$MNT"
	trap cleanup EXIT
	truncate -s "$size" "$IMG"
	"$MKFS_PMEMFS" "$@" "$IMG" >"$WORK/mkfs.log" 2>&1 ||
		fail "mkfs.pmemfs $IMG failed: $(cat "$WORK/mkfs.log")"
}

cleanup() {
	local rc=$?
	set +e
	if [ -n "${MNT:-}" ] && is_mounted "$MNT"; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT" 2>/dev/null
	fi
	if [ -n "${DAEMON_PID:-}" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -9 "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	[ -n "${MNT:-}" ] && is_mounted "$MNT" && fusermount3 -u -z "$MNT" 2>/dev/null
	[ -n "${IMG:-}" ] && rm -f "$IMG"
	for extra in ${EXTRA_CLEANUP:-}; do rm -rf "$extra"; done
	[ -n "${WORK:-}" ] && rm -rf "$WORK"
	exit $rc
}

wait_mounted() {
	local deadline=$((SECONDS + MOUNT_TIMEOUT))
	until is_mounted "$MNT"; do
		if [ -n "${DAEMON_PID:-}" ] && ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			wait "$DAEMON_PID" 2>/dev/null || true
			fail "pmemfs-fuse exited before mounting $MNT"
		fi
		[ $SECONDS -lt $deadline ] || fail "$MNT not mounted after ${MOUNT_TIMEOUT}s"
		sleep 0.05
	done
}

# mount_fs [DAEMON OPTIONS...]: runs pmemfs-fuse -f in the background.
# A shell without job control starts background jobs with SIGINT ignored,
# and libfuse leaves ignored signals alone: restore the default so SIGINT
# behaves as it does for a daemon started from a terminal.
mount_fs() {
	env --default-signal=INT "$PMEMFS_FUSE" "$IMG" "$MNT" -f "$@" >>"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	wait_mounted
}

# wait_daemon_exit WHY: waits (bounded) for the daemon; sets DAEMON_STATUS.
wait_daemon_exit() {
	local deadline=$((SECONDS + MOUNT_TIMEOUT))
	while kill -0 "$DAEMON_PID" 2>/dev/null; do
		[ $SECONDS -lt $deadline ] || fail "pmemfs-fuse still running ${MOUNT_TIMEOUT}s after $1"
		sleep 0.05
	done
	DAEMON_STATUS=0
	wait "$DAEMON_PID" || DAEMON_STATUS=$?
	DAEMON_PID=
}

# unmount_fs [fusermount|umount]: unmounts and checks the daemon exits 0.
unmount_fs() {
	local how=${1:-fusermount}
	if [ "$how" = umount ]; then
		umount "$MNT" || fail "umount $MNT failed"
	else
		fusermount3 -u "$MNT" || fail "fusermount3 -u $MNT failed"
	fi
	wait_daemon_exit unmount
	assert_eq "pmemfs-fuse exit status after unmount" 0 "$DAEMON_STATUS"
}

# fsck_clean: fsck.pmemfs must find nothing to fix (exit 0).
fsck_clean() {
	local status=0
	"$FSCK_PMEMFS" -n -f "$IMG" >"$WORK/fsck.log" 2>&1 || status=$?
	[ $status -eq 0 ] || fail "fsck.pmemfs -n -f $IMG: expected exit 0 (clean), got $status: $(cat "$WORK/fsck.log")"
}

# write_keep: a 1 MiB random file "keep" on the mount, its md5sum in
# keep_sum: data written before the device fills up, checked after.
write_keep() {
	head -c $((1 << 20)) /dev/urandom >"$MNT/keep"
	keep_sum=$(md5sum <"$MNT/keep")
}

# fill_enospc FILE SOURCE [DD ARGS...]: dd from SOURCE into FILE until the
# device is full; fails unless dd fails, with ENOSPC.
fill_enospc() {
	local file=$1 src=$2
	shift 2
	dd if="$src" of="$file" bs=1M status=none "$@" 2>"$WORK/fill.err" &&
		fail "filling the device with ${file##*/}: expected ENOSPC, it succeeded"
	grep -q "No space left on device" "$WORK/fill.err" ||
		fail "filling the device with ${file##*/}: expected ENOSPC, got: $(cat "$WORK/fill.err")"
}

# stat_tree DIR: one line per file with the fields that must survive a
# remount or a copy: type, mode, uid, gid, size (not for directories, whose
# size is file-system specific), mtime in ns, nlink, path.
stat_tree() {
	(cd "$1" && find . -printf '%y %m %U %G %s %T@ %n %p\n' |
		awk '$1 == "d" { $5 = "-" } { print }' | LC_ALL=C sort)
}
