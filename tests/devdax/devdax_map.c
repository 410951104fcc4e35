/*
 * devdax_map.c - runs inside the devdax VM, linked with the project's
 * libpmem.so.1: checks pmem_map_file() on a device-DAX character device.
 *
 *   devdax_map map DEVICE ALIGN SIZE SEED   map, check, write a pattern
 *                                           persistently, unmap, map again
 *                                           and read it back
 *   devdax_map verify DEVICE ALIGN SEED     the pattern is there (a later boot)
 *   devdax_map autoflush EXPECTED           pmem_has_auto_flush() == EXPECTED
 *
 * Each check prints "PASS: ..." or "FAIL: ...: expected X, got Y"; the exit
 * status is the number of failures.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpmem.h>

#define REC 64 /* bytes of pattern written at each probe offset */
#define PROBES 5

static int failures;

static void check(int ok, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void check(int ok, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("PASS: %s\n", what);
		return;
	}
	printf("FAIL: %s: ", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	failures++;
}

/* The pattern byte i of the record at offset off: seed and place dependent. */
static uint8_t pattern(uint64_t seed, size_t off, size_t i)
{
	uint64_t x = seed ^ (off * 0x9e3779b97f4a7c15ull) ^ (i * 0xbf58476d1ce4e5b9ull);

	x ^= x >> 31;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 29;
	return (uint8_t)x;
}

/*
 * Probe offsets: the start, the second alignment unit, the middle, inside
 * the last unit and the very end: the whole device is mapped, not a prefix.
 * The device is many alignment units long (a 1 GiB NVDIMM).
 */
static void probe_offsets(size_t len, size_t align, size_t off[PROBES])
{
	off[0] = 0;
	off[1] = align < len ? align : len / 2;
	off[2] = (len / 2) & ~(size_t)(REC - 1);
	off[3] = len - align + 128;
	off[4] = len - REC;
}

static void *map_device(const char *dev, size_t *len, int *is_pmem)
{
	void *addr = pmem_map_file(dev, 0, 0, 0, len, is_pmem);

	if (addr == NULL) {
		printf("FAIL: pmem_map_file(%s, len 0): expected a mapping, got NULL: %s (%s)\n",
		       dev, strerror(errno), pmem_errormsg());
		exit(failures + 1);
	}
	return addr;
}

static void write_pattern(char *addr, size_t len, size_t align, uint64_t seed)
{
	size_t off[PROBES];
	uint8_t rec[REC];
	int p;

	probe_offsets(len, align, off);
	for (p = 0; p < PROBES; p++) {
		for (size_t i = 0; i < REC; i++)
			rec[i] = pattern(seed, off[p], i);
		/* Both persistence paths: the copy routine and stores + persist. */
		if (p % 2 == 0) {
			pmem_memcpy_persist(addr + off[p], rec, REC);
		} else {
			memcpy(addr + off[p], rec, REC);
			pmem_persist(addr + off[p], REC);
		}
	}
}

/* Returns the number of probe records that differ from the pattern. */
static int read_pattern(const char *addr, size_t len, size_t align, uint64_t seed)
{
	size_t off[PROBES];
	int p, bad = 0;

	probe_offsets(len, align, off);
	for (p = 0; p < PROBES; p++) {
		for (size_t i = 0; i < REC; i++) {
			if ((uint8_t)addr[off[p] + i] != pattern(seed, off[p], i)) {
				printf("NOTE: byte %zu of the record at offset %zu: expected "
				       "0x%02x, got 0x%02x\n",
				       i, off[p], pattern(seed, off[p], i),
				       (uint8_t)addr[off[p] + i]);
				bad++;
				break;
			}
		}
	}
	return bad;
}

static int cmd_map(const char *dev, size_t align, size_t size, uint64_t seed)
{
	size_t len = 0;
	int is_pmem = -1, bad;
	char *addr = map_device(dev, &len, &is_pmem);

	printf("NOTE: pmem_map_file(%s) = %p, mapped_len %zu, is_pmem %d\n", dev, (void *)addr, len,
	       is_pmem);
	check(len == size, "mapped_len is the device size", "expected %zu, got %zu", size, len);
	check((uintptr_t)addr % align == 0, "mapping address is aligned to the namespace alignment",
	      "expected a multiple of %zu, got %p (remainder %zu)", align, (void *)addr,
	      (size_t)((uintptr_t)addr % align));
	check(len % align == 0, "mapped_len is a multiple of the namespace alignment",
	      "expected a multiple of %zu, got %zu", align, len);
	check(is_pmem == 1, "is_pmem of a devdax mapping", "expected 1, got %d", is_pmem);
	check(pmem_is_pmem(addr + len / 2, 4096) == 1, "pmem_is_pmem inside the devdax mapping",
	      "expected 1, got 0");
	check(pmem_deep_persist(addr, 4096) == 0, "pmem_deep_persist on the devdax mapping",
	      "expected 0, got -1 (%s)", strerror(errno));
	check(pmem_msync(addr + 100, 5000) == 0, "pmem_msync on the devdax mapping",
	      "expected 0 (persisted as pmem: device DAX has no fsync), got -1 (%s)",
	      pmem_errormsg());

	write_pattern(addr, len, align, seed);
	bad = read_pattern(addr, len, align, seed);
	check(bad == 0, "pattern reads back through the same mapping",
	      "expected 0 bad records, got %d", bad);
	check(pmem_unmap(addr, len) == 0, "pmem_unmap", "expected 0, got -1 (%s)", strerror(errno));

	/* A second, independent mapping sees what the first persisted. */
	addr = map_device(dev, &len, &is_pmem);
	bad = read_pattern(addr, len, align, seed);
	check(bad == 0, "persisted pattern reads back through a new mapping",
	      "expected 0 bad records, got %d", bad);
	pmem_unmap(addr, len);
	return failures;
}

static int cmd_verify(const char *dev, size_t align, uint64_t seed)
{
	size_t len = 0;
	int is_pmem = -1, bad;
	char *addr = map_device(dev, &len, &is_pmem);

	bad = read_pattern(addr, len, align, seed);
	check(bad == 0, "pattern written and persisted in the previous boot reads back",
	      "expected 0 bad records, got %d", bad);
	pmem_unmap(addr, len);
	return failures;
}

static int cmd_autoflush(int expected)
{
	int got = pmem_has_auto_flush();

	check(got == expected, "pmem_has_auto_flush follows the region's persistence domain",
	      "expected %d, got %d", expected, got);
	return failures;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 6 && strcmp(argv[1], "map") == 0)
		return cmd_map(argv[2], strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0),
			       strtoull(argv[5], NULL, 0));
	if (argc == 5 && strcmp(argv[1], "verify") == 0)
		return cmd_verify(argv[2], strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0));
	if (argc == 3 && strcmp(argv[1], "autoflush") == 0)
		return cmd_autoflush(atoi(argv[2]));
	fprintf(stderr, "usage: devdax_map map DEVICE ALIGN SIZE SEED | verify DEVICE ALIGN SEED |"
			" autoflush EXPECTED\n");
	return 2;
}
