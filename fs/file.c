/*
 * file.c - file data: read, zero-copy read, write, truncate, fallocate,
 * SEEK_DATA/SEEK_HOLE, fsync and copy_file_range.
 *
 * Write ordering (the crash-consistency argument of the data path):
 *   1. New blocks are reserved in DRAM by pmfs_balloc (their bitmap bits
 *      are only logged in the tx), user data is copied into them with
 *      non-temporal stores, and the parts of each new block the write does
 *      not cover are zeroed.
 *   2. pm_fence(): the data is on media.
 *   3. The tx that maps the blocks and sets size/mtime/ctime commits.
 * A crash before 3 leaves the new blocks free and unreferenced, so no
 * reader ever sees unwritten blocks.  Overwrites of mapped blocks are done
 * in place in step 1: like ext4 data=ordered, an overwrite torn by a crash
 * may leave a mix of old and new bytes (it is not atomic per write), but
 * never bytes that were not written by someone.
 *
 * Bytes past EOF in the last block may hold stale data (truncate does not
 * zero them, so a truncate is never half visible).  Every operation that
 * raises the size first zeroes [old size, end of that block) when the block
 * is mapped (zero_tail), fenced before the tx that raises the size.
 *
 * A large write or fallocate may span several txs (lane room); each commits
 * data that is fully written, so every intermediate state is a valid file.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "badblocks.h"
#include "extent.h"
#include "fault.h"
#include "file.h"
#include "icache.h"
#include "persist.h"

#define BS PMFS_BLOCK_SIZE
#define ZERO_BUF_SIZE (64u * 1024)
#define COPY_CHUNK (1u << 20)
/* Blocks per allocated run at most (1 GiB): bounds one tx's zeroing. */
#define MAX_RUN (1u << 18)

static const char zero_buf[ZERO_BUF_SIZE];

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

static bool tx_needs_split(const struct pmfs_tx *tx)
{
	return pmfs_tx_room(tx) < PMFS_EXTENT_EDIT_ROOM + 1024;
}

/*
 * Allocation policy: near the block after the previous extent (goal), so
 * sequential writes stay contiguous and extents merge.  Once the file
 * reaches the device alignment (fs->sb->device_align, e.g. 2 MiB), a hole
 * that starts on an aligned logical block gets a run that starts on an
 * aligned device block, so later runs that continue it keep huge-page
 * alignment for direct maps; small files get small unaligned runs.
 */
static int alloc_run(struct pmfs *fs, struct pmfs_tx *tx, const struct pmfs_extmap *m,
		     uint64_t lblk, uint64_t want, uint64_t *pblk, uint64_t *got)
{
	uint64_t a = fs->sb->device_align / BS;
	uint64_t goal = pmfs_extmap_goal(m, lblk);
	size_t room = pmfs_tx_room(tx);
	uint64_t cap = MAX_RUN;
	int err;

	/* Leave the tx room for the extent edit that maps the run: the
	 * bitmap record costs one byte per 8 blocks.  The rest of a large
	 * request goes in the next tx. */
	if (room > PMFS_EXTENT_EDIT_ROOM + 1024 && (room - PMFS_EXTENT_EDIT_ROOM - 1024) * 8 < cap)
		cap = (room - PMFS_EXTENT_EDIT_ROOM - 1024) * 8;
	if (want > cap)
		want = cap;
	if (a > 1 && lblk % a == 0 && lblk + want >= a) {
		err = pmfs_balloc(fs, tx, goal, want, 1, a, pblk, got);
		if (err != -ENOSPC)
			return err;
	}
	return pmfs_balloc(fs, tx, goal, want, 1, 1, pblk, got);
}

/* Zeroes the stale bytes [size, min(upto, end of its block)) of a mapped
 * last block; data stores, ordered by the caller's fence.  -EIO on a bad
 * block: the caller drops its tx, so the size is not raised over bytes
 * that were not zeroed. */
static int zero_tail(struct pmfs *fs, const struct pmfs_extmap *m, uint64_t size, uint64_t upto)
{
	uint64_t pblk, run, boff = size % BS, end;

	if (boff == 0 || upto <= size || !pmfs_extmap_lookup(m, size / BS, &pblk, &run))
		return 0;
	end = upto - (size - boff) < BS ? upto - (size - boff) : BS;
	return pmfs_media_copy(fs, PMFS_MEDIA_ZERO, (char *)pmfs_block(fs, pblk) + boff, NULL,
			       end - boff);
}

