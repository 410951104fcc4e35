/*
 * header_ours.c - the constants as our libpmem.h defines them.  The
 * include path puts libpmem/ first; the pmem_persist_iov reference below
 * fails to compile if PMDK's header was picked up instead.
 */
#include "libpmem.h"

#include "header_constants.h"

void header_constants_ours(struct header_constants *c)
{
	void (*only_in_ours)(const struct iovec *, size_t) = pmem_persist_iov;
	(void)only_in_ours;
#include "header_constants.inc"
}
