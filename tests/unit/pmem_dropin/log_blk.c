/*
 * log_blk.c - Debian's libpmemlog and libpmemblk running on our
 * libpmem.so.1: appends to a log pool and writes blocks to a block pool,
 * then closes, reopens and reads everything back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpmemblk.h>
#include <libpmemlog.h>

#include "dropin_check.h"
#include "dropin_fixture.h"

#define LOG_POOL_SIZE (8u << 20)
#define BLK_POOL_SIZE (32u << 20)
#define BLOCK_SIZE 4096
#define NRECORDS 200
#define NBLOCKS_WRITTEN 64

/* Record i is "record <i>" padded to a length that varies with i. */
static size_t make_record(char *buf, size_t len, int i)
{
	size_t n = (size_t)snprintf(buf, len, "record %d", i);

	memset(buf + n, 'a' + i % 26, (size_t)(i % 40));
	return n + (size_t)(i % 40);
}

/* pmemlog keeps bytes, not records: the log must equal all records joined. */
static size_t make_log(char *buf, size_t len)
{
	size_t used = 0;

	for (int i = 0; i < NRECORDS; i++) {
		assert_true(len - used >= 128);
		used += make_record(buf + used, len - used, i);
	}
	return used;
}

struct walk_state {
	const char *expect;
	size_t expect_len;
	size_t found_len;
	long first_difference;
	int calls;
};

static int check_log(const void *buf, size_t len, void *arg)
{
	struct walk_state *walk = arg;
	const char *found = buf;

	for (size_t i = 0; i < len && walk->first_difference < 0; i++) {
		size_t at = walk->found_len + i;

		if (at >= walk->expect_len || found[i] != walk->expect[at])
			walk->first_difference = (long)at;
	}
	walk->found_len += len;
	walk->calls++;
	return 1;
}

static void test_log_appends_survive_reopen(void **state)
{
	char *path = dropin_pool_path("log.pool");
	PMEMlogpool *plp = pmemlog_create(path, LOG_POOL_SIZE, 0600);
	static char expect[NRECORDS * 128];
	struct walk_state walk = {.expect = expect, .first_difference = -1};
	char record[128];

	(void)state;
	walk.expect_len = make_log(expect, sizeof(expect));
	if (!plp)
		fail_msg("pmemlog_create %s: expected a pool, found error: %s", path,
			 pmemlog_errormsg());
	for (int i = 0; i < NRECORDS; i++) {
		size_t len = make_record(record, sizeof(record), i);

		if (pmemlog_append(plp, record, len) != 0)
			fail_msg("pmemlog_append %d: expected 0, found error: %s", i,
				 pmemlog_errormsg());
	}
	pmemlog_close(plp);

	plp = pmemlog_open(path);
	if (!plp)
		fail_msg("pmemlog_open %s: expected the pool to open, found error: %s", path,
			 pmemlog_errormsg());
	if (pmemlog_tell(plp) != (long long)walk.expect_len)
		fail_msg("pmemlog_tell after reopen: expected %zu, found %lld", walk.expect_len,
			 pmemlog_tell(plp));
	/* chunks of 100 bytes, so the walk crosses record boundaries */
	pmemlog_walk(plp, 100, check_log, &walk);
	if (walk.first_difference >= 0)
		fail_msg("log after reopen: expected the appended bytes, found a difference at "
			 "offset %ld",
			 walk.first_difference);
	if (walk.found_len != walk.expect_len)
		fail_msg("log after reopen: expected %zu bytes, found %zu", walk.expect_len,
			 walk.found_len);
	pmemlog_close(plp);
	free(path);
}

static void fill_block(unsigned char *buf, long long blockno)
{
	for (size_t i = 0; i < BLOCK_SIZE; i++)
		buf[i] = (unsigned char)(blockno * 31 + (long long)i);
}

static void test_blk_writes_survive_reopen(void **state)
{
	char *path = dropin_pool_path("blk.pool");
	PMEMblkpool *pbp = pmemblk_create(path, BLOCK_SIZE, BLK_POOL_SIZE, 0600);
	unsigned char expect[BLOCK_SIZE], found[BLOCK_SIZE];
	long long nblocks;

	(void)state;
	if (!pbp)
		fail_msg("pmemblk_create %s: expected a pool, found error: %s", path,
			 pmemblk_errormsg());
	nblocks = (long long)pmemblk_nblock(pbp);
	if (nblocks < NBLOCKS_WRITTEN * 2)
		fail_msg("pmemblk_nblock: expected at least %d, found %lld", NBLOCKS_WRITTEN * 2,
			 nblocks);
	/* every other block, so unwritten ones in between must read as zero */
	for (long long b = 0; b < NBLOCKS_WRITTEN * 2; b += 2) {
		fill_block(expect, b);
		if (pmemblk_write(pbp, expect, b) != 0)
			fail_msg("pmemblk_write block %lld: expected 0, found error: %s", b,
				 pmemblk_errormsg());
	}
	pmemblk_close(pbp);

	pbp = pmemblk_open(path, BLOCK_SIZE);
	if (!pbp)
		fail_msg("pmemblk_open %s: expected the pool to open, found error: %s", path,
			 pmemblk_errormsg());
	for (long long b = 0; b < NBLOCKS_WRITTEN * 2; b++) {
		if (b % 2 == 0)
			fill_block(expect, b);
		else
			memset(expect, 0, sizeof(expect));
		if (pmemblk_read(pbp, found, b) != 0)
			fail_msg("pmemblk_read block %lld: expected 0, found error: %s", b,
				 pmemblk_errormsg());
		if (memcmp(found, expect, sizeof(expect)) != 0)
			fail_msg("block %lld after reopen: expected %s contents, found different "
				 "bytes",
				 b, b % 2 == 0 ? "the written" : "zero");
	}
	pmemblk_close(pbp);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(dropin_test_ours_is_loaded),
	    cmocka_unit_test(test_log_appends_survive_reopen),
	    cmocka_unit_test(test_blk_writes_survive_reopen),
	};

	return cmocka_run_group_tests_name("pmem_dropin_log_blk", tests, dropin_group_setup,
					   dropin_group_teardown);
}
