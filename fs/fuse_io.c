/*
 * fuse_io.c - the daemon's own read and writev on /dev/fuse (libfuse's
 * fuse_session_custom_io): to negotiate what libfuse 3.14 has no FUSE_CAP_
 * for (FUSE_HANDLE_KILLPRIV_V2 below; FUSE_OVER_IO_URING and
 * FUSE_DIRECT_IO_ALLOW_MMAP in the INIT reply), and to route the replies
 * of requests that came through io_uring back to their ring (fuse_uring.c).
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
 *
 * With splice (fuse_splice.c) libfuse receives through the splice_receive
 * hook instead, and the request lands in a pipe the hook cannot read back
 * (only libfuse has its read end).  So the hook splices into a pipe of its
 * own, reads the header (and the whole of a small request) out of it,
 * looks at the flags as the read hook does, and passes the request on to
 * libfuse's pipe: the header by write(2), the data pages by a pipe-to-pipe
 * splice, which moves page references and copies nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fuse_io.h"
#include "fuse_uring.h"

/* Set by the read hook for the request this thread runs next. */
static _Thread_local bool kill_suidgid;
/* The unique id of FUSE_INIT, whose reply gets the extra flags.  The
 * kernel holds every other request until INIT is answered. */
static uint64_t init_unique;
static atomic_bool init_seen;
/* The kernel offered FUSE_OVER_IO_URING in INIT (fuse_uring.c). */
static bool init_offers_uring;
/* ... and FUSE_DIRECT_IO_ALLOW_MMAP (6.6+): answered yes. */
static bool init_offers_dio_mmap;
static atomic_bool dio_mmap;

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

/* Whether INIT's flags2 carries a FUSE_* flag of bit 32 or above. */
static bool offers_flag2(const char *buf, size_t len, uint64_t flag)
{
	const struct fuse_init_in *arg = (const void *)(buf + sizeof(struct fuse_in_header));

	if (len < sizeof(struct fuse_in_header) + sizeof(*arg) || !(arg->flags & FUSE_INIT_EXT))
		return false;
	return ((uint64_t)arg->flags2 << 32) & flag;
}

bool pmfs_fuse_io_direct_mmap(void)
{
	return atomic_load_explicit(&dio_mmap, memory_order_relaxed);
}

void pmfs_fuse_io_note_request(const void *buf, size_t len)
{
	const struct fuse_in_header *in = buf;

	kill_suidgid = false;
	if (len < sizeof(*in))
		return;
	if (in->opcode == FUSE_INIT) {
		init_unique = in->unique;
		init_offers_uring = offers_flag2(buf, len, PMFS_FUSE_OVER_IO_URING);
		init_offers_dio_mmap = offers_flag2(buf, len, PMFS_FUSE_DIRECT_IO_ALLOW_MMAP);
		atomic_store(&init_seen, true);
	}
	kill_suidgid = request_kills(buf, len);
}

static ssize_t io_read(int fd, void *buf, size_t buf_len, void *userdata)
{
	ssize_t res = read(fd, buf, buf_len);

	(void)userdata;
	pmfs_fuse_io_note_request(buf, res > 0 ? (size_t)res : 0);
	return res;
}

/* ---- splice receive ------------------------------------------------------ */

/*
 * Bytes read out of the hook's pipe: every header request_kills() looks at,
 * and all of a request libfuse would copy into memory anyway (it does so
 * below header + fuse_write_in + one page), so that a small request costs
 * one read here and is not split.
 */
#define PEEK_MAX (sizeof(struct fuse_in_header) + sizeof(struct fuse_write_in) + 4096)
/* Of a larger request (only WRITE carries data pages and a flag), only the
 * header libfuse will read back before handing the pipe to ->write_buf. */
#define PEEK_WRITE (sizeof(struct fuse_in_header) + sizeof(struct fuse_write_in))

struct peek_pipe {
	int fd[2];
	size_t size;
};

static pthread_key_t peek_key;
static pthread_once_t peek_once = PTHREAD_ONCE_INIT;
static bool peek_key_ok;

/* libfuse's workers come and go (max_idle_threads): close their pipes. */
static void peek_pipe_free(void *arg)
{
	struct peek_pipe *p = arg;

	close(p->fd[0]);
	close(p->fd[1]);
	free(p);
}

static void peek_key_create(void)
{
	peek_key_ok = pthread_key_create(&peek_key, peek_pipe_free) == 0;
}

/* This thread's pipe, able to hold a request of len bytes; NULL if none. */
static struct peek_pipe *peek_pipe_get(size_t len)
{
	struct peek_pipe *p;
	int size;

	pthread_once(&peek_once, peek_key_create);
	if (!peek_key_ok)
		return NULL;
	p = pthread_getspecific(peek_key);
	if (p && p->size >= len)
		return p;
	if (!p) {
		p = malloc(sizeof(*p));
		if (!p)
			return NULL;
		if (pipe2(p->fd, O_CLOEXEC | O_NONBLOCK) != 0) {
			free(p);
			return NULL;
		}
		p->size = 0;
		if (pthread_setspecific(peek_key, p) != 0) {
			peek_pipe_free(p);
			return NULL;
		}
	}
	/* libfuse sized its own pipe the same way, or it would not splice. */
	size = fcntl(p->fd[0], F_SETPIPE_SZ, (int)len);
	if (size < 0)
		return NULL;
	p->size = (size_t)size;
	return p->size >= len ? p : NULL;
}

