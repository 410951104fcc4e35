#!/usr/bin/env bash
# bench/fs/run.sh - the pmemfs file-system benchmark: builds what it needs,
# mounts pmemfs and every reference itself, runs each workload on each of
# them back to back (so a busy machine slows all alike), prints one table
# with the ratios and the PASS/MISS of each target, draws a PNG, and always
# cleans up: unmounts everything and removes the images, also on failure
# or Ctrl-C.  A workload that fails or crashes a daemon is reported as
# FAILED with the reason, the daemon is restarted, and the run goes on.
#
# References: R0 bench/fs/fuse_null (the FUSE ceiling), R1 libfuse's
# passthrough_ll over tmpfs, R2 the same with -o writeback, R3 raw tmpfs.
# Run as root (mounts, drop_caches).  See bench/fs/README.md.
set -uo pipefail

prog=run.sh
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$repo/build-fsbench}
out=${OUT_DIR:-/tmp/pmemfs-fsbench}
seq_mib=1024       # sequential file size
writer_mib=512     # file per writer in the 1-vs-2 writers test...
writer_secs=3      # ...written over and over for this long
runtime=10         # seconds of each random workload
nfiles=50000       # metadata workload
image_size=4G      # pmemfs emulated device in /dev/shm
wl_timeout=240     # seconds before one command of a workload is killed
rounds=1           # each value is the median of this many rounds
systems="pmemfs null pt ptwb tmpfs"
workloads="seqwrite seqread randread randwrite writers meta tar"
pmemfs_opts=()
examples=/usr/share/doc/libfuse3-dev/examples

usage() {
	cat <<EOF
usage: $prog [options]

Benchmarks pmemfs (pmemfs-fuse on a $image_size emulated device in /dev/shm)
against R0 a do-nothing FUSE server (bench/fs/fuse_null), R1 libfuse's
passthrough_ll over tmpfs, R2 passthrough_ll -o writeback, R3 raw tmpfs.
Needs root, /dev/fuse, fio, gnuplot. Takes about 6 minutes.

  -o DIR        where results.tsv, table.txt, fsbench.png go ($out)
  -b DIR        build directory, set up if missing ($build)
  -s MIB        sequential file size in MiB ($seq_mib)
  -t SECONDS    duration of each random workload ($runtime)
  -n FILES      files in the metadata workload ($nfiles)
  -N            do not build: use the binaries already in the build directory
  -w LIST       workloads, among: $workloads
  -R N          run every workload N times, report medians ($rounds)
  -r LIST       systems, among: $systems (pmemfs is always run)
  -O OPTS       extra pmemfs-fuse options, e.g. -O "-o no_uring" (none)
  -h            this help
EOF
}

die() {
	echo "$prog: $1: $2" >&2
	exit 1
}

nobuild=0
while getopts "o:b:s:t:n:w:r:R:O:Nh" opt; do
	case $opt in
	o) out=$OPTARG ;;
	b) build=$OPTARG ;;
	s) seq_mib=$OPTARG ;;
	t) runtime=$OPTARG ;;
	n) nfiles=$OPTARG ;;
	w) workloads=$OPTARG ;;
	N) nobuild=1 ;;
	R) rounds=$OPTARG ;;
	r) systems="pmemfs ${OPTARG//pmemfs/}" ;;
	O) read -ra pmemfs_opts <<<"$OPTARG" ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

[ "$(id -u)" = 0 ] || die "checking permissions" "run as root (mounts and drop_caches)"
[ -c /dev/fuse ] || die "checking /dev/fuse" "no FUSE device"
for tool in fio gnuplot python3 tar cc pkg-config meson ninja; do
	command -v $tool >/dev/null || die "looking for $tool" "not installed (bash scripts/deps.sh)"
done

# --- build ---------------------------------------------------------------
mkdir -p "$out" || die "mkdir $out" "cannot create the output directory"
if [ $nobuild = 1 ]; then
	: # the caller built them (e.g. while someone's file does not compile)
