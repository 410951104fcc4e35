/*
 * dmap_pin.c - pins of direct maps: which device blocks some application
 * may have mapped, and what happens when the file lets go of them.
 *
 * A grant pins every block of the extents it handed out, until it is
 * released (explicitly, on close of its FUSE file handle, or at unmount).
 * All grants of one file share a pin record: the union of their block
 * ranges, a reference on the file's node (so an unlinked file stays on the
 * orphan list, blocks and all, until the last release) and a "holder".
 *
 * The holder is an inode created unlinked, straight onto the persistent
 * orphan list, when the record is made.  When a truncate, hole punch or
 * zero-range of the pinned file unmaps pinned blocks, extent.c calls
 * pmfs_dmap_bfree() instead of pmfs_bfree(), and those blocks move into
 * the holder's extent map in the same transaction instead of going back
 * to the free space.  Crash-consistency argument:
 *   - the tx that unmaps them from the file maps them in the holder, so
 *     after a crash each block has exactly one owner (file before, holder
 *     after) and its bitmap bit never changes: fsck sees no leak and no
 *     double ownership;
 *   - the holder is on the orphan list from the tx that created it, so
 *     recovery frees it (and the blocks) like any unlinked file; a clean
 *     release frees it through the same orphan code (pmfs_iput);
 *   - nothing else can reach the holder (no name, no FUSE reference), so
 *     the blocks are not reused while the record exists.
 * Pins only grow while a file has grants; they all go at its last release
 * (conservative: a block is never freed too early, possibly late).
 *
 * Locking: the registry mutex comes after node locks and before the
 * journal/allocator.  Every tx that unmaps a file's blocks holds that
 * file's node write lock, and release takes it too, so a record (and its
 * holder) never disappears under a tx that is moving blocks into it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dmap.h"
#include "extent.h"
#include "icache.h"
#include "persist.h"

struct prange {
	uint64_t pblk, count;
};

struct pin_rec {
	struct pin_rec *next;
	struct pmfs *fs;
	pmfs_ino_t ino;
	struct pmfs_node *node; /* the file's node (each grant holds a pin) */
	unsigned grants;
	struct prange *r;
	uint32_t nr, cap;
	pmfs_ino_t holder;
	struct pmfs_node *hnode;  /* one pin, dropped at the last release */
	struct pmfs_tx *stage_tx; /* the tx whose holder edits 'stage' holds */
	struct pmfs_inode stage;
};

struct grant {
	struct grant *next;
	struct pmfs *fs;
	uint64_t id, owner;
	struct pin_rec *rec;
	struct pmfs_dmap_ext *ext;
	uint32_t n;
	uint64_t file_size, map_len;
};

static pthread_mutex_t Lock = PTHREAD_MUTEX_INITIALIZER;
static struct pin_rec *Recs;
static struct grant *Grants;
static uint64_t Next_id = 1;
static unsigned Nrecs; /* atomic: lets unpinned file systems skip the lock */

static struct pin_rec *rec_find(struct pmfs *fs, pmfs_ino_t ino)
{
	for (struct pin_rec *r = Recs; r; r = r->next)
		if (r->fs == fs && r->ino == ino)
			return r;
	return NULL;
}

/*
 * For block b: *pinned and the record, and *run = blocks from b that stay
 * in that state (bounded by limit).
 */
static struct pin_rec *classify(struct pmfs *fs, uint64_t b, uint64_t limit, uint64_t *run)
{
	uint64_t next = b + limit;

	for (struct pin_rec *r = Recs; r; r = r->next) {
		if (r->fs != fs)
			continue;
		for (uint32_t i = 0; i < r->nr; i++) {
			uint64_t s = r->r[i].pblk, e = s + r->r[i].count;

			if (b >= s && b < e) {
				*run = (e - b) < limit ? e - b : limit;
				return r;
			}
			if (s > b && s < next)
				next = s;
		}
	}
	*run = next - b;
	return NULL;
}

bool pmfs_dmap_range_pinned(struct pmfs *fs, uint64_t pblk, uint64_t count)
{
	bool pinned = false;
	uint64_t run;

	if (__atomic_load_n(&Nrecs, __ATOMIC_ACQUIRE) == 0 || count == 0)
		return false;
	pthread_mutex_lock(&Lock);
	while (count && !pinned) {
		pinned = classify(fs, pblk, count, &run) != NULL;
		pblk += run;
		count -= run;
	}
	pthread_mutex_unlock(&Lock);
	return pinned;
}

