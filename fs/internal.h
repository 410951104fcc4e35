/*
 * internal.h - what the core's modules share: the mounted-fs struct and the
 * interfaces between the storage layer (device, persist, journal, balloc,
 * ialloc, super) and the namespace/file layer (icache, extent, file, dir,
 * namei, xattr, orphan).  Not installed; never included outside fs/, mkfs/
 * and tests/.
 *
 * The one rule that keeps the journal honest: pmem holds the committed
 * state only.  A transaction stages new values in DRAM and logs them with
 * pmfs_tx_set(); they reach their home locations at commit.  Code that
 * reads back something it changed in the same transaction reads its own
 * DRAM copy, never pmem.
 */
#ifndef PMEMFS_INTERNAL_H
#define PMEMFS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "media.h"
#include "pmemfs.h"

struct pmfs_journal;
struct pmfs_balloc;
struct pmfs_ialloc;
struct pmfs_icache;
struct pmfs_badblocks;

/* What device.c learnt about the backing store. */
struct pmfs_device_info {
	uint64_t size;		/* usable bytes */
	uint64_t align;		/* devdax alignment, or 4096 for a file */
	bool is_devdax;
	char region[64];	/* devdax: region name, e.g. "region0" */
	char persistence_domain[32]; /* devdax: from libndctl, else "" */
};

struct pmfs {
	/* The whole device, mapped once. */
	char *base;
	uint64_t size;
	bool is_devdax;
	bool is_pmem;
	int dev_fd;			/* kept open and locked for the mount's life */
	char *dev_path;

	const struct pmfs_super *sb;	/* validated copy in use (primary or backup) */
	struct pmfs_super sb_copy;
	struct pmfs_state *state;	/* block 1 on the device */
	struct pmfs_inode *itable;	/* inode slot i at itable[i] */
	uint64_t *bitmap;		/* on the device */

	bool read_only;
	bool used_backup_sb;		/* the primary superblock was invalid */
	struct pmfs_device_info dev_info;
	pmfs_log_fn log;
	void *log_ctx;

	struct pmfs_journal *journal;
	struct pmfs_balloc *balloc;
	struct pmfs_ialloc *ialloc;
	struct pmfs_icache *icache;
	struct pmfs_badblocks *bad;	/* known and found bad blocks (badblocks.h) */
	pthread_mutex_t orphan_lock;	/* orders updates of the orphan list */
};

/* Address of a block or a byte offset on the device. */
static inline void *pmfs_block(const struct pmfs *fs, uint64_t blk)
{
	return fs->base + (blk << PMFS_BLOCK_SHIFT);
}
static inline uint64_t pmfs_offset_of(const struct pmfs *fs, const void *p)
{
	return (uint64_t)((const char *)p - fs->base);
}

