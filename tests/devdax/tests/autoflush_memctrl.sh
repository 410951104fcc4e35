# autoflush_memctrl.sh (host) - -machine nvdimm-persistence=mem-ctrl: the
# region's persistence domain is memory_controller and pmem_has_auto_flush()
# returns 0.
run_test() {
	check_qemu_runs
	PERSIST=mem-ctrl
	boot DEVDAX_SCRIPT=autoflush DEVDAX_DOMAIN=memory_controller DEVDAX_AUTO_FLUSH=0
	expect_pass autoflush.sh
	note "PASS"
}
