/*
 * mkfs_mount_test.c - mkfs geometry and refusals, mount/unmount and the clean
 * flag, superblock fallback to the backup, version refusal, statfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define MiB (1024ULL * 1024)

static void mkfs_geometry_is_consistent(void **state)
{
	char path[128];
	struct pmfs_super sb;
	char why[200];

	(void)state;
	image_path(path, sizeof(path), "geom");
	image_format(path, 64 * MiB, &sb);
	assert_int_equal(sb.total_blocks, 64 * MiB / PMFS_BLOCK_SIZE);
	assert_int_equal(sb.journal_start, 2);
	assert_int_equal(sb.itable_start, sb.journal_start + sb.journal_lanes * sb.lane_blocks);
	assert_int_equal(sb.bitmap_start, sb.itable_start + sb.itable_blocks);
	assert_int_equal(sb.data_start, sb.bitmap_start + sb.bitmap_blocks);
	/* default: one inode per 16 KiB, rounded up to whole blocks */
	assert_true(sb.inode_count >= 64 * MiB / (16 * 1024));
	assert_int_equal(sb.device_align, 2 * MiB);
	if (pmfs_super_check(&sb, 64 * MiB, why, sizeof(why)) != 0)
		fail_msg("mkfs wrote a superblock mount rejects: %s", why);
	unlink(path);
}

static void mkfs_refuses_too_small(void **state)
{
	char path[128];
	struct pmfs_mkfs_opts opts = {.size = 64 * 1024};
	struct pmfs_mkfs_result res;
	int err;

	(void)state;
	image_path(path, sizeof(path), "small");
	err = pmfs_mkfs(path, &opts, &res);
	if (err != -ENOSPC)
		fail_msg("mkfs of 64 KiB: expected -ENOSPC, got %d (%s)", err, res.msg);
	assert_non_null(strstr(res.msg, "too small"));
	assert_int_equal(access(path, F_OK), -1); /* the file it made is gone */

	/* An existing file keeps its size when --size is refused. */
	{
		struct stat st;
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, 8 * 1024 * 1024), 0);
		close(fd);
		assert_int_equal(pmfs_mkfs(path, &opts, &res), -ENOSPC);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, 8 * 1024 * 1024);
		unlink(path);
	}
}

static void mkfs_refuses_existing_fs_without_force(void **state)
{
	char path[128];
	struct pmfs_mkfs_opts opts = {0};
	struct pmfs_mkfs_result res;
	int err;

	(void)state;
	image_path(path, sizeof(path), "exist");
	image_format(path, 16 * MiB, NULL);
	err = pmfs_mkfs(path, &opts, &res);
	if (err != -EEXIST)
		fail_msg("second mkfs without force: expected -EEXIST, got %d (%s)", err, res.msg);
	assert_non_null(strstr(res.msg, "--force"));
	opts.force = true;
	err = pmfs_mkfs(path, &opts, &res);
	if (err != 0)
		fail_msg("mkfs with force: expected 0, got %d (%s)", err, res.msg);
	unlink(path);
}

static void mkfs_refuses_device_in_use(void **state)
{
	char path[128];
	struct pmfs_mkfs_opts opts = {.force = true};
	struct pmfs_mkfs_result res;
	int fd, err;

	(void)state;
	image_path(path, sizeof(path), "busy");
	image_format(path, 16 * MiB, NULL);
	fd = open(path, O_RDWR);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	err = pmfs_mkfs(path, &opts, &res);
	if (err != -EBUSY)
		fail_msg("mkfs of a locked image: expected -EBUSY, got %d (%s)", err, res.msg);
	assert_non_null(strstr(res.msg, "in use"));
	close(fd);
	unlink(path);
}

/* A lock that goes away within the wait (a daemon finishing its unmount)
 * is waited for; one that stays gives -EBUSY after the wait. */
