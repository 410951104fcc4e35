/*
 * guard.h - test buffers fenced by PROT_NONE pages, so that a copy,
 * memset or flush that strays even one byte outside its range faults.
 */
#ifndef PMEM_COPY_GUARD_H
#define PMEM_COPY_GUARD_H

#include <stddef.h>

struct guarded {
	char *map; /* the whole mapping, guards included */
	size_t map_len;
	char *data; /* the usable pages, between the guards */
	size_t len;
};

/* Maps pages usable pages between two PROT_NONE guard pages; aborts the
 * test (cmocka fail) if the mapping fails. */
void guarded_alloc(struct guarded *g, size_t pages);
void guarded_free(struct guarded *g);

/* A byte pattern that differs at neighbouring offsets and between seeds,
 * so misplaced or missing bytes show up in a comparison. */
void fill_pattern(char *buf, size_t len, unsigned seed);

/* Index of the first byte where a and b differ, or -1 when equal. */
long first_difference(const char *a, const char *b, size_t len);

#endif /* PMEM_COPY_GUARD_H */
