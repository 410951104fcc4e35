/*
 * is_pmem_force_test.c - PMEM_IS_PMEM_FORCE through the public library.
 * meson runs this binary three times: with the variable unset (argv[1]
 * "detect"), set to 0 ("0") and set to 1 ("1").  A /dev/shm mapping is
 * never pmem by detection, so only the forced runs differ.  The variable is
 * read once, at the first pmem_is_pmem() call (PMDK semantics): changing it
 * afterwards must not change the answers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "libpmem.h"
#include "test_util.h"

#define MIB ((size_t)1 << 20)

static int Expected; /* pmem_is_pmem() on a mapped range, from argv[1] */

static void test_is_pmem_of_mapping_follows_force(void **state)
{
	(void)state;
	char *dir = scratch_dir("/dev/shm", "force");
	char *file = path_join(dir, "file");
	int is_pmem = -1;
	void *addr = pmem_map_file(file, 4 * MIB, PMEM_FILE_CREATE, 0600, NULL, &is_pmem);
	assert_non_null(addr);
	if (is_pmem != Expected)
		fail_msg("expected *is_pmemp == %d, found %d", Expected, is_pmem);
	if (pmem_is_pmem(addr, 4 * MIB) != Expected)
		fail_msg("expected pmem_is_pmem() == %d on the mapping", Expected);
	assert_int_equal(pmem_unmap(addr, 4 * MIB), 0);
	remove_tree(dir);
	free(file);
	free(dir);
}

static void test_is_pmem_of_ordinary_memory_follows_force(void **state)
{
	(void)state;
	static char buffer[4096];
	int answer = pmem_is_pmem(buffer, sizeof(buffer));
	if (answer != Expected)
		fail_msg("expected pmem_is_pmem(static buffer) == %d, found %d", Expected, answer);
}

static void test_zero_length_is_never_pmem(void **state)
{
	(void)state;
	static char buffer[64];
	assert_int_equal(pmem_is_pmem(buffer, 0), 0);
}

static void test_force_is_read_only_once(void **state)
{
	(void)state;
	static char buffer[64];
	int before = pmem_is_pmem(buffer, sizeof(buffer));
	setenv("PMEM_IS_PMEM_FORCE", Expected == 1 ? "0" : "1", 1);
	int after = pmem_is_pmem(buffer, sizeof(buffer));
	if (after != before)
		fail_msg("expected the answer to stay %d after changing PMEM_IS_PMEM_FORCE, "
			 "found %d",
			 before, after);
}

int main(int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "detect") != 0 && strcmp(argv[1], "0") != 0 &&
			  strcmp(argv[1], "1") != 0)) {
		fprintf(stderr, "usage: %s detect|0|1 (the PMEM_IS_PMEM_FORCE in force)\n",
			argv[0]);
		return 2;
	}
	Expected = strcmp(argv[1], "1") == 0;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_is_pmem_of_mapping_follows_force),
	    cmocka_unit_test(test_is_pmem_of_ordinary_memory_follows_force),
	    cmocka_unit_test(test_zero_length_is_never_pmem),
	    cmocka_unit_test(test_force_is_read_only_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
