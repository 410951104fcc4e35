/*
 * pmem_test_queries.h - what libpmem chose at load, for its own tests.
 * Exported under symbol version LIBPMEM_PMEMFS_TEST (never LIBPMEM_1.0);
 * not installed, not for applications.
 */
#ifndef PMEM_TEST_QUERIES_H
#define PMEM_TEST_QUERIES_H

#include <stddef.h>

/* "clwb", "clflushopt", "clflush", or "none" when flushing is skipped. */
const char *pmemfs_test_flush_name(void);
/* "avx512f", "avx2", "sse2" or "generic". */
const char *pmemfs_test_memcpy_name(void);
size_t pmemfs_test_movnt_threshold(void);
/* 0 under eADR or PMEM_NO_FLUSH=1. */
int pmemfs_test_flush_needed(void);

#endif /* PMEM_TEST_QUERIES_H */
