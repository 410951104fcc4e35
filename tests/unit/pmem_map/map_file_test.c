/*
 * map_file_test.c - pmem_map_file(), pmem_map(), pmem_unmap(),
 * pmem_msync() and the deep calls through the public libpmem.so.1, on
 * regular files in /dev/shm (tmpfs: no MAP_SYNC, so never pmem) and on a
 * small tmpfs mounted for the ENOSPC test.  Each test gets its own scratch
 * directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "libpmem.h"
#include "test_util.h"

#define MIB ((size_t)1 << 20)

struct scratch {
	char *dir;
	char *file;	   /* dir/file, not created */
	char *mount_point; /* set when a test mounted a tmpfs */
};

static int scratch_setup(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	s->dir = scratch_dir("/dev/shm", "map");
	s->file = path_join(s->dir, "file");
	*state = s;
	return 0;
}

static int scratch_teardown(void **state)
{
	struct scratch *s = *state;
	if (s->mount_point != NULL) {
		umount2(s->mount_point, MNT_DETACH);
		free(s->mount_point);
	}
	remove_tree(s->dir);
	free(s->dir);
	free(s->file);
	free(s);
	return 0;
}

static void make_file(const char *path, size_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

static off_t size_of(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Asserts pmem_map_file fails with errno want and leaves no file. */
static void expect_map_error(const char *path, size_t len, int flags, int want)
{
	errno = 0;
	void *addr = pmem_map_file(path, len, flags, 0600, NULL, NULL);
	if (addr != NULL)
		fail_msg("pmem_map_file(len %zu, flags %#x): expected errno %d (%s), got a mapping",
			 len, (unsigned)flags, want, strerror(want));
	if (errno != want)
		fail_msg("pmem_map_file(len %zu, flags %#x): expected errno %d (%s), got %d (%s)",
			 len, (unsigned)flags, want, strerror(want), errno, strerror(errno));
}

/* ---- creating files ----------------------------------------------------- */

static void test_create_maps_requested_length_and_reports_it(void **state)
{
	struct scratch *s = *state;
	size_t len = 3 * MIB + 123, mapped = 0;
	int is_pmem = -1;
	char *addr = pmem_map_file(s->file, len, PMEM_FILE_CREATE, 0600, &mapped, &is_pmem);
	assert_non_null(addr);
	assert_int_equal(mapped, len);
	assert_int_equal(size_of(s->file), (off_t)len);
	assert_int_equal(is_pmem, 0); /* tmpfs refuses MAP_SYNC */
	addr[0] = 'a';
	addr[len - 1] = 'z';
	assert_int_equal(pmem_msync(addr, len), 0);
	assert_int_equal(pmem_unmap(addr, len), 0);

	int fd = open(s->file, O_RDONLY);
	char first, last;
	assert_int_equal(pread(fd, &first, 1, 0), 1);
	assert_int_equal(pread(fd, &last, 1, (off_t)len - 1), 1);
	close(fd);
	assert_int_equal(first, 'a');
	assert_int_equal(last, 'z');
}

static void test_create_without_sparse_allocates_every_block(void **state)
{
	struct scratch *s = *state;
	size_t len = 4 * MIB;
	void *addr = pmem_map_file(s->file, len, PMEM_FILE_CREATE, 0600, NULL, NULL);
	assert_non_null(addr);
	long long blocks = file_blocks(s->file);
	if (blocks * 512 < (long long)len)
		fail_msg("expected at least %zu bytes allocated, found %lld", len, blocks * 512);
	assert_int_equal(pmem_unmap(addr, len), 0);
}

static void test_create_sparse_leaves_blocks_unallocated(void **state)
{
	struct scratch *s = *state;
	size_t len = 4 * MIB;
	void *addr =
	    pmem_map_file(s->file, len, PMEM_FILE_CREATE | PMEM_FILE_SPARSE, 0600, NULL, NULL);
	assert_non_null(addr);
	assert_int_equal(size_of(s->file), (off_t)len);
	long long blocks = file_blocks(s->file);
	if (blocks != 0)
		fail_msg("expected a sparse file (0 blocks), found %lld blocks", blocks);
	assert_int_equal(pmem_unmap(addr, len), 0);
}

static void test_create_uses_mode(void **state)
{
	struct scratch *s = *state;
	mode_t old_umask = umask(0);
	void *addr =
	    pmem_map_file(s->file, MIB, PMEM_FILE_CREATE | PMEM_FILE_EXCL, 0640, NULL, NULL);
	umask(old_umask);
	assert_non_null(addr);
	struct stat st;
	assert_int_equal(stat(s->file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(pmem_unmap(addr, MIB), 0);
}

static void test_create_on_existing_file_sets_its_length(void **state)
{
	struct scratch *s = *state;
	make_file(s->file, 8 * MIB);
	size_t mapped = 0;
	void *addr = pmem_map_file(s->file, 2 * MIB, PMEM_FILE_CREATE, 0600, &mapped, NULL);
	assert_non_null(addr);
	assert_int_equal(mapped, 2 * MIB);
	assert_int_equal(size_of(s->file), (off_t)(2 * MIB)); /* truncated, as PMDK */
	assert_int_equal(pmem_unmap(addr, mapped), 0);
}

static void test_create_excl_on_existing_file_is_eexist_and_keeps_it(void **state)
{
	struct scratch *s = *state;
	make_file(s->file, MIB);
	expect_map_error(s->file, 2 * MIB, PMEM_FILE_CREATE | PMEM_FILE_EXCL, EEXIST);
	assert_true(exists(s->file));
	assert_int_equal(size_of(s->file), (off_t)MIB);
}

static void test_create_length_beyond_off_t_is_einval(void **state)
{
	struct scratch *s = *state;
	expect_map_error(s->file, (size_t)INT64_MAX + 1, PMEM_FILE_CREATE, EINVAL);
	assert_false(exists(s->file));
}

static void test_create_through_dangling_symlink_creates_its_target(void **state)
{
	struct scratch *s = *state;
	char *target = path_join(s->dir, "target");
	assert_int_equal(symlink(target, s->file), 0);
	void *addr = pmem_map_file(s->file, MIB, PMEM_FILE_CREATE, 0600, NULL, NULL);
	assert_non_null(addr);
	assert_int_equal(size_of(target), (off_t)MIB);
	assert_int_equal(pmem_unmap(addr, MIB), 0);
	free(target);
}

/* ---- flag and length rules ---------------------------------------------- */

static void test_unknown_flag_is_einval(void **state)
{
	struct scratch *s = *state;
	expect_map_error(s->file, MIB, PMEM_FILE_CREATE | (1 << 4), EINVAL);
	assert_false(exists(s->file));
}

static void test_nonzero_length_without_create_is_einval(void **state)
{
	struct scratch *s = *state;
	make_file(s->file, MIB);
	expect_map_error(s->file, MIB, 0, EINVAL);
	expect_map_error(s->file, MIB, PMEM_FILE_SPARSE, EINVAL);
}

static void test_zero_length_with_create_is_einval(void **state)
{
	struct scratch *s = *state;
	expect_map_error(s->file, 0, PMEM_FILE_CREATE, EINVAL);
	assert_false(exists(s->file));
}

static void test_tmpfile_without_create_is_einval(void **state)
{
	struct scratch *s = *state;
	expect_map_error(s->dir, 0, PMEM_FILE_TMPFILE, EINVAL);
}

static void test_error_message_names_the_rule(void **state)
{
	struct scratch *s = *state;
	expect_map_error(s->file, 0, PMEM_FILE_CREATE, EINVAL);
	const char *message = pmem_errormsg();
	if (strstr(message, "PMEM_FILE_CREATE") == NULL)
		fail_msg("expected pmem_errormsg() to name PMEM_FILE_CREATE, found \"%s\"",
			 message);
}

/* ---- opening existing files --------------------------------------------- */

static void test_open_existing_maps_whole_file(void **state)
{
	struct scratch *s = *state;
	make_file(s->file, 5 * MIB + 7);
	size_t mapped = 0;
	int is_pmem = -1;
	void *addr = pmem_map_file(s->file, 0, 0, 0, &mapped, &is_pmem);
	assert_non_null(addr);
	assert_int_equal(mapped, 5 * MIB + 7);
	assert_int_equal(is_pmem, 0);
	assert_int_equal(pmem_unmap(addr, mapped), 0);
}

static void test_excl_without_create_opens_existing_file(void **state)
{
	struct scratch *s = *state;
	make_file(s->file, MIB);
	size_t mapped = 0;
	void *addr = pmem_map_file(s->file, 0, PMEM_FILE_EXCL, 0, &mapped, NULL);
	assert_non_null(addr);
	assert_int_equal(mapped, MIB);
	assert_int_equal(pmem_unmap(addr, mapped), 0);
}

static void test_open_missing_file_is_enoent(void **state)
{
	struct scratch *s = *state;
	expect_map_error(s->file, 0, 0, ENOENT);
}

static void test_open_empty_file_is_einval(void **state)
{
	struct scratch *s = *state;
	make_file(s->file, 0);
	expect_map_error(s->file, 0, 0, EINVAL);
	assert_true(exists(s->file));
}

static void test_open_directory_is_eisdir(void **state)
{
	struct scratch *s = *state;
	expect_map_error(s->dir, 0, 0, EISDIR);
}

static void test_fifo_is_einval(void **state)
{
	struct scratch *s = *state;
	assert_int_equal(mkfifo(s->file, 0600), 0);
	expect_map_error(s->file, 0, 0, EINVAL);
}

static void test_char_device_that_is_not_devdax_is_einval(void **state)
{
	(void)state;
	expect_map_error("/dev/zero", 0, 0, EINVAL);
}

static void test_null_arguments_for_lengths_are_allowed(void **state)
{
	struct scratch *s = *state;
	void *addr = pmem_map_file(s->file, MIB, PMEM_FILE_CREATE, 0600, NULL, NULL);
	assert_non_null(addr);
	assert_int_equal(pmem_unmap(addr, MIB), 0);
}

/* ---- TMPFILE -------------------------------------------------------------- */

static void test_tmpfile_leaves_no_name_in_directory(void **state)
{
	struct scratch *s = *state;
	size_t mapped = 0;
	char *addr = pmem_map_file(s->dir, 2 * MIB, PMEM_FILE_CREATE | PMEM_FILE_TMPFILE, 0600,
				   &mapped, NULL);
	assert_non_null(addr);
	assert_int_equal(mapped, 2 * MIB);
	memset(addr, 0x5a, mapped); /* backed, writable */
	if (!dir_is_empty(s->dir))
		fail_msg("expected %s to stay empty after a TMPFILE mapping", s->dir);
	assert_int_equal(pmem_unmap(addr, mapped), 0);
}

static void test_tmpfile_excl_leaves_no_name_in_directory(void **state)
{
	struct scratch *s = *state;
	void *addr = pmem_map_file(
	    s->dir, MIB, PMEM_FILE_CREATE | PMEM_FILE_TMPFILE | PMEM_FILE_EXCL, 0600, NULL, NULL);
	assert_non_null(addr);
	assert_true(dir_is_empty(s->dir));
	assert_int_equal(pmem_unmap(addr, MIB), 0);
}

static void test_tmpfile_in_missing_directory_is_enoent(void **state)
{
	struct scratch *s = *state;
	char *missing = path_join(s->dir, "missing");
	expect_map_error(missing, MIB, PMEM_FILE_CREATE | PMEM_FILE_TMPFILE, ENOENT);
	free(missing);
}

/* ---- failures after creation unlink what was created -------------------- */

static void test_created_file_is_unlinked_when_fallocate_hits_enospc(void **state)
{
	struct scratch *s = *state;
	char *mount_point = path_join(s->dir, "small");
	make_dirs(mount_point);
	if (mount("pmem_map_test", mount_point, "tmpfs", 0, "size=1m") < 0) {
		free(mount_point);
		skip(); /* needs CAP_SYS_ADMIN */
	}
	s->mount_point = mount_point;
	char *file = path_join(mount_point, "file");
	expect_map_error(file, 4 * MIB, PMEM_FILE_CREATE, ENOSPC);
	if (exists(file))
		fail_msg("expected %s to be unlinked after ENOSPC, it exists", file);
	expect_map_error(file, 4 * MIB, PMEM_FILE_CREATE | PMEM_FILE_EXCL, ENOSPC);
	assert_false(exists(file));
	free(file);
}

/* RLIMIT_FSIZE makes ftruncate() fail with EFBIG (SIGXFSZ ignored). */
static void with_file_size_limit(rlim_t limit, void (*body)(struct scratch *), struct scratch *s)
{
	struct rlimit old, lowered;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lowered = old;
	lowered.rlim_cur = limit;
	void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lowered), 0);
	body(s);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);
}

static void create_beyond_limit(struct scratch *s)
{
	expect_map_error(s->file, 4 * MIB, PMEM_FILE_CREATE, EFBIG);
}

static void test_created_file_is_unlinked_when_ftruncate_fails(void **state)
{
	struct scratch *s = *state;
	with_file_size_limit(MIB, create_beyond_limit, s);
	if (exists(s->file))
		fail_msg("expected %s to be unlinked after EFBIG, it exists", s->file);
}

static void test_existing_file_is_kept_when_ftruncate_fails(void **state)
{
	struct scratch *s = *state;
	make_file(s->file, 4096);
	with_file_size_limit(MIB, create_beyond_limit, s);
	assert_true(exists(s->file));
}

/* ---- placement -------------------------------------------------------------- */

static void test_large_mapping_is_2mib_aligned(void **state)
{
	struct scratch *s = *state;
	void *addrs[8];
	size_t len = 6 * MIB;
	make_file(s->file, len);
	for (int i = 0; i < 8; i++) {
		addrs[i] = pmem_map_file(s->file, 0, 0, 0, NULL, NULL);
		assert_non_null(addrs[i]);
		if ((uintptr_t)addrs[i] % (2 * MIB) != 0)
			fail_msg("expected a 2 MiB aligned address for a %zu byte mapping, got %p",
				 len, addrs[i]);
	}
	for (int i = 0; i < 8; i++)
		assert_int_equal(pmem_unmap(addrs[i], len), 0);
}

/* A PROT_NONE private mapping ending at start or beginning at end: what a
 * reservation left untrimmed would look like in /proc/self/maps. */
static bool reservation_touches(uintptr_t start, uintptr_t end)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	assert_non_null(maps);
	char line[512];
	bool found = false;
	while (fgets(line, sizeof(line), maps) != NULL) {
		unsigned long low, high;
		char perms[8];
		if (sscanf(line, "%lx-%lx %7s", &low, &high, perms) != 3)
			continue;
		if (strcmp(perms, "---p") == 0 && (high == start || low == end))
			found = true;
	}
	fclose(maps);
	return found;
}

