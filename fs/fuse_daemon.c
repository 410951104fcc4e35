/*
 * fuse_daemon.c - the mountpoint checks that turn the kernel's terse errors
 * into clear messages, and the fork that daemonises pmemfs-fuse.  Unlike
 * fuse_daemonize(), the fork happens before the device is mapped and
 * locked, and the parent's exit status is the child's mount result.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "fuse_daemon.h"
#include "fuse_logging.h"

static int detach_pipe = -1;

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *out = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

/* The mount at 'path' (a realpath): its file-system type and "major:minor",
 * from mountinfo.  Of a stack of mounts, the last line is the top, the one
 * a lookup sees.  Returns whether there is one. */
static int find_mount(const char *path, char *fstype, size_t fstype_size, char *dev,
		      size_t dev_size)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int found = 0;

	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		char mnt[PATH_MAX], majmin[64], type[256];
		const char *sep = strstr(line, " - ");

		/* id parent major:minor root MOUNTPOINT ... - TYPE source opts */
		if (!sep || sscanf(line, "%*s %*s %63s %*s %4095s", majmin, mnt) != 2 ||
		    sscanf(sep, " - %255s", type) != 1)
			continue;
		unescape_octal(mnt);
		if (strcmp(mnt, path) == 0) {
			snprintf(fstype, fstype_size, "%s", type);
			snprintf(dev, dev_size, "%s", majmin);
			found = 1;
		}
	}
	free(line);
	fclose(f);
	return found;
}

int pmfs_fuse_set_readahead(const char *realmnt, unsigned kib)
{
	char dev[64], path[128], fstype[256];
	FILE *f;
	int ok;

	if (!find_mount(realmnt, fstype, sizeof(fstype), dev, sizeof(dev)))
		return -1;
	/* A FUSE mount's bdi is named after its anonymous device number. */
	snprintf(path, sizeof(path), "/sys/class/bdi/%s/read_ahead_kb", dev);
	f = fopen(path, "we");
	if (!f)
		return -1;
	ok = fprintf(f, "%u\n", kib) > 0;
	ok = (fclose(f) == 0) && ok;
	return ok ? 0 : -1;
}

/* ENOTCONN, or ECONNABORTED when the kernel tore the connection down
 * itself (seen after a SIGKILL with io_uring queues): a daemon died under
 * this mount. */
static bool dead_daemon_errno(int err)
{
	return err == ENOTCONN || err == ECONNABORTED;
}

/* Says how to clear a mount whose daemon died. */
static void log_dead_daemon(const char *mountpoint)
{
	pmfs_fuse_log(PMFS_LOG_ERR,
		      "cannot mount on %s: mountpoint in use by a dead FUSE daemon (clear it "
		      "with: fusermount3 -u -z %s)",
		      mountpoint, mountpoint);
}

int pmfs_fuse_check_mountpoint(const char *mountpoint)
{
	char real[PATH_MAX], fstype[256], dev[64];
	struct statfs sfs;
	struct stat st;

	if (stat(mountpoint, &st) != 0) {
		if (dead_daemon_errno(errno))
			log_dead_daemon(mountpoint);
		else
			pmfs_fuse_log(PMFS_LOG_ERR, "cannot mount on %s: %s", mountpoint,
				      strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		pmfs_fuse_log(PMFS_LOG_ERR, "cannot mount on %s: not a directory", mountpoint);
		return -1;
	}
	if (!realpath(mountpoint, real)) {
		pmfs_fuse_log(PMFS_LOG_ERR, "cannot mount on %s: %s", mountpoint, strerror(errno));
		return -1;
	}
	if (find_mount(real, fstype, sizeof(fstype), dev, sizeof(dev))) {
		/* stat() may be answered from the kernel's attribute cache;
		 * statfs() always asks the daemon, so it finds a dead one. */
		if (statfs(real, &sfs) != 0 && dead_daemon_errno(errno))
			log_dead_daemon(mountpoint);
		else
			pmfs_fuse_log(PMFS_LOG_ERR,
				      "cannot mount on %s: mountpoint in use (%s is mounted there)",
				      mountpoint, fstype);
		return -1;
	}
	return 0;
}

int pmfs_fuse_detach_start(void)
{
	int fds[2];
	pid_t pid;
	char status;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		pmfs_fuse_log(PMFS_LOG_ERR, "cannot daemonise: pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		pmfs_fuse_log(PMFS_LOG_ERR, "cannot daemonise: fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		close(fds[1]);
		if (read(fds[0], &status, 1) != 1)
			status = 1;
		_exit(status);
	}
	close(fds[0]);
	detach_pipe = fds[1];
	if (setsid() < 0)
		pmfs_fuse_log(PMFS_LOG_WARN, "setsid: %s", strerror(errno));
	return 0;
}

void pmfs_fuse_detach_done(int status)
{
	char byte = (char)status;
	int devnull;

	if (detach_pipe < 0)
		return;
	if (status == 0) {
		if (chdir("/") != 0)
			pmfs_fuse_log(PMFS_LOG_WARN, "chdir /: %s", strerror(errno));
		pmfs_fuse_log_use_syslog(true);
		devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
			dup2(devnull, STDERR_FILENO);
			if (devnull > STDERR_FILENO)
				close(devnull);
		}
	}
	if (write(detach_pipe, &byte, 1) != 1)
		pmfs_fuse_log(PMFS_LOG_WARN, "reporting to the parent: %s", strerror(errno));
	close(detach_pipe);
	detach_pipe = -1;
}
