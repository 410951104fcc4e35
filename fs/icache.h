/*
 * icache.h - the DRAM side of an inode, shared by the namespace and file
 * layer (icache, extent, file, dir, namei, xattr, attr, orphan).
 *
 * A struct pmfs_node exists for every inode some caller is using.  It holds
 * the reference counts, the per-inode rwlock and the lazily built DRAM
 * indexes (extent map, directory index).  The inode itself is not copied:
 * pmem holds the committed inode, readers read it under the node's lock,
 * writers stage a DRAM copy (pmfs_inode_stage), change it and log it with
 * pmfs_inode_log() inside a transaction.
 *
 * Lock order (documented in full at the top of namei.c):
 *   rename mutex -> directory locks (ancestor first, else by ino) ->
 *   non-parent inode locks (by ino) -> node build_lock -> icache bucket lock
 *   -> fs->orphan_lock -> journal internals.
 */
#ifndef PMEMFS_ICACHE_H
#define PMEMFS_ICACHE_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "internal.h"

/* Largest link count we allow (as ext4): link() and mkdir() give -EMLINK. */
#define PMFS_LINK_MAX 65000u
/* 32-bit logical block numbers: files end before 2^32 blocks (16 TiB). */
#define PMFS_MAX_FILE_BLOCKS (1ULL << 32)
#define PMFS_MAX_FILE_SIZE (PMFS_MAX_FILE_BLOCKS << PMFS_BLOCK_SHIFT)

struct pmfs_extmap;
struct pmfs_dirindex;

struct pmfs_node {
	struct pmfs_node *hash_next;
	pmfs_ino_t ino;
	uint64_t lookups;		/* FUSE lookup count; under the bucket lock */
	uint32_t pins;			/* refs of calls in progress; under the bucket lock */
	bool dying;			/* being freed; iget skips it */
	bool is_dir;			/* counted in the directory budget */
	pthread_rwlock_t lock;		/* protects the inode and the indexes below */
	pthread_mutex_t build_lock;	/* lazy builds under a read lock */
	struct pmfs_extmap *extmap;	/* NULL until first use */
	struct pmfs_dirindex *dirindex; /* directories only; NULL until first use */
};

/* ---- icache.c ------------------------------------------------------------ */
/* Finds or creates the node of a live inode and pins it.  -ENOENT for a
 * free or out-of-range slot. */
int pmfs_iget(struct pmfs *fs, pmfs_ino_t ino, struct pmfs_node **out);
/* Drops a pin; frees an unlinked inode when nothing references it. */
void pmfs_iput(struct pmfs *fs, struct pmfs_node *node);
/* Serialises cross-directory renames (see namei.c). */
pthread_mutex_t *pmfs_rename_mutex(struct pmfs *fs);
/* Adds one FUSE lookup reference (the caller holds a pin). */
void pmfs_node_add_lookup(struct pmfs *fs, struct pmfs_node *node);

static inline void pmfs_node_rdlock(struct pmfs_node *n)
{
	pthread_rwlock_rdlock(&n->lock);
}
static inline void pmfs_node_wrlock(struct pmfs_node *n)
{
	pthread_rwlock_wrlock(&n->lock);
}
static inline void pmfs_node_unlock(struct pmfs_node *n)
{
	pthread_rwlock_unlock(&n->lock);
}

static inline const struct pmfs_inode *pmfs_inode_get(const struct pmfs *fs, pmfs_ino_t ino)
{
	return pmfs_inode_ptr(fs, ino);
}
/* Copies the committed inode into DRAM for changing. */
static inline void pmfs_inode_stage(const struct pmfs *fs, pmfs_ino_t ino, struct pmfs_inode *si)
{
	memcpy(si, pmfs_inode_ptr(fs, ino), sizeof(*si));
}
/* Logs the words of 'si' that differ from the committed inode, never
 * orphan_next (owned by the orphan list under fs->orphan_lock). */
int pmfs_inode_log(struct pmfs *fs, struct pmfs_tx *tx, pmfs_ino_t ino,
		   const struct pmfs_inode *si);

void pmfs_now(struct timespec *ts);
void pmfs_touch_mc(struct pmfs_inode *si); /* mtime = ctime = now */
/* Clears S_ISUID, and S_ISGID when S_IXGRP is set, of a non-directory: what
 * the kernel does on write, truncate and chown. */
void pmfs_kill_suidgid(struct pmfs_inode *si);
/* Removes security.capability if the file has one, as every write does
 * (xattr.c).  The caller holds a reference to node, not its lock. */
int pmfs_kill_capability(struct pmfs *fs, struct pmfs_node *node);
void pmfs_touch_c(struct pmfs_inode *si);  /* ctime = now */
void pmfs_inode_to_stat(pmfs_ino_t ino, const struct pmfs_inode *di, struct stat *st);
static inline uint8_t pmfs_mode_to_dtype(uint32_t mode)
{
	return (uint8_t)((mode & S_IFMT) >> 12);
}

/* ---- orphan.c ------------------------------------------------------------ */
/* Pushes ino on the orphan list in tx.  The caller holds fs->orphan_lock
 * from before this call until after the tx commits or aborts. */
int pmfs_orphan_add(struct pmfs *fs, struct pmfs_tx *tx, pmfs_ino_t ino, struct pmfs_inode *si);
/* Frees the blocks and the slot of an unlinked inode (several txs if
 * needed; it leaves the orphan list in the last one). */
int pmfs_inode_release(struct pmfs *fs, struct pmfs_node *node);

/* ---- extent.c: see extent.h --------------------------------------------- */
void pmfs_extmap_free(struct pmfs_extmap *m);
/* ---- dir.c: see dir.h --------------------------------------------------- */
void pmfs_dirindex_free(struct pmfs_dirindex *d);

/* Drops the DRAM indexes of a node (after an aborted tx: rebuilt from pmem
 * on next use).  The caller holds the node's write lock. */
void pmfs_node_drop_caches(struct pmfs_node *node);

/* Common entry checks. */
static inline int pmfs_check_name(const char *name, size_t *len)
{
	size_t n = strnlen(name, PMFS_NAME_MAX + 1);

	if (n > PMFS_NAME_MAX)
		return -ENAMETOOLONG;
	if (n == 0 || memchr(name, '/', n))
		return -EINVAL;
	*len = n;
	return 0;
}

#endif /* PMEMFS_ICACHE_H */
