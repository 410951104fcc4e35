/*
 * foreign_fs.c - whether a file or block device already holds another file
 * system or a partition table, so that mkfs.pmemfs does not overwrite one
 * without --force (mkfs.xfs and mkfs.btrfs refuse the same way).  libblkid
 * (util-linux) knows the signatures of every file system Linux does; ours
 * it does not, and fs/mkfs.c checks for it.
 *
 * A devdax namespace is not probed: it cannot be read(2), only mapped, and
 * holds applications' raw data rather than block file systems.
 */
#include <blkid/blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "foreign_fs.h"

/* A probe of fd for superblocks and partition tables; NULL (fd closed)
 * if libblkid cannot read it. */
static blkid_probe new_probe(int fd)
{
	blkid_probe pr = blkid_new_probe();

	if (!pr || blkid_probe_set_device(pr, fd, 0, 0) != 0) {
		if (pr)
			blkid_free_probe(pr);
		close(fd);
		return NULL;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_enable_partitions(pr, 1);
	return pr;
}

static void describe(char *what, size_t what_size, const char *type, const char *usage)
{
	if (strcmp(usage, "filesystem") == 0)
		snprintf(what, what_size, "a file system (%s)", type);
	else if (strcmp(usage, "raid") == 0)
		snprintf(what, what_size, "a RAID member (%s)", type);
	else if (strcmp(usage, "crypto") == 0)
		snprintf(what, what_size, "an encrypted volume (%s)", type);
	else
		snprintf(what, what_size, "a %s signature", type);
}

int pmfs_foreign_signature(const char *path, char *what, size_t what_size)
{
	const char *type = NULL, *usage = NULL;
	blkid_probe pr;
	struct stat st;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno; /* mkfs creates it, or says why */
	if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) ||
	    st.st_size == 0) {
		close(fd);
		return 0;
	}
	pr = new_probe(fd);
	if (!pr) {
		close(fd);
		return -EIO;
	}
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE);
	/* 0: one signature found; 1: none; -2: several (ambiguous), refused too */
	switch (blkid_do_safeprobe(pr)) {
	case 0:
		if (blkid_probe_lookup_value(pr, "TYPE", &type, NULL) == 0) {
			if (blkid_probe_lookup_value(pr, "USAGE", &usage, NULL) != 0)
				usage = "";
			describe(what, what_size, type, usage);
			ret = 1;
		} else if (blkid_probe_lookup_value(pr, "PTTYPE", &type, NULL) == 0) {
			snprintf(what, what_size, "a partition table (%s)", type);
			ret = 1;
		}
		break;
	case -2:
		snprintf(what, what_size, "several file-system signatures");
		ret = 1;
		break;
	default:
		break;
	}
	blkid_free_probe(pr);
	close(fd);
	return ret;
}

/*
 * Erases every signature libblkid finds (as wipefs -a does), so that after
 * a forced mkfs no tool takes the device for what it held before: pmemfs
 * does not write every block a file system keeps a signature in (btrfs's is
 * at 64 KiB, inside our journal area, whose blocks mkfs leaves alone).
 */
int pmfs_wipe_foreign(const char *path)
{
	blkid_probe pr;
	int fd, ret = 0;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	pr = new_probe(fd);
	if (!pr) {
		close(fd);
		return -EIO;
	}
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_MAGIC);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
	while (ret == 0 && blkid_do_probe(pr) == 0)
		if (blkid_do_wipe(pr, 0) != 0)
			ret = -EIO;
	if (ret == 0 && fsync(fd) != 0)
		ret = -errno;
	blkid_free_probe(pr);
	close(fd);
	return ret;
}
