#!/usr/bin/env bash
# tar of /usr/include into pmemfs and back out: byte-for-byte equal, also
# after an unmount and remount.
source "$(dirname "$0")/lib.sh"
require_fuse
setup_fs 512M
mount_fs
SRC=/usr/include
tar -C "$SRC" -cf - . | tar -C "$MNT" -xf - || fail "tar into $MNT failed"
diff -r --no-dereference "$SRC" "$MNT" >"$WORK/diff" 2>&1 || fail "diff -r after tar: $(head -5 "$WORK/diff")"
mkdir "$WORK/out"
tar -C "$MNT" -cf - . | tar -C "$WORK/out" -xf - || fail "tar out of $MNT failed"
diff -r --no-dereference "$SRC" "$WORK/out" >"$WORK/diff" 2>&1 || fail "diff -r of the round trip: $(head -5 "$WORK/diff")"
unmount_fs
mount_fs
diff -r --no-dereference "$SRC" "$MNT" >"$WORK/diff" 2>&1 || fail "diff -r after remount: $(head -5 "$WORK/diff")"
unmount_fs
fsck_clean
note "$(find "$SRC" | wc -l) entries round-tripped"
