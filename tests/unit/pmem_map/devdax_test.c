/*
 * devdax_test.c - device DAX and nd region handling, against a fake sysfs
 * tree (fake_sysfs.h) that dresses /dev/zero up as a devdax namespace.
 * This machine has no devdax device: everything here is checked against
 * the fake tree only.  Covers detection, size/align/region parsing,
 * persistence_domain (pmem_has_auto_flush), the deep_flush write, and
 * pmem_map_file()/pmem_map()/pmem_deep_drain() end to end on the fake
 * device (a shared /dev/zero mapping stands in for the device memory).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_sysfs.h"
#include "libpmem.h"
#include "pmem_internal.h"
#include "test_util.h"

#define MIB ((size_t)1 << 20)
#define FAKE_SIZE (16 * MIB)
#define FAKE_ALIGN (2 * MIB)

static int fake_setup(void **state)
{
	struct fake_sysfs *fake = calloc(1, sizeof(*fake));
	assert_non_null(fake);
	fake_sysfs_create(fake, FAKE_SIZE, FAKE_ALIGN);
	*state = fake;
	return 0;
}

static int fake_teardown(void **state)
{
	fake_sysfs_destroy(*state);
	free(*state);
	return 0;
}

static int devdax_of(const char *path, struct pmem_devdax *info)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	memset(info, 0xff, sizeof(*info));
	return pmem_devdax_from_stat(&st, info);
}

/* ---- detection and parsing ------------------------------------------------ */

static void test_bus_dax_device_is_detected_with_size_align_region(void **state)
{
	(void)state;
	struct pmem_devdax info;
	assert_int_equal(devdax_of(FAKE_DEVICE, &info), 1);
	assert_int_equal(info.size, FAKE_SIZE);
	assert_int_equal(info.align, FAKE_ALIGN);
	assert_int_equal(info.region_id, 0);
}

static void test_class_dax_device_is_detected(void **state)
{
	struct fake_sysfs *fake = *state;
	char *class_dax = path_join(fake->root, "class/dax");
	make_dirs(class_dax);
	fake_sysfs_remove(fake->device_dir, "subsystem");
	char *link = path_join(fake->device_dir, "subsystem");
	make_symlink(class_dax, link);
	struct pmem_devdax info;
	assert_int_equal(devdax_of(FAKE_DEVICE, &info), 1);
	free(class_dax);
	free(link);
}

static void test_char_device_of_other_subsystem_is_not_devdax(void **state)
{
	struct fake_sysfs *fake = *state;
	char *class_mem = path_join(fake->root, "class/mem");
	make_dirs(class_mem);
	fake_sysfs_remove(fake->device_dir, "subsystem");
	char *link = path_join(fake->device_dir, "subsystem");
	make_symlink(class_mem, link);
	struct pmem_devdax info;
	assert_int_equal(devdax_of(FAKE_DEVICE, &info), 0);
	free(class_mem);
	free(link);
}

static void test_regular_file_is_not_devdax(void **state)
{
	struct fake_sysfs *fake = *state;
	char *file = path_join(fake->root, "plain");
	write_text(file, "x");
	struct pmem_devdax info;
	assert_int_equal(devdax_of(file, &info), 0);
	free(file);
}

