/*
 * helpers.h - shared by the storage unit tests: unique images in /dev/shm,
 * formatting, mounting with a log captured in memory, raw access to an
 * unmounted image, and writers of inodes and directory entries (the tests
 * own the format, so they build fsck's corrupt images without the
 * namespace layer).
 */
#ifndef STORAGE_TEST_HELPERS_H
#define STORAGE_TEST_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs these first. */
#include <setjmp.h>

#include <cmocka.h>

#include "internal.h"
#include "mkfs.h"

/* A fresh path /dev/shm/pmemfs-storage-<pid>-<n>-<tag>.img (not created). */
void image_path(char *buf, size_t len, const char *tag);
/* Formats a new file of 'size' bytes; fails the test on error. */
void image_format(const char *path, uint64_t size, struct pmfs_super *sb);

/* Log lines of the last mount, one per line. */
extern char test_log[8192];
void test_log_fn(void *ctx, enum pmfs_log_level level, const char *msg);
int test_mount(const char *path, bool read_only, struct pmfs **fs, struct pmfs_mount_info *info);

/* Raw access to an unmounted image: the whole file in a shared mapping. */
struct raw_image {
	int fd;
	char *base;
	size_t size;
	struct pmfs_super sb;
};
void raw_open(const char *path, struct raw_image *img);
void raw_close(struct raw_image *img);
struct pmfs_inode *raw_inode(struct raw_image *img, uint64_t ino);
void *raw_block(struct raw_image *img, uint64_t blk);
void raw_set_bit(struct raw_image *img, uint64_t blk, bool used);
bool raw_bit(struct raw_image *img, uint64_t blk);
/* Writes an inode (mode, nlink, parent) in slot ino with no blocks. */
void raw_make_inode(struct raw_image *img, uint64_t ino, uint32_t mode, uint32_t nlink,
		    uint64_t parent);
/* Gives inode ino one extent of len blocks at pblk (marks the bitmap). */
void raw_add_extent(struct raw_image *img, uint64_t ino, uint32_t lblk, uint64_t pblk,
		    uint32_t len);
/* Appends an entry 'name' -> ino (type from its mode) in directory dir's
 * block 0, allocating that block at 'dirblk' if the dir has none yet. */
void raw_add_dirent(struct raw_image *img, uint64_t dir, uint64_t dirblk, const char *name,
		    uint64_t ino);
/* Rewrites both superblock copies after a change to img->sb. */
void raw_write_super(struct raw_image *img);

#endif
