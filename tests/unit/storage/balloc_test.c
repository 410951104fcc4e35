/*
 * balloc_test.c - the block allocator: alignment, small runs from partially
 * used units, ENOSPC, fill/free/fill, a 90%-full fragmented device, abort,
 * delayed reuse of freed blocks, persistence, and two allocating threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define MiB (1024ULL * 1024)
#define UNIT 512u

static char path[128];

static int setup(void **state)
{
	(void)state;
	image_path(path, sizeof(path), "balloc");
	image_format(path, 64 * MiB, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static bool pmem_bit(struct pmfs *fs, uint64_t b)
{
	return (fs->bitmap[b / 64] >> (b % 64)) & 1;
}

/* Allocates in its own committed transaction; returns the errno. */
static int alloc_one(struct pmfs *fs, uint64_t goal, uint64_t want, uint64_t min, uint64_t align,
		     uint64_t *pblk, uint64_t *got)
{
	struct pmfs_tx *tx = pmfs_tx_begin(fs);
	int err = pmfs_balloc(fs, tx, goal, want, min, align, pblk, got);

	if (err) {
		pmfs_tx_abort(tx);
		return err;
	}
	return pmfs_tx_commit(tx);
}

static void free_one(struct pmfs *fs, uint64_t pblk, uint64_t count)
{
	struct pmfs_tx *tx = pmfs_tx_begin(fs);

	assert_int_equal(pmfs_bfree(fs, tx, pblk, count), 0);
	assert_int_equal(pmfs_tx_commit(tx), 0);
}

static void large_allocation_is_aligned(void **state)
{
	struct pmfs *fs;
	uint64_t pblk, got;

	(void)state;
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	assert_int_equal(alloc_one(fs, 0, 3, 1, 1, &pblk, &got), 0); /* some clutter */
	assert_int_equal(alloc_one(fs, 0, 1024, 1024, UNIT, &pblk, &got), 0);
	if (pblk % UNIT != 0 || got != 1024)
		fail_msg("expected 1024 blocks at a multiple of 512, got %llu at %llu",
			 (unsigned long long)got, (unsigned long long)pblk);
	for (uint64_t b = pblk; b < pblk + got; b++)
		assert_true(pmem_bit(fs, b));
	assert_false(pmem_bit(fs, pblk + got));
	/* An odd alignment is honoured too. */
	assert_int_equal(alloc_one(fs, 0, 5, 5, 3, &pblk, &got), 0);
	assert_int_equal(pblk % 3, 0);
	assert_int_equal(pmfs_unmount(fs), 0);
}

static void small_allocations_fill_partial_units_first(void **state)
{
	struct pmfs *fs;
	uint64_t pblk, got, first_unit_free, unit_of_next;

	(void)state;
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	/* Unit 0 holds the metadata: it is the only partial unit. */
	first_unit_free = UNIT - fs->sb->data_start;
	for (uint64_t i = 0; i < first_unit_free; i++) {
		assert_int_equal(alloc_one(fs, 0, 1, 1, 1, &pblk, &got), 0);
		if (pblk >= UNIT)
			fail_msg("allocation %llu: expected a block of partial unit 0, got %llu",
				 (unsigned long long)i, (unsigned long long)pblk);
	}
	/* Unit 0 is full: the next small run breaks one unit, and the one
	 * after stays in that now partial unit. */
	assert_int_equal(alloc_one(fs, 0, 2, 2, 1, &pblk, &got), 0);
	unit_of_next = pblk / UNIT;
	assert_int_equal(alloc_one(fs, 0, 7, 7, 1, &pblk, &got), 0);
	if (pblk / UNIT != unit_of_next)
		fail_msg("expected the second small run in unit %llu, got unit %llu",
			 (unsigned long long)unit_of_next, (unsigned long long)(pblk / UNIT));
	assert_int_equal(pmfs_unmount(fs), 0);
}

