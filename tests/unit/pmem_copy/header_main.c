/*
 * header_main.c - our libpmem.h has the same constant values as PMDK's
 * (compared at run time across two translation units), and both headers
 * compile together (header_both.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "header_constants.h"

int header_both_compiled(void);

#define SAME(field, fmt)                                                                           \
	do {                                                                                       \
		if (ours.field != pmdk.field)                                                      \
			fail_msg(#field ": PMDK's header has " fmt ", ours has " fmt, pmdk.field,  \
				 ours.field);                                                      \
	} while (0)

static void test_header_constants_equal_pmdk(void **state)
{
	(void)state;
	struct header_constants ours, pmdk;
	header_constants_ours(&ours);
	header_constants_pmdk(&pmdk);
	SAME(min_part, "%zu");
	SAME(file_create, "%ld");
	SAME(file_excl, "%ld");
	SAME(file_sparse, "%ld");
	SAME(file_tmpfile, "%ld");
	SAME(f_nodrain, "%lu");
	SAME(f_nontemporal, "%lu");
	SAME(f_temporal, "%lu");
	SAME(f_wc, "%lu");
	SAME(f_wb, "%lu");
	SAME(f_noflush, "%lu");
	SAME(f_valid, "%lu");
	SAME(major, "%ld");
	SAME(minor, "%ld");
}

static void test_headers_compile_together(void **state)
{
	(void)state;
	if (!header_both_compiled())
		fail_msg("PMEM_F_MEM_VALID_FLAGS with both headers: expected 0x3f");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_constants_equal_pmdk),
	    cmocka_unit_test(test_headers_compile_together),
	};
	return cmocka_run_group_tests_name("pmem_copy_header", tests, NULL, NULL);
}
