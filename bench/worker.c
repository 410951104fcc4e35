/*
 * worker.c - one benchmark round in one process: maps a file with
 * pmem_map_file, times each case through the libpmem.so.1 the loader
 * chose for this process (PMDK's or ours), times the raw non-temporal
 * loops over the same memory, and prints the figures for the driver.
 *
 * Method: the destination advances by the operation size rounded up to a
 * cache line and wraps within a window (BENCH_SMALL_WINDOW below 2 MiB,
 * BENCH_WINDOW from 2 MiB up) and keeps advancing from one batch to the
 * next; the source is one DRAM buffer.  Each case runs an untimed warm-up
 * that also estimates its speed, then timed batches of about 1 ms each
 * (see BENCH_BATCH_NS), alternating with the raw loop's batches from 2 MiB
 * up, and reports the fastest batch's ns per operation.
 */
#include "pin_cpu.h"
#include "pmembench.h"

#include <errno.h>
#include <libpmem.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static const size_t Sizes[] = {64, 256, 4096, 65536, 2ul << 20, 32ul << 20};
#define NSIZES (sizeof(Sizes) / sizeof(Sizes[0]))

static void size_name(char *buf, size_t len, size_t size)
{
	if (size >= (1ul << 20))
		snprintf(buf, len, "%zuMiB", size >> 20);
	else if (size >= 1024)
		snprintf(buf, len, "%zuKiB", size >> 10);
	else
		snprintf(buf, len, "%zuB", size);
}

static int add_case(struct bench_case *cases, int n, int max, const char *only, enum bench_op op,
		    size_t size, const char *name)
{
	if (n >= max || (only && only[0] && !strstr(name, only)))
		return n;
	cases[n].op = op;
	cases[n].size = size;
	snprintf(cases[n].name, sizeof(cases[n].name), "%s", name);
	return n + 1;
}

