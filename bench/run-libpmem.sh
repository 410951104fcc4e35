#!/usr/bin/env bash
# run-libpmem.sh - builds pmem_bench and our libpmem.so.1 if needed, then
# runs the libpmem benchmark: PMDK's libpmem (the system's libpmem.so.1)
# against ours, alternating, one table.  Arguments go to pmem_bench
# (see --help), e.g. ./bench/run-libpmem.sh --rounds 9
# BUILD_DIR picks the build directory (default: build-bench in the repo);
# it must not be a sanitizer build.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$repo/build-bench}

fail() {
	echo "run-libpmem: $*" >&2
	exit 1
}

if [ ! -d "$build/meson-private" ]; then
	# the project's default build type (-O2), as Debian builds PMDK
	meson setup "$build" "$repo" -Dtests=false >/dev/null ||
		fail "meson setup $build: failed (see $build/meson-logs/meson-log.txt)"
fi
sanitize=$(meson introspect --buildoptions "$build" |
	python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "b_sanitize"))')
[ "$sanitize" = none ] || fail "$build: built with -Db_sanitize=$sanitize: timings would measure the sanitizer"
ninja -C "$build" bench/pmem_bench libpmem/libpmem.so.1.0.0 >/dev/null ||
	fail "ninja -C $build: building pmem_bench and libpmem failed"

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, kernel $(uname -r)"
exec "$build/bench/pmem_bench" --ours "$build/libpmem" "$@"
