/*
 * mkfs.c - formats a devdax namespace or an emulation file: computes the
 * geometry, initialises only the metadata (never the data area, so a large
 * device formats in moments) and creates the root directory.
 *
 * Crash consistency: the superblocks are written last.  First both old
 * superblock copies are zeroed and fenced, so from then on the device holds
 * no valid pmemfs (neither the old one, whose metadata is about to be
 * overwritten, nor a half-written new one); then state block, journal heads,
 * inode table and bitmap are written and fenced; then the backup superblock,
 * fence, then the primary, fence.  A crash anywhere before the last fences
 * leaves a device that mount refuses (or, after the backup's fence, one whose
 * complete metadata the backup describes).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "mkfs.h"
#include "persist.h"

#define MIN_DATA_BLOCKS 16u
#define BITS_PER_BLOCK (PMFS_BLOCK_SIZE * 8u)

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

int pmfs_mkfs_geometry(uint64_t size, uint64_t align, const struct pmfs_mkfs_opts *opts,
		       struct pmfs_super *sb, char *msg, size_t msglen)
{
	uint64_t total = size >> PMFS_BLOCK_SHIFT;
	uint64_t inodes, itable_blocks, journal_blocks, min_blocks;
	uint32_t lanes = opts->journal_lanes, lane_blocks = opts->lane_blocks;

	memset(sb, 0, sizeof(*sb));
	/* Small devices get a small journal; 16 x 256 KiB from 1 GiB up. */
	if (lanes == 0)
		lanes = total >= 65536 ? 16 : total >= 4096 ? 8 : 4;
	if (lane_blocks == 0)
		lane_blocks = total >= 262144 ? 64 : total >= 65536 ? 32 : 16;
	if (lanes > PMFS_MAX_LANES || lane_blocks > PMFS_MAX_LANE_BLOCKS) {
		snprintf(msg, msglen,
			 "journal of %u lanes x %u blocks exceeds the limits (%u x %u)", lanes,
			 lane_blocks, PMFS_MAX_LANES, PMFS_MAX_LANE_BLOCKS);
		return -EINVAL;
	}
	if (lane_blocks < PMFS_MIN_LANE_BLOCKS) {
		snprintf(msg, msglen,
			 "journal lanes of %u KiB are too small: the largest transaction needs "
			 "lanes of at least %u KiB",
			 lane_blocks * 4, PMFS_MIN_LANE_BLOCKS * 4);
		return -EINVAL;
	}
	inodes = opts->inodes ? opts->inodes + 1 : size / PMFS_MKFS_BYTES_PER_INODE;
	if (inodes < 16)
		inodes = 16;
	if (inodes > UINT32_MAX) {
		snprintf(msg, msglen, "%llu inodes is more than %u", (unsigned long long)inodes,
			 UINT32_MAX);
		return -EINVAL;
	}
	itable_blocks = div_up(inodes * PMFS_INODE_SIZE, PMFS_BLOCK_SIZE);
	journal_blocks = (uint64_t)lanes * lane_blocks;

	sb->magic = PMFS_MAGIC;
	sb->version = PMFS_FORMAT_VERSION;
	sb->block_size = PMFS_BLOCK_SIZE;
	sb->device_align = align;
	sb->total_blocks = total;
	sb->journal_start = 2;
	sb->journal_lanes = lanes;
	sb->lane_blocks = lane_blocks;
	sb->itable_start = sb->journal_start + journal_blocks;
	sb->itable_blocks = itable_blocks;
	sb->inode_count = itable_blocks * (PMFS_BLOCK_SIZE / PMFS_INODE_SIZE);
	sb->bitmap_start = sb->itable_start + itable_blocks;
	sb->bitmap_blocks = div_up(total, BITS_PER_BLOCK);
	sb->data_start = sb->bitmap_start + sb->bitmap_blocks;
	min_blocks = sb->data_start + MIN_DATA_BLOCKS + 1;
	if (total < min_blocks || total < PMFS_MIN_BLOCKS) {
		snprintf(msg, msglen,
			 "too small: %llu bytes, the metadata alone needs %llu blocks; "
			 "at least %llu bytes are required",
			 (unsigned long long)size, (unsigned long long)sb->data_start,
			 (unsigned long long)(min_blocks << PMFS_BLOCK_SHIFT));
		return -ENOSPC;
	}
	return 0;
}

