/*
 * patch_super.c - sets the format version in the primary and backup
 * superblocks of a pmemfs image (a regular file) and recomputes their
 * CRC32C, to test how the daemon treats a newer format.  The layout comes
 * from fs/media.h.  Before changing anything it checks that its CRC32C
 * reproduces the stored checksum, so a checksum convention it does not
 * share is reported instead of producing a silently broken image.
 *
 *   patch_super IMAGE VERSION
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "media.h"

static uint32_t crc32c(uint32_t crc, const unsigned char *p, size_t len)
{
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return ~crc;
}

static uint32_t super_csum(struct pmfs_super sb)
{
	sb.csum = 0;
	return crc32c(0, (const unsigned char *)&sb, sizeof(sb));
}

static int patch_at(int fd, off_t off, uint32_t version, const char *which)
{
	struct pmfs_super sb;

	if (pread(fd, &sb, sizeof(sb), off) != (ssize_t)sizeof(sb)) {
		fprintf(stderr, "patch_super: reading the %s superblock: %s\n", which,
			strerror(errno));
		return -1;
	}
	if (sb.magic != PMFS_MAGIC) {
		fprintf(stderr, "patch_super: %s superblock: bad magic 0x%llx\n", which,
			(unsigned long long)sb.magic);
		return -1;
	}
	if (super_csum(sb) != sb.csum) {
		fprintf(stderr,
			"patch_super: %s superblock: stored CRC32C 0x%08x, computed 0x%08x: "
			"the checksum convention differs from fs/media.h's description\n",
			which, sb.csum, super_csum(sb));
		return -1;
	}
	sb.version = version;
	sb.csum = super_csum(sb);
	if (pwrite(fd, &sb, sizeof(sb), off) != (ssize_t)sizeof(sb)) {
		fprintf(stderr, "patch_super: writing the %s superblock: %s\n", which,
			strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct pmfs_super sb;
	int fd;

	if (argc != 3) {
		fprintf(argc == 2 ? stdout : stderr, "usage: patch_super IMAGE VERSION\n");
		return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0 || pread(fd, &sb, sizeof(sb), 0) != (ssize_t)sizeof(sb)) {
		fprintf(stderr, "patch_super: reading %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (patch_at(fd, 0, (uint32_t)strtoul(argv[2], NULL, 0), "primary") != 0 ||
	    patch_at(fd, (off_t)((sb.total_blocks - 1) * PMFS_BLOCK_SIZE),
		     (uint32_t)strtoul(argv[2], NULL, 0), "backup") != 0)
		return 1;
	close(fd);
	return 0;
}
