/*
 * perm.h - POSIX permission checks done by the daemon, in place of the
 * kernel's (mounts without -o default_permissions).  Each check is the
 * daemon-side twin of the VFS code named next to it; the caller is the
 * request's fsuid/fsgid and supplementary groups, and uid 0 stands for the
 * capabilities root holds (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
 * CAP_FOWNER, CAP_CHOWN, CAP_FSETID).  The core stays permission-free.
 * Every function returns 0 or a negative errno, as the VFS would.
 */
#ifndef PMEMFS_PERM_H
#define PMEMFS_PERM_H

#include "fuse_ops.h"

/* generic_permission()'s mask bits (MAY_EXEC, MAY_WRITE, MAY_READ) */
enum { PMFS_MAY_EXEC = 1, PMFS_MAY_WRITE = 2, PMFS_MAY_READ = 4 };

/* The caller of one request; supplementary groups are read on first need. */
struct pmfs_caller {
	fuse_req_t req;
	uid_t uid;
	gid_t gid;
	int ngroups; /* -1 until fetched */
	gid_t *groups;
	gid_t small[32];
};

void pmfs_caller_init(struct pmfs_caller *c, fuse_req_t req);
void pmfs_caller_done(struct pmfs_caller *c);

/* generic_permission() on attributes st for mask (PMFS_MAY_*) */
int pmfs_perm_inode(struct pmfs_caller *c, const struct stat *st, int mask);

/* lookup (may_lookup): search permission on the directory */
int pmfs_perm_lookup(struct pmfs_caller *c, const struct stat *dir);
/* create, mknod, mkdir, symlink, link target (may_create) */
int pmfs_perm_create(struct pmfs_caller *c, const struct stat *dir);
/* unlink, rmdir (may_delete): w+x on the parent, then the sticky bit */
int pmfs_perm_delete(struct pmfs_caller *c, struct pmfs *fs, const struct stat *dir,
		     const char *name);
/* rename (vfs_rename): both parents, sticky bits, a moved directory's ".." */
int pmfs_perm_rename(struct pmfs_caller *c, struct pmfs *fs, fuse_ino_t parent, const char *name,
		     fuse_ino_t newparent, const char *newname, unsigned flags);
/* link (may_linkat with fs.protected_hardlinks, then may_create) */
int pmfs_perm_link(struct pmfs_caller *c, const struct stat *src, const struct stat *newdir);
/* open and opendir (may_open): the access mode, O_TRUNC, exec */
int pmfs_perm_open(struct pmfs_caller *c, const struct stat *st, int flags);
/* access(2) and chdir (FUSE_ACCESS): mask is R_OK | W_OK | X_OK */
int pmfs_perm_access(struct pmfs_caller *c, const struct stat *st, int mask);
/*
 * setattr (setattr_prepare, notify_change, do_truncate): may clear S_ISGID
 * in attr->st_mode as the kernel does for a chmod by a non-member.
 * from_file: the request names an open file (ftruncate, or the kernel's
 * own mtime flush), whose access the kernel checked at open.
 */
int pmfs_perm_setattr(struct pmfs_caller *c, const struct stat *st, struct stat *attr, int to_set,
		      bool from_file);
/* getxattr (PMFS_MAY_READ), setxattr/removexattr (PMFS_MAY_WRITE) */
int pmfs_perm_xattr(struct pmfs_caller *c, const struct stat *st, const char *name, int mask);

/* Whether every user may search dir: then the kernel may cache its names. */
bool pmfs_perm_searchable_by_all(const struct stat *dir);

#endif /* PMEMFS_PERM_H */
