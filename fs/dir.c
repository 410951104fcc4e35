/*
 * dir.c - directory slots, the DRAM directory index and readdir.
 *
 * The index makes lookup, insert and delete independent of directory size:
 * an open-addressing table (linear probing, backward-shift deletion) maps a
 * name hash to slot numbers, names are compared in pmem; each block has a
 * 64-bit free-slot mask, and hint[n] remembers the first block that may
 * hold n free consecutive slots.  It is built by one scan of the blocks on
 * first access and updated in place by every change (under the directory's
 * write lock; an aborted tx drops it, the next access rebuilds it).
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dir.h"
#include "extent.h"
#include "fault.h"
#include "hash.h"
#include "persist.h"

#define MAX_NSLOTS 5u /* ceil((16 + 255) / 64) */

struct hslot {
	uint32_t hash;
	uint32_t slot1; /* slot + 1; 0 = empty */
};

struct pmfs_dirindex {
	struct hslot *tab;
	uint32_t mask, used;
	uint64_t *freemap; /* per block: bit s set = slot s free */
	uint64_t *pblk;	   /* per block: device block */
	uint32_t nblocks, blocks_cap;
	uint32_t hint[MAX_NSLOTS + 1];
	uint64_t nentries;
};

static uint32_t nslots_for(size_t len)
{
	return (uint32_t)((sizeof(struct pmfs_dirent) + len + PMFS_DIRENT_SLOT - 1) /
			  PMFS_DIRENT_SLOT);
}

static struct pmfs_dirent *slot_ptr(struct pmfs *fs, const struct pmfs_dirindex *d, uint32_t slot)
{
	char *blk = pmfs_block(fs, d->pblk[slot / PMFS_SLOTS_PER_BLOCK]);

	return (struct pmfs_dirent *)(blk + (slot % PMFS_SLOTS_PER_BLOCK) * PMFS_DIRENT_SLOT);
}

void pmfs_dirindex_free(struct pmfs_dirindex *d)
{
	if (!d)
		return;
	free(d->tab);
	free(d->freemap);
	free(d->pblk);
	free(d);
}

uint64_t pmfs_dir_entries(const struct pmfs_dirindex *d)
{
	return d->nentries;
}

static void tab_put(struct hslot *tab, uint32_t mask, uint32_t hash, uint32_t slot1)
{
	uint32_t i = hash & mask;

	while (tab[i].slot1)
		i = (i + 1) & mask;
	tab[i].hash = hash;
	tab[i].slot1 = slot1;
}

static int tab_insert(struct pmfs_dirindex *d, uint32_t hash, uint32_t slot)
{
	if ((uint64_t)(d->used + 1) * 2 > (uint64_t)d->mask + 1) {
		uint32_t nsize = (d->mask + 1) * 2;
		struct hslot *nt = pmfs_calloc(nsize, sizeof(*nt));

		if (!nt)
			return -ENOMEM;
		for (uint32_t i = 0; i <= d->mask; i++)
			if (d->tab[i].slot1)
				tab_put(nt, nsize - 1, d->tab[i].hash, d->tab[i].slot1);
		free(d->tab);
		d->tab = nt;
		d->mask = nsize - 1;
	}
	tab_put(d->tab, d->mask, hash, slot + 1);
	d->used++;
	return 0;
}

static void tab_remove(struct pmfs_dirindex *d, uint32_t hash, uint32_t slot)
{
	uint32_t i = hash & d->mask, j;

	while (d->tab[i].slot1 && d->tab[i].slot1 != slot + 1)
		i = (i + 1) & d->mask;
	if (!d->tab[i].slot1)
		return;
	/* backward-shift: keep every later key reachable from its home */
	j = i;
	for (;;) {
		uint32_t k;

		j = (j + 1) & d->mask;
		if (!d->tab[j].slot1)
			break;
		k = d->tab[j].hash & d->mask;
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			d->tab[i] = d->tab[j];
			i = j;
		}
	}
	d->tab[i].slot1 = 0;
	d->used--;
}

static int grow_blocks(struct pmfs_dirindex *d, uint32_t need)
{
	if (need <= d->blocks_cap)
		return 0;
	uint32_t cap = d->blocks_cap ? d->blocks_cap * 2 : 8;
	while (cap < need)
		cap *= 2;
	uint64_t *fm = pmfs_realloc(d->freemap, cap * sizeof(*fm));
	if (!fm)
		return -ENOMEM;
	d->freemap = fm;
	uint64_t *pb = pmfs_realloc(d->pblk, cap * sizeof(*pb));
	if (!pb)
		return -ENOMEM;
	d->pblk = pb;
	d->blocks_cap = cap;
	return 0;
}

