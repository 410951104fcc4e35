/*
 * namei.c - name operations: lookup, create, mknod, mkdir, symlink,
 * readlink, link, unlink, rmdir, rename.  Each change is one tx: entries,
 * link counts, parent fields, timestamps and the orphan list move together.
 *
 * Lock ordering (deadlock freedom), outermost first:
 *   1. the rename mutex (pmfs_rename_mutex), taken by cross-directory
 *      renames only, as Linux's s_vfs_rename_mutex: while it is held no
 *      directory changes parent, so walking parent fields up to the root to
 *      test ancestry is stable, and no two renames can build a cycle;
 *   2. the parent directories of the operation: the ancestor first if one
 *      is an ancestor of the other, else the lower inode number first;
 *   3. the inodes named by the operation (children), lower number first,
 *      never one already held as a parent (the cases where a child would
 *      be one of the parents are refused before locking: EINVAL/ENOTEMPTY);
 *   4. node build locks, icache buckets, fs->orphan_lock, journal lanes.
 * An operation holds a directory's lock before any inode inside it, so a
 * chain of waits would need a directory cycle, which (1) and the subtree
 * check (a directory may not move below itself) rule out.
 *
 * Timestamps: creation sets a/m/c/btime; entry changes set the parent's
 * mtime/ctime; link count changes set ctime.  atime is never updated by
 * reads (noatime); only setattr changes it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dir.h"
#include "extent.h"
#include "icache.h"
#include "persist.h"

static bool is_dot(const char *name, size_t len)
{
	return (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
}

/* A name about to be created: writable fs, valid name, not "." or "..". */
static int check_new_name(struct pmfs *fs, const char *name, size_t *len)
{
	int err;

	if (fs->read_only)
		return -EROFS;
	err = pmfs_check_name(name, len);
	if (err)
		return err;
	return is_dot(name, *len) ? -EEXIST : 0;
}

static void fill_out(struct pmfs *fs, pmfs_ino_t ino, struct stat *out)
{
	if (out)
		pmfs_inode_to_stat(ino, pmfs_inode_get(fs, ino), out);
}

/* Locked parent directory for an entry change: checks type and liveness
 * and builds its index. */
static int lock_parent(struct pmfs *fs, pmfs_ino_t parent, bool write, struct pmfs_node **pn,
		       struct pmfs_dirindex **pd)
{
	const struct pmfs_inode *pdi;
	int err = pmfs_iget(fs, parent, pn);

	if (err)
		return err;
	if (write)
		pmfs_node_wrlock(*pn);
	else
		pmfs_node_rdlock(*pn);
	pdi = pmfs_inode_get(fs, parent);
	if (!S_ISDIR(pdi->mode))
		err = -ENOTDIR;
	else if (pdi->nlink == 0)
		err = -ENOENT;
	else
		err = pmfs_dir_index(fs, *pn, pd);
	if (err) {
		pmfs_node_unlock(*pn);
		pmfs_iput(fs, *pn);
		*pn = NULL;
	}
	return err;
}

static void unlock_put(struct pmfs *fs, struct pmfs_node *n)
{
	if (n) {
		pmfs_node_unlock(n);
		pmfs_iput(fs, n);
	}
}

int pmfs_lookup(struct pmfs *fs, pmfs_ino_t parent, const char *name, struct stat *st)
{
	struct pmfs_node *pn, *child;
	struct pmfs_dirindex *d;
	pmfs_ino_t ino;
	bool dots;
	size_t len;
	int err = pmfs_check_name(name, &len);

	if (err)
		return err == -EINVAL ? -ENOENT : err;
	dots = is_dot(name, len);
	err = lock_parent(fs, parent, false, &pn, &d);
	if (err)
		return err;
	if (len == 1 && name[0] == '.') {
		ino = parent;
	} else if (len == 2 && name[0] == '.' && name[1] == '.') {
		ino = pmfs_inode_get(fs, parent)->rdev_or_parent;
		if (!ino)
			ino = parent;
	} else {
		err = pmfs_dir_find(fs, d, name, len, &ino, NULL, NULL);
	}
	/* the parent's lock keeps the entry (and so the inode) alive */
	if (!err)
		err = pmfs_iget(fs, ino, &child);
	if (!err) {
		pmfs_node_add_lookup(fs, child);
		/* ".." would be a lock against the order (ancestor after
		 * descendant): its attributes are read unlocked */
		if (!dots)
			pmfs_node_rdlock(child);
		fill_out(fs, ino, st);
		if (!dots)
			pmfs_node_unlock(child);
		pmfs_iput(fs, child);
	}
	unlock_put(fs, pn);
	return err;
}

