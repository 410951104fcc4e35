/*
 * preload_msync_test.c - pmem_pmemfs_msync(), the msync() of
 * libpmemfs-preload.so (libpmem/msync.c): the parts of the range
 * registered as devdax are flushed, never passed to the kernel (which
 * answers MS_SYNC there with EINVAL); every other part, and every call it
 * does not handle, goes to the raw msync, here a recorder; and
 * pmem_deep_drain, which it uses there, leaves a devdax range's last page
 * to the flushes.  Ranges are registered on anonymous memory, as in
 * ranges_test.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "libpmem.h"
#include "pmem_internal.h"
#include "pmemfs_direct.h"

#define PAGE ((size_t)4096)
#define MAX_CALLS 16

/* The raw msync calls made, in pages from Base. */
static struct call {
	long first, pages;
	int flags;
} Calls[MAX_CALLS];
static int Ncalls;
static char *Base;
static int Fail_errno; /* the recorder fails with this, when set */

/* libc's msync, replaced in this program: the calls libpmem makes itself
 * (pmem_deep_drain's gaps), in pages from Base. */
static struct call Kernel[MAX_CALLS];
static int Nkernel;

int msync(void *addr, size_t len, int flags)
{
	assert_true(Nkernel < MAX_CALLS);
	Kernel[Nkernel++] = (struct call){((char *)addr - Base) / (long)PAGE,
					  (long)((len + PAGE - 1) / PAGE), flags};
	return 0;
}

static int record(void *addr, size_t len, int flags)
{
	assert_true(Ncalls < MAX_CALLS);
	Calls[Ncalls++] = (struct call){((char *)addr - Base) / (long)PAGE,
					(long)((len + PAGE - 1) / PAGE), flags};
	if (Fail_errno) {
		errno = Fail_errno;
		return -1;
	}
	return 0;
}

static void expect_call(int i, long first, long pages, int flags)
{
	if (i >= Ncalls)
		fail_msg("raw msync call %d: expected pages [%ld, %ld), found only %d calls", i,
			 first, first + pages, Ncalls);
	if (Calls[i].first != first || Calls[i].pages != pages || Calls[i].flags != flags)
		fail_msg("raw msync call %d: expected pages [%ld, %ld) flags %d, found [%ld, %ld) "
			 "flags %d",
			 i, first, first + pages, flags, Calls[i].first,
			 Calls[i].first + Calls[i].pages, Calls[i].flags);
}

static int setup(void **state)
{
	(void)state;
	Base = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(Base != MAP_FAILED);
	Ncalls = 0;
	Nkernel = 0;
	Fail_errno = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pmem_range_unregister(Base, 16 * PAGE);
	munmap(Base, 16 * PAGE);
	return 0;
}

/* devdax [2, 5) (registered length not a whole page), MAP_SYNC [8, 10):
 * the kernel gets the gaps and the MAP_SYNC part, not the devdax part. */
static void test_devdax_parts_are_not_passed_to_the_kernel(void **state)
{
	(void)state;
	assert_int_equal(
	    pmem_range_register(Base + 2 * PAGE, 3 * PAGE - 100, PMEM_RANGE_DEVDAX, -1, PAGE), 0);
	assert_int_equal(pmem_range_register(Base + 8 * PAGE, 2 * PAGE, PMEM_RANGE_MAP_SYNC, -1, 0),
			 0);
	assert_int_equal(pmem_pmemfs_msync(Base, 16 * PAGE, MS_SYNC, record), 0);
	assert_int_equal(Ncalls, 4);
	expect_call(0, 0, 2, MS_SYNC);
	expect_call(1, 5, 3, MS_SYNC);
	expect_call(2, 8, 2, MS_SYNC);
	expect_call(3, 10, 6, MS_SYNC);
}

/* A range inside one devdax range, length not a multiple of pages: no
 * kernel call at all. */
static void test_a_devdax_range_needs_no_kernel_call(void **state)
{
	(void)state;
	assert_int_equal(pmem_range_register(Base, 4 * PAGE, PMEM_RANGE_DEVDAX, -1, PAGE), 0);
	assert_int_equal(
	    pmem_pmemfs_msync(Base + PAGE, 2 * PAGE + 1, MS_SYNC | MS_INVALIDATE, record), 0);
	assert_int_equal(Ncalls, 0);
}

/* MS_ASYNC (the kernel does not fsync), an unaligned address or
 * conflicting flags (its EINVAL): the whole call, unchanged. */
static void test_calls_it_does_not_handle_go_to_the_kernel_whole(void **state)
{
	(void)state;
	assert_int_equal(pmem_range_register(Base, 16 * PAGE, PMEM_RANGE_DEVDAX, -1, PAGE), 0);
	assert_int_equal(pmem_pmemfs_msync(Base, 16 * PAGE, MS_ASYNC, record), 0);
	assert_int_equal(pmem_pmemfs_msync(Base + 1, PAGE, MS_SYNC, record), 0);
	assert_int_equal(pmem_pmemfs_msync(Base, PAGE, MS_SYNC | MS_ASYNC, record), 0);
	assert_int_equal(Ncalls, 3);
	expect_call(0, 0, 16, MS_ASYNC);
	expect_call(1, 0, 1, MS_SYNC);
	expect_call(2, 0, 1, MS_SYNC | MS_ASYNC);
}

/* The kernel's error on a non-devdax part is the answer. */
static void test_a_kernel_error_is_returned(void **state)
{
	(void)state;
	assert_int_equal(
	    pmem_range_register(Base + 4 * PAGE, 4 * PAGE, PMEM_RANGE_DEVDAX, -1, PAGE), 0);
	Fail_errno = ENOMEM;
	errno = 0;
	assert_int_equal(pmem_pmemfs_msync(Base + 4 * PAGE, 8 * PAGE, MS_SYNC, record), -1);
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(Ncalls, 1);
	expect_call(0, 8, 4, MS_SYNC);
}

/* A devdax range whose end is not a page boundary (a direct map of an
 * odd-sized file is registered with the file's length): its last page is
 * the device's and never goes to the kernel's msync, which would answer
 * EINVAL (and, under the preload, whose msync comes back to libpmem,
 * recurse without end). */
static void test_the_last_page_of_a_devdax_range_is_not_msynced(void **state)
{
	(void)state;
	assert_int_equal(pmem_range_register(Base, 2 * PAGE + 100, PMEM_RANGE_DEVDAX, -1, PAGE), 0);
	assert_int_equal(pmem_deep_drain(Base, 4 * PAGE), 0);
	if (Nkernel != 1 || Kernel[0].first != 3 || Kernel[0].pages != 1)
		fail_msg("pmem_deep_drain: expected one kernel msync of page [3, 4), found %d, the "
			 "first of pages [%ld, %ld)",
			 Nkernel, Kernel[0].first, Kernel[0].first + Kernel[0].pages);
	Nkernel = 0;
	assert_int_equal(pmem_pmemfs_msync(Base, 2 * PAGE + 100, MS_SYNC, record), 0);
	assert_int_equal(Ncalls, 0);
	assert_int_equal(Nkernel, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_devdax_parts_are_not_passed_to_the_kernel, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_a_devdax_range_needs_no_kernel_call, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_calls_it_does_not_handle_go_to_the_kernel_whole,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_a_kernel_error_is_returned, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_the_last_page_of_a_devdax_range_is_not_msynced,
					    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
