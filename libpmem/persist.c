/*
 * persist.c - the public flush, drain and copy entry points.
 *
 * Each is one thin function over the dispatch table filled at load
 * (init.c), so that the persist-trace build can hook every store range,
 * flush and fence at exactly one place per entry point.  No locks, no
 * environment reads.
 *
 * Persistence contract (PMDK's): pmem_flush starts writing back the lines
 * of a range (nothing when caches are persistent); pmem_drain waits until
 * every flush and non-temporal store issued before it is in the
 * persistence domain; pmem_persist is both.  The copy functions store and
 * flush; the _persist forms then drain, the _nodrain forms leave the
 * drain to the caller, and the flagged forms drain unless NODRAIN or
 * NOFLUSH is given.
 */
#include <errno.h>
#include <sys/uio.h>

#include "libpmem.h"
#include "pmem_internal.h"
#include "trace.h" /* persist-trace hooks: empty unless PMEMFS_PERSIST_TRACE */

PMEM_EXPORT int pmem_has_hw_drain(void)
{
	/* On x86 the drain is SFENCE, done by software: PMDK returns 0. */
	return 0;
}

PMEM_EXPORT void pmem_flush(const void *addr, size_t len)
{
	pmem_flush_lines(Pmem_funcs.flush_kind, addr, len);
	PMEM_TRACE_FLUSH(addr, len);
}

/* Called inside the library without going through the PLT. */
static inline void drain(void)
{
	if (Pmem_funcs.drain_fences)
		pmem_sfence();
	PMEM_TRACE_FENCE();
}

PMEM_EXPORT void pmem_drain(void)
{
	drain();
}

PMEM_EXPORT void pmem_persist(const void *addr, size_t len)
{
	pmem_flush_lines(Pmem_funcs.flush_kind, addr, len);
	PMEM_TRACE_FLUSH(addr, len);
	drain();
}

PMEM_EXPORT void pmem_persist_iov(const struct iovec *iov, size_t count)
{
	enum pmem_flush_kind kind = Pmem_funcs.flush_kind;
	for (size_t i = 0; i < count; i++) {
		pmem_flush_lines(kind, iov[i].iov_base, iov[i].iov_len);
		PMEM_TRACE_FLUSH(iov[i].iov_base, iov[i].iov_len);
	}
	drain();
}

/* Rejects unknown flag bits the way PMDK's debug build reports them, but
 * without aborting: errno = EINVAL, a message, and no store at all. */
static inline int flags_invalid(unsigned flags)
{
	if (__builtin_expect((flags & ~PMEM_F_MEM_VALID_FLAGS) == 0, 1))
		return 0;
	pmem_err("invalid flags 0x%x", flags);
	errno = EINVAL;
	return 1;
}

static inline void drain_unless(unsigned flags)
{
	if (!(flags & (PMEM_F_MEM_NODRAIN | PMEM_F_MEM_NOFLUSH)))
		drain();
}

PMEM_EXPORT void *pmem_memmove(void *pmemdest, const void *src, size_t len, unsigned flags)
{
	if (flags_invalid(flags))
		return pmemdest;
	Pmem_funcs.memmove(pmemdest, src, len, flags);
	PMEM_TRACE_STORE(pmemdest, len, flags);
	drain_unless(flags);
	return pmemdest;
}

/* memcpy is memmove: the body picks its direction, so overlap is safe. */
PMEM_EXPORT void *pmem_memcpy(void *pmemdest, const void *src, size_t len, unsigned flags)
{
	if (flags_invalid(flags))
		return pmemdest;
	Pmem_funcs.memmove(pmemdest, src, len, flags);
	PMEM_TRACE_STORE(pmemdest, len, flags);
	drain_unless(flags);
	return pmemdest;
}

PMEM_EXPORT void *pmem_memset(void *pmemdest, int c, size_t len, unsigned flags)
{
	if (flags_invalid(flags))
		return pmemdest;
	Pmem_funcs.memset(pmemdest, c, len, flags);
	PMEM_TRACE_STORE(pmemdest, len, flags);
	drain_unless(flags);
	return pmemdest;
}

PMEM_EXPORT void *pmem_memmove_nodrain(void *pmemdest, const void *src, size_t len)
{
	Pmem_funcs.memmove(pmemdest, src, len, 0);
	PMEM_TRACE_STORE(pmemdest, len, 0);
	return pmemdest;
}

PMEM_EXPORT void *pmem_memcpy_nodrain(void *pmemdest, const void *src, size_t len)
{
	Pmem_funcs.memmove(pmemdest, src, len, 0);
	PMEM_TRACE_STORE(pmemdest, len, 0);
	return pmemdest;
}

PMEM_EXPORT void *pmem_memset_nodrain(void *pmemdest, int c, size_t len)
{
	Pmem_funcs.memset(pmemdest, c, len, 0);
	PMEM_TRACE_STORE(pmemdest, len, 0);
	return pmemdest;
}

PMEM_EXPORT void *pmem_memmove_persist(void *pmemdest, const void *src, size_t len)
{
	Pmem_funcs.memmove(pmemdest, src, len, 0);
	PMEM_TRACE_STORE(pmemdest, len, 0);
	drain();
	return pmemdest;
}

PMEM_EXPORT void *pmem_memcpy_persist(void *pmemdest, const void *src, size_t len)
{
	Pmem_funcs.memmove(pmemdest, src, len, 0);
	PMEM_TRACE_STORE(pmemdest, len, 0);
	drain();
	return pmemdest;
}

PMEM_EXPORT void *pmem_memset_persist(void *pmemdest, int c, size_t len)
{
	Pmem_funcs.memset(pmemdest, c, len, 0);
	PMEM_TRACE_STORE(pmemdest, len, 0);
	drain();
	return pmemdest;
}
