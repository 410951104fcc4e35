/*
 * fuse_dmap.c - the daemon side of the direct-map ioctl: checks who asks
 * and how the fd was opened, has the core prepare and pin the file
 * (fs/dmap.h), answers with the device identity and the extent list, and
 * keeps the kernel's page cache of the file out of the way while the file
 * is mapped around FUSE.  Protocol and trust model: docs/DIRECT-MAP.md.
 *
 * File handles: every open gets a unique fh whose low two bits hold the
 * O_ACCMODE of the open (the ioctl request does not carry open flags), so
 * a grant belongs to exactly one open file and dies with its release.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dmap.h"
#include "fuse_dmap.h"
#include "fuse_logging.h"
#include "pmemfs_dmap_proto.h"

#define FH_MODE_BITS 2u

static uint64_t Next_fh = 1;

void pmfs_fuse_dmap_open(struct pmfs_fuse *pf, fuse_ino_t ino, struct fuse_file_info *fi)
{
	uint64_t n = __atomic_fetch_add(&Next_fh, 1, __ATOMIC_RELAXED);

	fi->fh = (n << FH_MODE_BITS) | (uint64_t)(fi->flags & O_ACCMODE);
	/* Direct stores bypass the page cache: while a grant exists, new
	 * opens read and write through the daemon, never from cached pages
	 * that a direct store has made stale. */
	if (pmfs_dmap_pinned(pf->fs, ino)) {
		fi->direct_io = 1;
		fi->keep_cache = 0;
	}
}

static void invalidate(struct pmfs_fuse *pf, fuse_ino_t ino)
{
	int err = fuse_lowlevel_notify_inval_inode(pf->se, ino, 0, 0);

	if (err && err != -ENOENT)
		pmfs_fuse_log(PMFS_LOG_WARN, "direct map: invalidating inode %llu: %s",
			      (unsigned long long)ino, strerror(-err));
}

void pmfs_fuse_dmap_release(struct pmfs_fuse *pf, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (pmfs_dmap_release_owner(pf->fs, fi->fh) > 0)
		invalidate(pf, ino);
}

void pmfs_fuse_dmap_shutdown(struct pmfs_fuse *pf)
{
	pmfs_dmap_release_all(pf->fs);
}

/* Could the requester open the device node itself (as open(2) would
 * judge by mode bits)?  Root can.  The client opens it anyway; this check
 * keeps a process that cannot from pinning blocks it would never use. */
static bool may_open_device(fuse_req_t req, const char *path, bool write)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	unsigned need = S_IROTH | (write ? S_IWOTH : 0), bits;
	struct stat st;

	if (stat(path, &st) < 0)
		return false;
	if (ctx->uid == 0)
		return true;
	if (ctx->uid == st.st_uid) {
		bits = (st.st_mode >> 6) & 7;
	} else {
		bool in_group = ctx->gid == st.st_gid;
		gid_t groups[64];
		int n = fuse_req_getgroups(req, 64, groups);

		for (int i = 0; i < n && i < 64 && !in_group; i++)
			in_group = groups[i] == st.st_gid;
		bits = in_group ? (st.st_mode >> 3) & 7 : st.st_mode & 7;
	}
	return (bits & need) == need;
}

/* Device identity: where it is and how the client can tell it opened the
 * same thing.  The path comes from the fd the daemon holds (the mount's
 * path may be relative, and a daemon in the background has left its
 * working directory). */
static int fill_device(struct pmfs_fuse *pf, struct pmfs_dmap_ioc *io, bool *is_dax)
{
	struct pmfs_dmap_dev dev;
	char link[64];
	struct stat st;
	ssize_t n;

	pmfs_dmap_device(pf->fs, &dev);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dev.fd);
	n = readlink(link, io->dev_path, sizeof(io->dev_path) - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(io->dev_path) - 1)
		return -ENAMETOOLONG;
	io->dev_path[n] = '\0';
	if (io->dev_path[0] != '/' || fstat(dev.fd, &st) < 0)
		return -ENOENT; /* e.g. "/x (deleted)": no path to give */
	io->dev_kind = dev.is_devdax ? PMFS_DMAP_DEV_DEVDAX : PMFS_DMAP_DEV_FILE;
	io->dev_rdev = dev.is_devdax ? st.st_rdev : 0;
	io->dev_st_dev = st.st_dev;
	io->dev_st_ino = st.st_ino;
	io->dev_size = dev.size;
	io->align = dev.align;
	memcpy(io->uuid, dev.uuid, sizeof(io->uuid));
	*is_dax = dev.is_devdax;
	return 0;
}