/* ---- creation --------------------------------------------------------------- */

struct new_inode {
	mode_t mode;
	dev_t rdev;
	uid_t uid;
	gid_t gid;
	const char *target; /* symlinks */
	size_t target_len;
};

/*
 * Builds the new inode in DRAM; a long symlink target goes into a fresh
 * block first (fenced by the caller before commit; unreferenced until then).
 */
/*
 * Ends a namespace transaction: commits it when every step so far
 * succeeded, aborts it otherwise.  On either failure the DRAM directory
 * caches of n1 and n2 (either may be NULL) may be ahead of the media, so
 * they are dropped and rebuilt from the media on next use.
 */
static int end_dir_tx(struct pmfs_tx *tx, int err, struct pmfs_node *n1, struct pmfs_node *n2)
{
	if (err)
		pmfs_tx_abort(tx);
	else
		err = pmfs_tx_commit(tx);
	if (err && n1)
		pmfs_node_drop_caches(n1);
	if (err && n2)
		pmfs_node_drop_caches(n2);
	return err;
}

static int init_inode(struct pmfs *fs, struct pmfs_tx *tx, const struct pmfs_inode *pdi,
		      pmfs_ino_t parent, const struct new_inode *a, uint32_t generation,
		      struct pmfs_inode *ni)
{
	struct timespec ts;

	memset(ni, 0, sizeof(*ni));
	pmfs_now(&ts);
	ni->mode = a->mode;
	ni->uid = a->uid;
	ni->gid = a->gid;
	if (pdi->mode & S_ISGID) {
		/* BSD group semantics for set-group-ID directories */
		ni->gid = pdi->gid;
		if (S_ISDIR(a->mode))
			ni->mode |= S_ISGID;
	}
	ni->nlink = S_ISDIR(a->mode) ? 2 : 1;
	ni->atime_sec = ni->mtime_sec = ni->ctime_sec = ni->btime_sec = ts.tv_sec;
	ni->atime_nsec = ni->mtime_nsec = ni->ctime_nsec = ni->btime_nsec = (uint32_t)ts.tv_nsec;
	ni->generation = generation;
	if (S_ISDIR(a->mode))
		ni->rdev_or_parent = parent;
	else if (S_ISCHR(a->mode) || S_ISBLK(a->mode))
		ni->rdev_or_parent = a->rdev;
	if (S_ISLNK(a->mode)) {
		ni->size = a->target_len;
		if (a->target_len < PMFS_INLINE_SYMLINK) {
			memcpy(ni->u.symlink, a->target, a->target_len);
		} else {
			uint64_t pblk, got;
			int err = pmfs_balloc(fs, tx, 0, 1, 1, 1, &pblk, &got);
			char *blk;

			if (err)
				return err;
			blk = pmfs_block(fs, pblk);
			pm_copy(blk, a->target, a->target_len);
			pm_set(blk + a->target_len, 0, PMFS_BLOCK_SIZE - a->target_len);
			ni->u.ext[0] = (struct pmfs_extent){0, 1, pblk};
			ni->ext_count = 1;
			ni->blocks = 1;
		}
	}
	return 0;
}

