# autoflush_cpu.sh (host) - -machine nvdimm-persistence=cpu: the region's
# persistence domain is cpu_cache and pmem_has_auto_flush() returns 1.
run_test() {
	check_qemu_runs
	PERSIST=cpu
	boot DEVDAX_SCRIPT=autoflush DEVDAX_DOMAIN=cpu_cache DEVDAX_AUTO_FLUSH=1
	expect_pass autoflush.sh
	note "PASS"
}
