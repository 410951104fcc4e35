/*
 * balloc.c - block allocation.  The bitmap on pmem (1 = in use) is the
 * committed truth; it only changes through journal records.  In DRAM:
 *   - a copy of the bitmap in which a block is also marked while a running
 *     transaction has reserved it or has freed it but not yet committed;
 *   - a segment tree over 2 MiB units (512 blocks).  Each node keeps the
 *     free run at its start (pre), at its end (suf), the longest inside
 *     (best), the longest run inside a *partially used* unit (part_best)
 *     and the number of entirely free units (nfull).
 * Every search is a descent of the tree, O(log n), plus a scan of at most one
 * unit's 8 bitmap words; nothing scans the whole bitmap after mount.
 *
 * Policy (docs/FORMAT.md, "Allocation policy"):
 *   - a run starting at 'goal' is taken when it is free (files grow in place);
 *   - requests below one unit come from partially used units first, then
 *     from an entirely free unit, so small files do not break free aligned
 *     units that large files (and direct mapping) need;
 *   - requests of a unit or more take the leftmost free run of want +
 *     align - 1 blocks (so an aligned start fits), else the longest run if
 *     its aligned part still holds min blocks;
 *   - -ENOSPC only when no free run of min + align - 1 blocks exists (exact
 *     for align = 1).
 * One mutex guards the DRAM state; it is held for one search and update,
 * never across journal I/O.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "badblocks.h"
#include "fault.h"
#include "internal.h"
#include "persist.h"

#define UNIT_BLOCKS 512u
#define UNIT_WORDS (UNIT_BLOCKS / 64)

struct node {
	uint64_t pre, suf, best;
	uint32_t part_best;
	uint32_t nfull;
};

struct pmfs_balloc {
	pthread_mutex_t lock;
	uint64_t *map; /* DRAM bitmap, nunits * UNIT_WORDS words */
	uint64_t nunits;
	uint64_t leaves;   /* power of two >= nunits */
	struct node *tree; /* heap order: tree[1] root, leaf u at leaves + u */
	uint64_t total_blocks;
	uint64_t data_start;
	uint64_t free_blocks; /* atomic reads; written under lock */
};

/* ---- bit helpers ---------------------------------------------------------- */

static bool bit_is_set(const uint64_t *map, uint64_t b)
{
	return (map[b / 64] >> (b % 64)) & 1;
}

/* First free (0) bit in [from, end), or end. */
static uint64_t next_free(const uint64_t *map, uint64_t from, uint64_t end)
{
	while (from < end) {
		uint64_t w = ~map[from / 64] >> (from % 64);

		if (w)
			return from + __builtin_ctzll(w) < end ? from + __builtin_ctzll(w) : end;
		from = (from / 64 + 1) * 64;
	}
	return end;
}

/* First used (1) bit in [from, end), or end. */
static uint64_t next_used(const uint64_t *map, uint64_t from, uint64_t end)
{
	while (from < end) {
		uint64_t w = map[from / 64] >> (from % 64);

		if (w)
			return from + __builtin_ctzll(w) < end ? from + __builtin_ctzll(w) : end;
		from = (from / 64 + 1) * 64;
	}
	return end;
}

static uint64_t range_mask(unsigned lo, unsigned hi) /* bits [lo, hi), hi <= 64 */
{
	uint64_t m = hi == 64 ? ~0ULL : (1ULL << hi) - 1;

	return m & ~((1ULL << lo) - 1);
}

static void map_fill(uint64_t *map, uint64_t start, uint64_t len, bool used)
{
	uint64_t end = start + len;

	while (start < end) {
		unsigned lo = start % 64;
		unsigned hi = end - (start - lo) >= 64 ? 64 : (unsigned)(end - (start - lo));
		uint64_t m = range_mask(lo, hi);

		if (used)
			map[start / 64] |= m;
		else
			map[start / 64] &= ~m;
		start += hi - lo;
	}
}

static bool map_all_used(const uint64_t *map, uint64_t start, uint64_t len)
{
	return next_free(map, start, start + len) == start + len;
}

static uint64_t roundup_to(uint64_t x, uint64_t align)
{
	return (x + align - 1) / align * align;
}

/* ---- the tree -------------------------------------------------------------- */

