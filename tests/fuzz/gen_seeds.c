/*
 * gen_seeds.c - writes the fuzz seed corpus: small images (fuzz_image.h
 * geometry) in the states the harnesses should start from.
 *
 *   gen_seeds OUTDIR
 *
 *   seed-fresh.img    just formatted
 *   seed-tree.img     files (inline and overflow extents, a hole), dirs,
 *                     short and long symlinks, hard link, xattrs; clean
 *   seed-orphan.img   the tree while mounted, with an unlinked open file
 *                     on the orphan list (not clean: recovery frees it)
 *   seed-journal.img  taken right after a transaction's commit fence:
 *                     a committed lane that recovery must replay
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_image.h"
#include "internal.h"
#include "persist.h"

static const char *outdir;
static char img[64];

static void die(const char *what, int err)
{
	fprintf(stderr, "gen_seeds: %s: %d\n", what, err);
	unlink(img);
	exit(1);
}

static void save(const char *name)
{
	static char buf[FUZZ_IMAGE_SIZE];
	char path[4096];
	int in = open(img, O_RDONLY), out;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (in < 0 || out < 0 || pread(in, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) ||
	    write(out, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		die(path, -1);
	close(in);
	close(out);
}

static pmfs_ino_t create(struct pmfs *fs, pmfs_ino_t dir, const char *name, mode_t mode)
{
	struct stat st;
	int err = S_ISDIR(mode) ? pmfs_mkdir(fs, dir, name, mode, 0, 0, &st)
				: pmfs_create(fs, dir, name, mode, 0, 0, &st);

	if (err)
		die(name, err);
	return st.st_ino;
}

static void put(struct pmfs *fs, pmfs_ino_t ino, size_t len, off_t off, char c)
{
	char *buf = malloc(len);
	ssize_t n;

	memset(buf, c, len);
	n = pmfs_write(fs, ino, buf, len, off, 0);
	free(buf);
	if (n != (ssize_t)len)
		die("write", (int)n);
}

static void build_tree(struct pmfs *fs)
{
	pmfs_ino_t d = create(fs, PMFS_ROOT_INO, "dir", S_IFDIR | 0755);
	pmfs_ino_t sub = create(fs, d, "sub", S_IFDIR | 0700);
	pmfs_ino_t f = create(fs, PMFS_ROOT_INO, "file", S_IFREG | 0644);
	pmfs_ino_t frag = create(fs, d, "frag", S_IFREG | 0600);
	pmfs_ino_t spacer = create(fs, sub, "spacer", S_IFREG | 0644);
	char target[600];

	put(fs, f, 5000, 0, 'a');
	put(fs, f, 100, 40000, 'b'); /* a hole */
	/* interleaved single blocks: more extents than fit in the inode */
	for (int i = 0; i < 12; i++) {
		put(fs, frag, 4096, (off_t)i * 8192, 'c');
		put(fs, spacer, 100, (off_t)i * 4096, 'd');
	}
	if (pmfs_symlink(fs, PMFS_ROOT_INO, "short", "file", 0, 0, NULL))
		die("symlink", 0);
	memset(target, 'x', sizeof(target) - 1);
	target[sizeof(target) - 1] = 0;
	if (pmfs_symlink(fs, d, "long", target, 0, 0, NULL))
		die("long symlink", 0);
	if (pmfs_link(fs, f, sub, "hard", NULL))
		die("link", 0);
	if (pmfs_setxattr(fs, f, "user.a", "value", 5, 0) ||
	    pmfs_setxattr(fs, d, "trusted.b", "0123456789", 10, 0))
		die("setxattr", 0);
	pmfs_forget(fs, d, 1);
	pmfs_forget(fs, sub, 1);
	pmfs_forget(fs, f, 2); /* create + link */
	pmfs_forget(fs, frag, 1);
	pmfs_forget(fs, spacer, 1);
}

static pmfs_ino_t lookup_parent(struct pmfs *fs)
{
	struct stat st;

	if (pmfs_lookup(fs, PMFS_ROOT_INO, "dir", &st) || pmfs_lookup(fs, st.st_ino, "sub", &st))
		die("lookup sub", 0);
	return st.st_ino;
}

static unsigned fences;
static void save_after_first_fence(void)
{
	/* fence 1 of a commit: log and head on media, nothing applied yet */
	if (++fences == 1)
		save("seed-journal.img");
}

int main(int argc, char **argv)
{
	struct pmfs *fs;
	struct stat st;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	/* A core hang must fail the build step, not stall it. */
	alarm(60);
	snprintf(img, sizeof(img), "/dev/shm/pmemfs-fuzz-seeds-%d.img", (int)getpid());
	if ((err = fuzz_mkfs(img)))
		die("mkfs", err);
	save("seed-fresh.img");
	if ((err = pmfs_mount(img, NULL, &fs, NULL)))
		die("mount", err);
	build_tree(fs);
	if ((err = pmfs_unmount(fs)))
		die("unmount", err);
	save("seed-tree.img");

	if ((err = pmfs_mount(img, NULL, &fs, NULL)))
		die("remount", err);
	if ((err = pmfs_lookup(fs, PMFS_ROOT_INO, "dir", &st)) ||
	    (err = pmfs_lookup(fs, st.st_ino, "sub", &st)) ||
	    (err = pmfs_lookup(fs, st.st_ino, "spacer", &st)))
		die("lookup spacer", err);
	/* still referenced: unlink puts it on the orphan list */
	if ((err = pmfs_unlink(fs, lookup_parent(fs), "spacer")))
		die("unlink", err);
	save("seed-orphan.img");
	if ((err = pmfs_lookup(fs, PMFS_ROOT_INO, "dir", &st)))
		die("lookup dir", err);
	pmfs_fence_hook = save_after_first_fence;
	err = pmfs_rename(fs, st.st_ino, "frag", PMFS_ROOT_INO, "renamed", 0);
	pmfs_fence_hook = NULL;
	if (err || fences == 0)
		die("rename", err);
	pmfs_forget(fs, st.st_ino, 1);
	if ((err = pmfs_unmount(fs)))
		die("unmount 2", err);
	unlink(img);
	return 0;
}
