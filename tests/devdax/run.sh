#!/usr/bin/env bash
# run.sh - the devdax suite's runner: proves pmemfs on a real device-DAX
# namespace inside a qemu VM with an emulated NVDIMM.
#
#   run.sh TEST        (meson passes BUILD_ROOT; see README.md)
#
# It installs what it needs from Debian (qemu, busybox-static, kmod, ndctl,
# daxctl), downloads and unpacks the current Debian cloud kernel without
# installing it (cached in PMEMFS_DEVDAX_CACHE), builds an initramfs of
# busybox, the NVDIMM and FUSE modules, ndctl/daxctl, the project's binaries
# and the guest scripts, boots it one or more times (tests/devdax/tests/*.sh
# say how) and reads "RESULT: rc=N" from the serial console.  Exit status:
# 0 pass, 1 fail, 77 only when qemu cannot run at all.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TEST=${1:?usage: run.sh TEST}
BUILD_ROOT=${BUILD_ROOT:?BUILD_ROOT is not set (run through meson test)}
CACHE=${PMEMFS_DEVDAX_CACHE:-/var/cache/pmemfs-devdax}
KEEP=${PMEMFS_DEVDAX_KEEP:-0}
CONSOLE=${PMEMFS_DEVDAX_CONSOLE:-0}
# Generous: one TCG boot is about 5 s, a workload boot up to a minute.
BOOT_TIMEOUT=${PMEMFS_DEVDAX_BOOT_TIMEOUT:-240}

# The host-side test definition: a file that defines run_test (see tests/).
DEF=$HERE/tests/$TEST.sh
[ -f "$DEF" ] || { echo "FAIL: devdax: no test named '$TEST' ($DEF)"; exit 1; }

source "$HERE/lib/host.sh"
source "$HERE/lib/kernel.sh"
source "$HERE/lib/initramfs.sh"
source "$HERE/lib/qemu.sh"
source "$DEF"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pmemfs-devdax-$TEST.XXXXXX")
cleanup() {
	local rc=$?
	set +e
	kill_qemu
	if [ "$KEEP" = 1 ] || { [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ "${PMEMFS_DEVDAX_KEEP_FAILED:-0}" = 1 ]; }; then
		echo "devdax: kept $WORK (initramfs, NVDIMM image, console logs)"
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_packages
ensure_kernel
build_initramfs "$WORK"
note "initramfs ready after ${SECONDS}s (kernel $KVER)"
run_test
