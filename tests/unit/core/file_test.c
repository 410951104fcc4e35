/*
 * file_test.c - the data path: write/read round trips (aligned, unaligned,
 * sparse, appends), holes reading zeros, zero-copy reads, truncate up and
 * down, fallocate modes, SEEK_DATA/SEEK_HOLE, copy_file_range, EFBIG,
 * files whose extent map overflows the inode, setattr, xattrs, ENOSPC in
 * the middle of a write, and fill/delete/fill of the whole device.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "extent.h"
#include "helpers.h"

#define KiB 1024ULL
#define MiB (1024ULL * 1024)
#define ROOT PMFS_ROOT_INO

CORE_FIXTURE("file", 64 * MiB)

/* Reads [off, off+len) and compares with the pattern (or zeros). */
static void check_range(struct pmfs *fs, pmfs_ino_t f, uint64_t off, size_t len, uint64_t seed,
			bool zeros)
{
	char *got = malloc(len), *want = malloc(len);

	if (zeros)
		memset(want, 0, len);
	else
		fill_pattern(want, len, seed, off);
	expect_eq(pmfs_read(fs, f, got, len, (off_t)off), len);
	for (size_t i = 0; i < len; i++)
		if (got[i] != want[i])
			fail_msg("byte %llu: expected 0x%02x, found 0x%02x",
				 (unsigned long long)(off + i), (unsigned char)want[i],
				 (unsigned char)got[i]);
	free(got);
	free(want);
}

static void test_write_read_unaligned_round_trip(void **state)
{
	struct pmfs *fs = FS(state);
	pmfs_ino_t f = mk_file(fs, ROOT, "f");

	write_pattern(fs, f, 100, 10000, 1);
	expect_eq(stat_of(fs, f).st_size, 10100);
	check_range(fs, f, 0, 100, 0, true);
	check_range(fs, f, 100, 10000, 1, false);
	/* overwrite across a block boundary */
	write_pattern(fs, f, 4000, 300, 2);
	check_range(fs, f, 4000, 300, 2, false);
	check_range(fs, f, 4300, 5800, 1, false);
	/* reads past EOF are short */
	char buf[64];
	expect_eq(pmfs_read(fs, f, buf, 64, 10090), 10);
	expect_eq(pmfs_read(fs, f, buf, 64, 20000), 0);
	expect_eq(stat_of(fs, f).st_blocks, 3 * 8);
}

static void test_append_flag_writes_at_end(void **state)
{
	struct pmfs *fs = FS(state);
	pmfs_ino_t f = mk_file(fs, ROOT, "log");
	char buf[8];

	expect_eq(pmfs_write(fs, f, "abc", 3, 0, 0), 3);
	expect_eq(pmfs_write(fs, f, "def", 3, 0, PMFS_WRITE_APPEND), 3);
	expect_eq(pmfs_read(fs, f, buf, 8, 0), 6);
	assert_memory_equal(buf, "abcdef", 6);
}

static void test_sparse_file_holes_read_zero_and_seek(void **state)
{
	struct pmfs *fs = FS(state);
	pmfs_ino_t f = mk_file(fs, ROOT, "sparse");

	write_pattern(fs, f, 1 * MiB, 4096, 3);
	write_pattern(fs, f, 5 * MiB + 10, 100, 4);
	expect_eq(stat_of(fs, f).st_size, 5 * MiB + 110);
	expect_eq(stat_of(fs, f).st_blocks, 2 * 8);
	check_range(fs, f, 0, 1 * MiB, 0, true);
	check_range(fs, f, 1 * MiB, 4096, 3, false);
	check_range(fs, f, 5 * MiB, 10, 0, true);
	expect_eq(pmfs_lseek(fs, f, 0, SEEK_DATA), 1 * MiB);
	expect_eq(pmfs_lseek(fs, f, 0, SEEK_HOLE), 0);
	expect_eq(pmfs_lseek(fs, f, 1 * MiB, SEEK_HOLE), 1 * MiB + 4096);
	expect_eq(pmfs_lseek(fs, f, 1 * MiB + 4096, SEEK_DATA), 5 * MiB);
	expect_eq(pmfs_lseek(fs, f, 5 * MiB + 50, SEEK_HOLE), 5 * MiB + 110);
	expect_err(pmfs_lseek(fs, f, 5 * MiB + 110, SEEK_DATA), ENXIO);
	expect_err(pmfs_lseek(fs, f, 6 * MiB, SEEK_HOLE), ENXIO);
}

