/*
 * monotonic.h - nanoseconds of CLOCK_MONOTONIC, for the daemon's short
 * waits and polls (fuse_uring.c, fuse_ops.c).
 */
#ifndef PMEMFS_MONOTONIC_H
#define PMEMFS_MONOTONIC_H

#include <stdint.h>
#include <time.h>

static inline uint64_t pmfs_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif /* PMEMFS_MONOTONIC_H */
