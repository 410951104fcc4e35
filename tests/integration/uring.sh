#!/usr/bin/env bash
# FUSE over io_uring (fs/fuse_uring.c).  Where the kernel has it, the daemon
# serves requests on one ring per possible CPU; with -o no_uring it stays
# on /dev/fuse.  The same workload runs both ways, from every online CPU,
# with the cases that broke while the rings were written:
# - chmod closing a directory (with allow_other, the daemon then drops the
#   names the kernel cached in it): the invalidation waits for the lock the
#   chmod holds until its reply, so a ring's thread must not send it;
# - punching a hole in a cached file: page invalidation, likewise;
# - rm, then at once df, or a write into the freed space: the space comes
#   back with a FORGET on /dev/fuse, which a request on a ring can overtake
#   (PMEMFS_TEST_FORGET_DELAY_MS makes the FORGET late every time);
# - polling (-o spin): after a reply a queue thread looks for the next
#   request before it sleeps; the daemon's unmount log says how many
#   requests the polls found: some by default, none with -o spin=0; and
#   beside a CPU hog, polling pauses (the log counts the pauses);
# - SIGTERM, and a lazy unmount with a file still open.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 64M

PARAM=/sys/module/fuse/parameters/enable_uring
cpus_in() { # "0-3,6" -> 5
	local n=0 part
	IFS=, read -ra parts <"$1"
	for part in "${parts[@]}"; do
		if [[ $part == *-* ]]; then n=$((n + ${part#*-} - ${part%-*} + 1)); else n=$((n + 1)); fi
	done
	echo $n
}
POSSIBLE=$(cpus_in /sys/devices/system/cpu/possible)
ONLINE=$(cpus_in /sys/devices/system/cpu/online)
rings_of() { find "/proc/$1/fd" -lname 'anon_inode:\[io_uring\]' 2>/dev/null | wc -l; }
# requests the rings have completed (each CQE is one request handed over)
ring_cqes() {
	local fd n=0 t
	for fd in $(find "/proc/$1/fd" -lname 'anon_inode:\[io_uring\]' -printf '%f\n' 2>/dev/null); do
		t=$(awk '$1 == "CqTail:" { print $2 }' "/proc/$1/fdinfo/$fd")
		n=$((n + ${t:-0}))
	done
	echo $n
}

# the daemon's unmount line: "served N requests, M of them found by polling"
polled_in_last_log() {
	sed -n 's/.*io_uring queues served [0-9]* requests, \([0-9]*\) of them found by polling.*/\1/p' \
		"$DAEMON_LOG" | tail -n 1
}

workload() { # $1: what is mounted, for messages
	local cpu i
	for cpu in $(seq 0 $((ONLINE - 1))); do
		taskset -c "$cpu" bash -c '
			set -e
			d=$1/cpu$2; mkdir "$d"
			for i in $(seq 1 150); do echo "cpu $2 file $i" >"$d/f$i"; done
			for i in $(seq 1 150); do stat -c %s "$d/f$i" >/dev/null; done
			for i in $(seq 1 2 150); do rm "$d/f$i"; done
			head -c 3M /dev/urandom >"$d/big"; cmp "$d/big" <(cat "$d/big")
		' _ "$MNT" "$cpu" || fail "$1: workload on CPU $cpu failed"
	done
	for cpu in $(seq 0 $((ONLINE - 1))); do
		assert_eq "$1: files left on CPU $cpu" 76 "$(ls "$MNT/cpu$cpu" | wc -l)"
		assert_eq "$1: a file written on CPU $cpu" "cpu $cpu file 150" "$(cat "$MNT/cpu$cpu/f150")"
	done

	# a directory every caller could search stops being searchable
	mkdir -p "$MNT/closing/sub"
	chmod 0755 "$MNT/closing"
	ls -la "$MNT/closing/sub" >/dev/null
	timeout 20 chmod 0700 "$MNT/closing" || fail "$1: chmod closing a directory hung or failed"
	setpriv --reuid=65534 --regid=65534 --clear-groups stat "$MNT/closing/sub" >/dev/null 2>&1 &&
		fail "$1: user 65534 still reaches into a directory closed to it"
	timeout 20 ls "$MNT/closing" >/dev/null || fail "$1: the closed directory hung"

	# a hole punched in a file whose pages are cached
	head -c 1M /dev/urandom >"$MNT/holes"
	cat "$MNT/holes" >/dev/null
	timeout 20 fallocate -p -o 8192 -l 16384 "$MNT/holes" || fail "$1: punching a hole failed"
	assert_eq "$1: the punched range reads as zeros" \
		"$(head -c 16384 /dev/zero | md5sum)" \
		"$(dd if="$MNT/holes" bs=4096 skip=2 count=4 2>/dev/null | md5sum)"

	# rm, then at once df: the space is back (statfs waits for the FORGET)
	head -c $((16 << 20)) /dev/zero >"$MNT/df-me"
	used1=$(df --output=used -B1 "$MNT" | tail -n 1)
	rm "$MNT/df-me"
	used2=$(df --output=used -B1 "$MNT" | tail -n 1)
	[ $((used1 - used2)) -ge $((16 << 20)) ] ||
		fail "$1: df right after rm of 16 MiB: used dropped by $((used1 - used2))"

	# rm, then at once a write that needs the freed space
	for i in 1 2 3 4 5; do
		dd if=/dev/zero of="$MNT/filler" bs=1M count=128 2>/dev/null && fail "$1: 128 MiB fitted in 64"
		rm "$MNT/filler"
		head -c $((16 << 20)) /dev/zero >"$MNT/after-rm" ||
			fail "$1: writing 16 MiB right after rm freed the space failed (round $i)"
		rm "$MNT/after-rm"
	done
	rm -r "$MNT"/cpu* "$MNT/closing" "$MNT/holes"
}

chmod 0755 "$WORK"   # mktemp made it 0700: let user 65534 reach the mountpoint
export PMEMFS_TEST_FORGET_DELAY_MS=30
mount_fs -o allow_other
chmod 0755 "$MNT"
if [ -e "$PARAM" ]; then
	assert_eq "kernel switch after a mount as root" Y "$(cat "$PARAM")"
	assert_eq "io_uring instances of the daemon (one per possible CPU)" "$POSSIBLE" "$(rings_of "$DAEMON_PID")"
else
	note "this kernel has no FUSE over io_uring ($PARAM): the rings are not tested, /dev/fuse is"
	assert_eq "io_uring instances of the daemon without kernel support" 0 "$(rings_of "$DAEMON_PID")"
fi
workload "default mount"
if [ -e "$PARAM" ]; then
	served=$(ring_cqes "$DAEMON_PID")
	[ "$served" -gt 2000 ] || fail "the rings handed over only $served requests during the workload"
	note "the rings handed over $served requests"
fi
unmount_fs
fsck_clean
if [ -e "$PARAM" ]; then
	polled=$(polled_in_last_log)
	[ "${polled:-0}" -gt 0 ] || fail "default mount: the queues' polls found no request (log: ${polled:-no line})"
	note "default mount: the polls found $polled requests"

	# 2000 reads back to back from one process on one CPU: with polling,
	# nearly every next READ is found by the poll; without, by a wake-up
	: >"$DAEMON_LOG"
	mount_fs -o spin=0
	head -c 8M /dev/urandom >"$MNT/reads"
	taskset -c 0 dd if="$MNT/reads" of=/dev/null bs=4k count=2000 2>/dev/null || fail "-o spin=0: reading failed"
	unmount_fs
	assert_eq "requests found by polling with -o spin=0" 0 "$(polled_in_last_log)"
	: >"$DAEMON_LOG"
	mount_fs -o spin=2000
	taskset -c 0 dd if="$MNT/reads" of=/dev/null bs=4k count=2000 2>/dev/null || fail "-o spin=2000: reading failed"
	unmount_fs
	polled=$(polled_in_last_log)
	[ "${polled:-0}" -ge 1000 ] || fail "-o spin=2000: the polls found ${polled:-no} requests of 2000 back-to-back reads"
	note "-o spin=2000: the polls found $polled requests (2000 reads)"
	# the same beside a CPU hog on CPU 0: a yield that lets the hog run
	# pauses polling (a poller would only lose the CPU to it)
	: >"$DAEMON_LOG"
	mount_fs
	taskset -c 0 sh -c 'while :; do :; done' &
	hog=$!
	# dd's 2000 reads take some 30 ms: start them only once the hog runs
	# its loop (taskset has become sh and it has used CPU), or on a busy
	# machine they could all be over before it starts
	for _ in $(seq 200); do
		[ "$(cat "/proc/$hog/comm" 2>/dev/null)" = sh ] &&
			[ "$(awk '{print $14}' "/proc/$hog/stat")" -gt 0 ] && break
		sleep 0.01
	done
	taskset -c 0 dd if="$MNT/reads" of=/dev/null bs=4k count=2000 2>/dev/null || fail "reading beside a CPU hog failed"
	kill "$hog"
	wait "$hog" 2>/dev/null || true
	unmount_fs
	pauses=$(sed -n 's/.*polling paused \([0-9]*\) times for a busy CPU.*/\1/p' "$DAEMON_LOG" | tail -n 1)
	[ "${pauses:-0}" -gt 0 ] || fail "beside a CPU hog, polling never paused (log: ${pauses:-no line})"
	note "beside a CPU hog: polling paused $pauses times"
	mount_fs
	rm "$MNT/reads"
	unmount_fs
	fsck_clean
fi

mount_fs -o no_uring,allow_other
chmod 0755 "$MNT"
assert_eq "io_uring instances with -o no_uring" 0 "$(rings_of "$DAEMON_PID")"
workload "-o no_uring"
unmount_fs
fsck_clean

unset PMEMFS_TEST_FORGET_DELAY_MS

# SIGTERM: the daemon unmounts, its rings end, it exits 0
mount_fs
echo kept >"$MNT/kept"
kill -TERM "$DAEMON_PID"
wait_daemon_exit SIGTERM
assert_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
is_mounted "$MNT" && fail "still mounted after SIGTERM"
fsck_clean

# a lazy unmount while a file is open: it stays readable until closed,
# then the kernel lets go of the rings and the daemon exits
mount_fs
exec 3<"$MNT/kept"
umount -l "$MNT" || fail "umount -l failed"
assert_eq "a file open across a lazy unmount" kept "$(cat <&3)"
kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon exited while a file was still open"
exec 3<&-
wait_daemon_exit "the last file of a lazy unmount was closed"
assert_eq "exit status after a lazy unmount" 0 "$DAEMON_STATUS"
fsck_clean
