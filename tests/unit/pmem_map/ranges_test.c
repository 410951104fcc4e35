/*
 * ranges_test.c - the registry of pmem ranges behind pmem_is_pmem() and
 * pmem_unmap(): exact coverage, splitting on partial removal, stale entries,
 * and many threads registering, splitting, unmapping and querying at once.
 * Ranges are registered directly on anonymous memory (this machine has no
 * MAP_SYNC file system), and through pmem_map_file() on the fake devdax of
 * fake_sysfs.h for the threaded end-to-end run.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_sysfs.h"
#include "libpmem.h"
#include "pmem_internal.h"

#define PAGE ((size_t)4096)

static char *anon_pages(size_t pages)
{
	char *addr =
	    mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(addr != MAP_FAILED);
	return addr;
}

static void expect_pmem(const char *base, size_t first_page, size_t pages, int want)
{
	int got = pmem_is_pmem(base + first_page * PAGE, pages * PAGE);
	if (got != want)
		fail_msg("pages [%zu, %zu): expected pmem_is_pmem == %d, found %d", first_page,
			 first_page + pages, want, got);
}

static void test_registered_range_covers_exactly_its_bytes(void **state)
{
	(void)state;
	char *base = anon_pages(16);
	assert_int_equal(pmem_range_register(base + PAGE, 10 * PAGE, PMEM_RANGE_DEVDAX, -1, 0), 0);
	expect_pmem(base, 1, 10, 1);
	expect_pmem(base, 5, 1, 1);
	assert_int_equal(pmem_is_pmem(base + PAGE, 10 * PAGE + 1), 0);
	assert_int_equal(pmem_is_pmem(base + PAGE - 1, 2), 0);
	assert_int_equal(pmem_is_pmem(base + 11 * PAGE - 1, 1), 1);
	assert_int_equal(pmem_is_pmem(base + 11 * PAGE, 1), 0);
	assert_int_equal(pmem_is_pmem(base + 2 * PAGE, 0), 0);
	pmem_range_unregister(base, 16 * PAGE);
	expect_pmem(base, 1, 10, 0);
	munmap(base, 16 * PAGE);
}

static void test_adjacent_ranges_cover_together_and_gaps_do_not(void **state)
{
	(void)state;
	char *base = anon_pages(16);
	assert_int_equal(pmem_range_register(base, 4 * PAGE, PMEM_RANGE_MAP_SYNC, -1, 0), 0);
	assert_int_equal(pmem_range_register(base + 4 * PAGE, 4 * PAGE, PMEM_RANGE_DEVDAX, 3, 0),
			 0);
	assert_int_equal(pmem_range_register(base + 9 * PAGE, 4 * PAGE, PMEM_RANGE_DEVDAX, 3, 0),
			 0);
	expect_pmem(base, 0, 8, 1);
	expect_pmem(base, 2, 4, 1);
	expect_pmem(base, 0, 13, 0); /* page 8 is a gap */
	expect_pmem(base, 9, 4, 1);
	pmem_range_unregister(base, 16 * PAGE);
	munmap(base, 16 * PAGE);
}

static void test_removing_the_middle_splits_a_range(void **state)
{
	(void)state;
	char *base = anon_pages(8);
	assert_int_equal(pmem_range_register(base, 8 * PAGE, PMEM_RANGE_DEVDAX, 5, 0), 0);
	pmem_range_unregister(base + 3 * PAGE, 2 * PAGE);
	expect_pmem(base, 0, 3, 1);
	expect_pmem(base, 3, 1, 0);
	expect_pmem(base, 4, 1, 0);
	expect_pmem(base, 5, 3, 1);
	expect_pmem(base, 0, 8, 0);

	struct pmem_range found;
	assert_int_equal(pmem_range_find(base + 3 * PAGE, 4 * PAGE, &found), 0);
	assert_int_equal(found.start, (uintptr_t)(base + 5 * PAGE));
	assert_int_equal(found.end, (uintptr_t)(base + 8 * PAGE));
	assert_int_equal(found.kind, PMEM_RANGE_DEVDAX);
	assert_int_equal(found.region_id, 5); /* both pieces keep the region */
	assert_int_equal(pmem_range_find(base + 3 * PAGE, 2 * PAGE, &found), -1);

	pmem_range_unregister(base, 8 * PAGE);
	munmap(base, 8 * PAGE);
}

static void test_removing_across_several_ranges_trims_the_ends(void **state)
{
	(void)state;
	char *base = anon_pages(12);
	for (int i = 0; i < 4; i++)
		assert_int_equal(
		    pmem_range_register(base + 3 * i * PAGE, 3 * PAGE, PMEM_RANGE_DEVDAX, i, 0), 0);
	pmem_range_unregister(base + 2 * PAGE, 7 * PAGE); /* pages 2..8 */
	expect_pmem(base, 0, 2, 1);
	expect_pmem(base, 2, 7, 0);
	expect_pmem(base, 9, 3, 1);
	struct pmem_range found;
	assert_int_equal(pmem_range_find(base, 12 * PAGE, &found), 0);
	assert_int_equal(found.end, (uintptr_t)(base + 2 * PAGE));
	pmem_range_unregister(base, 12 * PAGE);
	expect_pmem(base, 0, 12, 0);
	munmap(base, 12 * PAGE);
}

