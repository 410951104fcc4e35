/*
 * extent.h - per-inode extent maps: the DRAM sorted array used for O(log n)
 * lookups, and the transactional edits that keep the persistent map (inline
 * ext[] plus the overflow chain) equal to it.
 */
#ifndef PMEMFS_EXTENT_H
#define PMEMFS_EXTENT_H

#include <stdbool.h>
#include <stdint.h>

#include "icache.h"

/* One node of the persistent map: node 0 is the inode's ext[] (pblk 0),
 * the others are overflow blocks in chain order. */
struct pmfs_extnode {
	uint64_t pblk;
	uint32_t count;
};

struct pmfs_extmap {
	struct pmfs_extent *e; /* sorted by lblk, non-overlapping */
	uint32_t n, cap;
	struct pmfs_extnode *nodes;
	uint32_t nnodes, nodes_cap;
};

/* Tx room one extent edit may need (overflow nodes rewritten, bitmap). */
#define PMFS_EXTENT_EDIT_ROOM (3 * PMFS_BLOCK_SIZE + 2048)

/* Builds the map from the committed inode on first use (safe under the
 * node's read lock). */
int pmfs_extmap_get(struct pmfs *fs, struct pmfs_node *node, struct pmfs_extmap **out);
/* Is lblk mapped?  Yes: *pblk and *run (blocks to the extent's end).
 * No: *run = blocks up to the next extent (or the format's limit). */
bool pmfs_extmap_lookup(const struct pmfs_extmap *m, uint64_t lblk, uint64_t *pblk, uint64_t *run);
/* Physical block to allocate near for lblk (0: no preference). */
uint64_t pmfs_extmap_goal(const struct pmfs_extmap *m, uint64_t lblk);
/* One past the last mapped logical block (0 if empty). */
uint64_t pmfs_extmap_end(const struct pmfs_extmap *m);

/*
 * Maps the hole [lblk, lblk+len) to pblk.., merging with contiguous
 * neighbours.  Logs the map change in tx and updates si (inline extents,
 * ext_count, ext_overflow, blocks).  The DRAM map changes at once: on an
 * aborted tx the caller must pmfs_node_drop_caches().
 */
int pmfs_extmap_insert(struct pmfs *fs, struct pmfs_tx *tx, struct pmfs_extmap *m,
		       struct pmfs_inode *si, uint64_t lblk, uint64_t len, uint64_t pblk);
/*
 * Unmaps [lblk, end) from its end backwards, freeing the blocks in tx, until
 * done or the tx has less room than PMFS_EXTENT_EDIT_ROOM + chunk bitmap.
 * *left_end: [*left_end, end) is unmapped (== lblk when all done).
 */
int pmfs_extmap_unmap(struct pmfs *fs, struct pmfs_tx *tx, struct pmfs_extmap *m,
		      struct pmfs_inode *si, uint64_t lblk, uint64_t end, uint64_t *left_end);

#endif /* PMEMFS_EXTENT_H */