/* ---- read ---------------------------------------------------------------- */

/*
 * Ends a tx that edits one inode: commits it if err is 0, else aborts it.
 * An edit that failed half-way, or a commit that failed, may have left
 * part of the map staged in the node's DRAM caches: they are dropped, so
 * the next user reloads the committed state.  Returns err or the commit's.
 */
static int end_tx(struct pmfs_tx *tx, struct pmfs_node *node, int err)
{
	if (err)
		pmfs_tx_abort(tx);
	else
		err = pmfs_tx_commit(tx);
	if (err)
		pmfs_node_drop_caches(node);
	return err;
}

static int check_regular(const struct pmfs_inode *di)
{
	if (S_ISDIR(di->mode))
		return -EISDIR;
	if (!S_ISREG(di->mode))
		return -EINVAL;
	return 0;
}

/* pmfs_read is pmfs_read_iter with a copy into the caller's buffer. */
struct read_copy {
	struct pmfs *fs;
	char *buf;
	size_t done;
};

/* A media error (SIGBUS) in the copy fails the whole read with -EIO. */
static int copy_out(void *ctx, const struct iovec *iov, int iovcnt, size_t bytes)
{
	struct read_copy *c = ctx;
	size_t pos = 0;

	for (int i = 0; i < iovcnt; i++) {
		int err = pmfs_media_copy(c->fs, PMFS_MEDIA_READ, c->buf + pos, iov[i].iov_base,
					  iov[i].iov_len);

		if (err)
			return err;
		pos += iov[i].iov_len;
	}
	c->done = bytes;
	return 0;
}

ssize_t pmfs_read(struct pmfs *fs, pmfs_ino_t ino, void *buf, size_t len, off_t off)
{
	struct read_copy c = {.fs = fs, .buf = buf};
	int err = pmfs_read_iter(fs, ino, len, off, copy_out, &c);

	return err ? err : (ssize_t)c.done;
}

int pmfs_read_iter(struct pmfs *fs, pmfs_ino_t ino, size_t len, off_t off, pmfs_emit_fn emit,
		   void *ctx)
{
	struct pmfs_node *node;
	struct pmfs_extmap *m;
	const struct pmfs_inode *di;
	struct iovec *iov = NULL;
	int niov = 0, cap = 0, err;
	size_t done = 0;

	if (off < 0)
		return -EINVAL;
	err = pmfs_iget(fs, ino, &node);
	if (err)
		return err;
	pmfs_node_rdlock(node);
	di = pmfs_inode_get(fs, ino);
	err = check_regular(di);
	if (!err)
		err = pmfs_extmap_get(fs, node, &m);
	if (err)
		goto out;
	if ((uint64_t)off >= di->size)
		len = 0;
	else if (len > di->size - (uint64_t)off)
		len = di->size - (uint64_t)off;
	while (done < len) {
		uint64_t pos = (uint64_t)off + done, pblk, run, n;
		bool mapped = pmfs_extmap_lookup(m, pos / BS, &pblk, &run);

		n = run * BS - pos % BS;
		if (n > len - done)
			n = len - done;
		if (!mapped && n > ZERO_BUF_SIZE)
			n = ZERO_BUF_SIZE;
		/* a known bad block fails the whole read: a short reply would
		 * tell FUSE the file ends there */
		if (mapped) {
			err = pmfs_media_check(fs, (char *)pmfs_block(fs, pblk) + pos % BS, n);
			if (err)
				goto out;
		}
		if (niov == cap) {
			int ncap = cap ? cap * 2 : 16;
			struct iovec *ni = realloc(iov, (size_t)ncap * sizeof(*ni));

			if (!ni) {
				err = -ENOMEM;
				goto out;
			}
			iov = ni;
			cap = ncap;
		}
		iov[niov].iov_base =
		    mapped ? (char *)pmfs_block(fs, pblk) + pos % BS : (void *)zero_buf;
		iov[niov].iov_len = n;
		niov++;
		done += n;
	}
	/* the read lock keeps the blocks from being freed while emit runs */
	err = emit(ctx, iov, niov, done);
out:
	pmfs_node_unlock(node);
	pmfs_iput(fs, node);
	free(iov);
	return err;
}

/* ---- write --------------------------------------------------------------- */

/*
 * Copies len bytes at pos into the file within tx: in place where mapped,
 * into new blocks (zero-padded) where not.  Returns bytes handled (stops
 * early when the tx runs low on room or space runs out: *nospc).
 */