static void mkfs_waits_for_a_lock_released_soon(void **state)
{
	char path[128];
	struct pmfs_mkfs_opts opts = {.force = true, .busy_wait_ms = 3000};
	struct pmfs_mkfs_result res;
	struct timespec t0, t1;
	int fd, err, status;
	pid_t child;

	(void)state;
	image_path(path, sizeof(path), "busywait");
	image_format(path, 16 * MiB, NULL);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		usleep(300 * 1000);
		_exit(0); /* the lock is the open file's: it goes with the last fd */
	}
	close(fd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = pmfs_mkfs(path, &opts, &res);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (err != 0)
		fail_msg("mkfs while a lock is released after 0.3 s: expected 0, got %d (%s)", err,
			 res.msg);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 200);
	assert_int_equal(waitpid(child, &status, 0), child);

	fd = open(path, O_RDWR);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	opts.busy_wait_ms = 200;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = pmfs_mkfs(path, &opts, &res);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (err != -EBUSY)
		fail_msg("mkfs while the lock stays: expected -EBUSY, got %d (%s)", err, res.msg);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 190);
	close(fd);
	unlink(path);
}

static void mount_refuses_device_in_use(void **state)
{
	char path[128];
	struct pmfs *fs, *fs2;

	(void)state;
	image_path(path, sizeof(path), "busy2");
	image_format(path, 16 * MiB, NULL);
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	assert_int_equal(test_mount(path, false, &fs2, NULL), -EBUSY);
	assert_non_null(strstr(test_log, "in use"));
	assert_int_equal(pmfs_unmount(fs), 0);
	unlink(path);
}

static void mount_unmount_tracks_clean_flag(void **state)
{
	char path[128];
	struct pmfs *fs;
	struct pmfs_mount_info info;
	struct raw_image img;

	(void)state;
	image_path(path, sizeof(path), "clean");
	image_format(path, 16 * MiB, NULL);
	assert_int_equal(test_mount(path, false, &fs, &info), 0);
	assert_true(info.was_clean);
	assert_int_equal(info.device_size, 16 * MiB);
	assert_int_equal(info.device_align, 2 * MiB);
	assert_false(info.is_devdax);
	/* While mounted the media says "not clean". */
	assert_int_equal(fs->state->clean, 0);
	assert_int_equal(fs->state->mount_count, 1);
	assert_int_equal(pmfs_unmount(fs), 0);

	raw_open(path, &img);
	assert_int_equal(((struct pmfs_state *)raw_block(&img, 1))->clean, 1);
	/* A crash while mounted leaves clean = 0. */
	((struct pmfs_state *)raw_block(&img, 1))->clean = 0;
	raw_close(&img);
	assert_int_equal(test_mount(path, false, &fs, &info), 0);
	assert_false(info.was_clean);
	assert_int_equal(pmfs_unmount(fs), 0);
	unlink(path);
}

static void mount_uses_backup_when_primary_smashed(void **state)
{
	char path[128];
	struct pmfs *fs;
	struct raw_image img;

	(void)state;
	image_path(path, sizeof(path), "backup");
	image_format(path, 16 * MiB, NULL);
	raw_open(path, &img);
	memset(img.base + 100, 0xa5, 200); /* checksum no longer matches */
	raw_close(&img);

	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	assert_true(fs->used_backup_sb);
	if (strstr(test_log, "using the backup") == NULL)
		fail_msg("expected the log to say the backup is used, got:\n%s", test_log);
	assert_int_equal(pmfs_unmount(fs), 0);

	/* The writable mount restored the primary. */
	raw_open(path, &img);
	assert_int_equal(img.sb.csum, pmfs_super_csum(&img.sb));
	raw_close(&img);
	unlink(path);
}

