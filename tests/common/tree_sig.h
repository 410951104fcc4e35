/*
 * tree_sig.h - the oracle's view of a mounted file system: one text line
 * per name (path, type and mode, uid, gid, link count, size, a hash of the
 * contents, mtime and ctime, xattr names and value hashes, symlink target),
 * sorted.  Two trees are "the same" for the explorer when their signatures
 * are equal.  atime is left out: reading the tree may change it.
 */
#ifndef PMEMFS_TREE_SIG_H
#define PMEMFS_TREE_SIG_H

#include "pmemfs.h"

/* malloc'd text; NULL (and *err set) when walking the tree failed.  The
 * contents of 'mixed' (a path such as "/f", or NULL) are left out: the
 * caller checks them byte by byte (in-place overwrites are not atomic). */
char *tree_signature(struct pmfs *fs, const char *mixed, int *err);

#endif