static uint64_t fill_device(struct pmfs *fs)
{
	uint64_t pblk, got, total = 0;

	while (alloc_one(fs, 0, 100000, 1, 1, &pblk, &got) == 0)
		total += got;
	return total;
}

static void full_device_returns_enospc(void **state)
{
	struct pmfs *fs;
	uint64_t pblk, got, free0, total;

	(void)state;
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	free0 = pmfs_free_blocks(fs);
	assert_int_equal(free0, fs->sb->total_blocks - fs->sb->data_start - 1);
	total = fill_device(fs);
	assert_int_equal(total, free0);
	assert_int_equal(pmfs_free_blocks(fs), 0);
	assert_int_equal(alloc_one(fs, 0, 1, 1, 1, &pblk, &got), -ENOSPC);
	assert_int_equal(pmfs_unmount(fs), 0);
}

static void fill_free_fill_again(void **state)
{
	struct pmfs *fs;
	uint64_t free0, start = 0;

	(void)state;
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	free0 = pmfs_free_blocks(fs);
	assert_int_equal(fill_device(fs), free0);
	/* Free everything in runs of 1000 blocks. */
	start = fs->sb->data_start;
	while (start < fs->sb->total_blocks - 1) {
		uint64_t n = fs->sb->total_blocks - 1 - start;

		n = n > 1000 ? 1000 : n;
		free_one(fs, start, n);
		start += n;
	}
	assert_int_equal(pmfs_free_blocks(fs), free0);
	assert_int_equal(fill_device(fs), free0);
	assert_int_equal(pmfs_unmount(fs), 0);
}

static void fragmented_ninety_percent_full_still_allocates(void **state)
{
	struct pmfs *fs;
	uint64_t pblk, got, freed = 0, again = 0;

	(void)state;
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	fill_device(fs);
	for (uint64_t b = fs->sb->data_start; b < fs->sb->total_blocks - 1; b += 10) {
		free_one(fs, b, 1);
		freed++;
	}
	assert_int_equal(pmfs_free_blocks(fs), freed);
	/* No run of 2 exists, but single blocks do. */
	assert_int_equal(alloc_one(fs, 0, 8, 2, 1, &pblk, &got), -ENOSPC);
	assert_int_equal(alloc_one(fs, 0, 8, 1, 1, &pblk, &got), 0);
	assert_int_equal(got, 1);
	again = 1;
	while (alloc_one(fs, 0, 8, 1, 1, &pblk, &got) == 0)
		again += got;
	assert_int_equal(again, freed);
	assert_int_equal(pmfs_unmount(fs), 0);
}

static void abort_returns_reserved_blocks(void **state)
{
	struct pmfs *fs;
	struct pmfs_tx *tx;
	uint64_t pblk, got, pblk2, got2, free0;

	(void)state;
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	free0 = pmfs_free_blocks(fs);
	tx = pmfs_tx_begin(fs);
	assert_int_equal(pmfs_balloc(fs, tx, 0, 16, 16, 1, &pblk, &got), 0);
	assert_int_equal(pmfs_free_blocks(fs), free0 - 16);
	pmfs_tx_abort(tx);
	assert_int_equal(pmfs_free_blocks(fs), free0);
	assert_false(pmem_bit(fs, pblk));
	assert_int_equal(alloc_one(fs, 0, 16, 16, 1, &pblk2, &got2), 0);
	assert_int_equal(pblk2, pblk);
	assert_int_equal(pmfs_unmount(fs), 0);
}