int bench_cases(struct bench_case *cases, int max, const char *only)
{
	char size[24], name[64];
	int n = 0;

	for (int op = BENCH_MEMCPY; op <= BENCH_MEMSET; op++) {
		for (size_t i = 0; i < NSIZES; i++) {
			size_name(size, sizeof(size), Sizes[i]);
			snprintf(name, sizeof(name), "%s_%s",
				 op == BENCH_MEMCPY ? "memcpy_persist" : "memset_persist", size);
			n = add_case(cases, n, max, only, (enum bench_op)op, Sizes[i], name);
		}
	}
	return add_case(cases, n, max, only, BENCH_STORE8, 8, "store8_persist");
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static size_t stride_of(size_t size)
{
	return (size + 63) & ~(size_t)63;
}

struct target {
	char *base; /* the pmem_map_file'd window */
	const char *src;
	size_t size;
	size_t stride;
	size_t slots;
};

static void run_op(const struct target *t, enum bench_op op, size_t from, size_t reps)
{
	for (size_t i = from; i < from + reps; i++) {
		char *dst = t->base + (i % t->slots) * t->stride;

		switch (op) {
		case BENCH_MEMCPY:
			pmem_memcpy_persist(dst, t->src, t->size);
			break;
		case BENCH_MEMSET:
			pmem_memset_persist(dst, (int)(i & 0xff), t->size);
			break;
		case BENCH_STORE8:
			*(volatile uint64_t *)dst = i;
			pmem_persist(dst, sizeof(uint64_t));
			break;
		}
	}
}

static void run_raw(const struct target *t, enum bench_op op, size_t from, size_t reps)
{
	for (size_t i = from; i < from + reps; i++) {
		char *dst = t->base + (i % t->slots) * t->stride;

		if (op == BENCH_MEMCPY)
			raw_memcpy_nt(dst, t->src, t->size);
		else
			raw_memset_nt(dst, (int)(i & 0xff), t->size);
	}
}

static void run_batch(const struct target *t, enum bench_op op, size_t from, size_t reps, bool raw)
{
	if (raw)
		run_raw(t, op, from, reps);
	else
		run_op(t, op, from, reps);
}

static size_t clamp(double value, size_t low, size_t high)
{
	if (value < (double)low)
		return low;
	if (value > (double)high)
		return high;
	return (size_t)value;
}

/* Times one batch of reps operations from index at; ns per operation. */
static double time_batch(const struct target *t, enum bench_op op, size_t at, size_t reps, bool raw)
{
	double start = now_ns();

	run_batch(t, op, at, reps, raw);
	return (now_ns() - start) / (double)reps;
}

/*
 * ns per operation of one case through the library and, when raw_ns is
 * not NULL, of the raw loop over the same memory: the fastest of each's
 * timed batches.  Library and raw batches alternate, each going first in
 * every other pair, because measuring one after the other favoured the
 * second by some 5 % at 2 MiB.
 */
static void time_case(const struct target *t, enum bench_op op, double ms_per_case, double *lib_ns,
		      double *raw_ns)
{
	size_t warm = clamp((double)BENCH_WARMUP_BYTES / (double)t->stride, 1, SIZE_MAX);
	size_t at = 0, reps, batches;
	double estimate;

	estimate = time_batch(t, op, at, warm, false);
	at += warm;
	if (raw_ns) {
		time_batch(t, op, at, warm, true);
		at += warm;
	}
	reps = clamp(BENCH_BATCH_NS / estimate, 1, SIZE_MAX);
	batches = clamp(ms_per_case * 1e6 / ((double)reps * estimate), BENCH_MIN_BATCHES,
			BENCH_MAX_BATCHES);
	for (size_t b = 0; b < batches; b++) {
		for (int k = 0; k < (raw_ns ? 2 : 1); k++, at += reps) {
			bool raw = raw_ns && (k ^ (int)(b & 1));
			double ns = time_batch(t, op, at, reps, raw);
			double *best = raw ? raw_ns : lib_ns;

			if (b == 0 || ns < *best)
				*best = ns;
		}
	}
}

static char *map_window(const char *dir, char *path, size_t path_len)
{
	size_t mapped_len;
	int is_pmem;
	char *base;

	snprintf(path, path_len, "%s/pmembench.%ld", dir, (long)getpid());
	base = pmem_map_file(path, BENCH_WINDOW, PMEM_FILE_CREATE | PMEM_FILE_EXCL, 0600,
			     &mapped_len, &is_pmem);
	if (!base) {
		fprintf(stderr, "pmem_bench: pmem_map_file %s: %s\n", path, pmem_errormsg());
		return NULL;
	}
	unlink(path);
	if (mapped_len != BENCH_WINDOW || !is_pmem) {
		fprintf(stderr,
			"pmem_bench: pmem_map_file %s: expected %lu bytes of pmem "
			"(PMEM_IS_PMEM_FORCE=1), found %zu bytes, is_pmem %d\n",
			path, BENCH_WINDOW, mapped_len, is_pmem);
		pmem_unmap(base, mapped_len);
		return NULL;
	}
	/* fault every page in now, so no case pays for page allocation */
	memset(base, 0, BENCH_WINDOW);
	return base;
}

/* The DRAM source, on huge pages where the kernel grants them: with 4 KiB
 * pages, where the 32 MiB source happened to land made the large copies of
 * one library differ by up to 2x from one process to the next. */
static char *alloc_source(void)
{
	size_t huge = 2ul << 20;
	char *map = mmap(NULL, BENCH_MAX_SIZE + huge, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *src;

	if (map == MAP_FAILED)
		return NULL;
	src = (char *)(((uintptr_t)map + huge - 1) & ~(uintptr_t)(huge - 1));
	madvise(src, BENCH_MAX_SIZE, MADV_HUGEPAGE);
	for (size_t i = 0; i < BENCH_MAX_SIZE; i++)
		src[i] = (char)(i * 7);
	return src;
}

int bench_worker(const char *dir, double ms_per_case, const char *only)
{
	struct bench_case cases[32];
	int ncases = bench_cases(cases, 32, only);
	char lib[PATH_MAX], path[PATH_MAX];
	char *src, *base;

	if (mapped_libpmem_path(lib, sizeof(lib)) != 0) {
		fprintf(stderr, "pmem_bench: /proc/self/maps: no libpmem.so mapped\n");
		return 1;
	}
	bench_pin_to_one_cpu();
	src = alloc_source();
	if (!src) {
		fprintf(stderr, "pmem_bench: source buffer: %s\n", strerror(errno));
		return 1;
	}
	base = map_window(dir, path, sizeof(path));
	if (!base) {
		return 1;
	}
	printf("lib %s\n", lib);
	for (int c = 0; c < ncases; c++) {
		size_t stride = cases[c].op == BENCH_STORE8 ? 64 : stride_of(cases[c].size);
		size_t window =
		    cases[c].size >= BENCH_RAW_MIN_SIZE ? BENCH_WINDOW : BENCH_SMALL_WINDOW;
		struct target t = {
		    .base = base,
		    .src = src,
		    .size = cases[c].size,
		    .stride = stride,
		    .slots = window / stride,
		};

		bool with_raw =
		    cases[c].op != BENCH_STORE8 && cases[c].size >= BENCH_RAW_MIN_SIZE && raw_isa();
		double lib_ns = 0, raw_ns = 0;

		time_case(&t, cases[c].op, ms_per_case, &lib_ns, with_raw ? &raw_ns : NULL);
		printf("case %s %.3f\n", cases[c].name, lib_ns);
		if (with_raw)
			printf("raw %s %.3f\n", cases[c].name, raw_ns);
		fflush(stdout);
	}
	pmem_unmap(base, BENCH_WINDOW);
	return 0;
}
