/*
 * namei_test.c - every name operation of the core and each of its error
 * returns: lookup, create, mknod, mkdir, symlink/readlink, link, unlink,
 * rmdir, rename (plain, NOREPLACE, EXCHANGE, over a directory, into its
 * own subtree), set-group-ID inheritance, link-count and parent fields,
 * unlinked-but-referenced inodes (orphans), read-only mounts.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "helpers.h"

#define MiB (1024ULL * 1024)
#define ROOT PMFS_ROOT_INO

CORE_FIXTURE("namei", 64 * MiB)

static void test_create_then_lookup_finds_it(void **state)
{
	struct pmfs *fs = FS(state);
	struct stat st, lst;

	expect_ok(pmfs_create(fs, ROOT, "a", 0640, 12, 34, &st));
	assert_true(S_ISREG(st.st_mode));
	expect_eq(st.st_mode & 07777, 0640);
	expect_eq(st.st_uid, 12);
	expect_eq(st.st_gid, 34);
	expect_eq(st.st_nlink, 1);
	expect_eq(st.st_size, 0);
	expect_ok(pmfs_lookup(fs, ROOT, "a", &lst));
	expect_eq(lst.st_ino, st.st_ino);
	expect_ok(pmfs_forget(fs, st.st_ino, 2));
	expect_err(pmfs_create(fs, ROOT, "a", 0644, 0, 0, &st), EEXIST);
}

static void test_name_errors(void **state)
{
	struct pmfs *fs = FS(state);
	char longname[300];
	struct stat st;
	pmfs_ino_t f = mk_file(fs, ROOT, "plain");

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	expect_err(pmfs_create(fs, ROOT, longname, 0644, 0, 0, &st), ENAMETOOLONG);
	expect_err(pmfs_lookup(fs, ROOT, longname, &st), ENAMETOOLONG);
	longname[255] = 0;
	expect_ok(pmfs_create(fs, ROOT, longname, 0644, 0, 0, &st));
	expect_ok(pmfs_lookup(fs, ROOT, longname, &st));
	expect_err(pmfs_lookup(fs, ROOT, "missing", &st), ENOENT);
	expect_err(pmfs_create(fs, f, "x", 0644, 0, 0, &st), ENOTDIR);
	expect_err(pmfs_lookup(fs, f, "x", &st), ENOTDIR);
	expect_err(pmfs_mkdir(fs, ROOT, "plain", 0755, 0, 0, &st), EEXIST);
	expect_err(pmfs_unlink(fs, ROOT, "missing"), ENOENT);
	expect_err(pmfs_getattr(fs, 999999999, &st), ENOENT);
}

static void test_mkdir_sets_links_and_parent(void **state)
{
	struct pmfs *fs = FS(state);
	nlink_t root_links = stat_of(fs, ROOT).st_nlink;
	pmfs_ino_t d = mk_dir(fs, ROOT, "d");
	pmfs_ino_t sub = mk_dir(fs, d, "sub");
	struct stat st;

	expect_eq(stat_of(fs, ROOT).st_nlink, root_links + 1);
	expect_eq(stat_of(fs, d).st_nlink, 3);
	expect_eq(stat_of(fs, sub).st_nlink, 2);
	expect_ok(pmfs_lookup(fs, sub, "..", &st));
	expect_eq(st.st_ino, d);
	expect_ok(pmfs_lookup(fs, sub, ".", &st));
	expect_eq(st.st_ino, sub);
	expect_err(pmfs_rmdir(fs, ROOT, "d"), ENOTEMPTY);
	expect_err(pmfs_unlink(fs, ROOT, "d"), EISDIR);
	expect_ok(pmfs_rmdir(fs, d, "sub"));
	expect_eq(stat_of(fs, d).st_nlink, 2);
	expect_ok(pmfs_rmdir(fs, ROOT, "d"));
	expect_eq(stat_of(fs, ROOT).st_nlink, root_links);
	mk_file(fs, ROOT, "f");
	expect_err(pmfs_rmdir(fs, ROOT, "f"), ENOTDIR);
	expect_err(pmfs_rmdir(fs, ROOT, "."), EINVAL);
	expect_err(pmfs_rmdir(fs, ROOT, ".."), ENOTEMPTY);
}

static void test_mknod_keeps_type_and_rdev(void **state)
{
	struct pmfs *fs = FS(state);
	struct stat st;

	expect_ok(pmfs_mknod(fs, ROOT, "fifo", S_IFIFO | 0600, 0, 0, 0, &st));
	assert_true(S_ISFIFO(st.st_mode));
	expect_ok(pmfs_mknod(fs, ROOT, "sock", S_IFSOCK | 0600, 0, 0, 0, &st));
	assert_true(S_ISSOCK(st.st_mode));
	expect_ok(pmfs_mknod(fs, ROOT, "chr", S_IFCHR | 0600, makedev(1, 3), 0, 0, &st));
	assert_true(S_ISCHR(st.st_mode));
	expect_eq(st.st_rdev, makedev(1, 3));
	expect_ok(pmfs_mknod(fs, ROOT, "blk", S_IFBLK | 0600, makedev(8, 1), 0, 0, &st));
	expect_eq(stat_of(fs, st.st_ino).st_rdev, makedev(8, 1));
	expect_err(pmfs_mknod(fs, ROOT, "bad", S_IFDIR | 0600, 0, 0, 0, &st), EINVAL);
}

static void test_symlink_short_and_long_targets(void **state)
{
	struct pmfs *fs = FS(state);
	char target[PMFS_SYMLINK_MAX + 2], buf[PMFS_SYMLINK_MAX + 1];
	struct stat st;

	expect_ok(pmfs_symlink(fs, ROOT, "short", "a/b/c", 0, 0, &st));
	assert_true(S_ISLNK(st.st_mode));
	expect_eq(st.st_size, 5);
	expect_eq(pmfs_readlink(fs, st.st_ino, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "a/b/c");
	for (size_t i = 0; i < PMFS_SYMLINK_MAX; i++)
		target[i] = (char)('a' + i % 26);
	target[PMFS_SYMLINK_MAX] = 0;
	expect_ok(pmfs_symlink(fs, ROOT, "long", target, 0, 0, &st));
	expect_eq(pmfs_readlink(fs, st.st_ino, buf, sizeof(buf)), PMFS_SYMLINK_MAX);
	assert_memory_equal(buf, target, PMFS_SYMLINK_MAX);
	target[PMFS_SYMLINK_MAX] = 'x';
	target[PMFS_SYMLINK_MAX + 1] = 0;
	expect_err(pmfs_symlink(fs, ROOT, "toolong", target, 0, 0, &st), ENAMETOOLONG);
	expect_err(pmfs_readlink(fs, ROOT, buf, sizeof(buf)), EINVAL);
	expect_ok(pmfs_unlink(fs, ROOT, "long"));
}

static void test_hard_link_counts(void **state)
{
	struct pmfs *fs = FS(state);
	pmfs_ino_t f = mk_file(fs, ROOT, "orig");
	pmfs_ino_t d = mk_dir(fs, ROOT, "dir");
	struct stat st;

	expect_ok(pmfs_link(fs, f, d, "alias", &st));
	expect_eq(st.st_nlink, 2);
	expect_eq(lookup_ino(fs, d, "alias"), f);
	expect_err(pmfs_link(fs, f, d, "alias", &st), EEXIST);
	expect_err(pmfs_link(fs, d, ROOT, "dirlink", &st), EPERM);
	expect_ok(pmfs_unlink(fs, ROOT, "orig"));
	expect_eq(stat_of(fs, f).st_nlink, 1);
	expect_eq(lookup_ino(fs, d, "alias"), f);
}

static void test_setgid_directory_inheritance(void **state)
{
	struct pmfs *fs = FS(state);
	struct stat st, in;
	pmfs_ino_t d;

	expect_ok(pmfs_mkdir(fs, ROOT, "sgid", 02775, 1, 77, &st));
	d = st.st_ino;
	expect_ok(pmfs_create(fs, d, "f", 0644, 5, 6, &in));
	expect_eq(in.st_gid, 77);
	expect_ok(pmfs_mkdir(fs, d, "sub", 0755, 5, 6, &in));
	expect_eq(in.st_gid, 77);
	assert_true(in.st_mode & S_ISGID);
	expect_ok(pmfs_create(fs, ROOT, "nosgid", 0644, 5, 6, &in));
	expect_eq(in.st_gid, 6);
}

static void test_rename_plain_and_replace(void **state)
{
	struct pmfs *fs = FS(state);
	pmfs_ino_t a = mk_file(fs, ROOT, "a");
	pmfs_ino_t b = mk_file(fs, ROOT, "b");
	pmfs_ino_t d = mk_dir(fs, ROOT, "d");

	expect_ok(pmfs_rename(fs, ROOT, "a", ROOT, "a2", 0));
	expect_eq(lookup_ino(fs, ROOT, "a"), 0);
	expect_eq(lookup_ino(fs, ROOT, "a2"), a);
	expect_ok(pmfs_rename(fs, ROOT, "a2", d, "moved", 0));
	expect_eq(lookup_ino(fs, d, "moved"), a);
	/* over an existing file: b's inode goes away */
	expect_ok(pmfs_rename(fs, d, "moved", ROOT, "b", 0));
	expect_eq(lookup_ino(fs, ROOT, "b"), a);
	/* still referenced by its creator: unlinked but alive until forget */
	expect_eq(stat_of(fs, b).st_nlink, 0);
	expect_ok(pmfs_forget(fs, b, 1));
	expect_err(pmfs_getattr(fs, b, &(struct stat){0}), ENOENT);
	expect_err(pmfs_rename(fs, ROOT, "nope", ROOT, "x", 0), ENOENT);
	expect_err(pmfs_rename(fs, ROOT, "b", ROOT, "d", 0), EISDIR);
	expect_err(pmfs_rename(fs, ROOT, "d", ROOT, "b", 0), ENOTDIR);
	expect_err(pmfs_rename(fs, ROOT, "b", ROOT, "x", 4), EINVAL);
	/* same inode under two names: nothing happens */
	expect_ok(pmfs_link(fs, a, ROOT, "b-alias", NULL));
	expect_ok(pmfs_rename(fs, ROOT, "b", ROOT, "b-alias", 0));
	expect_eq(lookup_ino(fs, ROOT, "b"), a);
}

