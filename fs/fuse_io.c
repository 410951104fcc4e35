/*
 * fuse_io.c - the daemon's own read and writev on /dev/fuse (libfuse's
 * fuse_session_custom_io), for one reason: to negotiate
 * FUSE_HANDLE_KILLPRIV_V2, which libfuse 3.14 has no FUSE_CAP_ for.
 *
 * Why: FUSE mounts lack SB_NOSEC, so before every write() the kernel asks
 * getxattr("security.capability"): one round trip per WRITE (tar x of
 * /usr/include: 27 296 GETXATTR in 128 119 requests).  With KILLPRIV_V2
 * the kernel sets SB_NOSEC, so after the first write finds no set-ID bit
 * and no capability it marks the inode S_NOSEC and stops asking.
 *
 * The price: the file system clears set-ID bits itself.  The kernel says
 * when, per request: FUSE_WRITE_KILL_SUIDGID in a WRITE, FATTR_KILL_SUIDGID
 * in a SETATTR (truncate), FUSE_OPEN_KILL_SUIDGID in an OPEN with O_TRUNC
 * (each only when the caller lacks CAP_FSETID); a chown always clears them.
 * libfuse 3.14 drops those flags, so the read hook below keeps them for
 * the thread that is about to run the request (libfuse's workers read a
 * request and process it on the same thread).
 */
#include <errno.h>
#include <linux/fuse.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fuse_io.h"

/* Set by the read hook for the request this thread runs next. */
static _Thread_local bool kill_suidgid;
/* The unique id of FUSE_INIT, whose reply gets the extra flag.  The
 * kernel holds every other request until INIT is answered. */
static uint64_t init_unique;
static atomic_bool init_seen;

bool pmfs_fuse_req_kill_suidgid(void)
{
	return kill_suidgid;
}

/* Which requests carry a kill flag, and where (all fixed-size headers). */
static bool request_kills(const char *buf, size_t len)
{
	const struct fuse_in_header *in = (const void *)buf;
	const char *arg = buf + sizeof(*in);
	size_t room = len - sizeof(*in);

	switch (in->opcode) {
	case FUSE_WRITE:
		return room >= sizeof(struct fuse_write_in) &&
		       (((const struct fuse_write_in *)(const void *)arg)->write_flags &
			FUSE_WRITE_KILL_SUIDGID);
	case FUSE_SETATTR:
		return room >= sizeof(struct fuse_setattr_in) &&
		       (((const struct fuse_setattr_in *)(const void *)arg)->valid &
			FATTR_KILL_SUIDGID);
	case FUSE_OPEN:
		return room >= sizeof(struct fuse_open_in) &&
		       (((const struct fuse_open_in *)(const void *)arg)->open_flags &
			FUSE_OPEN_KILL_SUIDGID);
	default:
		return false;
	}
}

static ssize_t io_read(int fd, void *buf, size_t buf_len, void *userdata)
{
	ssize_t res = read(fd, buf, buf_len);
	const struct fuse_in_header *in = buf;

	(void)userdata;
	kill_suidgid = false;
	if (res < (ssize_t)sizeof(*in))
		return res;
	if (in->opcode == FUSE_INIT) {
		init_unique = in->unique;
		atomic_store(&init_seen, true);
	}
	kill_suidgid = request_kills(buf, (size_t)res);
	return res;
}

/* The INIT reply is one fuse_out_header and one fuse_init_out. */
static void add_killpriv_v2(struct iovec *iov, int count)
{
	struct fuse_out_header *out = iov[0].iov_base;
	struct fuse_init_out *arg;

	if (count < 2 || iov[0].iov_len < sizeof(*out) ||
	    out->unique != init_unique || out->error != 0 ||
	    iov[1].iov_len < offsetof(struct fuse_init_out, flags) + sizeof(arg->flags))
		return;
	arg = iov[1].iov_base;
	arg->flags |= FUSE_HANDLE_KILLPRIV_V2;
	atomic_store(&init_seen, false);
}

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	(void)userdata;
	if (atomic_load_explicit(&init_seen, memory_order_relaxed))
		add_killpriv_v2(iov, count);
	return writev(fd, iov, count);
}

int pmfs_fuse_io_install(struct fuse_session *se)
{
	static const struct fuse_custom_io io = {.read = io_read, .writev = io_writev};

	return fuse_session_custom_io(se, &io, fuse_session_fd(se));
}
