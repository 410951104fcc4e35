/*
 * fuse_ops.h - what the low-level ops table needs from the rest of the
 * daemon: the mounted core and the few options that change how requests are
 * answered.  fuse_main.c fills one struct pmfs_fuse and hands it to
 * fuse_session_new() as userdata.
 */
#ifndef PMEMFS_FUSE_OPS_H
#define PMEMFS_FUSE_OPS_H

#define FUSE_USE_VERSION 314

#include <fuse_lowlevel.h>
#include <stdbool.h>

#include "pmemfs.h"

/* The largest request the kernel accepts (FUSE_MAX_MAX_PAGES = 256 pages). */
#define PMFS_FUSE_MAX_IO (1u << 20)

struct pmfs_fuse {
	struct pmfs *fs;
	struct fuse_session *se;
	bool read_only;
	bool writeback_cache; /* -o writeback_cache: kernel write-back */
	bool kernel_permissions; /* -o default_permissions: no perm.c checks */
	bool single_user;	  /* no allow_other: every caller has the mounter's uid */
	uid_t mounter;		  /* the daemon's uid */
	bool one_thread;	  /* -s: no second thread to serve requests */
	bool direct_io;		  /* opens bypass the page cache (set_direct_io) */
	double attr_timeout;  /* seconds the kernel may cache attributes */
	double entry_timeout; /* ... names, and negative lookups */
	unsigned max_write;   /* negotiated in init, for the log */
};

extern const struct fuse_lowlevel_ops pmfs_fuse_ops;

#endif /* PMEMFS_FUSE_OPS_H */
