/*
 * media.h - the on-media structures of pmemfs, field by field as in
 * docs/FORMAT.md.  All integers are little-endian; the device is byte
 * addressable, so "block" only means a 4 KiB unit of allocation.
 *
 * Device layout (block numbers; geometry is recorded in the superblock):
 *
 *   0                 primary superblock (struct pmfs_super, rest zero)
 *   1                 state block (struct pmfs_state): mutable, journaled
 *   journal_start..   journal: journal_lanes lanes of lane_blocks each
 *   itable_start..    inode table: inode_count slots of 256 bytes
 *   bitmap_start..    block bitmap: one bit per device block, 1 = in use
 *   data_start..      data, directory, extent-overflow and xattr blocks
 *   total_blocks - 1  backup superblock (same bytes as block 0)
 *
 * Any change here bumps PMFS_FORMAT_VERSION and updates docs/FORMAT.md,
 * mkfs and fsck together.
 */
#ifndef PMEMFS_MEDIA_H
#define PMEMFS_MEDIA_H

#include <stdint.h>

#define PMFS_MAGIC 0x0053464d454d5000ULL /* "\0PMEMFS\0" */
#define PMFS_FORMAT_VERSION 1u
#define PMFS_BLOCK_SIZE 4096u
#define PMFS_BLOCK_SHIFT 12
#define PMFS_INODE_SIZE 256u
#define PMFS_LABEL_MAX 64
#define PMFS_SUPER_BLOCK 0	/* the backup is block total_blocks - 1 */
#define PMFS_STATE_BLOCK 1

/* Feature flags: a mount refuses any incompat bit it does not know; an
 * unknown ro_compat bit allows read-only mounts only. */
#define PMFS_FEATURE_COMPAT_SUPP 0ULL
#define PMFS_FEATURE_INCOMPAT_SUPP 0ULL
#define PMFS_FEATURE_RO_COMPAT_SUPP 0ULL

struct pmfs_super {
	uint64_t magic;
	uint32_t version;	  /* PMFS_FORMAT_VERSION */
	uint32_t block_size;	  /* PMFS_BLOCK_SIZE */
	uint64_t feature_compat;
	uint64_t feature_incompat;
	uint64_t feature_ro_compat;
	uint8_t uuid[16];
	char label[PMFS_LABEL_MAX]; /* NUL-padded */
	uint64_t device_align;	  /* bytes: 4 KiB, 2 MiB or 1 GiB */
	uint64_t total_blocks;	  /* blocks covered by the file system */
	uint64_t journal_start;	  /* block */
	uint32_t journal_lanes;
	uint32_t lane_blocks;
	uint64_t itable_start;	  /* block */
	uint64_t itable_blocks;
	uint64_t inode_count;	  /* slots; inode number = slot index, 0 unused */
	uint64_t bitmap_start;	  /* block */
	uint64_t bitmap_blocks;
	uint64_t data_start;	  /* first block the allocator may hand out */
	int64_t mkfs_time;	  /* seconds since the epoch */
	uint8_t reserved[3880];	  /* zero; pads the struct to one block */
	uint32_t pad;
	uint32_t csum;		  /* CRC32C of the block with csum = 0 */
};

/* Block 1.  Every update goes through the journal. */
struct pmfs_state {
	uint64_t clean;		  /* 1: unmounted cleanly, recovery may be skipped */
	uint64_t orphan_head;	  /* first orphan inode, 0 = none */
	uint64_t mount_count;
	int64_t last_mount_time;
	int64_t last_unmount_time;
	uint8_t reserved[4056];
};

/* One extent: 'len' blocks of the file from 'lblk' on live at 'pblk'. */
struct pmfs_extent {
	uint32_t lblk;
	uint32_t len;
	uint64_t pblk;
};

#define PMFS_INLINE_EXTENTS 8
#define PMFS_INLINE_SYMLINK (PMFS_INLINE_EXTENTS * sizeof(struct pmfs_extent))

/* Inode flags */
#define PMFS_IFL_ORPHAN (1u << 0) /* on the orphan list */

struct pmfs_inode {
	uint32_t mode;		/* S_IFMT | permissions; 0 = free slot */
	uint32_t uid;
	uint32_t gid;
	uint32_t nlink;
	uint64_t size;		/* bytes */
	uint64_t blocks;	/* blocks held: data + overflow + xattr */
	int64_t atime_sec, mtime_sec, ctime_sec, btime_sec;
	uint32_t atime_nsec, mtime_nsec, ctime_nsec, btime_nsec;
	uint64_t rdev_or_parent; /* device nodes: rdev; directories: parent ino */
	uint32_t generation;
	uint32_t flags;		/* PMFS_IFL_* */
	uint64_t orphan_next;	/* next inode on the orphan list, 0 = end */
	uint64_t xattr_block;	/* 0 = no xattrs */
	uint64_t ext_overflow;	/* first struct pmfs_extent_block, 0 = none */
	uint32_t ext_count;	/* extents used in ext[] */
	uint32_t reserved;
	union {
		struct pmfs_extent ext[PMFS_INLINE_EXTENTS];
		char symlink[PMFS_INLINE_SYMLINK]; /* targets shorter than this */
	} u;
};

