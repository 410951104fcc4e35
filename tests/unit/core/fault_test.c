/*
 * fault_test.c - every allocation point of an operation fails once.  For
 * each operation type the test counts the fault points the operation
 * passes (fault.h: balloc/ialloc -> -ENOSPC, pmfs_malloc/calloc/realloc ->
 * -ENOMEM), then for each point k on a freshly prepared image it arms the
 * fault at k and runs the operation: it must fail with -ENOSPC or -ENOMEM
 * (a write may instead come back short) and leave the tree as before (a
 * short write: the written prefix, nothing else), also after an unmount,
 * a clean fsck and a remount; the same operation must then succeed with
 * faults off and give the tree of an undisturbed run (tree_sig.c).  The
 * walk itself is fault_walk.c, shared with eio_test.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fault.h"
#include "fault_walk.h"
#include "helpers.h"

#define MiB (1024ULL * 1024)
#define ROOT PMFS_ROOT_INO
#define IMAGE_SIZE (16 * MiB)

/* ---- the walk ------------------------------------------------------------------- */

static unsigned long total_points;

/* Lookups that set an operation up run with faults paused. */
static pmfs_ino_t ino_of(struct pmfs *fs, pmfs_ino_t dir, const char *name)
{
	return fault_walk_lookup(fs, dir, name);
}

static void fresh(struct core_env *env)
{
	core_setup(env, "fault", IMAGE_SIZE, 1024);
	prep_basic_tree(env->fs);
	core_remount(env); /* a clean start: DRAM state built from media */
}

static bool out_of_space(long r)
{
	return r == -ENOSPC || r == -ENOMEM;
}

/* Only the writes can come back short. */
static bool is_write(const char *name)
{
	return name[0] == 'w';
}

/* A short write: the written prefix must read back as the pattern. */
static void check_short_write(struct pmfs *fs, const char *name, unsigned long k, long r);

static void fault_case(const char *name, fault_op_fn op)
{
	static const struct fault_walk walk = {
	    .point = "fault point",
	    .countdown = &pmfs_fault_countdown,
	    .passed = &pmfs_fault_passed,
	    .clean = out_of_space,
	    .clean_what = "-ENOSPC or -ENOMEM",
	    .fresh = fresh,
	    .may_be_short = is_write,
	    .check_short = check_short_write,
	    .tolerate = true,
	};
	struct fault_walk_counts c = fault_walk(&walk, name, op);

	total_points += c.n;
	printf("%-24s fault points injected: %3lu (%lu failed cleanly, %lu short writes, "
	       "%lu tolerated)\n",
	       name, c.n, c.failed, c.shorts, c.tolerated);
}

/* ---- operations ------------------------------------------------------------------ */

#define WRITE_SEED 9

/* The writes: which file, where and how much (the short-write check needs
 * them). */
static const struct wcase {
	const char *name, *file;
	off_t off;
	size_t len;
} wcases[] = {
    {"write_new_blocks", "empty", 0, 40000},
    {"write_extend", "f", 20000, 30000},
    {"write_hole", "f", 1 << 20, 8192},
};

static const struct wcase *wcase_of(const char *name)
{
	for (size_t i = 0; i < sizeof(wcases) / sizeof(wcases[0]); i++)
		if (!strcmp(wcases[i].name, name))
			return &wcases[i];
	fail_msg("no write case %s", name);
	return NULL;
}

static long do_write(struct pmfs *fs, const char *name)
{
	const struct wcase *w = wcase_of(name);
	pmfs_ino_t f = ino_of(fs, ROOT, w->file);
	char *buf = malloc(w->len);
	long r;

	fill_pattern(buf, w->len, WRITE_SEED, (uint64_t)w->off);
	r = (long)pmfs_write(fs, f, buf, w->len, w->off, 0);
	free(buf);
	return r;
}

static void check_short_write(struct pmfs *fs, const char *name, unsigned long k, long r)
{
	const struct wcase *w = wcase_of(name);
	pmfs_ino_t f = ino_of(fs, ROOT, w->file);
	struct stat st = stat_of(fs, f);
	char *want = malloc((size_t)r), *got = malloc((size_t)r);

	if (r >= (long)w->len)
		fail_msg("%s: fault point %lu: expected a short write, found %ld", name, k, r);
	if (st.st_size < w->off + r)
		fail_msg("%s: fault point %lu: expected size >= %lld after a short write of %ld, "
			 "found %lld",
			 name, k, (long long)(w->off + r), r, (long long)st.st_size);
	fill_pattern(want, (size_t)r, WRITE_SEED, (uint64_t)w->off);
	expect_eq(pmfs_read(fs, f, got, (size_t)r, w->off), r);
	if (memcmp(want, got, (size_t)r))
		fail_msg("%s: fault point %lu: the written prefix of %ld bytes reads back wrong",
			 name, k, r);
	free(want);
	free(got);
}

static long op_write_new_blocks(struct pmfs *fs)
{
	return do_write(fs, "write_new_blocks");
}
static long op_write_extend(struct pmfs *fs)
{
	return do_write(fs, "write_extend");
}
static long op_write_hole(struct pmfs *fs)
{
	return do_write(fs, "write_hole");
}

