#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (run as root):
# installs dependencies, then
#   1. plain gcc build: unit, integration, crash and devdax (qemu) suites;
#   2. persist-trace build: the crash-state explorer over libpmem's trace;
#   3. clang ASan+UBSan build (with the libFuzzer harnesses): unit and
#      integration under the sanitizers, then a short fuzz run.
# Exits non-zero on any failure.  The builds are shared with
# scripts/nightly.sh (scripts/lib/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/build.sh

bash scripts/deps.sh

JOBS=$BUILD_JOBS
PHASE_START=$SECONDS
START=$PHASE_START

phase "plain build"
build_plain build
meson test -C build --print-errorlogs --num-processes "$JOBS" --suite unit --suite integration --suite crash
phase "devdax suite: a real device-DAX namespace in qemu (tests/devdax/)"
meson test -C build --print-errorlogs --num-processes "$JOBS" --suite devdax

phase "persist-trace build: crash states"
build_trace build-trace
meson test -C build-trace --no-rebuild --print-errorlogs --suite crash crash_states trace_file

phase "ASan+UBSan build"
build_san build-san
san_env
meson test -C build-san --print-errorlogs --num-processes "$JOBS" --suite unit --suite integration
phase "short fuzz run (30 s per harness)"
meson test -C build-san --no-rebuild --print-errorlogs --suite crash fuzz_mount_30s fuzz_fsck_30s

phase "done"
echo "pmemfs: all test suites passed in $((SECONDS - START)) s"
