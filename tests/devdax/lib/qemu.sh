# qemu.sh - sourced by run.sh: boots the guest on the emulated NVDIMM.
#
# The NVDIMM is a host file mapped share=on, so its contents (namespace
# configuration included) survive the guest, even a SIGKILL of qemu: that
# is what the power-loss test relies on.  TCG only: /dev/kvm here is not
# hardware virtualisation and a KVM guest hangs.
#
# Settings, as shell variables a test may change before booting:
#   NV_IMG      the NVDIMM backing file ($WORK/nvdimm.img)
#   NV_SIZE     its size (1G)
#   PERSIST     "" (qemu's default), cpu or mem-ctrl: -machine nvdimm-persistence
NV_IMG=
NV_SIZE=1G
PERSIST=
QEMU_PID=
TAIL_PID=
BOOT_N=0

# qemu_cmd INITRD: sets QEMU_CMD.
qemu_cmd() {
	local initrd=$1 machine=pc,nvdimm=on,accel=tcg
	[ -z "$PERSIST" ] || machine=$machine,nvdimm-persistence=$PERSIST
	QEMU_CMD=(qemu-system-x86_64 -machine "$machine" -cpu max -smp 1 -m 1G,slots=2,maxmem=8G \
		-object "memory-backend-file,id=mem1,share=on,mem-path=$NV_IMG,size=$NV_SIZE,align=2M" \
		-device nvdimm,id=nvdimm1,memdev=mem1 \
		-kernel "$VMLINUZ" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 quiet" \
		-display none -serial stdio -monitor none -no-reboot \
		-pidfile "$WORK/qemu.pid")
}

# start_qemu VAR=VALUE...: boots in the background; sets BOOT_LOG, QEMU_PID.
start_qemu() {
	BOOT_N=$((BOOT_N + 1))
	local initrd=$WORK/initrd.$BOOT_N.img
	BOOT_LOG=$WORK/console.$BOOT_N.log
	BOOT_START=$SECONDS
	[ -n "$NV_IMG" ] || NV_IMG=$WORK/nvdimm.img
	[ -e "$NV_IMG" ] || truncate -s "$NV_SIZE" "$NV_IMG"
	boot_initrd "$initrd" "DEVDAX_TEST=$TEST" "$@"
	rm -f "$WORK/qemu.pid"
	qemu_cmd "$initrd"
	timeout -s KILL "$BOOT_TIMEOUT" "${QEMU_CMD[@]}" </dev/null >"$BOOT_LOG" 2>&1 &
	QEMU_PID=$!
	if [ "$CONSOLE" = 1 ]; then
		echo "--- boot $BOOT_N: $* (console: $BOOT_LOG) ---"
		tail -n +1 -f --pid="$QEMU_PID" -s 0.2 "$BOOT_LOG" | tr -d '\r' &
		TAIL_PID=$!
	fi
}

# qemu's own pid (the child of timeout), from -pidfile.
qemu_pid() {
	[ -s "$WORK/qemu.pid" ] && tr -d ' \n' <"$WORK/qemu.pid"
}

kill_qemu() {
	local pid
	[ -n "${QEMU_PID:-}" ] || return 0
	pid=$(qemu_pid || true)
	[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
	wait "$QEMU_PID" 2>/dev/null || true
	QEMU_PID=
	[ -z "$TAIL_PID" ] || wait "$TAIL_PID" 2>/dev/null || true
	TAIL_PID=
}

# wait_qemu: waits for the guest to power off; sets GUEST_RC from the
# console's RESULT line (255 when there is none: a crash or a timeout).
wait_qemu() {
	local status=0 line
	wait "$QEMU_PID" || status=$?
	QEMU_PID=
	# The live console ends with qemu: let it finish before the verdict.
	[ -z "$TAIL_PID" ] || wait "$TAIL_PID" 2>/dev/null || true
	TAIL_PID=
	note "boot $BOOT_N ended after $((SECONDS - BOOT_START))s"
	line=$(tr -d '\r' <"$BOOT_LOG" | grep -a '^RESULT: rc=[0-9]*$' | tail -n 1 || true)
	if [ -z "$line" ]; then
		GUEST_RC=255
		echo "devdax/$TEST: boot $BOOT_N printed no RESULT line (qemu exit status $status," \
			"137 = killed at the ${BOOT_TIMEOUT}s timeout); last console lines:"
		tr -d '\r' <"$BOOT_LOG" | tail -n 40 | sed 's/^/  | /'
		return 0
	fi
	GUEST_RC=${line#RESULT: rc=}
}

# boot VAR=VALUE...: one boot to power-off; prints the guest's PASS/FAIL
# lines and sets GUEST_RC.
boot() {
	start_qemu "$@"
	wait_qemu
	[ "$CONSOLE" = 1 ] || show_verdicts
}

# expect_pass SCRIPT: the last boot's guest script must have passed; if not,
# the console's last lines go to the test log before the verdict.
expect_pass() {
	[ "$GUEST_RC" != 0 ] || return 0
	echo "devdax/$TEST: last console lines of boot $BOOT_N ($BOOT_LOG):"
	tr -d '\r' <"$BOOT_LOG" | tail -n 60 | sed 's/^/  | /'
	fail "guest script $1: rc=$GUEST_RC"
}

show_verdicts() {
	tr -d '\r' <"$BOOT_LOG" | grep -a -E '^(PASS|FAIL|SKIP|NOTE|RESULT)' | sed 's/^/  guest: /' || true
}

# check_qemu_runs: exit 77 when qemu cannot start a VM at all (an empty
# boot: no kernel), as opposed to a guest that fails.
check_qemu_runs() {
	local out
	if ! out=$(timeout 60 qemu-system-x86_64 -machine pc,nvdimm=on,accel=tcg -display none \
		-monitor none -serial none -no-reboot -S -daemonize -pidfile "$WORK/probe.pid" 2>&1); then
		skip "qemu-system-x86_64 cannot start a VM here: $out"
	fi
	kill -KILL "$(tr -d ' \n' <"$WORK/probe.pid")" 2>/dev/null || true
}

# boot_until_kill PATTERN COUNT DELAY VAR=VALUE...: boots, waits until the
# console has COUNT lines matching PATTERN, waits DELAY seconds more, then
# SIGKILLs qemu: a power failure of the whole machine.  Fails if the guest
# powers off first.
boot_until_kill() {
	local pattern=$1 count=$2 delay=$3 pid n
	shift 3
	start_qemu "$@"
	while :; do
		n=$(grep -a -c "$pattern" "$BOOT_LOG" || true)
		[ "$n" -lt "$count" ] || break
		if ! kill -0 "$QEMU_PID" 2>/dev/null; then
			wait_qemu
			show_verdicts
			fail "boot $BOOT_N ended (rc=$GUEST_RC) after $n lines matching '$pattern', before the kill point ($count)"
		fi
		sleep 0.1
	done
	sleep "$delay"
	pid=$(qemu_pid) || fail "qemu wrote no pid file"
	kill -KILL "$pid"
	wait "$QEMU_PID" 2>/dev/null || true
	QEMU_PID=
	[ -z "$TAIL_PID" ] || wait "$TAIL_PID" 2>/dev/null || true
	TAIL_PID=
	note "boot $BOOT_N killed after $((SECONDS - BOOT_START))s"
}
