/*
 * attr.c - getattr and setattr.  A setattr applies all requested changes in
 * one tx (with a size change, in the last tx of the truncate: see file.h).
 * Changing the owner or group of a non-directory clears set-user-ID, and
 * set-group-ID when group-execute is set, as the kernel does; an explicit
 * mode in the same call wins.  PMFS_SET_KILL_SUIDGID does the same for a
 * truncate (the daemon handles FUSE_HANDLE_KILLPRIV_V2).  Any setattr sets
 * ctime (unless given).
 */
#include <errno.h>

#include "file.h"
#include "icache.h"

int pmfs_getattr(struct pmfs *fs, pmfs_ino_t ino, struct stat *st)
{
	struct pmfs_node *node;
	int err = pmfs_iget(fs, ino, &node);

	if (err)
		return err;
	pmfs_node_rdlock(node);
	pmfs_inode_to_stat(ino, pmfs_inode_get(fs, ino), st);
	pmfs_node_unlock(node);
	pmfs_iput(fs, node);
	return 0;
}

void pmfs_kill_suidgid(struct pmfs_inode *si)
{
	if (S_ISDIR(si->mode))
		return;
	si->mode &= ~(uint32_t)S_ISUID;
	if (si->mode & S_IXGRP)
		si->mode &= ~(uint32_t)S_ISGID;
}

struct attr_req {
	const struct stat *st;
	unsigned to_set;
};

static void apply_attrs(struct pmfs_inode *si, void *arg)
{
	const struct attr_req *r = arg;
	const struct stat *st = r->st;
	struct timespec now;

	pmfs_now(&now);
	if (r->to_set & (PMFS_SET_UID | PMFS_SET_GID)) {
		if (r->to_set & PMFS_SET_UID)
			si->uid = st->st_uid;
		if (r->to_set & PMFS_SET_GID)
			si->gid = st->st_gid;
		pmfs_kill_suidgid(si);
	}
	if (r->to_set & PMFS_SET_KILL_SUIDGID)
		pmfs_kill_suidgid(si);
	if (r->to_set & PMFS_SET_MODE)
		si->mode = (si->mode & S_IFMT) | (st->st_mode & 07777);
	if (r->to_set & PMFS_SET_ATIME_NOW) {
		si->atime_sec = now.tv_sec;
		si->atime_nsec = (uint32_t)now.tv_nsec;
	} else if (r->to_set & PMFS_SET_ATIME) {
		si->atime_sec = st->st_atim.tv_sec;
		si->atime_nsec = (uint32_t)st->st_atim.tv_nsec;
	}
	if (r->to_set & PMFS_SET_MTIME_NOW) {
		si->mtime_sec = now.tv_sec;
		si->mtime_nsec = (uint32_t)now.tv_nsec;
	} else if (r->to_set & PMFS_SET_MTIME) {
		si->mtime_sec = st->st_mtim.tv_sec;
		si->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	}
	if (r->to_set & PMFS_SET_CTIME) {
		si->ctime_sec = st->st_ctim.tv_sec;
		si->ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
	} else {
		si->ctime_sec = now.tv_sec;
		si->ctime_nsec = (uint32_t)now.tv_nsec;
	}
}

int pmfs_setattr(struct pmfs *fs, pmfs_ino_t ino, const struct stat *st, unsigned to_set,
		 struct stat *out)
{
	struct attr_req req = {st, to_set};
	struct pmfs_node *node;
	int err;

	if (fs->read_only)
		return -EROFS;
	if (to_set & PMFS_SET_SIZE && st->st_size < 0)
		return -EINVAL;
	err = pmfs_iget(fs, ino, &node);
	if (err)
		return err;
	pmfs_node_wrlock(node);
	if (to_set & PMFS_SET_SIZE) {
		uint32_t mode = pmfs_inode_get(fs, ino)->mode;

		if (S_ISDIR(mode))
			err = -EISDIR;
		else if (!S_ISREG(mode))
			err = -EINVAL;
		else
			err = pmfs_set_size_locked(fs, node, (uint64_t)st->st_size, apply_attrs,
						   &req);
	} else {
		/* every field in one tx: all or nothing across a crash */
		struct pmfs_tx *tx = pmfs_tx_begin(fs);
		struct pmfs_inode si;

		pmfs_inode_stage(fs, ino, &si);
		apply_attrs(&si, &req);
		err = pmfs_inode_log(fs, tx, ino, &si);
		if (err)
			pmfs_tx_abort(tx);
		else
			err = pmfs_tx_commit(tx);
	}
	if (!err && out)
		pmfs_inode_to_stat(ino, pmfs_inode_get(fs, ino), out);
	pmfs_node_unlock(node);
	pmfs_iput(fs, node);
	return err;
}
