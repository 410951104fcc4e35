/*
 * pmem_ab.c - in-process A/B of libpmem builds, for tuning the copy paths.
 *
 * pmem_bench runs each library in its own process, as a user would, and
 * so sees what differs between one process and the next too: PMDK's
 * library run against a copy of itself came out at 0.977 (64 KiB) and
 * 1.025 (2 MiB).  That is as large as the changes worth making in the copy loops,
 * so those are compared here instead: every library given on
 * the command line is loaded into its own link namespace (dlmopen), and
 * their batches alternate, rotating who goes first, over the same
 * destination pages and the same source.  The destination is a /dev/shm
 * file mapped MAP_SHARED (4 KiB pages, as pmem_bench's), the source a
 * 32 MiB buffer on huge pages; windows as in pmem_bench (512 KiB below
 * 2 MiB, 128 MiB from 2 MiB up).  Printed per library: the fastest batch
 * and the 10th percentile of batches, in ns per operation, and each as a
 * ratio to the first library's.
 *
 * Not the benchmark of record (bench/README.md's table is pmem_bench's):
 * it calls pmem_memcpy_persist/pmem_memset_persist straight through
 * dlsym, so any library (or a file of raw loops exporting those two
 * names) can be compared.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "pin_cpu.h"

#define MAX_LIBS 8
#define MAX_SIZES 16
#define MAX_BATCHES 20000
#define WINDOW (128ul << 20)
#define SMALL_WINDOW (512ul << 10)
#define SOURCE (32ul << 20)
#define HUGE (2ul << 20)

typedef void *(*copy_fn)(void *, const void *, size_t);
typedef void *(*fill_fn)(void *, int, size_t);

struct lib {
	const char *path;
	copy_fn copy;
	fill_fn fill;
	double ns[MAX_BATCHES];
};

static struct lib Libs[MAX_LIBS];
static int Nlibs;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int load(struct lib *lib, const char *path)
{
	void *handle = dlmopen(LM_ID_NEWLM, path, RTLD_NOW | RTLD_LOCAL);

	if (!handle) {
		fprintf(stderr, "pmem_ab: load %s: %s\n", path, dlerror());
		return -1;
	}
	lib->path = path;
	lib->copy = (copy_fn)dlsym(handle, "pmem_memcpy_persist");
	lib->fill = (fill_fn)dlsym(handle, "pmem_memset_persist");
	if (!lib->copy || !lib->fill) {
		fprintf(stderr, "pmem_ab: %s: no pmem_memcpy_persist or pmem_memset_persist\n",
			path);
		return -1;
	}
	return 0;
}

static char *map_destination(void)
{
	char path[64];
	char *base;
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/pmem_ab.%ld", (long)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		fprintf(stderr, "pmem_ab: create %s: %s\n", path, strerror(errno));
		return NULL;
	}
	unlink(path);
	if (ftruncate(fd, (off_t)WINDOW) != 0) {
		fprintf(stderr, "pmem_ab: ftruncate %s: %s\n", path, strerror(errno));
		close(fd);
		return NULL;
	}
	base = mmap(NULL, WINDOW, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED) {
		fprintf(stderr, "pmem_ab: mmap %s: %s\n", path, strerror(errno));
		return NULL;
	}
	memset(base, 0, WINDOW);
	return base;
}

static char *alloc_source(void)
{
	char *map =
	    mmap(NULL, SOURCE + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *src;

	if (map == MAP_FAILED) {
		fprintf(stderr, "pmem_ab: mmap source: %s\n", strerror(errno));
		return NULL;
	}
	src = (char *)(((uintptr_t)map + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
	madvise(src, SOURCE, MADV_HUGEPAGE);
	for (size_t i = 0; i < SOURCE; i++)
		src[i] = (char)(i * 7);
	return src;
}

/* One case: batches of about 1 ms (one operation from 32 MiB up). */
static void run_case(char op, size_t size, int batches, char *base, const char *src)
{
	size_t window = size >= (2ul << 20) ? WINDOW : SMALL_WINDOW;
	size_t stride = (size + 63) & ~(size_t)63, slots = window / stride;
	size_t reps = size >= (32ul << 20)  ? 1
		      : size >= (2ul << 20) ? 20
					    : 1000000 / (size / 40 + 100);
	size_t at = 0;

	for (int b = -3; b < batches; b++) { /* 3 untimed rounds first */
		for (int k = 0; k < Nlibs; k++) {
			struct lib *lib = &Libs[(k + b + 3) % Nlibs];
			double start = now_ns();

			for (size_t r = 0; r < reps; r++, at++) {
				char *dst = base + (at % slots) * stride;

				if (op == 'c')
					lib->copy(dst, src, size);
				else
					lib->fill(dst, (int)(at & 0xff), size);
			}
			if (b >= 0)
				lib->ns[b] = (now_ns() - start) / (double)reps;
		}
	}
	printf("%s %zu\n", op == 'c' ? "memcpy_persist" : "memset_persist", size);
	double min0 = 0, p10_0 = 0;
	for (int l = 0; l < Nlibs; l++) {
		struct lib *lib = &Libs[l];

		qsort(lib->ns, (size_t)batches, sizeof(double), compare_double);
		double min = lib->ns[0], p10 = lib->ns[batches / 10];
		if (l == 0) {
			min0 = min;
			p10_0 = p10;
		}
		printf("  min %12.1f (%.3f)  p10 %12.1f (%.3f)  %s\n", min, min / min0, p10,
		       p10 / p10_0, lib->path);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	size_t sizes[MAX_SIZES] = {65536, 2ul << 20, 32ul << 20};
	int nsizes = 3, batches;
	const char *ops;
	char *base, *src;

	if (argc < 4 || argc - 3 > MAX_LIBS) {
		fprintf(stderr,
			"usage: pmem_ab BATCHES OPS LIB... (OPS: c memcpy, s memset; at most %d "
			"libraries)\n"
			"  SIZES=64K,2M,... chooses the sizes (default 64K,2M,32M)\n"
			"  e.g. pmem_ab 200 cs /usr/lib/x86_64-linux-gnu/libpmem.so.1 "
			"build/libpmem/libpmem.so.1\n",
			MAX_LIBS);
		return 2;
	}
	batches = atoi(argv[1]);
	ops = argv[2];
	if (batches < 1 || batches > MAX_BATCHES || strspn(ops, "cs") != strlen(ops)) {
		fprintf(stderr, "pmem_ab: BATCHES must be 1..%d and OPS made of c and s\n",
			MAX_BATCHES);
		return 2;
	}
	const char *list = getenv("SIZES");
	if (list && *list) {
		nsizes = 0;
		for (const char *p = list; *p && nsizes < MAX_SIZES;) {
			char *end;
			size_t size = strtoul(p, &end, 0);

			if (*end == 'K' || *end == 'k')
				size <<= 10, end++;
			else if (*end == 'M' || *end == 'm')
				size <<= 20, end++;
			if (size == 0 || size > SOURCE || (*end && *end != ',')) {
				fprintf(stderr,
					"pmem_ab: SIZES=%s: sizes 1..32M, comma-separated\n", list);
				return 2;
			}
			sizes[nsizes++] = size;
			p = *end ? end + 1 : end;
		}
	}
	for (int i = 3; i < argc; i++)
		if (load(&Libs[Nlibs++], argv[i]) != 0)
			return 1;
	bench_pin_to_one_cpu();
	base = map_destination();
	src = alloc_source();
	if (!base || !src)
		return 1;
	for (const char *op = ops; *op; op++)
		for (int s = 0; s < nsizes; s++)
			run_case(*op, sizes[s], batches, base, src);
	return 0;
}
