/*
 * api_diff.c - one run of libpmem's public API through edge cases, printing
 * one line of observable results (return value, errno, lengths, is_pmem,
 * bytes) per case.  api_diff.sh runs it on PMDK's libpmem.so.1 and on
 * ours and requires the same lines: the drop-in promise at the level of
 * individual calls, not only through libpmemobj.  Built against PMDK's
 * <libpmem.h> and linked with the system -lpmem, like a PMDK program.
 */
#include <errno.h>
#include <fcntl.h>
#include <libpmem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dropin_check.h"

static char Dir[4096];

static const char *path_of(const char *name)
{
	static char path[8192];

	snprintf(path, sizeof(path), "%s/%s", Dir, name);
	return path;
}

/* Maps, prints what came back, unmaps. */
static void map_case(const char *label, const char *name, size_t len, int flags)
{
	size_t mapped_len = 0;
	int is_pmem = -1;
	void *addr;

	errno = 0;
	addr = pmem_map_file(path_of(name), len, flags, 0600, &mapped_len, &is_pmem);
	if (!addr) {
		printf("%s: NULL errno=%s\n", label, strerrorname_np(errno));
		return;
	}
	printf("%s: mapped len=%zu is_pmem=%d\n", label, mapped_len, is_pmem);
	pmem_unmap(addr, mapped_len);
}

static void file_case(const char *label, const char *name)
{
	struct stat st;

	if (stat(path_of(name), &st) != 0)
		printf("%s: no file (%s)\n", label, strerrorname_np(errno));
	else
		printf("%s: size=%lld\n", label, (long long)st.st_size);
}

static void mapping_cases(void)
{
	int fd;

	map_case("create 4096", "a", 4096, PMEM_FILE_CREATE);
	file_case("after create", "a");
	map_case("open existing, len 0", "a", 0, 0);
	map_case("len without CREATE", "a", 4096, 0);
	map_case("CREATE with len 0", "b", 0, PMEM_FILE_CREATE);
	map_case("CREATE|EXCL on existing", "a", 4096, PMEM_FILE_CREATE | PMEM_FILE_EXCL);
	map_case("absent without CREATE", "absent", 0, 0);
	map_case("TMPFILE without CREATE", ".", 0, PMEM_FILE_TMPFILE);
	map_case("CREATE|TMPFILE in dir", ".", 8192, PMEM_FILE_CREATE | PMEM_FILE_TMPFILE);
	map_case("unknown flag", "a", 0, 1 << 10);
	map_case("CREATE resizes existing", "a", 3 * 4096, PMEM_FILE_CREATE);
	file_case("after resize", "a");
	map_case("CREATE|SPARSE", "sparse", 1 << 20, PMEM_FILE_CREATE | PMEM_FILE_SPARSE);
	file_case("after sparse", "sparse");
	fd = open(path_of("empty"), O_CREAT | O_RDWR, 0600);
	if (fd >= 0)
		close(fd);
	map_case("empty file, len 0", "empty", 0, 0);
	map_case("odd length 5000", "odd", 5000, PMEM_FILE_CREATE);
	map_case("EXCL without CREATE", "a", 0, PMEM_FILE_EXCL);
	map_case("SPARSE without CREATE", "a", 0, PMEM_FILE_SPARSE);
	map_case("CREATE|EXCL|TMPFILE in dir", ".", 4096,
		 PMEM_FILE_CREATE | PMEM_FILE_EXCL | PMEM_FILE_TMPFILE);
	map_case("TMPFILE on a file", "a", 4096, PMEM_FILE_CREATE | PMEM_FILE_TMPFILE);
	map_case("CREATE with len beyond off_t", "huge", (size_t)-1, PMEM_FILE_CREATE);
	map_case("directory without TMPFILE", ".", 0, 0);
	map_case("CREATE in absent directory", "nodir/x", 4096, PMEM_FILE_CREATE);
	map_case("/dev/null", "../../../../../../../../dev/null", 0, 0);
}

static void bytes_case(const char *label, const unsigned char *p, size_t len)
{
	unsigned long sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = sum * 31 + p[i];
	printf("%s: checksum=%lx\n", label, sum);
}

/* Copies and fills of awkward sizes and offsets, each checked by checksum.
 * The largest case writes 4 * 70000 + 63 + 32 bytes, inside WORK. */