static void mount_refuses_both_superblocks_bad(void **state)
{
	char path[128];
	struct pmfs *fs;
	struct raw_image img;

	(void)state;
	image_path(path, sizeof(path), "nosb");
	image_format(path, 16 * MiB, NULL);
	raw_open(path, &img);
	memset(img.base, 0, 8);
	memset(raw_block(&img, img.sb.total_blocks - 1), 0, 8);
	raw_close(&img);
	assert_int_equal(test_mount(path, false, &fs, NULL), -EINVAL);
	assert_non_null(strstr(test_log, "bad magic"));
	unlink(path);
}

static void mount_refuses_newer_version(void **state)
{
	char path[128];
	char expect[64];
	struct pmfs *fs;
	struct raw_image img;

	(void)state;
	image_path(path, sizeof(path), "newer");
	image_format(path, 16 * MiB, NULL);
	raw_open(path, &img);
	img.sb.version = PMFS_FORMAT_VERSION + 1;
	raw_write_super(&img);
	raw_close(&img);
	assert_int_equal(test_mount(path, false, &fs, NULL), -EOPNOTSUPP);
	snprintf(expect, sizeof(expect), "format version %u", PMFS_FORMAT_VERSION + 1);
	if (strstr(test_log, expect) == NULL)
		fail_msg("expected the log to name version %u, got:\n%s", PMFS_FORMAT_VERSION + 1,
			 test_log);
	snprintf(expect, sizeof(expect), "supports %u", PMFS_FORMAT_VERSION);
	if (strstr(test_log, expect) == NULL)
		fail_msg("expected the log to name version %u, got:\n%s", PMFS_FORMAT_VERSION,
			 test_log);
	unlink(path);
}

static void mount_refuses_bad_geometry(void **state)
{
	char path[128];
	struct pmfs *fs;
	struct raw_image img;

	(void)state;
	image_path(path, sizeof(path), "geombad");
	image_format(path, 16 * MiB, NULL);
	raw_open(path, &img);
	img.sb.bitmap_start = img.sb.itable_start; /* overlaps the inode table */
	raw_write_super(&img);
	raw_close(&img);
	assert_int_equal(test_mount(path, false, &fs, NULL), -EUCLEAN);
	assert_non_null(strstr(test_log, "overlap"));
	unlink(path);
}

/* Lanes smaller than the largest transaction: mkfs refuses to make them
 * (freeing blocks would never progress), and mount refuses an image that
 * has them. */
static void mkfs_and_mount_refuse_lanes_below_minimum(void **state)
{
	char path[128];
	struct pmfs_mkfs_opts opts = {.size = 1 * MiB, .journal_lanes = 2,
				      .lane_blocks = PMFS_MIN_LANE_BLOCKS - 1};
	struct pmfs_mkfs_result res;
	struct raw_image img;
	struct pmfs *fs;
	int err;

	(void)state;
	image_path(path, sizeof(path), "lanes");
	unlink(path);
	err = pmfs_mkfs(path, &opts, &res);
	if (err != -EINVAL)
		fail_msg("mkfs with %u-block lanes: expected -EINVAL, got %d (%s)",
			 opts.lane_blocks, err, res.msg);
	assert_non_null(strstr(res.msg, "too small"));
	opts.lane_blocks = PMFS_MIN_LANE_BLOCKS;
	opts.force = true;
	err = pmfs_mkfs(path, &opts, &res);
	if (err != 0)
		fail_msg("mkfs with %u-block lanes: expected 0, got %d (%s)", opts.lane_blocks,
			 err, res.msg);
	raw_open(path, &img);
	img.sb.lane_blocks = PMFS_MIN_LANE_BLOCKS - 1; /* still inside [2, itable) */
	raw_write_super(&img);
	raw_close(&img);
	assert_int_equal(test_mount(path, false, &fs, NULL), -EUCLEAN);
	if (strstr(test_log, "outside the limits") == NULL)
		fail_msg("expected the log to name the lane limits, got:\n%s", test_log);
	unlink(path);
}

