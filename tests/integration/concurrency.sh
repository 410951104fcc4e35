#!/usr/bin/env bash
# Several processes at once: each writes its own files, all create, rename
# and delete in one shared directory; afterwards (and after a remount)
# every file is there with the right contents.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 256M
mount_fs
mkdir "$MNT/shared"
head -c $((1 << 20)) /dev/urandom >"$WORK/pool"
worker() {
	local w=$1 i
	mkdir "$MNT/own$w" || exit 1
	for i in $(seq 1 60); do
		dd if="$WORK/pool" of="$MNT/own$w/f$i" bs=4096 count=$((i * 3 % 64 + 1)) skip=$w status=none || exit 1
		echo "$w-$i" >"$MNT/shared/tmp-$w-$i" || exit 1
		mv "$MNT/shared/tmp-$w-$i" "$MNT/shared/w$w-$i" || exit 1
		[ $((i % 4)) -eq 0 ] && { rm "$MNT/shared/w$w-$((i - 1))" || exit 1; }
	done
	exit 0
}
pids=()
for w in 1 2 3 4 5 6; do worker "$w" & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || fail "a worker failed (see its error above)"; done
verify() {
	local w i
	for w in 1 2 3 4 5 6; do
		for i in $(seq 1 60); do
			cmp -s "$MNT/own$w/f$i" <(dd if="$WORK/pool" bs=4096 count=$((i * 3 % 64 + 1)) skip=$w status=none) ||
				fail "own$w/f$i differs from what worker $w wrote ($1)"
			if [ $(((i + 1) % 4)) -eq 0 ] && [ "$i" -lt 60 ]; then
				[ ! -e "$MNT/shared/w$w-$i" ] || fail "shared/w$w-$i should have been deleted ($1)"
			else
				assert_eq "shared/w$w-$i ($1)" "$w-$i" "$(cat "$MNT/shared/w$w-$i")"
			fi
		done
	done
	assert_eq "entries in the shared directory ($1)" $((6 * 45)) "$(ls "$MNT/shared" | wc -l)"
}
verify "right after the writers"
unmount_fs
mount_fs
verify "after remount"
unmount_fs
fsck_clean
