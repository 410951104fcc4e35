#!/usr/bin/env bash
# cli_test.sh - mkfs.pmemfs and fsck.pmemfs as a user sees them: --help,
# --version, the geometry printout, refusals with "program: what failed:
# why" and a non-zero exit, and fsck's e2fsck exit codes.
# Usage: cli_test.sh MKFS FSCK
set -u
MKFS=$1
FSCK=$2
IMG=/dev/shm/pmemfs-storage-cli-$$.img
fails=0
trap 'rm -f "$IMG" "$IMG.small"' EXIT

check() { # check NAME EXPECTED_STATUS EXPECTED_TEXT -- command...
	local name=$1 want=$2 text=$3 out status
	shift 4
	out=$("$@" 2>&1)
	status=$?
	if [ "$status" -ne "$want" ]; then
		echo "FAIL $name: expected exit $want, got $status: $out"
		fails=$((fails + 1))
	elif ! grep -qF -- "$text" <<<"$out"; then
		echo "FAIL $name: expected output containing '$text', got: $out"
		fails=$((fails + 1))
	else
		echo "ok   $name"
	fi
}

check mkfs_help 0 "Usage: mkfs.pmemfs" -- "$MKFS" --help
check mkfs_version 0 "format version" -- "$MKFS" --version
check mkfs_bad_option 1 "Usage" -- "$MKFS" --no-such-option
check mkfs_no_device 1 "mkfs.pmemfs: expected one DEVICE" -- "$MKFS"
check mkfs_bad_size 1 "mkfs.pmemfs: bad --size" -- "$MKFS" --size 12Q "$IMG"
check mkfs_too_small 1 "mkfs.pmemfs: formatting $IMG.small failed: too small" -- "$MKFS" --size 100K "$IMG.small"
check mkfs_creates 0 "journal       blocks 2-" -- "$MKFS" --size 32M -L clitest "$IMG"
check mkfs_label_shown 0 "label         clitest" -- "$MKFS" --force --size 32M -L clitest "$IMG"
check mkfs_refuses_existing 1 "already holds a pmemfs; use --force" -- "$MKFS" "$IMG"
check mkfs_inodes 0 "1007 inodes" -- "$MKFS" --force --inodes 999 "$IMG"
check mkfs_list 0 "" -- "$MKFS" --list
# lanes below the largest transaction (freeing blocks would never progress)
check mkfs_lane_too_small 1 "mkfs.pmemfs: bad --lane-size '16K': expected a multiple of 4K from 20K" -- "$MKFS" --force -J 2 -B 16K "$IMG"
check mkfs_lane_minimum 0 "2 lanes x 20 KiB" -- "$MKFS" --force -J 2 -B 20K "$IMG"
check mkfs_null_device 1 "not a devdax namespace" -- "$MKFS" /dev/null

check fsck_help 0 "Usage: fsck.pmemfs" -- "$FSCK" --help
check fsck_version 0 "format version" -- "$FSCK" -V
check fsck_clean_skip 0 "clean (use -f" -- "$FSCK" "$IMG"
check fsck_forced_clean 0 "0 problems found" -- "$FSCK" -f "$IMG"
check fsck_n_and_y 8 "exclude each other" -- "$FSCK" -n -y "$IMG"
check fsck_missing 8 "fsck.pmemfs: checking /dev/shm/nonexistent-$$ failed" -- "$FSCK" -f "/dev/shm/nonexistent-$$"
# Corrupt the primary superblock: -n finds it (4), -y fixes it (1), then clean (0).
printf '\xff' | dd of="$IMG" bs=1 seek=100 conv=notrunc status=none
check fsck_finds_bad_sb 4 "primary superblock: bad checksum" -- "$FSCK" -fn "$IMG"
check fsck_repairs_bad_sb 1 "(fixed)" -- "$FSCK" -fy "$IMG"
check fsck_clean_after_repair 0 "0 problems found" -- "$FSCK" -fn "$IMG"
# Both copies gone: operational error.
dd if=/dev/zero of="$IMG" bs=4096 count=1 conv=notrunc status=none
dd if=/dev/zero of="$IMG" bs=4096 count=1 seek=$((32 * 256 - 1)) conv=notrunc status=none
check fsck_no_superblock 8 "no valid pmemfs superblock" -- "$FSCK" -f "$IMG"

[ "$fails" -eq 0 ] || { echo "$fails CLI checks failed"; exit 1; }
echo "all CLI checks passed"
