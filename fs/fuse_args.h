/*
 * fuse_args.h - pmemfs-fuse's command line: DEVICE MOUNTPOINT, our -o
 * options, and everything libfuse understands (-f, -d, -s, -o allow_other,
 * ...), which is passed on to fuse_session_new() untouched.
 */
#ifndef PMEMFS_FUSE_ARGS_H
#define PMEMFS_FUSE_ARGS_H

#include "fuse_ops.h"

/* -o spin=USEC: see fuse_uring.c for why the queues poll. */
#define PMFS_SPIN_US_DEFAULT 50u
#define PMFS_SPIN_US_MAX 10000u

struct pmfs_fuse_args {
	char *device;
	int read_only;
	int writeback_cache;
	int default_permissions; /* the kernel checks permissions, not perm.c */
	int no_uring;		 /* serve /dev/fuse only, never io_uring */
	int page_cache;		 /* every open uses the page cache (no direct_io) */
	char *spin_arg;		 /* -o spin=, as given */
	unsigned spin_us;	 /* io_uring queues poll this long after a reply */
	int allow_other;	 /* -o allow_other or allow_root: other users come in */
	double attr_timeout;
	double entry_timeout;
	struct fuse_cmdline_opts cmd; /* cmd.mountpoint is the mountpoint */
	struct fuse_args fuse;	      /* what is left for libfuse */
};

/* Returns 0 to go on, 1 when --help or --version was answered, -1 on a
 * usage error (already printed). */
int pmfs_fuse_parse_args(int argc, char **argv, struct pmfs_fuse_args *args);
void pmfs_fuse_free_args(struct pmfs_fuse_args *args);

#endif /* PMEMFS_FUSE_ARGS_H */