struct iter_ctx {
	char *buf;
	size_t bytes;
	int iovcnt;
};

static int gather(void *ctx, const struct iovec *iov, int iovcnt, size_t bytes)
{
	struct iter_ctx *c = ctx;
	size_t pos = 0;

	for (int i = 0; i < iovcnt; i++) {
		memcpy(c->buf + pos, iov[i].iov_base, iov[i].iov_len);
		pos += iov[i].iov_len;
	}
	c->bytes = bytes;
	c->iovcnt = iovcnt;
	return pos == bytes ? 7 : -EIO;
}

static void test_read_iter_points_into_mapping(void **state)
{
	struct pmfs *fs = FS(state);
	pmfs_ino_t f = mk_file(fs, ROOT, "iter");
	struct iter_ctx c = {malloc(1 * MiB), 0, 0};
	char *want = calloc(1, 1 * MiB);

	write_pattern(fs, f, 200 * KiB, 100 * KiB, 5);
	fill_pattern(want + 200 * KiB, 100 * KiB, 5, 200 * KiB);
	expect_eq(pmfs_read_iter(fs, f, 1 * MiB, 0, gather, &c), 7);
	expect_eq(c.bytes, 300 * KiB);
	assert_true(c.iovcnt >= 2);
	assert_memory_equal(c.buf, want, 300 * KiB);
	free(c.buf);
	free(want);
}

static void test_truncate_down_then_up_reads_zeros(void **state)
{
	struct pmfs *fs = FS(state);
	pmfs_ino_t f = mk_file(fs, ROOT, "trunc");
	uint64_t free0 = pmfs_free_blocks(fs);
	struct stat st = {.st_size = 5000};

	write_pattern(fs, f, 0, 3 * MiB, 6);
	expect_ok(pmfs_setattr(fs, f, &st, PMFS_SET_SIZE, NULL));
	expect_eq(stat_of(fs, f).st_size, 5000);
	expect_eq(stat_of(fs, f).st_blocks, 2 * 8);
	expect_eq(pmfs_free_blocks(fs), free0 - 2);
	st.st_size = 3 * MiB;
	expect_ok(pmfs_setattr(fs, f, &st, PMFS_SET_SIZE, NULL));
	check_range(fs, f, 0, 5000, 6, false);
	check_range(fs, f, 5000, 3 * MiB - 5000, 0, true);
	/* extension by a write past EOF zeroes the stale tail too */
	st.st_size = 100;
	expect_ok(pmfs_setattr(fs, f, &st, PMFS_SET_SIZE, NULL));
	write_pattern(fs, f, 200, 10, 7);
	check_range(fs, f, 100, 100, 0, true);
	st.st_size = -1;
	expect_err(pmfs_setattr(fs, f, &st, PMFS_SET_SIZE, NULL), EINVAL);
	st.st_size = 0;
	expect_err(pmfs_setattr(fs, ROOT, &st, PMFS_SET_SIZE, NULL), EISDIR);
}

