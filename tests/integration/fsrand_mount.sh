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

mount_fs -o writeback_cache
REF2=$(mktemp -d /dev/shm/pmemfs-fsrand-ref.XXXXXX)
EXTRA_CLEANUP="$REF $REF2"
mkdir "$MNT/wb"
"$HELPER_DIR/fsrand" "${seed_arg[@]}" --ops $(( ${FSRAND_OPS:-100000} / 4 )) "$MNT/wb" "$REF2" ||
	fail "fsrand with -o writeback_cache found a difference (see the line above)"
unmount_fs
mount_fs
diff -r --no-dereference "$REF2" "$MNT/wb" >"$WORK/diff" 2>&1 || fail "writeback_cache trees differ after remount: $(head -5 "$WORK/diff")"
unmount_fs

mount_fs -o no_uring
REF3=$(mktemp -d /dev/shm/pmemfs-fsrand-ref.XXXXXX)
EXTRA_CLEANUP="$REF $REF2 $REF3"
mkdir "$MNT/nu"
"$HELPER_DIR/fsrand" "${seed_arg[@]}" --ops $(( ${FSRAND_OPS:-100000} / 4 )) "$MNT/nu" "$REF3" ||
	fail "fsrand with -o no_uring found a difference (see the line above)"
unmount_fs
mount_fs -o no_uring
diff -r --no-dereference "$REF3" "$MNT/nu" >"$WORK/diff" 2>&1 || fail "no_uring trees differ after remount: $(head -5 "$WORK/diff")"
unmount_fs
fsck_clean
