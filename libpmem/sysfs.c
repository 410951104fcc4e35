/*
 * sysfs.c - where libpmem looks for sysfs, and reading its small
 * attributes.  Every sysfs path of the mapping code is built here, so the
 * unit tests can point the whole library at a fake tree in /tmp (devdax
 * devices and nd regions do not exist on a build machine).  The root is an
 * internal variable set by a hidden test hook, never by the environment: a
 * user must not be able to make libpmem believe a file is pmem.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pmem_internal.h"

#define SYSFS_DEFAULT_ROOT "/sys"

static char Sysfs_root[256] = SYSFS_DEFAULT_ROOT;

void pmem_sysfs_set_root(const char *root)
{
	if (root == NULL || strlen(root) >= sizeof(Sysfs_root))
		root = SYSFS_DEFAULT_ROOT;
	strcpy(Sysfs_root, root);
}

int pmem_sysfs_path(char *buf, size_t size, const char *fmt, ...)
{
	int root_len = snprintf(buf, size, "%s", Sysfs_root);
	if (root_len < 0 || (size_t)root_len >= size)
		goto too_long;

	va_list ap;
	va_start(ap, fmt);
	int rel_len = vsnprintf(buf + root_len, size - (size_t)root_len, fmt, ap);
	va_end(ap);
	if (rel_len < 0 || (size_t)rel_len >= size - (size_t)root_len)
		goto too_long;
	return 0;

too_long:
	errno = ENAMETOOLONG;
	pmem_err("sysfs path too long: %s%s", Sysfs_root, fmt);
	return -1;
}

long pmem_sysfs_read(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;

	ssize_t got;
	do {
		got = read(fd, buf, size - 1);
	} while (got < 0 && errno == EINTR);

	int saved_errno = errno;
	close(fd);
	errno = saved_errno;
	if (got < 0)
		return -1;
	buf[got] = '\0';
	return (long)got;
}
