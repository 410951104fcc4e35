# scripts/lib/build.sh - sourced by scripts/test.sh (CI) and
# scripts/nightly.sh (the scheduled job): the three builds they share and
# the phase banner.  Each setup function configures DIR once (kept between
# runs) and builds it; the caller's 'set -e' stops on a failure.
#   BUILD_JOBS  parallel jobs (default: nproc)

BUILD_JOBS=${BUILD_JOBS:-$(nproc)}
PHASE_START=${PHASE_START:-$SECONDS}

phase() { printf '\n=== %s (at %ds)\n' "$*" $((SECONDS - PHASE_START)); }

# Plain gcc build: every suite but the trace-only and fuzz tests.
build_plain() {
	local dir=$1
	[ -d "$dir/meson-private" ] || meson setup "$dir" --buildtype=debugoptimized
	ninja -C "$dir" -j "$BUILD_JOBS"
}

# libpmem with the persist-trace recorder: only what the crash-state
# explorer and the trace test need.
build_trace() {
	local dir=$1
	[ -d "$dir/meson-private" ] || meson setup "$dir" --buildtype=debugoptimized -Dpersist_trace=true
	ninja -C "$dir" -j "$BUILD_JOBS" tests/crash/explore tests/crash/trace_replay fs/pmemfs-fuse \
		mkfs/mkfs.pmemfs
}

# clang with ASan+UBSan, and the libFuzzer harnesses (clang's sanitizer
# runtime also serves them).
build_san() {
	local dir=$1
	[ -d "$dir/meson-private" ] ||
		CC=clang meson setup "$dir" --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true
	ninja -C "$dir" -j "$BUILD_JOBS"
}

san_env() {
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
}
