/*
 * hash.h - the directory name hash stored in every struct pmfs_dirent.
 *
 * It is part of the on-media format (docs/FORMAT.md, "Directory slots"):
 * the namespace layer uses it for its DRAM directory index and fsck checks
 * every entry's stored hash against it, so it must never change without a
 * format version bump.
 *
 * FNV-1a, 32 bit, over the name's bytes (no NUL).  0 is never returned (it
 * is mapped to 1) so that a zero hash can mean "no entry" in DRAM tables.
 */
#ifndef PMEMFS_HASH_H
#define PMEMFS_HASH_H

#include <stddef.h>
#include <stdint.h>

#define PMFS_FNV32_OFFSET 2166136261u
#define PMFS_FNV32_PRIME 16777619u

static inline uint32_t pmfs_name_hash(const char *name, size_t len)
{
	uint32_t h = PMFS_FNV32_OFFSET;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= PMFS_FNV32_PRIME;
	}
	return h ? h : 1;
}

#endif /* PMEMFS_HASH_H */
