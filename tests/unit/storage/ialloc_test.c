/*
 * ialloc_test.c - inode slots: never 0 or the root, unique, ENOSPC when the
 * table is full, abort and free return slots (a free only after commit),
 * generations above the largest on media.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

#define MiB (1024ULL * 1024)

static char path[128];

static int setup(void **state)
{
	(void)state;
	image_path(path, sizeof(path), "ialloc");
	image_format(path, 16 * MiB, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

/* Allocates a slot and commits a regular-file inode in it. */
static int make_inode(struct pmfs *fs, pmfs_ino_t *ino, uint32_t *gen)
{
	struct pmfs_tx *tx = pmfs_tx_begin(fs);
	struct pmfs_inode in;
	int err = pmfs_ialloc(fs, tx, ino, gen);

	if (err) {
		pmfs_tx_abort(tx);
		return err;
	}
	memset(&in, 0, sizeof(in));
	in.mode = S_IFREG | 0644;
	in.nlink = 1;
	in.generation = *gen;
	assert_int_equal(pmfs_tx_set(tx, pmfs_inode_ptr(fs, *ino), &in, sizeof(in)), 0);
	return pmfs_tx_commit(tx);
}

static void slots_are_unique_until_table_full(void **state)
{
	struct pmfs *fs;
	pmfs_ino_t ino;
	uint32_t gen, last_gen = 0;
	uint64_t n = 0, free0;
	char *seen;

	(void)state;
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	free0 = pmfs_free_inodes(fs);
	assert_int_equal(free0, fs->sb->inode_count - 2);
	seen = calloc(fs->sb->inode_count, 1);
	while (make_inode(fs, &ino, &gen) == 0) {
		if (ino <= PMFS_ROOT_INO || ino >= fs->sb->inode_count || seen[ino])
			fail_msg("allocation %llu returned inode %llu (bad or repeated)",
				 (unsigned long long)n, (unsigned long long)ino);
		if (gen <= last_gen)
			fail_msg("generation %u does not grow (previous %u)", gen, last_gen);
		last_gen = gen;
		seen[ino] = 1;
		n++;
	}
	assert_int_equal(n, free0);
	assert_int_equal(pmfs_free_inodes(fs), 0);
	free(seen);
	assert_int_equal(pmfs_unmount(fs), 0);
}

static void abort_and_free_return_slots(void **state)
{
	struct pmfs *fs;
	struct pmfs_tx *tx;
	pmfs_ino_t ino, ino2;
	uint32_t gen;
	uint64_t free0;

	(void)state;
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	free0 = pmfs_free_inodes(fs);
	tx = pmfs_tx_begin(fs);
	assert_int_equal(pmfs_ialloc(fs, tx, &ino, &gen), 0);
	assert_int_equal(pmfs_free_inodes(fs), free0 - 1);
	pmfs_tx_abort(tx);
	assert_int_equal(pmfs_free_inodes(fs), free0);

	assert_int_equal(make_inode(fs, &ino, &gen), 0);
	tx = pmfs_tx_begin(fs);
	assert_int_equal(pmfs_ifree(fs, tx, ino), 0);
	/* Not reusable before the free commits. */
	assert_int_equal(pmfs_free_inodes(fs), free0 - 1);
	assert_int_equal(pmfs_tx_commit(tx), 0);
	assert_int_equal(pmfs_inode_ptr(fs, ino)->mode, 0);
	assert_int_equal(pmfs_free_inodes(fs), free0);
	assert_int_equal(make_inode(fs, &ino2, &gen), 0);
	assert_int_equal(ino2, ino);
	assert_int_equal(pmfs_unmount(fs), 0);
}

static void root_cannot_be_freed(void **state)
{
	struct pmfs *fs;
	struct pmfs_tx *tx;

	(void)state;
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	tx = pmfs_tx_begin(fs);
	assert_int_equal(pmfs_ifree(fs, tx, PMFS_ROOT_INO), -EINVAL);
	assert_int_equal(pmfs_ifree(fs, tx, 0), -EINVAL);
	pmfs_tx_abort(tx);
	assert_int_equal(pmfs_unmount(fs), 0);
}

static void generation_starts_above_largest_on_media(void **state)
{
	struct raw_image img;
	struct pmfs *fs;
	pmfs_ino_t ino;
	uint32_t gen;

	(void)state;
	raw_open(path, &img);
	raw_inode(&img, 7)->generation = 5000; /* a freed slot keeps its generation */
	raw_close(&img);
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	assert_int_equal(make_inode(fs, &ino, &gen), 0);
	if (gen <= 5000)
		fail_msg("expected a generation above 5000, got %u", gen);
	assert_int_equal(pmfs_unmount(fs), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(slots_are_unique_until_table_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(abort_and_free_return_slots, setup, teardown),
	    cmocka_unit_test_setup_teardown(root_cannot_be_freed, setup, teardown),
	    cmocka_unit_test_setup_teardown(generation_starts_above_largest_on_media, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