static bool holds_pmemfs(int fd, uint64_t size)
{
	uint64_t magic;

	if (size < 2 * PMFS_BLOCK_SIZE)
		return false;
	if (pread(fd, &magic, sizeof(magic), 0) == sizeof(magic) && magic == PMFS_MAGIC)
		return true;
	return pread(fd, &magic, sizeof(magic),
		     (off_t)((size >> PMFS_BLOCK_SHIFT) - 1) << PMFS_BLOCK_SHIFT) ==
		   sizeof(magic) &&
	       magic == PMFS_MAGIC;
}

static void write_root(char *base, const struct pmfs_super *sb)
{
	struct pmfs_inode root;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	memset(&root, 0, sizeof(root));
	root.mode = S_IFDIR | 0755;
	root.uid = getuid();
	root.gid = getgid();
	root.nlink = 2;
	root.atime_sec = root.mtime_sec = root.ctime_sec = root.btime_sec = now.tv_sec;
	root.atime_nsec = root.mtime_nsec = root.ctime_nsec = root.btime_nsec =
	    (uint32_t)now.tv_nsec;
	root.rdev_or_parent = PMFS_ROOT_INO;
	root.generation = 1;
	pm_copy(base + (sb->itable_start << PMFS_BLOCK_SHIFT) + PMFS_ROOT_INO * PMFS_INODE_SIZE,
		&root, sizeof(root));
}

/* Metadata blocks, the backup superblock and the bits past the end are 1. */
static bool block_reserved(const struct pmfs_super *sb, uint64_t blk)
{
	return blk < sb->data_start || blk >= sb->total_blocks - 1;
}

static void write_bitmap(char *base, const struct pmfs_super *sb)
{
	uint64_t buf[PMFS_BLOCK_SIZE / 8];

	for (uint64_t i = 0; i < sb->bitmap_blocks; i++) {
		for (uint64_t w = 0; w < PMFS_BLOCK_SIZE / 8; w++) {
			uint64_t first = i * BITS_PER_BLOCK + w * 64;

			buf[w] = 0;
			if (first >= sb->data_start && first + 64 < sb->total_blocks)
				continue; /* the common case: 64 data blocks, all free */
			for (unsigned b = 0; b < 64; b++)
				if (block_reserved(sb, first + b))
					buf[w] |= 1ULL << b;
		}
		pm_copy(base + ((sb->bitmap_start + i) << PMFS_BLOCK_SHIFT), buf, PMFS_BLOCK_SIZE);
	}
}

static void write_metadata(char *base, const struct pmfs_super *sb)
{
	struct pmfs_state state;

	memset(&state, 0, sizeof(state));
	state.clean = 1;
	pm_copy(base + ((uint64_t)PMFS_STATE_BLOCK << PMFS_BLOCK_SHIFT), &state, sizeof(state));
	for (uint32_t i = 0; i < sb->journal_lanes; i++)
		pm_set(base + ((sb->journal_start + (uint64_t)i * sb->lane_blocks)
			       << PMFS_BLOCK_SHIFT),
		       0, sizeof(struct pmfs_lane_head));
	pm_set(base + (sb->itable_start << PMFS_BLOCK_SHIFT), 0,
	       sb->itable_blocks << PMFS_BLOCK_SHIFT);
	write_root(base, sb);
	write_bitmap(base, sb);
}

static int open_target(const char *path, const struct pmfs_mkfs_opts *opts, int *fd,
		       struct pmfs_device_info *info, struct pmfs_mkfs_result *res, bool *created)
{
	struct stat st;
	int err;

	if (opts->size != 0 && stat(path, &st) < 0 && errno == ENOENT) {
		int cfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

		if (cfd < 0) {
			err = -errno;
			snprintf(res->msg, sizeof(res->msg), "cannot create %s: %s", path,
				 strerror(-err));
			return err;
		}
		close(cfd);
		*created = true;
	}
	err = pmfs_device_open_wait(path, false, opts->busy_wait_ms, fd, info);
	if (err) {
		snprintf(res->msg, sizeof(res->msg), "%s: %s", path, pmfs_device_strerror(err));
		return err;
	}
	return 0;
}

