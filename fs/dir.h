/*
 * dir.h - directory contents: 64-byte slots in the directory's blocks, a
 * DRAM hash index (name hash -> slot) and free-slot maps built on first
 * access, and readdir with stable slot-based offsets.
 *
 * Slot format (docs/FORMAT.md): an entry is a struct pmfs_dirent header and
 * its name in nslots = ceil((16 + name_len) / 64) consecutive slots of one
 * block.  A slot whose first 8 bytes (ino) are zero is free; removing an
 * entry zeroes the ino word of each of its slots.  A directory has no
 * holes: size = blocks * 4096, and it never shrinks while it lives.
 */
#ifndef PMEMFS_DIR_H
#define PMEMFS_DIR_H

#include <stddef.h>
#include <stdint.h>

#include "icache.h"

/* readdir offsets: 0 is ".", 1 is "..", slot s is s + PMFS_DIR_OFF_BASE. */
#define PMFS_DIR_OFF_BASE 2u

struct pmfs_dirindex;

/* Builds the index on first use (safe under the directory's read lock). */
int pmfs_dir_index(struct pmfs *fs, struct pmfs_node *dir, struct pmfs_dirindex **out);
int pmfs_dir_find(struct pmfs *fs, struct pmfs_dirindex *d, const char *name, size_t len,
		  pmfs_ino_t *ino, uint32_t *slot, uint8_t *type);
uint64_t pmfs_dir_entries(const struct pmfs_dirindex *d);
/*
 * Adds an entry in tx (the directory is write-locked; sdir is its staged
 * inode: a new block grows size and the extent map).  DRAM changes at once;
 * on abort the caller drops the directory's caches.
 */
int pmfs_dir_add(struct pmfs *fs, struct pmfs_tx *tx, struct pmfs_node *dir,
		 struct pmfs_inode *sdir, const char *name, size_t len, pmfs_ino_t ino,
		 uint8_t type);
int pmfs_dir_remove(struct pmfs *fs, struct pmfs_tx *tx, struct pmfs_dirindex *d, uint32_t slot);
/* Points an existing entry at another inode (rename over, exchange). */
int pmfs_dir_retarget(struct pmfs *fs, struct pmfs_tx *tx, struct pmfs_dirindex *d, uint32_t slot,
		      pmfs_ino_t ino, uint8_t type);

#endif /* PMEMFS_DIR_H */
