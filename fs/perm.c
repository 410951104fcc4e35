/*
 * perm.c - the POSIX permission checks of pmemfs-fuse when the kernel does
 * not do them (no -o default_permissions; see perm.h and docs/DAEMON.md).
 *
 * Why the daemon checks at all: with default_permissions, every create or
 * unlink makes the kernel drop the parent's cached attributes
 * (fuse_dir_changed), and its permission check of the next name operation
 * in that directory sends a GETATTR first: one round trip in three for a
 * create, one in two for an unlink.  Here the check costs a lookup in the
 * inode cache instead.
 *
 * What the kernel still does without default_permissions, so not here:
 * read-only mounts, immutable files, CAP_MKNOD for devices, the trusted.*
 * namespace and user.* on special files and sticky directories
 * (xattr_permission), O_NOATIME, protected symlinks/fifos, fd access modes
 * (read/write/ftruncate on an fd), and "some x bit" for exec of a regular
 * file.  There are no POSIX ACLs to honour: the core refuses system.*
 * xattrs (EOPNOTSUPP) and the daemon does not negotiate FUSE_POSIX_ACL, so
 * only the mode bits count, as they did with default_permissions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perm.h"

#ifndef __FMODE_EXEC
#define __FMODE_EXEC 040 /* open(2) flag of execve's open: include/uapi/asm-generic/fcntl.h */
#endif

void pmfs_caller_init(struct pmfs_caller *c, fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	c->req = req;
	c->uid = ctx->uid;
	c->gid = ctx->gid;
	c->ngroups = -1;
	c->groups = c->small;
}

void pmfs_caller_done(struct pmfs_caller *c)
{
	if (c->groups != c->small)
		free(c->groups);
	c->groups = c->small;
}

/* uid 0 holds every capability the checks ask about (see perm.h) */
static bool capable(const struct pmfs_caller *c)
{
	return c->uid == 0;
}

/*
 * Supplementary groups come from /proc/PID/task/TID/status (libfuse reads
 * it): a file read, so only when a mode bit depends on them.  If the read
 * fails (the process exited) the caller has only its fsgid.
 */
static void fetch_groups(struct pmfs_caller *c)
{
	int n = fuse_req_getgroups(c->req, (int)(sizeof(c->small) / sizeof(c->small[0])), c->small);

	c->ngroups = n < 0 ? 0 : n;
	if (n > (int)(sizeof(c->small) / sizeof(c->small[0]))) {
		gid_t *big = malloc((size_t)n * sizeof(*big));
		int got = big ? fuse_req_getgroups(c->req, n, big) : -1;

		if (got < 0 || got > n) {
			free(big);
			c->ngroups = (int)(sizeof(c->small) / sizeof(c->small[0]));
		} else {
			c->groups = big;
			c->ngroups = got;
		}
	}
}

