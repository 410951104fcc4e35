/*
 * dmap.h - the core side of direct maps (docs/DIRECT-MAP.md): preparing a
 * file so each of its extents can be mmap()ed from the device on its own
 * (holes allocated, extents device-aligned), and pinning those extents so
 * no block an application may still have mapped is freed or reused.
 *
 * dmap.c prepares and lists; dmap_pin.c keeps the pins; dmap_restore.c
 * re-creates them at mount for mappings that outlived their daemon.  Grants belong to
 * an owner (the daemon uses the FUSE file handle) and are released by id,
 * by owner (close) or all at once (unmount).  Knows nothing about FUSE.
 */
#ifndef PMEMFS_DMAP_H
#define PMEMFS_DMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "pmemfs.h"

struct pmfs_tx;

/* len bytes of the file from file_off live at device byte dev_off. */
struct pmfs_dmap_ext {
	uint64_t file_off;
	uint64_t dev_off;
	uint64_t len;
};

struct pmfs_dmap_dev {
	const char *path; /* as given at mount (may be relative) */
	int fd;		  /* the daemon's open fd of it: its true identity */
	bool is_devdax;
	uint64_t size;	/* bytes */
	uint64_t align; /* bytes, the alignment mkfs recorded */
	uint8_t uuid[16];
};

struct pmfs_dmap_grant_info {
	uint64_t grant;	    /* id for pmfs_dmap_extents / pmfs_dmap_release */
	uint64_t file_size; /* size at grant time */
	uint64_t map_len;   /* file_size rounded up to the alignment */
	uint32_t total;	    /* extents */
};

void pmfs_dmap_device(const struct pmfs *fs, struct pmfs_dmap_dev *dev);

/*
 * Makes the whole file directly mappable and pins its extents for 'owner'.
 * -EINVAL: not a regular file or empty; -EBUSY: a misaligned part is
 * pinned by someone else; -ENOSPC: no aligned space to move data to.
 */
int pmfs_dmap_grant(struct pmfs *fs, pmfs_ino_t ino, uint64_t owner,
		    struct pmfs_dmap_grant_info *info);
/* Copies up to max extents of a grant from index start; *total = all. */
int pmfs_dmap_extents(struct pmfs *fs, uint64_t grant, uint64_t owner, uint32_t start,
		      struct pmfs_dmap_ext *out, uint32_t max, uint32_t *total);
/* Drops one grant (*ino: its file).  -ENOENT if owner has no such grant. */
int pmfs_dmap_release(struct pmfs *fs, uint64_t grant, uint64_t owner, pmfs_ino_t *ino);
/* Drops every grant of owner; returns how many. */
int pmfs_dmap_release_owner(struct pmfs *fs, uint64_t owner);
/* Daemon shutdown: drops every grant of fs, except those a client still
 * maps (they stay on media for the next mount, see dmap_pin.c). */
void pmfs_dmap_release_all(struct pmfs *fs);
/* Does any grant pin this inode's blocks? */
bool pmfs_dmap_pinned(struct pmfs *fs, pmfs_ino_t ino);
/* Is ino the holder of some pinned file? */
bool pmfs_dmap_is_holder(struct pmfs *fs, pmfs_ino_t ino);

/*
 * The owner of grants restored at mount for clients of an earlier daemon
 * (dmap_restore.c); never a FUSE file handle (its access-mode bits are 3).
 * pmfs_dmap_release_all leaves them alone.
 */
#define PMFS_DMAP_OWNER_RESTORED UINT64_MAX
/* Forgets owner's grants without freeing anything (unmount, see .c). */
void pmfs_dmap_abandon_owner(struct pmfs *fs, uint64_t owner);

/* ---- dmap_restore.c: mappings that outlived their daemon ---------------- */
/* Mount, before orphan recovery: pins what live client locks name. */
int pmfs_dmap_restore(struct pmfs *fs);
/* Does a client still announce a mapping of ino (its lock)?  Errors: yes. */
bool pmfs_dmap_ino_mapped(struct pmfs *fs, pmfs_ino_t ino);
/* Orphan recovery: must this orphan stay (a live mapping may use it)? */
bool pmfs_dmap_orphan_kept(struct pmfs *fs, pmfs_ino_t ino);
/* After orphan recovery: starts the poller if anything is kept. */
void pmfs_dmap_restore_start(struct pmfs *fs);
/* One poll round now (the poller does one a second); returns how many
 * restored grants and kept orphans are left. */
uint32_t pmfs_dmap_restore_poll(struct pmfs *fs);
/* Unmount first, or a failed mount: stops the poller, frees what is no
 * longer mapped, leaves the rest on media for the next mount. */
void pmfs_dmap_restore_stop(struct pmfs *fs);

/* ---- dmap_pin.c: used by dmap.c and by extent.c ------------------------- */
/*
 * Frees [pblk, pblk+count) in tx like pmfs_bfree, except blocks a grant
 * pins: those move (in the same tx) to the pinned file's holder, an
 * unlinked inode on the orphan list, freed at the last release or by
 * recovery.  extent.c's unmap calls this instead of pmfs_bfree.
 */
int pmfs_dmap_bfree(struct pmfs *fs, struct pmfs_tx *tx, uint64_t pblk, uint64_t count);
/* Is any block of [pblk, pblk+count) pinned? */
bool pmfs_dmap_range_pinned(struct pmfs *fs, uint64_t pblk, uint64_t count);

/* ---- dmap.c: used by dmap_restore.c ----------------------------------- */
struct pmfs_extmap;
/* The extents mapped in [0, end) blocks of m, in bytes, adjacent ones
 * merged, in *out (malloc'd, *n of them).  A hole is skipped if holes,
 * else -EIO. */
int pmfs_dmap_ext_list(const struct pmfs_extmap *m, uint64_t end, bool holes,
		       struct pmfs_dmap_ext **out, uint32_t *n);

struct pmfs_node;
/* Pins node's extents ext[0..n) for a new grant of owner (takes over the
 * caller's node reference).  *grant gets the id. */
int pmfs_dmap_pin(struct pmfs *fs, struct pmfs_node *node, uint64_t owner,
		  struct pmfs_dmap_ext *ext, uint32_t n, uint64_t file_size, uint64_t map_len,
		  uint64_t *grant);

#endif /* PMEMFS_DMAP_H */
