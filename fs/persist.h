/*
 * persist.h - the one small API through which the core changes persistent
 * memory.  Every store to the device mapping goes through these helpers so
 * that the persist-trace build of libpmem (meson -Dpersist_trace=true) sees
 * each store, flush and fence; a plain assignment to pmem elsewhere in the
 * core is a bug.  Without the trace build they compile to the bare libpmem
 * calls and inline stores.
 */
#ifndef PMEMFS_PERSIST_H
#define PMEMFS_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "libpmem.h"

/* Copy to pmem and flush; ordered by the next pm_fence(). */
static inline void pm_copy(void *dst, const void *src, size_t n)
{
	pmem_memcpy(dst, src, n, PMEM_F_MEM_NODRAIN);
}

/* Large data copies: non-temporal, flushed, not yet fenced. */
static inline void pm_copy_nt(void *dst, const void *src, size_t n)
{
	pmem_memcpy(dst, src, n, PMEM_F_MEM_NODRAIN | PMEM_F_MEM_NONTEMPORAL);
}

static inline void pm_set(void *dst, int c, size_t n)
{
	pmem_memset(dst, c, n, PMEM_F_MEM_NODRAIN);
}

static inline void pm_store64(uint64_t *dst, uint64_t v)
{
#ifdef PMEMFS_PERSIST_TRACE
	pmem_memcpy(dst, &v, sizeof(v), PMEM_F_MEM_NODRAIN);
#else
	__atomic_store_n(dst, v, __ATOMIC_RELAXED);
	pmem_flush(dst, sizeof(*dst));
#endif
}

/* Atomic bit operations on a pmem word, flushed (bitmap replay). */
static inline void pm_or64(uint64_t *dst, uint64_t mask)
{
	__atomic_fetch_or(dst, mask, __ATOMIC_RELAXED);
	pmem_flush(dst, sizeof(*dst));
}

static inline void pm_andn64(uint64_t *dst, uint64_t mask)
{
	__atomic_fetch_and(dst, ~mask, __ATOMIC_RELAXED);
	pmem_flush(dst, sizeof(*dst));
}

static inline void pm_flush(const void *p, size_t n)
{
	pmem_flush(p, n);
}

/*
 * Test hook: when set, called after every fence.  Crash-point tests use it
 * to snapshot the device at each persist point (everything flushed and
 * fenced so far is exactly what a power failure there would leave).
 * Defined in util.c; NULL in production.
 */
extern void (*pmfs_fence_hook)(void);

/* Orders every flushed store before any later store reaches media. */
static inline void pm_fence(void)
{
	pmem_drain();
	if (__builtin_expect(pmfs_fence_hook != NULL, 0))
		pmfs_fence_hook();
}

#endif /* PMEMFS_PERSIST_H */