static int make_inode(struct pmfs *fs, pmfs_ino_t parent, const char *name,
		      const struct new_inode *a, struct stat *out)
{
	struct pmfs_node *pn, *child;
	struct pmfs_dirindex *d;
	struct pmfs_inode ni, sp;
	struct pmfs_tx *tx;
	pmfs_ino_t ino;
	uint32_t gen;
	size_t len;
	int err;

	err = check_new_name(fs, name, &len);
	if (err)
		return err;
	err = lock_parent(fs, parent, true, &pn, &d);
	if (err)
		return err;
	if (pmfs_dir_find(fs, d, name, len, &ino, NULL, NULL) == 0) {
		err = -EEXIST;
		goto out;
	}
	pmfs_inode_stage(fs, parent, &sp);
	if (S_ISDIR(a->mode) && sp.nlink >= PMFS_LINK_MAX) {
		err = -EMLINK;
		goto out;
	}
	/*
	 * One tx: the new inode, its entry, the parent's times and link
	 * count.  Before commit nothing is visible (the slot and any block are
	 * reserved in DRAM only); after it, all of it is.
	 */
	tx = pmfs_tx_begin(fs);
	err = pmfs_ialloc(fs, tx, &ino, &gen);
	if (!err)
		err = init_inode(fs, tx, &sp, parent, a, gen, &ni);
	if (!err) {
		pm_fence(); /* a long symlink's block before the tx exposing it */
		err = pmfs_tx_set(tx, pmfs_inode_ptr(fs, ino), &ni, sizeof(ni));
	}
	if (!err)
		err = pmfs_dir_add(fs, tx, pn, &sp, name, len, ino, pmfs_mode_to_dtype(a->mode));
	if (!err) {
		if (S_ISDIR(a->mode))
			sp.nlink++;
		pmfs_touch_mc(&sp);
		err = pmfs_inode_log(fs, tx, parent, &sp);
	}
	err = end_dir_tx(tx, err, pn, NULL);
	if (err)
		goto out;
	err = pmfs_iget(fs, ino, &child);
	if (!err) {
		pmfs_node_add_lookup(fs, child);
		fill_out(fs, ino, out);
		pmfs_iput(fs, child);
	}
out:
	unlock_put(fs, pn);
	return err;
}

int pmfs_create(struct pmfs *fs, pmfs_ino_t parent, const char *name, mode_t mode, uid_t uid,
		gid_t gid, struct stat *out)
{
	struct new_inode a = {(mode & 07777) | S_IFREG, 0, uid, gid, NULL, 0};

	if ((mode & S_IFMT) && !S_ISREG(mode))
		return -EINVAL;
	return make_inode(fs, parent, name, &a, out);
}

int pmfs_mknod(struct pmfs *fs, pmfs_ino_t parent, const char *name, mode_t mode, dev_t rdev,
	       uid_t uid, gid_t gid, struct stat *out)
{
	struct new_inode a = {mode, rdev, uid, gid, NULL, 0};

	if ((mode & S_IFMT) == 0)
		a.mode |= S_IFREG;
	if (!S_ISREG(a.mode) && !S_ISCHR(a.mode) && !S_ISBLK(a.mode) && !S_ISFIFO(a.mode) &&
	    !S_ISSOCK(a.mode))
		return -EINVAL;
	return make_inode(fs, parent, name, &a, out);
}

int pmfs_mkdir(struct pmfs *fs, pmfs_ino_t parent, const char *name, mode_t mode, uid_t uid,
	       gid_t gid, struct stat *out)
{
	struct new_inode a = {(mode & 07777) | S_IFDIR, 0, uid, gid, NULL, 0};

	return make_inode(fs, parent, name, &a, out);
}

int pmfs_symlink(struct pmfs *fs, pmfs_ino_t parent, const char *name, const char *target,
		 uid_t uid, gid_t gid, struct stat *out)
{
	size_t tlen = strnlen(target, PMFS_SYMLINK_MAX + 1);
	struct new_inode a = {S_IFLNK | 0777, 0, uid, gid, target, tlen};

	if (tlen > PMFS_SYMLINK_MAX)
		return -ENAMETOOLONG;
	if (tlen == 0)
		return -ENOENT;
	return make_inode(fs, parent, name, &a, out);
}

