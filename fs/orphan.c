/*
 * orphan.c - the persistent orphan list and the freeing of unlinked inodes.
 *
 * An inode whose link count reaches zero is pushed on the list (head in
 * state->orphan_head, links in inode.orphan_next, PMFS_IFL_ORPHAN set) in
 * the same tx that drops the last link.  It is freed when nothing
 * references it: its blocks go in as many txs as the journal needs, each
 * one leaving a shorter but valid file that is still on the list; the last
 * tx frees the xattr block and the slot and unlinks it from the list.  A
 * crash anywhere leaves it on the list, and pmfs_orphans_recover (mount)
 * finishes the job with the same code, except for orphans an application's
 * direct map may still use after a daemon restart (dmap_restore.c).
 *
 * All list changes happen under fs->orphan_lock, held until their tx has
 * committed, so the committed list seen in pmem is always current for the
 * lock holder.  orphan_next is written by nothing else (pmfs_inode_log
 * never logs it).
 */
#include <errno.h>

#include "dmap.h"
#include "extent.h"
#include "icache.h"
#include "persist.h"

int pmfs_orphan_add(struct pmfs *fs, struct pmfs_tx *tx, pmfs_ino_t ino, struct pmfs_inode *si)
{
	uint64_t head = fs->state->orphan_head;
	int err;

	si->flags |= PMFS_IFL_ORPHAN;
	err = pmfs_tx_set(tx, &pmfs_inode_ptr(fs, ino)->orphan_next, &head, sizeof(head));
	if (!err)
		err = pmfs_tx_set(tx, &fs->state->orphan_head, &ino, sizeof(ino));
	return err;
}

bool pmfs_orphans_pending(struct pmfs *fs)
{
	return __atomic_load_n(&fs->state->orphan_head, __ATOMIC_RELAXED) != 0;
}

/* Unlinks ino from the list in tx; the caller holds fs->orphan_lock. */
static int orphan_remove(struct pmfs *fs, struct pmfs_tx *tx, pmfs_ino_t ino)
{
	uint64_t next = pmfs_inode_get(fs, ino)->orphan_next;
	uint64_t cur = fs->state->orphan_head, hops = 0;

	if (cur == ino)
		return pmfs_tx_set(tx, &fs->state->orphan_head, &next, sizeof(next));
	while (cur && cur < fs->sb->inode_count && hops++ < fs->sb->inode_count) {
		struct pmfs_inode *pi = pmfs_inode_ptr(fs, cur);

		if (pi->orphan_next == ino)
			return pmfs_tx_set(tx, &pi->orphan_next, &next, sizeof(next));
		cur = pi->orphan_next;
	}
	return 0; /* not on the list: nothing to unlink */
}

/* Frees as much of the inode's data as one tx can hold; *done when the
 * map is empty. */
static int release_blocks_step(struct pmfs *fs, struct pmfs_node *node, bool *done)
{
	struct pmfs_tx *tx = pmfs_tx_begin(fs);
	struct pmfs_extmap *m;
	struct pmfs_inode si;
	uint64_t left;
	int err;

	pmfs_inode_stage(fs, node->ino, &si);
	err = pmfs_extmap_get(fs, node, &m);
	if (!err)
		err = pmfs_extmap_unmap(fs, tx, m, &si, 0, PMFS_MAX_FILE_BLOCKS, &left);
	if (!err) {
		/* a shorter file, still on the orphan list: consistent */
		if (si.size > left * PMFS_BLOCK_SIZE)
			si.size = left * PMFS_BLOCK_SIZE;
		err = pmfs_inode_log(fs, tx, node->ino, &si);
	}
	if (err) {
		pmfs_tx_abort(tx);
		pmfs_node_drop_caches(node);
		return err;
	}
	err = pmfs_tx_commit(tx);
	if (err)
		pmfs_node_drop_caches(node);
	*done = left == 0;
	return err;
}

