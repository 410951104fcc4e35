#!/usr/bin/env bash
# kill_loop.sh - SIGKILL of pmemfs-fuse at random moments, N times in a row
# on the same file system.  Each iteration runs killwl in a fresh directory,
# kills the daemon after a random delay, clears the dead mount
# (fusermount3 -u -z), requires fsck.pmemfs -n -f to find the image clean,
# restarts the daemon (recovery) and requires the directory to hold exactly
# the acknowledged operations (plus, at most, the one in flight).  At the
# end every directory is checked again against the state it settled on,
# after a clean unmount and a final fsck.
#
#   KILL_ITERATIONS  iterations (default 100)
#   KILL_IMAGE_MB    image size (default: 1 MiB per iteration, at least
#                    128): the workloads' files accumulate, about 0.4 MiB
#                    per iteration (128 MiB filled up after 339)
#   KILL_SEED        seed (default: random, printed); reruns the same
#                    workloads and delays.  The instant the kill lands within
#                    a delay still depends on scheduling.
set -euo pipefail
: "${PMEMFS_FUSE:?}" "${MKFS_PMEMFS:?}" "${FSCK_PMEMFS:?}" "${KILLWL:?}"
ITER=${KILL_ITERATIONS:-100}
IMAGE_MB=${KILL_IMAGE_MB:-$((ITER > 128 ? ITER : 128))}
SEED=${KILL_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
RANDOM=$SEED
echo "kill_loop: seed $SEED, $ITER iterations (rerun: KILL_SEED=$SEED KILL_ITERATIONS=$ITER)"

if [ ! -c /dev/fuse ]; then
	echo "SKIP: /dev/fuse is absent"
	exit 77
fi
WORK=$(mktemp -d /tmp/pmemfs-kill-loop.XXXXXX)
IMG=/dev/shm/pmemfs-kill-loop-$$.img
MNT=$WORK/mnt
LOGDIR=$WORK/logs
DAEMON_PID=
WL_PID=
mkdir -p "$MNT" "$LOGDIR"

is_mounted() {
	awk -v m="$1" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo
}
cleanup() {
	local rc=$?
	set +e
	[ -n "$WL_PID" ] && kill -9 "$WL_PID" 2>/dev/null
	[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	is_mounted "$MNT" && fusermount3 -u -z "$MNT"
	rm -f "$IMG"
	if [ $rc -eq 0 ]; then rm -rf "$WORK"; else echo "kill_loop: logs kept in $WORK"; fi
	exit $rc
}
trap cleanup EXIT
fail() {
	echo "FAIL: kill_loop (seed $SEED, iteration ${it:-0}): $*" >&2
	tail -n 20 "$WORK/daemon.log" >&2 2>/dev/null || true
	exit 1
}
mount_fs() {
	"$PMEMFS_FUSE" "$IMG" "$MNT" -f >>"$WORK/daemon.log" 2>&1 &
	DAEMON_PID=$!
	local deadline=$((SECONDS + 20))
	until is_mounted "$MNT"; do
		kill -0 "$DAEMON_PID" 2>/dev/null || fail "pmemfs-fuse exited before mounting"
		[ $SECONDS -lt $deadline ] || fail "not mounted after 20 s"
		sleep 0.02
	done
}
# fsck_clean [after-kill]: fsck.pmemfs -n -f must exit 0.  A committed
# journal transaction that the next mount replays is a crash state, not
# damage: fsck.pmemfs notes it, checks the replayed state and exits 0; the
# notes are counted.
fsck_clean() {
	local st=0
	"$FSCK_PMEMFS" -n -f "$IMG" >"$WORK/fsck.log" 2>&1 || st=$?
	if [ $st -eq 0 ] && grep -q 'committed transactions not yet replayed' "$WORK/fsck.log"; then
		pending_journal=$((pending_journal + 1))
	fi
	[ $st -eq 0 ] || fail "fsck.pmemfs -n -f: expected exit 0, got $st: $(cat "$WORK/fsck.log")"
}

truncate -s "${IMAGE_MB}M" "$IMG"
"$MKFS_PMEMFS" "$IMG" >"$WORK/mkfs.log" 2>&1 || fail "mkfs.pmemfs: $(cat "$WORK/mkfs.log")"
mount_fs
declare -a SETTLED
start=$SECONDS
total_acked=0
idle=0
pending_journal=0
for it in $(seq 1 "$ITER"); do
	wseed=$((SEED * 1000 + it))
	"$KILLWL" run "$MNT/it$it" "$LOGDIR/it$it" "$wseed" 2>"$WORK/wl.err" &
	WL_PID=$!
	# 50..450 ms: past the workload's start-up, inside its operations.
	delay=$(printf '0.%03d' $((50 + RANDOM % 401)))
	sleep "$delay"
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=
	st=0
	wait "$WL_PID" || st=$?
	WL_PID=
	[ $st -eq 0 ] || fail "workload failed before the kill: $(cat "$WORK/wl.err")"
	fusermount3 -u -z "$MNT" || fail "fusermount3 -u -z on the dead mount"
	fsck_clean after-kill
	mount_fs
	res=$("$KILLWL" verify "$MNT/it$it" "$LOGDIR/it$it" "$wseed" 2>"$WORK/verify.err") ||
		fail "after ${delay}s: $(cat "$WORK/verify.err")"
	SETTLED[$it]=${res%% *}
	acked=${res#* }
	total_acked=$((total_acked + acked))
	# on a loaded machine the kill may land before the first operation
	[ "$acked" -gt 0 ] || idle=$((idle + 1))
done
[ $((idle * 2)) -le "$ITER" ] || fail "$idle of $ITER iterations acknowledged no operation before the kill"
fusermount3 -u "$MNT" || fail "clean unmount"
wait "$DAEMON_PID" || fail "pmemfs-fuse exited non-zero at unmount"
DAEMON_PID=
fsck_clean
mount_fs
for it in $(seq 1 "$ITER"); do
	"$KILLWL" verify "$MNT/it$it" "$LOGDIR/it$it" $((SEED * 1000 + it)) "${SETTLED[$it]}" \
		>/dev/null 2>"$WORK/verify.err" ||
		fail "final pass, it$it no longer in state ${SETTLED[$it]}: $(cat "$WORK/verify.err")"
done
fusermount3 -u "$MNT"
wait "$DAEMON_PID" || fail "pmemfs-fuse exited non-zero at the final unmount"
DAEMON_PID=
fsck_clean
echo "kill iterations survived: $ITER ($((SECONDS - start)) s, seed $SEED," \
	"$total_acked acknowledged operations verified, $idle kills before the first," \
	"$pending_journal images with a committed transaction left for the mount to replay)"