ssize_t pmfs_readlink(struct pmfs *fs, pmfs_ino_t ino, char *buf, size_t size)
{
	struct pmfs_node *node;
	const struct pmfs_inode *di;
	ssize_t ret;
	int err = pmfs_iget(fs, ino, &node);

	if (err)
		return err;
	pmfs_node_rdlock(node);
	di = pmfs_inode_get(fs, ino);
	if (!S_ISLNK(di->mode)) {
		ret = -EINVAL;
	} else if (di->size > PMFS_SYMLINK_MAX) {
		ret = -EIO;
	} else {
		size_t n = di->size < size ? di->size : size;
		const char *src = di->u.symlink;
		struct pmfs_extmap *m;
		uint64_t pblk, run;

		ret = (ssize_t)n;
		if (di->size >= PMFS_INLINE_SYMLINK) {
			/* through the (validated) extent map, not raw fields */
			int err = pmfs_extmap_get(fs, node, &m);

			if (err)
				ret = err;
			else if (!pmfs_extmap_lookup(m, 0, &pblk, &run))
				ret = -EIO;
			else
				src = pmfs_block(fs, pblk);
		}
		if (ret >= 0) {
			memcpy(buf, src, n);
			if (n < size)
				buf[n] = '\0';
		}
	}
	pmfs_node_unlock(node);
	pmfs_iput(fs, node);
	return ret;
}

int pmfs_link(struct pmfs *fs, pmfs_ino_t ino, pmfs_ino_t newparent, const char *newname,
	      struct stat *out)
{
	struct pmfs_node *pn = NULL, *child;
	struct pmfs_dirindex *d;
	struct pmfs_inode sp, sc;
	struct pmfs_tx *tx;
	pmfs_ino_t existing;
	size_t len;
	int err;

	err = check_new_name(fs, newname, &len);
	if (err)
		return err;
	err = pmfs_iget(fs, ino, &child);
	if (err)
		return err;
	if (S_ISDIR(pmfs_inode_get(fs, ino)->mode)) {
		pmfs_iput(fs, child);
		return -EPERM;
	}
	err = lock_parent(fs, newparent, true, &pn, &d);
	if (err) {
		pmfs_iput(fs, child);
		return err;
	}
	pmfs_node_wrlock(child);
	pmfs_inode_stage(fs, ino, &sc);
	if (sc.nlink == 0)
		err = -ENOENT;
	else if (sc.nlink >= PMFS_LINK_MAX)
		err = -EMLINK;
	else if (pmfs_dir_find(fs, d, newname, len, &existing, NULL, NULL) == 0)
		err = -EEXIST;
	if (err)
		goto out;
	/* One tx: the new entry, the link count and both timestamps. */
	tx = pmfs_tx_begin(fs);
	pmfs_inode_stage(fs, newparent, &sp);
	err = pmfs_dir_add(fs, tx, pn, &sp, newname, len, ino, pmfs_mode_to_dtype(sc.mode));
	if (!err) {
		sc.nlink++;
		pmfs_touch_c(&sc);
		pmfs_touch_mc(&sp);
		err = pmfs_inode_log(fs, tx, ino, &sc);
	}
	if (!err)
		err = pmfs_inode_log(fs, tx, newparent, &sp);
	err = end_dir_tx(tx, err, pn, NULL);
	if (err)
		goto out;
	pmfs_node_add_lookup(fs, child);
	fill_out(fs, ino, out);
out:
	pmfs_node_unlock(child);
	pmfs_iput(fs, child);
	unlock_put(fs, pn);
	return err;
}

/* ---- removal ---------------------------------------------------------------- */

/*
 * Drops one link of a child in tx (staged in sc); at zero the inode goes on
 * the orphan list in the same tx (*orphan_locked tells the caller to
 * release fs->orphan_lock after commit/abort).
 */
static int drop_link(struct pmfs *fs, struct pmfs_tx *tx, pmfs_ino_t ino, struct pmfs_inode *sc,
		     bool *orphan_locked)
{
	if (S_ISDIR(sc->mode))
		sc->nlink = 0;
	else
		sc->nlink--;
	pmfs_touch_c(sc);
	if (sc->nlink)
		return 0;
	pthread_mutex_lock(&fs->orphan_lock);
	*orphan_locked = true;
	return pmfs_orphan_add(fs, tx, ino, sc);
}

