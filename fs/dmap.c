/*
 * dmap.c - preparing a file for a direct map: every block of the file up
 * to its size rounded up to the device alignment 'a' (fs->sb->device_align:
 * 2 MiB on an emulation file, the namespace's on devdax) must be mapped,
 * and each aligned chunk [k*a, (k+1)*a) of the file must sit in one
 * physically contiguous run that starts on an aligned device block.  Then
 * every extent can be mmap()ed from the device with the offsets and length
 * a devdax mapping demands, and huge pages line up.
 *
 * Holes are first filled by pmfs_fallocate(KEEP_SIZE), whose allocator
 * already prefers aligned runs; a chunk that is still split or misaligned
 * is relocated: a new aligned run of a blocks gets a copy of the chunk
 * (holes as zeros), then one tx switches the chunk's map to it.
 *
 * The resulting extent list is pinned (dmap_pin.c) and handed out.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>

#include "badblocks.h"
#include "dmap.h"
#include "extent.h"
#include "icache.h"
#include "persist.h"
#include "pmemfs_dmap_proto.h"

#define BS PMFS_BLOCK_SIZE

_Static_assert(offsetof(struct pmfs_super, uuid) == PMFS_DMAP_SB_UUID_OFFSET,
	       "the protocol's uuid offset matches media.h");

void pmfs_dmap_device(const struct pmfs *fs, struct pmfs_dmap_dev *dev)
{
	dev->path = fs->dev_path;
	dev->fd = fs->dev_fd;
	dev->is_devdax = fs->is_devdax;
	dev->size = fs->sb->total_blocks * BS;
	dev->align = fs->sb->device_align >= BS ? fs->sb->device_align : BS;
	memcpy(dev->uuid, fs->sb->uuid, sizeof(dev->uuid));
}

static uint64_t align_blocks(const struct pmfs *fs)
{
	uint64_t a = fs->sb->device_align / BS;

	return a ? a : 1;
}

/* One aligned run already holds the chunk at lblk? */
static bool chunk_ok(const struct pmfs_extmap *m, uint64_t lblk, uint64_t a)
{
	uint64_t pblk, run;

	return pmfs_extmap_lookup(m, lblk, &pblk, &run) && pblk % a == 0 && run >= a;
}

/* Blocks of the chunk that some grant pins: moving them would detach a
 * live mapping from the file, so the caller refuses instead. */
static bool chunk_pinned(struct pmfs *fs, const struct pmfs_extmap *m, uint64_t lblk, uint64_t a)
{
	for (uint64_t b = lblk; b < lblk + a;) {
		uint64_t pblk, run;
		bool mapped = pmfs_extmap_lookup(m, b, &pblk, &run);

		if (run > lblk + a - b)
			run = lblk + a - b;
		if (run == 0)
			break;
		if (mapped && pmfs_dmap_range_pinned(fs, pblk, run))
			return true;
		b += run;
	}
	return false;
}

/*
 * Moves chunk [lblk, lblk+a) into a new aligned run.  Crash argument: the
 * run is only reserved in DRAM and its bits logged; the copy (mapped
 * blocks copied, holes zeroed) is fenced before the tx that maps it, frees
 * the old blocks and sets the new bits commits, so after a crash the file
 * maps either the old blocks or an identical copy.  The node write lock
 * keeps FUSE writes out; no grant maps the chunk (chunk_pinned).
 */
static int relocate_chunk(struct pmfs *fs, struct pmfs_node *node, uint64_t lblk, uint64_t a)
{
	struct pmfs_tx *tx = pmfs_tx_begin(fs);
	struct pmfs_extmap *m;
	struct pmfs_inode si;
	uint64_t pblk = 0, got = 0, left = lblk;
	char *dst;
	int err;

	pmfs_inode_stage(fs, node->ino, &si);
	err = pmfs_extmap_get(fs, node, &m);
	if (!err)
		err = pmfs_balloc(fs, tx, pmfs_extmap_goal(m, lblk), a, a, a, &pblk, &got);
	if (err)
		goto abort;
	dst = pmfs_block(fs, pblk);
	for (uint64_t b = lblk; b < lblk + a;) {
		uint64_t src, run;
		bool mapped = pmfs_extmap_lookup(m, b, &src, &run);

		if (run > lblk + a - b)
			run = lblk + a - b;
		/* a media error in the old or the new blocks fails the
		 * relocation with -EIO (the tx is dropped, the file keeps
		 * its old blocks); badblocks.h */
		if (mapped)
			err = pmfs_media_check(fs, pmfs_block(fs, src), run * BS);
		if (!err)
			err = mapped
				  ? pmfs_media_copy(fs, PMFS_MEDIA_WRITE_NT, dst + (b - lblk) * BS,
						    pmfs_block(fs, src), run * BS)
				  : pmfs_media_copy(fs, PMFS_MEDIA_ZERO, dst + (b - lblk) * BS,
						    NULL, run * BS);
		if (err)
			goto abort;
		b += run;
	}
	pm_fence(); /* the copy is on media before the tx exposes it */
	err = pmfs_extmap_unmap(fs, tx, m, &si, lblk, lblk + a, &left);
	if (!err && left != lblk)
		err = -E2BIG; /* the lane cannot hold one chunk's edit */
	if (!err)
		err = pmfs_extmap_insert(fs, tx, m, &si, lblk, a, pblk);
	if (!err)
		err = pmfs_inode_log(fs, tx, node->ino, &si);
	if (err)
		goto abort;
	err = pmfs_tx_commit(tx);
	if (err)
		pmfs_node_drop_caches(node);
	return err;
abort:
	pmfs_tx_abort(tx);
	pmfs_node_drop_caches(node);
	return err;
}