static long made(struct pmfs *fs, int err, const struct stat *st)
{
	if (err == 0)
		expect_ok(pmfs_forget(fs, st->st_ino, 1));
	return err;
}
static long op_create(struct pmfs *fs)
{
	struct stat st;

	return made(fs, pmfs_create(fs, ROOT, "new", 0644, 0, 0, &st), &st);
}
static long op_mkdir(struct pmfs *fs)
{
	struct stat st;

	return made(fs, pmfs_mkdir(fs, ino_of(fs, ROOT, "d1"), "newdir", 0755, 0, 0, &st), &st);
}
static long op_symlink_long(struct pmfs *fs)
{
	char t[600];
	struct stat st;

	memset(t, 'x', sizeof(t) - 1);
	t[sizeof(t) - 1] = 0;
	return made(fs, pmfs_symlink(fs, ROOT, "longlink", t, 0, 0, &st), &st);
}
static long op_link(struct pmfs *fs)
{
	struct stat st;

	return made(fs, pmfs_link(fs, ino_of(fs, ROOT, "f"), ino_of(fs, ROOT, "d2"), "hard", &st),
		    &st);
}
static long op_mknod(struct pmfs *fs)
{
	struct stat st;

	return made(fs, pmfs_mknod(fs, ROOT, "dev", S_IFCHR | 0600, 0x0103, 0, 0, &st), &st);
}
static long op_unlink_open(struct pmfs *fs)
{
	pmfs_ino_t f = ino_of(fs, ROOT, "f");
	struct fault_pause p = fault_pause();
	struct stat st;
	int err;

	expect_ok(pmfs_lookup(fs, ROOT, "f", &st)); /* the open reference */
	fault_resume(p);
	err = pmfs_unlink(fs, ROOT, "f");
	expect_ok(pmfs_forget(fs, f, 1));
	return err;
}
static long op_rename_over(struct pmfs *fs)
{
	return pmfs_rename(fs, ino_of(fs, ROOT, "d1"), "g", ROOT, "f", 0);
}
static long op_rename_dir_move(struct pmfs *fs)
{
	pmfs_ino_t other = ino_of(fs, ino_of(fs, ROOT, "d2"), "other");

	return pmfs_rename(fs, ino_of(fs, ROOT, "d1"), "sub", other, "moved", 0);
}
static long op_truncate_down(struct pmfs *fs)
{
	struct stat st = {.st_size = 3000};

	return pmfs_setattr(fs, ino_of(fs, ROOT, "f"), &st, PMFS_SET_SIZE, NULL);
}
static long op_truncate_up(struct pmfs *fs)
{
	struct stat st = {.st_size = 100000};

	return pmfs_setattr(fs, ino_of(fs, ROOT, "f"), &st, PMFS_SET_SIZE, NULL);
}
static long op_fallocate(struct pmfs *fs)
{
	return pmfs_fallocate(fs, ino_of(fs, ROOT, "f"), 0, 16384, 200000);
}
static long op_setxattr_new_block(struct pmfs *fs)
{
	pmfs_ino_t g = ino_of(fs, ino_of(fs, ROOT, "d1"), "g");

	return pmfs_setxattr(fs, g, "user.new", "value", 5, XATTR_CREATE);
}

#define CASE(name, op)                                                                             \
	static void test_fault_##name(void **state)                                                \
	{                                                                                          \
		(void)state;                                                                       \
		fault_case(#name, op);                                                             \
	}
CASE(create, op_create)
CASE(mkdir, op_mkdir)
CASE(symlink_long, op_symlink_long)
CASE(link, op_link)
CASE(unlink_open, op_unlink_open)
CASE(rename_over, op_rename_over)
CASE(rename_dir_move, op_rename_dir_move)
CASE(write_new_blocks, op_write_new_blocks)
CASE(write_extend, op_write_extend)
CASE(write_hole, op_write_hole)
CASE(truncate_down, op_truncate_down)
CASE(truncate_up, op_truncate_up)
CASE(fallocate, op_fallocate)
CASE(setxattr_new_block, op_setxattr_new_block)
CASE(mknod, op_mknod)

static int print_total(void **state)
{
	(void)state;
	printf("fault points injected: %lu\n", total_points);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fault_create),
	    cmocka_unit_test(test_fault_mkdir),
	    cmocka_unit_test(test_fault_symlink_long),
	    cmocka_unit_test(test_fault_link),
	    cmocka_unit_test(test_fault_unlink_open),
	    cmocka_unit_test(test_fault_rename_over),
	    cmocka_unit_test(test_fault_rename_dir_move),
	    cmocka_unit_test(test_fault_write_new_blocks),
	    cmocka_unit_test(test_fault_write_extend),
	    cmocka_unit_test(test_fault_write_hole),
	    cmocka_unit_test(test_fault_truncate_down),
	    cmocka_unit_test(test_fault_truncate_up),
	    cmocka_unit_test(test_fault_fallocate),
	    cmocka_unit_test(test_fault_setxattr_new_block),
	    cmocka_unit_test(test_fault_mknod),
	};

	return cmocka_run_group_tests(tests, NULL, print_total);
}
