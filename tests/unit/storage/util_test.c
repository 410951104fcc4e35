/*
 * util_test.c - the checksum and the name hash are part of the format:
 * known-answer tests pin them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "helpers.h"

static void crc32c_matches_known_answer(void **state)
{
	(void)state;
	assert_int_equal(pmfs_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(pmfs_crc32c(0, "", 0), 0);
}

static void crc32c_continues_across_calls(void **state)
{
	char buf[1000];
	uint32_t whole, parts;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7 + 3);
	whole = pmfs_crc32c(0, buf, sizeof(buf));
	parts = pmfs_crc32c(pmfs_crc32c(0, buf, 333), buf + 333, sizeof(buf) - 333);
	assert_int_equal(whole, parts);
	/* An unaligned start and odd length take the byte-wise tail too. */
	assert_int_equal(pmfs_crc32c(pmfs_crc32c(0, buf, 1), buf + 1, 998),
			 pmfs_crc32c(0, buf, 999));
}

static void name_hash_is_fnv1a_and_never_zero(void **state)
{
	(void)state;
	assert_int_equal(pmfs_name_hash("a", 1), 0xe40c292cu);
	assert_int_equal(pmfs_name_hash("foobar", 6), 0xbf9cf968u);
	assert_int_equal(pmfs_name_hash("", 0), 0x811c9dc5u);
	for (unsigned i = 0; i < 100000; i++) {
		char name[16];
		int n = snprintf(name, sizeof(name), "f%u", i);

		assert_int_not_equal(pmfs_name_hash(name, (size_t)n), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(crc32c_matches_known_answer),
	    cmocka_unit_test(crc32c_continues_across_calls),
	    cmocka_unit_test(name_hash_is_fnv1a_and_never_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
