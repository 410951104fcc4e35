/*
 * guard.c - guard-page buffers and byte patterns for the pmem_copy tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "guard.h"

void guarded_alloc(struct guarded *g, size_t pages)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	g->map_len = (pages + 2) * page;
	g->map = mmap(NULL, g->map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->map == MAP_FAILED)
		fail_msg("mmap of %zu bytes failed", g->map_len);
	g->data = g->map + page;
	g->len = pages * page;
	if (mprotect(g->data, g->len, PROT_READ | PROT_WRITE) != 0)
		fail_msg("mprotect of the usable pages failed");
}

void guarded_free(struct guarded *g)
{
	munmap(g->map, g->map_len);
}

void fill_pattern(char *buf, size_t len, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 12345u;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (char)(x >> 23);
	}
}

long first_difference(const char *a, const char *b, size_t len)
{
	if (memcmp(a, b, len) == 0)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (a[i] != b[i])
			return (long)i;
	return -1;
}
