/*
 * fuse_splice.c - one copy per WRITE instead of two.
 *
 * Without splice, the kernel copies each WRITE request into libfuse's
 * 1 MiB buffer (fuse_dev_do_read, ~45% of the daemon's CPU in a sequential
 * write) and the core copies it again, non-temporally, into pmem (~40%).
 * With FUSE_CAP_SPLICE_READ the kernel moves references to the request's
 * pages into a pipe instead (fuse_dev_splice_read), and ->write_buf reads
 * the data from the pipe straight into the device mapping: the only copy
 * is the kernel's pipe-to-user copy in read(2).  (fuse_io.c peeks at the
 * request header on the way, for the KILLPRIV_V2 flags.)
 *
 * Durability, per backing: read(2) has made every store when it returns,
 * but they are ordinary cached stores, not the non-temporal ones of
 * pm_copy_nt.  pmfs_write_src() fences before the transaction that exposes
 * the data commits, so whatever is flushed here is durable before the
 * WRITE reply, as on the buffer path.
 *  - devdax, or an emulation file libpmem calls pmem (a DAX file system):
 *    the mapping is the media, so each copied range is flushed (pm_flush:
 *    CLWB/CLFLUSHOPT per line) and the fence persists it.
 *  - emulation file that is not pmem (/dev/shm): the mapping is the file's
 *    page cache, which is all the "media" there is.  The stores are in it
 *    when read(2) returns, visible to any later mapping or mount even if
 *    the daemon dies at once; a power loss or kernel crash loses tmpfs
 *    whole, flushed or not.  So no flush: it cost 17% of the daemon's CPU
 *    in a sequential write and bought nothing.
 * Splicing from the pipe into the image file instead (no user copy) was
 * not kept: it is impossible on devdax (a character device has no
 * splice_write), it still copies in the kernel, and on tmpfs it takes the
 * image inode's lock, which would serialise all writers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "fuse_splice.h"
#include "persist.h"

#define PIPE_MAX_SIZE "/proc/sys/fs/pipe-max-size"

/* Whether a pipe can be made to hold 'size' bytes by this process. */
static bool pipe_can_hold(size_t size)
{
	int fds[2];
	int got;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return false;
	got = fcntl(fds[0], F_SETPIPE_SZ, (int)size);
	close(fds[0]);
	close(fds[1]);
	return got >= 0 && (size_t)got >= size;
}

/*
 * libfuse splices only into a pipe that holds a whole request (its buffer
 * size, 1 MiB + 4 KiB, rounded by the kernel to 2 MiB), and never again on
 * that thread once it fails to grow one.  Above fs.pipe-max-size (1 MiB by
 * default) that needs CAP_SYS_RESOURCE, which a root daemon in a container
 * may lack: then every WRITE would be read with the extra copy.  So raise
 * the limit to the size needed, never lower it; it only lets unprivileged
 * pipes grow to 2 MiB, still bounded per user by pipe-user-pages-soft.
 */
int pmfs_fuse_splice_prepare(size_t bufsize, unsigned long *raised_from)
{
	unsigned long cur = 0;
	size_t need = 4096;
	FILE *f;
	int ok;

	*raised_from = 0;
	if (pipe_can_hold(bufsize))
		return 0;
	while (need < bufsize)
		need *= 2;
	f = fopen(PIPE_MAX_SIZE, "re");
	ok = f && fscanf(f, "%lu", &cur) == 1;
	if (f)
		fclose(f);
	if (!ok || cur >= need)
		return -1;
	f = fopen(PIPE_MAX_SIZE, "we");
	if (!f)
		return -1;
	ok = fprintf(f, "%zu\n", need) > 0;
	ok = (fclose(f) == 0) && ok;
	if (!ok || !pipe_can_hold(bufsize))
		return -1;
	*raised_from = cur;
	return 0;
}

void pmfs_fuse_splice_init(struct fuse_conn_info *conn)
{
#ifdef PMEMFS_PERSIST_TRACE
	/* The recorder sees the stores libpmem makes, not the kernel's stores
	 * of a read(2) from the pipe: in the persist-trace build every WRITE
	 * is copied by the core (pm_copy_nt), so no persisted store is missed. */
	conn->want &= ~FUSE_CAP_SPLICE_READ;
#else
	if (conn->capable & FUSE_CAP_SPLICE_READ)
		conn->want |= FUSE_CAP_SPLICE_READ;
#endif
	/* Replies are written from the mapping (fuse_ops.c emit_read); libfuse
	 * only splices replies given as fd buffers, so these would be unused. */
	conn->want &= ~(FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
}

struct pipe_src {
	int fd;
	size_t taken;
};

/* Set before the loop: the device is devdax (always flush). */
static bool backing_devdax = true;
/* -1 until the first copy looks; then whether copies are flushed. */
static atomic_int flush_copies = -1;

void pmfs_fuse_splice_set_backing(bool is_devdax)
{
	backing_devdax = is_devdax;
}

/* The whole device is one mapping with one answer: ask libpmem once. */
static bool must_flush(const void *dst, size_t n)
{
	int f = atomic_load_explicit(&flush_copies, memory_order_relaxed);

	if (f < 0) {
		f = backing_devdax || pmem_is_pmem(dst, n);
		atomic_store_explicit(&flush_copies, f, memory_order_relaxed);
	}
	return f != 0;
}

/* pmfs_wsrc.copy: the pipe's next n bytes into pmem, flushed, not fenced. */
static int copy_from_pipe(void *ctx, void *dst, size_t n)
{
	struct pipe_src *p = ctx;
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(p->fd, (char *)dst + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		/* The request's data is all in the pipe before ->write_buf
		 * runs: EOF or EAGAIN (non-blocking pipe) means it is not.
		 * EFAULT is the kernel's store into the mapping failing (a
		 * poisoned page, or past the end of a cut emulation file):
		 * a media error, not a bad user buffer. */
		if (r <= 0)
			return r < 0 && errno != EAGAIN && errno != EFAULT ? -errno : -EIO;
		got += (size_t)r;
	}
	if (must_flush(dst, n))
		pm_flush(dst, n);
	p->taken += n;
	return 0;
}

ssize_t pmfs_fuse_write_pipe(struct pmfs *fs, fuse_ino_t ino, int fd, size_t size, off_t off,
			     unsigned flags, size_t *taken)
{
	struct pipe_src p = {.fd = fd, .taken = 0};
	const struct pmfs_wsrc src = {.copy = copy_from_pipe, .ctx = &p};
	ssize_t ret = pmfs_write_src(fs, ino, &src, size, off, flags);

	*taken += p.taken;
	return ret;
}