void pmfs_logf(const struct pmfs *fs, enum pmfs_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* util.c: CRC32C (Castagnoli); pass 0 to start, the last result to go on. */
uint32_t pmfs_crc32c(uint32_t crc, const void *buf, size_t len);

/* ---- superblock.c: checksum, validation, primary/backup choice ----------- */
#define PMFS_MIN_BLOCKS 16u	 /* smallest file system mount accepts */
#define PMFS_MAX_LANES 1024u
#define PMFS_MAX_LANE_BLOCKS 4096u /* 16 MiB per lane */
/* Smallest lane mkfs makes and mount accepts: the largest transaction the
 * core needs must fit in one lane, or the work it does never progresses
 * (docs/FORMAT.md, journal).  The largest is a step of freeing blocks
 * (fs/extent.c pmfs_extmap_unmap wants PMFS_EXTENT_EDIT_ROOM + 3 KiB, then
 * the inode): about 17.5 KiB; a _Static_assert in fs/extent.c keeps it so. */
#define PMFS_MIN_LANE_BLOCKS 5u
uint32_t pmfs_super_csum(const struct pmfs_super *sb);
/* 0, or -EINVAL (magic), -EBADMSG (checksum), -EOPNOTSUPP (newer version or
 * unknown incompat feature), -EUCLEAN (geometry); 'why' says which. */
int pmfs_super_check(const struct pmfs_super *sb, uint64_t device_size, char *why, size_t len);
/* Copies the valid superblock (primary, else backup in the device's last
 * block) to *out. */
int pmfs_super_read(const char *base, uint64_t device_size, struct pmfs_super *out,
		    bool *used_backup, char *why, size_t len);

/* ---- journal.c: redo-log transactions over the journal lanes ------------ */
struct pmfs_tx;
/* Takes a free lane (waits if all are busy).  Never fails on a writable fs;
 * NULL on a read-only one.  A thread never holds two transactions at once
 * (lanes are finite: waiting for a lane while holding one can deadlock). */
struct pmfs_tx *pmfs_tx_begin(struct pmfs *fs);
/* Logs "at commit, copy len bytes of src to pmem_dst".  -E2BIG when the
 * lane has no room; the caller aborts or splits its work into
 * transactions that are each crash-consistent on their own. */
int pmfs_tx_set(struct pmfs_tx *tx, void *pmem_dst, const void *src, size_t len);
/* Logs an atomic bit operation on one 64-bit word (bitmap updates from
 * concurrent transactions commute this way). */
int pmfs_tx_or64(struct pmfs_tx *tx, uint64_t *pmem_word, uint64_t mask);
int pmfs_tx_andn64(struct pmfs_tx *tx, uint64_t *pmem_word, uint64_t mask);
/* Bytes of data one more pmfs_tx_set can still carry in this lane (the
 * record header and padding already deducted).  src of pmfs_tx_set is
 * copied at the call; later changes to it are not seen. */
size_t pmfs_tx_room(const struct pmfs_tx *tx);
/* Runs fn(fs, arg) after the transaction is applied (commit) or dropped
 * (abort, with aborted = true); used to publish or roll back DRAM state. */
int pmfs_tx_defer(struct pmfs_tx *tx, void (*fn)(struct pmfs *fs, void *arg, bool aborted),
		  void *arg);
/* Commit: persist the log (one fence), apply in place (fence), clear the
 * lane (fence).  The tx is freed.  Returns 0 or a negative errno; on error
 * nothing of the tx reached its home locations. */
int pmfs_tx_commit(struct pmfs_tx *tx);
void pmfs_tx_abort(struct pmfs_tx *tx);

int pmfs_journal_init(struct pmfs *fs);
/* Replays committed lanes in seq order; *replayed counts them. */
int pmfs_journal_recover(struct pmfs *fs, unsigned *replayed);
/* One lane as recovery sees it: 0 empty, 1 committed (*seq set), -EBADMSG
 * torn (never committed), -EUCLEAN checksum-valid but malformed. */
int pmfs_journal_lane_state(const struct pmfs *fs, unsigned lane, uint64_t *seq);
void pmfs_journal_fini(struct pmfs *fs);

/* ---- balloc.c: block allocation (bitmap on media, free extents in DRAM) -- */
/*
 * Allocates one run of between min and want blocks whose start is a
 * multiple of align (in blocks; 1 = any), near goal if possible.  The
 * bitmap change is logged in tx; the DRAM reservation is rolled back if tx
 * aborts.  Returns -ENOSPC when no run of min blocks exists.
 */
/* want is cut to what the lane's room can log (-E2BIG below min).  After
 * any error of pmfs_balloc/pmfs_bfree/pmfs_ialloc/pmfs_ifree the caller
 * aborts tx (or commits nothing it depends on): records may be half logged. */
int pmfs_balloc(struct pmfs *fs, struct pmfs_tx *tx, uint64_t goal, uint64_t want, uint64_t min,
		uint64_t align, uint64_t *pblk, uint64_t *got);
/* Logs the free; the blocks return to the DRAM free space after commit. */
int pmfs_bfree(struct pmfs *fs, struct pmfs_tx *tx, uint64_t pblk, uint64_t count);
uint64_t pmfs_free_blocks(const struct pmfs *fs);
int pmfs_balloc_init(struct pmfs *fs);	/* builds DRAM state from the bitmap */
void pmfs_balloc_fini(struct pmfs *fs);

/* ---- ialloc.c: inode slots ------------------------------------------------ */
static inline struct pmfs_inode *pmfs_inode_ptr(const struct pmfs *fs, pmfs_ino_t ino)
{
	return &fs->itable[ino];
}
/* Reserves a free slot (rolled back on abort).  The caller logs the new
 * inode's contents with pmfs_tx_set.  -ENOSPC when the table is full. */
int pmfs_ialloc(struct pmfs *fs, struct pmfs_tx *tx, pmfs_ino_t *ino, uint32_t *generation);
/* Logs mode = 0 for the slot; it returns to the free list after commit. */
int pmfs_ifree(struct pmfs *fs, struct pmfs_tx *tx, pmfs_ino_t ino);
uint64_t pmfs_free_inodes(const struct pmfs *fs);
int pmfs_ialloc_init(struct pmfs *fs);	/* scans the table */
void pmfs_ialloc_fini(struct pmfs *fs);

/* ---- device.c: open, lock, classify and map the backing store ----------- */
/* Opens and locks (exclusively) the device or file; refuses what is in use. */
int pmfs_device_open(const char *path, bool read_only, int *fd, struct pmfs_device_info *info);
/* The same, but a lock held by someone else is retried for up to wait_ms
 * before -EBUSY: a daemon whose mount was just unmounted still holds it
 * while it finishes (the kernel does not wait for a FUSE daemon's exit). */
int pmfs_device_open_wait(const char *path, bool read_only, unsigned wait_ms, int *fd,
			  struct pmfs_device_info *info);
int pmfs_device_map(int fd, const struct pmfs_device_info *info, bool read_only, char **base,
		    bool *is_pmem);
void pmfs_device_unmap(char *base, uint64_t size);
/* At mount: fault in the mapping of a fully allocated emulation file. */
void pmfs_device_populate(int fd, const struct pmfs_device_info *info, char *base,
			  bool read_only);
/* Human text for the errors of pmfs_device_open (-EBUSY: in use, -ENODEV:
 * not devdax, ...); strerror for the rest. */
const char *pmfs_device_strerror(int err);
struct pmfs_devdax_entry {
	char path[64];		/* /dev/daxX.Y */
	char name_space[64];	/* namespaceX.Y */
	char region[64];
	char persistence_domain[32];
	uint64_t size;
	uint64_t align;
	int major, minor;
	int64_t bad_bytes;	/* known bad bytes in the device; -1 unknown */
};
/* Calls fn for each devdax namespace (fn returns non-zero to stop); returns
 * how many were seen, or a negative errno when libndctl cannot start. */
int pmfs_device_list(int (*fn)(void *ctx, const struct pmfs_devdax_entry *e), void *ctx);
/* Calls fn with each known bad byte range of the devdax device at path, as
 * offsets in the device (nothing for a file); 0 or a negative errno. */
int pmfs_device_badblocks(const char *path, int (*fn)(void *ctx, uint64_t offset, uint64_t bytes),
			  void *ctx);

/* ---- namespace/file layer hooks used by super.c -------------------------- */
int pmfs_icache_init(struct pmfs *fs);
void pmfs_icache_fini(struct pmfs *fs);
/* Frees every orphan on the list (mount-time recovery); *freed counts them. */
int pmfs_orphans_recover(struct pmfs *fs, unsigned *freed);
/* Drops all remaining references at unmount, freeing unlinked inodes. */
int pmfs_icache_evict_all(struct pmfs *fs);

#endif /* PMEMFS_INTERNAL_H */
