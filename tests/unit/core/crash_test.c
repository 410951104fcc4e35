/*
 * crash_test.c - recovery at every persist point.  For each operation type
 * the test prepares a state, then runs the operation with pmfs_fence_hook
 * set so that the image is copied after every fence: each copy is exactly
 * what a power failure at that point leaves (everything flushed and fenced
 * so far; an emulation file in /dev/shm holds no unfenced store that a
 * later fence would not also cover, and the hook runs right after the
 * fence).  Every copy is then mounted (journal replay and orphan recovery
 * run), its whole tree must equal the state before or the state after the
 * operation, and fsck must find it clean.  The counts printed per
 * operation are the fault-injection points exercised.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "helpers.h"
#include "tree_sig.h"
#include "persist.h"

#define MiB (1024ULL * 1024)
#define ROOT PMFS_ROOT_INO
#define IMAGE_SIZE (16 * MiB)
#define MAX_SNAPS 256

static const char *image_path;
static char *snaps[MAX_SNAPS];
static unsigned nsnaps;
static bool snap_overflow;

static void snapshot_after_fence(void)
{
	int fd;
	char *buf;

	if (nsnaps == MAX_SNAPS) {
		snap_overflow = true;
		return;
	}
	buf = malloc(IMAGE_SIZE);
	fd = open(image_path, O_RDONLY);
	if (!buf || fd < 0 || pread(fd, buf, IMAGE_SIZE, 0) != (ssize_t)IMAGE_SIZE) {
		snap_overflow = true;
		free(buf);
	} else {
		snaps[nsnaps++] = buf;
	}
	if (fd >= 0)
		close(fd);
}

/* ---- the driver ----------------------------------------------------------------- */

typedef void (*fs_fn)(struct pmfs *fs);

static void crash_case(const char *name, fs_fn prepare, fs_fn op)
{
	static unsigned case_no;
	struct core_env env;
	char copy[160], *before, *after;
	unsigned n_before = 0, n_after = 0;

	core_setup(&env, "crash", IMAGE_SIZE, 1024);
	if (prepare)
		prepare(env.fs);
	core_remount(&env); /* a clean start: DRAM state built from media */
	before = tree_signature(env.fs);
	image_path = env.path;
	nsnaps = 0;
	snap_overflow = false;
	pmfs_fence_hook = snapshot_after_fence;
	op(env.fs);
	pmfs_fence_hook = NULL;
	after = tree_signature(env.fs);
	if (snap_overflow)
		fail_msg("%s: more than %d persist points or a failed snapshot", name, MAX_SNAPS);
	if (nsnaps == 0)
		fail_msg("%s: expected at least one persist point, found none", name);
	/* a name per case: a failed case may leave its copy mounted */
	snprintf(copy, sizeof(copy), "%s.point%u", env.path, case_no++);
	for (unsigned i = 0; i < nsnaps; i++) {
		struct pmfs_mount_info info;
		struct pmfs *fs;
		char *got;
		int fd = open(copy, O_RDWR | O_CREAT | O_TRUNC, 0600);

		assert_true(fd >= 0);
		assert_true(pwrite(fd, snaps[i], IMAGE_SIZE, 0) == (ssize_t)IMAGE_SIZE);
		close(fd);
		free(snaps[i]);
		if (pmfs_mount(copy, NULL, &fs, &info))
			fail_msg("%s: persist point %u: mount (recovery) failed", name, i);
		got = tree_signature(fs);
		if (strcmp(got, before) == 0)
			n_before++;
		else if (strcmp(got, after) == 0)
			n_after++;
		else
			fail_msg("%s: persist point %u of %u: expected the state before or after, "
				 "found:\n%s\n--- before:\n%s\n--- after:\n%s",
				 name, i, nsnaps, got, before, after);
		free(got);
		expect_ok(pmfs_unmount(fs));
		core_fsck_clean(copy);
	}
	printf("%-28s %3u persist points: %3u recover to before, %3u to after\n", name, nsnaps,
	       n_before, n_after);
	if (n_after == 0)
		fail_msg("%s: expected the last persist point to recover to after", name);
	unlink(copy);
	free(before);
	free(after);
	core_teardown(&env);
}

