/*
 * device.c - the backing store: open and lock it, tell a devdax namespace
 * from an emulation file (and refuse anything else), read a namespace's size,
 * alignment, region and persistence domain through libndctl/libdaxctl, and
 * map the whole of it once.  Also lists the machine's devdax namespaces for
 * mkfs.pmemfs --list, and a namespace's known bad blocks (badblocks.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <daxctl/libdaxctl.h>
#include <ndctl/libndctl.h>

#include "internal.h"
#include "persist.h"

const char *pmfs_device_strerror(int err)
{
	switch (err) {
	case -EBUSY:
		return "device is in use (mounted?)";
	case -ENODEV:
		return "a block device, not a devdax namespace (an fsdax /dev/pmemN needs "
		       "'ndctl create-namespace -f -e NAMESPACE -m devdax')";
	case -EMEDIUMTYPE:
		return "a character device that is not a devdax namespace";
	case -ENOTBLK:
		return "neither a regular file nor a devdax character device";
	default:
		return strerror(-err);
	}
}

static const char *domain_name(enum ndctl_persistence_domain d)
{
	switch (d) {
	case PERSISTENCE_CPU_CACHE:
		return "cpu_cache";
	case PERSISTENCE_MEM_CTRL:
		return "memory_controller";
	case PERSISTENCE_NONE:
		return "none";
	default:
		return "unknown";
	}
}

/* What a devdax walk hands its callback: the entry, and the libndctl and
 * libdaxctl objects behind it (valid during the call only). */
struct devdax_visit {
	const struct pmfs_devdax_entry *e;
	struct ndctl_region *region;
	struct daxctl_dev *dev;
};

/*
 * Walks every devdax namespace: bus -> region -> namespace in devdax mode ->
 * its dax region -> dax devices.  fn returns non-zero to stop the walk.
 */
static int foreach_devdax(int (*fn)(void *ctx, const struct devdax_visit *v), void *ctx)
{
	struct ndctl_ctx *nctx;
	struct ndctl_bus *bus;
	struct ndctl_region *region;
	struct ndctl_namespace *ndns;
	int count = 0, stop = 0;

	if (ndctl_new(&nctx) < 0)
		return -ENXIO;
	ndctl_bus_foreach(nctx, bus)
	{
		ndctl_region_foreach(bus, region)
		{
			ndctl_namespace_foreach(region, ndns)
			{
				struct ndctl_dax *dax;
				struct daxctl_region *dregion;
				struct daxctl_dev *dev;

				if (stop || ndctl_namespace_get_mode(ndns) != NDCTL_NS_MODE_DEVDAX)
					continue;
				dax = ndctl_namespace_get_dax(ndns);
				dregion = dax ? ndctl_dax_get_daxctl_region(dax) : NULL;
				if (dregion == NULL)
					continue;
				daxctl_dev_foreach(dregion, dev)
				{
					struct pmfs_devdax_entry e;

					if (stop || daxctl_dev_get_size(dev) == 0)
						continue;
					memset(&e, 0, sizeof(e));
					snprintf(e.path, sizeof(e.path), "/dev/%s",
						 daxctl_dev_get_devname(dev));
					snprintf(e.name_space, sizeof(e.name_space), "%s",
						 ndctl_namespace_get_devname(ndns));
					snprintf(e.region, sizeof(e.region), "%s",
						 ndctl_region_get_devname(region));
					snprintf(e.persistence_domain, sizeof(e.persistence_domain),
						 "%s",
						 domain_name(
						     ndctl_region_get_persistence_domain(region)));
					e.size = daxctl_dev_get_size(dev);
					e.align = daxctl_dev_get_align(dev);
					if (e.align == 0)
						e.align = ndctl_dax_get_align(dax);
					e.major = daxctl_dev_get_major(dev);
					e.minor = daxctl_dev_get_minor(dev);
					count++;
					stop = fn(ctx, &(struct devdax_visit){&e, region, dev});
				}
			}
		}
	}
	ndctl_unref(nctx);
	return count;
}

/* Calls fn with the bad ranges of the dax device as device offsets. */
static int dev_badblocks(const struct devdax_visit *v,
			 int (*fn)(void *ctx, uint64_t offset, uint64_t bytes), void *ctx)
{
	unsigned long long rstart = ndctl_region_get_resource(v->region);
	unsigned long long dstart = daxctl_dev_get_resource(v->dev);
	struct badblock *bb;
	int err = 0;

	if (rstart == ULLONG_MAX || dstart == ULLONG_MAX || dstart < rstart)
		return -ENXIO; /* addresses hidden (not root?): cannot place them */
	ndctl_region_badblock_foreach(v->region, bb)
	{
		uint64_t phys = rstart + bb->offset * 512, bytes = bb->len * 512;

		if (phys + bytes <= dstart)
			continue;
		if (phys < dstart) {
			bytes -= dstart - phys;
			phys = dstart;
		}
		err = fn(ctx, phys - dstart, bytes);
		if (err)
			break;
	}
	return err;
}