/* Drops whatever a failed hand-over left in this thread's pipe. */
static void peek_pipe_reset(void)
{
	struct peek_pipe *p = pthread_getspecific(peek_key);

	if (p) {
		pthread_setspecific(peek_key, NULL);
		peek_pipe_free(p);
	}
}

static ssize_t fail_eio(void)
{
	peek_pipe_reset();
	errno = EIO;
	return -1;
}

/*
 * /dev/fuse → our pipe → header read here → libfuse's pipe.  Returns the
 * request's size, as the splice(2) it replaces would.  Errors of the first
 * splice (ENODEV at unmount, EINTR) pass through unchanged; a failure to
 * hand the request over is EIO, which ends the session as libfuse's own
 * pipe errors do (the kernel would otherwise wait for a reply forever).
 */
static ssize_t io_splice_receive(int fdin, off_t *offin, int fdout, off_t *offout, size_t len,
				 unsigned flags, void *userdata)
{
	struct peek_pipe *p = peek_pipe_get(len);
	char head[PEEK_MAX];
	ssize_t n, h, r;
	size_t rest;

	(void)offout;
	(void)userdata;
	kill_suidgid = false;
	if (!p) {
		/* No pipe of our own: read the whole request (the copy splice
		 * avoids) and hand it over by write(2); correct, only slower. */
		char *buf = malloc(len);

		if (!buf)
			return fail_eio();
		n = read(fdin, buf, len);
		if (n > 0) {
			pmfs_fuse_io_note_request(buf, (size_t)n);
			if (write(fdout, buf, (size_t)n) != n) {
				free(buf);
				return fail_eio();
			}
		}
		free(buf);
		return n;
	}
	n = splice(fdin, offin, p->fd[1], NULL, len, flags);
	if (n <= 0)
		return n;
	h = n < (ssize_t)PEEK_MAX ? n : (ssize_t)PEEK_WRITE;
	if (read(p->fd[0], head, (size_t)h) != h)
		return fail_eio();
	pmfs_fuse_io_note_request(head, (size_t)h);
	if (write(fdout, head, (size_t)h) != h)
		return fail_eio();
	for (rest = (size_t)(n - h); rest > 0; rest -= (size_t)r) {
		r = splice(p->fd[0], NULL, fdout, NULL, rest, 0);
		if (r <= 0)
			return fail_eio();
	}
	return n;
}

/*
 * The INIT reply is one fuse_out_header and one fuse_init_out: adds
 * KILLPRIV_V2; FUSE_OVER_IO_URING when the kernel offered it and the
 * daemon wants it; FUSE_DIRECT_IO_ALLOW_MMAP when offered (fuse_ops.c's
 * direct reads).  Returns true if the reply asks for io_uring.
 */
static bool add_init_flags(struct iovec *iov, int count)
{
	struct fuse_out_header *out = iov[0].iov_base;
	struct fuse_init_out *arg;
	bool uring;

	if (count < 2 || iov[0].iov_len < sizeof(*out) ||
	    out->unique != init_unique || out->error != 0 ||
	    iov[1].iov_len < offsetof(struct fuse_init_out, flags) + sizeof(arg->flags))
		return false;
	arg = iov[1].iov_base;
	arg->flags |= FUSE_HANDLE_KILLPRIV_V2;
	atomic_store(&init_seen, false);
	/* flags2 (bits 32 and up) counts only with FUSE_INIT_EXT set */
	if (iov[1].iov_len < offsetof(struct fuse_init_out, flags2) + sizeof(arg->flags2))
		return false;
	uring = init_offers_uring && pmfs_fuse_uring_wanted();
	if (uring)
		arg->flags2 |= (uint32_t)(PMFS_FUSE_OVER_IO_URING >> 32);
	if (init_offers_dio_mmap) {
		arg->flags2 |= (uint32_t)(PMFS_FUSE_DIRECT_IO_ALLOW_MMAP >> 32);
		atomic_store(&dio_mmap, true);
	}
	if (uring || init_offers_dio_mmap)
		arg->flags |= FUSE_INIT_EXT;
	return uring;
}

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	bool init, uring = false;
	ssize_t ret = pmfs_fuse_uring_reply(iov, count);

	(void)userdata;
	if (ret != -2)
		return ret; /* the reply of a request that came by io_uring */
	init = atomic_load_explicit(&init_seen, memory_order_relaxed);
	if (init)
		uring = add_init_flags(iov, count);
	ret = writev(fd, iov, count);
	/* The kernel has taken INIT (inside writev): the queues register
	 * now, or end if the mount is not on io_uring. */
	if (init && !atomic_load(&init_seen))
		pmfs_fuse_uring_go(uring && ret >= 0);
	return ret;
}

int pmfs_fuse_io_install(struct fuse_session *se)
{
	static const struct fuse_custom_io io = {
	    .read = io_read,
	    .writev = io_writev,
	    .splice_receive = io_splice_receive,
	};

	return fuse_session_custom_io(se, &io, fuse_session_fd(se));
}
