/*
 * mmap_hint_test.c - PMEM_MMAP_HINT through the public library.  meson
 * runs it with PMEM_MMAP_HINT=0x200000000000 (argv[1] "hint"): mappings must
 * then sit at the first free aligned address at or above 32 TiB (chosen
 * above ASan's shadow memory), one after the other; and with an invalid
 * value (argv[1] "ignored"): the variable is ignored and mappings are
 * placed as usual, still aligned.
 */
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
#define HINT ((uintptr_t)0x200000000000ULL)

static bool Hint_expected;

static void test_mappings_follow_the_hint(void **state)
{
	(void)state;
	char *dir = scratch_dir("/dev/shm", "hint");
	char *file = path_join(dir, "file");
	size_t len = 4 * MIB;
	char *first =
	    pmem_map_file(file, len, PMEM_FILE_CREATE | PMEM_FILE_SPARSE, 0600, NULL, NULL);
	assert_non_null(first);
	char *second = pmem_map_file(file, 0, 0, 0, NULL, NULL);
	assert_non_null(second);

	assert_int_equal((uintptr_t)first % (2 * MIB), 0);
	assert_int_equal((uintptr_t)second % (2 * MIB), 0);
	if (Hint_expected) {
		if ((uintptr_t)first != HINT)
			fail_msg("expected the first mapping at the hint %#lx, found %p",
				 (unsigned long)HINT, first);
		if ((uintptr_t)second != HINT + len)
			fail_msg("expected the second mapping right after the first (%#lx), "
				 "found %p",
				 (unsigned long)(HINT + len), second);
	} else if ((uintptr_t)first == HINT || (uintptr_t)second == HINT) {
		fail_msg("expected an invalid PMEM_MMAP_HINT to be ignored, a mapping sits at "
			 "%#lx",
			 (unsigned long)HINT);
	}
	assert_int_equal(pmem_unmap(first, len), 0);
	assert_int_equal(pmem_unmap(second, len), 0);
	remove_tree(dir);
	free(file);
	free(dir);
}

int main(int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "hint") != 0 && strcmp(argv[1], "ignored") != 0)) {
		fprintf(stderr, "usage: %s hint|ignored\n", argv[0]);
		return 2;
	}
	Hint_expected = strcmp(argv[1], "hint") == 0;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mappings_follow_the_hint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
