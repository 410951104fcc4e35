/*
 * fsck.h - the offline checker (fs/fsck.c), shared by fsck.pmemfs and by
 * tests that want to know whether an unmounted image is consistent.
 */
#ifndef PMEMFS_FSCK_H
#define PMEMFS_FSCK_H

#include <stdbool.h>
#include <stddef.h>

/* Exit codes, as e2fsck's. */
#define PMFS_FSCK_CLEAN 0
#define PMFS_FSCK_FIXED 1
#define PMFS_FSCK_ERRORS_LEFT 4
#define PMFS_FSCK_OPERROR 8

struct pmfs_fsck_opts {
	bool repair; /* -y: fix what is safe to fix; otherwise check only (-n) */
	bool force;  /* -f: check even if the fs is marked clean */
	unsigned busy_wait_ms; /* how long a lock held by another user is retried */
};

struct pmfs_fsck_report {
	int exit_code;	/* PMFS_FSCK_* */
	bool clean;	/* no problem left (exit code 0 or 1) */
	unsigned found; /* problems seen */
	unsigned fixed; /* of which repaired */
	unsigned left;	/* still there at the end */
	char *text;	/* one line per problem, then a summary; malloc'd */
};

/*
 * Checks (and with opts->repair, repairs) the unmounted pmemfs on 'device'.
 * Returns the exit code (also in rep->exit_code); rep->text is always set
 * and must be released with pmfs_fsck_report_free().
 */
int pmfs_fsck(const char *device, const struct pmfs_fsck_opts *opts, struct pmfs_fsck_report *rep);
void pmfs_fsck_report_free(struct pmfs_fsck_report *rep);

#endif /* PMEMFS_FSCK_H */
