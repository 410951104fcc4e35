/*
 * tree_sig.c - the core unit tests' tree_signature(): the common walker
 * with inode numbers, failing the test on error.
 */
#include <string.h>

#include "../../common/tree_sig.h"
#include "helpers.h"
#include "tree_sig.h"

char *tree_signature(struct pmfs *fs)
{
	int err;
	char *sig = tree_signature_ex(fs, NULL, TREE_SIG_INO, &err);

	if (!sig)
		fail_msg("tree signature: expected a walk of the tree, found %d (%s)", err,
			 strerror(-err));
	return sig;
}
