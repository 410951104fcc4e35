# map.sh (guest) - libpmem's pmem_map_file() on /dev/dax0.0 with the
# namespace alignment DEVDAX_ALIGN (bytes).  Stage "map": make the
# namespace, then devdax_map checks the mapping (address and length
# aligned, whole device, is_pmem 1) and writes a persisted pattern that a
# new mapping reads back.  Stage "verify" (the next boot): the pattern is
# still on the NVDIMM.
. /pm/t/lib.sh
align=${DEVDAX_ALIGN:?}
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
	;;
*)
	die "map.sh: unknown stage $DEVDAX_STAGE"
	;;
esac
finish