/* ---- operations ------------------------------------------------------------------ */

static pmfs_ino_t ino_of(struct pmfs *fs, const char *name)
{
	pmfs_ino_t ino = lookup_ino(fs, ROOT, name);

	assert_true(ino != 0);
	return ino;
}

static void op_create(struct pmfs *fs)
{
	mk_file(fs, ROOT, "new");
}
static void op_mkdir(struct pmfs *fs)
{
	mk_dir(fs, lookup_ino(fs, ROOT, "d1"), "newdir");
}
static void op_symlink_long(struct pmfs *fs)
{
	char t[600];

	memset(t, 'x', sizeof(t) - 1);
	t[sizeof(t) - 1] = 0;
	expect_ok(pmfs_symlink(fs, ROOT, "longlink", t, 0, 0, NULL));
}
static void op_link(struct pmfs *fs)
{
	expect_ok(pmfs_link(fs, ino_of(fs, "f"), lookup_ino(fs, ROOT, "d2"), "hard", NULL));
}
static void op_unlink(struct pmfs *fs)
{
	expect_ok(pmfs_unlink(fs, ROOT, "f"));
}
static void op_rmdir(struct pmfs *fs)
{
	expect_ok(pmfs_rmdir(fs, lookup_ino(fs, ROOT, "d1"), "sub"));
}
static void op_rename_over(struct pmfs *fs)
{
	expect_ok(pmfs_rename(fs, lookup_ino(fs, ROOT, "d1"), "g", ROOT, "f", 0));
}
static void op_rename_dir_cross(struct pmfs *fs)
{
	expect_ok(pmfs_rename(fs, lookup_ino(fs, ROOT, "d1"), "sub", lookup_ino(fs, ROOT, "d2"),
			      "moved", 0));
}
static void op_rename_exchange(struct pmfs *fs)
{
	expect_ok(
	    pmfs_rename(fs, lookup_ino(fs, ROOT, "d1"), "sub", ROOT, "f", PMFS_RENAME_EXCHANGE));
}
static void op_rename_dir_over_empty(struct pmfs *fs)
{
	expect_ok(pmfs_rename(fs, lookup_ino(fs, ROOT, "d1"), "sub", lookup_ino(fs, ROOT, "d2"),
			      "other", 0));
}
static void op_append(struct pmfs *fs)
{
	write_pattern(fs, ino_of(fs, "f"), 20000, 30000, 3);
}
static void op_write_hole(struct pmfs *fs)
{
	write_pattern(fs, ino_of(fs, "f"), 1 << 20, 8192, 4);
}
static void op_truncate_down(struct pmfs *fs)
{
	struct stat st = {.st_size = 3000};

	expect_ok(pmfs_setattr(fs, ino_of(fs, "f"), &st, PMFS_SET_SIZE | PMFS_SET_MODE, NULL));
}
static void op_truncate_up(struct pmfs *fs)
{
	struct stat st = {.st_size = 100000};

	expect_ok(pmfs_setattr(fs, ino_of(fs, "f"), &st, PMFS_SET_SIZE, NULL));
}
static void op_fallocate(struct pmfs *fs)
{
	expect_ok(pmfs_fallocate(fs, ino_of(fs, "f"), 0, 16384, 200000));
}
static void op_punch(struct pmfs *fs)
{
	expect_ok(pmfs_fallocate(fs, ino_of(fs, "f"), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				 4096, 8192));
}
static void op_setxattr(struct pmfs *fs)
{
	expect_ok(pmfs_setxattr(fs, ino_of(fs, "f"), "user.new", "value", 5, XATTR_CREATE));
}
static void op_removexattr(struct pmfs *fs)
{
	expect_ok(pmfs_removexattr(fs, ino_of(fs, "f"), "user.k"));
}
static void op_chmod_chown(struct pmfs *fs)
{
	struct stat st = {.st_mode = 0600, .st_uid = 7};

	expect_ok(pmfs_setattr(fs, ino_of(fs, "f"), &st, PMFS_SET_MODE | PMFS_SET_UID, NULL));
}
static void prep_full_dir_block(struct pmfs *fs)
{
	pmfs_ino_t d = mk_dir(fs, ROOT, "full");

	for (int i = 0; i < 64; i++) {
		char name[16];

		snprintf(name, sizeof(name), "e%02d", i);
		mk_file(fs, d, name);
	}
}
static void op_create_new_dir_block(struct pmfs *fs)
{
	mk_file(fs, lookup_ino(fs, ROOT, "full"), "one-more");
}
static void prep_fragmented(struct pmfs *fs)
{
	pmfs_ino_t f = mk_file(fs, ROOT, "frag"), g = mk_file(fs, ROOT, "spacer");

	for (int i = 0; i < 300; i++) {
		write_pattern(fs, f, (uint64_t)i * 8192, 4096, 5);
		write_pattern(fs, g, (uint64_t)i * 4096, 4096, 6);
	}
}
static void op_fill_fragment_hole(struct pmfs *fs)
{
	write_pattern(fs, ino_of(fs, "frag"), 8192 * 150 + 4096, 4096, 7);
}
static void op_unlink_fragmented(struct pmfs *fs)
{
	expect_ok(pmfs_unlink(fs, ROOT, "frag"));
}
static void op_unlink_open_then_forget(struct pmfs *fs)
{
	pmfs_ino_t f = ino_of(fs, "f");
	struct stat st;

	expect_ok(pmfs_lookup(fs, ROOT, "f", &st));
	expect_ok(pmfs_unlink(fs, ROOT, "f"));
	expect_ok(pmfs_forget(fs, f, 1));
}

