/*
 * eio_test.c - media errors (docs/RELIABILITY.md, "I/O errors").
 *   - Every media access point of an operation fails once with -EIO
 *     (fault.h, pmfs_fault_eio_*): the operation returns -EIO (a write may
 *     come back short instead) and leaves the tree as before, also after
 *     an unmount, a clean fsck and a remount; the same operation then
 *     succeeds and gives the tree of an undisturbed run (fault_walk.c).
 *   - Known bad blocks ($PMEMFS_BADBLOCKS_FILE): in a file's data they
 *     give -EIO, in metadata they refuse the mount, free ones are never
 *     allocated, and a freed one stays out of the allocator.
 *   - A SIGBUS in a guarded device copy (a load past the end of a
 *     truncated mapping, as poison would give) becomes -EIO.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "badblocks.h"
#include "dmap.h"
#include "fault.h"
#include "fault_walk.h"
#include "fsck.h"
#include "helpers.h"
#include "mkfs.h"

#define MiB (1024ULL * 1024)
#define ROOT PMFS_ROOT_INO
#define BS PMFS_BLOCK_SIZE
#define IMAGE_SIZE (16 * MiB)

/* ---- every EIO point of an operation ------------------------------------------- */

static unsigned long total_points;

/* Lookups that set an operation up run with faults paused. */
static pmfs_ino_t ino_of(struct pmfs *fs, const char *name)
{
	return fault_walk_lookup(fs, ROOT, name);
}

static void fresh(struct core_env *env)
{
	core_setup(env, "eio", IMAGE_SIZE, 1024);
	prep_basic_tree(env->fs);
	core_remount(env);
}

static bool is_eio(long r)
{
	return r == -EIO;
}

/* The walk is fault_walk.c, shared with fault_test.c. */
static void eio_case(const char *name, fault_op_fn op)
{
	static const struct fault_walk walk = {
	    .point = "EIO point",
	    .countdown = &pmfs_fault_eio_countdown,
	    .passed = &pmfs_fault_eio_passed,
	    .clean = is_eio,
	    .clean_what = "-EIO",
	    .fresh = fresh,
	};
	struct fault_walk_counts c = fault_walk(&walk, name, op);

	total_points += c.n;
	printf("%-22s EIO points injected: %3lu (%lu -EIO, %lu short writes)\n", name, c.n,
	       c.failed, c.shorts);
}

static long op_read(struct pmfs *fs)
{
	char buf[20000];

	return (long)pmfs_read(fs, ino_of(fs, "f"), buf, sizeof(buf), 0);
}

static long op_read_partial(struct pmfs *fs)
{
	char buf[3000];

	return (long)pmfs_read(fs, ino_of(fs, "f"), buf, sizeof(buf), 7000);
}

static long op_write(struct pmfs *fs, off_t off, size_t len)
{
	char *buf = malloc(len);
	long r;

	fill_pattern(buf, len, 5, (uint64_t)off);
	r = (long)pmfs_write(fs, ino_of(fs, "f"), buf, len, off, 0);
	free(buf);
	return r;
}

static long op_overwrite(struct pmfs *fs)
{
	return op_write(fs, 100, 9000);
}

static long op_write_extend(struct pmfs *fs)
{
	return op_write(fs, 20000, 30000);
}

static long op_write_hole(struct pmfs *fs)
{
	return op_write(fs, (1 << 20) + 100, 5000);
}

static long op_truncate_up(struct pmfs *fs)
{
	struct stat st = {.st_size = 100000};

	return pmfs_setattr(fs, ino_of(fs, "f"), &st, PMFS_SET_SIZE, NULL);
}

static long op_fallocate(struct pmfs *fs)
{
	return pmfs_fallocate(fs, ino_of(fs, "f"), 0, 0, 60000);
}

static long op_copy_range(struct pmfs *fs)
{
	return (long)pmfs_copy_file_range(fs, ino_of(fs, "f"), 0, ino_of(fs, "empty"), 0, 20000);
}

/* A direct-map grant of an unaligned file relocates it: copy and zeroing. */
static long op_dmap_grant(struct pmfs *fs)
{
	struct pmfs_dmap_grant_info gi;
	int err = pmfs_dmap_grant(fs, ino_of(fs, "f"), 7, &gi);

	if (err == 0)
		pmfs_dmap_release_owner(fs, 7);
	return err;
}

