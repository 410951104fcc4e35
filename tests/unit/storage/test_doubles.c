/*
 * test_doubles.c - TEST DOUBLES of the namespace layer's mount hooks, so the
 * storage tests can mount (super.c) without fs/icache.c: they keep no
 * inode cache and free no orphans.  Linked only into storage tests, never
 * into the core library.
 */
#include "internal.h"

int pmfs_icache_init(struct pmfs *fs)
{
	(void)fs;
	return 0;
}

void pmfs_icache_fini(struct pmfs *fs)
{
	(void)fs;
}

int pmfs_orphans_recover(struct pmfs *fs, unsigned *freed)
{
	(void)fs;
	*freed = 0;
	return 0;
}

int pmfs_icache_evict_all(struct pmfs *fs)
{
	(void)fs;
	return 0;
}

/* no orphan recovery here, so no direct maps of an earlier daemon */
void pmfs_dmap_restore_stop(struct pmfs *fs)
{
	(void)fs;
}