static void statfs_reports_free_space(void **state)
{
	char path[128];
	struct pmfs *fs;
	struct statvfs st;
	struct pmfs_super sb;

	(void)state;
	image_path(path, sizeof(path), "statfs");
	image_format(path, 16 * MiB, &sb);
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	assert_int_equal(pmfs_statfs(fs, &st), 0);
	assert_int_equal(st.f_bsize, 4096);
	assert_int_equal(st.f_blocks, sb.total_blocks - sb.data_start - 1);
	assert_int_equal(st.f_bfree, st.f_blocks);
	assert_int_equal(st.f_files, sb.inode_count - 1);
	assert_int_equal(st.f_ffree, sb.inode_count - 2); /* the root is used */
	assert_int_equal(st.f_namemax, 255);
	assert_int_equal(pmfs_unmount(fs), 0);
	unlink(path);
}

static void read_only_mount_writes_nothing(void **state)
{
	char path[128];
	struct pmfs *fs;
	struct raw_image img;

	(void)state;
	image_path(path, sizeof(path), "ro");
	image_format(path, 16 * MiB, NULL);
	assert_int_equal(test_mount(path, true, &fs, NULL), 0);
	assert_null(pmfs_tx_begin(fs));
	assert_int_equal(pmfs_unmount(fs), 0);
	raw_open(path, &img);
	assert_int_equal(((struct pmfs_state *)raw_block(&img, 1))->mount_count, 0);
	raw_close(&img);
	unlink(path);
}

/* Only regular files and devdax character devices are accepted; nothing
 * is opened for writing on the refused ones. */
static void device_open_refuses_what_is_not_devdax(void **state)
{
	struct pmfs_device_info info;
	const char *blockdevs[] = {"/dev/loop0", "/dev/loop7", "/dev/vda", "/dev/zram0",
				   "/dev/sda"};
	struct stat st;
	int fd, err;

	(void)state;
	err = pmfs_device_open("/dev/null", false, &fd, &info);
	if (err != -EMEDIUMTYPE)
		fail_msg("/dev/null: expected -EMEDIUMTYPE, got %d", err);
	assert_non_null(strstr(pmfs_device_strerror(err), "not a devdax"));
	assert_int_equal(pmfs_device_open("/dev/shm", false, &fd, &info), -ENOTBLK);
	assert_int_equal(pmfs_device_open("/dev/shm/does-not-exist", false, &fd, &info), -ENOENT);
	for (size_t i = 0; i < sizeof(blockdevs) / sizeof(blockdevs[0]); i++) {
		if (stat(blockdevs[i], &st) != 0 || !S_ISBLK(st.st_mode))
			continue;
		err = pmfs_device_open(blockdevs[i], false, &fd, &info);
		if (err != -ENODEV)
			fail_msg("%s: expected -ENODEV, got %d", blockdevs[i], err);
		assert_non_null(strstr(pmfs_device_strerror(err), "fsdax"));
		return;
	}
	skip(); /* no block device on this machine */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(mkfs_geometry_is_consistent),
	    cmocka_unit_test(mkfs_refuses_too_small),
	    cmocka_unit_test(mkfs_refuses_existing_fs_without_force),
	    cmocka_unit_test(mkfs_refuses_device_in_use),
	    cmocka_unit_test(mkfs_waits_for_a_lock_released_soon),
	    cmocka_unit_test(mount_refuses_device_in_use),
	    cmocka_unit_test(mount_unmount_tracks_clean_flag),
	    cmocka_unit_test(mount_uses_backup_when_primary_smashed),
	    cmocka_unit_test(mount_refuses_both_superblocks_bad),
	    cmocka_unit_test(mount_refuses_newer_version),
	    cmocka_unit_test(mount_refuses_bad_geometry),
	    cmocka_unit_test(mkfs_and_mount_refuse_lanes_below_minimum),
	    cmocka_unit_test(statfs_reports_free_space),
	    cmocka_unit_test(read_only_mount_writes_nothing),
	    cmocka_unit_test(device_open_refuses_what_is_not_devdax),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