static void test_registering_over_a_stale_range_replaces_it(void **state)
{
	(void)state;
	char *base = anon_pages(8);
	assert_int_equal(pmem_range_register(base, 8 * PAGE, PMEM_RANGE_DEVDAX, 1, 0), 0);
	assert_int_equal(pmem_range_register(base + 2 * PAGE, 2 * PAGE, PMEM_RANGE_MAP_SYNC, -1, 0),
			 0);
	struct pmem_range found;
	assert_int_equal(pmem_range_find(base + 2 * PAGE, PAGE, &found), 0);
	assert_int_equal(found.kind, PMEM_RANGE_MAP_SYNC);
	assert_int_equal(found.start, (uintptr_t)(base + 2 * PAGE));
	expect_pmem(base, 0, 8, 1); /* still covered, by three entries now */
	pmem_range_unregister(base, 8 * PAGE);
	munmap(base, 8 * PAGE);
}

/* pmem_is_pmem() remembers the last range that answered 1 in each thread;
 * any change to the registry must make it look again. */
static void test_remembered_answer_is_dropped_when_the_registry_changes(void **state)
{
	(void)state;
	char *base = anon_pages(8);
	assert_int_equal(pmem_range_register(base, 8 * PAGE, PMEM_RANGE_DEVDAX, -1, 0), 0);
	expect_pmem(base, 0, 8, 1); /* remembered */
	pmem_range_unregister(base + 4 * PAGE, PAGE);
	expect_pmem(base, 0, 8, 0);
	expect_pmem(base, 4, 1, 0);
	expect_pmem(base, 0, 4, 1); /* remembers the head */
	pmem_range_unregister(base, 4 * PAGE);
	expect_pmem(base, 0, 1, 0);
	expect_pmem(base, 5, 3, 1);
	pmem_range_unregister(base, 8 * PAGE);
	expect_pmem(base, 5, 3, 0);
	munmap(base, 8 * PAGE);
}

static void test_many_ranges_stay_sorted_and_searchable(void **state)
{
	(void)state;
	size_t count = 300;
	char *base = anon_pages(2 * count);
	/* register every other page, in a scrambled order */
	for (size_t i = 0; i < count; i++) {
		size_t slot = (i * 7) % count;
		assert_int_equal(
		    pmem_range_register(base + 2 * slot * PAGE, PAGE, PMEM_RANGE_DEVDAX, -1, 0), 0);
	}
	for (size_t slot = 0; slot < count; slot++) {
		expect_pmem(base, 2 * slot, 1, 1);
		expect_pmem(base, 2 * slot + 1, 1, 0);
	}
	pmem_range_unregister(base, 2 * count * PAGE);
	expect_pmem(base, 0, 1, 0);
	munmap(base, 2 * count * PAGE);
}

static void test_pmem_unmap_of_part_splits_and_rounds_to_pages(void **state)
{
	(void)state;
	char *base = anon_pages(8);
	assert_int_equal(pmem_range_register(base, 8 * PAGE, PMEM_RANGE_DEVDAX, -1, 0), 0);
	assert_int_equal(pmem_unmap(base + 2 * PAGE, 1), 0); /* one byte: one whole page */
	expect_pmem(base, 0, 2, 1);
	expect_pmem(base, 2, 1, 0);
	expect_pmem(base, 3, 5, 1);
	assert_int_equal(pmem_unmap(base, 2 * PAGE), 0);
	assert_int_equal(pmem_unmap(base + 3 * PAGE, 5 * PAGE), 0);
	expect_pmem(base, 3, 5, 0);
}

/* ---- threads ------------------------------------------------------------------- */

#define WRITERS 4
#define READERS 4
#define ROUNDS 1500

struct shared {
	char *sentinel; /* registered for the whole run: always pmem */
	char *never;	/* never registered: never pmem */
	atomic_int stop;
	atomic_int errors;
	atomic_long queries;
	bool through_map_file; /* writers use pmem_map_file on the fake devdax */
};

static void count_error(struct shared *shared, const char *what)
{
	if (atomic_fetch_add(&shared->errors, 1) == 0)
		fprintf(stderr, "first concurrency error: %s\n", what);
}

static char *writer_map(struct shared *shared, size_t len)
{
	if (shared->through_map_file)
		return pmem_map_file(FAKE_DEVICE, 0, 0, 0, NULL, NULL);
	char *addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (addr == MAP_FAILED)
		return NULL;
	if (pmem_range_register(addr, len, PMEM_RANGE_DEVDAX, -1, 0) < 0) {
		munmap(addr, len);
		return NULL;
	}
	return addr;
}