static void test_char_device_missing_from_sysfs_is_error(void **state)
{
	(void)state;
	struct pmem_devdax info;
	errno = 0;
	assert_int_equal(devdax_of("/dev/null", &info), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_per_device_align_wins_over_region_align(void **state)
{
	struct fake_sysfs *fake = *state;
	fake_sysfs_set(fake->device_dir, "align", "4096\n");
	struct pmem_devdax info;
	assert_int_equal(devdax_of(FAKE_DEVICE, &info), 1);
	assert_int_equal(info.align, 4096);
}

static void test_align_printed_in_hex_by_old_kernels_is_read(void **state)
{
	struct fake_sysfs *fake = *state;
	fake_sysfs_set(fake->nd_dax_dir, "dax_region/align", "200000\n"); /* 0x200000 */
	struct pmem_devdax info;
	assert_int_equal(devdax_of(FAKE_DEVICE, &info), 1);
	assert_int_equal(info.align, 2 * MIB);
}

static void test_invalid_align_is_einval(void **state)
{
	struct fake_sysfs *fake = *state;
	fake_sysfs_set(fake->nd_dax_dir, "dax_region/align", "banana\n");
	struct pmem_devdax info;
	errno = 0;
	assert_int_equal(devdax_of(FAKE_DEVICE, &info), -1);
	assert_int_equal(errno, EINVAL);
}

static void test_missing_align_is_enoent(void **state)
{
	struct fake_sysfs *fake = *state;
	fake_sysfs_remove(fake->nd_dax_dir, "dax_region/align");
	struct pmem_devdax info;
	errno = 0;
	assert_int_equal(devdax_of(FAKE_DEVICE, &info), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_size_in_hex_is_read(void **state)
{
	struct fake_sysfs *fake = *state;
	fake_sysfs_set(fake->device_dir, "size", "0x2000000\n");
	struct pmem_devdax info;
	assert_int_equal(devdax_of(FAKE_DEVICE, &info), 1);
	assert_int_equal(info.size, 32 * MIB);
}

static void test_size_without_newline_is_einval(void **state)
{
	struct fake_sysfs *fake = *state;
	fake_sysfs_set(fake->device_dir, "size", "16777216");
	struct pmem_devdax info;
	errno = 0;
	assert_int_equal(devdax_of(FAKE_DEVICE, &info), -1);
	assert_int_equal(errno, EINVAL);
}

static void test_missing_region_id_gives_no_region(void **state)
{
	struct fake_sysfs *fake = *state;
	fake_sysfs_remove(fake->nd_dax_dir, "dax_region/id");
	struct pmem_devdax info;
	assert_int_equal(devdax_of(FAKE_DEVICE, &info), 1);
	assert_int_equal(info.region_id, -1);
}

static void test_devdax_info_by_fd(void **state)
{
	(void)state;
	int fd = open(FAKE_DEVICE, O_RDONLY);
	size_t size = 0, align = 0;
	assert_true(pmem_devdax_info(fd, &size, &align));
	assert_int_equal(size, FAKE_SIZE);
	assert_int_equal(align, FAKE_ALIGN);
	close(fd);
}

/* ---- persistence_domain ---------------------------------------------------- */

static void add_region(struct fake_sysfs *fake, const char *name, const char *domain)
{
	char rel[64];
	snprintf(rel, sizeof(rel), "devices/platform/e820_pmem/ndbus0/%s", name);
	char *dir = path_join(fake->root, rel);
	make_dirs(dir);
	if (domain != NULL)
		fake_sysfs_set(dir, "persistence_domain", domain);
	snprintf(rel, sizeof(rel), "bus/nd/devices/%s", name);
	char *link = path_join(fake->root, rel);
	make_symlink(dir, link);
	free(dir);
	free(link);
}

static void expect_auto_flush(int want)
{
	int got = pmem_has_auto_flush();
	if (got != want)
		fail_msg("expected pmem_has_auto_flush() == %d, found %d", want, got);
	assert_int_equal(pmem_auto_flush_all_regions(), want == 1);
}

static void test_auto_flush_when_every_region_is_cpu_cache(void **state)
{
	struct fake_sysfs *fake = *state;
	fake_sysfs_set(fake->region_dir, "persistence_domain", "cpu_cache\n");
	add_region(fake, "region1", "cpu_cache\n");
	expect_auto_flush(1);
}

static void test_no_auto_flush_when_one_region_is_memory_controller(void **state)
{
	struct fake_sysfs *fake = *state;
	fake_sysfs_set(fake->region_dir, "persistence_domain", "cpu_cache\n");
	add_region(fake, "region1", "memory_controller\n");
	expect_auto_flush(0);
}

static void test_no_auto_flush_when_a_region_has_no_domain(void **state)
{
	struct fake_sysfs *fake = *state;
	fake_sysfs_set(fake->region_dir, "persistence_domain", "cpu_cache\n");
	add_region(fake, "region1", NULL);
	expect_auto_flush(0);
}

static void test_no_auto_flush_without_regions(void **state)
{
	struct fake_sysfs *fake = *state;
	char *link = path_join(fake->root, "bus/nd/devices/region0");
	unlink(link);
	free(link);
	expect_auto_flush(0);
}

static void test_no_auto_flush_without_nd_bus(void **state)
{
	struct fake_sysfs *fake = *state;
	char *nd = path_join(fake->root, "bus/nd");
	remove_tree(nd);
	free(nd);
	expect_auto_flush(0);
}

static void test_auto_flush_error_on_empty_domain(void **state)
{
	struct fake_sysfs *fake = *state;
	fake_sysfs_set(fake->region_dir, "persistence_domain", "");
	expect_auto_flush(-1);
}

static void test_auto_flush_error_on_domain_without_newline(void **state)
{
	struct fake_sysfs *fake = *state;
	fake_sysfs_set(fake->region_dir, "persistence_domain", "cpu_cache");
	expect_auto_flush(-1);
}

/* ---- deep flush ------------------------------------------------------------ */

static void test_region_deep_flush_writes_to_deep_flush_file(void **state)
{
	struct fake_sysfs *fake = *state;
	fake_sysfs_reset_mtime(fake->deep_flush);
	assert_int_equal(pmem_region_deep_flush(0), 0);
	if (!fake_sysfs_was_written(fake->deep_flush))
		fail_msg("expected a write to %s", fake->deep_flush);
}

static void test_region_deep_flush_skips_region_that_needs_none(void **state)
{
	struct fake_sysfs *fake = *state;
	fake_sysfs_set(fake->region_dir, "deep_flush", "0\n");
	fake_sysfs_reset_mtime(fake->deep_flush);
	assert_int_equal(pmem_region_deep_flush(0), 0);
	if (fake_sysfs_was_written(fake->deep_flush))
		fail_msg("expected no write to %s when it reads 0", fake->deep_flush);
}

static void test_region_deep_flush_without_file_succeeds(void **state)
{
	struct fake_sysfs *fake = *state;
	fake_sysfs_remove(fake->region_dir, "deep_flush");
	assert_int_equal(pmem_region_deep_flush(0), 0);
	assert_int_equal(pmem_region_deep_flush(-1), 0);
}

static void test_devdax_deep_flush_finds_region_from_fd(void **state)
{
	struct fake_sysfs *fake = *state;
	int fd = open(FAKE_DEVICE, O_RDONLY);
	fake_sysfs_reset_mtime(fake->deep_flush);
	assert_int_equal(pmem_devdax_deep_flush(fd), 0);
	assert_true(fake_sysfs_was_written(fake->deep_flush));
	close(fd);

	int not_dax = open("/dev/null", O_RDONLY);
	errno = 0;
	assert_int_equal(pmem_devdax_deep_flush(not_dax), -1);
	close(not_dax);
}

/* ---- mapping the fake device ------------------------------------------------ */

static void test_map_file_maps_whole_device_aligned_as_pmem(void **state)
{
	(void)state;
	size_t mapped = 0;
	int is_pmem = -1;
	char *addr = pmem_map_file(FAKE_DEVICE, 0, 0, 0, &mapped, &is_pmem);
	assert_non_null(addr);
	assert_int_equal(mapped, FAKE_SIZE);
	assert_int_equal(is_pmem, 1);
	if ((uintptr_t)addr % FAKE_ALIGN != 0)
		fail_msg("expected a mapping aligned to %zu, got %p", FAKE_ALIGN, addr);
	addr[0] = 1;
	addr[FAKE_SIZE - 1] = 2;
	assert_int_equal(pmem_is_pmem(addr, FAKE_SIZE), 1);
	assert_int_equal(pmem_is_pmem(addr, FAKE_SIZE + 1), 0);
	assert_int_equal(pmem_unmap(addr, FAKE_SIZE), 0);
	assert_int_equal(pmem_is_pmem(addr, 1), 0);
}

static void test_map_file_honours_large_device_alignment(void **state)
{
	struct fake_sysfs *fake = *state;
	size_t gib = (size_t)1 << 30;
	fake_sysfs_set(fake->device_dir, "size", "2147483648\n");
	fake_sysfs_set(fake->device_dir, "align", "1073741824\n");
	size_t mapped = 0;
	void *addr = pmem_map_file(FAKE_DEVICE, 0, 0, 0, &mapped, NULL);
	assert_non_null(addr);
	assert_int_equal(mapped, 2 * gib);
	if ((uintptr_t)addr % gib != 0)
		fail_msg("expected a 1 GiB aligned mapping, got %p", addr);
	assert_int_equal(pmem_unmap(addr, mapped), 0);
}

static void test_map_file_on_devdax_accepts_exact_size_with_create(void **state)
{
	(void)state;
	size_t mapped = 0;
	void *addr = pmem_map_file(FAKE_DEVICE, FAKE_SIZE, PMEM_FILE_CREATE | PMEM_FILE_SPARSE, 0,
				   &mapped, NULL);
	assert_non_null(addr);
	assert_int_equal(mapped, FAKE_SIZE);
	assert_int_equal(pmem_unmap(addr, mapped), 0);

	addr = pmem_map_file(FAKE_DEVICE, FAKE_SIZE, 0, 0, &mapped, NULL);
	assert_non_null(addr);
	assert_int_equal(pmem_unmap(addr, mapped), 0);
}

static void expect_devdax_einval(size_t len, int flags)
{
	errno = 0;
	void *addr = pmem_map_file(FAKE_DEVICE, len, flags, 0, NULL, NULL);
	if (addr != NULL || errno != EINVAL)
		fail_msg("devdax len %zu flags %#x: expected EINVAL, got %p errno %d", len,
			 (unsigned)flags, addr, errno);
}

static void test_map_file_on_devdax_rejects_other_sizes_and_flags(void **state)
{
	(void)state;
	expect_devdax_einval(FAKE_SIZE / 2, PMEM_FILE_CREATE);
	expect_devdax_einval(FAKE_SIZE * 2, PMEM_FILE_CREATE);
	expect_devdax_einval(0, PMEM_FILE_EXCL);
	expect_devdax_einval(FAKE_SIZE, PMEM_FILE_CREATE | PMEM_FILE_EXCL);
	expect_devdax_einval(FAKE_SIZE, PMEM_FILE_CREATE | PMEM_FILE_TMPFILE);
}

static void test_deep_drain_on_devdax_writes_region_deep_flush(void **state)
{
	struct fake_sysfs *fake = *state;
	char *addr = pmem_map_file(FAKE_DEVICE, 0, 0, 0, NULL, NULL);
	assert_non_null(addr);
	memset(addr + 100, 7, 5000);
	fake_sysfs_reset_mtime(fake->deep_flush);
	assert_int_equal(pmem_deep_persist(addr + 100, 5000), 0);
	if (!fake_sysfs_was_written(fake->deep_flush))
		fail_msg("expected pmem_deep_persist on devdax to write %s", fake->deep_flush);
	fake_sysfs_reset_mtime(fake->deep_flush);
	assert_int_equal(pmem_deep_drain(addr, FAKE_SIZE), 0);
	assert_true(fake_sysfs_was_written(fake->deep_flush));
	assert_int_equal(pmem_unmap(addr, FAKE_SIZE), 0);
}

static void test_partial_unmap_of_devdax_splits_its_range(void **state)
{
	(void)state;
	char *addr = pmem_map_file(FAKE_DEVICE, 0, 0, 0, NULL, NULL);
	assert_non_null(addr);
	assert_int_equal(pmem_unmap(addr + 4 * MIB, 2 * MIB), 0);
	assert_int_equal(pmem_is_pmem(addr, 4 * MIB), 1);
	assert_int_equal(pmem_is_pmem(addr + 4 * MIB, 1), 0);
	assert_int_equal(pmem_is_pmem(addr + 6 * MIB - 1, 1), 0);
	assert_int_equal(pmem_is_pmem(addr + 6 * MIB, 10 * MIB), 1);
	assert_int_equal(pmem_is_pmem(addr, FAKE_SIZE), 0);
	assert_int_equal(pmem_is_pmem(addr + 3 * MIB, 2 * MIB), 0);
	assert_int_equal(pmem_unmap(addr, 4 * MIB), 0);
	assert_int_equal(pmem_unmap(addr + 6 * MIB, 10 * MIB), 0);
	assert_int_equal(pmem_is_pmem(addr + 6 * MIB, 1), 0);
}

static void test_unmap_off_device_alignment_is_einval_and_keeps_mapping(void **state)
{
	(void)state;
	char *addr = pmem_map_file(FAKE_DEVICE, 0, 0, 0, NULL, NULL);
	assert_non_null(addr);
	errno = 0;
	assert_int_equal(pmem_unmap(addr + 4096, 2 * MIB), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(pmem_unmap(addr, MIB), -1); /* the end cut is off alignment */
	assert_int_equal(errno, EINVAL);
	assert_int_equal(pmem_is_pmem(addr, FAKE_SIZE), 1);
	addr[4096] = 1; /* still mapped */
	assert_int_equal(pmem_unmap(addr, FAKE_SIZE), 0);
}

static void test_pmem_map_on_devdax_fd(void **state)
{
	(void)state;
	int fd = open(FAKE_DEVICE, O_RDWR);
	void *whole = pmem_map(fd, 0);
	assert_non_null(whole);
	assert_int_equal(pmem_is_pmem(whole, FAKE_SIZE), 1);
	void *part = pmem_map(fd, 4 * MIB);
	assert_non_null(part);
	assert_int_equal((uintptr_t)part % FAKE_ALIGN, 0);
	assert_int_equal(pmem_is_pmem(part, 4 * MIB), 1);
	errno = 0;
	assert_null(pmem_map(fd, 3 * MIB)); /* not a multiple of the alignment */
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(pmem_map(fd, FAKE_SIZE + FAKE_ALIGN));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(pmem_unmap(whole, FAKE_SIZE), 0);
	assert_int_equal(pmem_unmap(part, 4 * MIB), 0);
	close(fd);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fake_setup, fake_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_bus_dax_device_is_detected_with_size_align_region),
	    T(test_class_dax_device_is_detected),
	    T(test_char_device_of_other_subsystem_is_not_devdax),
	    T(test_regular_file_is_not_devdax),
	    T(test_char_device_missing_from_sysfs_is_error),
	    T(test_per_device_align_wins_over_region_align),
	    T(test_align_printed_in_hex_by_old_kernels_is_read),
	    T(test_invalid_align_is_einval),
	    T(test_missing_align_is_enoent),
	    T(test_size_in_hex_is_read),
	    T(test_size_without_newline_is_einval),
	    T(test_missing_region_id_gives_no_region),
	    T(test_devdax_info_by_fd),
	    T(test_auto_flush_when_every_region_is_cpu_cache),
	    T(test_no_auto_flush_when_one_region_is_memory_controller),
	    T(test_no_auto_flush_when_a_region_has_no_domain),
	    T(test_no_auto_flush_without_regions),
	    T(test_no_auto_flush_without_nd_bus),
	    T(test_auto_flush_error_on_empty_domain),
	    T(test_auto_flush_error_on_domain_without_newline),
	    T(test_region_deep_flush_writes_to_deep_flush_file),
	    T(test_region_deep_flush_skips_region_that_needs_none),
	    T(test_region_deep_flush_without_file_succeeds),
	    T(test_devdax_deep_flush_finds_region_from_fd),
	    T(test_map_file_maps_whole_device_aligned_as_pmem),
	    T(test_map_file_honours_large_device_alignment),
	    T(test_map_file_on_devdax_accepts_exact_size_with_create),
	    T(test_map_file_on_devdax_rejects_other_sizes_and_flags),
	    T(test_deep_drain_on_devdax_writes_region_deep_flush),
	    T(test_partial_unmap_of_devdax_splits_its_range),
	    T(test_unmap_off_device_alignment_is_einval_and_keeps_mapping),
	    T(test_pmem_map_on_devdax_fd),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