static int remove_entry(struct pmfs *fs, pmfs_ino_t parent, const char *name, bool rmdir)
{
	struct pmfs_node *pn, *child = NULL;
	struct pmfs_dirindex *d, *cd;
	struct pmfs_inode sp, sc;
	struct pmfs_tx *tx;
	bool orphan_locked = false;
	pmfs_ino_t ino;
	uint32_t slot;
	size_t len;
	int err;

	if (fs->read_only)
		return -EROFS;
	err = pmfs_check_name(name, &len);
	if (err)
		return err;
	if (is_dot(name, len))
		return !rmdir ? -EISDIR : (len == 1 ? -EINVAL : -ENOTEMPTY);
	err = lock_parent(fs, parent, true, &pn, &d);
	if (err)
		return err;
	err = pmfs_dir_find(fs, d, name, len, &ino, &slot, NULL);
	if (!err)
		err = pmfs_iget(fs, ino, &child);
	if (err) {
		child = NULL;
		goto out;
	}
	pmfs_node_wrlock(child);
	pmfs_inode_stage(fs, ino, &sc);
	if (rmdir && !S_ISDIR(sc.mode))
		err = -ENOTDIR;
	else if (!rmdir && S_ISDIR(sc.mode))
		err = -EISDIR;
	else if (rmdir && (err = pmfs_dir_index(fs, child, &cd)) == 0 && pmfs_dir_entries(cd))
		err = -ENOTEMPTY;
	if (err)
		goto out;
	/* One tx: entry gone, link count down (orphaned at zero), parent
	 * times and link count.  The inode's blocks are freed later, when the
	 * last reference goes (orphan.c), from the orphan list. */
	tx = pmfs_tx_begin(fs);
	pmfs_inode_stage(fs, parent, &sp);
	err = pmfs_dir_remove(fs, tx, d, slot);
	if (!err)
		err = drop_link(fs, tx, ino, &sc, &orphan_locked);
	if (!err) {
		if (rmdir)
			sp.nlink--;
		pmfs_touch_mc(&sp);
		err = pmfs_inode_log(fs, tx, ino, &sc);
	}
	if (!err)
		err = pmfs_inode_log(fs, tx, parent, &sp);
	err = end_dir_tx(tx, err, pn, NULL);
	if (orphan_locked)
		pthread_mutex_unlock(&fs->orphan_lock);
out:
	if (child)
		pmfs_node_unlock(child);
	pmfs_node_unlock(pn);
	if (child)
		pmfs_iput(fs, child); /* frees it if nothing else holds it */
	pmfs_iput(fs, pn);
	return err;
}

int pmfs_unlink(struct pmfs *fs, pmfs_ino_t parent, const char *name)
{
	return remove_entry(fs, parent, name, false);
}

int pmfs_rmdir(struct pmfs *fs, pmfs_ino_t parent, const char *name)
{
	return remove_entry(fs, parent, name, true);
}

/* ---- rename ------------------------------------------------------------------ */

/* Is a an ancestor of (or equal to) b?  Parent fields are stable under the
 * rename mutex. */
static bool is_ancestor(struct pmfs *fs, pmfs_ino_t a, pmfs_ino_t b)
{
	for (uint64_t hops = 0; hops < fs->sb->inode_count; hops++) {
		pmfs_ino_t up;

		if (b == a)
			return true;
		if (b == PMFS_ROOT_INO || b == 0 || b >= fs->sb->inode_count)
			return false;
		up = pmfs_inode_get(fs, b)->rdev_or_parent;
		if (up == b)
			return false;
		b = up;
	}
	return false;
}

struct rename_ctx {
	pmfs_ino_t p1, p2, src, dst;
	struct pmfs_node *n1, *n2, *ns, *nd;
	struct pmfs_dirindex *d1, *d2;
	uint32_t src_slot, dst_slot;
	uint8_t src_type, dst_type;
	bool cross, src_dir, dst_dir;
};