elif [ ! -d "$build/meson-private" ]; then
	# -O3 release code is what users run; -Werror stays the test suite's
	# job (scripts/test.sh): gcc's -O3 warnings must not stop a measurement.
	meson setup "$build" "$repo" --buildtype=release -Dtests=false -Dwerror=false >/dev/null ||
		die "meson setup $build" "failed (see $build/meson-logs/meson-log.txt)"
fi
if [ $nobuild = 0 ]; then
	ninja -C "$build" fs/pmemfs-fuse mkfs/mkfs.pmemfs bench/fs/fuse_null bench/fs/fsmeta \
		>"$out/build.log" 2>&1 ||
		die "ninja -C $build" "building pmemfs-fuse, mkfs.pmemfs, fuse_null or fsmeta failed: $(grep -m1 error: "$out/build.log")"
fi
pmemfs_fuse=$build/fs/pmemfs-fuse
mkfs=$build/mkfs/mkfs.pmemfs
fuse_null=$build/bench/fs/fuse_null
fsmeta=$build/bench/fs/fsmeta

# --- scratch space and cleanup -------------------------------------------
work=$(mktemp -d /tmp/pmemfs-fsbench.XXXXXX) || die "mktemp" "cannot make a scratch directory"
tmp=$work/tmpfs        # one tmpfs: R1/R2 backing dirs, R3, the tar archive
image=/dev/shm/pmemfs-fsbench-$$.img
declare -A pid mnt
mnt[pmemfs]=$work/mnt-pmemfs
mnt[null]=$work/mnt-null
mnt[pt]=$work/mnt-pt
mnt[ptwb]=$work/mnt-ptwb
mnt[tmpfs]=$tmp/raw

is_mounted() {
	grep -qs " $1 " /proc/self/mounts
}

stop_sys() {
	local s=$1 p=${pid[$1]:-} i

	[ "$s" = tmpfs ] && return 0
	if is_mounted "${mnt[$s]}"; then
		timeout 30 umount "${mnt[$s]}" 2>/dev/null || umount -l "${mnt[$s]}" 2>/dev/null
	fi
	if [ -n "$p" ]; then
		for i in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.2
		done
		kill -TERM "$p" 2>/dev/null && sleep 1
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	fi
	pid[$s]=
	return 0
}

cleanup() {
	trap - EXIT INT TERM
	for s in pmemfs null pt ptwb; do
		stop_sys "$s"
	done
	if is_mounted "$tmp"; then
		umount "$tmp" 2>/dev/null || umount -l "$tmp"
	fi
	rm -f "$image"
	rm -rf "$work"
}
trap cleanup EXIT
# fd 3: the script's stderr, also while a workload's stderr is captured
exec 3>&2
trap 'echo "$prog: interrupted: unmounting and cleaning up" >&3; exit 130' INT TERM

mkdir -p "$out" "$tmp" "${mnt[pmemfs]}" "${mnt[null]}" "${mnt[pt]}" "${mnt[ptwb]}" ||
	die "mkdir $out" "cannot create the output or scratch directories"
mount -t tmpfs -o size=12G fsbench "$tmp" || die "mount tmpfs on $tmp" "refused"
mkdir -p "$tmp/raw" "$tmp/pt" "$tmp/ptwb"

# passthrough_ll compiled as shipped (Debian may gzip the examples).
for f in passthrough_ll.c passthrough_helpers.h; do
	if [ -f "$examples/$f" ]; then
		cp "$examples/$f" "$work/$f"
	elif [ -f "$examples/$f.gz" ]; then
		zcat "$examples/$f.gz" >"$work/$f"
	else
		die "looking for $examples/$f" "not found (apt-get install libfuse3-dev)"
	fi
done
# shellcheck disable=SC2046
cc -O2 -o "$work/passthrough_ll" "$work/passthrough_ll.c" $(pkg-config --cflags --libs fuse3) \
	2>"$work/cc.log" || die "compiling passthrough_ll.c" "$(head -3 "$work/cc.log")"

