/*
 * variants.h - every public copy and set entry point of libpmem, each
 * with every flag combination worth telling apart, as one list the
 * copy/set tests walk.  The _persist and _nodrain forms take no flags and
 * appear once.
 */
#ifndef PMEM_COPY_VARIANTS_H
#define PMEM_COPY_VARIANTS_H

#include <stddef.h>

typedef void *(*move_fn)(void *dst, const void *src, size_t len, unsigned flags);
typedef void *(*set_fn)(void *dst, int c, size_t len, unsigned flags);

struct move_variant {
	const char *name;
	move_fn fn;
	unsigned flags;
};

struct set_variant {
	const char *name;
	set_fn fn;
	unsigned flags;
};

/* Fill *list (static storage) and return the count. */
size_t move_variants(const struct move_variant **list);
size_t set_variants(const struct set_variant **list);

#endif /* PMEM_COPY_VARIANTS_H */
