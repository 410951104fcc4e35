/*
 * pmemfs_dmap_proto.h - the direct-map ioctl: the one message libpmem and
 * pmemfs-fuse exchange to map a pmemfs file's device extents straight
 * into an application (docs/DIRECT-MAP.md).  Shared by the daemon
 * (fs/fuse_dmap.c) and libpmem (libpmem/pmemfs_direct.c); it includes no
 * core header so libpmem can carry it alone.
 *
 * FUSE passes only "restricted" ioctls from a file system: the kernel
 * copies _IOC_SIZE(cmd) bytes in (_IOC_WRITE) and out (_IOC_READ).  So the
 * message is one fixed-size struct, read and written in place, and a long
 * extent list is fetched in pages (op LIST with a start index).  Any
 * layout change bumps PMFS_DMAP_VERSION; the daemon answers EPROTO to a
 * version it does not speak, and libpmem then falls back to a plain mmap.
 */
#ifndef PMEMFS_DMAP_PROTO_H
#define PMEMFS_DMAP_PROTO_H

#include <linux/ioctl.h>
#include <stdint.h>

#define PMFS_DMAP_MAGIC 0x50414d4453464d50ULL /* "PMFSDMAP" */
#define PMFS_DMAP_VERSION 1u

enum pmfs_dmap_op {
	PMFS_DMAP_OP_MAP = 1,	  /* prepare + pin the whole file; first page */
	PMFS_DMAP_OP_LIST = 2,	  /* another page of a grant's extents */
	PMFS_DMAP_OP_RELEASE = 3, /* unpin a grant (also done on close) */
};

/* flags of OP_MAP */
#define PMFS_DMAP_F_WRITE (1u << 0) /* the caller maps PROT_WRITE: needs O_RDWR */

enum pmfs_dmap_dev_kind { PMFS_DMAP_DEV_DEVDAX = 1, PMFS_DMAP_DEV_FILE = 2 };

/*
 * Liveness of a mapping, visible to every daemon incarnation: while a
 * client maps inode INO it holds an open-file-description read lock
 * (F_OFD_SETLK, F_RDLCK) on the one byte PMFS_DMAP_LOCK_BASE + INO of the
 * device fd it opened itself.  The kernel drops it when that fd closes
 * (unmap, exit, kill), never before the mapping goes.  A daemon that
 * starts while such locks exist keeps the blocks they may map
 * (docs/DIRECT-MAP.md, "Daemon restarts").  Far beyond any device size,
 * and fcntl locks never conflict with the daemon's flock() of the device.
 */
#define PMFS_DMAP_LOCK_BASE (1ULL << 62)

/* Offset of the uuid in the superblock at device offset 0 (libpmem checks
 * a regular-file device with it; the daemon asserts it against media.h). */
#define PMFS_DMAP_SB_UUID_OFFSET 40

/* len bytes of the file from file_off live at device offset dev_off; all
 * three are multiples of the reply's align. */
struct pmfs_dmap_extent {
	uint64_t file_off;
	uint64_t dev_off;
	uint64_t len;
};

#define PMFS_DMAP_PAGE_EXTENTS 150u
#define PMFS_DMAP_PATH_MAX 256u

struct pmfs_dmap_ioc {
	/* ---- in ---- */
	uint64_t magic;	  /* PMFS_DMAP_MAGIC (echoed in the reply) */
	uint32_t version; /* PMFS_DMAP_VERSION (echoed) */
	uint32_t op;	  /* enum pmfs_dmap_op */
	uint32_t flags;	  /* OP_MAP: PMFS_DMAP_F_* */
	uint32_t start;	  /* OP_LIST: index of the first extent wanted */
	uint64_t grant;	  /* OP_LIST, OP_RELEASE: from the OP_MAP reply */
	/* ---- out (OP_MAP and OP_LIST) ---- */
	uint32_t dev_kind; /* enum pmfs_dmap_dev_kind */
	uint32_t reserved0;
	uint64_t dev_rdev;   /* devdax: st_rdev of the node */
	uint64_t dev_st_dev; /* file: st_dev and st_ino of the backing file */
	uint64_t dev_st_ino;
	uint64_t dev_size;		   /* bytes of the device the fs covers */
	uint8_t uuid[16];		   /* the file system's uuid */
	uint64_t align;			   /* bytes: extents are multiples of it */
	uint64_t file_size;		   /* the size at grant time: what to map */
	uint64_t map_len;		   /* file_size rounded up to align: the extents' span */
	uint32_t total;			   /* extents in the grant */
	uint32_t count;			   /* extents in ext[] (from index 'start') */
	char dev_path[PMFS_DMAP_PATH_MAX]; /* absolute, NUL-terminated */
	uint8_t reserved[120];
	struct pmfs_dmap_extent ext[PMFS_DMAP_PAGE_EXTENTS];
};

_Static_assert(sizeof(struct pmfs_dmap_ioc) == 4096, "the ioctl message is one page");

#define PMFS_IOC_DMAP _IOWR('P', 0xd1, struct pmfs_dmap_ioc)

#endif /* PMEMFS_DMAP_PROTO_H */
