# dmap_restart_lib.sh - helpers of the direct-map tests that hold a
# mapping while the daemon truncates, unlinks, restarts or dies under it
# (dmap_restart_*.sh, dmap_truncate.sh, dmap_kill.sh, dmap_concurrent.sh;
# sourced after lib.sh, not a test itself): start an application holding a
# direct mapping, kill -9 the daemon under it, fill the free space, wait
# for the restored pins to go.
TOOL=$HELPER_DIR/dmap_tool

# free_blocks: the mount's free blocks (statfs)
free_blocks() { stat -f -c %f "$MNT"; }

# mount_baseline: mounts and sets F0, the free blocks to come back to.  The
# root directory gets its first block with its first entry: take it
# before measuring.
mount_baseline() {
	mount_fs
	touch "$MNT/warm" && rm "$MNT/warm"
	F0=$(free_blocks)
}

# map_held FILE BYTES SEED1 SEED2: creates FILE (BYTES of pattern SEED1,
# dmap_tool map), then run_holder FILE SEED1 SEED2
map_held() {
	"$TOOL" map "$1" "$2" "$3" >/dev/null || fail "creating ${1##*/}"
	run_holder "$1" "$3" "$4"
}

# run_holder FILE SEED1 SEED2: starts dmap_tool hold, waits until mapped
# directly; sets HOLD (pid) and SYNC (its directory)
run_holder() {
	SYNC=$(mktemp -d "$WORK/sync.XXXXXX")
	"$TOOL" hold "$1" "$2" "$3" "$SYNC" >"$SYNC/out" 2>&1 &
	HOLD=$!
	local deadline=$((SECONDS + 20))
	until [ -e "$SYNC/ready" ]; do
		kill -0 $HOLD 2>/dev/null || fail "holder died: $(cat "$SYNC/out")"
		[ $SECONDS -lt $deadline ] || fail "holder not ready"
		sleep 0.05
	done
	grep -q "mode=direct" "$SYNC/out" || fail "not mapped directly: $(cat "$SYNC/out")"
}

# go_holder SYNC PID: the application stores SEED2 over its whole mapping,
# persists and verifies it in the mapping
go_holder() {
	touch "$1/go"
	until [ -e "$1/done" ]; do
		kill -0 "$2" 2>/dev/null || fail "holder failed: $(cat "$1/out")"
		sleep 0.05
	done
}

# exit_holder SYNC PID
exit_holder() {
	touch "$1/exit"
	wait "$2" || fail "holder failed: $(cat "$1/out")"
}

# stores_spare_free SYNC PID: fills all free space with b, lets the holder
# store over its mapping, checks b was not touched, lets the holder exit
# and waits for its pinned blocks to come back (free blocks F0)
stores_spare_free() {
	fill_free "$MNT/b" 55
	go_holder "$1" "$2"
	"$TOOL" verify "$MNT/b" 55 || fail "b corrupted by the application's stores"
	exit_holder "$1" "$2"
	rm "$MNT/b"
	wait_free "$F0"
}

# kill_daemon: kill -9, and the dead mount goes (lazily)
kill_daemon() {
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=
	fusermount3 -u -z "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
}

# fill_free FILE SEED: a file over all the space statfs calls free (less
# some slack for its own metadata), written through the mount: any block
# freed too early is reused by it
fill_free() {
	local bytes=$((($(free_blocks) - 512) * 4096))
	[ $bytes -gt 0 ] || fail "no free space to fill"
	truncate -s $bytes "$1" || fail "sizing $1"
	"$TOOL" write "$1" "$2" || fail "filling $1 ($bytes bytes)"
}

# wait_free BLOCKS: statfs free blocks reach BLOCKS within 10 s (the
# daemon polls the clients' locks once a second)
wait_free() {
	local deadline=$((SECONDS + 10)) got
	while got=$(free_blocks) && [ "$got" != "$1" ]; do
		[ $SECONDS -lt $deadline ] || fail "free blocks: expected $1, found $got"
		sleep 0.2
	done
}