/* dmap.h: the grant's list here (no holes: prepare filled them), and the
 * restored pins of dmap_restore.c (holes skipped). */
int pmfs_dmap_ext_list(const struct pmfs_extmap *m, uint64_t end, bool holes,
		       struct pmfs_dmap_ext **out, uint32_t *n)
{
	struct pmfs_dmap_ext *e = NULL;
	uint32_t cnt = 0, cap = 0;

	for (uint64_t b = 0; b < end;) {
		uint64_t pblk, run;
		bool mapped = pmfs_extmap_lookup(m, b, &pblk, &run);

		if (!mapped && !holes) {
			free(e);
			return -EIO; /* prepare left a hole: a bug */
		}
		/* a hole's run may be 0: up to the format's limit */
		if (run == 0 || run > end - b)
			run = end - b;
		if (!mapped) {
			b += run;
			continue;
		}
		if (cnt && e[cnt - 1].file_off + e[cnt - 1].len == b * BS &&
		    e[cnt - 1].dev_off + e[cnt - 1].len == pblk * BS) {
			e[cnt - 1].len += run * BS;
		} else {
			if (cnt == cap) {
				cap = cap ? cap * 2 : 16;
				struct pmfs_dmap_ext *ne = realloc(e, cap * sizeof(*ne));

				if (!ne) {
					free(e);
					return -ENOMEM;
				}
				e = ne;
			}
			e[cnt++] = (struct pmfs_dmap_ext){b * BS, pblk * BS, run * BS};
		}
		b += run;
	}
	*out = e;
	*n = cnt;
	return 0;
}

/* Under the node's write lock: relocate what needs it, list, pin. */
static int prepare_locked(struct pmfs *fs, struct pmfs_node *node, uint64_t owner,
			  struct pmfs_dmap_grant_info *info)
{
	const struct pmfs_inode *di = pmfs_inode_get(fs, node->ino);
	uint64_t a = align_blocks(fs), size = di->size, end;
	struct pmfs_dmap_ext *ext = NULL;
	struct pmfs_extmap *m;
	uint32_t n = 0;
	int err;

	if (!S_ISREG(di->mode) || size == 0)
		return -EINVAL;
	end = (size + BS - 1) / BS;
	end = (end + a - 1) / a * a;
	for (uint64_t l = 0; l < end; l += a) {
		err = pmfs_extmap_get(fs, node, &m);
		if (err)
			return err;
		if (chunk_ok(m, l, a))
			continue;
		if (chunk_pinned(fs, m, l, a))
			return -EBUSY;
		err = relocate_chunk(fs, node, l, a);
		if (err)
			return err;
	}
	err = pmfs_extmap_get(fs, node, &m);
	if (!err)
		err = pmfs_dmap_ext_list(m, end, false, &ext, &n);
	if (err)
		return err;
	err = pmfs_dmap_pin(fs, node, owner, ext, n, size, end * BS, &info->grant);
	if (err) {
		free(ext);
		return err;
	}
	info->file_size = size;
	info->map_len = end * BS;
	info->total = n;
	return 0;
}

int pmfs_dmap_grant(struct pmfs *fs, pmfs_ino_t ino, uint64_t owner,
		    struct pmfs_dmap_grant_info *info)
{
	struct pmfs_node *node;
	uint64_t a, size;
	int err;

	if (fs->read_only)
		return -EROFS;
	err = pmfs_iget(fs, ino, &node);
	if (err)
		return err;
	pmfs_node_rdlock(node);
	size = pmfs_inode_get(fs, ino)->size;
	err = S_ISREG(pmfs_inode_get(fs, ino)->mode) && size ? 0 : -EINVAL;
	pmfs_node_unlock(node);
	a = align_blocks(fs) * BS;
	/* bulk hole filling first (aligned where the allocator can); what
	 * it leaves split or misaligned is relocated chunk by chunk */
	if (!err)
		err = pmfs_fallocate(fs, ino, FALLOC_FL_KEEP_SIZE, 0,
				     (off_t)((size + a - 1) / a * a));
	if (!err) {
		pmfs_node_wrlock(node);
		err = prepare_locked(fs, node, owner, info);
		pmfs_node_unlock(node);
	}
	if (err)
		pmfs_iput(fs, node); /* on success the grant keeps the pin */
	return err;
}
