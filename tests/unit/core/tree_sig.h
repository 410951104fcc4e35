/*
 * tree_sig.h - a mounted tree as comparable text, for the core unit tests
 * that check "the state before or the state after" (see tree_sig.c).
 */
#ifndef PMEMFS_CORE_TREE_SIG_H
#define PMEMFS_CORE_TREE_SIG_H

#include "pmemfs.h"

/* malloc'd; fails the running test if the tree cannot be walked. */
char *tree_signature(struct pmfs *fs);

#endif