/* Overflow extents, chained; sorted by lblk across ext[] and the chain. */
#define PMFS_EXTENTS_PER_BLOCK ((PMFS_BLOCK_SIZE - 16) / sizeof(struct pmfs_extent))
struct pmfs_extent_block {
	uint64_t next;		/* block number, 0 = end */
	uint32_t count;
	uint32_t reserved;
	struct pmfs_extent ext[PMFS_EXTENTS_PER_BLOCK];
};

/*
 * Directory blocks are arrays of 64-byte slots.  An entry takes 'nslots'
 * consecutive slots inside one block; ino == 0 marks free slots.  The slot
 * index within the directory (block index * 64 + slot) is the entry's stable
 * readdir offset.
 */
#define PMFS_DIRENT_SLOT 64u
#define PMFS_SLOTS_PER_BLOCK (PMFS_BLOCK_SIZE / PMFS_DIRENT_SLOT)
struct pmfs_dirent {
	uint64_t ino;
	uint32_t hash;		/* of the name; see docs/FORMAT.md */
	uint8_t name_len;
	uint8_t type;		/* DT_* */
	uint8_t nslots;
	uint8_t reserved;
	char name[];		/* not NUL-terminated */
};

/*
 * Journal lane: a redo log.  The header and the records are written and
 * flushed, then one fence commits them (the checksum covers both, so a torn
 * commit is detected and ignored).  Then the records are applied in place,
 * fenced, and the whole header is zeroed and fenced (not just magic: see
 * fs/journal.c).  Recovery replays every lane whose header is valid, in
 * increasing seq order.
 */
#define PMFS_LANE_MAGIC 0x4e414c53464d50ULL /* "PMFSLAN" */
struct pmfs_lane_head {
	uint64_t magic;		/* PMFS_LANE_MAGIC when committed, 0 otherwise */
	uint64_t seq;		/* global commit order */
	uint32_t nrec;
	uint32_t bytes;		/* bytes of records after the header */
	uint32_t csum;		/* CRC32C over seq, nrec, bytes and the records */
	uint32_t reserved[9];	/* pads to 64 bytes */
};

/* Records start right after the head; a lane holds at most
 * lane_blocks * PMFS_BLOCK_SIZE - PMFS_LANE_RECORDS_OFF bytes of records. */
#define PMFS_LANE_RECORDS_OFF 64u

enum pmfs_jrec_op {
	PMFS_JREC_SET = 1,	/* copy data[len] to off */
	PMFS_JREC_OR64 = 2,	/* *(u64 *)off |= data (bitmap: allocate) */
	PMFS_JREC_ANDN64 = 3,	/* *(u64 *)off &= ~data (bitmap: free) */
};

struct pmfs_jrec {
	uint64_t off;		/* byte offset on the device */
	uint32_t len;		/* data bytes (8 for OR64/ANDN64) */
	uint16_t op;		/* enum pmfs_jrec_op */
	uint16_t reserved;
	/* followed by len bytes of data, padded to a multiple of 8 */
};

/* Xattr block: packed entries, then zeros. */
enum pmfs_xattr_ns { PMFS_XATTR_USER = 1, PMFS_XATTR_TRUSTED = 2, PMFS_XATTR_SECURITY = 3 };
struct pmfs_xattr_entry {
	uint8_t ns;		/* enum pmfs_xattr_ns; 0 ends the list */
	uint8_t name_len;	/* without the namespace prefix */
	uint16_t value_len;
	char data[];		/* name then value */
};

_Static_assert(sizeof(struct pmfs_super) == PMFS_BLOCK_SIZE, "superblock is one block");
_Static_assert(sizeof(struct pmfs_state) == PMFS_BLOCK_SIZE, "state is one block");
_Static_assert(sizeof(struct pmfs_inode) == PMFS_INODE_SIZE, "inode size");
_Static_assert(sizeof(struct pmfs_extent_block) <= PMFS_BLOCK_SIZE, "extent block");
_Static_assert(sizeof(struct pmfs_lane_head) == 64, "lane head is one cache line");
_Static_assert(sizeof(struct pmfs_dirent) == 16, "dirent header");
_Static_assert(sizeof(struct pmfs_jrec) == 16, "journal record header");

#endif /* PMEMFS_MEDIA_H */
