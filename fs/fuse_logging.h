/*
 * fuse_logging.h - where pmemfs-fuse's messages go: stderr while the daemon runs
 * in the foreground (or before it detaches), syslog once it is daemonised.
 * The core's log callback and libfuse's log function both land here.
 */
#ifndef PMEMFS_FUSE_LOGGING_H
#define PMEMFS_FUSE_LOGGING_H

#include <stdbool.h>

#include "pmemfs.h"

#define PMFS_FUSE_PROG "pmemfs-fuse"

/* Route every later message to syslog (true) or stderr (false). */
void pmfs_fuse_log_use_syslog(bool use_syslog);
/* Debug messages are dropped unless enabled (-d). */
void pmfs_fuse_log_set_debug(bool debug);

void pmfs_fuse_log(enum pmfs_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Matches pmfs_log_fn: the core's messages, prefixed with "core". */
void pmfs_fuse_core_log(void *ctx, enum pmfs_log_level level, const char *msg);

/* Sends libfuse's own messages through pmfs_fuse_log as well. */
void pmfs_fuse_log_capture_libfuse(void);

#endif /* PMEMFS_FUSE_LOGGING_H */