static int rename_commit(struct pmfs *fs, struct rename_ctx *c, const char *newname, size_t newlen,
			 bool exchange)
{
	struct pmfs_inode sp1, sp2buf, ss, sd, *sp2 = c->cross ? &sp2buf : &sp1;
	struct pmfs_tx *tx = pmfs_tx_begin(fs);
	bool orphan_locked = false;
	int err = 0;

	pmfs_inode_stage(fs, c->p1, &sp1);
	if (c->cross)
		pmfs_inode_stage(fs, c->p2, sp2);
	pmfs_inode_stage(fs, c->src, &ss);
	if (c->dst)
		pmfs_inode_stage(fs, c->dst, &sd);
	if (exchange) {
		err = pmfs_dir_retarget(fs, tx, c->d1, c->src_slot, c->dst, c->dst_type);
		if (!err)
			err = pmfs_dir_retarget(fs, tx, c->d2, c->dst_slot, c->src, c->src_type);
		if (c->cross) {
			if (c->src_dir)
				ss.rdev_or_parent = c->p2;
			if (c->dst_dir)
				sd.rdev_or_parent = c->p1;
			if (c->src_dir && !c->dst_dir)
				sp1.nlink--, sp2->nlink++;
			if (c->dst_dir && !c->src_dir)
				sp2->nlink--, sp1.nlink++;
		}
		pmfs_touch_c(&sd);
	} else {
		if (c->dst) {
			err = pmfs_dir_retarget(fs, tx, c->d2, c->dst_slot, c->src, c->src_type);
			if (!err && c->dst_dir)
				sp2->nlink--; /* the replaced directory's ".." */
			if (!err)
				err = drop_link(fs, tx, c->dst, &sd, &orphan_locked);
		} else {
			err =
			    pmfs_dir_add(fs, tx, c->n2, sp2, newname, newlen, c->src, c->src_type);
		}
		if (!err)
			err = pmfs_dir_remove(fs, tx, c->d1, c->src_slot);
		if (c->src_dir && c->cross) {
			ss.rdev_or_parent = c->p2;
			sp1.nlink--;
			sp2->nlink++;
		}
	}
	pmfs_touch_c(&ss);
	pmfs_touch_mc(&sp1);
	pmfs_touch_mc(sp2);
	if (!err)
		err = pmfs_inode_log(fs, tx, c->src, &ss);
	if (!err && c->dst)
		err = pmfs_inode_log(fs, tx, c->dst, &sd);
	if (!err)
		err = pmfs_inode_log(fs, tx, c->p1, &sp1);
	if (!err && c->cross)
		err = pmfs_inode_log(fs, tx, c->p2, sp2);
	err = end_dir_tx(tx, err, c->n1, c->n2);
	if (orphan_locked)
		pthread_mutex_unlock(&fs->orphan_lock);
	return err;
}

/* Checks that need the parents locked and the names resolved; then locks
 * the children (order rule 3) and commits. */