/* Copies the page of extents from io->start on. */
static int fill_page(struct pmfs_fuse *pf, struct pmfs_dmap_ioc *io, uint64_t owner)
{
	struct pmfs_dmap_ext ext[PMFS_DMAP_PAGE_EXTENTS];
	uint32_t total = 0;
	int n = pmfs_dmap_extents(pf->fs, io->grant, owner, io->start, ext, PMFS_DMAP_PAGE_EXTENTS,
				  &total);

	if (n < 0)
		return n;
	io->total = total;
	io->count = (uint32_t)n;
	for (int i = 0; i < n; i++)
		io->ext[i] = (struct pmfs_dmap_extent){ext[i].file_off, ext[i].dev_off, ext[i].len};
	return 0;
}

static int do_map(fuse_req_t req, fuse_ino_t ino, uint64_t fh, struct pmfs_dmap_ioc *io)
{
	struct pmfs_fuse *pf = fuse_req_userdata(req);
	bool write = io->flags & PMFS_DMAP_F_WRITE, is_dax;
	unsigned mode = fh & ((1u << FH_MODE_BITS) - 1);
	struct pmfs_dmap_grant_info gi;
	int err;

	if (io->flags & ~PMFS_DMAP_F_WRITE)
		return -EINVAL;
	/* a writable map needs an fd opened for reading and writing, a
	 * read-only one any fd that may read */
	if (write ? mode != O_RDWR : mode == O_WRONLY)
		return -EBADF;
	err = fill_device(pf, io, &is_dax);
	if (err)
		return err;
	if (!may_open_device(req, io->dev_path, write))
		return -EACCES;
	err = pmfs_dmap_grant(pf->fs, ino, fh, &gi);
	if (err)
		return err;
	io->grant = gi.grant;
	io->file_size = gi.file_size;
	io->map_len = gi.map_len;
	io->start = 0;
	return fill_page(pf, io, fh);
}

void pmfs_fuse_dmap_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void *arg,
			  struct fuse_file_info *fi, unsigned flags, const void *in_buf,
			  size_t in_bufsz, size_t out_bufsz)
{
	struct pmfs_fuse *pf = fuse_req_userdata(req);
	struct pmfs_dmap_ioc *io;
	bool granted = false, released = false;
	pmfs_ino_t rel_ino = 0;
	int err;

	(void)arg;
	if (cmd != (unsigned)PMFS_IOC_DMAP || (flags & FUSE_IOCTL_COMPAT)) {
		fuse_reply_err(req, ENOTTY);
		return;
	}
	if (in_bufsz != sizeof(*io) || out_bufsz != sizeof(*io)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	io = malloc(sizeof(*io));
	if (!io) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memcpy(io, in_buf, sizeof(*io));
	if (io->magic != PMFS_DMAP_MAGIC || io->version != PMFS_DMAP_VERSION) {
		err = -EPROTO;
	} else if (io->op == PMFS_DMAP_OP_MAP) {
		err = do_map(req, ino, fi->fh, io);
		granted = err == 0;
	} else if (io->op == PMFS_DMAP_OP_LIST) {
		err = fill_page(pf, io, fi->fh);
	} else if (io->op == PMFS_DMAP_OP_RELEASE) {
		err = pmfs_dmap_release(pf->fs, io->grant, fi->fh, &rel_ino);
		released = err == 0;
	} else {
		err = -EINVAL;
	}
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_ioctl(req, 0, io, sizeof(*io));
	free(io);
	/* After the reply: drop pages cached before the grant (they may go
	 * stale under direct stores) and after a release (read through a
	 * handle opened before the grant). */
	if (granted)
		invalidate(pf, ino);
	if (released)
		invalidate(pf, rel_ino);
}