/* Commit or abort of a tx that edited a holder: the staged copy is stale
 * either way; an aborted edit also left the DRAM map ahead of pmem. */
static void stage_done(struct pmfs *fs, void *arg, bool aborted)
{
	struct pin_rec *rec = arg;

	(void)fs;
	pthread_mutex_lock(&Lock);
	rec->stage_tx = NULL;
	if (aborted) {
		pmfs_node_wrlock(rec->hnode);
		pmfs_node_drop_caches(rec->hnode);
		pmfs_node_unlock(rec->hnode);
	}
	pthread_mutex_unlock(&Lock);
}

/* Maps [pblk, pblk+count) at the end of the holder's map, in tx (the
 * crash argument is at the top of the file).  Registry lock held. */
static int adopt(struct pmfs *fs, struct pmfs_tx *tx, struct pin_rec *rec, uint64_t pblk,
		 uint64_t count)
{
	struct pmfs_extmap *m;
	int err;

	if (rec->stage_tx != tx) {
		err = pmfs_tx_defer(tx, stage_done, rec);
		if (err)
			return err;
		pmfs_inode_stage(fs, rec->holder, &rec->stage);
		rec->stage_tx = tx;
	}
	err = pmfs_extmap_get(fs, rec->hnode, &m);
	if (!err)
		err = pmfs_extmap_insert(fs, tx, m, &rec->stage, pmfs_extmap_end(m), count, pblk);
	if (!err)
		err = pmfs_inode_log(fs, tx, rec->holder, &rec->stage);
	return err;
}

int pmfs_dmap_bfree(struct pmfs *fs, struct pmfs_tx *tx, uint64_t pblk, uint64_t count)
{
	int err = 0;

	if (__atomic_load_n(&Nrecs, __ATOMIC_ACQUIRE) == 0)
		return pmfs_bfree(fs, tx, pblk, count);
	pthread_mutex_lock(&Lock);
	while (count && !err) {
		uint64_t run;
		struct pin_rec *rec = classify(fs, pblk, count, &run);

		if (rec)
			err = adopt(fs, tx, rec, pblk, run);
		else
			err = pmfs_bfree(fs, tx, pblk, run);
		pblk += run;
		count -= run;
	}
	pthread_mutex_unlock(&Lock);
	return err;
}

/*
 * A new unlinked regular file on the orphan list, in one tx: slot taken,
 * inode written, list head pointing at it.  A crash after the commit
 * leaves an empty orphan that recovery frees; before it, nothing.
 */
static int holder_create(struct pmfs *fs, pmfs_ino_t *out, struct pmfs_node **node)
{
	struct pmfs_tx *tx = pmfs_tx_begin(fs);
	struct pmfs_inode si;
	struct timespec now;
	pmfs_ino_t ino = 0;
	uint32_t gen = 0;
	int err;

	if (!tx)
		return -EROFS;
	pthread_mutex_lock(&fs->orphan_lock);
	err = pmfs_ialloc(fs, tx, &ino, &gen);
	if (!err) {
		memset(&si, 0, sizeof(si));
		pmfs_now(&now);
		si.mode = S_IFREG;
		si.generation = gen;
		si.atime_sec = si.mtime_sec = si.ctime_sec = si.btime_sec = now.tv_sec;
		si.atime_nsec = si.mtime_nsec = si.ctime_nsec = si.btime_nsec =
		    (uint32_t)now.tv_nsec;
		si.flags = PMFS_IFL_ORPHAN;
		/* the whole slot first; orphan_add's orphan_next record
		 * comes after it in the log, so replay keeps the link */
		err = pmfs_tx_set(tx, pmfs_inode_ptr(fs, ino), &si, sizeof(si));
	}
	if (!err)
		err = pmfs_orphan_add(fs, tx, ino, &si);
	if (err)
		pmfs_tx_abort(tx);
	else
		err = pmfs_tx_commit(tx);
	pthread_mutex_unlock(&fs->orphan_lock);
	if (err)
		return err;
	*out = ino;
	return pmfs_iget(fs, ino, node);
}

