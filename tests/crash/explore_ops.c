/*
 * explore_ops.c - the workloads of the crash-state explorer: one prepared
 * tree (dirs, files with data and a hole, a fragmented file, symlink,
 * xattrs) and one operation each.  The preparation runs untraced and is
 * remounted before the operation, so the operation starts from media.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "explore_ops.h"

#define ROOT PMFS_ROOT_INO

static pmfs_ino_t ino(struct pmfs *fs, pmfs_ino_t dir, const char *name)
{
	struct stat st;

	if (pmfs_lookup(fs, dir, name, &st))
		return 0;
	pmfs_forget(fs, st.st_ino, 1);
	return st.st_ino;
}

static pmfs_ino_t d1(struct pmfs *fs) { return ino(fs, ROOT, "d1"); }
static pmfs_ino_t d2(struct pmfs *fs) { return ino(fs, ROOT, "d2"); }
static pmfs_ino_t f(struct pmfs *fs) { return ino(fs, ROOT, "f"); }

static int put(struct pmfs *fs, pmfs_ino_t i, size_t len, off_t off, unsigned seed)
{
	char *buf = malloc(len);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	for (size_t k = 0; k < len; k++)
		buf[k] = (char)((k + (size_t)off) * 131 + seed);
	n = pmfs_write(fs, i, buf, len, off, 0);
	free(buf);
	return n == (ssize_t)len ? 0 : n < 0 ? (int)n : -EIO;
}

static void prep_tree(struct pmfs *fs)
{
	struct stat st;
	pmfs_ino_t a, b, g, frag, spacer;

	pmfs_mkdir(fs, ROOT, "d1", 0755, 0, 0, &st);
	a = st.st_ino;
	pmfs_mkdir(fs, ROOT, "d2", 0755, 0, 0, &st);
	b = st.st_ino;
	pmfs_mkdir(fs, a, "sub", 0755, 0, 0, NULL);
	pmfs_mkdir(fs, b, "empty", 0755, 0, 0, NULL);
	pmfs_create(fs, ROOT, "f", 0644, 0, 0, &st);
	put(fs, st.st_ino, 20000, 0, 1);
	pmfs_setxattr(fs, st.st_ino, "user.k", "v", 1, 0);
	pmfs_create(fs, a, "g", 0644, 0, 0, &st);
	g = st.st_ino;
	put(fs, g, 5000, 0, 2);
	pmfs_create(fs, ROOT, "frag", 0600, 0, 0, &st);
	frag = st.st_ino;
	pmfs_create(fs, b, "spacer", 0644, 0, 0, &st);
	spacer = st.st_ino;
	for (int i = 0; i < 12; i++) { /* more extents than the inode holds */
		put(fs, frag, 4096, (off_t)i * 8192, 3);
		put(fs, spacer, 4096, (off_t)i * 4096, 4);
	}
	pmfs_symlink(fs, ROOT, "ln", "f", 0, 0, NULL);
	pmfs_forget(fs, a, 1);
	pmfs_forget(fs, b, 1);
	pmfs_forget(fs, g, 1);
	pmfs_forget(fs, frag, 1);
	pmfs_forget(fs, spacer, 1);
}

static int setsize(struct pmfs *fs, pmfs_ino_t i, off_t size)
{
	struct stat st = { .st_size = size };

	return pmfs_setattr(fs, i, &st, PMFS_SET_SIZE, NULL);
}

