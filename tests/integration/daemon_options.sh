#!/usr/bin/env bash
# The command line: --help (ours and libfuse's), --version, usage errors;
# 1 MiB FUSE requests (max_write); write-only opens write past the page
# cache unless -o page_cache; -o writeback_cache keeps data fsync'd
# before a SIGKILL; SIGINT and SIGTERM unmount cleanly.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 128M
out=$("$PMEMFS_FUSE" --help 2>&1) || fail "--help: expected exit 0"
for want in "usage: " writeback_cache "-o ro" allow_other "spin=USEC" max_threads; do
	case "$out" in *"$want"*) ;; *) fail "--help: expected it to mention '$want'" ;; esac
done
out=$("$PMEMFS_FUSE" --version 2>&1) || fail "--version: expected exit 0"
case "$out" in *"pmemfs-fuse version "*"libfuse version 3."*) ;; *) fail "--version: got: $out" ;; esac
status=0; out=$("$PMEMFS_FUSE" 2>&1) || status=$?
assert_eq "exit status without arguments" 1 "$status"
case "$out" in *"pmemfs-fuse: missing DEVICE"*) ;; *) fail "no arguments: expected 'pmemfs-fuse: missing DEVICE...', got: $out" ;; esac
for bad in spin=abc spin=-1 spin= spin=10001 spin=5x; do
	status=0; out=$("$PMEMFS_FUSE" "$IMG" "$MNT" -f -o "$bad" 2>&1) || status=$?
	assert_eq "exit status with -o $bad" 1 "$status"
	case "$out" in *"pmemfs-fuse: bad option: $bad: want microseconds, 0 to 10000"*) ;; *) fail "-o $bad: got: $out" ;; esac
	is_mounted "$MNT" && fail "-o $bad: mounted anyway"
done

# -d logs every request: count the WRITE and READ requests of 1 MiB I/O.
mount_fs -d
# read-ahead raised to the 1 MiB a READ can carry (the mount's bdi; set
# before the daemon answers anything, so after this ls)
ls "$MNT" >/dev/null
assert_eq "read_ahead_kb of the mount" 1024 "$(cat "/sys/class/bdi/$(mountpoint -d "$MNT")/read_ahead_kb")"
grep -q "max_write=0x00100000" "$DAEMON_LOG" || fail "INIT reply: expected max_write=0x00100000, got: $(grep -m1 max_write "$DAEMON_LOG")"
before=$(grep -c "opcode: WRITE" "$DAEMON_LOG" || true)
dd if=/dev/zero of="$MNT/big" bs=4M count=1 status=none
writes=$(( $(grep -c "opcode: WRITE" "$DAEMON_LOG") - before ))
assert_eq "WRITE requests for one 4 MiB write()" 4 "$writes"
before=$(grep -c "opcode: READ" "$DAEMON_LOG" || true)
dd if="$MNT/big" of=/dev/null bs=4M count=1 iflag=direct status=none
reads=$(( $(grep -c "opcode: READ" "$DAEMON_LOG") - before ))
assert_eq "READ requests for one 4 MiB O_DIRECT read()" 4 "$reads"
# Which opens write past the page cache: 1 MiB from dd's page-aligned
# buffer to file offset 100 is one WRITE (the buffer's 256 pages) direct,
# two through the page cache (the file range touches 257 pages).
# $1: the file; $2: wo (dd's write-only open) or rw (a read-write open,
# made by the shell and handed to dd as its output).
unaligned_write_requests() {
	local before
	before=$(grep -c "opcode: WRITE" "$DAEMON_LOG" || true)
	if [ "$2" = rw ]; then
		dd if=/dev/zero bs=1M count=1 seek=100 oflag=seek_bytes conv=notrunc status=none 1<>"$1"
	else
		dd if=/dev/zero of="$1" bs=1M count=1 seek=100 oflag=seek_bytes conv=notrunc status=none
	fi || fail "dd to offset 100 of $1 ($2) failed"
	echo $(($(grep -c "opcode: WRITE" "$DAEMON_LOG") - before))
}
assert_eq "WRITEs, write-only open" 1 "$(unaligned_write_requests "$MNT/unaligned" wo)"
assert_eq "WRITEs, read-write open of a new file" 1 "$(unaligned_write_requests "$MNT/rw-new" rw)"
touch "$MNT/rw-empty"
assert_eq "WRITEs, read-write open of an empty file" 1 "$(unaligned_write_requests "$MNT/rw-empty" rw)"
assert_eq "WRITEs, read-write open of a file with data" 2 "$(unaligned_write_requests "$MNT/rw-new" rw)"
unmount_fs
mount_fs -d -o page_cache
assert_eq "WRITEs, write-only open, -o page_cache" 2 "$(unaligned_write_requests "$MNT/unaligned-pc" wo)"
assert_eq "WRITEs, read-write open of a new file, -o page_cache" 2 "$(unaligned_write_requests "$MNT/rw-new-pc" rw)"
unmount_fs

# writeback_cache: what fsync returned for survives a SIGKILL.
mount_fs -o writeback_cache
head -c $((3 << 20)) /dev/urandom >"$WORK/data"
dd if="$WORK/data" of="$MNT/wb" bs=64k conv=fsync status=none || fail "write + fsync with writeback_cache failed"
kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=
fusermount3 -u -z "$MNT"
mount_fs
cmp "$WORK/data" "$MNT/wb" || fail "writeback_cache: data fsync'd before SIGKILL differs after recovery"
unmount_fs
fsck_clean

# -s: one thread serves everything.
mount_fs -s
head -c $((2 << 20)) /dev/urandom >"$WORK/single"
cp "$WORK/single" "$MNT/single" && cmp "$WORK/single" "$MNT/single" || fail "-s: copy through a single-threaded daemon differs"
unmount_fs

# SIGINT and SIGTERM unmount cleanly: exit 0, mountpoint free, clean flag set
# (the next mount does no recovery).
for sig in INT TERM; do
	mount_fs
	echo "$sig" >"$MNT/before-$sig"
	kill -"$sig" "$DAEMON_PID"
	wait_daemon_exit "SIG$sig"
	assert_eq "exit status after SIG$sig" 0 "$DAEMON_STATUS"
	is_mounted "$MNT" && fail "$MNT still mounted after SIG$sig"
	grep -q "unmounted .* cleanly" "$DAEMON_LOG" || fail "SIG$sig: expected 'unmounted ... cleanly' in the log"
	: >"$DAEMON_LOG"
	mount_fs
	grep -q "not unmounted cleanly" "$DAEMON_LOG" && fail "the mount after SIG$sig ran recovery: the clean flag was not set"
	assert_eq "file written before SIG$sig" "$sig" "$(cat "$MNT/before-$sig")"
	unmount_fs
done
fsck_clean
