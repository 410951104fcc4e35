/*
 * pmem_internal.h - what libpmem's own files share and export to nothing
 * else: the dispatch table, logging and error messages, environment
 * parsing, and the mapped-range registry.  Everything here is hidden
 * (-fvisibility=hidden); only PMEM_EXPORT symbols reach libpmem.map.
 */
#ifndef PMEM_INTERNAL_H
#define PMEM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PMEM_EXPORT __attribute__((visibility("default")))

/* ---- log.c: PMEM_LOG_LEVEL / PMEM_LOG_FILE, thread-local error message --- */
/* Formats the thread's pmem_errormsg() text and logs it at level 1.  Keeps
 * errno unchanged. */
void pmem_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs when PMEM_LOG_LEVEL >= level; silent otherwise (the default). */
void pmem_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Environment helpers: -1 when unset or not a number. */
long pmem_env_long(const char *name);

/* ---- init.c / cpu.c: the dispatch table, filled once at load ------------- */
typedef void (*pmem_flush_fn)(const void *addr, size_t len);
typedef void (*pmem_fence_fn)(void);
typedef void *(*pmem_memmove_fn)(void *dst, const void *src, size_t len, unsigned flags);
typedef void *(*pmem_memset_fn)(void *dst, int c, size_t len, unsigned flags);

struct pmem_funcs {
	pmem_flush_fn flush;	  /* CLWB / CLFLUSHOPT / CLFLUSH, or empty */
	pmem_fence_fn fence;	  /* SFENCE, or empty in CLFLUSH mode */
	pmem_memmove_fn memmove;  /* ISA-specific body, honours PMEM_F_MEM_* */
	pmem_memset_fn memset;
	bool flush_needed;	  /* false under eADR unless PMEM_NO_FLUSH=0 */
	bool has_hw_drain;
	size_t movnt_threshold;	  /* PMEM_MOVNT_THRESHOLD, default 256 */
	const char *flush_name;	  /* "clwb", "clflushopt", "clflush", "none" */
	const char *memcpy_name;  /* "avx512f", "avx2", "sse2", "generic" */
};
extern struct pmem_funcs Pmem_funcs;
void pmem_init(void); /* idempotent; run by a constructor */

/* ---- devdax.c ------------------------------------------------------------ */
/* Is this fd a device-DAX character device?  Fills size and alignment. */
bool pmem_devdax_info(int fd, size_t *size, size_t *align);
/* Every nd region's persistence_domain says cpu_cache. */
bool pmem_auto_flush_all_regions(void);
/* Writes 1 to the region's deep_flush for a devdax fd; -1 if not possible. */
int pmem_devdax_deep_flush(int fd);

/* ---- ranges.c: the registry of mapped ranges ---------------------------- */
enum pmem_range_kind { PMEM_RANGE_FILE, PMEM_RANGE_DEVDAX, PMEM_RANGE_MAP_SYNC };
int pmem_range_register(void *addr, size_t len, enum pmem_range_kind kind, int fd);
/* Removes [addr, addr+len), splitting ranges that straddle it. */
void pmem_range_unregister(void *addr, size_t len);
/* 1 when every byte of [addr, addr+len) lies in pmem ranges. */
int pmem_range_is_pmem(const void *addr, size_t len);
/* The devdax fd of the range holding addr, or -1. */
int pmem_range_devdax_fd(const void *addr);

/* ---- mmap_hint.c --------------------------------------------------------- */
/* An address to hint at, aligned to 2 MiB (1 GiB for large lengths), or
 * NULL; honours PMEM_MMAP_HINT. */
void *pmem_mmap_hint(size_t len, size_t align);

#endif /* PMEM_INTERNAL_H */
