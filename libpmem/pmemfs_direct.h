/*
 * pmemfs_direct.h - direct maps of files on pmemfs (docs/DIRECT-MAP.md):
 * what map_file.c and ranges.c call of pmemfs_direct.c, and the private
 * entry points (libpmem.map, LIBPMEM_PMEMFS_PRIVATE) through which
 * libpmemfs-preload.so uses the same machinery for plain mmap() calls.
 */
#ifndef PMEM_PMEMFS_DIRECT_H
#define PMEM_PMEMFS_DIRECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Entry points exported to libpmemfs-preload.so in the private version
 * node (libpmem.map); hidden otherwise like all of libpmem's internals. */
#define PMEM_PRIVATE_API __attribute__((visibility("default")))

/* One request to map [off, off + len) of a file straight from the device. */
struct pmem_pmemfs_req {
	int fd;		/* the file, open for reading (and writing, for a writable grant) */
	void *addr;	/* wanted address, or NULL: anywhere (aligned for the device) */
	bool fixed;	/* addr is not a hint: map exactly there (MAP_FIXED) */
	bool noreplace; /* with fixed: fail if anything is mapped there */
	bool sync;	/* MAP_SYNC asked for: every piece must take it */
	int prot;	/* PROT_* for the device mapping */
	uint64_t off;	/* file offset, page aligned */
	size_t len;	/* bytes asked for (> 0) */
};

/* Maps req's range straight from the pmemfs device and registers it as
 * pmem where it is (devdax, or MAP_SYNC taken).  NULL, errno unchanged,
 * when the fd is not on pmemfs, PMEM_PMEMFS_DIRECT=0, or anything refuses:
 * the caller maps it the ordinary way (through FUSE). */
PMEM_PRIVATE_API void *pmem_pmemfs_map_range(const struct pmem_pmemfs_req *req);
/* pmem_map_file's use of it: the whole file, anywhere, writable. */
void *pmem_pmemfs_map(int fd, size_t len);
/* pmem_unmap's first step: when [addr, addr+len) lies in a direct map
 * wider than its caller's range (a devdax window), forget that part and
 * unmap the window with unmap() once nothing of it is left.  1 when it
 * was such a range (done), 0 when not (unmap it the ordinary way), -1 and
 * errno when unmapping the window failed or the range straddles a window's
 * edge (EINVAL, as devdax answers a cut off its alignment). */
int pmem_pmemfs_unmap_window(void *addr, size_t len, int (*unmap)(void *, size_t));
/* [addr, addr+len) was unmapped (or mapped over): closes the fds of
 * direct maps with nothing left mapped. */
void pmem_pmemfs_unmapped(void *addr, size_t len);
/* Whether [addr, addr+len) touches a live direct map; lock-free false
 * while there are none (the preload's munmap fast path). */
PMEM_PRIVATE_API bool pmem_pmemfs_overlaps(const void *addr, size_t len);
/* pmem_unmap's body with the unmapping call as a parameter (the preload
 * passes the raw syscall, pmem_unmap munmap()): keeps the registry and the
 * direct maps' bookkeeping true around it.  0, or -1 with errno. */
PMEM_PRIVATE_API int pmem_unmap_with(void *addr, size_t len, int (*unmap)(void *, size_t));
/* Whether [addr, addr+len) touches a devdax window (see unmap_window): a
 * MAP_FIXED mapping there would be unmapped with the window, so the
 * preload refuses it. */
PMEM_PRIVATE_API bool pmem_pmemfs_in_window(const void *addr, size_t len);
/* Something else now occupies [addr, addr+len) (a MAP_FIXED mapping over
 * it): forget it as pmem and as a direct map. */
PMEM_PRIVATE_API void pmem_pmemfs_replaced(void *addr, size_t len);
/* The preload's msync (msync.c): the devdax parts of the range, where the
 * kernel would answer MS_SYNC with EINVAL, are flushed (pmem_persist);
 * the rest goes to raw().  0, or -1 with errno. */
PMEM_PRIVATE_API int pmem_pmemfs_msync(void *addr, size_t len, int flags,
				       int (*raw)(void *, size_t, int));

#endif /* PMEM_PMEMFS_DIRECT_H */
