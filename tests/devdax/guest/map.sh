# map.sh (guest) - libpmem's pmem_map_file() on /dev/dax0.0 with the
# namespace alignment DEVDAX_ALIGN (bytes).  Stage "map": make the
# namespace, then devdax_map checks the mapping (address and length
# aligned, whole device, is_pmem 1) and writes a persisted pattern that a
# new mapping reads back.  Stage "verify" (the next boot): the pattern is
# still on the NVDIMM; then pmemfs itself on this alignment: --list, mkfs,
# mount, a copy compared byte for byte, unmount, fsck.
. /pm/t/lib.sh
align=${DEVDAX_ALIGN:?}
# pmemfs on a namespace of this alignment (after the pattern was checked:
# mkfs overwrites it).
pmemfs_on_namespace() {
	got=$("$MKFS_PMEMFS" --list | awk '$1 == "/dev/dax0.0" { print $5, $6 }')
	check "mkfs.pmemfs --list alignment of dax0.0" "align $align" "$got"
	"$MKFS_PMEMFS" $DEV >/tmp/mkfs.log 2>&1 || die "mkfs.pmemfs $DEV: $(cat /tmp/mkfs.log)"
	got=$(awk '$1 == "alignment" { print $2 }' /tmp/mkfs.log)
	check "mkfs.pmemfs records the namespace alignment" "$align" "$got"
	mount_pm
	# A 2 MiB binary and a directory of headers: enough for TCG.
	mkdir $MNT/tree
	cp -a /pm/tree/bin /pm/tree/linux/usb $MNT/tree/ || fail "cp -a to pmemfs failed"
	if diff -r /pm/tree/bin $MNT/tree/bin >/dev/null 2>&1 &&
		diff -r /pm/tree/linux/usb $MNT/tree/usb >/dev/null 2>&1; then
		pass "a copy on pmemfs over a $align-aligned namespace equals the source"
	else
		fail "copy on pmemfs over a $align-aligned namespace: expected no differences, got some"
	fi
	umount_pm
	fsck_clean "after the copy"
}

case ${DEVDAX_STAGE:?} in
map)
	ensure_devdax "$align"
	check "sysfs alignment of dax0.0" "$align" "$(cat /sys/bus/dax/devices/dax0.0/align)"
	note "dax0.0 size $(dev_size)"
	"$DEVDAX_MAP" map $DEV "$align" "$(dev_size)" "${DEVDAX_SEED:?}" || FAILS=$((FAILS + $?))
	;;
verify)
	wait_for $DEV || die "$DEV did not come back after a reboot"
	check "sysfs alignment of dax0.0 after a reboot" "$align" \
		"$(cat /sys/bus/dax/devices/dax0.0/align)"
	"$DEVDAX_MAP" verify $DEV "$align" "${DEVDAX_SEED:?}" || FAILS=$((FAILS + $?))
	pmemfs_on_namespace
	;;
*)
	die "map.sh: unknown stage $DEVDAX_STAGE"
	;;
esac
finish
