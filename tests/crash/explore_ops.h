/*
 * explore_ops.h - the explorer's workloads: each a prepared tree and one
 * operation on it (ACE-style: every operation type, each rename flavour,
 * data and metadata).
 */
#ifndef PMEMFS_EXPLORE_OPS_H
#define PMEMFS_EXPLORE_OPS_H

#include "pmemfs.h"

struct workload {
	const char *name;
	const char *type;	/* the operation type it counts under */
	void (*prep)(struct pmfs *fs);
	int (*op)(struct pmfs *fs);	/* 0 or a negative errno */
	/* A file the operation overwrites in place (e.g. "/f"), or NULL.  Its
	 * bytes may be any mix of old and new after a crash (as on every
	 * DAX file system: no data journaling); everything else about it
	 * must be before or after. */
	const char *mixed;
	/* An open core bug that makes this workload violate the oracle
	 * (reported, not failing the run); the run fails if it is gone,
	 * so that the marker is removed with the fix. */
	const char *known_bug;
};

extern const struct workload explore_workloads[];
extern const unsigned explore_nworkloads;

#endif