/* in_group_p() */
static bool in_group(struct pmfs_caller *c, gid_t gid)
{
	if (gid == c->gid)
		return true;
	if (c->ngroups < 0)
		fetch_groups(c);
	for (int i = 0; i < c->ngroups; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

/* inode_owner_or_capable() */
static bool owner_or_capable(const struct pmfs_caller *c, const struct stat *st)
{
	return c->uid == st->st_uid || capable(c);
}

/*
 * generic_permission(): the owner class, else the group class if the
 * caller is in the group (asked only when group and other bits differ,
 * as acl_permission_check does), else other; then the capabilities:
 * directories are always readable and searchable by root, writable too;
 * files readable and writable; executable only if some x bit is set.
 */
int pmfs_perm_inode(struct pmfs_caller *c, const struct stat *st, int mask)
{
	unsigned mode = st->st_mode;

	mask &= 7;
	if (c->uid == st->st_uid) {
		mode >>= 6;
	} else if ((mask & (mode ^ (mode >> 3))) && in_group(c, st->st_gid)) {
		mode >>= 3;
	}
	if ((mask & ~mode & 7) == 0)
		return 0;
	if (!capable(c))
		return -EACCES;
	if (S_ISDIR(st->st_mode))
		return 0;
	if (!(mask & PMFS_MAY_EXEC) || (st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
		return 0;
	return -EACCES;
}

bool pmfs_perm_searchable_by_all(const struct stat *dir)
{
	return (dir->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == (S_IXUSR | S_IXGRP | S_IXOTH);
}

int pmfs_perm_lookup(struct pmfs_caller *c, const struct stat *dir)
{
	if (!S_ISDIR(dir->st_mode))
		return -ENOTDIR;
	return pmfs_perm_inode(c, dir, PMFS_MAY_EXEC);
}

int pmfs_perm_create(struct pmfs_caller *c, const struct stat *dir)
{
	if (!S_ISDIR(dir->st_mode))
		return -ENOTDIR;
	return pmfs_perm_inode(c, dir, PMFS_MAY_WRITE | PMFS_MAY_EXEC);
}

/* check_sticky(): in a sticky directory only the file's or the directory's
 * owner (or CAP_FOWNER) may remove or rename a name. */
static bool sticky_forbids(const struct pmfs_caller *c, const struct stat *dir,
			   const struct stat *victim)
{
	if (!(dir->st_mode & S_ISVTX))
		return false;
	return victim->st_uid != c->uid && dir->st_uid != c->uid && !capable(c);
}

/* The attributes of parent/name without keeping the lookup reference. */
static int peek(struct pmfs *fs, fuse_ino_t parent, const char *name, struct stat *st)
{
	int ret = pmfs_lookup(fs, parent, name, st);

	if (ret == 0)
		pmfs_forget(fs, st->st_ino, 1);
	return ret;
}

int pmfs_perm_delete(struct pmfs_caller *c, struct pmfs *fs, const struct stat *dir,
		     const char *name)
{
	struct stat victim;
	int ret = pmfs_perm_create(c, dir);

	if (ret < 0)
		return ret;
	if (!(dir->st_mode & S_ISVTX) || dir->st_uid == c->uid || capable(c))
		return 0;
	ret = peek(fs, dir->st_ino, name, &victim);
	if (ret < 0)
		return ret == -ENOENT ? 0 : ret; /* the core reports ENOENT itself */
	return sticky_forbids(c, dir, &victim) ? -EPERM : 0;
}

/*
 * vfs_rename(): may_delete() of the source in its parent; may_create() in
 * the new parent, or may_delete() of the name replaced (both ways for
 * RENAME_EXCHANGE); a directory moving to another parent must itself be
 * writable (its ".." changes).
 */
int pmfs_perm_rename(struct pmfs_caller *c, struct pmfs *fs, fuse_ino_t parent, const char *name,
		     fuse_ino_t newparent, const char *newname, unsigned flags)
{
	struct stat dir, newdir, src, dst;
	bool have_src, have_dst;
	int ret;

	if (capable(c)) /* CAP_DAC_OVERRIDE and CAP_FOWNER: all of it */
		return 0;
	if ((ret = pmfs_getattr(fs, parent, &dir)) < 0 ||
	    (ret = pmfs_getattr(fs, newparent, &newdir)) < 0)
		return ret;
	ret = peek(fs, parent, name, &src);
	if (ret < 0 && ret != -ENOENT)
		return ret;
	have_src = ret == 0;
	ret = peek(fs, newparent, newname, &dst);
	if (ret < 0 && ret != -ENOENT)
		return ret;
	have_dst = ret == 0;
	/* the kernel's order: may_delete(old), then may_create/may_delete(new) */
	if ((ret = pmfs_perm_create(c, &dir)) < 0)
		return ret;
	if (have_src && sticky_forbids(c, &dir, &src))
		return -EPERM;
	if ((ret = pmfs_perm_create(c, &newdir)) < 0)
		return ret;
	if (have_dst && sticky_forbids(c, &newdir, &dst))
		return -EPERM;
	if (have_src && parent != newparent) {
		if (S_ISDIR(src.st_mode) && (ret = pmfs_perm_inode(c, &src, PMFS_MAY_WRITE)) < 0)
			return ret;
		if ((flags & RENAME_EXCHANGE) && have_dst && S_ISDIR(dst.st_mode) &&
		    (ret = pmfs_perm_inode(c, &dst, PMFS_MAY_WRITE)) < 0)
			return ret;
	}
	return 0;
}

/* fs.protected_hardlinks (read per link: links are rare, the sysctl may change) */
static bool protected_hardlinks(void)
{
	FILE *f = fopen("/proc/sys/fs/protected_hardlinks", "re");
	int on = 0;

	if (f) {
		if (fscanf(f, "%d", &on) != 1)
			on = 0;
		fclose(f);
	}
	return on != 0;
}

/*
 * may_linkat(): with protected_hardlinks the kernel asks inode_permission
 * for read and write on the source, which without default_permissions
 * would let anyone link anything: a non-owner may link only a regular,
 * non-set-ID file they can read and write.
 */
int pmfs_perm_link(struct pmfs_caller *c, const struct stat *src, const struct stat *newdir)
{
	if (!owner_or_capable(c, src) && protected_hardlinks()) {
		mode_t m = src->st_mode;

		if (!S_ISREG(m) || (m & S_ISUID) ||
		    (m & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) ||
		    pmfs_perm_inode(c, src, PMFS_MAY_READ | PMFS_MAY_WRITE) < 0)
			return -EPERM;
	}
	return pmfs_perm_create(c, newdir);
}

/* build_open_flags() + may_open(): O_TRUNC needs write even with O_RDONLY. */
int pmfs_perm_open(struct pmfs_caller *c, const struct stat *st, int flags)
{
	int mask = 0;

	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		mask = PMFS_MAY_READ;
		break;
	case O_WRONLY:
		mask = PMFS_MAY_WRITE;
		break;
	default: /* O_RDWR, and 3 (ioctl-only opens) needs both too */
		mask = PMFS_MAY_READ | PMFS_MAY_WRITE;
		break;
	}
	if (flags & O_TRUNC)
		mask |= PMFS_MAY_WRITE;
	if (flags & __FMODE_EXEC)
		mask |= PMFS_MAY_EXEC;
	return pmfs_perm_inode(c, st, mask);
}

int pmfs_perm_access(struct pmfs_caller *c, const struct stat *st, int mask)
{
	int may = 0;

	if (mask & R_OK)
		may |= PMFS_MAY_READ;
	if (mask & W_OK)
		may |= PMFS_MAY_WRITE;
	if (mask & X_OK)
		may |= PMFS_MAY_EXEC;
	return pmfs_perm_inode(c, st, may);
}

/* chown_ok(): root, or the owner "changing" to itself */
static bool chown_ok(const struct pmfs_caller *c, const struct stat *st, uid_t uid)
{
	return (c->uid == st->st_uid && uid == st->st_uid) || capable(c);
}

/* chgrp_ok(): root, or the owner to the file's group or one of their own */
static bool chgrp_ok(struct pmfs_caller *c, const struct stat *st, gid_t gid)
{
	if (c->uid == st->st_uid && (gid == st->st_gid || in_group(c, gid)))
		return true;
	return capable(c);
}

/*
 * The order is the kernel's: do_truncate's write check, then
 * setattr_prepare (owner, group, mode, explicit times), then
 * notify_change's check for "set both times to now".
 */
int pmfs_perm_setattr(struct pmfs_caller *c, const struct stat *st, struct stat *attr, int to_set,
		      bool from_file)
{
	int ret;

	/* truncate(2) by path; ftruncate checked the fd's mode instead */
	if ((to_set & FUSE_SET_ATTR_SIZE) && !from_file &&
	    (ret = pmfs_perm_inode(c, st, PMFS_MAY_WRITE)) < 0)
		return ret;
	if ((to_set & FUSE_SET_ATTR_UID) && !chown_ok(c, st, attr->st_uid))
		return -EPERM;
	if ((to_set & FUSE_SET_ATTR_GID) && !chgrp_ok(c, st, attr->st_gid))
		return -EPERM;
	if (to_set & FUSE_SET_ATTR_MODE) {
		gid_t gid = (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : st->st_gid;

		if (!owner_or_capable(c, st))
			return -EPERM;
		/* a non-member may not hand out its group's set-group-ID */
		if (!in_group(c, gid) && !capable(c))
			attr->st_mode &= ~(mode_t)S_ISGID;
	}
	/* A truncate's own mtime, and the kernel's flush of a file's mtime
	 * (FATTR_FH), are not utimes() calls. */
	if (from_file || (to_set & FUSE_SET_ATTR_SIZE))
		return 0;
	bool explicit_atime = (to_set & FUSE_SET_ATTR_ATIME) && !(to_set & FUSE_SET_ATTR_ATIME_NOW);
	bool explicit_mtime = (to_set & FUSE_SET_ATTR_MTIME) && !(to_set & FUSE_SET_ATTR_MTIME_NOW);

	if (explicit_atime || explicit_mtime)
		return owner_or_capable(c, st) ? 0 : -EPERM;
	if ((to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) && !owner_or_capable(c, st))
		return pmfs_perm_inode(c, st, PMFS_MAY_WRITE);
	return 0;
}

static bool has_prefix(const char *name, const char *prefix)
{
	return strncmp(name, prefix, strlen(prefix)) == 0;
}

/*
 * xattr_permission() leaves security.* to the LSMs and system.* to the
 * file system (the core supports neither POSIX ACLs nor other system.*
 * names: EOPNOTSUPP); every other name needs read or write permission on
 * the inode.
 */
int pmfs_perm_xattr(struct pmfs_caller *c, const struct stat *st, const char *name, int mask)
{
	if (has_prefix(name, "security.") || has_prefix(name, "system."))
		return 0;
	return pmfs_perm_inode(c, st, mask);
}