static void freed_blocks_return_only_after_commit(void **state)
{
	struct pmfs *fs;
	struct pmfs_tx *tx, *tx2;
	uint64_t pblk, got, p2, g2, free1;

	(void)state;
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	assert_int_equal(alloc_one(fs, 0, 4, 4, 1, &pblk, &got), 0);
	free1 = pmfs_free_blocks(fs);
	tx = pmfs_tx_begin(fs);
	assert_int_equal(pmfs_bfree(fs, tx, pblk, 4), 0);
	assert_int_equal(pmfs_free_blocks(fs), free1);
	/* Another tx must not get those blocks while the free is pending. */
	tx2 = pmfs_tx_begin(fs);
	assert_int_equal(pmfs_balloc(fs, tx2, pblk, 4, 1, 1, &p2, &g2), 0);
	assert_true(p2 + g2 <= pblk || p2 >= pblk + 4);
	pmfs_tx_abort(tx2);
	assert_int_equal(pmfs_tx_commit(tx), 0);
	assert_int_equal(pmfs_free_blocks(fs), free1 + 4);
	assert_false(pmem_bit(fs, pblk));
	assert_int_equal(pmfs_unmount(fs), 0);
}

static void freeing_free_blocks_is_refused(void **state)
{
	struct pmfs *fs;
	struct pmfs_tx *tx;

	(void)state;
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	tx = pmfs_tx_begin(fs);
	assert_int_equal(pmfs_bfree(fs, tx, fs->sb->data_start + 100, 3), -EUCLEAN);
	assert_int_equal(pmfs_bfree(fs, tx, 1, 1), -EUCLEAN); /* metadata */
	pmfs_tx_abort(tx);
	assert_int_equal(pmfs_unmount(fs), 0);
}

static void allocation_survives_remount(void **state)
{
	struct pmfs *fs;
	uint64_t pblk, got, free1;

	(void)state;
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	assert_int_equal(alloc_one(fs, 0, 700, 700, 1, &pblk, &got), 0);
	free1 = pmfs_free_blocks(fs);
	assert_int_equal(pmfs_unmount(fs), 0);
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	assert_int_equal(pmfs_free_blocks(fs), free1);
	assert_true(pmem_bit(fs, pblk) && pmem_bit(fs, pblk + 699));
	assert_int_equal(pmfs_unmount(fs), 0);
}

#define PER_THREAD 1500

struct thread_result {
	struct pmfs *fs;
	uint64_t pblk[PER_THREAD], got[PER_THREAD];
	int n;
};

static void *alloc_worker(void *arg)
{
	struct thread_result *r = arg;

	for (r->n = 0; r->n < PER_THREAD; r->n++) {
		uint64_t want = (r->n % 5) + 1;

		if (alloc_one(r->fs, 0, want, 1, 1, &r->pblk[r->n], &r->got[r->n]) != 0)
			break;
	}
	return NULL;
}

