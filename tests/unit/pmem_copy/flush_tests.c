/*
 * flush_tests.c - pmem_flush, pmem_persist and pmem_persist_iov touch
 * exactly the cache lines of their range.  Whether a line really reached
 * memory cannot be observed from a test; what can fail here is a flush
 * of a line outside the range: the pages around the buffer are PROT_NONE
 * and CLFLUSH/CLFLUSHOPT/CLWB fault on them like a load would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/uio.h>

#include <cmocka.h>
#include <libpmem.h>

#include "guard.h"
#include "paths_tests.h"

#define SPAN 8192

void test_flush_and_persist_stay_inside_their_range(void **state)
{
	(void)state;
	struct guarded g;
	guarded_alloc(&g, SPAN / 4096);
	char *end = g.data + SPAN;

	for (size_t head = 0; head < 64; head++) {
		for (size_t len = 0; len <= 300; len++) {
			pmem_flush(g.data + head, len);
			pmem_persist(g.data + head, len);
			pmem_flush(end - head - len, len);
			pmem_persist(end - head - len, len);
		}
		pmem_flush(g.data + head, SPAN - head);
		pmem_persist(g.data, SPAN - head);
	}
	pmem_drain();
	guarded_free(&g);
}

void test_persist_iov_flushes_every_range(void **state)
{
	(void)state;
	struct guarded g;
	guarded_alloc(&g, SPAN / 4096);
	struct iovec iov[4] = {
	    {g.data, 1},
	    {g.data + 100, 4000},
	    {g.data + SPAN - 1, 1},
	    {g.data + 7, 0},
	};
	/* Faults (and fails) if any range's flush strays past the guards. */
	pmem_persist_iov(iov, 4);
	pmem_persist_iov(iov, 0);
	pmem_persist_iov(NULL, 0);
	guarded_free(&g);
}

void test_has_hw_drain_is_zero_like_pmdk(void **state)
{
	(void)state;
	int found = pmem_has_hw_drain();
	if (found != 0)
		fail_msg("pmem_has_hw_drain: expected 0 (PMDK on x86), found %d", found);
}
