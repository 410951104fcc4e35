# dmap.sh (guest) - direct maps on a real device-DAX namespace of
# alignment DEVDAX_ALIGN (docs/DIRECT-MAP.md): pmem_map_file() on a file
# in a pmemfs mount of /dev/dax0.0 must map the file's extents straight
# from the device (mode direct, is_pmem 1, pmem_is_pmem 1, every device
# mapping aligned to the namespace).  Then: a persisted pattern read back
# through the mount (cmp) and after a remount; truncate and unlink while
# mapped, with files allocated afterwards that the mapping's stores must
# not reach; kill -9 of the daemon under live mappings, restart, the
# persisted data is there and a file truncated after the restart keeps
# the old mapping's blocks; fsck clean.  Also the LD_PRELOAD library's
# mmap() of unaligned ranges.  On a 4 KiB namespace the relocation and
# restart parts, which do not depend on the alignment, are left out to keep
# the TCG boot short.  One boot; dmap_tool and dmap_preload are the
# integration tests' helpers (tests/integration/dmap_tool.c, dmap_preload.c).
. /pm/t/lib.sh
align=${DEVDAX_ALIGN:?}
T=$DMAP_TOOL
MIB=1048576
# The files' size: 4 MiB (two 2 MiB chunks) on a 2 MiB namespace; 1 MiB on
# a 4 KiB one, where TCG takes a fault per 4 KiB page and the size proves
# nothing more.
FSZ=$((4 * MIB))
[ "$align" -ge $((2 * MIB)) ] || FSZ=$MIB

# ref NAME SIZE SEED: /tmp/ref.NAME holds the pattern SEED, written with
# write() on tmpfs: what a file on pmemfs must cmp equal to.
ref() {
	rm -f /tmp/ref.$1
	truncate -s $2 /tmp/ref.$1 && "$T" write /tmp/ref.$1 $3 ||
		die "writing the reference pattern /tmp/ref.$1"
}

# same NAME WHEN: the file on pmemfs equals its reference, byte for byte.
same() {
	if cmp /tmp/ref.$1 $MNT/$1 >/tmp/cmp.log 2>&1; then
		pass "$1 read through the mount equals its pattern $2 (cmp)"
	else
		fail "$1 read through the mount $2: expected its pattern, got: $(cat /tmp/cmp.log)"
	fi
}

# map_new NAME SIZE SEED: pmem_map_file(PMEM_FILE_CREATE), fill, persist,
# verify in the mapping, unmap; it must have been a direct map.
map_new() {
	out=$("$T" map $MNT/$1 $2 $3 2>&1) || fail "dmap_tool map $1: $out"
	check "pmem_map_file of a new $2-byte file $1" "mode=direct is_pmem=1 len=$2" "$out"
	ref $1 $2 $3
}

# hold NAME SEED1 SEED2: dmap_tool hold in the background (maps the
# existing file, stores SEED1, waits for go, stores SEED2 over the whole
# mapping, waits for exit); returns once it is mapped.
hold() {
	S=/tmp/sync.$1
	mkdir -p $S
	"$T" hold $MNT/$1 $2 $3 $S >$S/out 2>&1 &
	H=$!
	i=0
	until [ -e $S/ready ]; do
		kill -0 $H 2>/dev/null || die "dmap_tool hold $1 died: $(cat $S/out)"
		i=$((i + 1))
		[ $i -le 600 ] || die "dmap_tool hold $1 not mapped after 60 s"
		sleep 0.1
	done
	check "the holder of $1 maps it directly" "mode=direct is_pmem=1" \
		"$(sed -n 's/ len=.*//p' $S/out)"
}

# hold_go: the holder stores SEED2 over its whole mapping, persists and
# checks it in the mapping.
hold_go() {
	touch $S/go
	until [ -e $S/done ]; do
		kill -0 $H 2>/dev/null || die "dmap_tool hold: $(cat $S/out)"
		sleep 0.1
	done
}

# hold_exit WHAT: the holder unmaps and must exit 0.
hold_exit() {
	touch $S/exit
	status=0
	wait $H || status=$?
	check "the holder $1 exits 0 (its pattern verified in the mapping)" 0 "$status"
	[ $status -eq 0 ] || cat $S/out
}

ensure_devdax "$align"
"$MKFS_PMEMFS" $DEV >/tmp/mkfs.log 2>&1 || die "mkfs.pmemfs $DEV: $(cat /tmp/mkfs.log)"
check "mkfs.pmemfs records the namespace alignment" "$align" \
	"$(awk '$1 == "alignment" { print $2 }' /tmp/mkfs.log)"
mount_pm
timing "mounted"