static int add_ranges(struct pin_rec *rec, const struct pmfs_dmap_ext *ext, uint32_t n)
{
	if (rec->nr + n > rec->cap) {
		uint32_t cap = rec->cap ? rec->cap : 8;

		while (cap < rec->nr + n)
			cap *= 2;
		struct prange *r = realloc(rec->r, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		rec->r = r;
		rec->cap = cap;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct prange r = {ext[i].dev_off >> PMFS_BLOCK_SHIFT,
				   ext[i].len >> PMFS_BLOCK_SHIFT};
		bool known = false;

		/* repeated grants of an unchanged file pin the same ranges */
		for (uint32_t j = 0; j < rec->nr && !known; j++)
			known = rec->r[j].pblk == r.pblk && rec->r[j].count == r.count;
		if (!known)
			rec->r[rec->nr++] = r;
	}
	return 0;
}

int pmfs_dmap_pin(struct pmfs *fs, struct pmfs_node *node, uint64_t owner,
		  struct pmfs_dmap_ext *ext, uint32_t n, uint64_t file_size, uint64_t map_len,
		  uint64_t *id)
{
	struct grant *g = calloc(1, sizeof(*g));
	struct pin_rec *rec, *fresh = NULL;
	int err;

	if (!g)
		return -ENOMEM;
	/* grants of one file are made under its write lock: no race here */
	pthread_mutex_lock(&Lock);
	rec = rec_find(fs, node->ino);
	pthread_mutex_unlock(&Lock);
	if (!rec) {
		fresh = calloc(1, sizeof(*fresh));
		if (!fresh) {
			free(g);
			return -ENOMEM;
		}
		err = holder_create(fs, &fresh->holder, &fresh->hnode);
		if (err) {
			free(fresh);
			free(g);
			return err;
		}
		fresh->fs = fs;
		fresh->ino = node->ino;
		fresh->node = node;
		rec = fresh;
	}
	pthread_mutex_lock(&Lock);
	err = add_ranges(rec, ext, n);
	if (!err) {
		*g = (struct grant){Grants, fs, Next_id++, owner, rec, ext, n, file_size, map_len};
		Grants = g;
		*id = g->id;
		rec->grants++;
		if (fresh) {
			fresh->next = Recs;
			Recs = fresh;
			__atomic_fetch_add(&Nrecs, 1, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&Lock);
	if (err) {
		free(g);
		if (fresh) {
			pmfs_iput(fs, fresh->hnode); /* frees the empty holder */
			free(fresh);
		}
	}
	return err;
}

int pmfs_dmap_extents(struct pmfs *fs, uint64_t id, uint64_t owner, uint32_t start,
		      struct pmfs_dmap_ext *out, uint32_t max, uint32_t *total)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&Lock);
	for (struct grant *g = Grants; g; g = g->next) {
		if (g->fs != fs || g->id != id || g->owner != owner)
			continue;
		*total = g->n;
		ret = 0;
		for (uint32_t i = start; i < g->n && (uint32_t)ret < max; i++)
			out[ret++] = g->ext[i];
		break;
	}
	pthread_mutex_unlock(&Lock);
	return ret;
}

bool pmfs_dmap_pinned(struct pmfs *fs, pmfs_ino_t ino)
{
	bool pinned;

	if (__atomic_load_n(&Nrecs, __ATOMIC_ACQUIRE) == 0)
		return false;
	pthread_mutex_lock(&Lock);
	pinned = rec_find(fs, ino) != NULL;
	pthread_mutex_unlock(&Lock);
	return pinned;
}

bool pmfs_dmap_is_holder(struct pmfs *fs, pmfs_ino_t ino)
{
	bool holder = false;

	if (__atomic_load_n(&Nrecs, __ATOMIC_ACQUIRE) == 0)
		return false;
	pthread_mutex_lock(&Lock);
	for (struct pin_rec *r = Recs; r && !holder; r = r->next)
		holder = r->fs == fs && r->holder == ino;
	pthread_mutex_unlock(&Lock);
	return holder;
}

/* 'any' (unmount) means every owner but the restored grants: those stay
 * while their client may map (dmap_restore.c decides at its stop). */
static struct grant *grant_find(struct pmfs *fs, uint64_t id, uint64_t owner, bool any)
{
	for (struct grant *g = Grants; g; g = g->next)
		if (g->fs == fs &&
		    (any ? g->owner != PMFS_DMAP_OWNER_RESTORED : g->owner == owner) &&
		    (id == 0 || g->id == id))
			return g;
	return NULL;
}

/* Removes grant id of owner (any owner, or any grant with id 0, as the
 * flags say).  The file's write lock keeps txs that move blocks into the
 * holder out while the record goes. */
static int release_one(struct pmfs *fs, uint64_t id, uint64_t owner, bool any_owner,
		       pmfs_ino_t *ino)
{
	struct pin_rec *gone = NULL;
	struct pmfs_node *node;
	struct grant *g, **pp;

	pthread_mutex_lock(&Lock);
	g = grant_find(fs, id, owner, any_owner);
	if (!g) {
		pthread_mutex_unlock(&Lock);
		return -ENOENT;
	}
	pmfs_ino_t file = g->rec->ino;
	id = g->id;
	pthread_mutex_unlock(&Lock);

	/* our own pin: a concurrent release of this grant may drop its */
	if (pmfs_iget(fs, file, &node) != 0)
		return -ENOENT;
	pmfs_node_wrlock(node); /* node order before the registry */
	pthread_mutex_lock(&Lock);
	for (pp = &Grants; *pp && (*pp)->id != id; pp = &(*pp)->next)
		;
	g = *pp;
	if (g) {
		*pp = g->next;
		if (--g->rec->grants == 0) {
			struct pin_rec **rp;

			gone = g->rec;
			for (rp = &Recs; *rp != gone; rp = &(*rp)->next)
				;
			*rp = gone->next;
			__atomic_fetch_sub(&Nrecs, 1, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&Lock);
	pmfs_node_unlock(node);
	if (!g) {
		pmfs_iput(fs, node);
		return -ENOENT; /* a concurrent release won */
	}
	if (ino)
		*ino = g->rec->ino;
	if (gone) {
		/* unpinned now: the holder's blocks go back to free space
		 * through the orphan code */
		pmfs_iput(fs, gone->hnode);
		free(gone->r);
		free(gone);
	}
	pmfs_iput(fs, node);
	pmfs_iput(fs, node); /* the grant's pin: may free an unlinked file now */
	free(g->ext);
	free(g);
	return 0;
}

int pmfs_dmap_release(struct pmfs *fs, uint64_t id, uint64_t owner, pmfs_ino_t *ino)
{
	if (id == 0)
		return -ENOENT;
	return release_one(fs, id, owner, false, ino);
}

int pmfs_dmap_release_owner(struct pmfs *fs, uint64_t owner)
{
	int n = 0;

	while (release_one(fs, 0, owner, false, NULL) == 0)
		n++;
	return n;
}

/*
 * Daemon shutdown (SIGTERM stops the daemon without FUSE releases): a
 * grant whose client still maps the file (its lock, dmap_restore.c) must
 * not free anything, so it becomes a restored grant, which unmount leaves
 * on media for the next mount (pmfs_dmap_restore_stop).  A client that
 * had not locked yet is not mapping: its re-check fails (pmemfs_direct.c),
 * as the check here comes after the session's last reply.
 */
void pmfs_dmap_release_all(struct pmfs *fs)
{
	pthread_mutex_lock(&Lock);
	for (struct grant *g = Grants; g; g = g->next)
		if (g->fs == fs && g->owner != PMFS_DMAP_OWNER_RESTORED &&
		    pmfs_dmap_ino_mapped(fs, g->rec->ino))
			g->owner = PMFS_DMAP_OWNER_RESTORED;
	pthread_mutex_unlock(&Lock);
	while (release_one(fs, 0, 0, true, NULL) == 0)
		;
}

/*
 * Unmount with a client still mapping: forgets owner's grants without
 * freeing anything.  Their node pins are never dropped, so the unmount
 * frees neither the file nor the holder: an unlinked file and the holder
 * stay on the persistent orphan list, a linked file keeps its blocks, and
 * the next mount finds them again through the client's lock
 * (dmap_restore.c).  The nodes go with the inode cache.
 */
void pmfs_dmap_abandon_owner(struct pmfs *fs, uint64_t owner)
{
	pthread_mutex_lock(&Lock);
	for (struct grant **pp = &Grants; *pp;) {
		struct grant *g = *pp;

		if (g->fs != fs || g->owner != owner) {
			pp = &g->next;
			continue;
		}
		*pp = g->next;
		if (--g->rec->grants == 0) {
			struct pin_rec **rp;

			for (rp = &Recs; *rp != g->rec; rp = &(*rp)->next)
				;
			*rp = g->rec->next;
			__atomic_fetch_sub(&Nrecs, 1, __ATOMIC_RELEASE);
			free(g->rec->r);
			free(g->rec);
		}
		free(g->ext);
		free(g);
	}
	pthread_mutex_unlock(&Lock);
}