#define WORK (1 << 19)
static void copy_cases(void)
{
	static const size_t sizes[] = {0, 1, 7, 8, 63, 64, 65, 255, 256, 257, 4095, 4096, 70000};
	static const size_t offsets[] = {0, 1, 8, 63};
	unsigned char *src = malloc(WORK);
	size_t mapped_len;
	int is_pmem;
	unsigned char *dst =
	    pmem_map_file(path_of("copy"), WORK, PMEM_FILE_CREATE, 0600, &mapped_len, &is_pmem);
	char label[128];

	if (!src || !dst) {
		printf("copy setup failed\n");
		free(src);
		return;
	}
	for (size_t i = 0; i < WORK; i++)
		src[i] = (unsigned char)(i * 13 + 5);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (size_t o = 0; o < sizeof(offsets) / sizeof(offsets[0]); o++) {
			size_t len = sizes[s], off = offsets[o];

			memset(dst, 0xee, WORK);
			pmem_memcpy_persist(dst + off, src + 3, len);
			pmem_memset_nodrain(dst + off + len, 0x5a, len / 2);
			pmem_drain();
			pmem_memmove_persist(dst + off + 5, dst + off, len);
			pmem_memcpy(dst + off + 2 * len + 16, src, len,
				    PMEM_F_MEM_NONTEMPORAL | PMEM_F_MEM_NODRAIN);
			pmem_memset(dst + off + 3 * len + 32, 0x11, len, PMEM_F_MEM_WB);
			pmem_persist(dst, WORK);
			snprintf(label, sizeof(label), "copies len=%zu off=%zu", len, off);
			bytes_case(label, dst, WORK);
		}
	}
	pmem_unmap(dst, mapped_len);
	free(src);
}

static void query_cases(void)
{
	size_t mapped_len;
	int is_pmem, ret;
	char *heap = malloc(4096);
	char *addr =
	    pmem_map_file(path_of("q"), 1 << 16, PMEM_FILE_CREATE, 0600, &mapped_len, &is_pmem);

	printf("is_pmem(heap)=%d\n", pmem_is_pmem(heap, 4096));
	printf("has_hw_drain=%d\n", pmem_has_hw_drain());
	printf("check_version(1,0)=%s\n", pmem_check_version(1, 0) ? "message" : "NULL");
	printf("check_version(1,1)=%s\n", pmem_check_version(1, 1) ? "message" : "NULL");
	printf("check_version(2,0)=%s\n", pmem_check_version(2, 0) ? "message" : "NULL");
	printf("check_version(0,0)=%s\n", pmem_check_version(0, 0) ? "message" : "NULL");
	if (!addr) {
		printf("query map failed\n");
		free(heap);
		return;
	}
	printf("is_pmem(map)=%d is_pmem(map, 0)=%d\n", pmem_is_pmem(addr, mapped_len),
	       pmem_is_pmem(addr, 0));
	errno = 0;
	ret = pmem_msync(addr + 100, 10);
	printf("msync(unaligned)=%d errno=%s\n", ret, strerrorname_np(errno));
	errno = 0;
	ret = pmem_deep_persist(addr, 4096);
	printf("deep_persist=%d\n", ret);
	ret = pmem_deep_drain(addr, 4096);
	printf("deep_drain=%d\n", ret);
	errno = 0;
	ret = pmem_unmap(addr + 1, 4096);
	printf("unmap(unaligned)=%d errno=%s\n", ret, strerrorname_np(errno));
	errno = 0;
	ret = pmem_unmap(addr, 0);
	printf("unmap(len 0)=%d errno=%s\n", ret, strerrorname_np(errno));
	ret = pmem_unmap(addr, mapped_len);
	printf("unmap=%d\n", ret);
	free(heap);
}

int main(int argc, char **argv)
{
	char lib[4096];

	if (argc != 2 || strcmp(argv[1], "--help") == 0) {
		fprintf(argc == 2 ? stdout : stderr,
			"usage: pmem_dropin_api_diff DIR\n"
			"Prints libpmem's observable results for edge cases, for "
			"api_diff.sh to compare between PMDK's library and ours.\n");
		return argc == 2 ? 0 : 2;
	}
	snprintf(Dir, sizeof(Dir), "%s", argv[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (dropin_mapped_libpmem(lib, sizeof(lib)) != 0) {
		fprintf(stderr, "pmem_dropin_api_diff: /proc/self/maps: no libpmem.so mapped\n");
		return 1;
	}
	/* the only line that may differ between the two libraries */
	printf("lib: %s\n", lib);
	mapping_cases();
	copy_cases();
	query_cases();
	return 0;
}