# 1. A new file, not a multiple of the alignment: mapped, persisted, read
# back through FUSE, unmapped (pmem_unmap of the length must take the
# aligned tail too: a devdax mapping cannot be split off its alignment).
map_new a 5000000 11
out=$("$T" info $MNT/a $align 2>&1) || fail "dmap_tool info a: $out"
info=$(echo "$out" | sed -n 's/^pmem_is_pmem=/&/p')
check "dmap_tool info a: mapping" "mode=direct is_pmem=1 len=5000000" "$(echo "$out" | head -n 1)"
check "pmem_is_pmem and an aligned address and device mapping of a" \
	"pmem_is_pmem=1 addr_aligned=1 backing=$DEV misaligned=0" \
	"$(echo "$info" | sed 's/ segments=[0-9]*//')"
note "a: $info"
same a "after its direct map"
out=$("$T" check $MNT/a 11 2>&1) || fail "dmap_tool check a (a new map reads the pattern): $out"
out=$("$T" cycle $MNT/a 20 2>&1) &&
	pass "20 direct map/unmap cycles of a leave no fd and no device mapping behind" ||
	fail "map/unmap cycles of a: expected nothing left behind, got: $out"
# pmem_msync on a direct map (PMEM_IS_PMEM_FORCE=0 makes dmap_tool persist
# with it): the kernel has no msync for device DAX (EINVAL); libpmem
# persists those parts as pmem, the odd-sized file's last page included.
out=$(PMEM_IS_PMEM_FORCE=0 "$T" map $MNT/m 5000000 13 2>&1)
check "pmem_msync of a direct map (is_pmem forced to 0)" "mode=direct is_pmem=0 len=5000000" "$out"
ref m 5000000 13
same m "after pmem_msync of its direct map"
rm $MNT/m
timing "map, persist, read back"

# Two files written through the mount in interleaved 128 KiB pieces, so
# their blocks alternate on the device: on a 2 MiB namespace the grant
# must relocate r's chunks to aligned runs (a misaligned devdax mapping
# fails), keeping r's bytes and not touching s's.
interleaved() {
	ref r $FSZ 61
	ref s $FSZ 62
	: >$MNT/r
	: >$MNT/s
	i=0
	while [ $i -lt $((FSZ / 131072)) ]; do
		for f in r s; do
			dd if=/tmp/ref.$f of=$MNT/$f bs=131072 skip=$i seek=$i count=1 conv=notrunc \
				2>/dev/null || fail "dd piece $i of $f"
		done
		i=$((i + 1))
	done
	out=$("$T" info $MNT/r $align 2>&1) || fail "dmap_tool info r: $out"
	check "direct map of r, written in interleaved pieces" \
		"mode=direct is_pmem=1 len=$FSZ pmem_is_pmem=1 addr_aligned=1 backing=$DEV misaligned=0" \
		"$(echo $out | sed 's/ segments=[0-9]*//')"
	out=$("$T" check $MNT/r 61 2>&1) &&
		pass "the direct map of r shows the bytes written through the mount" ||
		fail "direct map of r: expected the bytes written through the mount, got: $out"
	same r "after its grant"
	same s "after r's grant (relocation must not touch it)"
	timing "interleaved files"
}
# Nothing is ever misaligned on a 4 KiB namespace: nothing to relocate.
[ "$align" -lt $((2 * MIB)) ] || interleaved

# The LD_PRELOAD library (plain mmap() calls, helper dmap_preload.c): on
# devdax a range that is not aligned to the namespace is mapped as the
# aligned window around it and munmap() must take the whole window (the
# kernel refuses to split a devdax mapping off its alignment), and
# msync(MS_SYNC), which the kernel refuses on devdax (EINVAL: no fsync),
# must persist the stores (the helper msyncs, then reads them back).
# "src" is what /proc/self/maps names, "fds" the descriptors a direct map
# keeps.
dd if=/dev/zero of=$MNT/p bs=$MIB count=8 2>/dev/null || fail "writing $MNT/p"
for range in "0 $((8 * MIB))" "$((3 * MIB)) $MIB" "4096 5000"; do
	out=$(LD_PRELOAD=$PMEMFS_PRELOAD "$DMAP_PRELOAD" shared $MNT/p $range 2>&1)
	check "preload: a shared mmap() of [$range) of a pmemfs file is direct, munmap() leaves nothing" \
		"src=$DEV fds=2 bytes=ok unmapped_fds=0" "$out"
done
out=$(LD_PRELOAD=$PMEMFS_PRELOAD "$DMAP_PRELOAD" partial $MNT/p 2>&1)
check "preload: munmap() of the middle, head and tail of a direct map" "fds=2,2,0 bytes=ok" "$out"
# devdax honours MAP_SYNC (tmpfs, the emulation's backing, does not)
out=$(LD_PRELOAD=$PMEMFS_PRELOAD "$DMAP_PRELOAD" sync $MNT/p 2>&1)
check "preload: a MAP_SYNC mmap() is direct" "sync=ok src=$DEV fds=0" "$(echo $out)"
rm $MNT/p
timing "preload"