static void test_fallocate_modes(void **state)
{
	struct pmfs *fs = FS(state);
	pmfs_ino_t f = mk_file(fs, ROOT, "falloc");

	expect_ok(pmfs_fallocate(fs, f, 0, 0, 1 * MiB));
	expect_eq(stat_of(fs, f).st_size, 1 * MiB);
	expect_eq(stat_of(fs, f).st_blocks, 256 * 8);
	check_range(fs, f, 0, 1 * MiB, 0, true);
	expect_ok(pmfs_fallocate(fs, f, FALLOC_FL_KEEP_SIZE, 1 * MiB, 1 * MiB));
	expect_eq(stat_of(fs, f).st_size, 1 * MiB);
	expect_eq(stat_of(fs, f).st_blocks, 512 * 8);
	/* punch: whole blocks freed, partial edges zeroed */
	write_pattern(fs, f, 0, 1 * MiB, 8);
	expect_ok(pmfs_fallocate(fs, f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 1000, 10000));
	check_range(fs, f, 0, 1000, 8, false);
	check_range(fs, f, 1000, 10000, 0, true);
	check_range(fs, f, 11000, 1000, 8, false);
	expect_eq(stat_of(fs, f).st_blocks, (512 - 1) * 8);
	expect_eq(pmfs_lseek(fs, f, 0, SEEK_HOLE), 4096);
	/* zero range keeps the blocks allocated and can extend the size */
	expect_ok(pmfs_fallocate(fs, f, FALLOC_FL_ZERO_RANGE, 100, 2 * MiB));
	check_range(fs, f, 0, 100, 8, false);
	check_range(fs, f, 100, 2 * MiB, 0, true);
	expect_eq(stat_of(fs, f).st_size, 2 * MiB + 100);
	expect_eq(pmfs_lseek(fs, f, 0, SEEK_HOLE), 2 * MiB + 100);
	expect_err(pmfs_fallocate(fs, f, FALLOC_FL_PUNCH_HOLE, 0, 4096), EOPNOTSUPP);
	expect_err(pmfs_fallocate(fs, f, FALLOC_FL_COLLAPSE_RANGE, 0, 4096), EOPNOTSUPP);
	expect_err(pmfs_fallocate(fs, f, 0, -1, 4096), EINVAL);
	expect_err(pmfs_fallocate(fs, f, 0, 0, 0), EINVAL);
	expect_err(pmfs_fallocate(fs, ROOT, 0, 0, 4096), EISDIR);
}

static void test_efbig_past_16_tib(void **state)
{
	struct pmfs *fs = FS(state);
	pmfs_ino_t f = mk_file(fs, ROOT, "big");
	const off_t max = (off_t)PMFS_MAX_FILE_SIZE;
	char buf[8192] = {1};
	struct stat st = {.st_size = max + 1};

	expect_err(pmfs_write(fs, f, "x", 1, max, 0), EFBIG);
	expect_eq(pmfs_write(fs, f, buf, sizeof(buf), max - 4096, 0), 4096);
	expect_eq(stat_of(fs, f).st_size, max);
	expect_err(pmfs_setattr(fs, f, &st, PMFS_SET_SIZE, NULL), EFBIG);
	expect_err(pmfs_fallocate(fs, f, 0, max, 4096), EFBIG);
}

static void test_copy_file_range_copies_data_and_holes(void **state)
{
	struct pmfs *fs = FS(state);
	pmfs_ino_t a = mk_file(fs, ROOT, "src"), b = mk_file(fs, ROOT, "dst");

	write_pattern(fs, a, 0, 3 * MiB + 5, 9);
	expect_ok(pmfs_fallocate(fs, a, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, MiB, MiB));
	expect_eq(pmfs_copy_file_range(fs, a, 10, b, 20, 5 * MiB), 3 * MiB - 5);
	expect_eq(stat_of(fs, b).st_size, 3 * MiB + 15);
	check_range(fs, b, 0, 20, 0, true);
	{
		char *x = malloc(3 * MiB), *y = malloc(3 * MiB);

		expect_eq(pmfs_read(fs, a, x, 3 * MiB - 5, 10), 3 * MiB - 5);
		expect_eq(pmfs_read(fs, b, y, 3 * MiB - 5, 20), 3 * MiB - 5);
		assert_memory_equal(x, y, 3 * MiB - 5);
		free(x);
		free(y);
	}
	/* the source's 1 MiB hole stays a hole: about 2 MiB allocated, not 3 */
	if ((uint64_t)stat_of(fs, b).st_blocks * 512 > 2 * MiB + 8192)
		fail_msg("destination: expected about 2 MiB allocated (sparse), found %lld bytes",
			 (long long)stat_of(fs, b).st_blocks * 512);
	/* a copy over existing data writes zeros for the source's hole */
	write_pattern(fs, b, 0, 3 * MiB, 18);
	expect_eq(pmfs_copy_file_range(fs, a, 10, b, 20, 5 * MiB), 3 * MiB - 5);
	check_range(fs, b, MiB + 20 - 10 + 4096, MiB - 8192, 0, true);
	expect_err(pmfs_copy_file_range(fs, a, 0, a, 100, 1000), EINVAL);
	expect_err(pmfs_copy_file_range(fs, ROOT, 0, b, 0, 10), EISDIR);
}