static int index_build(struct pmfs *fs, struct pmfs_node *dir, struct pmfs_dirindex **out)
{
	const struct pmfs_inode *di = pmfs_inode_get(fs, dir->ino);
	struct pmfs_dirindex *d = pmfs_calloc(1, sizeof(*d));
	struct pmfs_extmap *m;
	int err;

	if (!d)
		return -ENOMEM;
	d->tab = pmfs_calloc(16, sizeof(*d->tab));
	d->mask = 15;
	err = d->tab ? pmfs_extmap_get(fs, dir, &m) : -ENOMEM;
	/* a directory has no holes: its size is what its extents map */
	if (!err &&
	    (di->size % PMFS_BLOCK_SIZE || di->size / PMFS_BLOCK_SIZE > pmfs_extmap_end(m) ||
	     di->size / PMFS_BLOCK_SIZE >= UINT32_MAX / PMFS_SLOTS_PER_BLOCK))
		err = -EIO;
	if (!err)
		err = grow_blocks(d, (uint32_t)(di->size / PMFS_BLOCK_SIZE));
	if (err)
		goto fail;
	d->nblocks = (uint32_t)(di->size / PMFS_BLOCK_SIZE);
	for (uint32_t b = 0; b < d->nblocks; b++) {
		uint64_t run;

		if (!pmfs_extmap_lookup(m, b, &d->pblk[b], &run)) {
			err = -EIO;
			goto fail;
		}
		d->freemap[b] = 0;
		for (uint32_t s = 0; s < PMFS_SLOTS_PER_BLOCK;) {
			uint32_t slot = b * PMFS_SLOTS_PER_BLOCK + s;
			const struct pmfs_dirent *de = slot_ptr(fs, d, slot);

			if (de->ino == 0) {
				d->freemap[b] |= 1ULL << s;
				s++;
				continue;
			}
			if (de->nslots == 0 || s + de->nslots > PMFS_SLOTS_PER_BLOCK ||
			    nslots_for(de->name_len) != de->nslots) {
				err = -EIO;
				goto fail;
			}
			err = tab_insert(d, de->hash, slot);
			if (err)
				goto fail;
			d->nentries++;
			s += de->nslots;
		}
	}
	*out = d;
	return 0;
fail:
	pmfs_logf(fs, PMFS_LOG_ERR, "directory %llu: cannot index (%d)",
		  (unsigned long long)dir->ino, err);
	pmfs_dirindex_free(d);
	return err;
}