static int64_t write_some(struct pmfs *fs, struct pmfs_tx *tx, struct pmfs_extmap *m,
			  struct pmfs_inode *si, const struct pmfs_wsrc *src, uint64_t len,
			  uint64_t pos, bool *nospc, int *errp)
{
	uint64_t done = 0;

	while (done < len) {
		uint64_t p = pos + done, lblk = p / BS, boff = p % BS, pblk, run, n, got;

		if (pmfs_extmap_lookup(m, lblk, &pblk, &run)) {
			n = run * BS - boff;
			if (n > len - done)
				n = len - done;
			/* in place; a bad block fails the write (-EIO) */
			*errp = pmfs_media_fill(fs, (char *)pmfs_block(fs, pblk) + boff, n,
						src->copy, src->ctx);
			if (*errp)
				break;
			done += n;
			continue;
		}
		if (tx_needs_split(tx))
			break;
		uint64_t want = div_up(boff + (len - done), BS);

		if (want > run)
			want = run;
		int err = alloc_run(fs, tx, m, lblk, want, &pblk, &got);

		if (err == -ENOSPC) {
			*nospc = true;
			break;
		}
		if (err) {
			*errp = err;
			break;
		}
		char *dst = pmfs_block(fs, pblk);

		n = got * BS - boff;
		if (n > len - done)
			n = len - done;
		/* a media error in a new block fails the step: the caller
		 * aborts the tx, the blocks go back unreferenced */
		if (boff)
			err = pmfs_media_copy(fs, PMFS_MEDIA_ZERO, dst, NULL, boff);
		if (!err)
			err = pmfs_media_fill(fs, dst + boff, n, src->copy, src->ctx);
		if (!err && boff + n < got * BS)
			err = pmfs_media_copy(fs, PMFS_MEDIA_ZERO, dst + boff + n, NULL,
					      got * BS - boff - n);
		if (err) {
			*errp = err;
			break;
		}
		err = pmfs_extmap_insert(fs, tx, m, si, lblk, got, pblk);
		if (err) {
			*errp = err;
			break;
		}
		done += n;
	}
	return (int64_t)done;
}

/* The source of pmfs_write: a buffer, consumed in order. */
struct buf_src {
	const char *buf;
	size_t pos;
};

static int copy_from_buf(void *ctx, void *dst, size_t n)
{
	struct buf_src *b = ctx;

	pm_copy_nt(dst, b->buf + b->pos, n);
	b->pos += n;
	return 0;
}

ssize_t pmfs_write(struct pmfs *fs, pmfs_ino_t ino, const void *buf, size_t len, off_t off,
		   unsigned flags)
{
	struct buf_src b = {.buf = buf, .pos = 0};
	const struct pmfs_wsrc src = {.copy = copy_from_buf, .ctx = &b};

	return pmfs_write_src(fs, ino, &src, len, off, flags);
}

/*
 * The source is a stream: write_some asks for its bytes in file order, each
 * exactly once, and a tx that is aborted ends the write, so bytes taken
 * from the source are never asked for again.
 */