/* Writes every other block: each one is its own extent, so the map
 * overflows the inode's 8 slots into a chain of extent blocks. */
static void test_fragmented_file_uses_overflow_chain(void **state)
{
	struct core_env *env = *state;
	pmfs_ino_t f = mk_file(env->fs, ROOT, "frag"), g = mk_file(env->fs, ROOT, "spacer");
	const unsigned n = 700;
	uint64_t free0 = pmfs_free_blocks(env->fs);
	struct stat st = {.st_size = 0};

	/* interleave with another file so no two of f's blocks are adjacent */
	for (unsigned i = 0; i < n; i++) {
		write_pattern(env->fs, f, (uint64_t)i * 8192, 4096, 10);
		write_pattern(env->fs, g, (uint64_t)i * 4096, 4096, 11);
	}
	assert_true(pmfs_inode_ptr(env->fs, f)->ext_overflow != 0);
	core_remount(env);
	for (unsigned i = 0; i < n; i += 37) {
		check_range(env->fs, f, (uint64_t)i * 8192, 4096, 10, false);
		check_range(env->fs, f, (uint64_t)i * 8192 + 4096, 4096, 0, true);
	}
	/* fill the holes in the middle: inserts split overflow nodes */
	for (unsigned i = 0; i < n; i += 3)
		write_pattern(env->fs, f, (uint64_t)i * 8192 + 4096, 4096, 12);
	core_remount(env);
	for (unsigned i = 0; i < n; i += 3)
		check_range(env->fs, f, (uint64_t)i * 8192 + 4096, 4096, 12, false);
	check_range(env->fs, f, 8192 * 5, 4096, 10, false);
	expect_ok(pmfs_setattr(env->fs, f, &st, PMFS_SET_SIZE, NULL));
	expect_eq(pmfs_inode_ptr(env->fs, f)->ext_overflow, 0);
	expect_eq(stat_of(env->fs, f).st_blocks, 0);
	expect_ok(pmfs_setattr(env->fs, g, &st, PMFS_SET_SIZE, NULL));
	expect_eq(pmfs_free_blocks(env->fs), free0);
}

/* Written in 128 KiB chunks, like FUSE does: from 2 MiB on, the block at
 * each 2 MiB boundary lands on a 2 MiB-aligned device block. */
static void test_large_file_extents_device_aligned(void **state)
{
	struct core_env *env = *state;
	pmfs_ino_t f = mk_file(env->fs, ROOT, "aligned");
	const uint64_t a = env->fs->sb->device_align / 4096;
	const struct pmfs_inode *di = pmfs_inode_ptr(env->fs, f);
	bool found = false;

	assert_true(a > 1);
	mk_file(env->fs, ROOT, "small"); /* leaves the allocator unaligned */
	write_pattern(env->fs, lookup_ino(env->fs, ROOT, "small"), 0, 4096, 1);
	for (uint64_t off = 0; off < 6 * MiB; off += 128 * KiB)
		write_pattern(env->fs, f, off, 128 * KiB, 16);
	for (uint32_t i = 0; i < di->ext_count; i++) {
		const struct pmfs_extent *e = &di->u.ext[i];

		if (e->lblk <= 2 * a && 2 * a < (uint64_t)e->lblk + e->len) {
			found = true;
			if ((e->pblk + (2 * a - e->lblk)) % a != 0)
				fail_msg("logical block %llu: expected a device block aligned to "
					 "%llu, found %llu",
					 (unsigned long long)(2 * a), (unsigned long long)a,
					 (unsigned long long)(e->pblk + (2 * a - e->lblk)));
		}
	}
	assert_true(found);
	check_range(env->fs, f, 0, 6 * MiB, 16, false);
}

