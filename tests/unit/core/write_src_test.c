/*
 * write_src_test.c - pmfs_write_src(), the write whose data comes from a
 * stream (the daemon's spliced pipe): the stream is consumed in file order,
 * exactly once, and a source that fails ends the write with what was
 * committed before, never with data that was not copied.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "persist.h"

/* A source over a buffer that fails with -EIO once 'fail_at' bytes were
 * taken (SIZE_MAX: never), like a pipe that runs dry. */
struct test_src {
	const char *data;
	size_t taken;
	size_t fail_at;
	unsigned calls;
};

static int test_copy(void *ctx, void *dst, size_t n)
{
	struct test_src *s = ctx;

	s->calls++;
	if (s->taken + n > s->fail_at)
		return -EIO;
	pm_copy_nt(dst, s->data + s->taken, n);
	s->taken += n;
	return 0;
}

static char *pattern(size_t len, unsigned seed)
{
	char *p = malloc(len);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < len; i++)
		p[i] = (char)(i * 131 + seed + (i >> 12));
	return p;
}

/* 3 MiB + 123 bytes at an unaligned offset, half over existing blocks:
 * read back equals the stream, and all of it was taken, in order. */
static void test_write_src_stream_in_order(void **state)
{
	struct core_env env;
	size_t len = (3u << 20) + 123, off = 5000;
	char *old = pattern(1u << 20, 1), *data = pattern(len, 7), *back = malloc(off + len);
	struct test_src s = {.data = data, .fail_at = SIZE_MAX};
	const struct pmfs_wsrc src = {.copy = test_copy, .ctx = &s};
	pmfs_ino_t f;

	(void)state;
	core_setup(&env, "wsrc_order", 64u << 20, 0);
	f = mk_file(env.fs, PMFS_ROOT_INO, "f");
	expect_eq(pmfs_write(env.fs, f, old, 1u << 20, 0, 0), 1u << 20);
	expect_eq(pmfs_write_src(env.fs, f, &src, len, (off_t)off, 0), len);
	expect_eq(s.taken, len);
	expect_eq(pmfs_read(env.fs, f, back, off + len, 0), off + len);
	if (memcmp(back, old, off) != 0)
		fail_msg("bytes before the write: expected the old data, found others");
	if (memcmp(back + off, data, len) != 0)
		fail_msg("written range: expected the stream's bytes in order, found others");
	core_remount(&env);
	expect_eq(pmfs_read(env.fs, f, back, off + len, 0), off + len);
	if (memcmp(back + off, data, len) != 0)
		fail_msg("after remount: expected the stream's bytes, found others");
	core_teardown(&env);
	free(old);
	free(data);
	free(back);
}

/* The source fails at once: -EIO, the file keeps its size and bytes. */
static void test_write_src_failing_source_writes_nothing(void **state)
{
	struct core_env env;
	char *data = pattern(1u << 20, 3), buf[16];
	struct test_src s = {.data = data, .fail_at = 0};
	const struct pmfs_wsrc src = {.copy = test_copy, .ctx = &s};
	struct stat st;
	pmfs_ino_t f;

	(void)state;
	core_setup(&env, "wsrc_fail", 64u << 20, 0);
	f = mk_file(env.fs, PMFS_ROOT_INO, "f");
	expect_eq(pmfs_write(env.fs, f, "0123456789", 10, 0, 0), 10);
	expect_err(pmfs_write_src(env.fs, f, &src, 1u << 20, 10, 0), EIO);
	expect_ok(pmfs_getattr(env.fs, f, &st));
	expect_eq(st.st_size, 10);
	expect_eq(pmfs_read(env.fs, f, buf, sizeof(buf), 0), 10);
	if (memcmp(buf, "0123456789", 10) != 0)
		fail_msg("file after a failed write: expected 0123456789, found other bytes");
	core_teardown(&env); /* fsck clean: the aborted tx's blocks are free */
	free(data);
}

/*
 * The source fails part-way through a write that spans several
 * transactions (every other block of the range is a hole, so each one is
 * an allocation and an extent edit, and the lane runs out of room): the
 * result is a short count, every byte in it came from the stream, and the
 * size is the one before (the whole range was inside the file).
 */
static void test_write_src_fails_midway_keeps_committed_prefix(void **state)
{
	struct core_env env;
	size_t len = 8u << 20, fail_at = (7u << 20) + 777, off;
	char *data = pattern(len, 5), *back = malloc(len);
	struct test_src s = {.data = data, .fail_at = fail_at};
	const struct pmfs_wsrc src = {.copy = test_copy, .ctx = &s};
	struct stat st;
	ssize_t ret;
	pmfs_ino_t f;

	(void)state;
	core_setup(&env, "wsrc_mid", 64u << 20, 0);
	f = mk_file(env.fs, PMFS_ROOT_INO, "f");
	for (off = 0; off < len; off += 8192)
		expect_eq(pmfs_write(env.fs, f, "x", 1, (off_t)off, 0), 1);
	ret = pmfs_write_src(env.fs, f, &src, len, 0, 0);
	print_message("source failing at %zu of %zu: the write returned %zd\n", fail_at, len, ret);
	if (ret <= 0 || (size_t)ret > fail_at)
		fail_msg("write with a source failing at %zu: expected 1..%zu, found %zd", fail_at,
			 fail_at, ret);
	expect_ok(pmfs_getattr(env.fs, f, &st));
	expect_eq(st.st_size, len - 8192 + 1); /* the last "x" was there before */
	expect_eq(pmfs_read(env.fs, f, back, (size_t)ret, 0), ret);
	if (memcmp(back, data, (size_t)ret) != 0)
		fail_msg("committed prefix: expected the stream's bytes, found others");
	core_teardown(&env);
	free(data);
	free(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_write_src_stream_in_order),
	    cmocka_unit_test(test_write_src_failing_source_writes_nothing),
	    cmocka_unit_test(test_write_src_fails_midway_keeps_committed_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