static int rename_locked(struct pmfs *fs, struct rename_ctx *c, const char *name, size_t len,
			 const char *newname, size_t newlen, unsigned flags)
{
	bool exchange = flags & PMFS_RENAME_EXCHANGE;
	struct pmfs_node *first, *second;
	int err;

	err = pmfs_dir_find(fs, c->d1, name, len, &c->src, &c->src_slot, &c->src_type);
	if (err)
		return err;
	if (pmfs_dir_find(fs, c->d2, newname, newlen, &c->dst, &c->dst_slot, &c->dst_type))
		c->dst = 0;
	if (exchange && !c->dst)
		return -ENOENT;
	if ((flags & PMFS_RENAME_NOREPLACE) && c->dst)
		return -EEXIST;
	if (c->dst == c->src)
		return 0; /* same inode: POSIX says do nothing */
	c->src_dir = c->src_type == DT_DIR;
	c->dst_dir = c->dst && c->dst_type == DT_DIR;
	if (!exchange && c->dst) {
		if (c->src_dir && !c->dst_dir)
			return -ENOTDIR;
		if (!c->src_dir && c->dst_dir)
			return -EISDIR;
	}
	if (c->cross && c->src_dir && is_ancestor(fs, c->src, c->p2))
		return -EINVAL;
	if (c->dst && (c->dst == c->p1 || c->dst == c->p2))
		return exchange ? -EINVAL : -ENOTEMPTY;
	if (c->cross && exchange && c->dst_dir && is_ancestor(fs, c->dst, c->p1))
		return -EINVAL;
	if (c->cross && c->src_dir && !c->dst_dir &&
	    pmfs_inode_get(fs, c->p2)->nlink >= PMFS_LINK_MAX)
		return -EMLINK;

	err = pmfs_iget(fs, c->src, &c->ns);
	if (err)
		return err;
	if (c->dst) {
		err = pmfs_iget(fs, c->dst, &c->nd);
		if (err)
			return err;
	}
	first = c->ns;
	second = c->nd;
	if (second && second->ino < first->ino)
		first = c->nd, second = c->ns;
	pmfs_node_wrlock(first);
	if (second)
		pmfs_node_wrlock(second);
	if (!exchange && c->dst_dir) {
		struct pmfs_dirindex *dd;

		err = pmfs_dir_index(fs, c->nd, &dd);
		if (!err && pmfs_dir_entries(dd))
			err = -ENOTEMPTY;
	}
	if (!err)
		err = rename_commit(fs, c, newname, newlen, exchange);
	if (second)
		pmfs_node_unlock(second);
	pmfs_node_unlock(first);
	return err;
}

int pmfs_rename(struct pmfs *fs, pmfs_ino_t parent, const char *name, pmfs_ino_t newparent,
		const char *newname, unsigned flags)
{
	struct rename_ctx c = {.p1 = parent, .p2 = newparent, .cross = parent != newparent};
	pthread_mutex_t *rename_mutex = pmfs_rename_mutex(fs);
	size_t len, newlen;
	int err;

	if (flags & ~(PMFS_RENAME_NOREPLACE | PMFS_RENAME_EXCHANGE))
		return -EINVAL;
	if ((flags & PMFS_RENAME_NOREPLACE) && (flags & PMFS_RENAME_EXCHANGE))
		return -EINVAL;
	if (fs->read_only)
		return -EROFS;
	err = pmfs_check_name(name, &len);
	if (!err)
		err = pmfs_check_name(newname, &newlen);
	if (err)
		return err;
	if (is_dot(name, len) || is_dot(newname, newlen))
		return -EINVAL;
	if (c.cross)
		pthread_mutex_lock(rename_mutex);
	if (!c.cross) {
		err = lock_parent(fs, parent, true, &c.n1, &c.d1);
		c.n2 = c.n1;
		c.d2 = c.d1;
	} else {
		bool p1_first = is_ancestor(fs, parent, newparent) ||
				(!is_ancestor(fs, newparent, parent) && parent < newparent);

		if (p1_first) {
			err = lock_parent(fs, parent, true, &c.n1, &c.d1);
			if (!err)
				err = lock_parent(fs, newparent, true, &c.n2, &c.d2);
		} else {
			err = lock_parent(fs, newparent, true, &c.n2, &c.d2);
			if (!err)
				err = lock_parent(fs, parent, true, &c.n1, &c.d1);
		}
	}
	if (!err)
		err = rename_locked(fs, &c, name, len, newname, newlen, flags);
	if (c.n1)
		pmfs_node_unlock(c.n1);
	if (c.cross && c.n2)
		pmfs_node_unlock(c.n2);
	if (c.cross)
		pthread_mutex_unlock(rename_mutex);
	/* children last: a replaced inode may be freed here */
	if (c.nd)
		pmfs_iput(fs, c.nd);
	if (c.ns)
		pmfs_iput(fs, c.ns);
	if (c.n1)
		pmfs_iput(fs, c.n1);
	if (c.cross && c.n2)
		pmfs_iput(fs, c.n2);
	return err;
}
