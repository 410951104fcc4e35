/*
 * fuse_logging.c - the daemon's one logging sink.  In the foreground every line
 * reads "pmemfs-fuse: message" on stderr; daemonised, the same text goes to
 * syslog (LOG_DAEMON) because stderr then points at /dev/null.
 */
#define FUSE_USE_VERSION 314

#include <fuse_log.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "fuse_logging.h"

static bool log_to_syslog;
static bool log_debug;

void pmfs_fuse_log_use_syslog(bool use_syslog)
{
	if (use_syslog && !log_to_syslog)
		openlog(PMFS_FUSE_PROG, LOG_PID, LOG_DAEMON);
	log_to_syslog = use_syslog;
}

void pmfs_fuse_log_set_debug(bool debug)
{
	log_debug = debug;
}

static void log_line(int level, const char *msg)
{
	if (level >= PMFS_LOG_DEBUG && !log_debug)
		return;
	if (log_to_syslog)
		syslog(level, "%s", msg);
	else
		fprintf(stderr, "%s: %s\n", PMFS_FUSE_PROG, msg);
}

void pmfs_fuse_log(enum pmfs_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_line(level, msg);
}

void pmfs_fuse_core_log(void *ctx, enum pmfs_log_level level, const char *msg)
{
	(void)ctx;
	pmfs_fuse_log(level, "core: %s", msg);
}

/* libfuse's levels are syslog's, and its messages end with a newline. */
static void libfuse_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
	char msg[1024];
	size_t len;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = strlen(msg);
	while (len > 0 && msg[len - 1] == '\n')
		msg[--len] = '\0';
	/* -d dumps every request at FUSE_LOG_DEBUG; keep those on stderr. */
	if (level >= FUSE_LOG_DEBUG && log_debug && !log_to_syslog) {
		fprintf(stderr, "%s\n", msg);
		return;
	}
	log_line((int)level, msg);
}

void pmfs_fuse_log_capture_libfuse(void)
{
	fuse_set_log_func(libfuse_log);
}