/* A fallocate of 768 MiB needs more bitmap than one tx holds next to the
 * map edit: it spans several txs; truncating it frees it in chunks. */
static void test_huge_fallocate_and_truncate_span_txs(void **state)
{
	struct core_env env;
	pmfs_ino_t f;
	uint64_t free0;
	struct stat st = {.st_size = 0};

	(void)state;
	core_setup(&env, "hugefalloc", 1024 * MiB, 0);
	f = mk_file(env.fs, ROOT, "huge");
	free0 = pmfs_free_blocks(env.fs);
	expect_ok(pmfs_fallocate(env.fs, f, 0, 0, 768 * MiB));
	expect_eq(stat_of(env.fs, f).st_size, 768 * MiB);
	expect_eq(stat_of(env.fs, f).st_blocks, 768 * MiB / 512);
	check_range(env.fs, f, 0, 4096, 0, true);
	check_range(env.fs, f, 500 * MiB, 4096, 0, true);
	check_range(env.fs, f, 768 * MiB - 4096, 4096, 0, true);
	write_pattern(env.fs, f, 300 * MiB, 10000, 17);
	core_remount(&env);
	check_range(env.fs, f, 300 * MiB, 10000, 17, false);
	expect_ok(pmfs_setattr(env.fs, f, &st, PMFS_SET_SIZE, NULL));
	expect_eq(stat_of(env.fs, f).st_blocks, 0);
	expect_eq(pmfs_free_blocks(env.fs), free0);
	core_teardown(&env);
}

static void test_setattr_mode_owner_times(void **state)
{
	struct pmfs *fs = FS(state);
	pmfs_ino_t f = mk_file(fs, ROOT, "attrs");
	struct stat in = {0}, out;

	in.st_mode = 06755;
	expect_ok(pmfs_setattr(fs, f, &in, PMFS_SET_MODE, &out));
	expect_eq(out.st_mode, S_IFREG | 06755);
	in.st_uid = 1000;
	in.st_gid = 2000;
	expect_ok(pmfs_setattr(fs, f, &in, PMFS_SET_UID | PMFS_SET_GID, &out));
	expect_eq(out.st_uid, 1000);
	expect_eq(out.st_gid, 2000);
	/* chown cleared setuid, and setgid because group-exec is set */
	expect_eq(out.st_mode, S_IFREG | 0755);
	in.st_atim.tv_sec = 1000;
	in.st_atim.tv_nsec = 5;
	in.st_mtim.tv_sec = 2000;
	in.st_mtim.tv_nsec = 6;
	expect_ok(pmfs_setattr(fs, f, &in, PMFS_SET_ATIME | PMFS_SET_MTIME, &out));
	expect_eq(out.st_atim.tv_sec, 1000);
	expect_eq(out.st_atim.tv_nsec, 5);
	expect_eq(out.st_mtim.tv_sec, 2000);
	expect_eq(out.st_mtim.tv_nsec, 6);
	assert_true(out.st_ctim.tv_sec > 2000);
	expect_ok(pmfs_setattr(fs, f, &in, PMFS_SET_MTIME_NOW, &out));
	assert_true(out.st_mtim.tv_sec > 2000);
	/* size and mode in one call */
	in.st_size = 123;
	in.st_mode = 0600;
	expect_ok(pmfs_setattr(fs, f, &in, PMFS_SET_SIZE | PMFS_SET_MODE, &out));
	expect_eq(out.st_size, 123);
	expect_eq(out.st_mode, S_IFREG | 0600);
}

