/*
 * superblock.c - the superblock's checksum and validation, and the choice
 * between the primary copy (block 0) and the backup (last block).  Shared by
 * mount (super.c), mkfs and fsck; it never writes.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

uint32_t pmfs_super_csum(const struct pmfs_super *sb)
{
	/* csum is the last field: the CRC covers everything before it, and the
	 * 4 bytes of csum count as zero (FORMAT.md). */
	static const uint32_t zero;
	uint32_t crc = pmfs_crc32c(0, sb, offsetof(struct pmfs_super, csum));

	return pmfs_crc32c(crc, &zero, sizeof(zero));
}

static bool range_inside(uint64_t start, uint64_t count, uint64_t lo, uint64_t hi)
{
	return start >= lo && start <= hi && count <= hi - start;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * Geometry: every region inside [2, data_start), no two overlapping, the
 * data area non-empty and ending before the backup superblock, all of it
 * inside the device.  Written so that no product can overflow.
 */
static int check_geometry(const struct pmfs_super *sb, uint64_t device_size, char *why, size_t len)
{
	uint64_t dev_blocks = device_size >> PMFS_BLOCK_SHIFT;
	uint64_t total = sb->total_blocks;
	uint64_t journal_blocks;

#define BAD(...) (snprintf(why, len, __VA_ARGS__), -EUCLEAN)
	if (sb->block_size != PMFS_BLOCK_SIZE)
		return BAD("block size %u is not %u", sb->block_size, PMFS_BLOCK_SIZE);
	if (total < PMFS_MIN_BLOCKS || total > dev_blocks)
		return BAD("total_blocks %llu outside [%u, %llu] (device has %llu blocks)",
			   (unsigned long long)total, PMFS_MIN_BLOCKS,
			   (unsigned long long)dev_blocks, (unsigned long long)dev_blocks);
	if (sb->device_align < PMFS_BLOCK_SIZE || (sb->device_align & (sb->device_align - 1)))
		return BAD("device_align %llu is not a power of two >= 4096",
			   (unsigned long long)sb->device_align);
	if (sb->journal_lanes < 1 || sb->journal_lanes > PMFS_MAX_LANES ||
	    sb->lane_blocks < PMFS_MIN_LANE_BLOCKS || sb->lane_blocks > PMFS_MAX_LANE_BLOCKS)
		return BAD("journal of %u lanes x %u blocks is outside the limits (1..%u x %u..%u)",
			   sb->journal_lanes, sb->lane_blocks, PMFS_MAX_LANES,
			   PMFS_MIN_LANE_BLOCKS, PMFS_MAX_LANE_BLOCKS);
	journal_blocks = (uint64_t)sb->journal_lanes * sb->lane_blocks;
	if (sb->data_start >= total - 1)
		return BAD("data_start %llu leaves no data blocks (total %llu)",
			   (unsigned long long)sb->data_start, (unsigned long long)total);
	if (!range_inside(sb->journal_start, journal_blocks, 2, sb->data_start))
		return BAD("journal [%llu, +%llu) is outside [2, data_start %llu)",
			   (unsigned long long)sb->journal_start,
			   (unsigned long long)journal_blocks, (unsigned long long)sb->data_start);
	if (!range_inside(sb->itable_start, sb->itable_blocks, 2, sb->data_start))
		return BAD("inode table [%llu, +%llu) is outside [2, data_start %llu)",
			   (unsigned long long)sb->itable_start,
			   (unsigned long long)sb->itable_blocks,
			   (unsigned long long)sb->data_start);
	if (!range_inside(sb->bitmap_start, sb->bitmap_blocks, 2, sb->data_start))
		return BAD("bitmap [%llu, +%llu) is outside [2, data_start %llu)",
			   (unsigned long long)sb->bitmap_start,
			   (unsigned long long)sb->bitmap_blocks,
			   (unsigned long long)sb->data_start);
	if (ranges_overlap(sb->journal_start, journal_blocks, sb->itable_start,
			   sb->itable_blocks) ||
	    ranges_overlap(sb->journal_start, journal_blocks, sb->bitmap_start,
			   sb->bitmap_blocks) ||
	    ranges_overlap(sb->itable_start, sb->itable_blocks, sb->bitmap_start,
			   sb->bitmap_blocks))
		return BAD("journal, inode table and bitmap overlap");
	if (sb->inode_count < 2 ||
	    sb->inode_count > sb->itable_blocks * (PMFS_BLOCK_SIZE / PMFS_INODE_SIZE))
		return BAD("inode_count %llu does not fit %llu inode-table blocks",
			   (unsigned long long)sb->inode_count,
			   (unsigned long long)sb->itable_blocks);
	if (sb->bitmap_blocks < (total + PMFS_BLOCK_SIZE * 8 - 1) / (PMFS_BLOCK_SIZE * 8))
		return BAD("bitmap of %llu blocks cannot cover %llu blocks",
			   (unsigned long long)sb->bitmap_blocks, (unsigned long long)total);
#undef BAD
	return 0;
}

int pmfs_super_check(const struct pmfs_super *sb, uint64_t device_size, char *why, size_t len)
{
	if (sb->magic != PMFS_MAGIC) {
		snprintf(why, len, "bad magic 0x%016llx", (unsigned long long)sb->magic);
		return -EINVAL;
	}
	if (sb->csum != pmfs_super_csum(sb)) {
		snprintf(why, len, "bad checksum 0x%08x (computed 0x%08x)", sb->csum,
			 pmfs_super_csum(sb));
		return -EBADMSG;
	}
	if (sb->version > PMFS_FORMAT_VERSION || sb->version == 0) {
		snprintf(why, len, "format version %u is not supported (this pmemfs supports %u)",
			 sb->version, PMFS_FORMAT_VERSION);
		return -EOPNOTSUPP;
	}
	if (sb->feature_incompat & ~PMFS_FEATURE_INCOMPAT_SUPP) {
		snprintf(why, len, "unknown incompatible features 0x%llx",
			 (unsigned long long)(sb->feature_incompat & ~PMFS_FEATURE_INCOMPAT_SUPP));
		return -EOPNOTSUPP;
	}
	return check_geometry(sb, device_size, why, len);
}

/*
 * The primary is used when valid.  Otherwise the backup in the device's
 * last block (where mkfs puts it: total_blocks = device blocks) is tried;
 * a version or feature refusal of the primary is final, since the backup
 * holds the same bytes.  On failure 'why' explains the primary's problem.
 */
int pmfs_super_read(const char *base, uint64_t device_size, struct pmfs_super *out,
		    bool *used_backup, char *why, size_t len)
{
	const struct pmfs_super *primary = (const void *)base;
	uint64_t dev_blocks = device_size >> PMFS_BLOCK_SHIFT;
	char backup_why[160];
	int err, berr;

	*used_backup = false;
	if (dev_blocks < 2) {
		snprintf(why, len, "device of %llu bytes is too small to hold a pmemfs",
			 (unsigned long long)device_size);
		return -EINVAL;
	}
	memcpy(out, primary, sizeof(*out));
	err = pmfs_super_check(out, device_size, why, len);
	if (err == 0 || err == -EOPNOTSUPP)
		return err;

	memcpy(out, base + ((dev_blocks - 1) << PMFS_BLOCK_SHIFT), sizeof(*out));
	berr = pmfs_super_check(out, device_size, backup_why, sizeof(backup_why));
	if (berr == 0 && out->total_blocks == dev_blocks) {
		*used_backup = true;
		return 0;
	}
	if (berr == -EOPNOTSUPP) {
		snprintf(why, len, "%s", backup_why);
		return berr;
	}
	return err;
}
