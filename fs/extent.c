/*
 * extent.c - extent maps.  The persistent map is a sequence of nodes: the
 * inode's inline ext[8] (node 0), then overflow blocks chained from
 * inode.ext_overflow, each with its own count; the concatenation is sorted
 * by lblk.  DRAM keeps the flat sorted array (binary search) and the node
 * layout, so an edit knows which node(s) to rewrite.
 *
 * Every edit is a "splice" of the flat array (replace r entries at i by k
 * new ones).  Only the nodes holding the replaced range are rewritten, so a
 * tx logs O(size of the edit), not O(size of the map): a full node splits
 * evenly into two (a new overflow block linked after it), an emptied
 * overflow block is unlinked and freed.  All of it is logged in the
 * caller's tx: the committed map changes atomically with the inode fields
 * and the bitmap bits that go with it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dmap.h"
#include "extent.h"
#include "fault.h"
#include "persist.h"

/* Blocks freed per unmap step: bounds the bitmap part of one tx. */
#define UNMAP_CHUNK 8192u
/* A fresh lane of the smallest size mount accepts holds one unmap step
 * (the room checked in pmfs_extmap_unmap, two record headers) and the
 * inode the caller logs after it, so freeing always progresses. */
_Static_assert((size_t)PMFS_MIN_LANE_BLOCKS * PMFS_BLOCK_SIZE - PMFS_LANE_RECORDS_OFF >=
		   PMFS_EXTENT_EDIT_ROOM + UNMAP_CHUNK / 8 * 3 + 2 * sizeof(struct pmfs_jrec) +
		       PMFS_INODE_SIZE,
	       "PMFS_MIN_LANE_BLOCKS too small for one unmap step");

static uint32_t node_cap(uint32_t t)
{
	return t == 0 ? PMFS_INLINE_EXTENTS : (uint32_t)PMFS_EXTENTS_PER_BLOCK;
}

void pmfs_extmap_free(struct pmfs_extmap *m)
{
	if (!m)
		return;
	free(m->e);
	free(m->nodes);
	free(m);
}

/* Never leaves m->e NULL: memcpy/memmove with a NULL pointer is undefined
 * even for zero bytes. */
