/*
 * fuse_dmap.h - the daemon side of direct maps (fuse_dmap.c): the ioctl
 * op and the three calls the rest of the daemon makes (open, release,
 * shutdown).  See docs/DIRECT-MAP.md.
 */
#ifndef PMEMFS_FUSE_DMAP_H
#define PMEMFS_FUSE_DMAP_H

#include "fuse_ops.h"

/* The .ioctl op: PMFS_IOC_DMAP (fs/pmemfs_dmap_proto.h); ENOTTY otherwise. */
void pmfs_fuse_dmap_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void *arg,
			  struct fuse_file_info *fi, unsigned flags, const void *in_buf,
			  size_t in_bufsz, size_t out_bufsz);
/* open/create: a unique fh that remembers the access mode (grants belong
 * to it); direct_io while the file is directly mapped. */
void pmfs_fuse_dmap_open(struct pmfs_fuse *pf, fuse_ino_t ino, struct fuse_file_info *fi);
/* release: drops the grants of this fh (before the reply). */
void pmfs_fuse_dmap_release(struct pmfs_fuse *pf, fuse_ino_t ino, struct fuse_file_info *fi);
/* Session over, before pmfs_unmount: drops every grant. */
void pmfs_fuse_dmap_shutdown(struct pmfs_fuse *pf);

#endif /* PMEMFS_FUSE_DMAP_H */
