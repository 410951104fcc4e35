#!/usr/bin/env bash
# scripts/nightly.sh - the scheduled (nightly) reliability run: the same
# builds as scripts/test.sh (scripts/lib/build.sh), then the checks of
# docs/RELIABILITY.md with budgets too large for CI, and a summary of the
# figures.  Entry point of the scheduled job: .ci/nightly.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
	cat <<'EOT'
usage: scripts/nightly.sh [--quick] [--prefix DIR] [--no-deps] [--help]

Builds DIR (gcc), DIR-trace (persist trace) and DIR-san (clang ASan+UBSan
with the libFuzzer harnesses), as scripts/test.sh does, then runs:
  1. crash states (tests/crash/explore): CRASH_K=3, CRASH_BUDGET=100000
  2. SIGKILL loop (tests/crash/kill_loop.sh): 1000 iterations
  3. fault injection: core_fault (ENOSPC/ENOMEM) and core_eio (EIO)
  4. fuzzing: fuzz_mount and fuzz_fsck, 600 s each
and prints the figures (crash states and violations, kill iterations
survived, fault points injected, fuzz executions and crashes).

  --quick       a run of a few minutes to check the script end to end:
                K=2 with 8 states per window, 5 kill iterations, 20 s of
                fuzzing per harness
  --prefix DIR  build directories DIR, DIR-trace, DIR-san (default: build)
  --no-deps     do not run scripts/deps.sh (dependencies already there)
  --help        this text

Environment overrides: NIGHTLY_CRASH_K, NIGHTLY_CRASH_BUDGET,
NIGHTLY_KILL_ITERATIONS, NIGHTLY_FUZZ_SECONDS, KILL_SEED, CRASH_SEED,
BUILD_JOBS.  Exits non-zero if any check fails (after printing the
figures gathered so far).
EOT
}

prefix=build deps=1 quick=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--prefix)
		[ $# -ge 2 ] || { echo "nightly.sh: --prefix needs a directory" >&2; exit 2; }
		prefix=$2
		shift
		;;
	--no-deps) deps=0 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "nightly.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done

if [ $quick = 1 ]; then
	crash_k=2 crash_budget=8 kill_iter=5 fuzz_secs=20
else
	crash_k=3 crash_budget=100000 kill_iter=1000 fuzz_secs=600
fi
crash_k=${NIGHTLY_CRASH_K:-$crash_k}
crash_budget=${NIGHTLY_CRASH_BUDGET:-$crash_budget}
kill_iter=${NIGHTLY_KILL_ITERATIONS:-$kill_iter}
fuzz_secs=${NIGHTLY_FUZZ_SECONDS:-$fuzz_secs}

source scripts/lib/build.sh
[ $deps = 0 ] || bash scripts/deps.sh
PHASE_START=$SECONDS

logs=$(mktemp -d /tmp/pmemfs-nightly.XXXXXX)
failed=()
summary=()

# run NAME LOGFILE COMMAND...: runs a check, keeps its output, notes a failure.
run() {
	local name=$1 log=$logs/$2
	shift 2
	if "$@" >"$log" 2>&1; then
		echo "$name: passed"
	else
		echo "$name: FAILED (log: $log)"
		tail -n 40 "$log"
		failed+=("$name")
	fi
}

# fig PATTERN LOG: the last line of LOG matching PATTERN, or nothing (a
# check that failed early leaves no figure; that must not stop the run).
fig() {
	grep -h "$1" "$2" | tail -1 || true
}

# meson test of one test, without a timeout (the budgets are the limit),
# printing the test's own output into the log.
mtest() {
	meson test -C "$1" --no-rebuild --timeout-multiplier 0 -v "${@:2}"
}

phase "builds: $prefix, $prefix-trace, $prefix-san"
build_plain "$prefix"
build_trace "$prefix-trace"
build_san "$prefix-san"

phase "crash states: K=$crash_k, budget $crash_budget per window"
CRASH_K=$crash_k CRASH_BUDGET=$crash_budget run crash_states crash.log \
	mtest "$prefix-trace" --suite crash crash_states
summary+=("$(fig '^crash states checked:' "$logs/crash.log")")
summary+=("$(sed -n '/^per operation type:/,/^crash states checked/p' "$logs/crash.log" |
	{ grep -v '^crash states checked' || true; } | sed 's/^/    /')")

phase "SIGKILL loop: $kill_iter iterations"
KILL_ITERATIONS=$kill_iter run kill_loop kill.log mtest "$prefix" --suite crash kill_loop
summary+=("$(fig '^kill iterations survived:' "$logs/kill.log")")

phase "fault injection: ENOSPC/ENOMEM and EIO"
run core_fault fault.log mtest "$prefix" --suite unit core_fault
run core_eio eio.log mtest "$prefix" --suite unit core_eio
summary+=("ENOSPC/ENOMEM $(fig '^fault points injected:' "$logs/fault.log")")
summary+=("$(fig '^EIO points injected:' "$logs/eio.log")")

phase "fuzzing: $fuzz_secs s per harness"
san_env
for h in mount fsck; do
	FUZZ_SECONDS=$fuzz_secs run "fuzz_$h" "fuzz_$h.log" \
		mtest "$prefix-san" --suite crash "fuzz_${h}_30s"
	execs=$(fig 'stat::number_of_executed_units:' "$logs/fuzz_$h.log" | awk '{ print $2 }')
	crashes=$(grep -c 'reproducer saved as' "$logs/fuzz_$h.log" || true)
	summary+=("fuzz_$h: ${execs:-?} executions in $fuzz_secs s, $crashes crashes")
done

phase "figures"
for line in "${summary[@]}"; do
	[ -n "$line" ] && printf '%s\n' "$line"
done
echo "logs: $logs"
if [ ${#failed[@]} -gt 0 ]; then
	echo "nightly: FAILED: ${failed[*]}"
	exit 1
fi
echo "nightly: all checks passed in $((SECONDS - PHASE_START)) s"