static uint64_t node_len(const struct pmfs_balloc *b, uint64_t i)
{
	unsigned depth = 63 - __builtin_clzll(i);

	return UNIT_BLOCKS * (b->leaves >> depth);
}

static void leaf_compute(struct pmfs_balloc *b, uint64_t u, struct node *n)
{
	const uint64_t lo = u * UNIT_BLOCKS, hi = lo + UNIT_BLOCKS;
	uint64_t nfree = 0, best = 0, p;

	memset(n, 0, sizeof(*n));
	if (u >= b->nunits)
		return; /* padding leaf: all used */
	p = next_free(b->map, lo, hi);
	while (p < hi) {
		uint64_t e = next_used(b->map, p, hi);

		if (p == lo)
			n->pre = e - p;
		if (e == hi)
			n->suf = e - p;
		if (e - p > best)
			best = e - p;
		nfree += e - p;
		p = next_free(b->map, e, hi);
	}
	n->best = best;
	n->nfull = nfree == UNIT_BLOCKS;
	n->part_best = (nfree > 0 && nfree < UNIT_BLOCKS) ? (uint32_t)best : 0;
}

static void node_merge(struct pmfs_balloc *b, uint64_t i)
{
	const struct node *l = &b->tree[2 * i], *r = &b->tree[2 * i + 1];
	uint64_t half = node_len(b, i) / 2;
	struct node *n = &b->tree[i];
	uint64_t span = l->suf + r->pre;

	n->pre = l->pre == half ? half + r->pre : l->pre;
	n->suf = r->suf == half ? half + l->suf : r->suf;
	n->best = l->best > r->best ? l->best : r->best;
	if (span > n->best)
		n->best = span;
	n->part_best = l->part_best > r->part_best ? l->part_best : r->part_best;
	n->nfull = l->nfull + r->nfull;
}

static void unit_update(struct pmfs_balloc *b, uint64_t u)
{
	uint64_t i = b->leaves + u;

	leaf_compute(b, u, &b->tree[i]);
	for (i /= 2; i >= 1; i /= 2)
		node_merge(b, i);
}

static void range_update(struct pmfs_balloc *b, uint64_t start, uint64_t len)
{
	for (uint64_t u = start / UNIT_BLOCKS; u <= (start + len - 1) / UNIT_BLOCKS; u++)
		unit_update(b, u);
}

/* First unit >= from whose part_best >= need (want_full: nfull > 0), or -1. */
static int64_t first_unit(const struct pmfs_balloc *b, uint64_t i, uint64_t lo, uint64_t hi,
			  uint64_t from, uint64_t need, bool want_full)
{
	const struct node *n = &b->tree[i];
	uint64_t mid;
	int64_t r;

	if (hi <= from || (want_full ? n->nfull == 0 : n->part_best < need))
		return -1;
	if (hi - lo == 1)
		return (int64_t)lo;
	mid = (lo + hi) / 2;
	r = first_unit(b, 2 * i, lo, mid, from, need, want_full);
	return r >= 0 ? r : first_unit(b, 2 * i + 1, mid, hi, from, need, want_full);
}

/* From 'from' to the end, then from the start: near the goal first. */
static int64_t first_unit_wrap(const struct pmfs_balloc *b, uint64_t from, uint64_t need,
			       bool want_full)
{
	int64_t r = first_unit(b, 1, 0, b->leaves, from, need, want_full);

	return r >= 0 || from == 0 ? r : first_unit(b, 1, 0, b->leaves, 0, need, want_full);
}

/* Start of the leftmost free run of at least 'len' blocks; needs root best >= len. */
static uint64_t find_run(const struct pmfs_balloc *b, uint64_t len)
{
	uint64_t i = 1, lo = 0;

	while (i < b->leaves) {
		const struct node *l = &b->tree[2 * i], *r = &b->tree[2 * i + 1];
		uint64_t half = node_len(b, i) / 2;

		if (l->best >= len) {
			i = 2 * i;
		} else if (l->suf + r->pre >= len) {
			return lo + half - l->suf;
		} else {
			i = 2 * i + 1;
			lo += half;
		}
	}
	/* A leaf: the run lies inside this unit. */
	for (uint64_t p = next_free(b->map, lo, lo + UNIT_BLOCKS); p < lo + UNIT_BLOCKS;) {
		uint64_t e = next_used(b->map, p, lo + UNIT_BLOCKS);

		if (e - p >= len)
			return p;
		p = next_free(b->map, e, lo + UNIT_BLOCKS);
	}
	return UINT64_MAX; /* unreachable while the tree is consistent */
}

