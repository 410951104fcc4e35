/*
 * devdax.c - recognising a device-DAX character device (/dev/daxX.Y) and
 * reading what mapping it needs from sysfs: its size, its alignment and
 * its nd region.
 *
 * Layout (PMDK's src/libpmem2/pmem2_utils_linux.c reads the same files):
 *   /sys/dev/char/M:m            -> the dax device's directory
 *   /sys/dev/char/M:m/subsystem  -> .../class/dax or .../bus/dax
 *   /sys/dev/char/M:m/size       bytes, any base strtoull accepts
 *   /sys/dev/char/M:m/align      per-device alignment (kernels >= 5.10)
 *   <ancestor>/dax_region/align  the region's alignment (all kernels)
 *   <ancestor>/dax_region/id     the nd region number
 * PMDK 1.x ignores the alignment when mapping; we map at a multiple of it,
 * since the kernel refuses devdax mappings that are not aligned.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "pmem_internal.h"

/* Parses "<number>\n" as sysfs prints it; base 0 also takes 0x... */
static int parse_sysfs_number(const char *text, int base, unsigned long long *value)
{
	char *end;
	errno = 0;
	unsigned long long parsed = strtoull(text, &end, base);
	if (end == text || *end != '\n' || errno == ERANGE || text[0] == '-')
		return -1;
	*value = parsed;
	return 0;
}

static bool is_power_of_two(unsigned long long value)
{
	return value != 0 && (value & (value - 1)) == 0;
}

/* An alignment is printed in decimal, or in hex by kernels before 4.9:
 * PMDK retries in hex when the decimal reading is not a power of two. */
static int parse_alignment(const char *text, size_t *align)
{
	unsigned long long value;
	if (parse_sysfs_number(text, 10, &value) == 0 && is_power_of_two(value)) {
		*align = (size_t)value;
		return 0;
	}
	if (parse_sysfs_number(text, 16, &value) == 0 && is_power_of_two(value)) {
		*align = (size_t)value;
		return 0;
	}
	return -1;
}

static int char_dev_path(char *buf, size_t size, const struct stat *st, const char *attr)
{
	return pmem_sysfs_path(buf, size, "/dev/char/%u:%u%s", major(st->st_rdev),
			       minor(st->st_rdev), attr);
}

/* 1 if the device's subsystem link ends in "dax", 0 if not, -1 on error. */
static int subsystem_is_dax(const struct stat *st)
{
	char link[PATH_MAX], target[PATH_MAX];
	if (char_dev_path(link, sizeof(link), st, "/subsystem") < 0)
		return -1;
	if (realpath(link, target) == NULL) {
		pmem_err("cannot tell whether character device %u:%u is device DAX: %s: %s",
			 major(st->st_rdev), minor(st->st_rdev), link, strerror(errno));
		return -1;
	}
	const char *base = strrchr(target, '/');
	return base != NULL && strcmp(base + 1, "dax") == 0;
}

static int read_size(const struct stat *st, size_t *size)
{
	char path[PATH_MAX], text[64];
	unsigned long long value;
	if (char_dev_path(path, sizeof(path), st, "/size") < 0)
		return -1;
	if (pmem_sysfs_read(path, text, sizeof(text)) < 0) {
		pmem_err("cannot read device DAX size %s: %s", path, strerror(errno));
		return -1;
	}
	if (parse_sysfs_number(text, 0, &value) < 0 || value > SIZE_MAX) {
		errno = EINVAL;
		pmem_err("invalid device DAX size in %s: \"%s\"", path, text);
		return -1;
	}
	*size = (size_t)value;
	return 0;
}

/*
 * Reads "<dir>/dax_region/<attr>" for the nearest ancestor dir of the
 * device (the device's own directory first) that has it.  The search stops
 * at the sysfs root.  0 and text filled, or -1 when no ancestor has one.
 */
static int read_dax_region_attr(const struct stat *st, const char *attr, char *text,
				size_t text_size)
{
	char link[PATH_MAX], dir[PATH_MAX], root[PATH_MAX], path[PATH_MAX + 64];
	if (char_dev_path(link, sizeof(link), st, "") < 0 || realpath(link, dir) == NULL)
		return -1;
	if (pmem_sysfs_path(root, sizeof(root), "%s", "") < 0)
		return -1;
	size_t root_len = strlen(root);

	for (;;) {
		snprintf(path, sizeof(path), "%s/dax_region/%s", dir, attr);
		if (pmem_sysfs_read(path, text, text_size) >= 0)
			return 0;
		char *slash = strrchr(dir, '/');
		if (slash == NULL || (size_t)(slash - dir) <= root_len)
			return -1;
		*slash = '\0';
	}
}

static int read_align(const struct stat *st, size_t *align)
{
	char path[PATH_MAX], text[64];
	if (char_dev_path(path, sizeof(path), st, "/align") < 0)
		return -1;
	/* The per-device attribute is what the kernel checks mmap against. */
	if (pmem_sysfs_read(path, text, sizeof(text)) < 0 &&
	    read_dax_region_attr(st, "align", text, sizeof(text)) < 0) {
		errno = ENOENT;
		pmem_err("cannot find the alignment of device DAX %u:%u", major(st->st_rdev),
			 minor(st->st_rdev));
		return -1;
	}
	if (parse_alignment(text, align) < 0) {
		errno = EINVAL;
		pmem_err("invalid device DAX alignment \"%s\"", text);
		return -1;
	}
	return 0;
}

static int read_region_id(const struct stat *st)
{
	char text[32];
	unsigned long long id;
	if (read_dax_region_attr(st, "id", text, sizeof(text)) < 0 ||
	    parse_sysfs_number(text, 10, &id) < 0 || id > INT_MAX) {
		pmem_log(2, "no nd region id for device DAX %u:%u; deep flush will be skipped",
			 major(st->st_rdev), minor(st->st_rdev));
		return -1;
	}
	return (int)id;
}

int pmem_devdax_from_stat(const struct stat *st, struct pmem_devdax *info)
{
	if (!S_ISCHR(st->st_mode))
		return 0;
	int dax = subsystem_is_dax(st);
	if (dax <= 0)
		return dax;
	if (read_size(st, &info->size) < 0 || read_align(st, &info->align) < 0)
		return -1;
	info->region_id = read_region_id(st);
	pmem_log(3, "device DAX %u:%u: size %zu align %zu region %d", major(st->st_rdev),
		 minor(st->st_rdev), info->size, info->align, info->region_id);
	return 1;
}

bool pmem_devdax_info(int fd, size_t *size, size_t *align)
{
	struct stat st;
	struct pmem_devdax info;
	if (fstat(fd, &st) < 0 || pmem_devdax_from_stat(&st, &info) != 1)
		return false;
	*size = info.size;
	*align = info.align;
	return true;
}
