/*
 * helpers.c - see helpers.h.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "helpers.h"

char test_log[8192];

void image_path(char *buf, size_t len, const char *tag)
{
	static int n;

	snprintf(buf, len, "/dev/shm/pmemfs-storage-%d-%d-%s.img", (int)getpid(), n++, tag);
	unlink(buf);
}

void image_format(const char *path, uint64_t size, struct pmfs_super *sb)
{
	struct pmfs_mkfs_opts opts = {.size = size};
	struct pmfs_mkfs_result res;
	int err = pmfs_mkfs(path, &opts, &res);

	if (err)
		fail_msg("pmfs_mkfs(%s) = %d, expected 0: %s", path, err, res.msg);
	if (sb)
		*sb = res.sb;
}

void test_log_fn(void *ctx, enum pmfs_log_level level, const char *msg)
{
	size_t used = strlen(test_log);

	(void)ctx;
	(void)level;
	snprintf(test_log + used, sizeof(test_log) - used, "%s\n", msg);
}

int test_mount(const char *path, bool read_only, struct pmfs **fs, struct pmfs_mount_info *info)
{
	struct pmfs_mount_opts opts = {.read_only = read_only, .log = test_log_fn};

	test_log[0] = '\0';
	return pmfs_mount(path, &opts, fs, info);
}

void raw_open(const char *path, struct raw_image *img)
{
	struct stat st;

	img->fd = open(path, O_RDWR);
	assert_true(img->fd >= 0);
	assert_int_equal(fstat(img->fd, &st), 0);
	img->size = (size_t)st.st_size;
	img->base = mmap(NULL, img->size, PROT_READ | PROT_WRITE, MAP_SHARED, img->fd, 0);
	assert_true(img->base != MAP_FAILED);
	memcpy(&img->sb, img->base, sizeof(img->sb));
}

void raw_close(struct raw_image *img)
{
	munmap(img->base, img->size);
	close(img->fd);
}

void *raw_block(struct raw_image *img, uint64_t blk)
{
	return img->base + (blk << PMFS_BLOCK_SHIFT);
}

struct pmfs_inode *raw_inode(struct raw_image *img, uint64_t ino)
{
	return (struct pmfs_inode *)raw_block(img, img->sb.itable_start) + ino;
}

void raw_set_bit(struct raw_image *img, uint64_t blk, bool used)
{
	uint64_t *bm = raw_block(img, img->sb.bitmap_start);

	if (used)
		bm[blk / 64] |= 1ULL << (blk % 64);
	else
		bm[blk / 64] &= ~(1ULL << (blk % 64));
}

bool raw_bit(struct raw_image *img, uint64_t blk)
{
	uint64_t *bm = raw_block(img, img->sb.bitmap_start);

	return (bm[blk / 64] >> (blk % 64)) & 1;
}

void raw_make_inode(struct raw_image *img, uint64_t ino, uint32_t mode, uint32_t nlink,
		    uint64_t parent)
{
	struct pmfs_inode *in = raw_inode(img, ino);

	memset(in, 0, sizeof(*in));
	in->mode = mode;
	in->nlink = nlink;
	in->rdev_or_parent = S_ISDIR(mode) ? parent : 0;
	in->generation = (uint32_t)ino + 100;
	in->atime_sec = in->mtime_sec = in->ctime_sec = in->btime_sec = 1700000000;
}

void raw_add_extent(struct raw_image *img, uint64_t ino, uint32_t lblk, uint64_t pblk, uint32_t len)
{
	struct pmfs_inode *in = raw_inode(img, ino);

	assert_true(in->ext_count < PMFS_INLINE_EXTENTS);
	in->u.ext[in->ext_count].lblk = lblk;
	in->u.ext[in->ext_count].len = len;
	in->u.ext[in->ext_count].pblk = pblk;
	in->ext_count++;
	in->blocks += len;
	if (S_ISDIR(in->mode)) {
		if (in->size < ((uint64_t)lblk + len) * PMFS_BLOCK_SIZE)
			in->size = ((uint64_t)lblk + len) * PMFS_BLOCK_SIZE;
	} else if (in->size < ((uint64_t)lblk + len) * PMFS_BLOCK_SIZE) {
		in->size = ((uint64_t)lblk + len) * PMFS_BLOCK_SIZE;
	}
	for (uint32_t i = 0; i < len; i++)
		raw_set_bit(img, pblk + i, true);
}

void raw_add_dirent(struct raw_image *img, uint64_t dir, uint64_t dirblk, const char *name,
		    uint64_t ino)
{
	struct pmfs_inode *d = raw_inode(img, dir);
	size_t len = strlen(name);
	unsigned need = (unsigned)((sizeof(struct pmfs_dirent) + len + PMFS_DIRENT_SLOT - 1) /
				   PMFS_DIRENT_SLOT);
	char *blk;
	unsigned s = 0;

	if (d->ext_count == 0) {
		raw_add_extent(img, dir, 0, dirblk, 1);
		memset(raw_block(img, dirblk), 0, PMFS_BLOCK_SIZE);
	}
	blk = raw_block(img, d->u.ext[0].pblk);
	while (s < PMFS_SLOTS_PER_BLOCK) {
		struct pmfs_dirent *de = (void *)(blk + s * PMFS_DIRENT_SLOT);

		if (de->ino == 0)
			break;
		s += de->nslots;
	}
	assert_true(s + need <= PMFS_SLOTS_PER_BLOCK);
	struct pmfs_dirent *de = (void *)(blk + s * PMFS_DIRENT_SLOT);
	de->ino = ino;
	de->name_len = (uint8_t)len;
	de->nslots = (uint8_t)need;
	de->hash = pmfs_name_hash(name, len);
	de->type = (uint8_t)IFTODT(raw_inode(img, ino)->mode);
	memcpy(de->name, name, len);
}

void raw_write_super(struct raw_image *img)
{
	img->sb.csum = pmfs_super_csum(&img->sb);
	memcpy(img->base, &img->sb, sizeof(img->sb));
	memcpy(raw_block(img, img->sb.total_blocks - 1), &img->sb, sizeof(img->sb));
}
