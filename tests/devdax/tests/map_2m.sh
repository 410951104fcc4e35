# map_2m.sh (host) - pmem_map_file() on a 2 MiB-aligned devdax namespace:
# one boot maps, checks and writes (guest/map.sh), a second boot on the
# same NVDIMM reads the persisted pattern back.
run_test() {
	local seed=$$
	check_qemu_runs
	boot DEVDAX_SCRIPT=map DEVDAX_STAGE=map DEVDAX_ALIGN=2097152 DEVDAX_SEED=$seed
	expect_pass "map.sh (stage map)"
	boot DEVDAX_SCRIPT=map DEVDAX_STAGE=verify DEVDAX_ALIGN=2097152 DEVDAX_SEED=$seed
	expect_pass "map.sh (stage verify)"
	note "PASS"
}
