/*
 * fake_sysfs.h - a fake sysfs tree in /tmp that makes /dev/zero look like
 * a device-DAX namespace (/dev/daxX.Y) of a given size and alignment, in nd
 * region 0, for the tests that cannot have a real device.  libpmem is
 * pointed at it through its internal pmem_sysfs_set_root() hook.
 */
#ifndef PMEM_MAP_FAKE_SYSFS_H
#define PMEM_MAP_FAKE_SYSFS_H

#include <stddef.h>

#define FAKE_DEVICE "/dev/zero"

struct fake_sysfs {
	char *root;	  /* the tree; what pmem_sysfs_set_root() gets */
	char *device_dir; /* .../region0/dax0.0/dax0.0 (the dev_dax device) */
	char *nd_dax_dir; /* .../region0/dax0.0 (holds dax_region/) */
	char *region_dir; /* .../ndbus0/region0 */
	char *deep_flush; /* .../region0/deep_flush */
};

/* Builds the bus/dax model tree for FAKE_DEVICE: size bytes, dax_region
 * alignment align, region 0 with persistence_domain "memory_controller"
 * and deep_flush "1", and installs it as libpmem's sysfs root. */
void fake_sysfs_create(struct fake_sysfs *fake, size_t size, size_t align);
/* Restores /sys and removes the tree. */
void fake_sysfs_destroy(struct fake_sysfs *fake);
/* Writes text to <dir>/<attr>, replacing it. */
void fake_sysfs_set(const char *dir, const char *attr, const char *text);
/* Removes <dir>/<attr>. */
void fake_sysfs_remove(const char *dir, const char *attr);
/* Sets the mtime of path to the epoch, and reads whether it moved since. */
void fake_sysfs_reset_mtime(const char *path);
int fake_sysfs_was_written(const char *path);

#endif
