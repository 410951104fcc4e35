#!/usr/bin/env bash
# Debian's libpmemobj on our libpmem with its pool inside the mount: a
# transactional workload, a remount, every object verified and
# `pmempool check` clean.  libpmemobj maps pools with its own mmap, not
# pmem_map_file, so this runs the FUSE mapping (is_pmem 0, msync) - the
# direct path does not apply to it (docs/DIRECT-MAP.md, known limits).
source "$(dirname "$0")/lib.sh"
require_fuse
command -v pmempool >/dev/null || fail "pmempool (pmdk-tools) is not installed"
[ -x "$HELPER_DIR/dmap_pmemobj" ] || { echo "SKIP: $TEST_NAME: libpmemobj-dev was missing at build time"; exit 77; }
[ -n "${LIBPMEM_DIR:-}" ] || fail "LIBPMEM_DIR (our libpmem.so.1) is not set"
setup_fs 256M
mount_fs
export LD_LIBRARY_PATH=$LIBPMEM_DIR
"$HELPER_DIR/dmap_pmemobj" create "$MNT/pool" 3000 || fail "libpmemobj workload failed"
grep -q "$LIBPMEM_DIR" <(LD_TRACE_LOADED_OBJECTS=1 "$HELPER_DIR/dmap_pmemobj") ||
	fail "dmap_pmemobj does not load our libpmem from $LIBPMEM_DIR"
out=$("$HELPER_DIR/dmap_pmemobj" check "$MNT/pool") || fail "pool check after the workload: $out"
assert_eq "pool contents" "done=3000 items=64" "$out"
unmount_fs
mount_fs
out=$("$HELPER_DIR/dmap_pmemobj" check "$MNT/pool") || fail "pool check after remount: $out"
assert_eq "pool contents after remount" "done=3000 items=64" "$out"
# the checker runs on the system libpmem: an independent verifier (and a
# sanitizer build of ours cannot be loaded into it)
env -u LD_LIBRARY_PATH pmempool check -v "$MNT/pool" >"$WORK/pmempool.log" 2>&1 || fail "pmempool check: $(cat "$WORK/pmempool.log")"
grep -q "consistent" "$WORK/pmempool.log" || fail "pmempool check did not say consistent: $(cat "$WORK/pmempool.log")"
unmount_fs
fsck_clean
note "ok"