/* Best aligned run inside unit u: want if possible, else the longest >= min. */
static bool unit_search(const struct pmfs_balloc *b, uint64_t u, uint64_t want, uint64_t min,
			uint64_t align, uint64_t *start, uint64_t *len)
{
	const uint64_t lo = u * UNIT_BLOCKS, hi = lo + UNIT_BLOCKS;
	uint64_t got = 0;

	for (uint64_t p = next_free(b->map, lo, hi); p < hi;) {
		uint64_t e = next_used(b->map, p, hi);
		uint64_t as = roundup_to(p, align);

		if (as < e && e - as > got && e - as >= min) {
			got = e - as < want ? e - as : want;
			*start = as;
			if (got == want)
				break;
		}
		p = next_free(b->map, e, hi);
	}
	*len = got;
	return got > 0;
}

/* The free run at goal, if it is aligned and holds at least min blocks. */
static bool goal_search(const struct pmfs_balloc *b, uint64_t goal, uint64_t want, uint64_t min,
			uint64_t align, uint64_t *start, uint64_t *len)
{
	uint64_t end;

	if (goal < b->data_start || goal >= b->total_blocks - 1 || goal % align != 0 ||
	    bit_is_set(b->map, goal))
		return false;
	end = goal + want < b->total_blocks ? goal + want : b->total_blocks;
	end = next_used(b->map, goal, end);
	if (end - goal < min)
		return false;
	*start = goal;
	*len = end - goal;
	return true;
}

static bool choose_run(const struct pmfs_balloc *b, uint64_t goal, uint64_t want, uint64_t min,
		       uint64_t align, uint64_t *start, uint64_t *len)
{
	const struct node *root = &b->tree[1];
	uint64_t goal_unit = goal < b->total_blocks ? goal / UNIT_BLOCKS : 0;
	int64_t u;

	if (goal_search(b, goal, want, min, align, start, len))
		return true;
	if (want < UNIT_BLOCKS) {
		if (want + align - 1 <= UNIT_BLOCKS) {
			u = first_unit_wrap(b, goal_unit, want + align - 1, false);
			if (u >= 0 && unit_search(b, (uint64_t)u, want, want, align, start, len))
				return true;
		}
		u = first_unit_wrap(b, goal_unit, 0, true);
		if (u >= 0 && unit_search(b, (uint64_t)u, want, min, align, start, len))
			return true;
		if (min + align - 1 <= UNIT_BLOCKS) {
			u = first_unit_wrap(b, goal_unit, min + align - 1, false);
			if (u >= 0 && unit_search(b, (uint64_t)u, want, min, align, start, len))
				return true;
		}
	} else if (root->best >= want + align - 1) {
		*start = roundup_to(find_run(b, want + align - 1), align);
		*len = want;
		return true;
	}
	if (root->best >= min + align - 1) {
		/* The longest run: it is exactly root->best long. */
		uint64_t s = find_run(b, root->best);
		uint64_t as = roundup_to(s, align);
		uint64_t avail = s + root->best - as;

		*start = as;
		*len = avail < want ? avail : want;
		return true;
	}
	return false;
}

/* ---- journal records for bitmap changes ------------------------------------ */

/* Bytes of log that logging a run of len blocks may take (see log_bits). */
static size_t log_cost(uint64_t len)
{
	return 2 * (sizeof(struct pmfs_jrec) + 8) + sizeof(struct pmfs_jrec) + 8 * (len / 64 + 1);
}

/*
 * The two edge words get OR64/ANDN64 records: other transactions may be
 * changing other bits of them right now, and these commute.  Interior
 * words belong wholly to this run (reserved in DRAM for this tx alone, or
 * owned by the file that frees them), so one SET record carries them.
 */
