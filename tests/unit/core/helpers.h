/*
 * helpers.h - shared scaffolding of the core unit tests: a fresh image in
 * /dev/shm per test, mount/remount, fsck, and small wrappers that make the
 * test bodies read like the operations they check.
 */
#ifndef CORE_TEST_HELPERS_H
#define CORE_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "internal.h"
#include "pmemfs.h"

struct core_env {
	char path[128];
	struct pmfs *fs;
	uint64_t size;
};

/* Formats a fresh image of 'size' bytes with 'inodes' slots (0 = default)
 * and mounts it.  The image name is unique per process and tag. */
void core_setup(struct core_env *env, const char *tag, uint64_t size, uint64_t inodes);
/* Unmounts, runs fsck (must be clean), removes the image. */
void core_teardown(struct core_env *env);
void core_remount(struct core_env *env);
/* Runs the offline checker on the (unmounted) image; fails the test with
 * its report unless it is clean. */
void core_fsck_clean(const char *path);

/* Assert helpers with "expected ... found ..." messages. */
#define expect_ok(expr)                                                                            \
	do {                                                                                       \
		long long r_ = (long long)(expr);                                                  \
		if (r_ < 0)                                                                        \
			fail_msg("%s: expected success, found %lld (%s)", #expr, r_,               \
				 strerror((int)-r_));                                              \
	} while (0)
#define expect_err(expr, err)                                                                      \
	do {                                                                                       \
		long long r_ = (long long)(expr);                                                  \
		if (r_ != -(err))                                                                  \
			fail_msg("%s: expected -%s, found %lld", #expr, #err, r_);                 \
	} while (0)
#define expect_eq(found, expected)                                                                 \
	do {                                                                                       \
		long long f_ = (long long)(found), e_ = (long long)(expected);                     \
		if (f_ != e_)                                                                      \
			fail_msg("%s: expected %lld, found %lld", #found, e_, f_);                 \
	} while (0)

pmfs_ino_t mk_file(struct pmfs *fs, pmfs_ino_t dir, const char *name);
pmfs_ino_t mk_dir(struct pmfs *fs, pmfs_ino_t dir, const char *name);
/* ino of a name, or 0 if missing (takes no reference). */
pmfs_ino_t lookup_ino(struct pmfs *fs, pmfs_ino_t dir, const char *name);
struct stat stat_of(struct pmfs *fs, pmfs_ino_t ino);
/* Writes len bytes of fill_pattern(seed, off) at off; fails the test
 * unless the whole length is written. */
void write_pattern(struct pmfs *fs, pmfs_ino_t f, uint64_t off, size_t len, uint64_t seed);
/* The small tree the crash-state and fault tests start from: directories
 * d1 (with sub), d2 (with other); files f (20000 bytes, xattr user.k),
 * d1/g (5000 bytes), empty; symlink ln -> f. */
void prep_basic_tree(struct pmfs *fs);

/* One mounted image per test: defines setup/teardown for
 * cmocka_unit_test_setup_teardown() and FS(state) for the test bodies. */
#define CORE_FIXTURE(tag, size)                                                                    \
	static int setup(void **state)                                                             \
	{                                                                                          \
		static struct core_env env;                                                        \
		core_setup(&env, tag, size, 0);                                                    \
		*state = &env;                                                                     \
		return 0;                                                                          \
	}                                                                                          \
	static int teardown(void **state)                                                          \
	{                                                                                          \
		core_teardown(*state);                                                             \
		return 0;                                                                          \
	}                                                                                          \
	static struct pmfs *FS(void **state)                                                       \
	{                                                                                          \
		return ((struct core_env *)*state)->fs;                                            \
	}

/* Fills buf with a pattern derived from seed and offset. */
void fill_pattern(void *buf, size_t len, uint64_t seed, uint64_t off);
uint64_t rng_next(uint64_t *state);

#endif
