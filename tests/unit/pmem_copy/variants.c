/*
 * variants.c - the list of copy and set entry points with their flags.
 */
#include <libpmem.h>

#include "variants.h"

static void *memmove_persist_any(void *d, const void *s, size_t n, unsigned f)
{
	(void)f;
	return pmem_memmove_persist(d, s, n);
}

static void *memmove_nodrain_any(void *d, const void *s, size_t n, unsigned f)
{
	(void)f;
	return pmem_memmove_nodrain(d, s, n);
}

static void *memcpy_persist_any(void *d, const void *s, size_t n, unsigned f)
{
	(void)f;
	return pmem_memcpy_persist(d, s, n);
}

static void *memcpy_nodrain_any(void *d, const void *s, size_t n, unsigned f)
{
	(void)f;
	return pmem_memcpy_nodrain(d, s, n);
}

static void *memset_persist_any(void *d, int c, size_t n, unsigned f)
{
	(void)f;
	return pmem_memset_persist(d, c, n);
}

static void *memset_nodrain_any(void *d, int c, size_t n, unsigned f)
{
	(void)f;
	return pmem_memset_nodrain(d, c, n);
}

#define FLAG_VARIANTS(prefix, fn)                                                                  \
	{prefix "(0)", fn, 0}, {prefix "(NODRAIN)", fn, PMEM_F_MEM_NODRAIN},                       \
	    {prefix "(NONTEMPORAL)", fn, PMEM_F_MEM_NONTEMPORAL},                                  \
	    {prefix "(NONTEMPORAL|NODRAIN)", fn, PMEM_F_MEM_NONTEMPORAL | PMEM_F_MEM_NODRAIN},     \
	    {prefix "(TEMPORAL)", fn, PMEM_F_MEM_TEMPORAL}, {prefix "(WC)", fn, PMEM_F_MEM_WC},    \
	    {prefix "(WB)", fn, PMEM_F_MEM_WB}, {prefix "(NOFLUSH)", fn, PMEM_F_MEM_NOFLUSH},      \
	    {prefix "(NONTEMPORAL|TEMPORAL)", fn, PMEM_F_MEM_NONTEMPORAL | PMEM_F_MEM_TEMPORAL},   \
	{                                                                                          \
		prefix "(all valid flags)", fn, PMEM_F_MEM_VALID_FLAGS                             \
	}

static const struct move_variant Moves[] = {
    FLAG_VARIANTS("pmem_memmove", pmem_memmove),
    FLAG_VARIANTS("pmem_memcpy", pmem_memcpy),
    {"pmem_memmove_persist", memmove_persist_any, 0},
    {"pmem_memmove_nodrain", memmove_nodrain_any, 0},
    {"pmem_memcpy_persist", memcpy_persist_any, 0},
    {"pmem_memcpy_nodrain", memcpy_nodrain_any, 0},
};

static const struct set_variant Sets[] = {
    FLAG_VARIANTS("pmem_memset", pmem_memset),
    {"pmem_memset_persist", memset_persist_any, 0},
    {"pmem_memset_nodrain", memset_nodrain_any, 0},
};

size_t move_variants(const struct move_variant **list)
{
	*list = Moves;
	return sizeof(Moves) / sizeof(Moves[0]);
}

size_t set_variants(const struct set_variant **list)
{
	*list = Sets;
	return sizeof(Sets) / sizeof(Sets[0]);
}