ssize_t pmfs_write_src(struct pmfs *fs, pmfs_ino_t ino, const struct pmfs_wsrc *src, size_t len,
		       off_t off, unsigned flags)
{
	struct pmfs_node *node;
	struct pmfs_extmap *m;
	uint64_t pos, written = 0;
	bool nospc = false;
	int err;

	if (fs->read_only)
		return -EROFS;
	if (off < 0)
		return -EINVAL;
	err = pmfs_iget(fs, ino, &node);
	if (err)
		return err;
	/* before the write, as the kernel's file_remove_privs (xattr.c) */
	if (len > 0 && (err = pmfs_kill_capability(fs, node)) < 0) {
		pmfs_iput(fs, node);
		return err;
	}
	pmfs_node_wrlock(node);
	err = check_regular(pmfs_inode_get(fs, ino));
	if (!err)
		err = pmfs_extmap_get(fs, node, &m);
	if (err)
		goto out;
	pos = (flags & PMFS_WRITE_APPEND) ? pmfs_inode_get(fs, ino)->size : (uint64_t)off;
	if (len == 0)
		goto out;
	if (pos >= PMFS_MAX_FILE_SIZE) {
		err = -EFBIG;
		goto out;
	}
	if (len > PMFS_MAX_FILE_SIZE - pos)
		len = PMFS_MAX_FILE_SIZE - pos;
	while (written < len && !nospc && !err) {
		struct pmfs_tx *tx = pmfs_tx_begin(fs);
		struct pmfs_inode si;
		int64_t n;

		pmfs_inode_stage(fs, ino, &si);
		err = zero_tail(fs, m, si.size, pos + written);
		n = err ? 0
			: write_some(fs, tx, m, &si, src, len - written, pos + written, &nospc,
				     &err);
		if (n == 0 || err) {
			/* an edit that failed half-way may have logged part of
			 * the map: never commit it.  Nothing of this tx is
			 * exposed; earlier txs stay. */
			pmfs_tx_abort(tx);
			pmfs_node_drop_caches(node);
			break;
		}
		/* data first (steps 1-2), then the metadata that exposes it */
		pm_fence();
		if (pos + written + (uint64_t)n > si.size)
			si.size = pos + written + (uint64_t)n;
		pmfs_touch_mc(&si);
		/* the mode change commits with the data it guards */
		if (flags & PMFS_WRITE_KILL_SUIDGID)
			pmfs_kill_suidgid(&si);
		err = end_tx(tx, node, pmfs_inode_log(fs, tx, ino, &si));
		if (err)
			break;
		written += (uint64_t)n;
		err = pmfs_extmap_get(fs, node, &m);
	}
	if (written)
		err = 0;
	else if (!err)
		err = nospc ? -ENOSPC : -E2BIG; /* E2BIG: a lane too small for one edit */
out:
	pmfs_node_unlock(node);
	pmfs_iput(fs, node);
	return err ? err : (ssize_t)written;
}

/* ---- size changes ----------------------------------------------------------- */

int pmfs_set_size_locked(struct pmfs *fs, struct pmfs_node *node, uint64_t newsize,
			 void (*apply)(struct pmfs_inode *si, void *ctx), void *ctx)
{
	if (newsize > PMFS_MAX_FILE_SIZE)
		return -EFBIG;
	for (;;) {
		struct pmfs_tx *tx = pmfs_tx_begin(fs);
		struct pmfs_extmap *m;
		struct pmfs_inode si;
		uint64_t first = div_up(newsize, BS), left = first;
		int err;

		pmfs_inode_stage(fs, node->ino, &si);
		err = pmfs_extmap_get(fs, node, &m);
		if (!err)
			err = pmfs_extmap_unmap(fs, tx, m, &si, first, PMFS_MAX_FILE_BLOCKS, &left);
		if (!err && left > first) {
			/* intermediate step: a shorter file whose blocks past
			 * 'left' are gone; the next tx continues from there */
			if (si.size > left * BS)
				si.size = left * BS;
			pmfs_touch_mc(&si);
		} else if (!err) {
			if (newsize > si.size) {
				err = zero_tail(fs, m, si.size, newsize);
				pm_fence();
			}
			si.size = newsize;
			pmfs_touch_mc(&si);
			if (apply)
				apply(&si, ctx);
		}
		if (!err)
			err = pmfs_inode_log(fs, tx, node->ino, &si);
		err = end_tx(tx, node, err);
		if (err)
			return err;
		if (left <= first)
			return 0;
	}
}

/* ---- fallocate ------------------------------------------------------------ */

/* Maps zeroed blocks into every hole of [lblk, end); several txs if
 * needed.  On ENOSPC what was allocated stays (zeroed, so harmless). */
/*
 * Maps freshly zeroed blocks into the holes of [*lblk, end) within tx until
 * done, the tx runs low on room or space runs out (*nospc = -ENOSPC);
 * *lblk tells how far it got.  A non-zero return is a failed map edit: the
 * tx must be aborted.
 */
static int fill_holes(struct pmfs *fs, struct pmfs_tx *tx, struct pmfs_extmap *m,
		      struct pmfs_inode *si, uint64_t *lblk, uint64_t end, bool *any, int *nospc)
{
	while (*lblk < end && !tx_needs_split(tx)) {
		uint64_t pblk, run, got;
		int err;

		if (pmfs_extmap_lookup(m, *lblk, &pblk, &run)) {
			*lblk += run;
			continue;
		}
		if (run > end - *lblk)
			run = end - *lblk;
		err = alloc_run(fs, tx, m, *lblk, run, &pblk, &got);
		if (err == -ENOSPC) {
			*nospc = err;
			return 0;
		}
		if (err)
			return err;
		/* unreferenced until commit; the caller fences before it.  A
		 * media error here fails the step: the caller aborts the tx */
		err = pmfs_media_copy(fs, PMFS_MEDIA_ZERO, pmfs_block(fs, pblk), NULL, got * BS);
		if (!err)
			err = pmfs_extmap_insert(fs, tx, m, si, *lblk, got, pblk);
		if (err)
			return err;
		*any = true;
		*lblk += got;
	}
	return 0;
}