static void test_mapping_leaves_no_reservation_around_it(void **state)
{
	struct scratch *s = *state;
	size_t len = 4 * MIB + 4096;
	make_file(s->file, len);
	char *addr = pmem_map_file(s->file, 0, 0, 0, NULL, NULL);
	assert_non_null(addr);
	if (reservation_touches((uintptr_t)addr, (uintptr_t)addr + len))
		fail_msg("expected no PROT_NONE reservation next to the mapping %p + %zu", addr,
			 len);
	assert_int_equal(pmem_unmap(addr, len), 0);
}

static bool machine_has_nd_regions(void)
{
	DIR *dir = opendir("/sys/bus/nd/devices");
	if (dir == NULL)
		return false;
	bool found = false;
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL) {
		if (strstr(entry->d_name, "region") != NULL)
			found = true;
	}
	closedir(dir);
	return found;
}

/* ---- pmem_unmap, pmem_msync, deep calls --------------------------------------- */

static void test_unmap_rejects_unaligned_address_and_zero_length(void **state)
{
	struct scratch *s = *state;
	char *addr = pmem_map_file(s->file, MIB, PMEM_FILE_CREATE, 0600, NULL, NULL);
	assert_non_null(addr);
	errno = 0;
	assert_int_equal(pmem_unmap(addr + 1, 4096), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(pmem_unmap(addr, 0), -1);
	assert_int_equal(errno, EINVAL);
	addr[0] = 1; /* still mapped */
	assert_int_equal(pmem_unmap(addr, MIB), 0);
}

static void test_msync_accepts_unaligned_address(void **state)
{
	struct scratch *s = *state;
	char *addr = pmem_map_file(s->file, MIB, PMEM_FILE_CREATE, 0600, NULL, NULL);
	assert_non_null(addr);
	addr[4097] = 7;
	assert_int_equal(pmem_msync(addr + 4097, 1), 0);
	assert_int_equal(pmem_msync(addr + 100, MIB - 200), 0);
	assert_int_equal(pmem_msync(addr + MIB - 1, 1), 0);
	assert_int_equal(pmem_unmap(addr, MIB), 0);
}

static void test_msync_of_unmapped_memory_is_enomem(void **state)
{
	struct scratch *s = *state;
	char *addr = pmem_map_file(s->file, MIB, PMEM_FILE_CREATE, 0600, NULL, NULL);
	assert_non_null(addr);
	assert_int_equal(pmem_unmap(addr, MIB), 0);
	errno = 0;
	assert_int_equal(pmem_msync(addr + 10, 100), -1);
	assert_int_equal(errno, ENOMEM);
}

static void test_deep_calls_on_regular_file_succeed(void **state)
{
	struct scratch *s = *state;
	char *addr = pmem_map_file(s->file, 2 * MIB, PMEM_FILE_CREATE, 0600, NULL, NULL);
	assert_non_null(addr);
	memset(addr + 10, 1, 5000);
	pmem_deep_flush(addr + 10, 5000);
	assert_int_equal(pmem_deep_drain(addr + 10, 5000), 0);
	assert_int_equal(pmem_deep_persist(addr + 3, 2 * MIB - 3), 0);
	assert_int_equal(pmem_deep_drain(addr, 0), 0);
	assert_int_equal(pmem_unmap(addr, 2 * MIB), 0);
	errno = 0;
	assert_int_equal(pmem_deep_drain(addr, 4096), -1);
	assert_int_equal(errno, ENOMEM);
}

static void test_has_auto_flush_is_zero_without_nd_regions(void **state)
{
	(void)state;
	if (machine_has_nd_regions())
		skip(); /* this machine has nd regions: the answer depends on them */
	assert_int_equal(pmem_has_auto_flush(), 0);
}

/* ---- pmem_map(fd) ------------------------------------------------------------- */

static void test_pmem_map_fd_whole_file_and_prefix(void **state)
{
	struct scratch *s = *state;
	make_file(s->file, 3 * MIB);
	int fd = open(s->file, O_RDWR);
	assert_true(fd >= 0);

	char *whole = pmem_map(fd, 0);
	assert_non_null(whole);
	whole[3 * MIB - 1] = 'w';
	char *prefix = pmem_map(fd, 4096);
	assert_non_null(prefix);
	prefix[0] = 'p';
	assert_int_equal(pmem_is_pmem(whole, 3 * MIB), 0);

	char got[2];
	assert_int_equal(pread(fd, &got[0], 1, 0), 1);
	assert_int_equal(pread(fd, &got[1], 1, 3 * MIB - 1), 1);
	assert_int_equal(got[0], 'p');
	assert_int_equal(got[1], 'w');
	assert_int_equal(pmem_unmap(whole, 3 * MIB), 0);
	assert_int_equal(pmem_unmap(prefix, 4096), 0);
	close(fd);
}

static void test_pmem_map_fd_rejects_bad_lengths_and_fds(void **state)
{
	struct scratch *s = *state;
	make_file(s->file, MIB);
	int fd = open(s->file, O_RDWR);
	errno = 0;
	assert_null(pmem_map(fd, MIB + 1));
	assert_int_equal(errno, EINVAL);
	close(fd);

	errno = 0;
	assert_null(pmem_map(-1, 0));
	assert_int_equal(errno, EBADF);

	int dir_fd = open(s->dir, O_RDONLY | O_DIRECTORY);
	errno = 0;
	assert_null(pmem_map(dir_fd, 0));
	assert_int_equal(errno, EINVAL);
	close(dir_fd);

	make_file(s->file, 0);
	fd = open(s->file, O_RDWR);
	errno = 0;
	assert_null(pmem_map(fd, 0));
	assert_int_equal(errno, EINVAL);
	close(fd);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, scratch_setup, scratch_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_create_maps_requested_length_and_reports_it),
	    T(test_create_without_sparse_allocates_every_block),
	    T(test_create_sparse_leaves_blocks_unallocated),
	    T(test_create_uses_mode),
	    T(test_create_on_existing_file_sets_its_length),
	    T(test_create_excl_on_existing_file_is_eexist_and_keeps_it),
	    T(test_create_length_beyond_off_t_is_einval),
	    T(test_create_through_dangling_symlink_creates_its_target),
	    T(test_unknown_flag_is_einval),
	    T(test_nonzero_length_without_create_is_einval),
	    T(test_zero_length_with_create_is_einval),
	    T(test_tmpfile_without_create_is_einval),
	    T(test_error_message_names_the_rule),
	    T(test_open_existing_maps_whole_file),
	    T(test_excl_without_create_opens_existing_file),
	    T(test_open_missing_file_is_enoent),
	    T(test_open_empty_file_is_einval),
	    T(test_open_directory_is_eisdir),
	    T(test_fifo_is_einval),
	    T(test_char_device_that_is_not_devdax_is_einval),
	    T(test_null_arguments_for_lengths_are_allowed),
	    T(test_tmpfile_leaves_no_name_in_directory),
	    T(test_tmpfile_excl_leaves_no_name_in_directory),
	    T(test_tmpfile_in_missing_directory_is_enoent),
	    T(test_created_file_is_unlinked_when_fallocate_hits_enospc),
	    T(test_created_file_is_unlinked_when_ftruncate_fails),
	    T(test_existing_file_is_kept_when_ftruncate_fails),
	    T(test_large_mapping_is_2mib_aligned),
	    T(test_mapping_leaves_no_reservation_around_it),
	    T(test_unmap_rejects_unaligned_address_and_zero_length),
	    T(test_msync_accepts_unaligned_address),
	    T(test_msync_of_unmapped_memory_is_enomem),
	    T(test_deep_calls_on_regular_file_succeed),
	    T(test_has_auto_flush_is_zero_without_nd_regions),
	    T(test_pmem_map_fd_whole_file_and_prefix),
	    T(test_pmem_map_fd_rejects_bad_lengths_and_fds),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
