#!/usr/bin/env bash
# bench/fs/profile.sh - where pmemfs-fuse spends a workload: mounts pmemfs
# alone on a fresh image, runs one workload of bench/fs/run.sh's kind, and
# prints either the FUSE requests it took, by opcode (ops mode: the daemon
# runs with -d), or the daemon's hottest symbols (perf mode: perf record
# -e cpu-clock -g on the daemon).  Unmounts and removes the image on exit.
#
#   bench/fs/profile.sh [-b BUILD] ops|perf seqwrite|seqread|randread|randwrite|meta|tarx
set -uo pipefail

prog=profile.sh
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$repo/build-fsbench}

usage() {
	echo "usage: $prog [-b BUILD] ops|perf seqwrite|seqread|randread|randwrite|meta|tarx"
	echo "  ops   count the FUSE requests of the workload, by opcode (daemon -d)"
	echo "  perf  perf record the daemon during the workload; print its top symbols"
	echo "  -b    build directory with fs/pmemfs-fuse, built by run.sh ($build)"
}

die() {
	echo "$prog: $1: $2" >&2
	exit 1
}

while getopts "b:h" opt; do
	case $opt in
	b) build=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# = 2 ] || { usage >&2; exit 2; }
mode=$1 wl=$2
[ -x "$build/fs/pmemfs-fuse" ] || die "looking for $build/fs/pmemfs-fuse" "build it first (run.sh)"
[ "$mode" = perf ] && ! command -v perf >/dev/null &&
	die "looking for perf" "not installed (apt-get install linux-perf)"

work=$(mktemp -d /tmp/pmemfs-profile.XXXXXX) || die mktemp "no scratch directory"
image=/dev/shm/pmemfs-profile-$$.img
m=$work/mnt
daemon=
cleanup() {
	grep -qs " $m " /proc/self/mounts && { umount "$m" || umount -l "$m"; }
	# a daemon that never mounted (or is stuck) gets no unmount to end it
	if [ -n "$daemon" ]; then
		for _ in $(seq 50); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$daemon" 2>/dev/null
		wait "$daemon" 2>/dev/null
	fi
	rm -f "$image"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$m"
fallocate -l 4G "$image" && "$build/mkfs/mkfs.pmemfs" "$image" >/dev/null ||
	die "mkfs.pmemfs $image" "failed"
flags=-f
[ "$mode" = ops ] && flags=-d
"$build/fs/pmemfs-fuse" "$image" "$m" $flags >"$work/log" 2>&1 &
daemon=$!
# up to 60 s: a 4 GiB image is populated at mount, slow on a busy machine
for _ in $(seq 600); do
	grep -qs " $m " /proc/self/mounts && break
	kill -0 "$daemon" 2>/dev/null || break
	sleep 0.1
done
grep -qs " $m " /proc/self/mounts || die "mounting pmemfs" "$(tail -2 "$work/log")"

fio_run() {
	fio --ioengine=psync --fallocate=none --output-format=terse --name=p "$@" >/dev/null
}
# the data the read and overwrite workloads need, made before the count
case $wl in
seqread | randread | randwrite)
	dd if=/dev/zero of="$m/seq" bs=1M count=1024 status=none
	sync
	echo 3 >/proc/sys/vm/drop_caches
	;;
tarx) tar -C /usr -cf "$work/include.tar" include ;;
meta) mkdir "$m/meta" ;;
esac
case $wl in
seqwrite) cmd=(fio_run --filename="$m/seq2" --rw=write --bs=1M --size=1G --end_fsync=1) ;;
seqread) cmd=(fio_run --filename="$m/seq" --rw=read --bs=1M --size=1G) ;;
randread) cmd=(fio_run --filename="$m/seq" --rw=randread --bs=4k --size=1G --time_based --runtime=5) ;;
randwrite) cmd=(fio_run --filename="$m/seq" --rw=randwrite --fsync=1 --bs=4k --size=1G --time_based --runtime=5) ;;
meta) cmd=("$build/bench/fs/fsmeta" -n 10000 "$m/meta") ;;
tarx) cmd=(tar -C "$m" -xf "$work/include.tar") ;;
*) usage >&2; exit 2 ;;
esac

if [ "$mode" = ops ]; then
	: >"$work/log" # only the workload's requests
	"${cmd[@]}" || die "$wl" "the workload failed"
	echo "FUSE requests of $wl on pmemfs, by opcode:"
	grep -a -o 'opcode: [A-Z_]*' "$work/log" | sort | uniq -c | sort -rn
else
	perf record -e cpu-clock -g -p "$daemon" -o "$work/perf.data" 2>/dev/null &
	rec=$!
	sleep 1
	"${cmd[@]}" || echo "$prog: $wl: the workload failed" >&2
	kill -INT $rec
	wait $rec
	echo "pmemfs-fuse during $wl: by library, then the hottest symbols (children included)"
	perf report -i "$work/perf.data" --no-children --sort dso 2>/dev/null |
		grep -v '^#' | grep '%' | grep -v -- '--' | head -6
	perf report -i "$work/perf.data" --children --sort symbol -g none 2>/dev/null |
		grep -v '^#' | grep '%' | head -30
fi