struct list_walk {
	int (*fn)(void *ctx, const struct pmfs_devdax_entry *e);
	void *ctx;
};

struct bad_count {
	uint64_t size, bytes;
};

static int count_bad(void *ctx, uint64_t offset, uint64_t bytes)
{
	struct bad_count *c = ctx;

	if (offset < c->size)
		c->bytes += bytes < c->size - offset ? bytes : c->size - offset;
	return 0;
}

/* --list also shows the known bad bytes (-1: unknown, e.g. not root). */
static int list_one(void *ctx, const struct devdax_visit *v)
{
	struct list_walk *w = ctx;
	struct pmfs_devdax_entry e = *v->e;
	struct bad_count c = {.size = e.size};

	e.bad_bytes = dev_badblocks(v, count_bad, &c) == 0 ? (int64_t)c.bytes : -1;
	return w->fn(w->ctx, &e);
}

int pmfs_device_list(int (*fn)(void *ctx, const struct pmfs_devdax_entry *e), void *ctx)
{
	struct list_walk w = {fn, ctx};

	return foreach_devdax(list_one, &w);
}

struct devdax_match {
	unsigned major, minor;
	struct pmfs_devdax_entry found;
	bool hit;
};

static int match_devdax(void *ctx, const struct devdax_visit *v)
{
	struct devdax_match *m = ctx;
	const struct pmfs_devdax_entry *e = v->e;

	if ((unsigned)e->major != m->major || (unsigned)e->minor != m->minor)
		return 0;
	m->found = *e;
	m->hit = true;
	return 1;
}

/*
 * The kernel lists a region's known poison in region-relative 512-byte
 * sectors (sysfs regionX/badblocks).  The dax device's data starts at
 * daxctl_dev_get_resource() (after the namespace's info block and any
 * alignment padding), so a sector's device offset is region start +
 * sector * 512 - device start; entries before the device's data are not
 * ours.
 */
struct badblock_walk {
	unsigned major, minor;
	int (*fn)(void *ctx, uint64_t offset, uint64_t bytes);
	void *ctx;
	int err;
	bool hit;
};

static int badblocks_of(void *ctx, const struct devdax_visit *v)
{
	struct badblock_walk *w = ctx;

	if ((unsigned)v->e->major != w->major || (unsigned)v->e->minor != w->minor)
		return 0;
	w->hit = true;
	w->err = dev_badblocks(v, w->fn, w->ctx);
	return 1;
}

int pmfs_device_badblocks(const char *path, int (*fn)(void *ctx, uint64_t offset, uint64_t bytes),
			  void *ctx)
{
	struct badblock_walk w = {.fn = fn, .ctx = ctx};
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISCHR(st.st_mode))
		return 0;
	w.major = major(st.st_rdev);
	w.minor = minor(st.st_rdev);
	foreach_devdax(badblocks_of, &w);
	/* a dax device libndctl does not know has no badblocks source */
	return w.err;
}

/*
 * A dax device that libndctl does not know (e.g. a soft-reserved hmem
 * range) is still a devdax device: libdaxctl alone gives size and alignment.
 */
static bool daxctl_lookup(unsigned major, unsigned minor, struct pmfs_devdax_entry *e)
{
	struct daxctl_ctx *ctx;
	struct daxctl_region *region;
	struct daxctl_dev *dev;
	bool hit = false;

	if (daxctl_new(&ctx) < 0)
		return false;
	daxctl_region_foreach(ctx, region)
	{
		daxctl_dev_foreach(region, dev)
		{
			if (hit || (unsigned)daxctl_dev_get_major(dev) != major ||
			    (unsigned)daxctl_dev_get_minor(dev) != minor)
				continue;
			e->size = daxctl_dev_get_size(dev);
			e->align = daxctl_dev_get_align(dev);
			if (e->align == 0)
				e->align = daxctl_region_get_align(region);
			snprintf(e->region, sizeof(e->region), "%s",
				 daxctl_region_get_devname(region));
			hit = true;
		}
	}
	daxctl_unref(ctx);
	return hit;
}

static int devdax_info(const struct stat *st, struct pmfs_device_info *info)
{
	struct devdax_match m = {.major = major(st->st_rdev), .minor = minor(st->st_rdev)};

	foreach_devdax(match_devdax, &m);
	if (!m.hit) {
		memset(&m.found, 0, sizeof(m.found));
		if (!daxctl_lookup(m.major, m.minor, &m.found))
			return -EMEDIUMTYPE;
	}
	info->is_devdax = true;
	info->size = m.found.size;
	info->align = m.found.align ? m.found.align : PMFS_BLOCK_SIZE;
	snprintf(info->region, sizeof(info->region), "%s", m.found.region);
	snprintf(info->persistence_domain, sizeof(info->persistence_domain), "%s",
		 m.found.persistence_domain);
	return 0;
}

