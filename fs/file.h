/*
 * file.h - what file.c shares with attr.c: size changes (truncate).
 */
#ifndef PMEMFS_FILE_H
#define PMEMFS_FILE_H

#include <stdint.h>

#include "icache.h"

/*
 * Sets a regular file's size (node write-locked).  Shrinking frees blocks
 * past the new end in as many txs as needed, from the end down, each
 * leaving the file at an intermediate length; the last tx sets the final
 * size, mtime/ctime and whatever apply() changes in the staged inode, so a
 * truncate that fits one tx is atomic with the other attribute changes.
 */
int pmfs_set_size_locked(struct pmfs *fs, struct pmfs_node *node, uint64_t newsize,
			 void (*apply)(struct pmfs_inode *si, void *ctx), void *ctx);

#endif /* PMEMFS_FILE_H */
