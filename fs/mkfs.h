/*
 * mkfs.h - formatting a device or an emulation file (fs/mkfs.c); used by
 * mkfs.pmemfs and by tests that need a fresh image.
 */
#ifndef PMEMFS_MKFS_H
#define PMEMFS_MKFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media.h"

struct pmfs_mkfs_opts {
	uint64_t size;		/* file: create or resize to this many bytes; 0 = keep */
	const char *label;	/* NULL = none; at most PMFS_LABEL_MAX - 1 bytes */
	bool force;		/* overwrite an existing pmemfs */
	uint64_t inodes;	/* inode slots; 0 = one per 16 KiB */
	uint32_t journal_lanes; /* 0 = by device size */
	uint32_t lane_blocks;	/* 0 = by device size */
	uint64_t device_align;	/* files only: recorded alignment, 0 = 2 MiB */
	unsigned busy_wait_ms;	/* how long a lock held by another user is retried */
	/* NULL, or called once every check has passed, before the first byte
	 * is written (mkfs.pmemfs --force erases another file system's
	 * signatures there, so a refused mkfs leaves them).  A negative errno
	 * stops mkfs; the hook writes why into msg. */
	int (*before_write)(void *arg, char *msg, size_t msg_size);
	void *before_write_arg;
};

struct pmfs_mkfs_result {
	struct pmfs_super sb; /* what was written */
	bool is_devdax;
	char msg[256]; /* why it failed, for the user */
};

/* Defaults used when opts leaves them 0. */
#define PMFS_MKFS_BYTES_PER_INODE (16u * 1024)
#define PMFS_MKFS_FILE_ALIGN (2u * 1024 * 1024)

/*
 * Formats 'path'.  Returns 0, or a negative errno with res->msg set:
 * -EEXIST (holds a pmemfs and !force), -ENOSPC (too small), -EBUSY (in use),
 * -ENODEV (block device, e.g. fsdax), -EMEDIUMTYPE (character device that
 * is not devdax), -EINVAL (bad option).
 */
int pmfs_mkfs(const char *path, const struct pmfs_mkfs_opts *opts, struct pmfs_mkfs_result *res);

/* The geometry pmfs_mkfs would write for a device of 'size' bytes. */
int pmfs_mkfs_geometry(uint64_t size, uint64_t align, const struct pmfs_mkfs_opts *opts,
		       struct pmfs_super *sb, char *msg, size_t msglen);

#endif /* PMEMFS_MKFS_H */
