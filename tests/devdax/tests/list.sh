# list.sh (host) - one boot: mkfs.pmemfs --list on a fresh 2 MiB-aligned
# devdax namespace (guest/list.sh).
run_test() {
	check_qemu_runs
	boot DEVDAX_SCRIPT=list
	expect_pass list.sh
	note "PASS"
}
