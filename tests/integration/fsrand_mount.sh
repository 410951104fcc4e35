#!/usr/bin/env bash
# The randomised lock-step tester against a tmpfs reference: FSRAND_OPS
# operations (100000 by default) with a printed seed (FSRAND_SEED to
# repeat one), then the trees must still match after a remount.  Shorter
# runs do the same with -o writeback_cache and with -o no_uring (requests
# through /dev/fuse, where the first run has them on io_uring).
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 512M
mount_fs
REF=$(mktemp -d /dev/shm/pmemfs-fsrand-ref.XXXXXX)
EXTRA_CLEANUP="$REF"
mkdir "$MNT/t"
seed_arg=()
[ -n "${FSRAND_SEED:-}" ] && seed_arg=(--seed "$FSRAND_SEED")
"$HELPER_DIR/fsrand" "${seed_arg[@]}" --ops "${FSRAND_OPS:-100000}" "$MNT/t" "$REF" ||
	fail "fsrand found a difference (the line above has the op, the seed, expected and got)"
unmount_fs
mount_fs
diff -r --no-dereference "$REF" "$MNT/t" >"$WORK/diff" 2>&1 || fail "trees differ after remount: $(head -5 "$WORK/diff")"
unmount_fs

# a quarter of the operations with one daemon option, then a remount
# without it: the trees must still match
short_pass() { # option subdirectory
	local ref
	ref=$(mktemp -d /dev/shm/pmemfs-fsrand-ref.XXXXXX)
	EXTRA_CLEANUP="$EXTRA_CLEANUP $ref"
	mount_fs -o "$1"
	mkdir "$MNT/$2"
	"$HELPER_DIR/fsrand" "${seed_arg[@]}" --ops $(( ${FSRAND_OPS:-100000} / 4 )) "$MNT/$2" "$ref" ||
		fail "fsrand with -o $1 found a difference (see the line above)"
	unmount_fs
	mount_fs
	diff -r --no-dereference "$ref" "$MNT/$2" >"$WORK/diff" 2>&1 ||
		fail "$1 trees differ after remount: $(head -5 "$WORK/diff")"
	unmount_fs
}
short_pass writeback_cache wb
short_pass no_uring nu
fsck_clean
