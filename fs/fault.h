/*
 * fault.h - fault injection for the tests.  pmfs_fault_countdown = 0 is off
 * (the daemon never arms it): each point then costs one predictable branch.
 * A test arms it with k: the k-th point passed from then on fails (balloc
 * and ialloc return -ENOSPC, pmfs_malloc/calloc/realloc return NULL) and
 * the countdown is off again.  pmfs_fault_passed counts the points passed
 * while armed, so arming with a huge value and running an operation tells
 * how many points it has.  Not thread-safe: tests arm it single-threaded.
 *
 * A second, independent countdown of the same kind, pmfs_fault_eio_*,
 * fails media accesses with -EIO: every device data copy and check of
 * badblocks.h (pmfs_media_copy, pmfs_media_check), i.e. every point where
 * the device can give the core an I/O error it survives.
 */
#ifndef PMFS_FAULT_H
#define PMFS_FAULT_H

#include <stdbool.h>
#include <stdlib.h>

/* One point of a countdown: armed (nonzero), it counts the point in
 * *passed and fails it when the countdown reaches 0. */
static inline bool pmfs_fault_point(unsigned long *countdown, unsigned long *passed)
{
	if (__builtin_expect(*countdown == 0, 1))
		return false;
	(*passed)++;
	return --*countdown == 0;
}

extern unsigned long pmfs_fault_countdown;
extern unsigned long pmfs_fault_passed;

static inline bool pmfs_fault_hit(void)
{
	return pmfs_fault_point(&pmfs_fault_countdown, &pmfs_fault_passed);
}

extern unsigned long pmfs_fault_eio_countdown;
extern unsigned long pmfs_fault_eio_passed;

static inline bool pmfs_fault_eio_hit(void)
{
	return pmfs_fault_point(&pmfs_fault_eio_countdown, &pmfs_fault_eio_passed);
}

static inline void *pmfs_malloc(size_t n)
{
	return pmfs_fault_hit() ? NULL : malloc(n);
}

static inline void *pmfs_calloc(size_t n, size_t size)
{
	return pmfs_fault_hit() ? NULL : calloc(n, size);
}

static inline void *pmfs_realloc(void *p, size_t n)
{
	return pmfs_fault_hit() ? NULL : realloc(p, n);
}

#endif
