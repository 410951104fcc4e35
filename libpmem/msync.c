/*
 * msync.c - persistence through the kernel: pmem_msync(), and the "deep"
 * calls that reach past the CPU caches and the ADR domain
 * (pmem_deep_flush, pmem_deep_drain, pmem_deep_persist).
 *
 * PMDK 1.12 semantics (src/libpmem/pmem.c, src/common/os_deep_linux.c):
 * deep_flush writes the cache lines back even where pmem_flush() would skip
 * them (eADR, PMEM_NO_FLUSH=1); deep_drain walks the range and, for the
 * parts mapped from a devdax device, drains and writes "1" to the nd
 * region's deep_flush, and msyncs every other part; deep_persist is both.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libpmem.h"
#include "pmem_internal.h"
#include "pmemfs_direct.h"

static int msync_reported(void *addr, size_t len, int flags)
{
	if (msync(addr, len, flags) < 0) {
		pmem_err("msync %p + %zu: %s", addr, len, strerror(errno));
		return -1;
	}
	return 0;
}

/* msync() wants a page-aligned address but any length: round addr down and
 * grow len so the span still holds [addr, addr + len).  -1 when it wraps. */
static int page_span(const void *addr, size_t len, void **start, size_t *span)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t at = (uintptr_t)addr & ~(page - 1);

	*start = (void *)at;
	*span = len + ((uintptr_t)addr - at);
	if (*span < len || *span > UINTPTR_MAX - at - page) {
		errno = EINVAL;
		pmem_err("pmem_msync %p + %zu: range wraps around", addr, len);
		return -1;
	}
	return 0;
}

/* The kernel's msync of [addr, addr + len), whatever is mapped there. */
static int msync_span(const void *addr, size_t len)
{
	void *start;
	size_t span;

	if (page_span(addr, len, &start, &span) < 0)
		return -1;
	return msync_reported(start, span, MS_SYNC);
}

/* Parts mapped from device DAX (devdax itself, or a pmemfs direct map on
 * it) have no fsync in the kernel, which answers MS_SYNC with EINVAL; they
 * are persisted the way pmem is (pmem_pmemfs_msync below), so pmem_msync
 * keeps its promise on every mapping pmem_map_file returns.  PMDK 1.12
 * returns the kernel's EINVAL on devdax. */
PMEM_EXPORT int pmem_msync(const void *addr, size_t len)
{
	void *start;
	size_t span;

	if (page_span(addr, len, &start, &span) < 0)
		return -1;
	return pmem_pmemfs_msync(start, span, MS_SYNC, msync_reported);
}

PMEM_EXPORT void pmem_deep_flush(const void *addr, size_t len)
{
	Pmem_funcs.deep_flush(addr, len);
}

/* The devdax part of a deep drain: the stores must have left the CPU
 * before the memory controller's queues are flushed. */
static int deep_drain_devdax(const struct pmem_range *range)
{
	pmem_drain();
	return pmem_region_deep_flush(range->region_id);
}

PMEM_EXPORT int pmem_deep_drain(const void *addr, size_t len)
{
	uintptr_t at = (uintptr_t)addr;
	uintptr_t end = len > UINTPTR_MAX - at ? UINTPTR_MAX : at + len;

	while (at < end) {
		struct pmem_range range;
		bool found = pmem_range_find((const void *)at, end - at, &range) == 0;
		uintptr_t stop;
		if (found && range.start <= at) {
			stop = range.end < end ? range.end : end;
			if (range.kind == PMEM_RANGE_DEVDAX) {
				/* The device mapping holds the range's last page
				 * whole (a direct map of an odd-sized file is
				 * registered with the file's length): the part of
				 * that page past range.end is no gap to msync, which
				 * would start at the page and reach the device (the
				 * kernel's EINVAL; under the preload, whose msync
				 * comes back here, endless recursion). */
				uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
				uintptr_t whole = (range.end + page - 1) & ~(page - 1);

				if (deep_drain_devdax(&range) < 0)
					return -1;
				at = whole < end ? whole : end;
				continue;
			}
		} else {
			stop = found ? range.start : end; /* the gap before the next range */
		}
		if (msync_span((const void *)at, stop - at) < 0)
			return -1;
		at = stop;
	}
	return 0;
}

PMEM_EXPORT int pmem_deep_persist(const void *addr, size_t len)
{
	pmem_deep_flush(addr, len);
	return pmem_deep_drain(addr, len);
}

/*
 * msync() under libpmemfs-preload.so.  A program that mmap()s a pmemfs
 * file and persists with msync(MS_SYNC) gets a direct map there; from a
 * devdax device the kernel answers MS_SYNC on it with EINVAL (device DAX
 * has no fsync), which the program never saw on the FUSE file.  The
 * parts of the range registered as devdax are therefore persisted the way
 * pmem is, by writing their cache lines back and flushing the region's
 * memory controller (pmem_deep_persist): what MS_SYNC promises.  Every other part goes to raw(), and so does a
 * call that is not MS_SYNC or that the kernel would refuse anyway (the
 * kernel's own answer).  Like msync, len is rounded up to pages.
 */
PMEM_PRIVATE_API int pmem_pmemfs_msync(void *addr, size_t len, int flags,
				       int (*raw)(void *, size_t, int))
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t at = (uintptr_t)addr, end;

	if (!(flags & MS_SYNC) || (flags & MS_ASYNC) || at % page || len == 0 ||
	    len > UINTPTR_MAX - at - page)
		return raw(addr, len, flags);
	end = (at + len + page - 1) & ~(page - 1);
	while (at < end) {
		struct pmem_range r;
		bool found = pmem_range_find((const void *)at, end - at, &r) == 0;
		uintptr_t stop = end;

		if (found && r.start <= at) {
			/* a mapping is whole pages: so is the range's last one */
			uintptr_t r_end = (r.end + page - 1) & ~(page - 1);

			stop = r_end < end ? r_end : end;
			if (r.kind == PMEM_RANGE_DEVDAX) {
				/* what fsync of a DAX file does: write the lines
				 * back, then flush the memory controller's queues */
				if (pmem_deep_persist((const void *)at, stop - at) < 0)
					return -1;
				at = stop;
				continue;
			}
		} else if (found && (r.start & ~(page - 1)) > at) {
			stop = r.start & ~(page - 1); /* the gap before the next range */
		}
		if (raw((void *)at, stop - at, flags) < 0)
			return -1;
		at = stop;
	}
	return 0;
}