static int op_create(struct pmfs *fs) { return pmfs_create(fs, ROOT, "new", 0644, 0, 0, NULL); }
static int op_mkdir(struct pmfs *fs) { return pmfs_mkdir(fs, d1(fs), "newdir", 0700, 0, 0, NULL); }
static int op_mknod(struct pmfs *fs)
{
	return pmfs_mknod(fs, ROOT, "fifo", S_IFIFO | 0600, 0, 0, 0, NULL);
}
static int op_symlink(struct pmfs *fs) { return pmfs_symlink(fs, d2(fs), "s", "../f", 0, 0, NULL); }
static int op_symlink_long(struct pmfs *fs)
{
	char t[700];

	memset(t, 'y', sizeof(t) - 1);
	t[sizeof(t) - 1] = 0;
	return pmfs_symlink(fs, ROOT, "longlink", t, 0, 0, NULL);
}
static int op_link(struct pmfs *fs) { return pmfs_link(fs, f(fs), d2(fs), "hard", NULL); }
static int op_unlink(struct pmfs *fs) { return pmfs_unlink(fs, ROOT, "f"); }
static int op_unlink_frag(struct pmfs *fs) { return pmfs_unlink(fs, ROOT, "frag"); }
static int op_unlink_symlink(struct pmfs *fs) { return pmfs_unlink(fs, ROOT, "ln"); }
static int op_rmdir(struct pmfs *fs) { return pmfs_rmdir(fs, d1(fs), "sub"); }
static int op_rename(struct pmfs *fs) { return pmfs_rename(fs, ROOT, "f", ROOT, "f2", 0); }
static int op_rename_over(struct pmfs *fs) { return pmfs_rename(fs, d1(fs), "g", ROOT, "f", 0); }
static int op_rename_cross_dir(struct pmfs *fs)
{
	return pmfs_rename(fs, d1(fs), "sub", d2(fs), "moved", 0);
}
static int op_rename_dir_over_empty(struct pmfs *fs)
{
	return pmfs_rename(fs, d1(fs), "sub", d2(fs), "empty", 0);
}
static int op_rename_exchange(struct pmfs *fs)
{
	return pmfs_rename(fs, d1(fs), "sub", ROOT, "f", PMFS_RENAME_EXCHANGE);
}
static int op_rename_noreplace(struct pmfs *fs)
{
	return pmfs_rename(fs, ROOT, "ln", d2(fs), "ln2", PMFS_RENAME_NOREPLACE);
}
static int op_overwrite(struct pmfs *fs) { return put(fs, f(fs), 6000, 3000, 6); }
static int op_append(struct pmfs *fs) { return put(fs, f(fs), 30000, 20000, 7); }
static int op_append_small(struct pmfs *fs)
{
	return pmfs_write(fs, f(fs), "tail", 4, 0, PMFS_WRITE_APPEND) == 4 ? 0 : -EIO;
}
static int op_write_hole(struct pmfs *fs) { return put(fs, f(fs), 8192, 1 << 20, 8); }
static int op_fill_frag_hole(struct pmfs *fs) { return put(fs, ino(fs, ROOT, "frag"), 4096, 4096, 9); }
static int op_truncate_down(struct pmfs *fs) { return setsize(fs, f(fs), 3000); }
static int op_truncate_zero_frag(struct pmfs *fs) { return setsize(fs, ino(fs, ROOT, "frag"), 0); }
static int op_truncate_up(struct pmfs *fs) { return setsize(fs, f(fs), 100000); }
static int op_fallocate(struct pmfs *fs) { return pmfs_fallocate(fs, f(fs), 0, 16384, 60000); }
static int op_fallocate_keep(struct pmfs *fs)
{
	return pmfs_fallocate(fs, f(fs), FALLOC_FL_KEEP_SIZE, 16384, 60000);
}
static int op_punch(struct pmfs *fs)
{
	return pmfs_fallocate(fs, f(fs), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 8192);
}
static int op_zero_range(struct pmfs *fs)
{
	return pmfs_fallocate(fs, f(fs), FALLOC_FL_ZERO_RANGE, 1000, 30000);
}
static int op_chmod(struct pmfs *fs)
{
	struct stat st = { .st_mode = 0600 };

	return pmfs_setattr(fs, f(fs), &st, PMFS_SET_MODE, NULL);
}
static int op_chown(struct pmfs *fs)
{
	struct stat st = { .st_uid = 7, .st_gid = 8 };

	return pmfs_setattr(fs, f(fs), &st, PMFS_SET_UID | PMFS_SET_GID, NULL);
}
static int op_utimes(struct pmfs *fs)
{
	struct stat st = { .st_atim = { 1000, 1 }, .st_mtim = { 2000, 2 } };

	return pmfs_setattr(fs, f(fs), &st, PMFS_SET_ATIME | PMFS_SET_MTIME, NULL);
}
static int op_setxattr(struct pmfs *fs)
{
	return pmfs_setxattr(fs, f(fs), "user.new", "value", 5, XATTR_CREATE);
}
static int op_setxattr_replace(struct pmfs *fs)
{
	char v[600];

	memset(v, 'q', sizeof(v));
	return pmfs_setxattr(fs, f(fs), "user.k", v, sizeof(v), XATTR_REPLACE);
}
static int op_setxattr_dir(struct pmfs *fs)
{
	return pmfs_setxattr(fs, d1(fs), "trusted.t", "1", 1, 0);
}
static int op_removexattr(struct pmfs *fs) { return pmfs_removexattr(fs, f(fs), "user.k"); }
static int op_fsync(struct pmfs *fs) { return pmfs_fsync(fs, f(fs), false); }
static int op_copy_file_range(struct pmfs *fs)
{
	ssize_t n = pmfs_copy_file_range(fs, f(fs), 0, ino(fs, d1(fs), "g"), 1000, 10000);

	return n < 0 ? (int)n : 0;
}

#define W(name, type) { #name, type, prep_tree, op_##name, NULL, NULL }
#define WM(name, type, path) { #name, type, prep_tree, op_##name, path, NULL }
#define WK(name, type, bug) { #name, type, prep_tree, op_##name, NULL, bug }
const struct workload explore_workloads[] = {
	W(create, "create"),
	W(mkdir, "mkdir"),
	W(mknod, "mknod"),
	W(symlink, "symlink"),
	W(symlink_long, "symlink"),
	W(link, "link"),
	W(unlink, "unlink"),
	W(unlink_frag, "unlink"),
	W(unlink_symlink, "unlink"),
	W(rmdir, "rmdir"),
	W(rename, "rename"),
	W(rename_over, "rename"),
	W(rename_cross_dir, "rename"),
	W(rename_dir_over_empty, "rename"),
	W(rename_exchange, "rename"),
	W(rename_noreplace, "rename"),
	WM(overwrite, "write", "/f"),
	W(append, "write"),
	W(append_small, "write"),
	W(write_hole, "write"),
	W(fill_frag_hole, "write"),
	WM(copy_file_range, "write", "/d1/g"),
	W(truncate_down, "truncate"),
	W(truncate_zero_frag, "truncate"),
	W(truncate_up, "truncate"),
	/* file.c commits the allocation (ctime) and the new size in separate
	 * transactions: a crash between leaves blocks past EOF, the old size
	 * and the new ctime (neither before nor after). */
	W(fallocate, "fallocate"),
	W(fallocate_keep, "fallocate"),
	W(punch, "fallocate"),
	W(zero_range, "fallocate"),
	W(chmod, "setattr"),
	W(chown, "setattr"),
	W(utimes, "setattr"),
	W(setxattr, "xattr"),
	W(setxattr_replace, "xattr"),
	W(setxattr_dir, "xattr"),
	W(removexattr, "xattr"),
	W(fsync, "fsync"),
};
const unsigned explore_nworkloads = sizeof(explore_workloads) / sizeof(explore_workloads[0]);
