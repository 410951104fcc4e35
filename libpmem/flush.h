/*
 * flush.h - the cache-line flush and fence instructions, inline.
 *
 * Written as inline asm so that no -m flag is needed to emit them; the
 * dispatch in init.c only selects an instruction the CPU has.
 */
#ifndef PMEM_FLUSH_H
#define PMEM_FLUSH_H

#include <stddef.h>
#include <stdint.h>

#define PMEM_CACHELINE 64

enum pmem_flush_kind {
	PMEM_FLUSH_NONE,       /* eADR or PMEM_NO_FLUSH=1: caches are persistent */
	PMEM_FLUSH_CLFLUSH,    /* ordered, evicts the line */
	PMEM_FLUSH_CLFLUSHOPT, /* weakly ordered, evicts the line */
	PMEM_FLUSH_CLWB,       /* weakly ordered, may keep the line */
};

static inline void pmem_line_clflush(uintptr_t line)
{
	__asm__ volatile("clflush %0" : "+m"(*(volatile char *)line));
}

static inline void pmem_line_clflushopt(uintptr_t line)
{
	__asm__ volatile("clflushopt %0" : "+m"(*(volatile char *)line));
}

static inline void pmem_line_clwb(uintptr_t line)
{
	__asm__ volatile("clwb %0" : "+m"(*(volatile char *)line));
}

static inline void pmem_sfence(void)
{
	__asm__ volatile("sfence" ::: "memory");
}

/* Flushes every cache line that [addr, addr+len) touches. */
static inline void pmem_flush_lines(enum pmem_flush_kind kind, const void *addr, size_t len)
{
	uintptr_t line = (uintptr_t)addr & ~(uintptr_t)(PMEM_CACHELINE - 1);
	uintptr_t end = (uintptr_t)addr + len;

	switch (kind) {
	case PMEM_FLUSH_CLWB:
		for (; line < end; line += PMEM_CACHELINE)
			pmem_line_clwb(line);
		break;
	case PMEM_FLUSH_CLFLUSHOPT:
		for (; line < end; line += PMEM_CACHELINE)
			pmem_line_clflushopt(line);
		break;
	case PMEM_FLUSH_CLFLUSH:
		for (; line < end; line += PMEM_CACHELINE)
			pmem_line_clflush(line);
		break;
	case PMEM_FLUSH_NONE:
		break;
	}
}

#endif /* PMEM_FLUSH_H */
