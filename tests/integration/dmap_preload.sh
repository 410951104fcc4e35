#!/usr/bin/env bash
# libpmemfs-preload.so's interposition rules, with plain mmap() calls
# (helper dmap_preload.c): a shared map of a pmemfs file is direct (from
# the device image, two fds kept, none after munmap), at an offset and for
# an odd length too; a file elsewhere, a private map and
# PMEM_PMEMFS_DIRECT=0 are untouched; partial munmaps keep the grant until
# the last piece goes; MAP_SYNC gets exactly the FUSE file's answer;
# MAP_FIXED is honoured, NOREPLACE refuses, mremap of a direct map is
# refused, a mapping over its middle is forgotten; a user who may not
# open the device gets the FUSE mapping, and the direct one once it may.
source "$(dirname "$0")/lib.sh"
require_fuse
[ -n "${LIBPMEM_DIR:-}" ] || fail "LIBPMEM_DIR (our libpmem.so.1) is not set"
PRELOAD=$LIBPMEM_DIR/libpmemfs-preload.so
[ -e "$PRELOAD" ] || fail "$PRELOAD was not built"
T=$HELPER_DIR/dmap_preload
export LD_LIBRARY_PATH=$LIBPMEM_DIR
pre() { LD_PRELOAD=$PRELOAD "$@"; }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env LD_PRELOAD="$PRELOAD" "$@"; }
M=$((8 << 20))

setup_fs 128M
chmod 0755 "$WORK" # let user 65534 reach the mountpoint
chmod 0600 "$IMG"  # the device: root only
mount_fs -o allow_other
mkdir -m 0777 "$MNT/shared"
F=$MNT/shared/f
head -c $M /dev/zero >"$F"
chmod 0666 "$F"
OTHER=$WORK/other
head -c $M /dev/zero >"$OTHER"

# run WHAT EXPECTED CMD...
run() {
	local what=$1 want=$2 out
	shift 2
	out=$("$@") || fail "$what: $out"
	assert_eq "$what" "$want" "$out"
}

run "a file outside the mount" "src=$OTHER fds=0 bytes=ok unmapped_fds=0" pre "$T" shared "$OTHER" 0 $M
run "a shared map of a pmemfs file" "src=$IMG fds=2 bytes=ok unmapped_fds=0" pre "$T" shared "$F" 0 $M
run "a range at an offset" "src=$IMG fds=2 bytes=ok unmapped_fds=0" pre "$T" shared "$F" 3145728 1048576
run "an odd length" "src=$IMG fds=2 bytes=ok unmapped_fds=0" pre "$T" shared "$F" 4096 5000
run "a private map" "src=$F fds=0 bytes=ok unmapped_fds=0" pre "$T" shared "$F" 0 $M private
run "PMEM_PMEMFS_DIRECT=0" "src=$F fds=0 bytes=ok unmapped_fds=0" \
	env PMEM_PMEMFS_DIRECT=0 LD_PRELOAD="$PRELOAD" "$T" shared "$F" 0 $M
run "partial munmaps" "fds=2,2,0 bytes=ok" pre "$T" partial "$F"

# MAP_SYNC: the preload answers what the FUSE file answers (the emulation
# device is tmpfs: no MAP_SYNC), and a refusal keeps no grant
fuse_sync=$(env PMEM_PMEMFS_DIRECT=0 LD_PRELOAD="$PRELOAD" "$T" sync "$F") || fail "MAP_SYNC via FUSE: $fuse_sync"
run "MAP_SYNC, as on the FUSE file" "$fuse_sync" pre "$T" sync "$F"
assert_eq "MAP_SYNC on an emulation device" "sync=EOPNOTSUPP
fds=0" "$fuse_sync"

run "MAP_FIXED, NOREPLACE, mremap, a mapping over the middle" \
	"src=$IMG at=ok noreplace=EEXIST mremap=EINVAL fds=2,0 bytes=ok" pre "$T" fixed "$F"

# the device is root's: 65534 gets the FUSE mapping, right bytes
out=$(as_nobody "$T" shared "$F" 0 $M) || fail "unprivileged map: $out"
assert_eq "device not openable: FUSE" "src=$F fds=0 bytes=ok unmapped_fds=0" "$out"
chmod 0666 "$IMG"
out=$(as_nobody "$T" shared "$F" 0 $M) || fail "unprivileged map, open device: $out"
assert_eq "device openable: direct" "src=$IMG fds=2 bytes=ok unmapped_fds=0" "$out"
chmod 0600 "$IMG"

unmount_fs
fsck_clean
note "ok"