/*
 * Maps zeroed blocks into every hole of [lblk, end); several txs if
 * needed.  On ENOSPC what was allocated stays (zeroed, so harmless).
 * newsize > 0 (fallocate without KEEP_SIZE): the tx that maps the last
 * hole also raises the size to newsize, with mtime and ctime, so an
 * allocation that fits one tx is atomic with its size.  A larger one
 * commits its earlier steps as blocks past EOF (zeroed, a valid file with
 * the old size and a new ctime) and the size with the last step.
 */
static int alloc_zeroed(struct pmfs *fs, struct pmfs_node *node, uint64_t lblk, uint64_t end,
			uint64_t newsize)
{
	while (lblk < end) {
		struct pmfs_tx *tx = pmfs_tx_begin(fs);
		struct pmfs_extmap *m;
		struct pmfs_inode si;
		bool any = false;
		int err, nospc = 0;

		pmfs_inode_stage(fs, node->ino, &si);
		err = pmfs_extmap_get(fs, node, &m);
		if (!err)
			err = fill_holes(fs, tx, m, &si, &lblk, end, &any, &nospc);
		if (err || !any) {
			/* a failed map edit may be half logged: drop the tx */
			pmfs_tx_abort(tx);
			pmfs_node_drop_caches(node);
			if (!err && !nospc && lblk < end)
				err = -E2BIG; /* a lane too small for one edit */
			return err ? err : nospc;
		}
		/* what fit is kept even when space ran out: zeroed blocks
		 * inside or past EOF read as zeros, a consistent state */
		if (!nospc && lblk >= end && newsize > si.size) {
			/* last step: the size commits with the blocks; the
			 * stale tail of the old last block is zeroed first
			 * (ordered by the fence below, before the commit) */
			err = zero_tail(fs, m, si.size, newsize);
			si.size = newsize;
			pmfs_touch_mc(&si);
		} else {
			pmfs_touch_c(&si);
		}
		pm_fence();
		if (!err)
			err = pmfs_inode_log(fs, tx, node->ino, &si);
		err = end_tx(tx, node, err);
		if (err)
			return err;
		if (nospc)
			return nospc;
	}
	return 0;
}

/* Copies the bytes [from, to) of an old block that lie below old_size
 * (past it may be stale) into the same place of a new block. */
static void copy_kept(struct pmfs *fs, uint64_t blk_start, uint64_t old_pblk, uint64_t new_pblk,
		      uint64_t from, uint64_t to, uint64_t old_size)
{
	if (blk_start + to > old_size)
		to = old_size > blk_start ? old_size - blk_start : 0;
	if (from < to)
		pm_copy((char *)pmfs_block(fs, new_pblk) + from,
			(char *)pmfs_block(fs, old_pblk) + from, to - from);
}

/*
 * ZERO_RANGE or PUNCH_HOLE as one tx when it fits.  Every block touching
 * [s, e) is unmapped; ZERO_RANGE maps new zeroed blocks over the whole
 * range (holes included), PUNCH_HOLE only over mapped partial edge blocks;
 * an edge block gets the old bytes outside [s, e) copied in.  The size
 * change of ZERO_RANGE rides along.  The old blocks stay intact until the
 * commit (a freed block is reusable only after it), so a crash shows the
 * old range or the new one.  Returns 1 when done, 0 when it does not fit
 * one tx (nothing changed), or a negative errno.
 */
