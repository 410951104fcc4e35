# dmap_2m.sh (host) - direct maps (pmem_map_file on a pmemfs file, its
# extents mapped straight from /dev/dax0.0) on a 2 MiB-aligned namespace:
# one boot runs guest/dmap.sh.
run_test() {
	check_qemu_runs
	boot DEVDAX_SCRIPT=dmap DEVDAX_ALIGN=2097152
	expect_pass "dmap.sh (align 2 MiB)"
	note "PASS"
}
