#!/usr/bin/env bash
# Debian's libpmemobj on our libpmem with its pool inside the mount,
# through the direct path: LD_PRELOAD=libpmemfs-preload.so maps the pool
# straight from the device.  Proof: the workload's own /proc/self/maps
# shows the pool's mapping backed by the device image, not by the file on
# the mount.  Transactional workloads with is_pmem 0 (libpmemobj msyncs)
# and with PMEM_IS_PMEM_FORCE=1 (it flushes), then the pools are read back
# through FUSE (no preload: the other path sees the direct stores), a
# remount, every object verified again directly, `pmempool check` and fsck
# clean.
source "$(dirname "$0")/lib.sh"
require_fuse
command -v pmempool >/dev/null || fail "pmempool (pmdk-tools) is not installed"
[ -x "$HELPER_DIR/dmap_pmemobj" ] || { echo "SKIP: $TEST_NAME: libpmemobj-dev was missing at build time"; exit 77; }
[ -n "${LIBPMEM_DIR:-}" ] || fail "LIBPMEM_DIR (our libpmem.so.1) is not set"
PRELOAD=$LIBPMEM_DIR/libpmemfs-preload.so
[ -e "$PRELOAD" ] || fail "$PRELOAD was not built"
OBJ=$HELPER_DIR/dmap_pmemobj
setup_fs 256M
mount_fs
export LD_LIBRARY_PATH=$LIBPMEM_DIR
grep -q "$LIBPMEM_DIR" <(LD_TRACE_LOADED_OBJECTS=1 "$OBJ") ||
	fail "dmap_pmemobj does not load our libpmem from $LIBPMEM_DIR"
direct() { LD_PRELOAD=$PRELOAD "$OBJ" "$@"; }

# expect WHAT EXPECTED_MAP_LINE EXPECTED_CONTENTS CMD...: the map line and
# (for check) the contents line the helper prints
expect() {
	local what=$1 want_map=$2 want=$3 out
	shift 3
	out=$("$@") || fail "$what: $out"
	assert_eq "$what: where the pool is mapped from" "$want_map" "$(sed -n 1p <<<"$out")"
	assert_eq "$what: pool contents" "$want" "$(sed -n 2p <<<"$out")"
}

expect "direct workload (msync)" "map=$IMG is_pmem=0" "" direct create "$MNT/pool" 3000
expect "direct workload (flushes)" "map=$IMG is_pmem=1" "" \
	env PMEM_IS_PMEM_FORCE=1 LD_PRELOAD="$PRELOAD" "$OBJ" create "$MNT/forced" 3000
for pool in pool forced; do
	expect "$pool read directly" "map=$IMG is_pmem=0" "done=3000 items=64" direct check "$MNT/$pool"
	expect "$pool read through FUSE" "map=$MNT/$pool is_pmem=0" "done=3000 items=64" \
		"$OBJ" check "$MNT/$pool"
done
# the switch: PMEM_PMEMFS_DIRECT=0 sends the preload's mmap to FUSE
expect "PMEM_PMEMFS_DIRECT=0" "map=$MNT/pool is_pmem=0" "done=3000 items=64" \
	env PMEM_PMEMFS_DIRECT=0 LD_PRELOAD="$PRELOAD" "$OBJ" check "$MNT/pool"

unmount_fs
mount_fs
for pool in pool forced; do
	expect "$pool after remount" "map=$IMG is_pmem=0" "done=3000 items=64" direct check "$MNT/$pool"
	# the checker runs on the system libpmem: an independent verifier (and
	# a sanitizer build of ours cannot be loaded into it)
	env -u LD_LIBRARY_PATH pmempool check -v "$MNT/$pool" >"$WORK/pmempool.log" 2>&1 ||
		fail "pmempool check $pool: $(cat "$WORK/pmempool.log")"
	grep -q "consistent" "$WORK/pmempool.log" ||
		fail "pmempool check $pool did not say consistent: $(cat "$WORK/pmempool.log")"
done
unmount_fs
fsck_clean
note "ok"