static void eio_read(void **state)
{
	(void)state;
	eio_case("read", op_read);
	eio_case("read_partial", op_read_partial);
}

static void eio_write(void **state)
{
	(void)state;
	eio_case("overwrite", op_overwrite);
	eio_case("write_extend", op_write_extend);
	eio_case("write_hole", op_write_hole);
}

static void eio_size(void **state)
{
	(void)state;
	eio_case("truncate_up", op_truncate_up);
	eio_case("fallocate", op_fallocate);
}

static void eio_copy(void **state)
{
	(void)state;
	eio_case("copy_file_range", op_copy_range);
	eio_case("dmap_relocation", op_dmap_grant);
}

/* ---- known bad blocks ------------------------------------------------------------ */

static char bb_file[128];

/* Lists block blk (and count - 1 more) as bad for the next mount/fsck. */
static void set_bad(uint64_t blk, uint64_t count)
{
	FILE *f;

	snprintf(bb_file, sizeof(bb_file), "/dev/shm/pmfs-core-eio-bb-%d", (int)getpid());
	f = fopen(bb_file, "w");
	assert_non_null(f);
	fprintf(f, "# sector count\n%llu %llu\n", (unsigned long long)(blk * BS / 512),
		(unsigned long long)(count * BS / 512));
	fclose(f);
	setenv(PMFS_BADBLOCKS_ENV, bb_file, 1);
}

static void clear_bad(void)
{
	unsetenv(PMFS_BADBLOCKS_ENV);
	unlink(bb_file);
}

static uint64_t free_blocks(struct pmfs *fs)
{
	struct statvfs sv;

	expect_ok(pmfs_statfs(fs, &sv));
	return sv.f_bfree;
}

static int fsck_code(const char *path, char **text)
{
	struct pmfs_fsck_opts o = {.force = true};
	struct pmfs_fsck_report rep;
	int code = pmfs_fsck(path, &o, &rep);

	*text = strdup(rep.text);
	pmfs_fsck_report_free(&rep);
	return code;
}

static void bad_data_block_gives_eio_and_stays_out(void **state)
{
	struct core_env env;
	pmfs_ino_t f;
	uint64_t pblk, before;
	char buf[3 * BS], *text;

	(void)state;
	core_setup(&env, "eio-data", IMAGE_SIZE, 0);
	f = mk_file(env.fs, ROOT, "victim");
	write_pattern(env.fs, f, 0, 3 * BS, 1);
	expect_eq(pmfs_inode_ptr(env.fs, f)->ext_count, 1);
	pblk = pmfs_inode_ptr(env.fs, f)->u.ext[0].pblk;
	expect_ok(pmfs_unmount(env.fs));
	env.fs = NULL;

	set_bad(pblk + 1, 1);
	expect_ok(pmfs_mount(env.path, NULL, &env.fs, NULL));
	expect_eq(pmfs_read(env.fs, f, buf, BS, 0), BS);
	expect_err(pmfs_read(env.fs, f, buf, BS, BS), EIO);
	expect_err(pmfs_read(env.fs, f, buf, sizeof(buf), 0), EIO);
	expect_eq(pmfs_read(env.fs, f, buf, BS, 2 * BS), BS);
	fill_pattern(buf, BS, 2, BS);
	expect_err(pmfs_write(env.fs, f, buf, 100, BS + 10, 0), EIO);
	expect_eq(pmfs_write(env.fs, f, buf, 100, 10, 0), 100);
	/* deleting the file frees 3 blocks; the bad one stays out of use */
	before = free_blocks(env.fs);
	expect_ok(pmfs_unlink(env.fs, ROOT, "victim"));
	expect_eq(free_blocks(env.fs), before + 2);
	expect_ok(pmfs_unmount(env.fs));
	env.fs = NULL;
	expect_eq(fsck_code(env.path, &text), PMFS_FSCK_CLEAN);
	if (!strstr(text, "is free: never allocated"))
		fail_msg("fsck: expected a note on the free bad block, found:\n%s", text);
	free(text);
	clear_bad();
	core_teardown(&env);
}