static int replace_range_atomic(struct pmfs *fs, struct pmfs_node *node, uint64_t s, uint64_t e,
				bool keep, bool punch)
{
	uint64_t b0 = s / BS, b1 = div_up(e, BS), left, lblk = b0, run, head = 0, tail = 0, np;
	struct pmfs_tx *tx = pmfs_tx_begin(fs);
	struct pmfs_extmap *m;
	struct pmfs_inode si;
	bool any = false, incomplete = false;
	int err, nospc = 0;

	pmfs_inode_stage(fs, node->ino, &si);
	err = pmfs_extmap_get(fs, node, &m);
	if (err)
		goto abort;
	if (s % BS && !pmfs_extmap_lookup(m, b0, &head, &run))
		head = 0;
	if (e % BS && !pmfs_extmap_lookup(m, b1 - 1, &tail, &run))
		tail = 0;
	err = pmfs_extmap_unmap(fs, tx, m, &si, b0, b1, &left);
	if (err || left != b0)
		goto abort;
	if (!punch) {
		err = fill_holes(fs, tx, m, &si, &lblk, b1, &any, &nospc);
	} else {
		uint64_t hb = b0, tb = b1 - 1;
		bool tail_needed = tail && !(head && b1 - 1 == b0);

		if (head)
			err = fill_holes(fs, tx, m, &si, &hb, b0 + 1, &any, &nospc);
		if (!err && tail_needed)
			err = fill_holes(fs, tx, m, &si, &tb, b1, &any, &nospc);
		incomplete = (head && hb == b0) || (tail_needed && tb == b1 - 1);
	}
	if (!punch)
		incomplete = lblk < b1;
	if (err || incomplete)
		goto abort; /* includes running out of space: the fallback says so */
	if (head) {
		pmfs_extmap_lookup(m, b0, &np, &run);
		copy_kept(fs, b0 * BS, head, np, 0, s % BS, si.size);
	}
	if (tail) {
		pmfs_extmap_lookup(m, b1 - 1, &np, &run);
		copy_kept(fs, (b1 - 1) * BS, tail, np, e % BS, BS, si.size);
	}
	if (!keep && e > si.size) {
		err = zero_tail(fs, m, si.size, s);
		if (err)
			goto abort;
		si.size = e;
	}
	pm_fence(); /* new blocks' contents before the tx exposing them */
	pmfs_touch_mc(&si);
	err = pmfs_inode_log(fs, tx, node->ino, &si);
	if (err)
		goto abort;
	err = pmfs_tx_commit(tx);
	if (err) {
		pmfs_node_drop_caches(node);
		return err;
	}
	return 1;
abort:
	pmfs_tx_abort(tx);
	pmfs_node_drop_caches(node);
	return err == -ENOSPC || err == -E2BIG ? 0 : err;
}

/* Unmaps whole blocks [lblk, end) in as many txs as needed. */
static int punch_blocks(struct pmfs *fs, struct pmfs_node *node, uint64_t lblk, uint64_t end)
{
	uint64_t left = end;

	while (left > lblk) {
		struct pmfs_tx *tx = pmfs_tx_begin(fs);
		struct pmfs_extmap *m;
		struct pmfs_inode si;
		int err;

		pmfs_inode_stage(fs, node->ino, &si);
		err = pmfs_extmap_get(fs, node, &m);
		if (!err)
			err = pmfs_extmap_unmap(fs, tx, m, &si, lblk, left, &left);
		if (!err) {
			pmfs_touch_mc(&si);
			err = pmfs_inode_log(fs, tx, node->ino, &si);
		}
		err = end_tx(tx, node, err);
		if (err)
			return err;
	}
	return 0;
}

/* Zeroes the mapped bytes of [s, e) that lie inside one block; in place. */
static int zero_partial(struct pmfs *fs, struct pmfs_node *node, uint64_t s, uint64_t e)
{
	struct pmfs_extmap *m;
	uint64_t pblk, run;
	int err = pmfs_extmap_get(fs, node, &m);

	if (err || s >= e)
		return err;
	if (pmfs_extmap_lookup(m, s / BS, &pblk, &run))
		pm_set((char *)pmfs_block(fs, pblk) + s % BS, 0, e - s);
	return 0;
}

/*
 * Punch of a range too big for one tx: the partial blocks at either edge
 * are zeroed in place (like an overwrite: not atomic), fenced, then the
 * whole blocks are unmapped by as many txs as needed.
 */
static int punch_range(struct pmfs *fs, struct pmfs_node *node, uint64_t s, uint64_t e)
{
	uint64_t fb = div_up(s, BS), lb = e / BS;
	int err;

	if (fb > lb) {
		err = zero_partial(fs, node, s, e);
	} else {
		err = zero_partial(fs, node, s, fb * BS);
		if (!err)
			err = zero_partial(fs, node, lb * BS, e);
	}
	pm_fence();
	if (!err && lb > fb)
		err = punch_blocks(fs, node, fb, lb);
	return err;
}

