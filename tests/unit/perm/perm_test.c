/*
 * perm_test.c - fs/perm.c's rules, one test per rule, on hand-made
 * attributes and callers (the supplementary groups are filled in, so
 * libfuse is never asked).  The expected results are the kernel's
 * (generic_permission, setattr_prepare, xattr_permission);
 * tests/integration/permissions.sh checks the same against a real mount
 * and against the kernel itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "perm.h"

static struct stat attrs(mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = mode;
	st.st_uid = uid;
	st.st_gid = gid;
	return st;
}

/* uid/gid with supplementary groups g (ng of them), already "fetched" */
static struct pmfs_caller caller(uid_t uid, gid_t gid, const gid_t *g, int ng)
{
	struct pmfs_caller c;

	memset(&c, 0, sizeof(c));
	c.uid = uid;
	c.gid = gid;
	c.groups = c.small;
	c.ngroups = ng;
	for (int i = 0; i < ng; i++)
		c.small[i] = g[i];
	return c;
}

enum { R = PMFS_MAY_READ, W = PMFS_MAY_WRITE, X = PMFS_MAY_EXEC };

static void owner_class_decides_for_the_owner(void **state)
{
	struct pmfs_caller c = caller(1000, 1000, NULL, 0);
	struct stat st = attrs(S_IFREG | 0077, 1000, 1000);

	(void)state;
	/* the owner gets the owner bits even when group/other are wider */
	assert_int_equal(pmfs_perm_inode(&c, &st, R), -EACCES);
	st.st_mode = S_IFREG | 0600;
	assert_int_equal(pmfs_perm_inode(&c, &st, R | W), 0);
	assert_int_equal(pmfs_perm_inode(&c, &st, X), -EACCES);
}

static void group_class_through_supplementary_groups(void **state)
{
	gid_t g[] = {2000};
	struct pmfs_caller member = caller(1000, 1000, g, 1);
	struct pmfs_caller other = caller(1001, 1001, NULL, 0);
	struct stat st = attrs(S_IFREG | 0640, 0, 2000);

	(void)state;
	assert_int_equal(pmfs_perm_inode(&member, &st, R), 0);
	assert_int_equal(pmfs_perm_inode(&other, &st, R), -EACCES);
	/* the group class applies even when "other" is wider */
	st.st_mode = S_IFREG | 0604;
	assert_int_equal(pmfs_perm_inode(&member, &st, R), -EACCES);
	assert_int_equal(pmfs_perm_inode(&other, &st, R), 0);
}

static void root_overrides_but_exec_needs_an_x_bit(void **state)
{
	struct pmfs_caller root = caller(0, 0, NULL, 0);
	struct stat file = attrs(S_IFREG | 0000, 1000, 1000);
	struct stat dir = attrs(S_IFDIR | 0000, 1000, 1000);

	(void)state;
	assert_int_equal(pmfs_perm_inode(&root, &file, R | W), 0);
	assert_int_equal(pmfs_perm_inode(&root, &file, X), -EACCES);
	file.st_mode = S_IFREG | 0001;
	assert_int_equal(pmfs_perm_inode(&root, &file, X), 0);
	assert_int_equal(pmfs_perm_inode(&root, &dir, R | W | X), 0);
}

static void directory_checks(void **state)
{
	struct pmfs_caller c = caller(1000, 1000, NULL, 0);
	struct stat dir = attrs(S_IFDIR | 0755, 0, 0);
	struct stat file = attrs(S_IFREG | 0777, 0, 0);

	(void)state;
	assert_int_equal(pmfs_perm_lookup(&c, &dir), 0);
	assert_int_equal(pmfs_perm_create(&c, &dir), -EACCES);
	dir.st_mode = S_IFDIR | 0776; /* write without search */
	assert_int_equal(pmfs_perm_create(&c, &dir), -EACCES);
	assert_int_equal(pmfs_perm_lookup(&c, &dir), -EACCES);
	dir.st_mode = S_IFDIR | 0773;
	assert_int_equal(pmfs_perm_create(&c, &dir), 0);
	assert_int_equal(pmfs_perm_lookup(&c, &file), -ENOTDIR);
}

static void names_are_cached_only_where_everyone_may_search(void **state)
{
	struct stat dir = attrs(S_IFDIR | 0755, 0, 0);

	(void)state;
	assert_true(pmfs_perm_searchable_by_all(&dir));
	dir.st_mode = S_IFDIR | 0750;
	assert_false(pmfs_perm_searchable_by_all(&dir));
	dir.st_mode = S_IFDIR | 0711;
	assert_true(pmfs_perm_searchable_by_all(&dir));
}

static void open_modes(void **state)
{
	struct pmfs_caller c = caller(1000, 1000, NULL, 0);
	struct stat st = attrs(S_IFREG | 0644, 0, 0);

	(void)state;
	assert_int_equal(pmfs_perm_open(&c, &st, O_RDONLY), 0);
	assert_int_equal(pmfs_perm_open(&c, &st, O_WRONLY), -EACCES);
	assert_int_equal(pmfs_perm_open(&c, &st, O_RDWR), -EACCES);
	assert_int_equal(pmfs_perm_open(&c, &st, O_RDONLY | O_TRUNC), -EACCES);
	assert_int_equal(pmfs_perm_open(&c, &st, O_RDONLY | 040 /* __FMODE_EXEC */), -EACCES);
	st.st_mode = S_IFREG | 0755;
	assert_int_equal(pmfs_perm_open(&c, &st, O_RDONLY | 040), 0);
	st.st_mode = S_IFREG | 0622;
	assert_int_equal(pmfs_perm_open(&c, &st, O_WRONLY), 0);
	assert_int_equal(pmfs_perm_open(&c, &st, O_RDONLY), -EACCES);
}

