/*
 * log.c - libpmem's error messages and its optional log.
 *
 * pmem_errormsg() returns the calling thread's last error text, as PMDK's
 * does.  The log is off unless PMEM_LOG_LEVEL is set: level 1 records
 * errors, level 3 the paths chosen at load (flush instruction, copy ISA,
 * thresholds).  PMEM_LOG_FILE names the log file (stderr when unset); a
 * name ending in '-' gets the process id appended, as in PMDK.  Both are
 * read once, by the constructor in init.c; after that nothing here reads
 * the environment or takes a lock, except the file write itself (stdio's
 * own lock) when logging is on.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libpmem.h"
#include "pmem_internal.h"

/* As PMDK: room for a message that quotes a full path. */
#define PMEM_ERRORMSG_MAX 8192

static __thread char Errormsg[PMEM_ERRORMSG_MAX];

static int Log_level;
static FILE *Log_file;

long pmem_env_long(const char *name)
{
	const char *text = getenv(name);
	if (text == NULL || *text == '\0')
		return -1;
	char *end;
	errno = 0;
	long value = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || value < 0)
		return -1;
	return value;
}

/* Opens PMEM_LOG_FILE (or picks stderr) once, before any other thread can
 * log: called from the load-time constructor. */
void pmem_log_init(void)
{
	long level = pmem_env_long("PMEM_LOG_LEVEL");
	if (level <= 0)
		return;
	Log_level = level > 1000 ? 1000 : (int)level;
	Log_file = stderr;

	const char *path = getenv("PMEM_LOG_FILE");
	if (path == NULL || *path == '\0')
		return;
	char name[4096];
	size_t n = strlen(path);
	if (path[n - 1] == '-')
		snprintf(name, sizeof(name), "%s%d", path, (int)getpid());
	else
		snprintf(name, sizeof(name), "%s", path);
	FILE *file = fopen(name, "a");
	if (file == NULL) {
		fprintf(stderr, "libpmem: cannot open log file %s: %s\n", name, strerror(errno));
		return;
	}
	setvbuf(file, NULL, _IOLBF, 0);
	Log_file = file;
}

/* Flushes and closes the log file at unload so that nothing is lost. */
void pmem_log_fini(void)
{
	if (Log_file != NULL && Log_file != stderr)
		fclose(Log_file);
	Log_file = NULL;
	Log_level = 0;
}

int pmem_log_level(void)
{
	return Log_level;
}

static void log_write(int level, const char *text)
{
	fprintf(Log_file, "<libpmem>: <%d> %s\n", level, text);
}

void pmem_log(int level, const char *fmt, ...)
{
	if (level > Log_level || Log_file == NULL)
		return;
	int saved = errno;
	char text[PMEM_ERRORMSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_write(level, text);
	errno = saved;
}

void pmem_err(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(Errormsg, sizeof(Errormsg), fmt, ap);
	va_end(ap);
	if (Log_level >= 1 && Log_file != NULL)
		log_write(1, Errormsg);
	errno = saved;
}

PMEM_EXPORT const char *pmem_errormsg(void)
{
	return Errormsg;
}

/*
 * Compatible when the major versions match and the caller needs no newer
 * minor version than this library provides.  Like PMDK, the message is
 * also left in pmem_errormsg().
 */
PMEM_EXPORT const char *pmem_check_version(unsigned major_required, unsigned minor_required)
{
	if (major_required != PMEM_MAJOR_VERSION) {
		pmem_err("libpmem major version mismatch (need %u, found %u)", major_required,
			 PMEM_MAJOR_VERSION);
		return Errormsg;
	}
	if (minor_required > PMEM_MINOR_VERSION) {
		pmem_err("libpmem minor version mismatch (need %u, found %u)", minor_required,
			 PMEM_MINOR_VERSION);
		return Errormsg;
	}
	return NULL;
}