/* Raises the size to newsize (fallocate without KEEP_SIZE). */
static int extend_size(struct pmfs *fs, struct pmfs_node *node, uint64_t newsize)
{
	const struct pmfs_inode *di = pmfs_inode_get(fs, node->ino);

	if (newsize <= di->size)
		return 0;
	return pmfs_set_size_locked(fs, node, newsize, NULL, NULL);
}

int pmfs_fallocate(struct pmfs *fs, pmfs_ino_t ino, int mode, off_t off, off_t len)
{
	const int keep = FALLOC_FL_KEEP_SIZE;
	struct pmfs_node *node;
	const struct pmfs_inode *di;
	uint64_t s = (uint64_t)off, e;
	int err;

	if (mode != 0 && mode != keep && mode != (FALLOC_FL_PUNCH_HOLE | keep) &&
	    mode != FALLOC_FL_ZERO_RANGE && mode != (FALLOC_FL_ZERO_RANGE | keep))
		return -EOPNOTSUPP;
	if (off < 0 || len <= 0)
		return -EINVAL;
	if (fs->read_only)
		return -EROFS;
	e = s + (uint64_t)len;
	if (e > PMFS_MAX_FILE_SIZE || e < s)
		return -EFBIG;
	err = pmfs_iget(fs, ino, &node);
	if (err)
		return err;
	pmfs_node_wrlock(node);
	di = pmfs_inode_get(fs, ino);
	if (S_ISDIR(di->mode))
		err = -EISDIR;
	else if (!S_ISREG(di->mode))
		err = -ENODEV;
	if (err)
		goto out;
	if (mode & FALLOC_FL_PUNCH_HOLE) {
		err = replace_range_atomic(fs, node, s, e, true, true);
		if (err == 0) /* too big for one tx: edges in place, then chunks */
			err = punch_range(fs, node, s, e);
		goto out;
	}
	if (mode & FALLOC_FL_ZERO_RANGE) {
		err = replace_range_atomic(fs, node, s, e, mode & keep, false);
		if (err)
			goto out; /* done (1) or failed */
		/* too big for one tx: zero what is mapped (edges in place),
		 * then allocate the holes zeroed; each step is consistent */
		err = punch_range(fs, node, s, e);
		if (err)
			goto out;
	}
	/* Without KEEP_SIZE the size rises in the tx that maps the last
	 * hole; extend_size does it alone when nothing needed mapping. */
	err = alloc_zeroed(fs, node, s / BS, div_up(e, BS), mode & keep ? 0 : e);
	if (!err && !(mode & keep))
		err = extend_size(fs, node, e);
out:
	pmfs_node_unlock(node);
	pmfs_iput(fs, node);
	return err > 0 ? 0 : err;
}

/* ---- seek, fsync, copy ------------------------------------------------------ */

off_t pmfs_lseek(struct pmfs *fs, pmfs_ino_t ino, off_t off, int whence)
{
	struct pmfs_node *node;
	struct pmfs_extmap *m;
	const struct pmfs_inode *di;
	off_t ret;
	int err;

	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return -EINVAL;
	if (off < 0)
		return -ENXIO;
	err = pmfs_iget(fs, ino, &node);
	if (err)
		return err;
	pmfs_node_rdlock(node);
	di = pmfs_inode_get(fs, ino);
	err = pmfs_extmap_get(fs, node, &m);
	if (err) {
		ret = err;
		goto out;
	}
	if ((uint64_t)off >= di->size) {
		ret = -ENXIO;
		goto out;
	}
	uint64_t pos = (uint64_t)off, pblk, run;

	while (pos < di->size) {
		bool mapped = pmfs_extmap_lookup(m, pos / BS, &pblk, &run);

		if (mapped == (whence == SEEK_DATA))
			break;
		pos = (pos / BS + run) * BS;
		if (run == 0)
			pos = di->size;
	}
	if (pos >= di->size)
		ret = whence == SEEK_DATA ? -ENXIO : (off_t)di->size;
	else
		ret = (off_t)pos;
out:
	pmfs_node_unlock(node);
	pmfs_iput(fs, node);
	return ret;
}

int pmfs_fsync(struct pmfs *fs, pmfs_ino_t ino, bool datasync)
{
	struct pmfs_node *node;
	int err = pmfs_iget(fs, ino, &node);

	(void)datasync;
	if (err)
		return err;
	/* data and metadata were fenced before their calls returned */
	pmem_drain();
	pmfs_iput(fs, node);
	return 0;
}