tar -C /usr -cf "$tmp/include.tar" include 2>/dev/null ||
	die "tar c /usr/include" "cannot build the tar workload's archive"
# Allocated up front: a pmem namespace's memory all exists, while a sparse
# file would charge page allocation to the first write of every block.
fallocate -l "$image_size" "$image" || die "fallocate -l $image_size $image" "no room in /dev/shm?"
"$mkfs" "$image" >"$work/mkfs.log" 2>&1 ||
	die "mkfs.pmemfs $image" "$(tail -1 "$work/mkfs.log")"

# --- systems -------------------------------------------------------------
# passthrough_ll holds an O_PATH descriptor for every inode the kernel
# knows; fsmeta -d keeps that number down, and a higher limit helps too.
ulimit -n $((nfiles * 2 + 10000)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# Each FUSE daemon runs in the foreground as our child, so we know its pid
# (for its CPU time) and its log tells why it died.
start_sys() {
	local s=$1 m=${mnt[$1]} i

	case $s in
	tmpfs) return 0 ;;
	pmemfs) "$pmemfs_fuse" "$image" "$m" -f "${pmemfs_opts[@]}" >>"$work/log.$s" 2>&1 & ;;
	null) "$fuse_null" "$m" -f -o file_cap=$(((seq_mib > writer_mib ? seq_mib : writer_mib) << 20)) \
		>>"$work/log.$s" 2>&1 & ;;
	pt) "$work/passthrough_ll" -f -o source="$tmp/pt" "$m" >>"$work/log.$s" 2>&1 & ;;
	ptwb) "$work/passthrough_ll" -f -o writeback -o source="$tmp/ptwb" "$m" \
		>>"$work/log.$s" 2>&1 & ;;
	esac
	pid[$s]=$!
	# up to 60 s while the daemon lives: the first mount of pmemfs's 4 GiB
	# image populates its mapping (3.7 s here, over 10 s once)
	for i in $(seq 600); do
		is_mounted "$m" && return 0
		kill -0 "${pid[$s]}" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

alive() {
	[ "$1" = tmpfs ] && return 0
	[ -n "${pid[$1]:-}" ] && kill -0 "${pid[$1]}" 2>/dev/null && is_mounted "${mnt[$1]}"
}

last_log() {
	tail -n 2 "$work/log.$1" 2>/dev/null | tr '\n' ' '
}

# --- measuring -----------------------------------------------------------
record() { # workload system value-or-"FAILED: why"
	printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$out/results.tsv"
}

run() { # a command of a workload, killed if it hangs
	timeout -k 5 "$wl_timeout" "$@"
}

drop_caches() { # mountpoint: writes its dirty pages back, drops clean ones
	# syncfs of this mount only: a global sync would wait for the disks
	# of whatever else runs on the machine
	sync -f "$1"
	echo 3 >/proc/sys/vm/drop_caches
}

fio_job() { # json-file fio-args...: fio with the options every job shares
	local json=$1
	shift
	run fio --output-format=json --output="$json" --ioengine=psync --direct=0 \
		--fallocate=none "$@" >/dev/null
}

fio_get() { # json-file read|write bw_bytes|iops
	python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0][sys.argv[2]]
print(j[sys.argv[3]] / (1048576.0 if sys.argv[3] == "bw_bytes" else 1))' "$@"
}

cpu_seconds() { # pid: user+system CPU of the whole process, in seconds
	local hz
	hz=$(getconf CLK_TCK)
	sed 's/^.*) //' "/proc/$1/stat" | awk -v hz="$hz" '{ printf "%.3f", ($12 + $13) / hz }'
}

now() {
	date +%s.%N
}

elapsed() {
	awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'
}

have_seq_file() { # make the sequential file if an earlier workload did not
	local f=$1
	[ "$(stat -c %s "$f" 2>/dev/null)" = $((seq_mib << 20)) ] && return 0
	run dd if=/dev/zero of="$f" bs=1M count="$seq_mib" conv=fsync status=none
}

