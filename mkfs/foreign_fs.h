/*
 * foreign_fs.h - another file system's or a partition table's signature
 * on a file or block device (libblkid).
 */
#ifndef PMEMFS_FOREIGN_FS_H
#define PMEMFS_FOREIGN_FS_H

#include <stddef.h>

/* 1 and 'what' ("a file system (ext4)", "a partition table (dos)") if path
 * holds one; 0 if not, or path does not exist or is not a file or block
 * device; -errno if it cannot be read. */
int pmfs_foreign_signature(const char *path, char *what, size_t what_size);

/* Erases every such signature (a forced mkfs, before it writes). */
int pmfs_wipe_foreign(const char *path);

#endif /* PMEMFS_FOREIGN_FS_H */
