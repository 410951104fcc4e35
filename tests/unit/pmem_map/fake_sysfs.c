/*
 * fake_sysfs.c - builds the fake sysfs tree described in fake_sysfs.h.
 * Layout of the kernel's dax bus model (5.1+):
 *   dev/char/M:m -> devices/platform/e820_pmem/ndbus0/region0/dax0.0/dax0.0
 *   .../dax0.0/dax0.0/{size, subsystem -> bus/dax}
 *   .../dax0.0/dax_region/{align, id}
 *   .../region0/{persistence_domain, deep_flush}
 *   bus/nd/devices/region0 -> .../region0
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_sysfs.h"
#include "pmem_internal.h"
#include "test_util.h"

void fake_sysfs_set(const char *dir, const char *attr, const char *text)
{
	char *path = path_join(dir, attr);
	unlink(path);
	write_text(path, text);
	free(path);
}

void fake_sysfs_remove(const char *dir, const char *attr)
{
	char *path = path_join(dir, attr);
	unlink(path);
	free(path);
}

void fake_sysfs_create(struct fake_sysfs *fake, size_t size, size_t align)
{
	struct stat st;
	assert_int_equal(stat(FAKE_DEVICE, &st), 0);

	fake->root = scratch_dir("/tmp", "sysfs");
	fake->region_dir = path_join(fake->root, "devices/platform/e820_pmem/ndbus0/region0");
	fake->nd_dax_dir = path_join(fake->region_dir, "dax0.0");
	fake->device_dir = path_join(fake->nd_dax_dir, "dax0.0");
	fake->deep_flush = path_join(fake->region_dir, "deep_flush");

	char text[64], rel[64];
	make_dirs(fake->device_dir);
	snprintf(text, sizeof(text), "%zu\n", size);
	fake_sysfs_set(fake->device_dir, "size", text);
	snprintf(text, sizeof(text), "%zu\n", align);
	fake_sysfs_set(fake->nd_dax_dir, "dax_region/align", text);
	fake_sysfs_set(fake->nd_dax_dir, "dax_region/id", "0\n");
	fake_sysfs_set(fake->region_dir, "persistence_domain", "memory_controller\n");
	fake_sysfs_set(fake->region_dir, "deep_flush", "1\n");

	char *bus_dax = path_join(fake->root, "bus/dax");
	make_dirs(bus_dax);
	char *subsystem = path_join(fake->device_dir, "subsystem");
	make_symlink(bus_dax, subsystem);

	snprintf(rel, sizeof(rel), "dev/char/%u:%u", major(st.st_rdev), minor(st.st_rdev));
	char *dev_link = path_join(fake->root, rel);
	make_symlink(fake->device_dir, dev_link);

	char *region_link = path_join(fake->root, "bus/nd/devices/region0");
	make_symlink(fake->region_dir, region_link);

	free(bus_dax);
	free(subsystem);
	free(dev_link);
	free(region_link);
	pmem_sysfs_set_root(fake->root);
}

void fake_sysfs_destroy(struct fake_sysfs *fake)
{
	pmem_sysfs_set_root(NULL);
	remove_tree(fake->root);
	free(fake->root);
	free(fake->device_dir);
	free(fake->nd_dax_dir);
	free(fake->region_dir);
	free(fake->deep_flush);
}

void fake_sysfs_reset_mtime(const char *path)
{
	struct timespec times[2] = {{0, 0}, {0, 0}};
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

int fake_sysfs_was_written(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_mtim.tv_sec != 0 || st.st_mtim.tv_nsec != 0;
}
