/*
 * helpers.c - image setup/teardown, fsck and small wrappers for the core
 * unit tests (see helpers.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsck.h"
#include "helpers.h"
#include "mkfs.h"

void core_setup(struct core_env *env, const char *tag, uint64_t size, uint64_t inodes)
{
	struct pmfs_mkfs_opts opts = {.size = size, .force = true, .inodes = inodes};
	struct pmfs_mkfs_result res;
	int err;

	memset(env, 0, sizeof(*env));
	snprintf(env->path, sizeof(env->path), "/dev/shm/pmfs-core-%s-%d", tag, (int)getpid());
	unlink(env->path);
	env->size = size;
	err = pmfs_mkfs(env->path, &opts, &res);
	if (err)
		fail_msg("mkfs %s: expected 0, found %d (%s)", env->path, err, res.msg);
	err = pmfs_mount(env->path, NULL, &env->fs, NULL);
	if (err)
		fail_msg("mount %s: expected 0, found %d", env->path, err);
}

void core_remount(struct core_env *env)
{
	int err = pmfs_unmount(env->fs);

	env->fs = NULL;
	if (err)
		fail_msg("unmount: expected 0, found %d", err);
	err = pmfs_mount(env->path, NULL, &env->fs, NULL);
	if (err)
		fail_msg("remount: expected 0, found %d", err);
}

void core_teardown(struct core_env *env)
{
	if (env->fs) {
		int err = pmfs_unmount(env->fs);

		env->fs = NULL;
		if (err)
			fail_msg("unmount: expected 0, found %d", err);
	}
	core_fsck_clean(env->path);
	unlink(env->path);
}

pmfs_ino_t mk_file(struct pmfs *fs, pmfs_ino_t dir, const char *name)
{
	struct stat st;
	int err = pmfs_create(fs, dir, name, 0644, 0, 0, &st);

	if (err)
		fail_msg("create %s: expected 0, found %d", name, err);
	return st.st_ino;
}

pmfs_ino_t mk_dir(struct pmfs *fs, pmfs_ino_t dir, const char *name)
{
	struct stat st;
	int err = pmfs_mkdir(fs, dir, name, 0755, 0, 0, &st);

	if (err)
		fail_msg("mkdir %s: expected 0, found %d", name, err);
	return st.st_ino;
}

void write_pattern(struct pmfs *fs, pmfs_ino_t f, uint64_t off, size_t len, uint64_t seed)
{
	char *buf = malloc(len);

	assert_non_null(buf);
	fill_pattern(buf, len, seed, off);
	expect_eq(pmfs_write(fs, f, buf, len, (off_t)off, 0), len);
	free(buf);
}

void prep_basic_tree(struct pmfs *fs)
{
	pmfs_ino_t d1 = mk_dir(fs, PMFS_ROOT_INO, "d1"), d2 = mk_dir(fs, PMFS_ROOT_INO, "d2");
	pmfs_ino_t f = mk_file(fs, PMFS_ROOT_INO, "f"), g = mk_file(fs, d1, "g");

	mk_dir(fs, d1, "sub");
	mk_dir(fs, d2, "other");
	mk_file(fs, PMFS_ROOT_INO, "empty");
	write_pattern(fs, f, 0, 20000, 1);
	write_pattern(fs, g, 0, 5000, 2);
	expect_ok(pmfs_symlink(fs, PMFS_ROOT_INO, "ln", "f", 0, 0, NULL));
	expect_ok(pmfs_setxattr(fs, f, "user.k", "v", 1, 0));
}

pmfs_ino_t lookup_ino(struct pmfs *fs, pmfs_ino_t dir, const char *name)
{
	struct stat st;

	if (pmfs_lookup(fs, dir, name, &st))
		return 0;
	pmfs_forget(fs, st.st_ino, 1);
	return st.st_ino;
}

struct stat stat_of(struct pmfs *fs, pmfs_ino_t ino)
{
	struct stat st;
	int err = pmfs_getattr(fs, ino, &st);

	if (err)
		fail_msg("getattr %llu: expected 0, found %d", (unsigned long long)ino, err);
	return st;
}

uint64_t rng_next(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void fill_pattern(void *buf, size_t len, uint64_t seed, uint64_t off)
{
	unsigned char *p = buf;

	for (size_t i = 0; i < len; i++) {
		uint64_t x = (off + i) * 0x9e3779b97f4a7c15ULL + seed;

		p[i] = (unsigned char)((x >> 29) ^ (x >> 47) ^ 1);
	}
}

void core_fsck_clean(const char *path)
{
	struct pmfs_fsck_opts opts = {.repair = false, .force = true};
	struct pmfs_fsck_report rep;
	int code;

	code = pmfs_fsck(path, &opts, &rep);

	if (code != PMFS_FSCK_CLEAN)
		fail_msg("fsck %s: expected clean (0), found exit code %d:\n%s", path, code,
			 rep.text ? rep.text : "");
	pmfs_fsck_report_free(&rep);
}
