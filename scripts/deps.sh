#!/usr/bin/env bash
# Installs everything pmemfs needs to build and test on Debian 12, with
# apt-get.  Safe to run again; skips apt-get when nothing is missing.
set -euo pipefail

PKGS=(
	build-essential meson ninja-build pkg-config git
	libfuse3-dev fuse3 liburing-dev libndctl-dev libdaxctl-dev ndctl daxctl libcmocka-dev
	# mkfs.pmemfs refuses to overwrite another file system (libblkid)
	libblkid-dev
	# the references the tests and benchmarks compare against
	libpmem-dev libpmemobj-dev libpmemblk-dev libpmemlog-dev pmdk-tools
	# sanitizers and fuzzing
	clang libclang-rt-14-dev
	# tests/fuzz replays its corpus under memcheck
	valgrind
	# tools the integration tests drive
	attr rsync sqlite3 fio acl file psmisc
	# mkfs_foreign.sh makes an ext4 to refuse (mkswap and blkid: util-linux)
	e2fsprogs
	# bench/fs/run.sh draws its plot with it
	gnuplot-nox
	# tests/devdax: a qemu VM with an emulated NVDIMM (the kernel is downloaded, not installed)
	qemu-system-x86 busybox-static cpio kmod
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
