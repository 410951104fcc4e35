/*
 * tree_sig.h - a mounted file system as comparable text, for the tests
 * that check "the state before or the state after" an operation (the core
 * crash-point and fault tests, the crash-state explorer): one line per
 * name (path, type and mode, uid, gid, link count, size, a hash of the
 * contents, xattr names and value hashes, symlink target), sorted.  Two
 * trees are "the same" when their signatures are equal.  atime is always
 * left out: reading the tree may change it.
 */
#ifndef PMEMFS_TREE_SIG_H
#define PMEMFS_TREE_SIG_H

#include "pmemfs.h"

enum {
	/* mtime and ctime: equal only when both states come from one history
	 * (the explorer's trace), not from two runs of the same operation */
	TREE_SIG_TIMES = 1 << 0,
	/* inode numbers: pins down which inode a name reaches */
	TREE_SIG_INO = 1 << 1,
};

/* malloc'd text; NULL (and *err set) when walking the tree failed.  The
 * contents of 'mixed' (a path such as "/f", or NULL) are left out: the
 * caller checks them byte by byte (in-place overwrites are not atomic). */
char *tree_signature_ex(struct pmfs *fs, const char *mixed, unsigned flags, int *err);

#endif
