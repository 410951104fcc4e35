#!/usr/bin/env bash
# Concurrent mappers of one file share the device memory: a second process
# sees the first one's persisted stores through its own direct mapping
# while the first still holds its mapping, and the other way round; reads
# through the mount agree; several mappers at once each get a direct map.
source "$(dirname "$0")/lib.sh"
require_fuse
source "$(dirname "$0")/dmap_restart_lib.sh"
setup_fs 256M
mount_fs
map_held "$MNT/f" 10485760 2 3
out=$("$TOOL" check "$MNT/f" 2) || fail "second mapper does not see the holder's stores: $out"
assert_eq "second mapper" "mode=direct is_pmem=0 len=10485760" "$out"
"$TOOL" verify "$MNT/f" 2 || fail "read() while mapped twice"
go_holder "$SYNC" "$HOLD"
"$TOOL" check "$MNT/f" 3 >/dev/null || fail "second mapper does not see the holder's later stores"
# a third mapper's stores, while the holder still maps the file
"$TOOL" map "$MNT/f" 0 4 >/dev/null || fail "third mapper"
"$TOOL" verify "$MNT/f" 4 || fail "read() after the third mapper"
exit_holder "$SYNC" "$HOLD"

# eight mappers at once, each storing the same pattern and checking it
pids=()
for i in 1 2 3 4 5 6 7 8; do
	"$TOOL" map "$MNT/f" 0 5 >"$WORK/m$i.out" 2>&1 &
	pids+=($!)
done
for i in 1 2 3 4 5 6 7 8; do
	wait "${pids[$((i - 1))]}" || fail "mapper $i: $(cat "$WORK/m$i.out")"
	grep -q "mode=direct" "$WORK/m$i.out" || fail "mapper $i not direct: $(cat "$WORK/m$i.out")"
done
"$TOOL" verify "$MNT/f" 5 || fail "read() after eight mappers"
unmount_fs
fsck_clean
note "ok"
