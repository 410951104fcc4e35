/*
 * header_constants.h - every constant of libpmem.h, captured by two
 * translation units: one compiled with our header, one with PMDK's.
 */
#ifndef PMEM_COPY_HEADER_CONSTANTS_H
#define PMEM_COPY_HEADER_CONSTANTS_H

#include <stddef.h>

struct header_constants {
	size_t min_part;
	long file_create, file_excl, file_sparse, file_tmpfile;
	unsigned long f_nodrain, f_nontemporal, f_temporal, f_wc, f_wb, f_noflush, f_valid;
	long major, minor;
};

void header_constants_ours(struct header_constants *c);
void header_constants_pmdk(struct header_constants *c);

#endif /* PMEM_COPY_HEADER_CONSTANTS_H */