static void test_rename_noreplace_and_exchange(void **state)
{
	struct pmfs *fs = FS(state);
	pmfs_ino_t f = mk_file(fs, ROOT, "f");
	pmfs_ino_t d1 = mk_dir(fs, ROOT, "d1");
	pmfs_ino_t d2 = mk_dir(fs, ROOT, "d2");
	pmfs_ino_t sub = mk_dir(fs, d1, "sub");

	expect_err(pmfs_rename(fs, ROOT, "f", ROOT, "d1", PMFS_RENAME_NOREPLACE), EEXIST);
	expect_err(pmfs_rename(fs, ROOT, "f", ROOT, "zz", PMFS_RENAME_EXCHANGE), ENOENT);
	expect_err(
	    pmfs_rename(fs, ROOT, "f", ROOT, "g", PMFS_RENAME_EXCHANGE | PMFS_RENAME_NOREPLACE),
	    EINVAL);
	/* exchange a file in / with a directory in d2's place: links move */
	expect_ok(pmfs_rename(fs, d1, "sub", ROOT, "f", PMFS_RENAME_EXCHANGE));
	expect_eq(lookup_ino(fs, ROOT, "f"), sub);
	expect_eq(lookup_ino(fs, d1, "sub"), f);
	expect_eq(stat_of(fs, d1).st_nlink, 2);
	{
		struct stat st;

		expect_ok(pmfs_lookup(fs, sub, "..", &st));
		expect_eq(st.st_ino, ROOT);
		pmfs_forget(fs, st.st_ino, 1);
	}
	expect_ok(pmfs_rename(fs, ROOT, "d1", ROOT, "d2", PMFS_RENAME_EXCHANGE));
	expect_eq(lookup_ino(fs, ROOT, "d1"), d2);
	expect_eq(lookup_ino(fs, ROOT, "d2"), d1);
}