static int log_edge_word(struct pmfs *fs, struct pmfs_tx *tx, uint64_t w, uint64_t start,
			 uint64_t end, bool used)
{
	unsigned lo = start > w * 64 ? (unsigned)(start - w * 64) : 0;
	unsigned hi = end < (w + 1) * 64 ? (unsigned)(end - w * 64) : 64;
	uint64_t m = range_mask(lo, hi);

	return used ? pmfs_tx_or64(tx, &fs->bitmap[w], m) : pmfs_tx_andn64(tx, &fs->bitmap[w], m);
}

static int log_bits(struct pmfs *fs, struct pmfs_tx *tx, uint64_t start, uint64_t len, bool used)
{
	uint64_t end = start + len, w0 = start / 64, w1 = (end - 1) / 64;
	int err;

	err = log_edge_word(fs, tx, w0, start, end, used);
	if (err == 0 && w1 != w0)
		err = log_edge_word(fs, tx, w1, start, end, used);
	if (err == 0 && w1 > w0 + 1) {
		size_t n = (size_t)(w1 - w0 - 1);
		uint64_t *v = malloc(n * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		memset(v, used ? 0xff : 0, n * sizeof(*v));
		err = pmfs_tx_set(tx, &fs->bitmap[w0 + 1], v, n * sizeof(*v));
		free(v);
	}
	return err;
}

/* ---- allocation and free ----------------------------------------------------- */

struct run {
	uint64_t start, len;
};

struct keep_bad {
	struct pmfs_balloc *b;
	uint64_t kept;
};

/* A bad block stays marked in the DRAM map only (badblocks.h): the bitmap
 * on media says free once its file is gone, and nothing hands it out. */
static void mark_bad(void *ctx, uint64_t start, uint64_t len)
{
	struct keep_bad *k = ctx;

	map_fill(k->b->map, start, len, true);
	range_update(k->b, start, len);
	k->kept += len;
}

static void mark_bad_map(void *ctx, uint64_t start, uint64_t len)
{
	map_fill(((struct keep_bad *)ctx)->b->map, start, len, true);
}

static void release_run(struct pmfs *fs, const struct run *r)
{
	struct pmfs_balloc *b = fs->balloc;
	struct keep_bad k = {.b = b};

	pthread_mutex_lock(&b->lock);
	map_fill(b->map, r->start, r->len, false);
	range_update(b, r->start, r->len);
	if (fs->bad)
		pmfs_badblocks_foreach(fs->bad, r->start, r->len, mark_bad, &k);
	__atomic_store_n(&b->free_blocks, b->free_blocks + r->len - k.kept, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&b->lock);
}

/* An allocation stays reserved on commit; abort gives the blocks back. */
static void alloc_done(struct pmfs *fs, void *arg, bool aborted)
{
	if (aborted)
		release_run(fs, arg);
	free(arg);
}

/* A free reaches the DRAM free space only after the tx is applied and its
 * lane cleared (journal.c explains why). */
static void free_done(struct pmfs *fs, void *arg, bool aborted)
{
	if (!aborted)
		release_run(fs, arg);
	free(arg);
}

int pmfs_balloc(struct pmfs *fs, struct pmfs_tx *tx, uint64_t goal, uint64_t want, uint64_t min,
		uint64_t align, uint64_t *pblk, uint64_t *got)
{
	struct pmfs_balloc *b = fs->balloc;
	size_t room = pmfs_tx_room(tx) + sizeof(struct pmfs_jrec);
	struct run *r;
	uint64_t max_len;
	int err;

	if (pmfs_fault_hit())
		return -ENOSPC;
	if (min == 0)
		min = 1;
	if (align == 0)
		align = 1;
	if (want < min)
		return -EINVAL;
	if (room < log_cost(0))
		return -E2BIG;
	max_len = (room - log_cost(0)) / 8 * 64;
	if (max_len < min)
		return -E2BIG;
	if (want > max_len)
		want = max_len;
	r = pmfs_malloc(sizeof(*r));
	if (r == NULL)
		return -ENOMEM;

	pthread_mutex_lock(&b->lock);
	if (!choose_run(b, goal, want, min, align, &r->start, &r->len)) {
		pthread_mutex_unlock(&b->lock);
		free(r);
		return -ENOSPC;
	}
	map_fill(b->map, r->start, r->len, true);
	range_update(b, r->start, r->len);
	__atomic_store_n(&b->free_blocks, b->free_blocks - r->len, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&b->lock);

	err = log_bits(fs, tx, r->start, r->len, true);
	if (err == 0)
		err = pmfs_tx_defer(tx, alloc_done, r);
	if (err) {
		/* The caller aborts tx; records already logged must not commit. */
		release_run(fs, r);
		free(r);
		return err;
	}
	*pblk = r->start;
	*got = r->len;
	return 0;
}

int pmfs_bfree(struct pmfs *fs, struct pmfs_tx *tx, uint64_t pblk, uint64_t count)
{
	struct pmfs_balloc *b = fs->balloc;
	struct run *r;
	bool owned;
	int err;

	if (count == 0)
		return 0;
	if (pblk < b->data_start || pblk >= b->total_blocks - 1 ||
	    count > b->total_blocks - 1 - pblk) {
		pmfs_logf(fs, PMFS_LOG_ERR,
			  "balloc: freeing blocks [%llu, +%llu) outside the data area",
			  (unsigned long long)pblk, (unsigned long long)count);
		return -EUCLEAN;
	}
	pthread_mutex_lock(&b->lock);
	owned = map_all_used(b->map, pblk, count);
	pthread_mutex_unlock(&b->lock);
	if (!owned) {
		pmfs_logf(fs, PMFS_LOG_ERR,
			  "balloc: freeing blocks [%llu, +%llu) that are not in use",
			  (unsigned long long)pblk, (unsigned long long)count);
		return -EUCLEAN;
	}
	if (pmfs_tx_room(tx) + sizeof(struct pmfs_jrec) < log_cost(count))
		return -E2BIG;
	r = pmfs_malloc(sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->start = pblk;
	r->len = count;
	err = log_bits(fs, tx, pblk, count, false);
	if (err == 0)
		err = pmfs_tx_defer(tx, free_done, r);
	if (err)
		free(r);
	return err;
}

uint64_t pmfs_free_blocks(const struct pmfs *fs)
{
	return __atomic_load_n(&fs->balloc->free_blocks, __ATOMIC_RELAXED);
}

int pmfs_balloc_init(struct pmfs *fs)
{
	const struct pmfs_super *sb = fs->sb;
	struct pmfs_balloc *b = calloc(1, sizeof(*b));
	uint64_t words;

	if (b == NULL)
		return -ENOMEM;
	b->total_blocks = sb->total_blocks;
	b->data_start = sb->data_start;
	b->nunits = (sb->total_blocks + UNIT_BLOCKS - 1) / UNIT_BLOCKS;
	for (b->leaves = 1; b->leaves < b->nunits; b->leaves *= 2)
		;
	words = b->nunits * UNIT_WORDS;
	b->map = calloc(words, sizeof(*b->map));
	b->tree = calloc(2 * b->leaves, sizeof(*b->tree));
	if (b->map == NULL || b->tree == NULL) {
		free(b->map);
		free(b->tree);
		free(b);
		return -ENOMEM;
	}
	memcpy(b->map, fs->bitmap, (sb->total_blocks + 7) / 8);
	/* Never hand out metadata or blocks past the end, whatever the bitmap says. */
	map_fill(b->map, sb->total_blocks, words * 64 - sb->total_blocks, true);
	map_fill(b->map, 0, sb->data_start, true);
	map_fill(b->map, sb->total_blocks - 1, 1, true);
	if (fs->bad) {
		struct keep_bad k = {.b = b};

		/* range_update needs the tree: it is built just below */
		pmfs_badblocks_foreach(fs->bad, 0, sb->total_blocks, mark_bad_map, &k);
	}
	for (uint64_t u = 0; u < b->leaves; u++)
		leaf_compute(b, u, &b->tree[b->leaves + u]);
	for (uint64_t i = b->leaves - 1; i >= 1; i--)
		node_merge(b, i);
	for (uint64_t w = 0; w < words; w++)
		b->free_blocks += 64 - (uint64_t)__builtin_popcountll(b->map[w]);
	pthread_mutex_init(&b->lock, NULL);
	fs->balloc = b;
	return 0;
}

void pmfs_balloc_fini(struct pmfs *fs)
{
	struct pmfs_balloc *b = fs->balloc;

	if (b == NULL)
		return;
	pthread_mutex_destroy(&b->lock);
	free(b->map);
	free(b->tree);
	free(b);
	fs->balloc = NULL;
}
