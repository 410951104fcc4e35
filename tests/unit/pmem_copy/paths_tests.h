/*
 * paths_tests.h - the tests of the pmem_copy_paths binary, which meson
 * runs once per instruction-set / flush / environment setting.
 */
#ifndef PMEM_COPY_PATHS_TESTS_H
#define PMEM_COPY_PATHS_TESTS_H

void test_copy_isa_matches_cpu_and_environment(void **state);
void test_flush_instruction_matches_cpu_and_environment(void **state);
void test_movnt_threshold_matches_environment(void **state);

void test_memcpy_every_head_and_tail_misalignment(void **state);
void test_memcpy_every_short_length_and_alignment(void **state);
void test_memmove_overlapping_both_directions(void **state);
void test_memmove_same_address_and_zero_length_are_noops(void **state);
void test_long_copies_and_fills(void **state);
void test_long_overlapping_moves(void **state);

void test_memset_every_head_and_tail_misalignment(void **state);
void test_memset_every_short_length_and_alignment(void **state);
void test_memset_zero_length_is_noop(void **state);

void test_flush_and_persist_stay_inside_their_range(void **state);
void test_persist_iov_flushes_every_range(void **state);
void test_has_hw_drain_is_zero_like_pmdk(void **state);

void test_memcpy_aligned_fields_are_never_torn(void **state);
void test_memset_aligned_fields_are_never_torn(void **state);

#endif /* PMEM_COPY_PATHS_TESTS_H */
