#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (run as root):
# installs dependencies, then
#   1. plain gcc build: unit, integration, crash and devdax (qemu) suites;
#   2. persist-trace build: the crash-state explorer over libpmem's trace;
#   3. clang ASan+UBSan build (with the libFuzzer harnesses): unit and
#      integration under the sanitizers, then a short fuzz run.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh

JOBS=$(nproc)
START=$SECONDS
phase() { printf '\n=== %s (at %ds)\n' "$*" $((SECONDS - START)); }

phase "plain build"
[ -d build/meson-private ] || meson setup build --buildtype=debugoptimized
ninja -C build -j "$JOBS"
meson test -C build --print-errorlogs --num-processes "$JOBS" --suite unit --suite integration --suite crash
phase "devdax suite: a real device-DAX namespace in qemu (tests/devdax/)"
meson test -C build --print-errorlogs --num-processes "$JOBS" --suite devdax

phase "persist-trace build: crash states"
[ -d build-trace/meson-private ] || meson setup build-trace --buildtype=debugoptimized -Dpersist_trace=true
ninja -C build-trace -j "$JOBS" tests/crash/explore tests/crash/trace_replay fs/pmemfs-fuse mkfs/mkfs.pmemfs
meson test -C build-trace --no-rebuild --print-errorlogs --suite crash crash_states trace_file

phase "ASan+UBSan build"
# clang: its sanitizer runtime also serves the libFuzzer harnesses.
[ -d build-san/meson-private ] ||
	CC=clang meson setup build-san --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true
ninja -C build-san -j "$JOBS"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
meson test -C build-san --print-errorlogs --num-processes "$JOBS" --suite unit --suite integration
phase "short fuzz run (30 s per harness)"
meson test -C build-san --no-rebuild --print-errorlogs --suite crash fuzz_mount_30s fuzz_fsck_30s

phase "done"
echo "pmemfs: all test suites passed in $((SECONDS - START)) s"
