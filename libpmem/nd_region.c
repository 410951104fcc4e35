/*
 * nd_region.c - what libpmem asks of the nd regions in sysfs: whether the
 * platform flushes CPU caches on power loss (persistence_domain, eADR) and
 * the deep flush of a region's memory-controller write queues.
 *
 * Both follow PMDK 1.12 (src/libpmem2/auto_flush_linux.c and
 * deep_flush_linux.c), including its return conventions, so that
 * pmem_has_auto_flush() and pmem_deep_drain() answer as PMDK's do.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libpmem.h"
#include "pmem_internal.h"

/* 1 if the region's persistence_domain is "cpu_cache", 0 if it is something
 * else or absent, -1 if it cannot be read or is malformed. */
static int region_has_cpu_cache_domain(const char *region)
{
	char path[PATH_MAX], domain[32];
	if (pmem_sysfs_path(path, sizeof(path), "/bus/nd/devices/%s/persistence_domain", region) <
	    0)
		return -1;

	long len = pmem_sysfs_read(path, domain, sizeof(domain));
	if (len < 0) {
		if (errno == ENOENT) {
			pmem_log(3, "%s has no persistence_domain: no eADR", region);
			return 0;
		}
		pmem_err("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (len == 0 || domain[len - 1] != '\n') {
		errno = EIO;
		pmem_err("invalid persistence_domain in %s: \"%s\"", path, domain);
		return -1;
	}
	domain[len - 1] = '\0';
	pmem_log(4, "%s: persistence_domain %s", region, domain);
	return strcmp(domain, "cpu_cache") == 0;
}

static bool is_region_link(const char *devices, const struct dirent *entry)
{
	if (strstr(entry->d_name, "region") == NULL)
		return false;
	if (entry->d_type == DT_LNK)
		return true;
	if (entry->d_type != DT_UNKNOWN)
		return false;
	char path[PATH_MAX];
	struct stat st;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", devices, entry->d_name) >= sizeof(path))
		return false;
	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

/* 1 when there are regions and all say cpu_cache; 0 when one does not or
 * there are none; -1 on a sysfs error (PMDK's pmem2_auto_flush). */
PMEM_EXPORT int pmem_has_auto_flush(void)
{
	char devices[PATH_MAX];
	struct stat st;
	if (pmem_sysfs_path(devices, sizeof(devices), "/bus/nd/devices") < 0)
		return -1;
	if (stat(devices, &st) != 0 || !S_ISDIR(st.st_mode)) {
		pmem_log(3, "no %s: no nd regions, no eADR", devices);
		return 0;
	}

	DIR *dir = opendir(devices);
	if (dir == NULL) {
		pmem_err("cannot list %s: %s", devices, strerror(errno));
		return -1;
	}
	int all_cpu_cache = 0;
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL) {
		if (!is_region_link(devices, entry))
			continue;
		all_cpu_cache = region_has_cpu_cache_domain(entry->d_name);
		if (all_cpu_cache != 1)
			break;
	}
	closedir(dir);
	return all_cpu_cache;
}

bool pmem_auto_flush_all_regions(void)
{
	return pmem_has_auto_flush() == 1;
}

/*
 * As PMDK: a region without a readable deep_flush, or one that reads "0"
 * (nothing to flush), counts as flushed; only a refused write is an error.
 */
int pmem_region_deep_flush(int region_id)
{
	char path[PATH_MAX], state[8];
	if (region_id < 0) {
		pmem_log(2, "deep flush skipped: mapping has no nd region");
		return 0;
	}
	if (pmem_sysfs_path(path, sizeof(path), "/bus/nd/devices/region%d/deep_flush", region_id) <
	    0)
		return -1;
	long len = pmem_sysfs_read(path, state, sizeof(state));
	if (len < 0) {
		pmem_log(2, "deep flush skipped: cannot read %s: %s", path, strerror(errno));
		return 0;
	}
	if (len >= 2 && state[0] == '0' && state[1] == '\n') {
		pmem_log(3, "deep flush not needed: %s says 0", path);
		return 0;
	}

	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		pmem_log(2, "deep flush skipped: cannot open %s for writing: %s", path,
			 strerror(errno));
		return 0;
	}
	ssize_t wrote = write(fd, "1", 1);
	int saved_errno = errno;
	close(fd);
	if (wrote != 1) {
		errno = wrote < 0 ? saved_errno : EIO;
		pmem_err("deep flush of region %d failed: write %s: %s", region_id, path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

int pmem_devdax_deep_flush(int fd)
{
	struct stat st;
	struct pmem_devdax info;
	if (fstat(fd, &st) < 0)
		return -1;
	int dax = pmem_devdax_from_stat(&st, &info);
	if (dax <= 0) {
		if (dax == 0) {
			errno = EINVAL;
			pmem_err("deep flush: fd %d is not a device DAX", fd);
		}
		return -1;
	}
	return pmem_region_deep_flush(info.region_id);
}
