/*
 * fuse_uring.h - FUSE over io_uring (Linux 6.14+): one queue per CPU, each
 * served by a thread pinned to that CPU, so a request and its reply never
 * cross CPUs.  /dev/fuse stays open beside it for INIT, FORGET, INTERRUPT
 * and notifications, which the kernel never sends through the rings.
 */
#ifndef PMEMFS_FUSE_URING_H
#define PMEMFS_FUSE_URING_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 314
#endif
#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

/* Linux 6.14's uapi, absent from Debian 12's <linux/fuse.h> (6.1). */
#define PMFS_FUSE_OVER_IO_URING (1ULL << 41)

/*
 * Before mounting: whether to offer io_uring in FUSE_INIT.  With 'wanted'
 * and root, the kernel's fuse.enable_uring parameter is switched on if it
 * is off (logged).  pmfs_fuse_uring_wanted() then says whether the rings
 * will be tried.  spin_us: how long a queue thread polls its ring after a
 * reply before it sleeps (0: never).
 */
void pmfs_fuse_uring_prepare(bool wanted, unsigned spin_us);

/* Whether FUSE_INIT's reply should carry FUSE_OVER_IO_URING. */
bool pmfs_fuse_uring_wanted(void);

/*
 * After mounting, before the loop: starts a thread per possible CPU, each
 * with its ring and buffers, waiting for the INIT reply.  Once INIT asks
 * for io_uring the kernel holds every request until each CPU's queue is
 * registered, so everything that can fail is done here, before: on any
 * failure (logged) the threads end and INIT does not ask.  0 or -errno.
 */
int pmfs_fuse_uring_setup(struct fuse_session *se);

/* From the writev hook, once the kernel took the INIT reply: true if it
 * asked for io_uring (the queues register), false if not (they end). */
void pmfs_fuse_uring_go(bool use);

/* After the session ended and the mount is gone: joins the threads. */
void pmfs_fuse_uring_stop(void);

/*
 * From the writev hook: if this thread is running a ring request and iov
 * is its reply, stores the reply in the ring entry (it is committed when
 * the handler returns) and returns what writev would; else -2 (not ours).
 */
ssize_t pmfs_fuse_uring_reply(const struct iovec *iov, int count);

#endif /* PMEMFS_FUSE_URING_H */
