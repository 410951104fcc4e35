/*
 * badblocks.c - the set of bad device blocks (sorted, merged runs) and
 * where the known ones come from: a devdax namespace's region badblocks
 * (libndctl, device.c), or a test file named by $PMEMFS_BADBLOCKS_FILE.
 * Nothing here is persistent: the kernel keeps the device's list, and
 * blocks found bad while mounted live in DRAM until the next mount.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "badblocks.h"

#define SECTOR 512u

void pmfs_badblocks_init(struct pmfs_badblocks *bb)
{
	memset(bb, 0, sizeof(*bb));
	pthread_mutex_init(&bb->lock, NULL);
}

void pmfs_badblocks_fini(struct pmfs_badblocks *bb)
{
	pthread_mutex_destroy(&bb->lock);
	free(bb->r);
	bb->r = NULL;
	bb->n = bb->cap = bb->count = 0;
}

/* Index of the first run that ends after blk (lock held). */
static size_t first_after(const struct pmfs_badblocks *bb, uint64_t blk)
{
	size_t lo = 0, hi = bb->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (bb->r[mid].start + bb->r[mid].len <= blk)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int pmfs_badblocks_add(struct pmfs_badblocks *bb, uint64_t start, uint64_t len)
{
	size_t i, j;
	uint64_t end = start + len;

	if (len == 0)
		return 0;
	pthread_mutex_lock(&bb->lock);
	/* runs [i, j) touch or overlap [start, end): merge them into one */
	i = first_after(bb, start ? start - 1 : 0);
	if (i < bb->n && bb->r[i].start + bb->r[i].len < start)
		i++;
	for (j = i; j < bb->n && bb->r[j].start <= end; j++) {
		if (bb->r[j].start < start)
			start = bb->r[j].start;
		if (bb->r[j].start + bb->r[j].len > end)
			end = bb->r[j].start + bb->r[j].len;
	}
	if (i == j) {
		if (bb->n == bb->cap) {
			size_t ncap = bb->cap ? bb->cap * 2 : 8;
			struct pmfs_bad_range *nr = realloc(bb->r, ncap * sizeof(*nr));

			if (nr == NULL) {
				pthread_mutex_unlock(&bb->lock);
				return -ENOMEM;
			}
			bb->r = nr;
			bb->cap = ncap;
		}
		memmove(&bb->r[i + 1], &bb->r[i], (bb->n - i) * sizeof(*bb->r));
		bb->n++;
	} else if (j > i + 1) {
		memmove(&bb->r[i + 1], &bb->r[j], (bb->n - j) * sizeof(*bb->r));
		bb->n -= j - i - 1;
	}
	bb->r[i].start = start;
	bb->r[i].len = end - start;
	__atomic_store_n(&bb->count, bb->n, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&bb->lock);
	return 0;
}

bool pmfs_badblocks_any(struct pmfs_badblocks *bb, uint64_t start, uint64_t len)
{
	bool hit;
	size_t i;

	/* the common case, no bad block at all, takes no lock */
	if (__atomic_load_n(&bb->count, __ATOMIC_ACQUIRE) == 0 || len == 0)
		return false;
	pthread_mutex_lock(&bb->lock);
	i = first_after(bb, start);
	hit = i < bb->n && bb->r[i].start < start + len;
	pthread_mutex_unlock(&bb->lock);
	return hit;
}

void pmfs_badblocks_foreach(struct pmfs_badblocks *bb, uint64_t start, uint64_t len,
			    void (*fn)(void *ctx, uint64_t start, uint64_t len), void *ctx)
{
	uint64_t end = start + len;

	if (__atomic_load_n(&bb->count, __ATOMIC_ACQUIRE) == 0 || len == 0)
		return;
	pthread_mutex_lock(&bb->lock);
	for (size_t i = first_after(bb, start); i < bb->n && bb->r[i].start < end; i++) {
		uint64_t s = bb->r[i].start > start ? bb->r[i].start : start;
		uint64_t e =
		    bb->r[i].start + bb->r[i].len < end ? bb->r[i].start + bb->r[i].len : end;

		fn(ctx, s, e - s);
	}
	pthread_mutex_unlock(&bb->lock);
}

/* Adds the sectors [sector, sector + count) of the device as whole blocks,
 * clipped to the device. */
static int add_sectors(struct pmfs_badblocks *bb, uint64_t dev_size, uint64_t sector,
		       uint64_t count)
{
	uint64_t first, last;

	if (count == 0 || sector >= dev_size / SECTOR)
		return 0;
	if (count > dev_size / SECTOR - sector)
		count = dev_size / SECTOR - sector;
	first = sector * SECTOR / PMFS_BLOCK_SIZE;
	last = ((sector + count) * SECTOR - 1) / PMFS_BLOCK_SIZE;
	return pmfs_badblocks_add(bb, first, last - first + 1);
}

static int read_file(const char *file, uint64_t dev_size, struct pmfs_badblocks *bb, char *why,
		     size_t len)
{
	FILE *f = fopen(file, "re");
	unsigned long long sector, count;
	char line[128];
	unsigned lineno = 0;
	int err = 0;

	if (f == NULL) {
		err = -errno;
		snprintf(why, len, "%s: %s", file, strerror(errno));
		return err;
	}
	while (!err && fgets(line, sizeof(line), f)) {
		lineno++;
		if (line[0] == '\n' || line[0] == '#')
			continue;
		if (sscanf(line, "%llu %llu", &sector, &count) != 2) {
			snprintf(why, len, "%s:%u: expected 'SECTOR COUNT'", file, lineno);
			err = -EINVAL;
			break;
		}
		err = add_sectors(bb, dev_size, sector, count);
	}
	fclose(f);
	return err;
}

struct from_device {
	struct pmfs_badblocks *bb;
	uint64_t size;
	int err;
};

static int add_device_range(void *ctx, uint64_t offset, uint64_t bytes)
{
	struct from_device *d = ctx;
	uint64_t end = offset + bytes;

	if (offset >= d->size)
		return 0;
	if (end > d->size)
		end = d->size;
	d->err = pmfs_badblocks_add(d->bb, offset / PMFS_BLOCK_SIZE,
				    (end + PMFS_BLOCK_SIZE - 1) / PMFS_BLOCK_SIZE -
					offset / PMFS_BLOCK_SIZE);
	return d->err;
}

int pmfs_badblocks_read(const char *path, const struct pmfs_device_info *info,
			struct pmfs_badblocks *bb, char *why, size_t len)
{
	const char *file = getenv(PMFS_BADBLOCKS_ENV);
	int err = 0;

	why[0] = '\0';
	if (info->is_devdax) {
		struct from_device d = {.bb = bb, .size = info->size};

		err = pmfs_device_badblocks(path, add_device_range, &d);
		if (err == 0)
			err = d.err;
		if (err == -ENXIO) {
			/* the kernel hides the addresses (not root): go on
			 * without the list, but say so (*why, return 0) */
			snprintf(why, len,
				 "the namespace's known bad blocks cannot be placed (region and "
				 "device addresses hidden; not root?): not checked");
			err = 0;
		} else if (err) {
			snprintf(why, len, "reading the namespace's badblocks: %s", strerror(-err));
		}
	}
	if (!err && file != NULL && file[0] != '\0')
		err = read_file(file, info->size, bb, why, len);
	return err;
}

const char *pmfs_badblocks_area(const struct pmfs_super *sb, uint64_t blk)
{
	if (blk == PMFS_SUPER_BLOCK)
		return "primary superblock";
	if (blk == PMFS_STATE_BLOCK)
		return "state block";
	if (blk + 1 == sb->total_blocks)
		return "backup superblock";
	if (blk >= sb->journal_start &&
	    blk < sb->journal_start + (uint64_t)sb->journal_lanes * sb->lane_blocks)
		return "journal";
	if (blk >= sb->itable_start && blk < sb->itable_start + sb->itable_blocks)
		return "inode table";
	if (blk >= sb->bitmap_start && blk < sb->bitmap_start + sb->bitmap_blocks)
		return "block bitmap";
	if (blk < sb->data_start)
		return "metadata area";
	if (blk >= sb->total_blocks)
		return "past the file system";
	return NULL;
}

/*
 * Mount: reads the device's known bad blocks into fs->bad and refuses
 * (-EIO) when one lies in the fixed metadata, whose loads are not guarded.
 * Bad blocks in the data area are kept out of the allocator (balloc.c) and
 * make reads and writes of a file's block fail with -EIO (file.c).  Only
 * DRAM changes: nothing is written for a bad block.
 */
int pmfs_badblocks_mount(struct pmfs *fs)
{
	struct pmfs_badblocks *bb = malloc(sizeof(*bb));
	char why[256];
	int err;

	if (bb == NULL)
		return -ENOMEM;
	pmfs_badblocks_init(bb);
	fs->bad = bb;
	pmfs_sigbus_install();
	err = pmfs_badblocks_read(fs->dev_path, &fs->dev_info, bb, why, sizeof(why));
	if (!err && why[0])
		pmfs_logf(fs, PMFS_LOG_WARN, "%s: %s", fs->dev_path, why);
	if (err) {
		pmfs_logf(fs, PMFS_LOG_ERR, "%s: cannot read the known bad blocks: %s",
			  fs->dev_path, why);
		return err;
	}
	for (size_t i = 0; i < bb->n; i++) {
		const struct pmfs_bad_range *r = &bb->r[i];
		const char *area = pmfs_badblocks_area(fs->sb, r->start);

		if (r->start >= fs->sb->total_blocks)
			continue; /* device space the file system does not use */
		/* a run that starts in the data area may reach the backup */
		if (area == NULL && r->start + r->len >= fs->sb->total_blocks)
			area = "backup superblock";
		if (area != NULL) {
			pmfs_logf(fs, PMFS_LOG_ERR,
				  "%s: bad blocks [%llu, %llu) (device bytes [%llu, %llu)) in the "
				  "%s: refusing to mount; run fsck.pmemfs -n %s for the details",
				  fs->dev_path, (unsigned long long)r->start,
				  (unsigned long long)(r->start + r->len),
				  (unsigned long long)(r->start * PMFS_BLOCK_SIZE),
				  (unsigned long long)((r->start + r->len) * PMFS_BLOCK_SIZE), area,
				  fs->dev_path);
			return -EIO;
		}
		pmfs_logf(fs, PMFS_LOG_WARN,
			  "%s: bad blocks [%llu, %llu) in the data area: never allocated; a "
			  "file's data there reads and writes as I/O errors",
			  fs->dev_path, (unsigned long long)r->start,
			  (unsigned long long)(r->start + r->len));
	}
	return 0;
}

/* Refuses (-EIO, logged) a bad block that holds what of inode ino. */
static int refuse_inode(struct pmfs *fs, pmfs_ino_t ino, uint64_t blk, const char *what)
{
	pmfs_logf(fs, PMFS_LOG_ERR,
		  "%s: bad block %llu holds the %s of inode %llu: refusing to mount; run "
		  "fsck.pmemfs -n %s for the details",
		  fs->dev_path, (unsigned long long)blk, what, (unsigned long long)ino,
		  fs->dev_path);
	return -EIO;
}

static bool bad_run(struct pmfs *fs, uint64_t blk, uint64_t len)
{
	return blk < fs->sb->total_blocks && pmfs_badblocks_any(fs->bad, blk, len);
}

/*
 * Mount, after journal recovery, only when the data area has bad blocks:
 * the namespace layer loads directory blocks, symlink targets, extent
 * lists and xattr blocks without a guard, so a bad one among them refuses
 * the mount like bad fixed metadata.  One pass over the inode table (the
 * extent lists are followed, checked before they are loaded); block
 * numbers are bounded, a chain by the block count.  A regular file's data
 * blocks are left to the read and write paths (EIO).
 */
int pmfs_badblocks_check_inodes(struct pmfs *fs)
{
	const struct pmfs_super *sb = fs->sb;

	if (fs->bad == NULL || __atomic_load_n(&fs->bad->count, __ATOMIC_ACQUIRE) == 0)
		return 0;
	for (pmfs_ino_t ino = 1; ino < sb->inode_count; ino++) {
		const struct pmfs_inode *in = pmfs_inode_ptr(fs, ino);
		bool meta =
		    S_ISDIR(in->mode) || (S_ISLNK(in->mode) && in->size >= PMFS_INLINE_SYMLINK);
		const char *what = S_ISDIR(in->mode) ? "directory entries" : "symlink target";
		uint64_t blk = in->ext_overflow, hops = 0;

		if (in->mode == 0)
			continue;
		if (in->xattr_block && bad_run(fs, in->xattr_block, 1))
			return refuse_inode(fs, ino, in->xattr_block, "xattrs");
		for (uint32_t i = 0; meta && i < in->ext_count && i < PMFS_INLINE_EXTENTS; i++)
			if (bad_run(fs, in->u.ext[i].pblk, in->u.ext[i].len))
				return refuse_inode(fs, ino, in->u.ext[i].pblk, what);
		if (S_ISLNK(in->mode) && !meta)
			continue; /* an inline target has no extents */
		while (blk != 0 && blk < sb->total_blocks && hops++ < sb->total_blocks) {
			const struct pmfs_extent_block *eb = pmfs_block(fs, blk);

			if (bad_run(fs, blk, 1))
				return refuse_inode(fs, ino, blk, "extent list");
			for (uint32_t i = 0; meta && i < eb->count && i < PMFS_EXTENTS_PER_BLOCK;
			     i++)
				if (bad_run(fs, eb->ext[i].pblk, eb->ext[i].len))
					return refuse_inode(fs, ino, eb->ext[i].pblk, what);
			blk = eb->next;
		}
	}
	return 0;
}

void pmfs_badblocks_unmount(struct pmfs *fs)
{
	if (fs->bad == NULL)
		return;
	pmfs_badblocks_fini(fs->bad);
	free(fs->bad);
	fs->bad = NULL;
}