int pmfs_mkfs(const char *path, const struct pmfs_mkfs_opts *opts, struct pmfs_mkfs_result *res)
{
	struct pmfs_device_info info;
	struct pmfs_super sb;
	char *base = NULL;
	bool is_pmem, created = false;
	int fd = -1, err;

	memset(res, 0, sizeof(*res));
	if (opts->label && strlen(opts->label) >= PMFS_LABEL_MAX) {
		snprintf(res->msg, sizeof(res->msg), "label is longer than %d bytes",
			 PMFS_LABEL_MAX - 1);
		return -EINVAL;
	}
	err = open_target(path, opts, &fd, &info, res, &created);
	if (err) {
		if (created)
			unlink(path);
		return err;
	}
	if (opts->size != 0 && info.is_devdax) {
		snprintf(res->msg, sizeof(res->msg), "%s: --size applies to files, not to devdax",
			 path);
		err = -EINVAL;
		goto out;
	}
	if (!opts->force && holds_pmemfs(fd, info.size)) {
		snprintf(res->msg, sizeof(res->msg),
			 "%s already holds a pmemfs; use --force to overwrite it", path);
		err = -EEXIST;
		goto out;
	}
	/* The geometry first: a refused --size must not have shrunk the file. */
	if (opts->size != 0)
		info.size = opts->size & ~(uint64_t)(PMFS_BLOCK_SIZE - 1);
	err = pmfs_mkfs_geometry(info.size,
				 info.is_devdax	      ? info.align
				 : opts->device_align ? opts->device_align
						      : PMFS_MKFS_FILE_ALIGN,
				 opts, &sb, res->msg, sizeof(res->msg));
	if (err)
		goto out;
	if (opts->size != 0 && ftruncate(fd, (off_t)opts->size) < 0) {
		err = -errno;
		snprintf(res->msg, sizeof(res->msg), "cannot size %s: %s", path, strerror(-err));
		goto out;
	}
	if (opts->label)
		strncpy(sb.label, opts->label, PMFS_LABEL_MAX - 1);
	if (getrandom(sb.uuid, sizeof(sb.uuid), 0) != (ssize_t)sizeof(sb.uuid)) {
		err = -EIO;
		snprintf(res->msg, sizeof(res->msg), "cannot read random bytes for the uuid");
		goto out;
	}
	sb.uuid[6] = (sb.uuid[6] & 0x0f) | 0x40; /* RFC 4122 version 4 */
	sb.uuid[8] = (sb.uuid[8] & 0x3f) | 0x80;
	sb.mkfs_time = time(NULL);
	sb.csum = pmfs_super_csum(&sb);
	if (opts->before_write) {
		err = opts->before_write(opts->before_write_arg, res->msg, sizeof(res->msg));
		if (err)
			goto out;
	}

	err = pmfs_device_map(fd, &info, false, &base, &is_pmem);
	if (err) {
		snprintf(res->msg, sizeof(res->msg), "cannot map %s: %s", path, strerror(-err));
		goto out;
	}
	/* Order: see the comment at the top of this file. */
	pm_set(base, 0, PMFS_BLOCK_SIZE);
	pm_set(base + ((sb.total_blocks - 1) << PMFS_BLOCK_SHIFT), 0, PMFS_BLOCK_SIZE);
	pm_fence();
	write_metadata(base, &sb);
	pm_fence();
	pm_copy(base + ((sb.total_blocks - 1) << PMFS_BLOCK_SHIFT), &sb, sizeof(sb));
	pm_fence();
	pm_copy(base, &sb, sizeof(sb));
	pm_fence();
	pmfs_device_unmap(base, info.size);
	res->sb = sb;
	res->is_devdax = info.is_devdax;
out:
	if (err && created)
		unlink(path); /* do not leave behind a file we made for nothing */
	close(fd);
	return err;
}
