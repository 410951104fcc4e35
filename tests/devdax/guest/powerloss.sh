# powerloss.sh (guest) - one boot of the power-loss test; the host kills
# qemu (SIGKILL: the NVDIMM keeps what reached it, the rest is lost) while
# plwork runs, then boots again on the same NVDIMM.
#
#   DEVDAX_STAGE=crash    round 1: make the namespace and the file system;
#                         later rounds: recover and verify the earlier
#                         rounds; then run round DEVDAX_ROUND's workload
#                         until killed
#   DEVDAX_STAGE=verify   recover and verify every round, then fsck
#
# DEVDAX_ACKED lists "round:K" pairs: K is the last operation of that round
# whose acknowledgement the host saw on the console before the kill.
. /pm/t/lib.sh

# recover: the mount after a power failure replays the journal; then the
# acknowledged operations must all be there, and fsck must find the
# unmounted result clean.
recover() {
	status=0
	"$FSCK_PMEMFS" -n -f $DEV >/tmp/fsck-before.log 2>&1 || status=$?
	note "fsck.pmemfs -n -f before the recovery mount: exit $status ($(tail -n 1 /tmp/fsck-before.log))"
	: >$DAEMON_LOG
	mount_pm
	line=$(grep -m 1 'mounted' $DAEMON_LOG || true)
	note "daemon: $line"
	case $line in
	*"(devdax,"*"; not clean;"*) pass "the mount after the power failure saw an unclean devdax file system and recovered" ;;
	*) fail "the mount after the power failure: expected the daemon to log '(devdax, ...; not clean; ...', got '$line'" ;;
	esac
	for pair in $(echo "$DEVDAX_ACKED" | tr ',' ' '); do
		r=${pair%%:*}
		k=${pair#*:}
		"$PLWORK" verify $MNT/r$r $((DEVDAX_SEED * 1000 + r)) "$k" || FAILS=$((FAILS + 1))
	done
	umount_pm
	fsck_clean "after the recovery mount and a clean unmount"
	timing "recovery checked"
}

case ${DEVDAX_STAGE:?} in
crash)
	if [ "$DEVDAX_ROUND" = 1 ]; then
		ensure_devdax 2097152
		"$MKFS_PMEMFS" $DEV >/tmp/mkfs.log 2>&1 || die "mkfs.pmemfs $DEV: $(cat /tmp/mkfs.log)"
		pass "mkfs.pmemfs $DEV"
	else
		wait_for $DEV || die "$DEV did not come back after the power failure"
		recover
	fi
	[ "$FAILS" -eq 0 ] || finish
	mount_pm
	# plwork's acknowledgements wait for the serial line (tcdrain): a
	# console that is not a tty would let the guest run ahead of the host.
	[ -t 1 ] || die "stdout is not the serial console tty"
	timing "round $DEVDAX_ROUND workload starts"
	# Runs until the host kills the machine; returning is a failure.
	"$PLWORK" run $MNT/r$DEVDAX_ROUND $((DEVDAX_SEED * 1000 + DEVDAX_ROUND)) ||
		die "plwork run stopped"
	die "plwork run returned before the power failure"
	;;
verify)
	wait_for $DEV || die "$DEV did not come back after the power failure"
	recover
	;;
*)
	die "powerloss.sh: unknown stage $DEVDAX_STAGE"
	;;
esac
finish
