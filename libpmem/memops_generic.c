/*
 * memops_generic.c - pmem_memmove/pmem_memset in plain C with ordinary
 * (temporal) stores followed by a flush: the path of PMEM_NO_MOVNT=1, as
 * in PMDK, where the NONTEMPORAL/WC flags cannot be honoured and mean
 * "store, then flush".
 *
 * 8-byte atomicity: once dst is 8-aligned, whole words are written with
 * one relaxed atomic 8-byte store each (which also stops the compiler
 * from turning the loop into a call to memcpy, whose store widths we do
 * not control).  With dst and len both multiples of 8 there is no byte
 * head or tail, so every store is 8 bytes.
 */
#include <stdint.h>

#include "libpmem.h"
#include "memops.h"
#include "pmem_internal.h"

typedef uint64_t u64_any __attribute__((aligned(1), may_alias));

static void store_word(char *d, uint64_t v)
{
	__atomic_store_n((uint64_t *)(void *)d, v, __ATOMIC_RELAXED);
}

/* Copies upward: safe when d is below s or the ranges do not overlap. */
static void copy_up(char *d, const char *s, size_t len)
{
	while (len != 0 && ((uintptr_t)d & 7) != 0) {
		*d++ = *s++;
		len--;
	}
	for (; len >= 8; len -= 8, d += 8, s += 8)
		store_word(d, *(const u64_any *)s);
	while (len != 0) {
		*d++ = *s++;
		len--;
	}
}

/* Copies downward from the ends: safe when d is above s. */
static void copy_down(char *d, const char *s, size_t len)
{
	d += len;
	s += len;
	while (len != 0 && ((uintptr_t)d & 7) != 0) {
		*--d = *--s;
		len--;
	}
	for (; len >= 8; len -= 8) {
		d -= 8;
		s -= 8;
		store_word(d, *(const u64_any *)s);
	}
	while (len != 0) {
		*--d = *--s;
		len--;
	}
}

void *pmem_memmove_generic(void *dst, const void *src, size_t len, unsigned flags)
{
	char *d = dst;
	const char *s = src;
	if (len == 0 || d == s)
		return dst;
	if ((uintptr_t)d - (uintptr_t)s >= len)
		copy_up(d, s, len);
	else
		copy_down(d, s, len);
	if (!(flags & PMEM_F_MEM_NOFLUSH))
		pmem_flush_lines(Pmem_funcs.flush_kind, d, len);
	return dst;
}

void *pmem_memset_generic(void *dst, int c, size_t len, unsigned flags)
{
	char *d = dst;
	size_t n = len;
	uint64_t pattern = 0x0101010101010101ull * (uint8_t)c;
	if (len == 0)
		return dst;
	while (n != 0 && ((uintptr_t)d & 7) != 0) {
		*d++ = (char)c;
		n--;
	}
	for (; n >= 8; n -= 8, d += 8)
		store_word(d, pattern);
	while (n != 0) {
		*d++ = (char)c;
		n--;
	}
	if (!(flags & PMEM_F_MEM_NOFLUSH))
		pmem_flush_lines(Pmem_funcs.flush_kind, dst, len);
	return dst;
}
