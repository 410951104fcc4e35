# workload.sh (host) - one boot: mkfs, mount, tar round trip, fsrand,
# remount and fsck on /dev/dax0.0 (guest/workload.sh).
# PMEMFS_DEVDAX_SEED and PMEMFS_DEVDAX_OPS change fsrand's run.
run_test() {
	check_qemu_runs
	boot DEVDAX_SCRIPT=workload "DEVDAX_SEED=${PMEMFS_DEVDAX_SEED:-1}" \
		"DEVDAX_OPS=${PMEMFS_DEVDAX_OPS:-3000}"
	expect_pass workload.sh
	note "PASS"
}