int pmfs_dir_index(struct pmfs *fs, struct pmfs_node *dir, struct pmfs_dirindex **out)
{
	struct pmfs_dirindex *d = __atomic_load_n(&dir->dirindex, __ATOMIC_ACQUIRE);
	int err = 0;

	if (d) {
		*out = d;
		return 0;
	}
	pthread_mutex_lock(&dir->build_lock);
	d = dir->dirindex;
	pthread_mutex_unlock(&dir->build_lock);
	if (!d) {
		/* index_build takes build_lock itself (through the extent map) */
		err = index_build(fs, dir, &d);
		if (err)
			return err;
		pthread_mutex_lock(&dir->build_lock);
		if (dir->dirindex) {
			pmfs_dirindex_free(d);
			d = dir->dirindex;
		} else {
			__atomic_store_n(&dir->dirindex, d, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&dir->build_lock);
	}
	*out = d;
	return 0;
}

int pmfs_dir_find(struct pmfs *fs, struct pmfs_dirindex *d, const char *name, size_t len,
		  pmfs_ino_t *ino, uint32_t *slot, uint8_t *type)
{
	uint32_t h = pmfs_name_hash(name, len);

	for (uint32_t i = h & d->mask; d->tab[i].slot1; i = (i + 1) & d->mask) {
		const struct pmfs_dirent *de;

		if (d->tab[i].hash != h)
			continue;
		de = slot_ptr(fs, d, d->tab[i].slot1 - 1);
		if (de->name_len == len && memcmp(de->name, name, len) == 0) {
			*ino = de->ino;
			if (slot)
				*slot = d->tab[i].slot1 - 1;
			if (type)
				*type = de->type;
			return 0;
		}
	}
	return -ENOENT;
}

/* Lowest slot s of a run of n free slots in mask, or -1. */
static int free_run(uint64_t mask, uint32_t n)
{
	uint64_t m = mask;

	for (uint32_t k = 1; k < n; k++)
		m &= mask >> k;
	return m ? __builtin_ctzll(m) : -1;
}

/*
 * A new block is zeroed with plain persistent stores before the tx that
 * links it commits (and a fence between them): until then nothing points
 * at it, and a crash leaves it free in the bitmap.
 */
static int add_block(struct pmfs *fs, struct pmfs_tx *tx, struct pmfs_node *dir,
		     struct pmfs_dirindex *d, struct pmfs_inode *sdir)
{
	struct pmfs_extmap *m;
	uint64_t pblk, got, goal;
	int err = pmfs_extmap_get(fs, dir, &m);

	if (!err)
		err = grow_blocks(d, d->nblocks + 1);
	if (err)
		return err;
	if (sdir->size / PMFS_BLOCK_SIZE >= UINT32_MAX / PMFS_SLOTS_PER_BLOCK)
		return -ENOSPC;
	goal = pmfs_extmap_goal(m, d->nblocks);
	err = pmfs_balloc(fs, tx, goal, 1, 1, 1, &pblk, &got);
	if (err)
		return err;
	pm_set(pmfs_block(fs, pblk), 0, PMFS_BLOCK_SIZE);
	pm_fence();
	err = pmfs_extmap_insert(fs, tx, m, sdir, d->nblocks, 1, pblk);
	if (err)
		return err;
	sdir->size += PMFS_BLOCK_SIZE;
	d->pblk[d->nblocks] = pblk;
	d->freemap[d->nblocks] = ~0ULL;
	d->nblocks++;
	return 0;
}

int pmfs_dir_add(struct pmfs *fs, struct pmfs_tx *tx, struct pmfs_node *dir,
		 struct pmfs_inode *sdir, const char *name, size_t len, pmfs_ino_t ino,
		 uint8_t type)
{
	struct pmfs_dirindex *d;
	uint32_t n = nslots_for(len), b, slot;
	int s = -1, err = pmfs_dir_index(fs, dir, &d);
	char buf[MAX_NSLOTS * PMFS_DIRENT_SLOT];
	struct pmfs_dirent *de = (struct pmfs_dirent *)buf;

	if (err)
		return err;
	for (b = d->hint[n]; b < d->nblocks; b++) {
		s = free_run(d->freemap[b], n);
		if (s >= 0)
			break;
	}
	d->hint[n] = b;
	if (s < 0) {
		err = add_block(fs, tx, dir, d, sdir);
		if (err)
			return err;
		b = d->nblocks - 1;
		s = 0;
	}
	slot = b * PMFS_SLOTS_PER_BLOCK + (uint32_t)s;
	memset(buf, 0, sizeof(struct pmfs_dirent));
	de->ino = ino;
	de->hash = pmfs_name_hash(name, len);
	de->name_len = (uint8_t)len;
	de->type = type;
	de->nslots = (uint8_t)n;
	memcpy(de->name, name, len);
	/* The whole entry is one record: it appears atomically at commit. */
	err = pmfs_tx_set(tx, slot_ptr(fs, d, slot), buf, sizeof(*de) + len);
	if (err)
		return err;
	err = tab_insert(d, de->hash, slot);
	if (err)
		return err;
	d->freemap[b] &= ~(((n == 64) ? ~0ULL : ((1ULL << n) - 1)) << s);
	d->nentries++;
	return 0;
}

int pmfs_dir_remove(struct pmfs *fs, struct pmfs_tx *tx, struct pmfs_dirindex *d, uint32_t slot)
{
	const struct pmfs_dirent *de = slot_ptr(fs, d, slot);
	uint32_t n = de->nslots, b = slot / PMFS_SLOTS_PER_BLOCK, s = slot % PMFS_SLOTS_PER_BLOCK;
	static const uint64_t zero;
	int err;

	/* Every slot's ino word is zeroed in the same tx, so a later scan
	 * sees n free slots and never a stale name fragment as an entry. */
	for (uint32_t k = 0; k < n; k++) {
		err = pmfs_tx_set(tx, slot_ptr(fs, d, slot + k), &zero, sizeof(zero));
		if (err)
			return err;
	}
	tab_remove(d, de->hash, slot);
	d->freemap[b] |= ((1ULL << n) - 1) << s;
	d->nentries--;
	for (uint32_t k = 1; k <= MAX_NSLOTS; k++)
		if (d->hint[k] > b)
			d->hint[k] = b;
	return 0;
}

int pmfs_dir_retarget(struct pmfs *fs, struct pmfs_tx *tx, struct pmfs_dirindex *d, uint32_t slot,
		      pmfs_ino_t ino, uint8_t type)
{
	struct pmfs_dirent *de = slot_ptr(fs, d, slot);
	uint64_t v = ino;
	int err = pmfs_tx_set(tx, &de->ino, &v, sizeof(v));

	if (!err)
		err = pmfs_tx_set(tx, &de->type, &type, 1);
	return err;
}

/* ---- readdir ------------------------------------------------------------ */

static int emit_entry(struct pmfs *fs, pmfs_ino_t ino, uint8_t type, const char *name, bool plus,
		      bool take_ref, uint64_t next, pmfs_filldir_fn fill, void *ctx)
{
	struct stat st;
	struct pmfs_node *child = NULL;
	int ret;

	if (plus) {
		int err = pmfs_iget(fs, ino, &child);

		if (err)
			return err;
		pmfs_node_rdlock(child);
		pmfs_inode_to_stat(ino, pmfs_inode_get(fs, ino), &st);
		pmfs_node_unlock(child);
	} else {
		memset(&st, 0, sizeof(st));
		st.st_ino = ino;
		st.st_mode = (mode_t)type << 12;
	}
	ret = fill(ctx, name, &st, next);
	if (child) {
		if (ret == 0 && take_ref)
			pmfs_node_add_lookup(fs, child);
		pmfs_iput(fs, child);
	}
	return ret;
}

int pmfs_readdir(struct pmfs *fs, pmfs_ino_t ino, uint64_t off, bool plus, pmfs_filldir_fn fill,
		 void *ctx)
{
	struct pmfs_node *dir;
	struct pmfs_dirindex *d;
	const struct pmfs_inode *di;
	int err = pmfs_iget(fs, ino, &dir), ret = 0;

	if (err)
		return err;
	pmfs_node_rdlock(dir);
	di = pmfs_inode_get(fs, ino);
	if (!S_ISDIR(di->mode)) {
		err = -ENOTDIR;
		goto out;
	}
	err = pmfs_dir_index(fs, dir, &d);
	if (err)
		goto out;
	if (off == 0) {
		ret = emit_entry(fs, ino, DT_DIR, ".", plus, false, 1, fill, ctx);
		if (ret)
			goto done;
		off = 1;
	}
	if (off == 1) {
		pmfs_ino_t parent = di->rdev_or_parent ? di->rdev_or_parent : ino;

		ret =
		    emit_entry(fs, parent, DT_DIR, "..", plus, false, PMFS_DIR_OFF_BASE, fill, ctx);
		if (ret)
			goto done;
		off = PMFS_DIR_OFF_BASE;
	}
	for (uint64_t b = (off - PMFS_DIR_OFF_BASE) / PMFS_SLOTS_PER_BLOCK; b < d->nblocks; b++) {
		/* scan from the block start so a resume offset that now falls
		 * inside a newer, longer entry skips it instead of misparsing */
		for (uint32_t s = 0; s < PMFS_SLOTS_PER_BLOCK;) {
			uint32_t slot = (uint32_t)b * PMFS_SLOTS_PER_BLOCK + s;
			const struct pmfs_dirent *de = slot_ptr(fs, d, slot);
			char name[PMFS_NAME_MAX + 1];

			if (de->ino == 0) {
				s++;
				continue;
			}
			s += de->nslots;
			if (slot + PMFS_DIR_OFF_BASE < off)
				continue;
			memcpy(name, de->name, de->name_len);
			name[de->name_len] = '\0';
			ret =
			    emit_entry(fs, de->ino, de->type, name, plus, true,
				       (uint64_t)slot + de->nslots + PMFS_DIR_OFF_BASE, fill, ctx);
			if (ret)
				goto done;
		}
	}
done:
	err = ret < 0 ? ret : 0;
out:
	pmfs_node_unlock(dir);
	pmfs_iput(fs, dir);
	return err;
}
