#!/usr/bin/env bash
# bench/dmap/run.sh - formats a 2 GiB emulated device, mounts pmemfs-fuse
# on it, runs dmap_bench on a 1 GiB file (three ways side by side),
# unmounts and cleans up.  The device and the raw reference file live in
# one tmpfs: as root, a private one with huge=always (the 2 MiB alignment
# mkfs records lets the direct map use huge pages, as on devdax); else, or
# with DMAP_BENCH_DIR set, that directory (default /dev/shm).
#   BUILD_DIR=/tmp/build-dmap bench/dmap/run.sh [SECONDS_PER_CELL [ROUNDS]]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$repo/build}
secs=${1:-1}
rounds=${2:-5}
for p in fs/pmemfs-fuse mkfs/mkfs.pmemfs bench/dmap/dmap_bench; do
	[ -x "$build/$p" ] || { echo "run.sh: $build/$p missing (ninja -C $build $p)" >&2; exit 1; }
done
dir=${DMAP_BENCH_DIR:-}
own_tmpfs=
if [ -z "$dir" ] && [ "$(id -u)" = 0 ]; then
	own_tmpfs=$(mktemp -d /tmp/dmap-bench-tmpfs.XXXXXX)
	mount -t tmpfs -o size=3G,huge=always dmapbench "$own_tmpfs"
	dir=$own_tmpfs
fi
dir=${dir:-/dev/shm}
img=$dir/dmap-bench-$$.img
raw=$dir/dmap-bench-raw-$$
mnt=$(mktemp -d /tmp/dmap-bench.XXXXXX)
pid=
cleanup() {
	set +e
	mountpoint -q "$mnt" && fusermount3 -u "$mnt"
	[ -n "$pid" ] && wait "$pid" 2>/dev/null
	rm -f "$img" "$raw"
	rmdir "$mnt"
	[ -n "$own_tmpfs" ] && umount "$own_tmpfs" && rmdir "$own_tmpfs"
}
trap cleanup EXIT
truncate -s 2G "$img"
"$build/mkfs/mkfs.pmemfs" "$img" >/dev/null
"$build/fs/pmemfs-fuse" "$img" "$mnt" -f &
pid=$!
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.05; done
mountpoint -q "$mnt" || { echo "run.sh: mount failed" >&2; exit 1; }
echo "files in $dir ($(findmnt -n -o FSTYPE,OPTIONS -T "$dir" | head -1 | cut -c1-60))"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
"$build/bench/dmap/dmap_bench" "$mnt/bench.dat" "$raw" 1024 "$secs" "$rounds"
