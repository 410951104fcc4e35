/*
 * libpmem.h - the public interface of pmemfs's libpmem, a drop-in
 * replacement for PMDK's libpmem 1.x.
 *
 * Every declaration and constant below has the same value and type as in
 * PMDK 1.12's header, so a program compiled against either header runs on
 * either library.  The pmemfs extensions at the bottom are only declared
 * when PMEMFS_LIBPMEM_EXTENSIONS is defined (libpmem_dep defines it for the
 * pmemfs tree), so that a program written for PMDK which happens to use
 * one of those names itself still compiles unchanged.
 */
#ifndef LIBPMEM_H
#define LIBPMEM_H 1

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Smallest part of a pool set (a pool header plus alignment slack). */
#define PMEM_MIN_PART ((size_t)(1024 * 1024 * 2))

/* pmem_map_file() flags. */
#define PMEM_FILE_CREATE	(1 << 0)
#define PMEM_FILE_EXCL		(1 << 1)
#define PMEM_FILE_SPARSE	(1 << 2)
#define PMEM_FILE_TMPFILE	(1 << 3)

void *pmem_map_file(const char *path, size_t len, int flags, mode_t mode,
		    size_t *mapped_lenp, int *is_pmemp);
int pmem_unmap(void *addr, size_t len);
int pmem_is_pmem(const void *addr, size_t len);
void pmem_persist(const void *addr, size_t len);
int pmem_msync(const void *addr, size_t len);
int pmem_has_auto_flush(void);
void pmem_flush(const void *addr, size_t len);
void pmem_deep_flush(const void *addr, size_t len);
int pmem_deep_drain(const void *addr, size_t len);
int pmem_deep_persist(const void *addr, size_t len);
void pmem_drain(void);
int pmem_has_hw_drain(void);

void *pmem_memmove_persist(void *pmemdest, const void *src, size_t len);
void *pmem_memcpy_persist(void *pmemdest, const void *src, size_t len);
void *pmem_memset_persist(void *pmemdest, int c, size_t len);
void *pmem_memmove_nodrain(void *pmemdest, const void *src, size_t len);
void *pmem_memcpy_nodrain(void *pmemdest, const void *src, size_t len);
void *pmem_memset_nodrain(void *pmemdest, int c, size_t len);

/* Flags of pmem_memmove(), pmem_memcpy() and pmem_memset(). */
#define PMEM_F_MEM_NODRAIN	(1U << 0) /* skip the final fence */
#define PMEM_F_MEM_NONTEMPORAL	(1U << 1) /* bypass the cache */
#define PMEM_F_MEM_TEMPORAL	(1U << 2) /* store through the cache */
#define PMEM_F_MEM_WC		(1U << 3) /* write-combining (non-temporal) */
#define PMEM_F_MEM_WB		(1U << 4) /* write-back (cached, then flushed) */
#define PMEM_F_MEM_NOFLUSH	(1U << 5) /* leave the lines in the cache */

#define PMEM_F_MEM_VALID_FLAGS (PMEM_F_MEM_NODRAIN | \
				PMEM_F_MEM_NONTEMPORAL | \
				PMEM_F_MEM_TEMPORAL | \
				PMEM_F_MEM_WC | \
				PMEM_F_MEM_WB | \
				PMEM_F_MEM_NOFLUSH)

void *pmem_memmove(void *pmemdest, const void *src, size_t len, unsigned flags);
void *pmem_memcpy(void *pmemdest, const void *src, size_t len, unsigned flags);
void *pmem_memset(void *pmemdest, int c, size_t len, unsigned flags);

/* The API version this header describes; pass to pmem_check_version(). */
#define PMEM_MAJOR_VERSION 1
#define PMEM_MINOR_VERSION 1

const char *pmem_check_version(unsigned major_required,
			       unsigned minor_required);
const char *pmem_errormsg(void);

#ifdef PMEMFS_LIBPMEM_EXTENSIONS
/*
 * pmemfs extensions, exported under symbol version LIBPMEM_PMEMFS_1.0 so
 * that LIBPMEM_1.0 holds exactly PMDK's 23 functions.
 */
struct iovec;

/* Flushes every range of iov[0..count) and then drains once. */
void pmem_persist_iov(const struct iovec *iov, size_t count);

/* Maps len bytes of an already open fd (a devdax device or a file) shared
 * and read-write, registering the range as pmem when it is; NULL and errno
 * on failure.  Undo with pmem_unmap(). */
void *pmem_map(int fd, size_t len);
#endif

#ifdef __cplusplus
}
#endif
#endif /* LIBPMEM_H */