static int reserve_ext(struct pmfs_extmap *m, uint32_t need)
{
	if (need <= m->cap && m->e)
		return 0;
	uint32_t cap = m->cap ? m->cap : 16;
	while (cap < need)
		cap *= 2;
	struct pmfs_extent *e = pmfs_realloc(m->e, cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	m->e = e;
	m->cap = cap;
	return 0;
}

static int reserve_nodes(struct pmfs_extmap *m, uint32_t need)
{
	if (need <= m->nodes_cap)
		return 0;
	uint32_t cap = m->nodes_cap ? m->nodes_cap : 4;
	while (cap < need)
		cap *= 2;
	struct pmfs_extnode *nd = pmfs_realloc(m->nodes, cap * sizeof(*nd));
	if (!nd)
		return -ENOMEM;
	m->nodes = nd;
	m->nodes_cap = cap;
	return 0;
}

static bool valid_block(const struct pmfs *fs, uint64_t blk)
{
	return blk >= fs->sb->data_start && blk < fs->sb->total_blocks - 1;
}

/* A damaged image must give errors, never wild pointers: every extent is
 * checked against the data area and its predecessor before use. */
static bool extents_valid(const struct pmfs *fs, const struct pmfs_extmap *m)
{
	uint64_t prev_end = 0;

	for (uint32_t i = 0; i < m->n; i++) {
		const struct pmfs_extent *e = &m->e[i];

		if (e->len == 0 || (i && e->lblk < prev_end) ||
		    (uint64_t)e->lblk + e->len > PMFS_MAX_FILE_BLOCKS ||
		    e->pblk < fs->sb->data_start || e->pblk >= fs->sb->total_blocks - 1 ||
		    e->len > fs->sb->total_blocks - 1 - e->pblk)
			return false;
		prev_end = (uint64_t)e->lblk + e->len;
	}
	return true;
}

static int extmap_load(struct pmfs *fs, pmfs_ino_t ino, struct pmfs_extmap **out)
{
	const struct pmfs_inode *di = pmfs_inode_get(fs, ino);
	struct pmfs_extmap *m = pmfs_calloc(1, sizeof(*m));
	uint64_t blk, hops = 0;
	int err;

	if (!m)
		return -ENOMEM;
	if (di->ext_count > PMFS_INLINE_EXTENTS) {
		err = -EIO;
		goto fail;
	}
	err = reserve_nodes(m, 1);
	if (!err)
		err = reserve_ext(m, di->ext_count);
	if (err)
		goto fail;
	m->nodes[0] = (struct pmfs_extnode){0, di->ext_count};
	m->nnodes = 1;
	memcpy(m->e, di->u.ext, di->ext_count * sizeof(struct pmfs_extent));
	m->n = di->ext_count;
	for (blk = di->ext_overflow; blk;
	     blk = ((const struct pmfs_extent_block *)pmfs_block(fs, blk))->next) {
		const struct pmfs_extent_block *eb;

		/* check blk before forming its address: an out-of-range
		 * number may wrap the pointer arithmetic of pmfs_block() */
		if (!valid_block(fs, blk) || ++hops > fs->sb->total_blocks) {
			err = -EIO;
			goto fail;
		}
		eb = pmfs_block(fs, blk);
		if (eb->count > PMFS_EXTENTS_PER_BLOCK) {
			err = -EIO;
			goto fail;
		}
		err = reserve_nodes(m, m->nnodes + 1);
		if (!err)
			err = reserve_ext(m, m->n + eb->count);
		if (err)
			goto fail;
		m->nodes[m->nnodes++] = (struct pmfs_extnode){blk, eb->count};
		memcpy(m->e + m->n, eb->ext, eb->count * sizeof(struct pmfs_extent));
		m->n += eb->count;
	}
	if (!extents_valid(fs, m)) {
		err = -EIO;
		goto fail;
	}
	*out = m;
	return 0;
fail:
	pmfs_logf(fs, PMFS_LOG_ERR, "inode %llu: corrupt extent map", (unsigned long long)ino);
	pmfs_extmap_free(m);
	return err;
}

int pmfs_extmap_get(struct pmfs *fs, struct pmfs_node *node, struct pmfs_extmap **out)
{
	struct pmfs_extmap *m = __atomic_load_n(&node->extmap, __ATOMIC_ACQUIRE);
	int err = 0;

	if (m) {
		*out = m;
		return 0;
	}
	pthread_mutex_lock(&node->build_lock);
	m = node->extmap;
	if (!m) {
		err = extmap_load(fs, node->ino, &m);
		if (!err)
			__atomic_store_n(&node->extmap, m, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&node->build_lock);
	*out = m;
	return err;
}

/* Index of the last extent with lblk <= x, or -1. */
static int64_t find(const struct pmfs_extmap *m, uint64_t x)
{
	int64_t lo = 0, hi = (int64_t)m->n - 1, ans = -1;

	while (lo <= hi) {
		int64_t mid = lo + (hi - lo) / 2;

		if (m->e[mid].lblk <= x) {
			ans = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return ans;
}

static uint64_t ext_end(const struct pmfs_extent *e)
{
	return (uint64_t)e->lblk + e->len;
}

bool pmfs_extmap_lookup(const struct pmfs_extmap *m, uint64_t lblk, uint64_t *pblk, uint64_t *run)
{
	int64_t i = find(m, lblk);

	if (i >= 0 && lblk < ext_end(&m->e[i])) {
		*pblk = m->e[i].pblk + (lblk - m->e[i].lblk);
		*run = ext_end(&m->e[i]) - lblk;
		return true;
	}
	if ((uint64_t)(i + 1) < m->n)
		*run = m->e[i + 1].lblk - lblk;
	else
		*run = lblk < PMFS_MAX_FILE_BLOCKS ? PMFS_MAX_FILE_BLOCKS - lblk : 0;
	return false;
}

uint64_t pmfs_extmap_goal(const struct pmfs_extmap *m, uint64_t lblk)
{
	int64_t i = find(m, lblk);

	if (i >= 0)
		return m->e[i].pblk + m->e[i].len;
	if (m->n)
		return m->e[0].pblk;
	return 0;
}

uint64_t pmfs_extmap_end(const struct pmfs_extmap *m)
{
	return m->n ? ext_end(&m->e[m->n - 1]) : 0;
}

/* Logs a chain node: its header (next, count) and entries [from, count). */
static int log_chain_node(struct pmfs_tx *tx, struct pmfs *fs, uint64_t pblk, uint64_t next,
			  uint32_t count, const struct pmfs_extent *ents, uint32_t from)
{
	struct pmfs_extent_block *eb = pmfs_block(fs, pblk);
	struct {
		uint64_t next;
		uint32_t count;
		uint32_t reserved;
	} head = {next, count, 0};
	int err = pmfs_tx_set(tx, eb, &head, sizeof(head));

	if (!err && from < count)
		err = pmfs_tx_set(tx, &eb->ext[from], ents + from,
				  (count - from) * sizeof(struct pmfs_extent));
	return err;
}

/*
 * Replaces m->e[i, i+r) by ins[0, k): rewrites the nodes holding that range
 * (and the link into them), allocating or freeing overflow blocks as the
 * count demands.  Everything is logged in tx or staged in si.
 */
static int splice(struct pmfs *fs, struct pmfs_tx *tx, struct pmfs_extmap *m, struct pmfs_inode *si,
		  uint32_t i, uint32_t r, const struct pmfs_extent *ins, uint32_t k)
{
	uint32_t t0 = 0, t1, start0 = 0, start, end1, L, need, R, j;
	struct pmfs_extent *tmp = NULL;
	struct pmfs_extnode *newnodes = NULL;
	uint32_t *counts = NULL;
	int err;

	/* Node holding index i (the last node when appending). */
	for (start = 0; t0 + 1 < m->nnodes && i >= start + m->nodes[t0].count; t0++)
		start += m->nodes[t0].count;
	start0 = start;
	t1 = t0;
	end1 = start0 + m->nodes[t0].count;
	while (r && i + r > end1) {
		t1++;
		end1 += m->nodes[t1].count;
	}
	L = end1 - start0 - r + k;
	if (t0 == 0)
		need = L <= PMFS_INLINE_EXTENTS
			   ? 1
			   : 1 + (L - PMFS_INLINE_EXTENTS + PMFS_EXTENTS_PER_BLOCK - 1) /
				     PMFS_EXTENTS_PER_BLOCK;
	else
		need = (L + PMFS_EXTENTS_PER_BLOCK - 1) / PMFS_EXTENTS_PER_BLOCK;
	R = t1 - t0 + 1;

	tmp = pmfs_malloc((L ? L : 1) * sizeof(*tmp));
	newnodes = pmfs_malloc((m->nnodes - R + need + 1) * sizeof(*newnodes));
	counts = pmfs_calloc(need + 1, sizeof(*counts));
	err = reserve_ext(m, m->n - r + k);
	if (!tmp || !newnodes || !counts || err) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(tmp, m->e + start0, (i - start0) * sizeof(*tmp));
	memcpy(tmp + (i - start0), ins, k * sizeof(*tmp));
	memcpy(tmp + (i - start0) + k, m->e + i + r, (end1 - i - r) * sizeof(*tmp));

	/* Distribution: appends fill nodes greedily; edits in the middle split
	 * evenly so the next insert there finds room. */
	{
		uint32_t left = L, nodes_left = need;

		for (j = 0; j < need; j++, nodes_left--) {
			uint32_t cap = node_cap(t0 + j), c;

			if (i + r == m->n || nodes_left == 1)
				c = left < cap ? left : cap;
			else
				c = (left + nodes_left - 1) / nodes_left;
			if (c > cap)
				c = cap;
			counts[j] = c;
			left -= c;
		}
	}

	/* New node list: before, region (reused, then new blocks), after. */
	memcpy(newnodes, m->nodes, t0 * sizeof(*newnodes));
	for (j = 0; j < need; j++) {
		if (j < R) {
			newnodes[t0 + j].pblk = m->nodes[t0 + j].pblk;
		} else {
			uint64_t goal = newnodes[t0 + j - 1].pblk, got = 0, pblk = 0;

			err = pmfs_balloc(fs, tx, goal ? goal + 1 : 0, 1, 1, 1, &pblk, &got);
			if (err)
				goto out;
			newnodes[t0 + j].pblk = pblk;
			si->blocks++;
		}
		newnodes[t0 + j].count = counts[j];
	}
	for (j = need; j < R; j++) {
		err = pmfs_bfree(fs, tx, m->nodes[t0 + j].pblk, 1);
		if (err)
			goto out;
		si->blocks--;
	}
	memcpy(newnodes + t0 + need, m->nodes + t1 + 1, (m->nnodes - t1 - 1) * sizeof(*newnodes));
	uint32_t newcount = m->nnodes - R + need;

	/* Log the region nodes and the link into the region. */
	{
		uint32_t off = 0;

		for (j = 0; j < need; j++) {
			uint32_t t = t0 + j;
			uint64_t next = t + 1 < newcount ? newnodes[t + 1].pblk : 0;

			if (t == 0) {
				memcpy(si->u.ext, tmp, counts[0] * sizeof(*tmp));
				si->ext_count = counts[0];
				si->ext_overflow = next;
			} else {
				uint32_t from = (j == 0 && j < R) ? i - start0 : 0;

				if (from > counts[j])
					from = counts[j];
				err = log_chain_node(tx, fs, newnodes[t].pblk, next, counts[j],
						     tmp + off, from);
				if (err)
					goto out;
			}
			off += counts[j];
		}
		if (t0 > 0) {
			/* the predecessor's link changes when the region's first
			 * node went away; relogging it is cheap either way */
			uint32_t p = t0 - 1;
			uint64_t next = p + 1 < newcount ? newnodes[p + 1].pblk : 0;

			if (p == 0)
				si->ext_overflow = next;
			else
				err = log_chain_node(tx, fs, newnodes[p].pblk, next,
						     newnodes[p].count, NULL, newnodes[p].count);
			if (err)
				goto out;
		}
	}

	/* Publish in DRAM (the caller drops the map if the tx aborts). */
	memmove(m->e + i + k, m->e + i + r, (m->n - i - r) * sizeof(*m->e));
	memcpy(m->e + i, ins, k * sizeof(*ins));
	m->n = m->n - r + k;
	free(m->nodes);
	m->nodes = newnodes;
	m->nnodes = newcount;
	m->nodes_cap = newcount + 1; /* what newnodes was allocated with */
	newnodes = NULL;
out:
	free(tmp);
	free(newnodes);
	free(counts);
	return err;
}

int pmfs_extmap_insert(struct pmfs *fs, struct pmfs_tx *tx, struct pmfs_extmap *m,
		       struct pmfs_inode *si, uint64_t lblk, uint64_t len, uint64_t pblk)
{
	int64_t p = find(m, lblk) + 1; /* first extent after the hole */
	bool left = false, right = false;
	struct pmfs_extent ne = {(uint32_t)lblk, (uint32_t)len, pblk};
	int err;

	if (len == 0 || lblk + len > PMFS_MAX_FILE_BLOCKS || len > UINT32_MAX)
		return -EINVAL;
	if (p > 0) {
		const struct pmfs_extent *l = &m->e[p - 1];

		if (ext_end(l) > lblk)
			return -EEXIST;
		left = ext_end(l) == lblk && l->pblk + l->len == pblk &&
		       (uint64_t)l->len + len <= UINT32_MAX;
	}
	if ((uint64_t)p < m->n) {
		const struct pmfs_extent *rt = &m->e[p];

		if (lblk + len > rt->lblk)
			return -EEXIST;
		right = lblk + len == rt->lblk && pblk + len == rt->pblk &&
			(uint64_t)rt->len + len + (left ? m->e[p - 1].len : 0) <= UINT32_MAX;
	}
	if (left) {
		ne = m->e[p - 1];
		ne.len += (uint32_t)len;
	}
	if (right) {
		if (!left)
			ne.lblk = (uint32_t)lblk, ne.pblk = pblk, ne.len = (uint32_t)len;
		ne.len += m->e[p].len;
	}
	if (left && right)
		err = splice(fs, tx, m, si, (uint32_t)p - 1, 2, &ne, 1);
	else if (left)
		err = splice(fs, tx, m, si, (uint32_t)p - 1, 1, &ne, 1);
	else if (right)
		err = splice(fs, tx, m, si, (uint32_t)p, 1, &ne, 1);
	else
		err = splice(fs, tx, m, si, (uint32_t)p, 0, &ne, 1);
	if (!err)
		si->blocks += len;
	return err;
}

int pmfs_extmap_unmap(struct pmfs *fs, struct pmfs_tx *tx, struct pmfs_extmap *m,
		      struct pmfs_inode *si, uint64_t lblk, uint64_t end, uint64_t *left_end)
{
	int64_t idx;

	if (end <= lblk) {
		*left_end = lblk;
		return 0;
	}
	idx = find(m, end - 1);
	while (idx >= 0) {
		struct pmfs_extent e = m->e[idx], pieces[2];
		uint64_t os, oe;
		uint32_t np = 0;
		int err;

		if (ext_end(&e) <= lblk)
			break;
		os = e.lblk > lblk ? e.lblk : lblk;
		oe = ext_end(&e) < end ? ext_end(&e) : end;
		if (pmfs_tx_room(tx) < PMFS_EXTENT_EDIT_ROOM + UNMAP_CHUNK / 8 * 3) {
			*left_end = oe;
			return 0;
		}
		if (oe - os > UNMAP_CHUNK)
			os = oe - UNMAP_CHUNK;
		err = pmfs_dmap_bfree(fs, tx, e.pblk + (os - e.lblk), oe - os);
		if (err)
			return err;
		si->blocks -= oe - os;
		if (os > e.lblk)
			pieces[np++] =
			    (struct pmfs_extent){e.lblk, (uint32_t)(os - e.lblk), e.pblk};
		if (oe < ext_end(&e))
			pieces[np++] = (struct pmfs_extent){
			    (uint32_t)oe, (uint32_t)(ext_end(&e) - oe), e.pblk + (oe - e.lblk)};
		err = splice(fs, tx, m, si, (uint32_t)idx, 1, pieces, np);
		if (err)
			return err;
		if (!(os > e.lblk && os > lblk))
			idx--;
	}
	*left_end = lblk;
	return 0;
}
