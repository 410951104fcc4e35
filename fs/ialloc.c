/*
 * ialloc.c - inode slots.  The inode table on pmem is the truth (mode != 0
 * means in use); at mount a scan builds a DRAM bitmap of busy slots with a
 * per-chunk count of free ones, so an allocation skips full chunks and scans
 * one chunk's words.  A slot is busy in DRAM while a running transaction has
 * reserved it or freed it without committing yet.  Generations come from a
 * counter that starts above the largest generation found in the table, so
 * an (ino, generation) pair is never reused while the fs is mounted, nor
 * across remounts.
 */
#include <errno.h>
#include <stdlib.h>

#include "fault.h"
#include "internal.h"

#define CHUNK_SLOTS 4096u
#define CHUNK_WORDS (CHUNK_SLOTS / 64)

struct pmfs_ialloc {
	pthread_mutex_t lock;
	uint64_t *busy;	      /* 1 = in use, reserved or being freed */
	uint32_t *chunk_free; /* free slots per chunk */
	uint64_t nchunks;
	uint64_t count;	     /* slots, including unused slot 0 */
	uint64_t cursor;     /* chunk where the last allocation succeeded */
	uint64_t free_slots; /* atomic reads */
	uint32_t generation; /* atomic */
};

static void slot_mark(struct pmfs_ialloc *ia, uint64_t ino, bool busy)
{
	uint64_t bit = 1ULL << (ino % 64);

	if (busy) {
		ia->busy[ino / 64] |= bit;
		ia->chunk_free[ino / CHUNK_SLOTS]--;
		__atomic_store_n(&ia->free_slots, ia->free_slots - 1, __ATOMIC_RELAXED);
	} else {
		ia->busy[ino / 64] &= ~bit;
		ia->chunk_free[ino / CHUNK_SLOTS]++;
		__atomic_store_n(&ia->free_slots, ia->free_slots + 1, __ATOMIC_RELAXED);
	}
}

static int64_t take_slot(struct pmfs_ialloc *ia)
{
	for (uint64_t k = 0; k < ia->nchunks; k++) {
		uint64_t c = (ia->cursor + k) % ia->nchunks;

		if (ia->chunk_free[c] == 0)
			continue;
		for (uint64_t w = c * CHUNK_WORDS; w < (c + 1) * CHUNK_WORDS; w++) {
			if (ia->busy[w] != ~0ULL) {
				uint64_t ino = w * 64 + (uint64_t)__builtin_ctzll(~ia->busy[w]);

				slot_mark(ia, ino, true);
				ia->cursor = c;
				return (int64_t)ino;
			}
		}
	}
	return -ENOSPC;
}

static void release_slot(struct pmfs *fs, pmfs_ino_t ino)
{
	struct pmfs_ialloc *ia = fs->ialloc;

	pthread_mutex_lock(&ia->lock);
	slot_mark(ia, ino, false);
	pthread_mutex_unlock(&ia->lock);
}

static void alloc_done(struct pmfs *fs, void *arg, bool aborted)
{
	if (aborted)
		release_slot(fs, (pmfs_ino_t)(uintptr_t)arg);
}

static void free_done(struct pmfs *fs, void *arg, bool aborted)
{
	if (!aborted)
		release_slot(fs, (pmfs_ino_t)(uintptr_t)arg);
}

int pmfs_ialloc(struct pmfs *fs, struct pmfs_tx *tx, pmfs_ino_t *ino, uint32_t *generation)
{
	struct pmfs_ialloc *ia = fs->ialloc;
	int64_t slot;
	int err;

	if (pmfs_fault_hit())
		return -ENOSPC;
	pthread_mutex_lock(&ia->lock);
	slot = take_slot(ia);
	pthread_mutex_unlock(&ia->lock);
	if (slot < 0)
		return (int)slot;
	err = pmfs_tx_defer(tx, alloc_done, (void *)(uintptr_t)slot);
	if (err) {
		release_slot(fs, (pmfs_ino_t)slot);
		return err;
	}
	*ino = (pmfs_ino_t)slot;
	*generation = __atomic_add_fetch(&ia->generation, 1, __ATOMIC_RELAXED);
	return 0;
}

/*
 * Only mode is logged (0 = free); the rest of the slot keeps stale bytes
 * that nothing reads, and its generation keeps counting up (see above).
 * The slot becomes allocatable after the tx is applied and cleared.
 */
int pmfs_ifree(struct pmfs *fs, struct pmfs_tx *tx, pmfs_ino_t ino)
{
	static const uint32_t zero_mode;
	int err;

	if (ino <= PMFS_ROOT_INO || ino >= fs->ialloc->count)
		return -EINVAL;
	err = pmfs_tx_set(tx, &pmfs_inode_ptr(fs, ino)->mode, &zero_mode, sizeof(zero_mode));
	if (err == 0)
		err = pmfs_tx_defer(tx, free_done, (void *)(uintptr_t)ino);
	return err;
}

uint64_t pmfs_free_inodes(const struct pmfs *fs)
{
	return __atomic_load_n(&fs->ialloc->free_slots, __ATOMIC_RELAXED);
}

int pmfs_ialloc_init(struct pmfs *fs)
{
	struct pmfs_ialloc *ia = calloc(1, sizeof(*ia));
	uint64_t count = fs->sb->inode_count;
	uint32_t max_gen = 0;

	if (ia == NULL)
		return -ENOMEM;
	ia->count = count;
	ia->nchunks = (count + CHUNK_SLOTS - 1) / CHUNK_SLOTS;
	ia->busy = calloc(ia->nchunks * CHUNK_WORDS, sizeof(*ia->busy));
	ia->chunk_free = calloc(ia->nchunks, sizeof(*ia->chunk_free));
	if (ia->busy == NULL || ia->chunk_free == NULL) {
		free(ia->busy);
		free(ia->chunk_free);
		free(ia);
		return -ENOMEM;
	}
	for (uint64_t c = 0; c < ia->nchunks; c++)
		ia->chunk_free[c] = CHUNK_SLOTS;
	ia->free_slots = ia->nchunks * CHUNK_SLOTS;
	/* Slot 0 and the padding past the table are never handed out. */
	slot_mark(ia, 0, true);
	for (uint64_t ino = count; ino < ia->nchunks * CHUNK_SLOTS; ino++)
		slot_mark(ia, ino, true);
	for (uint64_t ino = 1; ino < count; ino++) {
		const struct pmfs_inode *in = pmfs_inode_ptr(fs, ino);

		if (in->generation > max_gen)
			max_gen = in->generation;
		if (in->mode != 0)
			slot_mark(ia, ino, true);
	}
	ia->generation = max_gen;
	pthread_mutex_init(&ia->lock, NULL);
	fs->ialloc = ia;
	return 0;
}

void pmfs_ialloc_fini(struct pmfs *fs)
{
	struct pmfs_ialloc *ia = fs->ialloc;

	if (ia == NULL)
		return;
	pthread_mutex_destroy(&ia->lock);
	free(ia->busy);
	free(ia->chunk_free);
	free(ia);
	fs->ialloc = NULL;
}
