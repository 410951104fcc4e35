/*
 * paths_main.c - runs the copy, set, flush and dispatch tests against
 * whatever paths libpmem chose at load for this run's environment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "paths_tests.h"

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_copy_isa_matches_cpu_and_environment),
	    cmocka_unit_test(test_flush_instruction_matches_cpu_and_environment),
	    cmocka_unit_test(test_movnt_threshold_matches_environment),
	    cmocka_unit_test(test_memcpy_every_head_and_tail_misalignment),
	    cmocka_unit_test(test_memcpy_every_short_length_and_alignment),
	    cmocka_unit_test(test_memmove_overlapping_both_directions),
	    cmocka_unit_test(test_memmove_same_address_and_zero_length_are_noops),
	    cmocka_unit_test(test_long_copies_and_fills),
	    cmocka_unit_test(test_long_overlapping_moves),
	    cmocka_unit_test(test_memset_every_head_and_tail_misalignment),
	    cmocka_unit_test(test_memset_every_short_length_and_alignment),
	    cmocka_unit_test(test_memset_zero_length_is_noop),
	    cmocka_unit_test(test_flush_and_persist_stay_inside_their_range),
	    cmocka_unit_test(test_persist_iov_flushes_every_range),
	    cmocka_unit_test(test_has_hw_drain_is_zero_like_pmdk),
	    cmocka_unit_test(test_memcpy_aligned_fields_are_never_torn),
	    cmocka_unit_test(test_memset_aligned_fields_are_never_torn),
	};
	return cmocka_run_group_tests_name("pmem_copy_paths", tests, NULL, NULL);
}