static int by_start(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

static void two_threads_allocate_disjoint_runs(void **state)
{
	struct pmfs *fs;
	static struct thread_result r[2];
	pthread_t th[2];
	uint64_t(*runs)[2] = malloc(sizeof(*runs) * 2 * PER_THREAD);
	uint64_t free0, sum = 0;
	int n = 0;

	(void)state;
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	free0 = pmfs_free_blocks(fs);
	for (int i = 0; i < 2; i++) {
		r[i].fs = fs;
		pthread_create(&th[i], NULL, alloc_worker, &r[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(r[i].n, PER_THREAD);
		for (int k = 0; k < r[i].n; k++) {
			runs[n][0] = r[i].pblk[k];
			runs[n][1] = r[i].got[k];
			sum += r[i].got[k];
			n++;
		}
	}
	qsort(runs, (size_t)n, sizeof(*runs), by_start);
	for (int k = 1; k < n; k++)
		if (runs[k - 1][0] + runs[k - 1][1] > runs[k][0])
			fail_msg("runs overlap: [%llu, +%llu) and [%llu, +%llu)",
				 (unsigned long long)runs[k - 1][0],
				 (unsigned long long)runs[k - 1][1], (unsigned long long)runs[k][0],
				 (unsigned long long)runs[k][1]);
	for (int k = 0; k < n; k++)
		for (uint64_t b = runs[k][0]; b < runs[k][0] + runs[k][1]; b++)
			assert_true(pmem_bit(fs, b));
	assert_int_equal(pmfs_free_blocks(fs), free0 - sum);
	free(runs);
	assert_int_equal(pmfs_unmount(fs), 0);
}

/* ---- random alloc/free from two threads ---------------------------------- */

#define RUNS_PER_THREAD 64
#define OPS_PER_THREAD 3000

struct churn {
	struct pmfs *fs;
	unsigned seed;
	uint64_t start[RUNS_PER_THREAD], len[RUNS_PER_THREAD];
};

static void *churn_worker(void *arg)
{
	struct churn *c = arg;
	static const uint64_t aligns[] = {1, 1, 8, 512};

	for (int op = 0; op < OPS_PER_THREAD; op++) {
		int slot = rand_r(&c->seed) % RUNS_PER_THREAD;

		if (c->len[slot] == 0) {
			uint64_t want = 1 + (uint64_t)rand_r(&c->seed) % 700;
			uint64_t align = aligns[rand_r(&c->seed) % 4];
			uint64_t pblk, got;

			if (alloc_one(c->fs, 0, want, 1, align, &pblk, &got) == 0) {
				if (pblk % align != 0)
					fail_msg("run at %llu is not aligned to %llu",
						 (unsigned long long)pblk,
						 (unsigned long long)align);
				c->start[slot] = pblk;
				c->len[slot] = got;
			}
		} else {
			/* Free the tail part, sometimes all of it. */
			uint64_t keep = (uint64_t)rand_r(&c->seed) % c->len[slot];

			free_one(c->fs, c->start[slot] + keep, c->len[slot] - keep);
			c->len[slot] = keep;
		}
	}
	return NULL;
}

static uint64_t pmem_used_data_blocks(struct pmfs *fs)
{
	uint64_t used = 0;

	for (uint64_t b = fs->sb->data_start; b < fs->sb->total_blocks - 1; b++)
		used += pmem_bit(fs, b);
	return used;
}

static void random_churn_keeps_bitmap_and_counts_consistent(void **state)
{
	static struct churn c[2];
	struct pmfs *fs;
	pthread_t th[2];
	uint64_t data_blocks, live = 0, free_now;

	(void)state;
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	data_blocks = fs->sb->total_blocks - 1 - fs->sb->data_start;
	for (int i = 0; i < 2; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].fs = fs;
		c[i].seed = 1000u + (unsigned)i;
		pthread_create(&th[i], NULL, churn_worker, &c[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 2; i++) {
		for (int k = 0; k < RUNS_PER_THREAD; k++) {
			live += c[i].len[k];
			for (uint64_t b = c[i].start[k]; b < c[i].start[k] + c[i].len[k]; b++)
				assert_true(pmem_bit(fs, b));
		}
	}
	free_now = pmfs_free_blocks(fs);
	if (free_now != data_blocks - live || pmem_used_data_blocks(fs) != live)
		fail_msg("expected %llu live blocks: free count says %llu, bitmap says %llu",
			 (unsigned long long)live, (unsigned long long)(data_blocks - free_now),
			 (unsigned long long)pmem_used_data_blocks(fs));
	assert_int_equal(pmfs_unmount(fs), 0);
	/* The DRAM state rebuilt from the bitmap agrees. */
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	assert_int_equal(pmfs_free_blocks(fs), free_now);
	assert_int_equal(pmfs_unmount(fs), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(large_allocation_is_aligned, setup, teardown),
	    cmocka_unit_test_setup_teardown(small_allocations_fill_partial_units_first, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(full_device_returns_enospc, setup, teardown),
	    cmocka_unit_test_setup_teardown(fill_free_fill_again, setup, teardown),
	    cmocka_unit_test_setup_teardown(fragmented_ninety_percent_full_still_allocates, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(abort_returns_reserved_blocks, setup, teardown),
	    cmocka_unit_test_setup_teardown(freed_blocks_return_only_after_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(freeing_free_blocks_is_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(allocation_survives_remount, setup, teardown),
	    cmocka_unit_test_setup_teardown(two_threads_allocate_disjoint_runs, setup, teardown),
	    cmocka_unit_test_setup_teardown(random_churn_keeps_bitmap_and_counts_consistent, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
