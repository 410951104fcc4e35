# map_4k.sh (host) - pmem_map_file() on a 4 KiB-aligned devdax namespace
# (ndctl create-namespace -a 4096): one boot maps, checks and writes
# (guest/map.sh), a second boot on the same NVDIMM reads the pattern back.
run_test() {
	local seed=$$
	check_qemu_runs
	boot DEVDAX_SCRIPT=map DEVDAX_STAGE=map DEVDAX_ALIGN=4096 DEVDAX_SEED=$seed
	expect_pass "map.sh (stage map)"
	boot DEVDAX_SCRIPT=map DEVDAX_STAGE=verify DEVDAX_ALIGN=4096 DEVDAX_SEED=$seed
	expect_pass "map.sh (stage verify)"
	note "PASS"
}