static void test_xattrs(void **state)
{
	struct pmfs *fs = FS(state);
	pmfs_ino_t f = mk_file(fs, ROOT, "x");
	char buf[4096], big[5000];
	uint64_t free0;

	expect_ok(pmfs_setxattr(fs, f, "user.a", "one", 3, 0));
	expect_ok(pmfs_setxattr(fs, f, "trusted.b", "two!", 4, XATTR_CREATE));
	expect_ok(pmfs_setxattr(fs, f, "security.c", "", 0, 0));
	expect_err(pmfs_setxattr(fs, f, "user.a", "x", 1, XATTR_CREATE), EEXIST);
	expect_err(pmfs_setxattr(fs, f, "user.zz", "x", 1, XATTR_REPLACE), ENODATA);
	expect_err(pmfs_setxattr(fs, f, "system.posix_acl_access", "x", 1, 0), EOPNOTSUPP);
	expect_eq(pmfs_getxattr(fs, f, "user.a", NULL, 0), 3);
	expect_eq(pmfs_getxattr(fs, f, "user.a", buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "one", 3);
	expect_err(pmfs_getxattr(fs, f, "user.a", buf, 2), ERANGE);
	expect_err(pmfs_getxattr(fs, f, "user.nope", buf, sizeof(buf)), ENODATA);
	expect_ok(pmfs_setxattr(fs, f, "user.a", "uno-dos", 7, XATTR_REPLACE));
	expect_eq(pmfs_getxattr(fs, f, "user.a", buf, sizeof(buf)), 7);
	const char list[] = "trusted.b\0security.c\0user.a";
	expect_eq(pmfs_listxattr(fs, f, NULL, 0), sizeof(list));
	expect_eq(pmfs_listxattr(fs, f, buf, sizeof(buf)), sizeof(list));
	assert_memory_equal(buf, list, sizeof(list));
	expect_err(pmfs_listxattr(fs, f, buf, 5), ERANGE);
	memset(big, 'v', sizeof(big));
	expect_err(pmfs_setxattr(fs, f, "user.big", big, 4090, 0), E2BIG);
	expect_err(pmfs_setxattr(fs, f, "user.big", big, 4080, 0), ENOSPC);
	expect_ok(pmfs_removexattr(fs, f, "user.a"));
	expect_err(pmfs_removexattr(fs, f, "user.a"), ENODATA);
	expect_ok(pmfs_removexattr(fs, f, "trusted.b"));
	free0 = pmfs_free_blocks(fs);
	expect_ok(pmfs_removexattr(fs, f, "security.c"));
	expect_eq(pmfs_free_blocks(fs), free0 + 1);
	expect_eq(stat_of(fs, f).st_blocks, 0);
	expect_eq(pmfs_listxattr(fs, f, buf, sizeof(buf)), 0);
	struct stat st;
	expect_ok(pmfs_mknod(fs, ROOT, "fifo", S_IFIFO | 0644, 0, 0, 0, &st));
	expect_err(pmfs_setxattr(fs, st.st_ino, "user.a", "1", 1, 0), EPERM);
	expect_ok(pmfs_setxattr(fs, st.st_ino, "trusted.a", "1", 1, 0));
}

/* ENOSPC in the middle of a write: the part that fit is written and
 * returned, nothing earlier is lost, and space comes back on delete. */
/* Any write takes a file capability away (file_remove_privs), other
 * xattrs stay; an empty write changes nothing. */
static void test_write_removes_capability(void **state)
{
	struct pmfs *fs = FS(state);
	pmfs_ino_t f = mk_file(fs, ROOT, "capped");
	char buf[16];

	expect_ok(pmfs_setxattr(fs, f, "security.capability", "\1\0\0\2", 4, 0));
	expect_ok(pmfs_setxattr(fs, f, "user.kept", "yes", 3, 0));
	expect_eq(pmfs_write(fs, f, "", 0, 0, 0), 0);
	expect_eq(pmfs_getxattr(fs, f, "security.capability", buf, sizeof(buf)), 4);
	expect_eq(pmfs_write(fs, f, "data", 4, 0, 0), 4);
	expect_err(pmfs_getxattr(fs, f, "security.capability", buf, sizeof(buf)), ENODATA);
	expect_eq(pmfs_getxattr(fs, f, "user.kept", buf, sizeof(buf)), 3);
	/* a file without xattrs, and one whose xattrs hold no capability */
	expect_eq(pmfs_write(fs, mk_file(fs, ROOT, "plain"), "x", 1, 0, 0), 1);
	expect_eq(pmfs_write(fs, f, "more", 4, 4, 0), 4);
	expect_eq(pmfs_getxattr(fs, f, "user.kept", buf, sizeof(buf)), 3);
}

static void test_enospc_mid_write_is_short_and_consistent(void **state)
{
	struct core_env *env = *state;
	struct pmfs *fs = env->fs;
	pmfs_ino_t keep = mk_file(fs, ROOT, "keep"), f = mk_file(fs, ROOT, "filler");
	size_t chunk = 4 * MiB;
	char *buf = malloc(chunk);
	uint64_t off = 0, free0;
	ssize_t n;

	write_pattern(fs, keep, 0, 100 * KiB, 13);
	free0 = pmfs_free_blocks(fs);
	fill_pattern(buf, chunk, 14, 0);
	for (;;) {
		n = pmfs_write(fs, f, buf, chunk, (off_t)off, 0);
		if (n < (ssize_t)chunk)
			break;
		off += (uint64_t)n;
	}
	assert_true(n >= 0);
	off += (uint64_t)n;
	expect_eq(stat_of(fs, f).st_size, off);
	expect_err(pmfs_write(fs, f, buf, chunk, (off_t)off, 0), ENOSPC);
	expect_eq(pmfs_free_blocks(fs), 0);
	assert_true(off / 4096 <= free0);
	check_range(fs, keep, 0, 100 * KiB, 13, false);
	{
		char *back = malloc(chunk);

		expect_eq(pmfs_read(fs, f, back, chunk, 0), chunk);
		assert_memory_equal(back, buf, chunk);
		free(back);
	}
	expect_err(pmfs_fallocate(fs, keep, 0, 0, 64 * MiB), ENOSPC);
	/* a new file still fits: inline data needs no blocks, entries fit in
	 * root's existing block */
	mk_file(fs, ROOT, "empty-after-full");
	core_remount(env);
	fs = env->fs;
	check_range(fs, keep, 0, 100 * KiB, 13, false);
	/* no references survive a remount: unlink frees it at once */
	expect_ok(pmfs_unlink(fs, ROOT, "filler"));
	expect_err(pmfs_getattr(fs, f, &(struct stat){0}), ENOENT);
	assert_true(pmfs_free_blocks(fs) >= free0 - 1);
	free(buf);
}

static void test_fill_delete_fill_again(void **state)
{
	struct core_env *env = *state;
	struct pmfs *fs = env->fs;
	size_t chunk = 1 * MiB;
	char *buf = malloc(chunk), name[32];
	uint64_t free0 = pmfs_free_blocks(fs), filled[2] = {0, 0};

	fill_pattern(buf, chunk, 15, 0);
	for (int round = 0; round < 2; round++) {
		int i;

		for (i = 0;; i++) {
			struct stat st;
			ssize_t n;

			snprintf(name, sizeof(name), "fill%d", i);
			expect_ok(pmfs_create(fs, ROOT, name, 0644, 0, 0, &st));
			n = pmfs_write(fs, st.st_ino, buf, chunk, 0, 0);
			pmfs_forget(fs, st.st_ino, 1);
			if (n <= 0) {
				expect_eq(n, -ENOSPC);
				break;
			}
			filled[round] += (uint64_t)n;
			if (n < (ssize_t)chunk)
				break;
		}
		for (int j = 0; j <= i; j++) {
			snprintf(name, sizeof(name), "fill%d", j);
			expect_ok(pmfs_unlink(fs, ROOT, name));
		}
	}
	expect_eq(filled[1], filled[0]);
	assert_true(pmfs_free_blocks(fs) + 1 >= free0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_write_read_unaligned_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_append_flag_writes_at_end, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sparse_file_holes_read_zero_and_seek, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_read_iter_points_into_mapping, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncate_down_then_up_reads_zeros, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_fallocate_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_efbig_past_16_tib, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_copy_file_range_copies_data_and_holes, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_fragmented_file_uses_overflow_chain, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_large_file_extents_device_aligned, setup,
					    teardown),
	    cmocka_unit_test(test_huge_fallocate_and_truncate_span_txs),
	    cmocka_unit_test_setup_teardown(test_setattr_mode_owner_times, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_removes_capability, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_xattrs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_enospc_mid_write_is_short_and_consistent, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_fill_delete_fill_again, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