# Each wl_* function takes a system and mountpoint, prints "key value"
# lines, and returns non-zero with the reason on stderr if it failed.
wl_seqwrite() {
	local s=$1 m=$2 j=$work/fio.json cpu0=0 cpu1 t0
	# created empty beforehand: neither the clock nor the CPU count sees
	# the create (nor fuse_null populating its memory)
	rm -f "$m/seq"
	: >"$m/seq" || return 1
	[ "$s" != tmpfs ] && cpu0=$(cpu_seconds "${pid[$s]}")
	fio_job "$j" --name=seqwrite --filename="$m/seq" --rw=write --bs=1M \
		--size="${seq_mib}M" --end_fsync=1 || return 1
	echo "seqwrite $(fio_get "$j" write bw_bytes)"
	if [ "$s" != tmpfs ]; then
		cpu1=$(cpu_seconds "${pid[$s]}")
		awk -v a="$cpu0" -v b="$cpu1" -v mib="$seq_mib" \
			'BEGIN { printf "cpu %.3f\n", (b - a) * 1024 / mib }'
	fi
	# the same through a write-only open, as cp, dd and tar x open
	# (fio opens read-write); pmemfs serves both past the page cache
	rm -f "$m/seqwo"
	: >"$m/seqwo" || return 1
	t0=$(now)
	run dd if=/dev/zero of="$m/seqwo" bs=1M count="$seq_mib" conv=notrunc,fsync \
		status=none || return 1
	awk -v t="$(elapsed "$t0")" -v mib="$seq_mib" 'BEGIN { printf "seqwritewo %.1f\n", mib / t }'
	rm -f "$m/seqwo"
}

wl_seqread() {
	local m=$2 j=$work/fio.json
	have_seq_file "$m/seq" || return 1
	drop_caches "$m"
	fio_job "$j" --name=seqread --filename="$m/seq" --rw=read --bs=1M \
		--size="${seq_mib}M" || return 1
	echo "seqread $(fio_get "$j" read bw_bytes)"
}

wl_randread() {
	local m=$2 j=$work/fio.json
	have_seq_file "$m/seq" || return 1
	drop_caches "$m"
	fio_job "$j" --name=randread --filename="$m/seq" --rw=randread --bs=4k \
		--size="${seq_mib}M" --time_based --runtime="$runtime" || return 1
	echo "randread $(fio_get "$j" read iops)"
}

wl_randwrite() {
	local m=$2 j=$work/fio.json
	have_seq_file "$m/seq" || return 1
	fio_job "$j" --name=randwrite --filename="$m/seq" --rw=randwrite --bs=4k \
		--fsync=1 --size="${seq_mib}M" --time_based --runtime="$runtime" || return 1
	echo "randwrite $(fio_get "$j" write iops)"
	rm -f "$m/seq"
}

wl_writers() {
	local m=$2 j=$work/fio.json n
	rm -f "$m/seq"
	for n in 1 2; do
		# fio's file names; made beforehand, as for wl_seqwrite
		: >"$m/w$n.0.0" || return 1
		[ $n = 1 ] || : >"$m/w$n.1.0" || return 1
		# time-based: one 512 MiB pass took pmemfs 0.1 s, where fio's
		# start-up skew between two jobs moved the ratio 1.2x-2x
		fio_job "$j" --name="w$n" --directory="$m" --rw=write --bs=1M \
			--size="${writer_mib}M" --numjobs="$n" --group_reporting \
			--time_based --runtime="$writer_secs" --end_fsync=1 || return 1
		echo "w$n $(fio_get "$j" write bw_bytes)"
		rm -f "$m/w$n".*
	done
}

wl_meta() {
	local m=$2
	run rm -rf "$m/meta" # left over by a failed round
	mkdir "$m/meta" || return 1
	# cold kernel caches per phase, and evicted every 10000 files: see fsmeta.c
	run "$fsmeta" -n "$nfiles" -d 10000 "$m/meta" || return 1
	rmdir "$m/meta"
}