int pmfs_inode_release(struct pmfs *fs, struct pmfs_node *node)
{
	const struct pmfs_inode *di = pmfs_inode_get(fs, node->ino);
	struct pmfs_tx *tx;
	bool done = false;
	int err;

	pmfs_node_wrlock(node);
	/* inline symlinks keep their target in the extent union with
	 * ext_count 0: like device nodes, they have no blocks */
	if (di->ext_count || di->ext_overflow) {
		while (!done) {
			uint64_t before = di->blocks;

			err = release_blocks_step(fs, node, &done);
			if (err)
				goto out;
			/* A step that freed nothing would repeat forever (a
			 * lane too small for one step: mount refuses such
			 * geometry, but do not spin on it).  The inode stays
			 * on the orphan list, a valid state; the next mount
			 * retries. */
			if (!done && di->blocks >= before) {
				pmfs_logf(fs, PMFS_LOG_ERR,
					  "inode %llu: freeing its blocks makes no progress "
					  "(journal lanes of %u blocks); left on the orphan list",
					  (unsigned long long)node->ino, fs->sb->lane_blocks);
				err = -E2BIG;
				goto out;
			}
		}
	}
	/* Last tx: xattr block, slot, list link, all at once. */
	tx = pmfs_tx_begin(fs);
	pthread_mutex_lock(&fs->orphan_lock);
	err = 0;
	if (di->xattr_block)
		err = pmfs_bfree(fs, tx, di->xattr_block, 1);
	if (!err)
		err = orphan_remove(fs, tx, node->ino);
	if (!err)
		err = pmfs_ifree(fs, tx, node->ino);
	if (err)
		pmfs_tx_abort(tx);
	else
		err = pmfs_tx_commit(tx);
	pthread_mutex_unlock(&fs->orphan_lock);
out:
	pmfs_node_drop_caches(node);
	pmfs_node_unlock(node);
	return err;
}

/*
 * Mount: frees every orphan a crash (or a kill) left behind, except those
 * a direct mapping that outlived the previous daemon may still use
 * (dmap_restore.c decides, from the clients' locks; it pins them first).
 * A kept orphan stays on the persistent list: valid, and the next mount
 * decides again.  The walk reads orphan_next before freeing: freeing an
 * orphan relinks its predecessor to that same next.
 */
int pmfs_orphans_recover(struct pmfs *fs, unsigned *freed)
{
	pmfs_ino_t ino;
	uint64_t hops = 0;
	unsigned n = 0, kept = 0;
	int err = 0;

	if (freed)
		*freed = 0;
	if (fs->read_only)
		return 0;
	err = pmfs_dmap_restore(fs);
	if (err)
		return err;
	for (ino = fs->state->orphan_head; ino; hops++) {
		struct pmfs_node *node;
		pmfs_ino_t next;

		if (ino >= fs->sb->inode_count || hops >= fs->sb->inode_count ||
		    pmfs_inode_get(fs, ino)->mode == 0 || pmfs_inode_get(fs, ino)->nlink != 0) {
			pmfs_logf(fs, PMFS_LOG_ERR, "orphan list entry %llu is not an orphan",
				  (unsigned long long)ino);
			err = -EIO;
			break;
		}
		next = pmfs_inode_get(fs, ino)->orphan_next;
		if (pmfs_dmap_orphan_kept(fs, ino)) {
			kept++;
			ino = next;
			continue;
		}
		err = pmfs_iget(fs, ino, &node);
		if (err)
			break;
		/* with its last pin gone, iput frees it through pmfs_inode_release */
		pmfs_iput(fs, node);
		if (pmfs_inode_get(fs, ino)->mode != 0) {
			pmfs_logf(fs, PMFS_LOG_ERR, "could not free orphan %llu",
				  (unsigned long long)ino);
			err = -EIO;
			break;
		}
		n++;
		ino = next;
	}
	if (err) {
		pmfs_dmap_restore_stop(fs);
		return err;
	}
	if (kept)
		pmfs_logf(fs, PMFS_LOG_INFO, "%u orphans kept for live direct maps", kept);
	pmfs_dmap_restore_start(fs);
	if (freed)
		*freed = n;
	return 0;
}
