#!/usr/bin/env bash
# SIGKILL of the daemon in the middle of a workload: the dead mount is
# cleared with fusermount3 -u -z, the restarted daemon recovers, fsck finds
# the file system clean, and every file whose writes (and fsync) had
# returned is there with the right contents.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 256M
mount_fs
DONE=$WORK/done.log    # on the local disk: survives the daemon
: >"$DONE"
head -c $((4 << 20)) /dev/urandom >"$WORK/pool"
workload() {
	local i=0 sum
	mkdir -p "$MNT/w/dir" || return
	while :; do
		i=$((i + 1))
		dd if="$WORK/pool" of="$MNT/w/f$i" bs=65536 count=$((i % 40 + 1)) skip=$((i % 20)) \
			conv=fsync status=none 2>/dev/null || return
		sum=$(dd if="$WORK/pool" bs=65536 count=$((i % 40 + 1)) skip=$((i % 20)) status=none | md5sum | cut -d' ' -f1)
		echo "f$i $sum" >>"$DONE"
		if [ $((i % 3)) -eq 0 ]; then
			mv "$MNT/w/f$i" "$MNT/w/dir/f$i" 2>/dev/null || return
			echo "mv f$i" >>"$DONE"
		fi
	done
}
workload &
WL=$!
# Kill once at least 10 files are complete, in the middle of the next ones.
deadline=$((SECONDS + 60))
until [ "$(grep -c '^f' "$DONE" || true)" -ge 10 ]; do
	[ $SECONDS -lt $deadline ] || fail "the workload completed fewer than 10 files in 60 s"
	sleep 0.05
done
sleep 0.3
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=
wait "$WL" 2>/dev/null || true
n=$(grep -c '^f' "$DONE" || true)
[ "$n" -ge 10 ] || fail "the workload finished only $n files before the kill; expected at least 10"
status=0
"$PMEMFS_FUSE" "$IMG" "$MNT" -f >"$WORK/refused" 2>&1 || status=$?
[ $status -ne 0 ] || fail "mounting over the dead mount succeeded; expected a refusal"
grep -q "dead FUSE daemon.*fusermount3 -u -z" "$WORK/refused" ||
	fail "mounting over the dead mount: expected advice to run fusermount3 -u -z, got: $(cat "$WORK/refused")"
fusermount3 -u -z "$MNT" || fail "fusermount3 -u -z on the dead mount failed"
is_mounted "$MNT" && fail "the dead mount is still there after fusermount3 -u -z"
mount_fs
grep -q "not unmounted cleanly" "$DAEMON_LOG" || fail "the restarted daemon did not log recovery (expected 'not unmounted cleanly')"
moved=" $(grep '^mv ' "$DONE" | cut -d' ' -f2 | xargs) "
while read -r name sum; do
	[ "$name" = mv ] && continue
	path=$MNT/w/$name
	case "$moved" in *" $name "*) path=$MNT/w/dir/$name ;; esac
	[ -f "$path" ] || fail "$name was complete before the kill but is missing at $path"
	assert_eq "md5 of $name after recovery" "$sum" "$(md5sum <"$path" | cut -d' ' -f1)"
done <"$DONE"
unmount_fs
fsck_clean
note "$n files verified after SIGKILL and recovery"
