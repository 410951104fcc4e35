# workload.sh (guest) - pmemfs on /dev/dax0.0: mkfs, mount with
# pmemfs-fuse, a tar round trip of a few MiB of headers compared byte for
# byte, fsrand (lock-step random operations against a tmpfs reference),
# then a clean unmount, fsck, a remount and the compare again.
. /pm/t/lib.sh
ensure_devdax 2097152
"$MKFS_PMEMFS" $DEV >/tmp/mkfs.log 2>&1 || die "mkfs.pmemfs $DEV: $(cat /tmp/mkfs.log)"
if grep -q '(devdax)' /tmp/mkfs.log; then
	pass "mkfs.pmemfs $DEV formats it as devdax"
else
	fail "mkfs.pmemfs $DEV: expected '(devdax)' in its output, got: $(head -n 3 /tmp/mkfs.log)"
fi
grep -E 'alignment|size ' /tmp/mkfs.log | sed 's/^/NOTE: mkfs: /'
mount_pm
line=$(grep -m 1 'mounted' $DAEMON_LOG || true)
case $line in
*"(devdax,"*"; clean;"*) pass "pmemfs-fuse mounted $DEV as devdax, clean" ;;
*) fail "pmemfs-fuse $DEV: expected the log line '... (devdax, ...; clean; ...', got '$line'" ;;
esac
timing "mounted"

files=$(find /pm/tree -type f | wc -l)
kib=$(du -sk /pm/tree | cut -f1)
note "tar round trip of $files files, $kib KiB"
(cd /pm/tree && find . -type f | LC_ALL=C sort | xargs md5sum) >/tmp/tree.md5
tar -C /pm -cf $MNT/tree.tar tree || die "tar -cf $MNT/tree.tar failed"
tar -C /pm -cf /tmp/tree.tar tree || die "tar -cf /tmp/tree.tar failed"
if cmp /tmp/tree.tar $MNT/tree.tar; then
	pass "the archive written to pmemfs equals the same archive on tmpfs (cmp, $(wc -c </tmp/tree.tar) bytes)"
else
	fail "cmp of the archive on pmemfs with the one on tmpfs: expected equal, got a difference"
fi
rm /tmp/tree.tar
mkdir $MNT/x
tar -C $MNT/x -xf $MNT/tree.tar || die "tar -xf into $MNT/x failed"
if diff -r /pm/tree $MNT/x/tree >/tmp/diff.log 2>&1; then
	pass "tar extract on pmemfs equals the source tree (diff -r)"
else
	fail "tar extract on pmemfs: expected no differences, got: $(head -n 5 /tmp/diff.log)"
fi
mkdir /tmp/back
tar -C $MNT/x -cf - tree | tar -C /tmp/back -xf - || die "tar from pmemfs back to tmpfs failed"
if (cd /tmp/back/tree && md5sum -c -s /tmp/tree.md5); then
	pass "tar back out of pmemfs: every file's md5 matches the source"
else
	fail "tar back out of pmemfs: expected every md5 to match, got mismatches"
fi

timing "tar round trip done"
mkdir $MNT/rand /tmp/ref
if "$FSRAND" --seed "${DEVDAX_SEED:-1}" --ops "${DEVDAX_OPS:-3000}" $MNT/rand /tmp/ref; then
	pass "fsrand --seed ${DEVDAX_SEED:-1} --ops ${DEVDAX_OPS:-3000} against a tmpfs reference"
else
	fail "fsrand --seed ${DEVDAX_SEED:-1} --ops ${DEVDAX_OPS:-3000}: expected no difference from tmpfs"
fi
timing "fsrand done"
df -k $MNT | tail -n 1 | sed 's/^/NOTE: df: /'
umount_pm
pass "clean unmount"
fsck_clean "after the workload"

mount_pm
if (cd $MNT/x/tree && md5sum -c -s /tmp/tree.md5) && diff -r /pm/tree $MNT/x/tree >/dev/null 2>&1; then
	pass "after a remount the extracted tree still equals the source"
else
	fail "after a remount: expected the extracted tree to equal the source, got differences"
fi
umount_pm
fsck_clean "after the remount"
finish
