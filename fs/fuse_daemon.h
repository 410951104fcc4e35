/*
 * fuse_daemon.h - checks before mounting, and detaching from the terminal in
 * a way that lets the caller (a shell, mount.fuse3, systemd) see whether the
 * mount worked: the parent exits only when the child reports success.
 */
#ifndef PMEMFS_FUSE_DAEMON_H
#define PMEMFS_FUSE_DAEMON_H

/* 0 if MOUNTPOINT is a directory nobody has mounted on; else prints why
 * not and returns -1. */
int pmfs_fuse_check_mountpoint(const char *mountpoint);

/* Sets the read-ahead window of the FUSE mount at REALMNT (a realpath,
 * taken before mounting: resolving it afterwards would ask the daemon,
 * which is not serving yet).  Needs root (sysfs); -1 if it cannot. */
int pmfs_fuse_set_readahead(const char *realmnt, unsigned kib);

/* Forks.  Returns in the child only; the parent waits for
 * pmfs_fuse_detach_done() and exits with the status it reports (1 if the
 * child dies first). */
int pmfs_fuse_detach_start(void);
/* status 0: mounted; detaches stdio, logs to syslog from now on. */
void pmfs_fuse_detach_done(int status);

#endif /* PMEMFS_FUSE_DAEMON_H */