static void fsck_names_the_file_of_a_bad_data_block(void **state)
{
	struct core_env env;
	pmfs_ino_t f;
	char *text;

	(void)state;
	core_setup(&env, "eio-fsck", IMAGE_SIZE, 0);
	f = mk_file(env.fs, ROOT, "victim");
	write_pattern(env.fs, f, 0, BS, 1);
	set_bad(pmfs_inode_ptr(env.fs, f)->u.ext[0].pblk, 1);
	expect_ok(pmfs_unmount(env.fs));
	env.fs = NULL;
	/* damaged data is reported, but the file system is consistent */
	expect_eq(fsck_code(env.path, &text), PMFS_FSCK_CLEAN);
	if (!strstr(text, "holds data of inode") || !strstr(text, "/victim"))
		fail_msg("fsck: expected the bad block's file named, found:\n%s", text);
	free(text);
	clear_bad();
	core_teardown(&env);
}

static void bad_metadata_block_refuses_mount(void **state)
{
	struct core_env env;
	struct pmfs *fs = NULL;
	uint64_t itable;
	char *text;

	(void)state;
	core_setup(&env, "eio-meta", IMAGE_SIZE, 0);
	itable = env.fs->sb->itable_start;
	expect_ok(pmfs_unmount(env.fs));
	env.fs = NULL;
	set_bad(itable + 1, 1);
	expect_err(pmfs_mount(env.path, NULL, &fs, NULL), EIO);
	expect_eq(fsck_code(env.path, &text), PMFS_FSCK_ERRORS_LEFT);
	if (!strstr(text, "inode table") || !strstr(text, "not fixable"))
		fail_msg("fsck: expected an unfixable bad block in the inode table, found:\n%s",
			 text);
	free(text);
	set_bad(1, 1);
	expect_err(pmfs_mount(env.path, NULL, &fs, NULL), EIO);
	clear_bad();
	core_teardown(&env);
}

static void bad_directory_block_refuses_mount(void **state)
{
	struct core_env env;
	struct pmfs *fs = NULL;
	pmfs_ino_t d;
	char *text;

	(void)state;
	core_setup(&env, "eio-dir", IMAGE_SIZE, 0);
	d = mk_dir(env.fs, ROOT, "d");
	mk_file(env.fs, d, "inside");
	expect_eq(pmfs_inode_ptr(env.fs, d)->ext_count, 1);
	set_bad(pmfs_inode_ptr(env.fs, d)->u.ext[0].pblk, 1);
	expect_ok(pmfs_unmount(env.fs));
	env.fs = NULL;
	expect_err(pmfs_mount(env.path, NULL, &fs, NULL), EIO);
	expect_eq(fsck_code(env.path, &text), PMFS_FSCK_ERRORS_LEFT);
	if (!strstr(text, "directory entries") || !strstr(text, "not fixable"))
		fail_msg("fsck: expected an unfixable bad directory block, found:\n%s", text);
	free(text);
	clear_bad();
	core_teardown(&env);
}

static void bad_free_block_is_never_allocated(void **state)
{
	struct core_env env;
	uint64_t first, without, blk;
	pmfs_ino_t f;
	ssize_t r;
	char *buf = calloc(1, MiB), *text;

	(void)state;
	core_setup(&env, "eio-free", IMAGE_SIZE, 0);
	without = free_blocks(env.fs);
	first = env.fs->sb->data_start;
	expect_ok(pmfs_unmount(env.fs));
	env.fs = NULL;
	/* a block in the middle of the free space */
	blk = first + 1000;
	set_bad(blk, 3);
	expect_ok(pmfs_mount(env.path, NULL, &env.fs, NULL));
	expect_eq(free_blocks(env.fs), without - 3);
	/* fill the file system: none of its blocks may be the bad ones */
	f = mk_file(env.fs, ROOT, "fill");
	for (off_t off = 0;; off += r) {
		r = pmfs_write(env.fs, f, buf, MiB, off, 0);
		if (r <= 0)
			break;
	}
	expect_eq(free_blocks(env.fs), 0);
	expect_ok(pmfs_unmount(env.fs));
	env.fs = NULL;
	expect_eq(fsck_code(env.path, &text), PMFS_FSCK_CLEAN);
	if (!strstr(text, "is free: never allocated"))
		fail_msg("fsck: expected the bad blocks still free, found:\n%s", text);
	free(text);
	free(buf);
	clear_bad();
	core_teardown(&env);
}

/* ---- SIGBUS in a guarded copy ------------------------------------------------------ */

