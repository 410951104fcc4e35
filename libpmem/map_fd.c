/*
 * map_fd.c - mapping an open fd: the generic path under pmem_map_file(),
 * and the pmem_map() extension that takes an fd its caller opened.
 *
 * A mapping goes over an aligned PROT_NONE reservation (mmap_hint.c) with
 * MAP_FIXED.  MAP_SHARED_VALIDATE | MAP_SYNC is tried first: the kernel
 * grants it only where the page tables point straight at persistent media
 * (fs-dax, devdax), so success means CPU stores plus flushes are durable
 * and the range is recorded as pmem.  File systems without DAX refuse it
 * with EOPNOTSUPP (kernels before 4.15 with EINVAL); we then map with plain
 * MAP_SHARED, and the range is not pmem.  Both refusals come from checks
 * the kernel makes before it touches any mapping, so the reservation is
 * still in place for the second attempt.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PMEMFS_LIBPMEM_EXTENSIONS
#define PMEMFS_LIBPMEM_EXTENSIONS 1
#endif
#include "libpmem.h"
#include "pmem_internal.h"

#define MAP_PROT (PROT_READ | PROT_WRITE)

static size_t page_rounded(size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	return (len + page - 1) / page * page;
}

void *pmem_map_fd(int fd, size_t len, const struct pmem_devdax *devdax)
{
	void *reserved = pmem_mmap_reserve(len, devdax != NULL ? devdax->align : 0);
	if (reserved == NULL)
		return NULL;

	bool map_sync = true;
	void *addr =
	    mmap(reserved, len, MAP_PROT, MAP_SHARED_VALIDATE | MAP_SYNC | MAP_FIXED, fd, 0);
	if (addr == MAP_FAILED && (errno == EOPNOTSUPP || errno == EINVAL)) {
		pmem_log(4, "fd %d: no MAP_SYNC (%s), mapping without it", fd, strerror(errno));
		map_sync = false;
		addr = mmap(reserved, len, MAP_PROT, MAP_SHARED | MAP_FIXED, fd, 0);
	}
	if (addr == MAP_FAILED) {
		int saved_errno = errno;
		munmap(reserved, page_rounded(len));
		errno = saved_errno;
		pmem_err("mmap of %zu bytes failed: %s", len, strerror(errno));
		return NULL;
	}

	if (devdax != NULL || map_sync) {
		enum pmem_range_kind kind =
		    devdax != NULL ? PMEM_RANGE_DEVDAX : PMEM_RANGE_MAP_SYNC;
		int region_id = devdax != NULL ? devdax->region_id : -1;
		size_t align = devdax != NULL ? devdax->align : 0;
		if (pmem_range_register(addr, len, kind, region_id, align) < 0) {
			int saved_errno = errno;
			munmap(addr, len);
			errno = saved_errno;
			return NULL;
		}
	}
	pmem_log(3, "fd %d: %zu bytes at %p (%s)", fd, len, addr,
		 devdax != NULL ? "devdax"
		 : map_sync	? "MAP_SYNC"
				: "page cache");
	return addr;
}

/* len 0 means the whole device; else at most the device, in whole units of
 * its alignment (the kernel refuses any other devdax mapping). */
static int devdax_map_len(const struct pmem_devdax *devdax, size_t *len)
{
	if (*len == 0)
		*len = devdax->size;
	if (*len > devdax->size || *len % devdax->align != 0) {
		errno = EINVAL;
		pmem_err("pmem_map: device DAX length %zu must be at most %zu and a multiple of "
			 "%zu",
			 *len, devdax->size, devdax->align);
		return -1;
	}
	return 0;
}

/* len 0 means the whole file; more than the file would fault on access. */
static int file_map_len(const struct stat *st, size_t *len)
{
	if (st->st_size == 0) {
		errno = EINVAL;
		pmem_err("pmem_map: the file is empty");
		return -1;
	}
	if (*len == 0)
		*len = (size_t)st->st_size;
	if (*len > (size_t)st->st_size) {
		errno = EINVAL;
		pmem_err("pmem_map: length %zu is beyond the end of the file (%lld bytes)", *len,
			 (long long)st->st_size);
		return -1;
	}
	return 0;
}

PMEM_EXPORT void *pmem_map(int fd, size_t len)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		pmem_err("pmem_map: fd %d: %s", fd, strerror(errno));
		return NULL;
	}
	struct pmem_devdax devdax;
	int is_devdax = pmem_devdax_from_stat(&st, &devdax);
	if (is_devdax < 0)
		return NULL;
	if (is_devdax) {
		if (devdax_map_len(&devdax, &len) < 0)
			return NULL;
		return pmem_map_fd(fd, len, &devdax);
	}
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		pmem_err("pmem_map: fd %d is neither a regular file nor a device DAX", fd);
		return NULL;
	}
	if (file_map_len(&st, &len) < 0)
		return NULL;
	return pmem_map_fd(fd, len, NULL);
}