/*
 * Exclusive use: a writer takes LOCK_EX, a read-only user LOCK_SH, both
 * non-blocking, on the file or the device node; so a mounted fs (or a running
 * mkfs/fsck) refuses every other writer, and read-only users refuse writers.
 * A device node is also opened with O_EXCL, which the kernel honours for
 * block devices.
 */
int pmfs_device_open(const char *path, bool read_only, int *fdp, struct pmfs_device_info *info)
{
	return pmfs_device_open_wait(path, read_only, 0, fdp, info);
}

/* flock, retried every 20 ms for up to wait_ms while someone else holds it. */
static int lock_device(int fd, bool read_only, unsigned wait_ms)
{
	const struct timespec step = {0, 20 * 1000 * 1000};

	for (unsigned waited = 0;; waited += 20) {
		if (flock(fd, (read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (waited >= wait_ms)
			return -EBUSY;
		nanosleep(&step, NULL);
	}
}

int pmfs_device_open_wait(const char *path, bool read_only, unsigned wait_ms, int *fdp,
			  struct pmfs_device_info *info)
{
	struct stat st;
	int fd, err;

	memset(info, 0, sizeof(*info));
	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode))
		return -ENODEV;
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
		return -ENOTBLK;
	fd = open(path,
		  (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | (S_ISCHR(st.st_mode) ? O_EXCL : 0));
	if (fd < 0)
		return -errno;
	err = lock_device(fd, read_only, wait_ms);
	if (err)
		goto fail;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto fail;
	}
	if (S_ISCHR(st.st_mode)) {
		err = devdax_info(&st, info);
		if (err < 0)
			goto fail;
	} else {
		info->size = (uint64_t)st.st_size & ~(uint64_t)(PMFS_BLOCK_SIZE - 1);
		info->align = PMFS_BLOCK_SIZE;
	}
	*fdp = fd;
	return 0;
fail:
	close(fd);
	return err;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

/*
 * An emulation file faults once per 4 KiB page into the mapping, on the
 * first store to it: 52-59% of the daemon's CPU in a sequential write
 * (bench/fs/README.md).  Populating the page tables at mount moves that
 * cost out of the data path (measured: 0.92 -> 0.33 s daemon CPU for the
 * first 1 GiB written; the mount of a 4 GiB image takes ~1 s CPU more).
 * Only a writable, fully allocated file (st_blocks covers the size): on a
 * sparse one it would allocate the whole file in /dev/shm.  A devdax
 * mapping faults per 2 MiB and is left alone.  Best effort: kernels before
 * 5.14 answer EINVAL and the faults stay.  Nothing is written, so nothing
 * about persistence changes.
 */
void pmfs_device_populate(int fd, const struct pmfs_device_info *info, char *base,
			  bool read_only)
{
	struct stat st;

	if (info->is_devdax || read_only || fstat(fd, &st) != 0 ||
	    (uint64_t)st.st_blocks * 512 < info->size)
		return;
	(void)madvise(base, info->size, MADV_POPULATE_WRITE);
}

/*
 * Writable file: pmem_map_file() of the bundled libpmem (through
 * /proc/self/fd so the locked file is the one mapped), which registers the
 * range and decides is_pmem.  devdax: one shared mapping of the whole
 * device; its size is a multiple of the alignment and the kernel aligns the
 * address for device-dax.  Read-only file: a private writable mapping, so
 * journal replay and fsck -n can run in memory without touching the image.
 */
int pmfs_device_map(int fd, const struct pmfs_device_info *info, bool read_only, char **base,
		    bool *is_pmem)
{
	void *p;

	if (info->size == 0)
		return -EINVAL;
	if (!info->is_devdax && !read_only) {
		char path[64];
		size_t mapped = 0;
		int pmem = 0;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		p = pmem_map_file(path, 0, 0, 0, &mapped, &pmem);
		if (p == NULL)
			return errno ? -errno : -ENOMEM;
		if (mapped < info->size) {
			pmem_unmap(p, mapped);
			return -EIO;
		}
		*base = p;
		*is_pmem = pmem != 0;
		return 0;
	}
	if (info->is_devdax)
		p = mmap(NULL, info->size, PROT_READ | (read_only ? 0 : PROT_WRITE), MAP_SHARED, fd,
			 0);
	else
		p = mmap(NULL, info->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	*base = p;
	*is_pmem = info->is_devdax;
	return 0;
}

void pmfs_device_unmap(char *base, uint64_t size)
{
	if (base != NULL)
		pmem_unmap(base, size);
}