static void sigbus_in_copy_becomes_eio(void **state)
{
	char path[128], buf[BS], *base;
	struct pmfs_badblocks bb;
	struct pmfs fs;
	struct iovec iov[2];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/dev/shm/pmfs-core-eio-sigbus-%d", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	expect_ok(ftruncate(fd, 8 * BS));
	base = mmap(NULL, 8 * BS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(base != MAP_FAILED);
	memset(base, 'a', 8 * BS);
	/* loads and stores past the new end raise SIGBUS, as poison would */
	expect_ok(ftruncate(fd, 4 * BS));

	memset(&fs, 0, sizeof(fs));
	fs.base = base;
	fs.size = 8 * BS;
	pmfs_badblocks_init(&bb);
	fs.bad = &bb;
	pmfs_sigbus_install();
	expect_ok(pmfs_media_copy(&fs, PMFS_MEDIA_READ, buf, base + BS, BS));
	expect_eq(buf[0], 'a');
	expect_err(pmfs_media_copy(&fs, PMFS_MEDIA_READ, buf, base + 5 * BS, BS), EIO);
	assert_true(pmfs_badblocks_any(&bb, 5, 1));
	assert_false(pmfs_badblocks_any(&bb, 4, 1));
	/* a store faults the same way; the known bad block now fails first */
	expect_err(pmfs_media_copy(&fs, PMFS_MEDIA_WRITE, base + 6 * BS, buf, 10), EIO);
	assert_true(pmfs_badblocks_any(&bb, 6, 1));
	expect_err(pmfs_media_copy(&fs, PMFS_MEDIA_READ, buf, base + 5 * BS, 1), EIO);
	/* the probe after a failed writev finds the pages that fault */
	iov[0] = (struct iovec){.iov_base = base + 2 * BS, .iov_len = BS};
	iov[1] = (struct iovec){.iov_base = base + 3 * BS, .iov_len = 5 * BS};
	expect_eq(pmfs_media_probe(&fs, iov, 2), 4);
	assert_true(pmfs_badblocks_any(&bb, 7, 1));
	assert_false(pmfs_badblocks_any(&bb, 0, 4));
	/* and the daemon goes on: a good copy still works */
	expect_ok(pmfs_media_copy(&fs, PMFS_MEDIA_READ, buf, base, BS));
	pmfs_badblocks_fini(&bb);
	munmap(base, 8 * BS);
	close(fd);
	unlink(path);
}

static void badblocks_list_merges_runs(void **state)
{
	struct pmfs_badblocks bb;

	(void)state;
	pmfs_badblocks_init(&bb);
	expect_ok(pmfs_badblocks_add(&bb, 10, 2));
	expect_ok(pmfs_badblocks_add(&bb, 20, 1));
	expect_ok(pmfs_badblocks_add(&bb, 5, 1));
	expect_eq(bb.n, 3);
	expect_ok(pmfs_badblocks_add(&bb, 12, 8)); /* joins 10-11 and 20 */
	expect_eq(bb.n, 2);
	expect_eq(bb.r[1].start, 10);
	expect_eq(bb.r[1].len, 11);
	assert_true(pmfs_badblocks_any(&bb, 0, 6));
	assert_false(pmfs_badblocks_any(&bb, 6, 4));
	assert_true(pmfs_badblocks_any(&bb, 9, 2));
	assert_false(pmfs_badblocks_any(&bb, 21, 100));
	pmfs_badblocks_fini(&bb);
}

static int report(void **state)
{
	(void)state;
	if (total_points)
		printf("EIO points injected: %lu\n", total_points);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(badblocks_list_merges_runs),
	    cmocka_unit_test(sigbus_in_copy_becomes_eio),
	    cmocka_unit_test(bad_data_block_gives_eio_and_stays_out),
	    cmocka_unit_test(fsck_names_the_file_of_a_bad_data_block),
	    cmocka_unit_test(bad_metadata_block_refuses_mount),
	    cmocka_unit_test(bad_directory_block_refuses_mount),
	    cmocka_unit_test(bad_free_block_is_never_allocated),
	    cmocka_unit_test(eio_read),
	    cmocka_unit_test(eio_write),
	    cmocka_unit_test(eio_size),
	    cmocka_unit_test(eio_copy),
	};

	return cmocka_run_group_tests(tests, NULL, report);
}
