#!/usr/bin/env bash
# A process that may not open the device gets no direct map: pmem_map_file
# maps the file through FUSE (is_pmem 0), pmem_msync persists, and the
# bytes are right.  With the device opened up to it, the same process is
# mapped directly (so the refusal above came from the permission check).
source "$(dirname "$0")/lib.sh"
require_fuse
TOOL=$HELPER_DIR/dmap_tool
setup_fs 128M
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
chmod 0755 "$WORK" # let user 65534 reach the mountpoint
chmod 0600 "$IMG"  # the device: root only
mount_fs -o allow_other
mkdir -m 0777 "$MNT/shared"

out=$(as_nobody "$TOOL" map "$MNT/shared/n" 3000000 21) || fail "unprivileged map: $out"
assert_eq "unprivileged mapping" "mode=fuse is_pmem=0 len=3000000" "$out"
as_nobody "$TOOL" verify "$MNT/shared/n" 21 || fail "fallback mapping: wrong bytes (as 65534)"
"$TOOL" verify "$MNT/shared/n" 21 || fail "fallback mapping: wrong bytes (as root)"
out=$(as_nobody "$TOOL" check "$MNT/shared/n" 21) || fail "fallback mapping reads wrong bytes: $out"

# root maps the same file directly; 65534 reads root's stores through FUSE
"$TOOL" map "$MNT/shared/n" 0 22 >/dev/null || fail "root map"
as_nobody "$TOOL" verify "$MNT/shared/n" 22 || fail "65534 reads root's direct stores wrongly"

# positive control: a device the user may open gives a direct map
chmod 0666 "$IMG"
out=$(as_nobody "$TOOL" map "$MNT/shared/n" 0 23) || fail "map with an open device: $out"
assert_eq "mapping when the device is open to the user" "mode=direct is_pmem=0 len=3000000" "$out"
chmod 0600 "$IMG"
"$TOOL" verify "$MNT/shared/n" 23 || fail "wrong bytes after the unprivileged direct map"
unmount_fs
fsck_clean
note "ok"