wl_tar() {
	local m=$2 t0
	rm -rf "$m/tarx"
	mkdir "$m/tarx" || return 1
	t0=$(now)
	run tar -C "$m/tarx" -xf "$tmp/include.tar" || return 1
	echo "tarx $(elapsed "$t0")"
	drop_caches "$m"
	t0=$(now)
	# into a file, not /dev/null, which GNU tar would not even read for
	run tar -C "$m/tarx" -cf "$tmp/out.tar" include || return 1
	echo "tarc $(elapsed "$t0")"
	rm -f "$tmp/out.tar"
	run rm -rf "$m/tarx"
}

keys_of() {
	case $1 in
	seqwrite) echo "seqwrite cpu seqwritewo" ;;
	writers) echo "w1 w2" ;;
	meta) echo "create stat unlink" ;;
	tar) echo "tarx tarc" ;;
	*) echo "$1" ;;
	esac
}

# Runs workload $1 on system $2; records its values or why it failed.
measure() {
	local w=$1 s=$2 k why rc got=$work/got
	if ! alive "$s"; then
		stop_sys "$s"
		if ! start_sys "$s"; then
			why="FAILED: $s does not mount: $(last_log "$s")"
			for k in $(keys_of "$w"); do record "$k" "$s" "$why"; done
			echo "  $w on $s: $why" >&2
			return
		fi
	fi
	: >"$got"
	"wl_$w" "$s" "${mnt[$s]}" >"$got" 2>"$work/err"
	rc=$?
	while read -r k v _; do
		record "$k" "$s" "$v"
	done <"$got"
	[ $rc = 0 ] && return
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		why="timed out after ${wl_timeout}s"
	else
		why=$(grep -v '^$' "$work/err" | tail -n 2 | tr '\n' ' ')
	fi
	if ! alive "$s"; then
		wait "${pid[$s]}" 2>/dev/null
		rc=$?
		[ $rc -gt 128 ] && why="$why; daemon killed by signal $((rc - 128))"
		why="$why; daemon died: $(last_log "$s")"
	fi
	for k in $(keys_of "$w"); do
		grep -q "^$k " "$got" || record "$k" "$s" "FAILED: $why"
	done
	echo "  $w on $s: FAILED: $why" >&2
	alive "$s" && [ $rc != 124 ] && [ $rc != 137 ] && return
	stop_sys "$s" # hung or dead: the next workload gets a fresh daemon
}

# --- the run ---------------------------------------------------------------
machine="$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, kernel $(uname -r)"
echo "machine: $machine"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$out/results.tsv"
for s in $systems; do
	start_sys "$s" || echo "  $s: does not mount: $(last_log "$s")" >&2
done
for r in $(seq "$rounds"); do
	for w in $workloads; do
		for s in $systems; do
			case $w:$s in
			meta:null | tar:null) continue ;; # R0 holds a few files, no dirs
			esac
			t0=$(now)
			measure "$w" "$s"
			echo "  round $r: $w on $s: $(elapsed "$t0") s" >&2
		done
	done
done
for s in $systems; do
	stop_sys "$s"
done

{
	echo "machine: $machine"
	echo "pmemfs $(git -C "$repo" rev-parse --short HEAD 2>/dev/null), fio $(fio --version)," \
		"load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	python3 "$here/report.py" "$out/results.tsv" "$out/plot.dat"
} >"$out/table.txt" || die "report.py" "cannot summarise $out/results.tsv"
cat "$out/table.txt"
if gnuplot -e "datafile='$out/plot.dat'; outfile='$out/fsbench.png'; subtitle='$machine'" \
	"$here/plot.gp" 2>"$work/gnuplot.log"; then
	echo "plot: $out/fsbench.png"
else
	echo "$prog: gnuplot: $(head -2 "$work/gnuplot.log")" >&2
fi
