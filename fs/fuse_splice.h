/*
 * fuse_splice.h - WRITE data taken from the kernel by splice: libfuse
 * hands ->write_buf a pipe holding the request's data pages, and the data
 * is copied once, from the pipe into the device mapping.
 */
#ifndef PMEMFS_FUSE_SPLICE_H
#define PMEMFS_FUSE_SPLICE_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 314
#endif
#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <sys/types.h>

#include "pmemfs.h"

/*
 * Before the loop: makes sure a pipe can hold a request of 'bufsize' bytes
 * (libfuse's buffer), raising fs.pipe-max-size if that is what it takes
 * (*raised_from: the old value, else 0).  0, or -1 if splice will not be
 * used (libfuse then reads requests with a copy, as without it).
 */
int pmfs_fuse_splice_prepare(size_t bufsize, unsigned long *raised_from);

/* Before the loop: whether the device is device-DAX (copies are then
 * always flushed; an emulation file asks libpmem). */
void pmfs_fuse_splice_set_backing(bool is_devdax);

/* In ->init: ask for FUSE_CAP_SPLICE_READ if the kernel offers it. */
void pmfs_fuse_splice_init(struct fuse_conn_info *conn);

/*
 * pmfs_write_src() from the first 'size' bytes of pipe 'fd'.  *taken grows
 * by the bytes read out of the pipe (libfuse resets the pipe unless all
 * were taken; a retry is possible while none were).
 */
ssize_t pmfs_fuse_write_pipe(struct pmfs *fs, fuse_ino_t ino, int fd, size_t size, off_t off,
			     unsigned flags, size_t *taken);

#endif /* PMEMFS_FUSE_SPLICE_H */
