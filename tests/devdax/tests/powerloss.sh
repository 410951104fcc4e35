# powerloss.sh (host) - power failures on a real devdax namespace.  Each
# of three boots recovers and verifies the rounds before it (the first
# formats instead) and runs a workload of fsynced file operations (plwork),
# which acknowledges each durable operation on the console, until the host
# SIGKILLs qemu at a kill point; a fourth boot is killed while it recovers;
# a last boot recovers and verifies all.
# Kill points: after the Nth acknowledgement plus a delay, so that they
# land at different places inside an operation.
# PMEMFS_DEVDAX_SEED changes the workloads.
KILL_AFTER_ACKS=(12 30 6)
KILL_DELAYS=(0 0.25 0.6)

# last_ack LOG: the last operation number acknowledged on the console.  A
# line cut by the kill still counts once its number is complete: it was
# printed only after the operation was durable.
last_ack() {
	tr -d '\r' <"$1" | sed -n 's/^PL ACK \([0-9][0-9]*\) .*/\1/p' | tail -n 1
}

run_test() {
	local seed=${PMEMFS_DEVDAX_SEED:-1} acked='' r k
	check_qemu_runs
	for r in 1 2 3; do
		boot_until_kill '^PL ACK ' "${KILL_AFTER_ACKS[r - 1]}" "${KILL_DELAYS[r - 1]}" \
			DEVDAX_SCRIPT=powerloss DEVDAX_STAGE=crash DEVDAX_ROUND=$r \
			DEVDAX_SEED="$seed" DEVDAX_ACKED="$acked"
		show_verdicts
		if tr -d '\r' <"$BOOT_LOG" | grep -a -q '^FAIL'; then
			GUEST_RC=1
			expect_pass "powerloss.sh (stage crash, round $r)"
		fi
		k=$(last_ack "$BOOT_LOG")
		[ -n "$k" ] || fail "round $r: no acknowledged operation before the kill"
		note "round $r: power failure after operation $k was acknowledged"
		acked=${acked:+$acked,}$r:$k
	done
	# A power failure during the recovery itself (the mount that replays,
	# then the checks): the next recovery must still give the same files.
	boot_until_kill '^NOTE: fsck.pmemfs -n -f before the recovery mount' 1 0.3 \
		DEVDAX_SCRIPT=powerloss DEVDAX_STAGE=verify DEVDAX_SEED="$seed" DEVDAX_ACKED="$acked"
	show_verdicts
	if tr -d '\r' <"$BOOT_LOG" | grep -a -q '^FAIL'; then
		GUEST_RC=1
		expect_pass "powerloss.sh (stage verify, killed during recovery)"
	fi
	note "power failure during the recovery boot"
	boot DEVDAX_SCRIPT=powerloss DEVDAX_STAGE=verify DEVDAX_SEED="$seed" DEVDAX_ACKED="$acked"
	expect_pass "powerloss.sh (stage verify)"
	# Once a round's in-flight operation was found complete, absent or
	# torn, every later recovery must find the same.  Only whole lines: a
	# killed boot may have cut its last one.
	for r in 1 2 3; do
		k=$(cat "$WORK"/console.*.log | tr -d '\r' |
			grep -a -E "^PASS: /mnt/pm/r$r: .*is (complete|not there|torn \(in-place data\))$" | sort -u)
		[ "$(echo "$k" | wc -l)" = 1 ] ||
			fail "round $r: expected every recovery to find the same state, got: $k"
	done
	note "PASS ($acked)"
}
