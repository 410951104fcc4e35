# lib.sh - sourced by the guest scripts (busybox ash, no bash): verdict
# lines, the devdax namespace, and mounting pmemfs on it.  Each check
# prints one "PASS: what" or "FAIL: what: expected X, got Y" line; the
# script's exit status is the number of failures (capped), which init turns
# into "RESULT: rc=N".

DEV=/dev/dax0.0
MNT=/mnt/pm
DAEMON_LOG=/tmp/daemon.log
FAILS=0
DAEMON_PID=

pass() {
	echo "PASS: $*"
}

fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}

note() {
	echo "NOTE: $*"
}

# timing WHAT: the guest's uptime at a milestone (TCG is slow: budget it).
timing() {
	echo "NOTE: $1 at uptime $(cut -d' ' -f1 /proc/uptime) s"
}

# die WHAT: a failure after which the script cannot go on.
die() {
	fail "$*"
	[ -s "$DAEMON_LOG" ] && { echo "--- daemon log ---"; tail -n 30 "$DAEMON_LOG"; }
	exit 1
}

finish() {
	[ "$FAILS" -le 100 ] || FAILS=100
	exit "$FAILS"
}

# check WHAT EXPECTED GOT
check() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1: expected '$2', got '$3'"
	fi
}

# wait_for PATH: devtmpfs creates device nodes asynchronously.
wait_for() {
	i=0
	while [ ! -e "$1" ]; do
		i=$((i + 1))
		[ $i -le 100 ] || return 1
		sleep 0.1
	done
}

# ensure_devdax ALIGN: /dev/dax0.0 in devdax mode with that alignment
# (bytes), made from the raw namespace0.0 unless a previous boot left it.
ensure_devdax() {
	want=$1
	if [ -e /sys/bus/dax/devices/dax0.0 ] && wait_for $DEV; then
		got=$(cat /sys/bus/dax/devices/dax0.0/align 2>/dev/null || echo unknown)
		if [ "$got" = "$want" ]; then
			note "kept $DEV from a previous boot (align $got)"
			return 0
		fi
	fi
	ndctl create-namespace -f -e namespace0.0 -m devdax -a "$want" >/tmp/ndctl.json 2>&1 ||
		die "ndctl create-namespace -f -e namespace0.0 -m devdax -a $want: $(cat /tmp/ndctl.json)"
	wait_for $DEV || die "$DEV did not appear after ndctl create-namespace"
	note "created $DEV: $(tr -d ' \n' </tmp/ndctl.json | head -c 300)"
}

dev_size() {
	cat /sys/bus/dax/devices/dax0.0/size
}

mounted() {
	awk -v m="$MNT" '$2 == m { f = 1 } END { exit !f }' /proc/mounts
}

# mount_pm [DAEMON OPTIONS]: pmemfs-fuse -f in the background.
mount_pm() {
	mkdir -p $MNT
	"$PMEMFS_FUSE" $DEV $MNT -f "$@" >>$DAEMON_LOG 2>&1 &
	DAEMON_PID=$!
	i=0
	until mounted; do
		kill -0 $DAEMON_PID 2>/dev/null || die "pmemfs-fuse $DEV exited before mounting"
		i=$((i + 1))
		[ $i -le 600 ] || die "$MNT not mounted after 60 s"
		sleep 0.1
	done
}

# umount_pm: a clean unmount; the daemon must exit 0.
umount_pm() {
	umount $MNT || die "umount $MNT failed"
	status=0
	wait $DAEMON_PID || status=$?
	DAEMON_PID=
	[ $status -eq 0 ] || die "pmemfs-fuse exit status after unmount: expected 0, got $status"
}

# fsck_clean WHEN: fsck.pmemfs -n -f must find nothing (exit 0).
fsck_clean() {
	status=0
	"$FSCK_PMEMFS" -n -f $DEV >/tmp/fsck.log 2>&1 || status=$?
	if [ $status -eq 0 ]; then
		pass "fsck.pmemfs -n -f $DEV clean $1"
	else
		fail "fsck.pmemfs -n -f $DEV $1: expected exit 0, got $status"
		tail -n 20 /tmp/fsck.log
	fi
}
