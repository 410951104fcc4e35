# dmap_4k.sh (host) - direct maps (pmem_map_file on a pmemfs file, its
# extents mapped straight from /dev/dax0.0) on a 4 KiB-aligned namespace
# (ndctl create-namespace -a 4096): one boot runs guest/dmap.sh.
run_test() {
	check_qemu_runs
	boot DEVDAX_SCRIPT=dmap DEVDAX_ALIGN=4096
	expect_pass "dmap.sh (align 4 KiB)"
	note "PASS"
}
