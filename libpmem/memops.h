/*
 * memops.h - the per-ISA bodies of pmem_memmove and pmem_memset that
 * init.c puts in the dispatch table.  Each honours PMEM_F_MEM_NOFLUSH,
 * NONTEMPORAL/WC, TEMPORAL/WB and the movnt threshold, flushes what it
 * stored, and never drains (the public entry points do).
 */
#ifndef PMEM_MEMOPS_H
#define PMEM_MEMOPS_H

#include <stddef.h>

/* Plain C, temporal stores only (PMEM_NO_MOVNT=1, or no SSE2). */
void *pmem_memmove_generic(void *dst, const void *src, size_t len, unsigned flags);
void *pmem_memset_generic(void *dst, int c, size_t len, unsigned flags);

void *pmem_memmove_sse2(void *dst, const void *src, size_t len, unsigned flags);
void *pmem_memset_sse2(void *dst, int c, size_t len, unsigned flags);

void *pmem_memmove_avx2(void *dst, const void *src, size_t len, unsigned flags);
void *pmem_memset_avx2(void *dst, int c, size_t len, unsigned flags);

void *pmem_memmove_avx512f(void *dst, const void *src, size_t len, unsigned flags);
void *pmem_memset_avx512f(void *dst, int c, size_t len, unsigned flags);

#endif /* PMEM_MEMOPS_H */
