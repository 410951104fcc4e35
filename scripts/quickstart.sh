#!/usr/bin/env bash
# quickstart.sh - from a fresh Debian 12 (as root) to a mounted pmemfs:
# installs the dependencies, builds, creates a 1 GiB emulated device in
# /dev/shm, formats it unless it already holds pmemfs, mounts it, and says
# what to try.  Running it again is safe: an existing mount is reported and
# left alone.
#
# PMEMFS_IMAGE and PMEMFS_MOUNT override the device and the mountpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

IMG=${PMEMFS_IMAGE:-/dev/shm/pmemfs.img}
MNT=${PMEMFS_MOUNT:-/mnt/pmemfs}
SIZE=1G

die() {
	echo "quickstart: $*" >&2
	exit 1
}

# The superblock starts with the magic "\0PMEMFS\0" (fs/media.h).
holds_pmemfs() {
	[ -f "$1" ] && [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 00504d454d465300 ]
}

is_mounted() {
	findmnt -n --mountpoint "$1" >/dev/null 2>&1
}

print_tips() {
	cat <<TIPS

pmemfs is mounted at $MNT (device: $IMG, $(df -h --output=size "$MNT" | tail -1 | tr -d ' ') in all).
Things to try:
  ls -la $MNT
  cp -r /usr/include/linux $MNT/ && du -sh $MNT/linux
  df -h $MNT
  $REPO/build/libpmem/examples/pmem_hello $MNT/hello   # libpmem on a pmemfs file; run it twice
  $REPO/build/fs/pmemfs-fuse --help    # options (ro, writeback_cache, ...)
Unmount:
  umount $MNT                                     # or: fusermount3 -u $MNT
The daemon logs to syslog (journalctl -t pmemfs-fuse).  See docs/DAEMON.md.
TIPS
}

[ "$(id -u)" -eq 0 ] || die "run me as root: I install packages with apt-get and mount a file system"
[ -c /dev/fuse ] || die "/dev/fuse is missing: load the fuse module (modprobe fuse)"

if is_mounted "$MNT"; then
	type=$(findmnt -n -o FSTYPE --mountpoint "$MNT")
	[ "$type" = fuse.pmemfs ] || die "$MNT already has a $type file system mounted; set PMEMFS_MOUNT to another directory"
	echo "quickstart: pmemfs is already mounted at $MNT; leaving it as it is"
	print_tips
	exit 0
fi

echo "quickstart: installing dependencies"
bash scripts/deps.sh

echo "quickstart: building in build/"
[ -d build/meson-private ] || meson setup build --buildtype=debugoptimized >/dev/null
ninja -C build >/dev/null || die "the build failed: run 'ninja -C build' to see why"

if holds_pmemfs "$IMG"; then
	echo "quickstart: $IMG already holds pmemfs; keeping its contents"
else
	[ ! -e "$IMG" ] || [ ! -s "$IMG" ] || die "$IMG exists and is not pmemfs; remove it or set PMEMFS_IMAGE"
	echo "quickstart: creating a $SIZE emulated device $IMG and formatting it"
	build/mkfs/mkfs.pmemfs --size "$SIZE" "$IMG" || die "mkfs.pmemfs $IMG failed"
fi

mkdir -p "$MNT"
build/fs/pmemfs-fuse "$IMG" "$MNT" || die "pmemfs-fuse could not mount $IMG at $MNT (message above)"
print_tips
