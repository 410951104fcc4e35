#!/usr/bin/env bash
# trace_file.sh - the recorder's file mode (PMEM_TRACE_FILE) on real
# processes: mkfs.pmemfs formats a zeroed image, then pmemfs-fuse mounts it
# and serves a few operations; each time the image rebuilt from the trace
# must equal the real image byte for byte.
set -euo pipefail
: "${PMEMFS_FUSE:?}" "${MKFS_PMEMFS:?}" "${TRACE_REPLAY:?}"
work=$(mktemp -d /tmp/pmemfs-trace-file.XXXXXX)
img=/dev/shm/pmemfs-trace-file-$$.img
pid=
cleanup() {
	set +e
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	grep -q " $work/mnt " /proc/self/mounts && fusermount3 -u -z "$work/mnt"
	rm -rf "$work" "$img"
}
trap cleanup EXIT
truncate -s 8M "$img"
cp "$img" "$work/base"
PMEM_TRACE_FILE=$work/mkfs.trace "$MKFS_PMEMFS" "$img" >/dev/null
"$TRACE_REPLAY" "$work/mkfs.trace" "$work/base" "$img"

[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse for the daemon part"; exit 0; }
cp "$img" "$work/base"
mkdir "$work/mnt"
PMEM_TRACE_FILE=$work/daemon.trace "$PMEMFS_FUSE" "$img" "$work/mnt" -f >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 200); do grep -q " $work/mnt " /proc/self/mounts && break; sleep 0.05; done
mkdir "$work/mnt/d"
head -c 100000 /dev/urandom >"$work/mnt/d/f"
mv "$work/mnt/d/f" "$work/mnt/g"
setfattr -n user.a -v 1 "$work/mnt/g" 2>/dev/null || true
rm "$work/mnt/g"
fusermount3 -u "$work/mnt"
wait "$pid"
pid=
"$TRACE_REPLAY" "$work/daemon.trace" "$work/base" "$img"
