/*
 * fuse_io.h - pmemfs-fuse's own /dev/fuse read and writev: negotiates
 * FUSE_HANDLE_KILLPRIV_V2 (libfuse 3.14 cannot) and tells the ops whether
 * the kernel asked for set-ID bits to be cleared by the current request.
 */
#ifndef PMEMFS_FUSE_IO_H
#define PMEMFS_FUSE_IO_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 314
#endif
#include <fuse_lowlevel.h>
#include <stdbool.h>

/* After fuse_session_mount(), before the loop.  0 or -1. */
int pmfs_fuse_io_install(struct fuse_session *se);

/* What this thread must remember of the request it is about to run (its
 * KILL_SUIDGID flag; INIT's offers): for requests not read by the hooks
 * (fuse_uring.c). */
void pmfs_fuse_io_note_request(const void *buf, size_t len);

/* FUSE_DIRECT_IO_ALLOW_MMAP (Linux 6.6+, not in Debian 12's headers):
 * files opened with direct_io may still be mapped MAP_SHARED. */
#define PMFS_FUSE_DIRECT_IO_ALLOW_MMAP (1ULL << 36)

/* Whether INIT negotiated PMFS_FUSE_DIRECT_IO_ALLOW_MMAP. */
bool pmfs_fuse_io_direct_mmap(void);

/* True if the request being run on this thread is a WRITE, truncating
 * SETATTR or O_TRUNC OPEN with the kernel's KILL_SUIDGID flag. */
bool pmfs_fuse_req_kill_suidgid(void);

#endif /* PMEMFS_FUSE_IO_H */