static void *writer(void *arg)
{
	struct shared *shared = arg;
	size_t len = shared->through_map_file ? 2 * ((size_t)1 << 20) : 4 * PAGE;
	size_t piece = len / 4;
	for (int round = 0; round < ROUNDS; round++) {
		char *addr = writer_map(shared, len);
		if (addr == NULL) {
			count_error(shared, "map failed");
			continue;
		}
		if (pmem_is_pmem(addr, len) != 1)
			count_error(shared, "own mapping not pmem");
		if (pmem_unmap(addr + piece, piece) != 0)
			count_error(shared, "partial unmap failed");
		if (pmem_is_pmem(addr, piece) != 1 ||
		    pmem_is_pmem(addr + 2 * piece, 2 * piece) != 1)
			count_error(shared, "remaining pieces not pmem");
		if (pmem_is_pmem(addr, len) != 0)
			count_error(shared, "range with a hole reads as pmem");
		if (pmem_unmap(addr, piece) != 0 || pmem_unmap(addr + 2 * piece, 2 * piece) != 0)
			count_error(shared, "unmap failed");
	}
	return NULL;
}

static void *reader(void *arg)
{
	struct shared *shared = arg;
	long queries = 0;
	while (!atomic_load(&shared->stop)) {
		if (pmem_is_pmem(shared->sentinel, 8 * PAGE) != 1)
			count_error(shared, "sentinel not pmem");
		if (pmem_is_pmem(shared->never, PAGE) != 0)
			count_error(shared, "never-registered memory reads as pmem");
		queries += 2;
	}
	atomic_fetch_add(&shared->queries, queries);
	return NULL;
}

static void run_threads(bool through_map_file)
{
	struct shared shared = {.through_map_file = through_map_file};
	shared.sentinel = anon_pages(8);
	shared.never = anon_pages(1);
	assert_int_equal(pmem_range_register(shared.sentinel, 8 * PAGE, PMEM_RANGE_DEVDAX, -1, 0),
			 0);

	pthread_t writers[WRITERS], readers[READERS];
	struct timespec begin, end;
	clock_gettime(CLOCK_MONOTONIC, &begin);
	for (int i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&readers[i], NULL, reader, &shared), 0);
	for (int i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_create(&writers[i], NULL, writer, &shared), 0);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(writers[i], NULL);
	atomic_store(&shared.stop, 1);
	for (int i = 0; i < READERS; i++)
		pthread_join(readers[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &end);
	double seconds = (double)(end.tv_sec - begin.tv_sec) + (end.tv_nsec - begin.tv_nsec) / 1e9;
	printf("%s: %d writers x %d map/split/unmap rounds, %ld reader queries in %.2f s "
	       "(%.0f queries/s)\n",
	       through_map_file ? "pmem_map_file on fake devdax" : "registry", WRITERS, ROUNDS,
	       (long)atomic_load(&shared.queries), seconds,
	       (double)atomic_load(&shared.queries) / seconds);

	int errors = atomic_load(&shared.errors);
	if (errors != 0)
		fail_msg("expected 0 errors from %d writers x %d rounds and %d readers, found %d",
			 WRITERS, ROUNDS, READERS, errors);
	assert_true(atomic_load(&shared.queries) > 0);
	pmem_range_unregister(shared.sentinel, 8 * PAGE);
	munmap(shared.sentinel, 8 * PAGE);
	munmap(shared.never, PAGE);
}

static void test_threads_registering_splitting_and_querying_agree(void **state)
{
	(void)state;
	run_threads(false);
}

static void test_threads_mapping_devdax_and_querying_agree(void **state)
{
	(void)state;
	struct fake_sysfs fake;
	/* page-aligned device: the writers cut their mappings into quarters */
	fake_sysfs_create(&fake, 2 * ((size_t)1 << 20), PAGE);
	run_threads(true);
	fake_sysfs_destroy(&fake);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registered_range_covers_exactly_its_bytes),
	    cmocka_unit_test(test_adjacent_ranges_cover_together_and_gaps_do_not),
	    cmocka_unit_test(test_removing_the_middle_splits_a_range),
	    cmocka_unit_test(test_removing_across_several_ranges_trims_the_ends),
	    cmocka_unit_test(test_registering_over_a_stale_range_replaces_it),
	    cmocka_unit_test(test_remembered_answer_is_dropped_when_the_registry_changes),
	    cmocka_unit_test(test_many_ranges_stay_sorted_and_searchable),
	    cmocka_unit_test(test_pmem_unmap_of_part_splits_and_rounds_to_pages),
	    cmocka_unit_test(test_threads_registering_splitting_and_querying_agree),
	    cmocka_unit_test(test_threads_mapping_devdax_and_querying_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
