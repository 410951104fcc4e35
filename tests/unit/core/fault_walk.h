/*
 * fault_walk.h - the driver that fails every fault point of an operation
 * once (fault.h), shared by fault_test.c (ENOSPC/ENOMEM at allocation
 * points) and eio_test.c (EIO at media accesses).  It counts the points N
 * of an undisturbed run, then for k = 1..N on a fresh image arms point k,
 * runs the operation and checks the whole-tree signature (tree_sig.c):
 * a clean failure leaves the tree as before, a short write leaves its
 * prefix, a tolerated failure gives the tree after; each also after an
 * unmount, a clean fsck and a remount.  The same operation then succeeds
 * with faults off and gives the tree after, again checked on media.
 */
#ifndef PMFS_TEST_FAULT_WALK_H
#define PMFS_TEST_FAULT_WALK_H

#include <stdbool.h>

#include "helpers.h"

/* An operation returns its result: 0 or a byte count, or -errno. */
typedef long (*fault_op_fn)(struct pmfs *fs);

/* What differs between the kinds of fault. */
struct fault_walk {
	const char *point;	  /* "fault point", "EIO point": for messages */
	unsigned long *countdown; /* the countdown to arm (fault.h) */
	unsigned long *passed;	  /* its count of points passed */
	/* The results that count as a clean failure, and their names. */
	bool (*clean)(long r);
	const char *clean_what;
	/* Makes env a fresh mounted image with the prepared tree. */
	void (*fresh)(struct core_env *env);
	/* May operation name come back short (r > 0, tree not the tree
	 * after)?  NULL: any operation may. */
	bool (*may_be_short)(const char *name);
	/* Checks the written prefix of a short write; NULL: only the tree on
	 * media is checked. */
	void (*check_short)(struct pmfs *fs, const char *name, unsigned long k, long r);
	/* A success at an armed point is allowed (the point was on a path that
	 * tolerates the failure) if it gives the tree after. */
	bool tolerate;
};

/* What the walk found for one operation. */
struct fault_walk_counts {
	unsigned long n;	 /* points of an undisturbed run */
	unsigned long failed;	 /* clean failures */
	unsigned long shorts;	 /* short writes */
	unsigned long tolerated; /* successes at an armed point */
};

/* Fails every point of op once; fails the test on the first wrong tree. */
struct fault_walk_counts fault_walk(const struct fault_walk *w, const char *name, fault_op_fn op);

/* The steps that set an operation up (lookups, an extra reference) run
 * with every countdown paused, so its points are the operation's own. */
struct fault_pause {
	unsigned long countdown, eio_countdown;
};
struct fault_pause fault_pause(void);
void fault_resume(struct fault_pause p);
/* lookup_ino with the countdowns paused; the name must exist. */
pmfs_ino_t fault_walk_lookup(struct pmfs *fs, pmfs_ino_t dir, const char *name);

#endif