# Debian's libpmemobj on our libpmem with its pool in the mount, under the
# preload: its own mmap() of the pool comes straight from /dev/dax0.0 and
# is pmem (it persists with flushes); the pool reopens, directly and
# through FUSE, with every transaction's object intact.
pmemobj() {
	libdir=${PMEMFS_PRELOAD%/*}
	out=$(LD_LIBRARY_PATH=$libdir LD_PRELOAD=$PMEMFS_PRELOAD "$DMAP_PMEMOBJ" create $MNT/pool 300 2>&1)
	check "libpmemobj under the preload: the pool is mapped from the device, is_pmem 1" \
		"map=$DEV is_pmem=1" "$(echo $out)"
	out=$(LD_LIBRARY_PATH=$libdir LD_PRELOAD=$PMEMFS_PRELOAD "$DMAP_PMEMOBJ" check $MNT/pool 2>&1)
	check "libpmemobj pool reopened directly" "map=$DEV is_pmem=1 done=300 items=64" "$(echo $out)"
	out=$(LD_LIBRARY_PATH=$libdir "$DMAP_PMEMOBJ" check $MNT/pool 2>&1)
	check "libpmemobj pool read through FUSE" "map=$MNT/pool is_pmem=0 done=300 items=64" \
		"$(echo $out)"
	rm $MNT/pool
	timing "libpmemobj"
}
if [ -n "${DMAP_PMEMOBJ:-}" ]; then
	pmemobj
else
	note "libpmemobj: not run (dmap_pmemobj was not built: libpmemobj-dev missing)"
fi

# 2. Remount: the pattern is on the device, through FUSE and a new map.
umount_pm
mount_pm
same a "after a remount"
out=$("$T" check $MNT/a 11 2>&1) &&
	pass "a new direct map of a after a remount holds the pattern" ||
	fail "a direct map of a after a remount: expected the pattern, got: $out"

# 3. Truncate and unlink while mapped.  The victim's blocks stay pinned:
# files allocated afterwards (the allocator takes the leftmost free run,
# where the freed blocks would be) must not get them, or the holder's
# stores after "go" would overwrite their data.
map_new victim $FSZ 21
hold victim 21 22
truncate -s 4096 $MNT/victim || fail "truncate of a mapped file"
check "victim size after truncate" 4096 "$(stat -c %s $MNT/victim)"
map_new b $FSZ 31
hold_go
same b "after the victim's holder stored over its truncated blocks"
rm $MNT/victim || fail "unlink of a mapped file"
map_new c $FSZ 41
same b "after the victim was unlinked and c allocated"
same c "while the unlinked victim is still mapped"
hold_exit "of the truncated and unlinked victim"
same b "after the victim's last unmap"
same c "after the victim's last unmap"
timing "truncate and unlink while mapped"

# 4. kill -9 of the daemon under two live mappings.  k's holder keeps
# persisting without it; after a restart (recovery) k holds what it
# persisted.  j is truncated after the restart: the new daemon must still
# keep j's old blocks (it finds the mapping by the client's OFD lock on
# /dev/dax0.0, fs/dmap_restore.c), so a file allocated afterwards keeps its
# data while j's holder stores over its whole old mapping.
kill_and_restart() {
	map_new k $FSZ 51
	map_new j $FSZ 71
	hold j 71 72
	Hj=$H Sj=$S
	hold k 51 52
	kill -9 $DAEMON_PID
	wait $DAEMON_PID 2>/dev/null
	DAEMON_PID=
	# the holders keep fds of the dead connection: detach lazily
	umount -l $MNT || die "umount -l $MNT after kill -9 of the daemon"
	hold_go
	mount_pm
	if grep -q "was not unmounted cleanly" $DAEMON_LOG; then
		pass "the restarted daemon recovered after kill -9"
	else
		fail "restart after kill -9: expected 'was not unmounted cleanly' in the daemon log"
	fi
	ref k $FSZ 52
	same k "after kill -9 of the daemon and a restart (stored while it was dead)"
	hold_exit "of k across the daemon's kill -9"
	truncate -s 0 $MNT/j || fail "truncate of j after the restart"
	map_new e $FSZ 81
	H=$Hj S=$Sj
	hold_go
	same e "after a mapping made before the restart stored over j's truncated blocks"
	hold_exit "of j, truncated after the restart"
	same e "after the last mapping of j went"
	same a "after the daemon's kill -9 and restart"
	same b "after the daemon's kill -9 and restart"
	same c "after the daemon's kill -9 and restart"
	timing "kill -9 and restart"
}
# The restart logic does not depend on the alignment: the 2 MiB boot runs
# it, the 4 KiB one stays short (TCG).
[ "$align" -lt $((2 * MIB)) ] || kill_and_restart

umount_pm
pass "clean unmount"
fsck_clean "after the direct maps"
finish