static void access_masks(void **state)
{
	struct pmfs_caller c = caller(1000, 1000, NULL, 0);
	struct stat st = attrs(S_IFREG | 0754, 0, 1000);

	(void)state;
	assert_int_equal(pmfs_perm_access(&c, &st, F_OK), 0);
	assert_int_equal(pmfs_perm_access(&c, &st, R_OK | X_OK), 0);
	assert_int_equal(pmfs_perm_access(&c, &st, W_OK), -EACCES);
}

static void chown_chgrp_chmod(void **state)
{
	gid_t g[] = {2000};
	struct pmfs_caller owner = caller(1000, 1000, g, 1);
	struct pmfs_caller stranger = caller(1001, 1001, NULL, 0);
	struct pmfs_caller root = caller(0, 0, NULL, 0);
	struct stat st = attrs(S_IFREG | 0644, 1000, 1000);
	struct stat attr = attrs(0, 1000, 2000);

	(void)state;
	/* chown to oneself is a no-op the owner may do; to anyone else not */
	assert_int_equal(pmfs_perm_setattr(&owner, &st, &attr, FUSE_SET_ATTR_UID, false), 0);
	attr.st_uid = 1001;
	assert_int_equal(pmfs_perm_setattr(&owner, &st, &attr, FUSE_SET_ATTR_UID, false), -EPERM);
	assert_int_equal(pmfs_perm_setattr(&root, &st, &attr, FUSE_SET_ATTR_UID, false), 0);
	/* chgrp: the owner to one of their groups */
	assert_int_equal(pmfs_perm_setattr(&owner, &st, &attr, FUSE_SET_ATTR_GID, false), 0);
	attr.st_gid = 3000;
	assert_int_equal(pmfs_perm_setattr(&owner, &st, &attr, FUSE_SET_ATTR_GID, false), -EPERM);
	assert_int_equal(pmfs_perm_setattr(&stranger, &st, &attr, FUSE_SET_ATTR_GID, false),
			 -EPERM);
	/* chmod: owner only; S_ISGID dropped for a non-member of the group */
	attr.st_mode = 02755;
	assert_int_equal(pmfs_perm_setattr(&stranger, &st, &attr, FUSE_SET_ATTR_MODE, false),
			 -EPERM);
	assert_int_equal(pmfs_perm_setattr(&owner, &st, &attr, FUSE_SET_ATTR_MODE, false), 0);
	assert_int_equal(attr.st_mode, 02755);
	st.st_gid = 3000;
	assert_int_equal(pmfs_perm_setattr(&owner, &st, &attr, FUSE_SET_ATTR_MODE, false), 0);
	assert_int_equal(attr.st_mode, 0755);
	attr.st_mode = 02755;
	assert_int_equal(pmfs_perm_setattr(&root, &st, &attr, FUSE_SET_ATTR_MODE, false), 0);
	assert_int_equal(attr.st_mode, 02755);
}

static void times_and_truncate(void **state)
{
	struct pmfs_caller writer = caller(1001, 1001, NULL, 0);
	struct stat st = attrs(S_IFREG | 0666, 1000, 1000);
	struct stat attr = attrs(0, 0, 0);
	int now = FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME |
		  FUSE_SET_ATTR_MTIME_NOW;
	int given = FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME;

	(void)state;
	assert_int_equal(pmfs_perm_setattr(&writer, &st, &attr, now, false), 0);
	assert_int_equal(pmfs_perm_setattr(&writer, &st, &attr, given, false), -EPERM);
	assert_int_equal(pmfs_perm_setattr(&writer, &st, &attr, FUSE_SET_ATTR_SIZE, false), 0);
	st.st_mode = S_IFREG | 0644;
	assert_int_equal(pmfs_perm_setattr(&writer, &st, &attr, now, false), -EACCES);
	assert_int_equal(pmfs_perm_setattr(&writer, &st, &attr, FUSE_SET_ATTR_SIZE, false),
			 -EACCES);
	/* ftruncate, or the kernel's own mtime flush, on an open file */
	assert_int_equal(pmfs_perm_setattr(&writer, &st, &attr, FUSE_SET_ATTR_SIZE, true), 0);
	assert_int_equal(pmfs_perm_setattr(&writer, &st, &attr, FUSE_SET_ATTR_MTIME, true), 0);
}

static void xattr_namespaces(void **state)
{
	struct pmfs_caller c = caller(1000, 1000, NULL, 0);
	struct stat st = attrs(S_IFREG | 0644, 0, 0);

	(void)state;
	assert_int_equal(pmfs_perm_xattr(&c, &st, "user.a", R), 0);
	assert_int_equal(pmfs_perm_xattr(&c, &st, "user.a", W), -EACCES);
	/* left to the LSMs and to the file system */
	assert_int_equal(pmfs_perm_xattr(&c, &st, "security.a", W), 0);
	assert_int_equal(pmfs_perm_xattr(&c, &st, "system.posix_acl_access", W), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(owner_class_decides_for_the_owner),
	    cmocka_unit_test(group_class_through_supplementary_groups),
	    cmocka_unit_test(root_overrides_but_exec_needs_an_x_bit),
	    cmocka_unit_test(directory_checks),
	    cmocka_unit_test(names_are_cached_only_where_everyone_may_search),
	    cmocka_unit_test(open_modes),
	    cmocka_unit_test(access_masks),
	    cmocka_unit_test(chown_chgrp_chmod),
	    cmocka_unit_test(times_and_truncate),
	    cmocka_unit_test(xattr_namespaces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