static void test_rename_directories(void **state)
{
	struct pmfs *fs = FS(state);
	pmfs_ino_t a = mk_dir(fs, ROOT, "a");
	pmfs_ino_t b = mk_dir(fs, a, "b");
	pmfs_ino_t c = mk_dir(fs, b, "c");
	pmfs_ino_t empty = mk_dir(fs, ROOT, "empty");
	pmfs_ino_t full = mk_dir(fs, ROOT, "full");
	nlink_t root_links;
	struct stat st;

	mk_file(fs, full, "x");
	expect_err(pmfs_rename(fs, ROOT, "a", c, "a", 0), EINVAL);
	expect_err(pmfs_rename(fs, ROOT, "a", a, "self", 0), EINVAL);
	expect_err(pmfs_rename(fs, ROOT, "empty", ROOT, "full", 0), ENOTEMPTY);
	root_links = stat_of(fs, ROOT).st_nlink;
	/* a directory over an empty directory */
	expect_ok(pmfs_rename(fs, a, "b", ROOT, "empty", 0));
	expect_eq(lookup_ino(fs, ROOT, "empty"), b);
	expect_eq(stat_of(fs, empty).st_nlink, 0);
	expect_ok(pmfs_forget(fs, empty, 1));
	expect_err(pmfs_getattr(fs, empty, &st), ENOENT);
	expect_eq(stat_of(fs, ROOT).st_nlink, root_links);
	expect_eq(stat_of(fs, a).st_nlink, 2);
	expect_ok(pmfs_lookup(fs, b, "..", &st));
	expect_eq(st.st_ino, ROOT);
	pmfs_forget(fs, st.st_ino, 1);
	expect_eq(lookup_ino(fs, b, "c"), c);
	/* the target directory is an ancestor of the source */
	expect_err(pmfs_rename(fs, c, "..", ROOT, "q", 0), EINVAL);
}