static void op_mknod(struct pmfs *fs)
{
	expect_ok(pmfs_mknod(fs, ROOT, "dev", S_IFCHR | 0600, 0x0103, 0, 0, NULL));
}
static void prep_hardlink(struct pmfs *fs)
{
	prep_basic_tree(fs);
	expect_ok(pmfs_link(fs, ino_of(fs, "f"), ROOT, "f2", NULL));
}
static void op_unlink_one_of_two_links(struct pmfs *fs)
{
	expect_ok(pmfs_unlink(fs, ROOT, "f2"));
}
static void op_zero_range_aligned(struct pmfs *fs)
{
	expect_ok(pmfs_fallocate(fs, ino_of(fs, "f"), FALLOC_FL_ZERO_RANGE, 4096, 65536));
}
static void op_zero_range_unaligned_extend(struct pmfs *fs)
{
	expect_ok(pmfs_fallocate(fs, ino_of(fs, "f"), FALLOC_FL_ZERO_RANGE, 1000, 30000));
}
static void op_punch_unaligned(struct pmfs *fs)
{
	expect_ok(pmfs_fallocate(fs, ino_of(fs, "f"), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				 1000, 9000));
}
static void op_truncate_fragmented(struct pmfs *fs)
{
	struct stat st = {.st_size = 8192 * 10 + 100};

	expect_ok(pmfs_setattr(fs, ino_of(fs, "frag"), &st, PMFS_SET_SIZE, NULL));
}
static void op_copy_file_range(struct pmfs *fs)
{
	pmfs_ino_t f = ino_of(fs, "f");

	expect_eq(pmfs_copy_file_range(fs, f, 0, f, 40960, 20000), 20000);
}
static void op_setxattr_dir(struct pmfs *fs)
{
	expect_ok(pmfs_setxattr(fs, lookup_ino(fs, ROOT, "d1"), "trusted.t", "x", 1, 0));
}

