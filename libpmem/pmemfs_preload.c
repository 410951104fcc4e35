/*
 * pmemfs_preload.c - libpmemfs-preload.so: direct maps for programs that
 * call mmap() themselves instead of pmem_map_file() (libpmemobj and the
 * rest of PMDK map their pools this way).  Used as
 * LD_PRELOAD=libpmemfs-preload.so; docs/DIRECT-MAP.md, "The preload".
 *
 * It interposes mmap/mmap64, munmap, mremap and msync, and owns only the
 * rules of which calls are candidates.  The mapping, the grant, the pmem
 * registry and the bookkeeping are libpmem's (pmemfs_direct.h, private
 * version node), the same code pmem_map_file() runs:
 *   - a MAP_SHARED (or MAP_SHARED_VALIDATE) mapping of an fd, with no
 *     flag beyond FIXED, FIXED_NOREPLACE, SYNC, POPULATE, NORESERVE and
 *     NONBLOCK, is offered to pmem_pmemfs_map_range(), which answers NULL
 *     at once (one fstatfs) for anything not on a FUSE mount;
 *   - anything it does not map directly - other files, private or
 *     anonymous maps, a refusal, PMEM_PMEMFS_DIRECT=0 - is the plain
 *     syscall, with the kernel's own answer.  A MAP_SYNC request the
 *     device cannot honour thus gets the FUSE file's EOPNOTSUPP, and
 *     libpmemobj retries without MAP_SYNC as it does on the mount;
 *   - munmap of a direct map keeps the registry and the grant's lifetime
 *     true (pmem_unmap_with); a MAP_FIXED mapping over one forgets the
 *     part it replaced; mremap of a direct map is refused (EINVAL): moving
 *     or growing it would map device bytes that are not the file's; so is
 *     a MAP_FIXED mapping inside a devdax window (an unaligned range mapped
 *     as the aligned window around it, which goes whole at the end);
 *   - msync(MS_SYNC) of a direct map on devdax, which the kernel refuses
 *     (no fsync there) but the FUSE mapping accepted, flushes the range's
 *     cache lines instead (pmem_pmemfs_msync, msync.c).
 * The real calls are raw syscalls, so libpmem's own mmap/munmap calls,
 * which come back through these functions, cannot recurse.
 */
/* With 64-bit offsets glibc's header renames mmap to mmap64; we define
 * both symbols ourselves (off_t is 64 bits on every target we build). */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pmemfs_direct.h"

#define EXPORT __attribute__((visibility("default")))

/* flags a direct map honours; any other makes the call a plain syscall */
#define DIRECT_FLAGS                                                                               \
	(MAP_SHARED_VALIDATE | MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_SYNC | MAP_POPULATE |         \
	 MAP_NORESERVE | MAP_NONBLOCK)

static void *raw_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static int raw_munmap(void *addr, size_t len)
{
	return (int)syscall(SYS_munmap, addr, len);
}

static int raw_msync(void *addr, size_t len, int flags)
{
	return (int)syscall(SYS_msync, addr, len, flags);
}

static bool direct_candidate(size_t len, int flags, int fd, off_t off)
{
	int type = flags & MAP_TYPE;

	return (type == MAP_SHARED || type == MAP_SHARED_VALIDATE) && !(flags & ~DIRECT_FLAGS) &&
	       fd >= 0 && len > 0 && off >= 0;
}

static void *preload_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p;

	if (direct_candidate(len, flags, fd, off)) {
		struct pmem_pmemfs_req req = {
		    .fd = fd,
		    .addr = addr,
		    .fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) != 0,
		    .noreplace = (flags & MAP_FIXED_NOREPLACE) != 0,
		    /* MAP_SHARED ignores unknown flags, MAP_SYNC among them */
		    .sync = (flags & MAP_TYPE) == MAP_SHARED_VALIDATE && (flags & MAP_SYNC),
		    .prot = prot,
		    .off = (uint64_t)off,
		    .len = len,
		};

		p = pmem_pmemfs_map_range(&req);
		if (p)
			return p;
	}
	/* a devdax window goes whole with its caller's last piece: nothing
	 * else may live inside it (pmemfs_direct.h) */
	if ((flags & MAP_FIXED) && pmem_pmemfs_in_window(addr, len)) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	p = raw_mmap(addr, len, prot, flags, fd, off);
	/* only MAP_FIXED replaces mappings (NOREPLACE fails instead) */
	if (p != MAP_FAILED && (flags & MAP_FIXED) && pmem_pmemfs_overlaps(p, len))
		pmem_pmemfs_replaced(p, len);
	return p;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return preload_mmap(addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return preload_mmap(addr, len, prot, flags, fd, off);
}

EXPORT int munmap(void *addr, size_t len)
{
	/* a devdax window's spare ends are ours too: no cut in them */
	if (pmem_pmemfs_overlaps(addr, len) || pmem_pmemfs_in_window(addr, len))
		return pmem_unmap_with(addr, len, raw_munmap);
	return raw_munmap(addr, len);
}

/* MS_SYNC of a direct map from a devdax device: the kernel has no fsync
 * there (EINVAL); libpmem flushes its cache lines instead. */
EXPORT int msync(void *addr, size_t len, int flags)
{
	if (pmem_pmemfs_overlaps(addr, len))
		return pmem_pmemfs_msync(addr, len, flags, raw_msync);
	return raw_msync(addr, len, flags);
}

EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *new_addr = NULL, *p;

	if (flags & MREMAP_FIXED) {
		va_list ap;

		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	/* old_len 0 duplicates a shared mapping: one page is enough to ask */
	if (pmem_pmemfs_overlaps(old, old_len ? old_len : 1)) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	p = (void *)syscall(SYS_mremap, old, old_len, new_len, flags, new_addr);
	if (p != MAP_FAILED && (flags & MREMAP_FIXED) && pmem_pmemfs_overlaps(p, new_len))
		pmem_pmemfs_replaced(p, new_len);
	return p;
}
