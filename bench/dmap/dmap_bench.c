/*
 * dmap_bench - persistent updates at random offsets of a large file, three
 * ways in one run (bench/dmap/README.md):
 *   (a) direct  pmem_map_file on a pmemfs file (direct map) + pmem_memcpy_persist
 *   (b) fuse    pwrite + fdatasync on the same file through the mount
 *   (c) raw     pmem_memcpy_persist into a raw MAP_SHARED mapping of a file in
 *               the same tmpfs as the emulated device: the physical limit
 * Every way does the same offsets (one seeded sequence) for each update size.
 * ROUNDS rounds rotate the order of the three ways (drift and neighbours'
 * load hit all alike); the table shows the median round of each cell.
 *
 *   dmap_bench PMEMFS_FILE RAW_FILE [SIZE_MiB] [SECONDS_PER_CELL] [ROUNDS]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "libpmem.h"

enum way { DIRECT, FUSE, RAW, NWAYS };
static const char *const Way_name[NWAYS] = {"(a) direct map", "(b) pwrite+fdatasync",
					    "(c) raw mapping"};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct target {
	char *map; /* DIRECT, RAW */
	int fd;	   /* FUSE */
	size_t len;
};

/* Updates of 'size' bytes at random size-aligned offsets for about
 * 'secs' seconds; returns updates per second. */
static double run(enum way w, const struct target *t, size_t size, double secs, uint64_t *ops)
{
	static char buf[4096];
	uint64_t seed = 0x9E3779B97F4A7C15ULL, n = 0, slots = t->len / size;
	double start = now(), end = start;

	memset(buf, 0x5a, sizeof(buf));
	while (end - start < secs) {
		for (int i = 0; i < 64; i++, n++) {
			size_t off = (size_t)(next(&seed) % slots) * size;

			buf[0] = (char)n;
			if (w == FUSE) {
				if (pwrite(t->fd, buf, size, (off_t)off) != (ssize_t)size ||
				    fdatasync(t->fd) != 0) {
					perror("pwrite/fdatasync");
					exit(1);
				}
			} else {
				pmem_memcpy_persist(t->map + off, buf, size);
			}
		}
		end = now();
	}
	*ops = n;
	return (double)n / (end - start);
}

static char *map_raw(const char *path, size_t len)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	char *p;

	if (fd < 0 || posix_fallocate(fd, 0, (off_t)len) != 0) {
		perror(path);
		exit(1);
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		perror("mmap raw");
		exit(1);
	}
	return p;
}

/* Is the mapping at p backed by 'path' itself (a FUSE mapping)? */
static int backed_by(const void *p, const char *path)
{
	char line[4096], real[4096];
	FILE *f = fopen("/proc/self/maps", "r");
	int yes = 0;

	if (!f || !realpath(path, real))
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && (uintptr_t)p >= lo &&
		    (uintptr_t)p < hi) {
			line[strcspn(line, "\n")] = '\0';
			yes = strstr(line, real) != NULL;
			break;
		}
	}
	fclose(f);
	return yes;
}

#define MAX_ROUNDS 31

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = {4096, 64};
	double rate[2][NWAYS], samples[2][NWAYS][MAX_ROUNDS];
	uint64_t ops;
	int rounds;
	struct target t[NWAYS];
	size_t len;
	double secs;
	int is_pmem;

	if (argc < 3) {
		fprintf(stderr, "usage: %s PMEMFS_FILE RAW_FILE [SIZE_MiB] [SECONDS]\n", argv[0]);
		return 2;
	}
	len = (size_t)(argc > 3 ? atol(argv[3]) : 1024) << 20;
	secs = argc > 4 ? atof(argv[4]) : 1.0;
	rounds = argc > 5 ? atoi(argv[5]) : 5;
	if (rounds < 1 || rounds > MAX_ROUNDS)
		rounds = 5;

	t[DIRECT].map =
	    pmem_map_file(argv[1], len, PMEM_FILE_CREATE, 0600, &t[DIRECT].len, &is_pmem);
	if (!t[DIRECT].map) {
		fprintf(stderr, "pmem_map_file %s: %s\n", argv[1], pmem_errormsg());
		return 1;
	}
	if (backed_by(t[DIRECT].map, argv[1]) != 0) {
		fprintf(stderr,
			"%s was not mapped directly (FUSE fallback): refusing to "
			"report (a)\n",
			argv[1]);
		return 1;
	}
	t[RAW].map = map_raw(argv[2], len);
	t[RAW].len = len;
	/* fault every page in before timing, as for (a) */
	for (size_t off = 0; off < len; off += 4096) {
		t[DIRECT].map[off] = 0;
		t[RAW].map[off] = 0;
	}
	t[FUSE].fd = open(argv[1], O_RDWR);
	t[FUSE].len = len;
	if (t[FUSE].fd < 0) {
		perror(argv[1]);
		return 1;
	}
	for (int r = 0; r < rounds; r++)
		for (int s = 0; s < 2; s++)
			for (int k = 0; k < NWAYS; k++) {
				enum way w = (enum way)((k + r) % NWAYS);

				samples[s][w][r] = run(w, &t[w], sizes[s], secs, &ops);
			}
	for (int s = 0; s < 2; s++)
		for (int w = 0; w < NWAYS; w++)
			rate[s][w] = median(samples[s][w], rounds);
	printf("file %zu MiB, %d rounds of %.1f s per cell (median shown), random size-aligned "
	       "offsets, is_pmem(a)=%d\n",
	       len >> 20, rounds, secs, is_pmem);
	printf("%-22s %14s %12s %14s %12s\n", "way", "4 KiB ops/s", "ns/op", "64 B ops/s", "ns/op");
	for (int w = 0; w < NWAYS; w++)
		printf("%-22s %14.0f %12.0f %14.0f %12.0f\n", Way_name[w], rate[0][w],
		       1e9 / rate[0][w], rate[1][w], 1e9 / rate[1][w]);
	for (int s = 0; s < 2; s++)
		printf("%-5s (a)/(b) = %.1fx (target >= 50x)   (a)/(c) = %.3f (target >= 0.90)\n",
		       s ? "64 B" : "4 KiB", rate[s][DIRECT] / rate[s][FUSE],
		       rate[s][DIRECT] / rate[s][RAW]);
	close(t[FUSE].fd);
	pmem_unmap(t[DIRECT].map, t[DIRECT].len);
	munmap(t[RAW].map, len);
	unlink(argv[2]);
	return 0;
}
