/*
 * pmemfs_direct.h - what map_file.c and ranges.c call of pmemfs_direct.c
 * (direct maps of files on pmemfs; docs/DIRECT-MAP.md).
 */
#ifndef PMEM_PMEMFS_DIRECT_H
#define PMEM_PMEMFS_DIRECT_H

#include <stddef.h>

/* Maps len bytes of fd (opened O_RDWR) straight from the pmemfs device.
 * NULL, errno unchanged, when fd is not on pmemfs or the direct path is
 * not possible: the caller maps it the ordinary way. */
void *pmem_pmemfs_map(int fd, size_t len);
/* The length pmem_unmap must really unmap: len, or up to the end of a
 * direct map's reservation when [addr, addr+len) reaches its mapped end. */
size_t pmem_pmemfs_unmap_len(const void *addr, size_t len);
/* pmem_unmap unmapped [addr, addr+len): closes the fds of direct maps
 * with nothing left mapped. */
void pmem_pmemfs_unmapped(void *addr, size_t len);

#endif /* PMEM_PMEMFS_DIRECT_H */
