#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (run as root):
# installs dependencies, builds twice (plain and ASan+UBSan) and runs the
# unit, integration, crash and devdax (qemu) suites, then unit and
# integration under the sanitizers.  Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh

JOBS=$(nproc)
if [ ! -d build/meson-private ]; then
	meson setup build --buildtype=debugoptimized
fi
ninja -C build -j "$JOBS"
meson test -C build --print-errorlogs --num-processes "$JOBS" --suite unit --suite integration --suite crash
# A real device-DAX namespace: qemu with an emulated NVDIMM (tests/devdax/).
meson test -C build --print-errorlogs --num-processes "$JOBS" --suite devdax

if [ ! -d build-san/meson-private ]; then
	# clang: its sanitizer runtime also serves the libFuzzer harnesses.
	CC=clang meson setup build-san --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
fi
ninja -C build-san -j "$JOBS"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-san --print-errorlogs --num-processes "$JOBS" --suite unit --suite integration
echo "pmemfs: all test suites passed"
