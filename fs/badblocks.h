/*
 * badblocks.h - media errors: the device's list of bad blocks (known
 * poison, read at mount and by fsck), the DRAM list of blocks found bad
 * while mounted, and the guard that turns a SIGBUS in a device data copy
 * into -EIO.  Policy and figures: docs/RELIABILITY.md, "I/O errors".
 */
#ifndef PMEMFS_BADBLOCKS_H
#define PMEMFS_BADBLOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "internal.h"

/* Environment variable naming a file of known bad blocks for devices that
 * have no badblocks source (emulation files, tests).  Format as the
 * kernel's sysfs badblocks: one "SECTOR COUNT" per line, 512-byte sectors,
 * here relative to the start of the device.  It can only take capacity
 * away or refuse a mount, never change what is read or written. */
#define PMFS_BADBLOCKS_ENV "PMEMFS_BADBLOCKS_FILE"

/* A run of bad device blocks [start, start + len). */
struct pmfs_bad_range {
	uint64_t start, len;
};

/* A sorted, merged set of bad block runs, safe to add to concurrently. */
struct pmfs_badblocks {
	pthread_mutex_t lock;
	struct pmfs_bad_range *r;
	size_t n, cap;
	size_t count; /* runs, read without the lock by the fast path */
};

void pmfs_badblocks_init(struct pmfs_badblocks *bb);
void pmfs_badblocks_fini(struct pmfs_badblocks *bb);
/* Adds [start, start + len); 0 or -ENOMEM. */
int pmfs_badblocks_add(struct pmfs_badblocks *bb, uint64_t start, uint64_t len);
/* True when any block of [start, start + len) is bad. */
bool pmfs_badblocks_any(struct pmfs_badblocks *bb, uint64_t start, uint64_t len);
/* Calls fn for each bad run that meets [start, start + len), clipped. */
void pmfs_badblocks_foreach(struct pmfs_badblocks *bb, uint64_t start, uint64_t len,
			    void (*fn)(void *ctx, uint64_t start, uint64_t len), void *ctx);

/*
 * Reads the known bad blocks of the device at path (info from
 * pmfs_device_open) into bb, as device blocks below info->size: for a
 * devdax namespace its region's badblocks through libndctl, translated from
 * region sectors to device offsets; for any device also the file named by
 * $PMEMFS_BADBLOCKS_FILE.  0, or a negative errno (with *why set) when a
 * source exists but cannot be read.  0 with *why set: a warning (the
 * kernel hides the addresses needed to place the namespace's list).
 */
int pmfs_badblocks_read(const char *path, const struct pmfs_device_info *info,
			struct pmfs_badblocks *bb, char *why, size_t len);

/* Mount: loads fs->bad from the device, refuses (-EIO, logged) a bad block
 * in the fixed metadata.  Unmount frees it. */
int pmfs_badblocks_mount(struct pmfs *fs);
/* After journal recovery: refuses (-EIO, logged) a bad block holding an
 * inode's metadata (directory entries, symlink target, extent list,
 * xattrs).  Scans the inode table only when there are bad blocks. */
int pmfs_badblocks_check_inodes(struct pmfs *fs);
void pmfs_badblocks_unmount(struct pmfs *fs);

/* Which fixed metadata area block blk of the file system sb lies in, or
 * NULL for the data area. */
const char *pmfs_badblocks_area(const struct pmfs_super *sb, uint64_t blk);

/* ---- runtime poison: SIGBUS during device data copies ------------------- */

/* Installs the SIGBUS handler (once per process; pmfs_mount calls it).
 * Outside a guarded copy a SIGBUS keeps its default action after a
 * message on stderr: a poisoned metadata line is a crash, and the journal
 * recovers from crashes. */
void pmfs_sigbus_install(void);

enum pmfs_media_op {
	PMFS_MEDIA_READ,     /* memcpy from the device */
	PMFS_MEDIA_WRITE_NT, /* pm_copy_nt to the device */
	PMFS_MEDIA_WRITE,    /* pm_copy to the device */
	PMFS_MEDIA_ZERO,     /* pm_set(0) on the device */
};

/*
 * A data copy to or from the device with SIGBUS caught: 0, or -EIO when
 * [dev, dev + n) holds a known bad block, the copy faulted (the block is
 * then added to fs's bad list and logged) or an EIO fault was injected
 * (fault.h).  dev points into the mapping; src is ignored for ZERO.
 */
int pmfs_media_copy(struct pmfs *fs, enum pmfs_media_op op, void *dst, const void *src, size_t n);

/* memcpy with SIGBUS caught and nothing recorded: 0, or -EFAULT as the
 * kernel's copy would give (the caller probes the pages, as after a
 * writev from the mapping that failed). */
int pmfs_guarded_memcpy(void *dst, const void *src, size_t n);

/* pmfs_media_copy for a write whose source is a callback: fill(ctx, dev, n)
 * runs under the guard; its -EFAULT (the kernel could not store into the
 * mapping) becomes -EIO with the bad page recorded. */
int pmfs_media_fill(struct pmfs *fs, void *dev, size_t n,
		    int (*fill)(void *ctx, void *dst, size_t n), void *ctx);

/* -EIO when [dev, dev + n) of the mapping meets a known bad block (or an
 * EIO fault is injected), else 0: for the reads whose loads the kernel does
 * (the daemon's writev from the mapping). */
int pmfs_media_check(struct pmfs *fs, const void *dev, size_t n);

/* After the kernel failed to copy from the mapping (writev -> EFAULT):
 * touches each page of the iovecs that lie in the device under the guard
 * and adds those that fault to the bad list.  Returns how many were bad. */
unsigned pmfs_media_probe(struct pmfs *fs, const struct iovec *iov, int iovcnt);

#endif /* PMEMFS_BADBLOCKS_H */