static void test_unlinked_file_lives_until_forget(void **state)
{
	struct core_env *env = *state;
	struct pmfs *fs = env->fs;
	struct stat st;
	char buf[6] = {0};
	pmfs_ino_t f;

	expect_ok(pmfs_create(fs, ROOT, "open", 0644, 0, 0, &st));
	f = st.st_ino;
	expect_eq(pmfs_write(fs, f, "hello", 5, 0, 0), 5);
	expect_ok(pmfs_unlink(fs, ROOT, "open"));
	expect_eq(stat_of(fs, f).st_nlink, 0);
	expect_eq(fs->state->orphan_head, f);
	expect_eq(pmfs_read(fs, f, buf, 5, 0), 5);
	assert_string_equal(buf, "hello");
	expect_eq(pmfs_write(fs, f, "world", 5, 5, 0), 5);
	expect_err(pmfs_link(fs, f, ROOT, "back", NULL), ENOENT);
	expect_ok(pmfs_forget(fs, f, 1));
	expect_err(pmfs_getattr(fs, f, &st), ENOENT);
	expect_eq(fs->state->orphan_head, 0);
}

static void test_orphan_freed_by_recovery(void **state)
{
	struct core_env *env = *state;
	struct pmfs_mount_info info;
	uint64_t free_before;
	struct stat st;
	pmfs_ino_t f;
	char *big = calloc(1, 1 << 20);

	expect_ok(pmfs_create(env->fs, ROOT, "orphan", 0644, 0, 0, &st));
	free_before = pmfs_free_blocks(env->fs);
	f = st.st_ino;
	expect_eq(pmfs_write(env->fs, f, big, 1 << 20, 0, 0), 1 << 20);
	free(big);
	expect_ok(pmfs_unlink(env->fs, ROOT, "orphan"));
	/* simulate a crash: the daemon dies with the file still open.  The
	 * image is copied as it is and mounted. */
	{
		char copy[160];
		struct pmfs *fs2;

		snprintf(copy, sizeof(copy), "%s.crash", env->path);
		FILE *in = fopen(env->path, "rb"), *out = fopen(copy, "wb");
		char blk[65536];
		size_t n;

		assert_non_null(in);
		assert_non_null(out);
		while ((n = fread(blk, 1, sizeof(blk), in)) > 0)
			fwrite(blk, 1, n, out);
		fclose(in);
		fclose(out);
		expect_ok(pmfs_mount(copy, NULL, &fs2, &info));
		expect_eq(info.orphans_freed, 1);
		expect_eq(fs2->state->orphan_head, 0);
		expect_err(pmfs_getattr(fs2, f, &st), ENOENT);
		expect_eq(pmfs_free_blocks(fs2), free_before);
		expect_ok(pmfs_unmount(fs2));
		core_fsck_clean(copy);
		unlink(copy);
	}
	expect_ok(pmfs_forget(env->fs, f, 1));
	expect_eq(pmfs_free_blocks(env->fs), free_before);
}

