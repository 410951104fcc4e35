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

#include "flush.h"

#define PMEM_EXPORT __attribute__((visibility("default")))

/* ---- log.c: PMEM_LOG_LEVEL / PMEM_LOG_FILE, thread-local error message --- */
/* Formats the thread's pmem_errormsg() text and logs it at level 1.  Keeps
 * errno unchanged. */
void pmem_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs when PMEM_LOG_LEVEL >= level; silent otherwise (the default). */
void pmem_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Environment helpers: -1 when unset or not a number. */
long pmem_env_long(const char *name);
/* Reads PMEM_LOG_LEVEL / PMEM_LOG_FILE (load time) and closes the file
 * (unload time); pmem_log_level() is the level in force. */
void pmem_log_init(void);
void pmem_log_fini(void);
int pmem_log_level(void);

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
	/* The CPU's flush instruction even when flushing is skipped (eADR,
	 * PMEM_NO_FLUSH=1): pmem_deep_flush() still writes back the lines. */
	pmem_flush_fn deep_flush;
	/* The instruction behind flush, for the inline loops of flush.h;
	 * PMEM_FLUSH_NONE when flushing is skipped. */
	enum pmem_flush_kind flush_kind;
	/* pmem_drain() issues SFENCE (false only in CLFLUSH mode). */
	bool drain_fences;
	/* Non-temporal copies end with their own SFENCE because drain will
	 * not (CLFLUSH mode): CLFLUSH is ordered, NT stores are not. */
	bool fence_after_nt;
};
extern struct pmem_funcs Pmem_funcs;
void pmem_init(void); /* idempotent; run by a constructor */
/* Fills Pmem_funcs from CPUID, the environment and the nd regions.  Run
 * once by pmem_init(); unit tests that link libpmem's objects call it again
 * after changing the environment or the sysfs root (not thread-safe). */
void pmem_dispatch_select(void);

/* ---- sysfs.c: where sysfs is (a fake tree in unit tests) ---------------- */
/* Builds "<sysfs root><rel>" into buf; -1 (ENAMETOOLONG) if it does not fit. */
int pmem_sysfs_path(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Reads a small sysfs attribute into buf (NUL-terminated); its length or -1. */
long pmem_sysfs_read(const char *path, char *buf, size_t size);
/* Test hook: sysfs lives under root instead of /sys (NULL restores /sys).
 * Not thread-safe; call before mapping anything. */
void pmem_sysfs_set_root(const char *root);

/* ---- devdax.c: device-DAX character devices ----------------------------- */
struct stat;
struct pmem_devdax {
	size_t size;	/* bytes, from /sys/dev/char/M:m/size */
	size_t align;	/* mapping granularity, from the align attributes */
	int region_id;	/* nd region of the device, -1 if not found */
};
/* 1 and *info filled when st is a devdax device, 0 when it is not,
 * -1 with errno (and pmem_err) when sysfs cannot tell. */
int pmem_devdax_from_stat(const struct stat *st, struct pmem_devdax *info);
/* Is this fd a device-DAX character device?  Fills size and alignment. */
bool pmem_devdax_info(int fd, size_t *size, size_t *align);

/* ---- nd_region.c: nd regions (persistence domain, deep flush) ----------- */
/* Every nd region's persistence_domain says cpu_cache. */
bool pmem_auto_flush_all_regions(void);
/* Writes 1 to region<id>/deep_flush (flushes the memory controller's write
 * queues); 0 also when the region has no deep_flush, -1 on a failed write. */
int pmem_region_deep_flush(int region_id);
/* Writes 1 to the region's deep_flush for a devdax fd; -1 if not possible. */
int pmem_devdax_deep_flush(int fd);

/* ---- ranges.c: the registry of mapped ranges ---------------------------- */
enum pmem_range_kind { PMEM_RANGE_FILE, PMEM_RANGE_DEVDAX, PMEM_RANGE_MAP_SYNC };
struct pmem_range {
	uintptr_t start;
	uintptr_t end; /* exclusive */
	enum pmem_range_kind kind;
	int region_id; /* devdax ranges: the nd region, else -1 */
	size_t align;  /* devdax ranges: the device's alignment, else 0 */
};
/* Records [addr, addr+len); region_id and align as in struct pmem_range.
 * Entries it overlaps are stale (the kernel just handed out this range)
 * and go. */
int pmem_range_register(void *addr, size_t len, enum pmem_range_kind kind, int region_id,
			size_t align);
/* Removes [addr, addr+len), splitting ranges that straddle it.  Never fails:
 * without memory for a split it forgets the tail too (reads as not pmem). */
void pmem_range_unregister(void *addr, size_t len);
/* 1 when every byte of [addr, addr+len) lies in pmem ranges. */
int pmem_range_is_pmem(const void *addr, size_t len);
/* Copies the lowest registered range overlapping [addr, addr+len) into
 * *found; 0 if there is one, -1 if none. */
int pmem_range_find(const void *addr, size_t len, struct pmem_range *found);

/* ---- mmap_hint.c: where mappings go -------------------------------------- */
/* The alignment for a mapping of len bytes: req_align if larger, else 1 GiB
 * from 2 GiB up, 2 MiB from 4 MiB up, else the page size (PMDK's rule). */
size_t pmem_mmap_align(size_t len, size_t req_align);
/* Reserves len bytes of address space (PROT_NONE) aligned to
 * pmem_mmap_align(len, req_align), at or above PMEM_MMAP_HINT when that is
 * set; the caller maps over it with MAP_FIXED.  NULL and errno on failure. */
void *pmem_mmap_reserve(size_t len, size_t req_align);

/* ---- map_fd.c: mapping an open fd ---------------------------------------- */
/* Maps len bytes of fd over a fresh aligned reservation: MAP_SYNC first,
 * plain MAP_SHARED when the file system refuses it; registers the range.
 * devdax is NULL for a regular file.  NULL and errno on failure. */
void *pmem_map_fd(int fd, size_t len, const struct pmem_devdax *devdax);

#endif /* PMEM_INTERNAL_H */
