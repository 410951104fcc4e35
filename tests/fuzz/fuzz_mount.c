/*
 * fuzz_mount.c - libFuzzer harness: mount (with recovery) a small image
 * built from the input bytes, walk it, run a few modifying operations,
 * unmount.  Any result is acceptable except a crash, a hang or an
 * out-of-bounds access: a damaged image must be refused at mount or give
 * errors from the operations.
 */
#include <errno.h>
#include <linux/falloc.h>
#include <string.h>
#include <sys/xattr.h>

#include "fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void modify(struct pmfs *fs)
{
	static char buf[10000];
	struct stat st, sz = { .st_size = 3000 };
	pmfs_ino_t f, d;

	memset(buf, 'z', sizeof(buf));
	if (pmfs_create(fs, PMFS_ROOT_INO, "fz", 0644, 0, 0, &st) && pmfs_lookup(fs, PMFS_ROOT_INO, "fz", &st))
		return;
	f = st.st_ino;
	pmfs_write(fs, f, buf, sizeof(buf), 0, 0);
	pmfs_write(fs, f, buf, 100, 0, PMFS_WRITE_APPEND);
	pmfs_setxattr(fs, f, "user.fz", "v", 1, 0);
	pmfs_setattr(fs, f, &sz, PMFS_SET_SIZE, NULL);
	pmfs_fallocate(fs, f, 0, 0, 20000);
	if (!pmfs_mkdir(fs, PMFS_ROOT_INO, "fzd", 0755, 0, 0, &st)) {
		d = st.st_ino;
		pmfs_rename(fs, PMFS_ROOT_INO, "fz", d, "fz", 0);
		pmfs_link(fs, f, PMFS_ROOT_INO, "fz2", NULL);
		pmfs_unlink(fs, d, "fz");
		pmfs_symlink(fs, d, "ln", "fz2", 0, 0, NULL);
		pmfs_forget(fs, d, 1);
	}
	pmfs_forget(fs, f, 1);
	pmfs_unlink(fs, PMFS_ROOT_INO, "fz2");
	pmfs_rename(fs, PMFS_ROOT_INO, "fzd", PMFS_ROOT_INO, "fzd2", 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_image_from(data, size);
	struct pmfs *fs;
	struct statvfs sv;

	if (!path)
		return 0;
	if (pmfs_mount(path, NULL, &fs, NULL))
		return 0; /* refused: fine */
	pmfs_statfs(fs, &sv);
	fuzz_walk(fs, PMFS_ROOT_INO, 0, 64);
	modify(fs);
	fuzz_walk(fs, PMFS_ROOT_INO, 0, 64);
	pmfs_unmount(fs);
	return 0;
}