static void test_read_only_mount_refuses_changes(void **state)
{
	struct core_env *env = *state;
	struct pmfs_mount_opts ro = {.read_only = true};
	struct stat st;
	pmfs_ino_t f = mk_file(env->fs, ROOT, "ro-file");

	expect_ok(pmfs_unmount(env->fs));
	env->fs = NULL;
	expect_ok(pmfs_mount(env->path, &ro, &env->fs, NULL));
	expect_ok(pmfs_lookup(env->fs, ROOT, "ro-file", &st));
	expect_err(pmfs_create(env->fs, ROOT, "x", 0644, 0, 0, &st), EROFS);
	expect_err(pmfs_mkdir(env->fs, ROOT, "x", 0755, 0, 0, &st), EROFS);
	expect_err(pmfs_unlink(env->fs, ROOT, "ro-file"), EROFS);
	expect_err(pmfs_rename(env->fs, ROOT, "ro-file", ROOT, "y", 0), EROFS);
	expect_err(pmfs_write(env->fs, f, "x", 1, 0, 0), EROFS);
	expect_err(pmfs_setattr(env->fs, f, &st, PMFS_SET_MODE, NULL), EROFS);
	expect_err(pmfs_setxattr(env->fs, f, "user.a", "1", 1, 0), EROFS);
	expect_err(pmfs_fallocate(env->fs, f, 0, 0, 4096), EROFS);
	core_remount(env); /* back to read-write for teardown */
}

static void test_link_count_limit(void **state)
{
	struct pmfs *fs = FS(state);
	pmfs_ino_t f = mk_file(fs, ROOT, "many");
	struct pmfs_tx *tx;
	struct pmfs_inode si;

	/* set nlink near the limit through a tx instead of 65000 links */
	memcpy(&si, pmfs_inode_ptr(fs, f), sizeof(si));
	si.nlink = 65000 - 1;
	tx = pmfs_tx_begin(fs);
	expect_ok(pmfs_tx_set(tx, &pmfs_inode_ptr(fs, f)->nlink, &si.nlink, 4));
	expect_ok(pmfs_tx_commit(tx));
	expect_ok(pmfs_link(fs, f, ROOT, "one-more", NULL));
	expect_err(pmfs_link(fs, f, ROOT, "too-many", NULL), EMLINK);
	/* put back the true count (two names) so fsck agrees */
	si.nlink = 2;
	tx = pmfs_tx_begin(fs);
	expect_ok(pmfs_tx_set(tx, &pmfs_inode_ptr(fs, f)->nlink, &si.nlink, 4));
	expect_ok(pmfs_tx_commit(tx));
	expect_ok(pmfs_unlink(fs, ROOT, "one-more"));
	expect_eq(stat_of(fs, f).st_nlink, 1);
}

static void test_timestamps_on_entry_changes(void **state)
{
	struct pmfs *fs = FS(state);
	pmfs_ino_t d = mk_dir(fs, ROOT, "times");
	struct stat before, after;

	before = stat_of(fs, d);
	usleep(2000);
	mk_file(fs, d, "f");
	after = stat_of(fs, d);
	assert_true(after.st_mtim.tv_sec > before.st_mtim.tv_sec ||
		    after.st_mtim.tv_nsec > before.st_mtim.tv_nsec);
	expect_eq(after.st_atim.tv_nsec, before.st_atim.tv_nsec); /* noatime */
}

static void test_inode_table_full_gives_enospc(void **state)
{
	struct core_env env;
	struct stat st;
	char name[32];
	int i, err = 0;

	(void)state;
	core_setup(&env, "ifull", 16 * 1024 * 1024, 64);
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		err = pmfs_create(env.fs, ROOT, name, 0644, 0, 0, &st);
		if (err)
			break;
		pmfs_forget(env.fs, st.st_ino, 1);
	}
	expect_eq(err, -ENOSPC);
	/* every slot but 0 (unused) and 1 (root) */
	expect_eq(i, env.fs->sb->inode_count - 2);
	expect_ok(pmfs_unlink(env.fs, ROOT, "f0"));
	expect_ok(pmfs_mkdir(env.fs, ROOT, "again", 0755, 0, 0, &st));
	core_teardown(&env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_then_lookup_finds_it, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_name_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mkdir_sets_links_and_parent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mknod_keeps_type_and_rdev, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_short_and_long_targets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hard_link_counts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_setgid_directory_inheritance, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rename_plain_and_replace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rename_noreplace_and_exchange, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rename_directories, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unlinked_file_lives_until_forget, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_orphan_freed_by_recovery, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_only_mount_refuses_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_link_count_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timestamps_on_entry_changes, setup, teardown),
	    cmocka_unit_test(test_inode_table_full_gives_enospc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