static off_t stat_of_size(struct pmfs *fs, pmfs_ino_t ino)
{
	struct stat st;

	return pmfs_getattr(fs, ino, &st) ? 0 : st.st_size;
}

/* Copies [off_in, off_in + len) of data, no holes in it, chunk by chunk. */
static ssize_t copy_data(struct pmfs *fs, pmfs_ino_t in, uint64_t off_in, pmfs_ino_t out,
			 uint64_t off_out, uint64_t len, char *buf)
{
	uint64_t done = 0;

	while (done < len) {
		size_t want = len - done < COPY_CHUNK ? (size_t)(len - done) : COPY_CHUNK;
		ssize_t r = pmfs_read(fs, in, buf, want, (off_t)(off_in + done)), w;

		if (r <= 0)
			return done ? (ssize_t)done : r;
		w = pmfs_write(fs, out, buf, (size_t)r, (off_t)(off_out + done), 0);
		if (w < 0)
			return done ? (ssize_t)done : w;
		done += (uint64_t)w;
		if (w < r)
			break;
	}
	return (ssize_t)done;
}

/*
 * A copy inside the core that keeps files sparse: data runs of the source
 * are copied, its holes become holes in the destination (punched, since
 * the destination may hold data there), and the destination grows to the
 * end of the copied range.  Not atomic: a crash may leave a prefix copied.
 */
ssize_t pmfs_copy_file_range(struct pmfs *fs, pmfs_ino_t ino_in, off_t off_in, pmfs_ino_t ino_out,
			     off_t off_out, size_t len)
{
	struct stat st_in, st_out;
	uint64_t total, p = 0;
	char *buf;
	int err;

	if (off_in < 0 || off_out < 0)
		return -EINVAL;
	if (fs->read_only)
		return -EROFS;
	err = pmfs_getattr(fs, ino_in, &st_in);
	if (!err)
		err = pmfs_getattr(fs, ino_out, &st_out);
	if (err)
		return err;
	if (S_ISDIR(st_in.st_mode) || S_ISDIR(st_out.st_mode))
		return -EISDIR;
	if (!S_ISREG(st_in.st_mode) || !S_ISREG(st_out.st_mode))
		return -EINVAL;
	if (ino_in == ino_out && (uint64_t)off_in < (uint64_t)off_out + len &&
	    (uint64_t)off_out < (uint64_t)off_in + len)
		return -EINVAL;
	if ((uint64_t)off_in >= (uint64_t)st_in.st_size)
		return 0;
	total = (uint64_t)st_in.st_size - (uint64_t)off_in;
	if (total > len)
		total = len;
	if ((uint64_t)off_out + total > PMFS_MAX_FILE_SIZE)
		return -EFBIG;
	buf = pmfs_malloc(COPY_CHUNK);
	if (!buf)
		return -ENOMEM;
	while (p < total && !err) {
		off_t d = pmfs_lseek(fs, ino_in, off_in + (off_t)p, SEEK_DATA), h;
		uint64_t data = d < 0 ? total : (uint64_t)d - (uint64_t)off_in;

		if (data > total)
			data = total;
		if (data > p) {
			err =
			    pmfs_fallocate(fs, ino_out, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					   off_out + (off_t)p, (off_t)(data - p));
			p = data;
			continue;
		}
		h = pmfs_lseek(fs, ino_in, off_in + (off_t)p, SEEK_HOLE);
		uint64_t end = h < 0 ? total : (uint64_t)h - (uint64_t)off_in;

		if (end > total)
			end = total;
		if (end <= p)
			end = total; /* the source changed under us: copy the rest */
		ssize_t n = copy_data(fs, ino_in, (uint64_t)off_in + p, ino_out,
				      (uint64_t)off_out + p, end - p, buf);

		if (n < 0)
			err = (int)n;
		else if ((uint64_t)n < end - p)
			total = p + (uint64_t)n; /* short: stop there */
		if (n > 0)
			p += (uint64_t)n;
		if (n == 0)
			break;
	}
	free(buf);
	if (!err && (uint64_t)off_out + p > (uint64_t)stat_of_size(fs, ino_out)) {
		struct stat sz = {.st_size = off_out + (off_t)p};

		err = pmfs_setattr(fs, ino_out, &sz, PMFS_SET_SIZE, NULL);
	}
	if (p)
		return (ssize_t)p;
	return err;
}
