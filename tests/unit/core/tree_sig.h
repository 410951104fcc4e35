/*
 * tree_sig.h - the common tree signature (tests/common/tree_sig.h) as the
 * core unit tests use it: inode numbers in, times out (two runs of one
 * operation are compared), any failure fails the running test.
 */
#ifndef PMEMFS_CORE_TREE_SIG_H
#define PMEMFS_CORE_TREE_SIG_H

#include "pmemfs.h"

/* malloc'd; fails the running test if the tree cannot be walked. */
char *tree_signature(struct pmfs *fs);

#endif