#define CASE(prep, op)                                                                             \
	static void test_crash_##op(void **state)                                                  \
	{                                                                                          \
		(void)state;                                                                       \
		crash_case(#op, prep, op);                                                         \
	}
CASE(prep_basic_tree, op_create)
CASE(prep_basic_tree, op_mkdir)
CASE(prep_basic_tree, op_symlink_long)
CASE(prep_basic_tree, op_link)
CASE(prep_basic_tree, op_unlink)
CASE(prep_basic_tree, op_rmdir)
CASE(prep_basic_tree, op_rename_over)
CASE(prep_basic_tree, op_rename_dir_cross)
CASE(prep_basic_tree, op_rename_exchange)
CASE(prep_basic_tree, op_rename_dir_over_empty)
CASE(prep_basic_tree, op_append)
CASE(prep_basic_tree, op_write_hole)
CASE(prep_basic_tree, op_truncate_down)
CASE(prep_basic_tree, op_truncate_up)
CASE(prep_basic_tree, op_fallocate)
CASE(prep_basic_tree, op_punch)
CASE(prep_basic_tree, op_setxattr)
CASE(prep_basic_tree, op_removexattr)
CASE(prep_basic_tree, op_chmod_chown)
CASE(prep_basic_tree, op_unlink_open_then_forget)
CASE(prep_full_dir_block, op_create_new_dir_block)
CASE(prep_fragmented, op_fill_fragment_hole)
CASE(prep_fragmented, op_unlink_fragmented)
CASE(prep_basic_tree, op_mknod)
CASE(prep_hardlink, op_unlink_one_of_two_links)
CASE(prep_basic_tree, op_zero_range_aligned)
CASE(prep_basic_tree, op_zero_range_unaligned_extend)
CASE(prep_basic_tree, op_punch_unaligned)
CASE(prep_fragmented, op_truncate_fragmented)
CASE(prep_basic_tree, op_copy_file_range)
CASE(prep_basic_tree, op_setxattr_dir)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crash_op_create),
	    cmocka_unit_test(test_crash_op_mkdir),
	    cmocka_unit_test(test_crash_op_symlink_long),
	    cmocka_unit_test(test_crash_op_link),
	    cmocka_unit_test(test_crash_op_unlink),
	    cmocka_unit_test(test_crash_op_rmdir),
	    cmocka_unit_test(test_crash_op_rename_over),
	    cmocka_unit_test(test_crash_op_rename_dir_cross),
	    cmocka_unit_test(test_crash_op_rename_exchange),
	    cmocka_unit_test(test_crash_op_rename_dir_over_empty),
	    cmocka_unit_test(test_crash_op_append),
	    cmocka_unit_test(test_crash_op_write_hole),
	    cmocka_unit_test(test_crash_op_truncate_down),
	    cmocka_unit_test(test_crash_op_truncate_up),
	    cmocka_unit_test(test_crash_op_fallocate),
	    cmocka_unit_test(test_crash_op_punch),
	    cmocka_unit_test(test_crash_op_setxattr),
	    cmocka_unit_test(test_crash_op_removexattr),
	    cmocka_unit_test(test_crash_op_chmod_chown),
	    cmocka_unit_test(test_crash_op_unlink_open_then_forget),
	    cmocka_unit_test(test_crash_op_create_new_dir_block),
	    cmocka_unit_test(test_crash_op_fill_fragment_hole),
	    cmocka_unit_test(test_crash_op_unlink_fragmented),
	    cmocka_unit_test(test_crash_op_mknod),
	    cmocka_unit_test(test_crash_op_unlink_one_of_two_links),
	    cmocka_unit_test(test_crash_op_zero_range_aligned),
	    cmocka_unit_test(test_crash_op_zero_range_unaligned_extend),
	    cmocka_unit_test(test_crash_op_punch_unaligned),
	    cmocka_unit_test(test_crash_op_truncate_fragmented),
	    cmocka_unit_test(test_crash_op_copy_file_range),
	    cmocka_unit_test(test_crash_op_setxattr_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
