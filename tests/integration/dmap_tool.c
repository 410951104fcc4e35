/*
 * dmap_tool - the direct-map tests' helper: maps a file with our
 * libpmem's pmem_map_file, stores a seeded pattern, persists it, and
 * checks patterns through the mapping or through read().  It reports how
 * the file was mapped (straight from the device, or through FUSE) by
 * reading /proc/self/maps, so the shell tests can demand one or the other.
 *
 *   dmap_tool map PATH SIZE SEED        map (create/size if SIZE > 0), fill, persist,
 *                                       verify in the mapping, unmap
 *   dmap_tool hold PATH SEED1 SEED2 DIR map, fill SEED1, persist, touch DIR/ready,
 *                                       wait for DIR/go, fill SEED2, persist, verify,
 *                                       touch DIR/done, wait for DIR/exit, unmap
 *   dmap_tool verify PATH SEED [LEN]    read() the file: LEN (or all) bytes match SEED
 *   dmap_tool write PATH SEED           pwrite() the pattern over the whole file
 *   dmap_tool check PATH SEED           map the existing file, its bytes match SEED, unmap
 *   dmap_tool cycle PATH N              map and unmap N times: no fd and no mapping
 *                                       left behind (/proc/self/fd, /proc/self/maps)
 *   dmap_tool info PATH ALIGN           map the existing file, print a second line
 *                                       "pmem_is_pmem=N addr_aligned=0|1 backing=DEV
 *                                       segments=N misaligned=N" (the device mappings
 *                                       in /proc/self/maps and how many of them have a
 *                                       start, end or device offset not a multiple of
 *                                       ALIGN: devdax needs 0), unmap
 * Prints "mode=direct|fuse is_pmem=N len=N" after mapping.  Exit 0 on success.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libpmem.h"

static uint64_t pat(uint64_t seed, uint64_t word)
{
	uint64_t x = (word + 1) * 0x9E3779B97F4A7C15ULL ^ seed;

	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ULL;
	return x ^ (x >> 32);
}

static void fill(char *p, size_t off, size_t len, uint64_t seed)
{
	for (size_t i = off; i < off + len; i++) {
		uint64_t w = pat(seed, i / 8);

		p[i - off] = (char)(w >> (8 * (i % 8)));
	}
}

static long mismatch(const char *p, size_t off, size_t len, uint64_t seed)
{
	char want[4096];

	for (size_t d = 0; d < len; d += sizeof(want)) {
		size_t n = len - d < sizeof(want) ? len - d : sizeof(want);

		fill(want, off + d, n, seed);
		if (memcmp(p + d, want, n) != 0) {
			for (size_t i = 0; i < n; i++)
				if (p[d + i] != want[i])
					return (long)(off + d + i);
		}
	}
	return -1;
}

/* "direct" when the mapping at addr is backed by something other than
 * the file itself (the device), "fuse" otherwise. */
static const char *map_mode(const void *addr, const char *path)
{
	char line[4096], real[4096];
	FILE *f = fopen("/proc/self/maps", "r");
	const char *mode = "unknown";

	if (!realpath(path, real))
		snprintf(real, sizeof(real), "%s", path);
	if (!f)
		return mode;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char *name;

		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2 || (uintptr_t)addr < lo ||
		    (uintptr_t)addr >= hi)
			continue;
		name = strchr(line, '/');
		if (name)
			name[strcspn(name, "\n")] = '\0';
		mode = name && strcmp(name, real) == 0 ? "fuse" : "direct";
		break;
	}
	fclose(f);
	return mode;
}

/* Lines of /proc/self/maps that name 'what' (a device path). */
static int count_maps_of(const char *what)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, what) != NULL;
	if (f)
		fclose(f);
	return n;
}

/* The backing path of the mapping at addr ("" if anonymous). */
static void backing_of(const void *addr, char *out, size_t size)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];

	out[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char *name = strchr(line, '/');

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && (uintptr_t)addr >= lo &&
		    (uintptr_t)addr < hi && name) {
			name[strcspn(name, "\n")] = '\0';
			snprintf(out, size, "%s", name);
			break;
		}
	}
	if (f)
		fclose(f);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static int cmd_cycle(const char *path, int n)
{
	int fds = count_fds();
	char dev[4096] = "";

	for (int i = 0; i < n; i++) {
		size_t len;
		char *p = pmem_map_file(path, 0, 0, 0, &len, NULL);

		if (!p) {
			fprintf(stderr, "cycle %d: %s\n", i, pmem_errormsg());
			return 2;
		}
		if (i == 0)
			backing_of(p, dev, sizeof(dev));
		if (strcmp(map_mode(p, path), "direct") != 0 || dev[0] == '\0') {
			fprintf(stderr, "cycle %d: not mapped directly\n", i);
			return 1;
		}
		char keep = p[i % len]; /* store and restore: the bytes stay */

		p[i % len] = (char)~keep;
		pmem_persist(p + i % len, 1);
		p[i % len] = keep;
		pmem_persist(p + i % len, 1);
		if (pmem_unmap(p, len) != 0) {
			fprintf(stderr, "cycle %d: pmem_unmap: %s\n", i, pmem_errormsg());
			return 1;
		}
	}
	if (count_fds() != fds || count_maps_of(dev) != 0) {
		fprintf(stderr, "after %d cycles: %d fds (was %d), %d mappings of %s left\n", n,
			count_fds(), fds, count_maps_of(dev), dev);
		return 1;
	}
	return 0;
}

/* The device mappings of the reservation [p, p + span) that 'info'
 * reports: devdax refuses (or faults on) a mapping whose address, length
 * or device offset is not a multiple of the namespace alignment, so on a
 * real namespace each must be aligned. */
static void count_segments(const char *p, size_t span, const char *dev, unsigned long align,
			   int *segs, int *bad)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];

	*segs = *bad = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, off;
		char *name = strchr(line, '/');

		if (sscanf(line, "%lx-%lx %*s %lx", &lo, &hi, &off) != 3 || !name ||
		    hi <= (uintptr_t)p || lo >= (uintptr_t)p + span)
			continue;
		name[strcspn(name, "\n")] = '\0';
		if (strcmp(name, dev) != 0)
			continue;
		(*segs)++;
		*bad += lo % align || hi % align || off % align;
	}
	if (f)
		fclose(f);
}

static char *map_it(const char *path, size_t size, size_t *len)
{
	int is_pmem = -1;
	char *p = pmem_map_file(path, size, size ? PMEM_FILE_CREATE : 0, 0644, len, &is_pmem);

	if (!p) {
		fprintf(stderr, "pmem_map_file %s: %s\n", path, pmem_errormsg());
		exit(2);
	}
	printf("mode=%s is_pmem=%d len=%zu\n", map_mode(p, path), is_pmem, *len);
	fflush(stdout);
	return p;
}

static void store(char *p, size_t len, uint64_t seed, int is_pmem)
{
	for (size_t off = 0; off < len; off += 1 << 20) {
		size_t n = len - off < (1 << 20) ? len - off : (1 << 20);

		fill(p + off, off, n, seed);
	}
	if (is_pmem)
		pmem_persist(p, len);
	else if (pmem_msync(p, len) != 0) {
		fprintf(stderr, "pmem_msync: %s\n", pmem_errormsg());
		exit(2);
	}
}

static void check(const char *p, size_t len, uint64_t seed, const char *what)
{
	long bad = mismatch(p, 0, len, seed);

	if (bad >= 0) {
		fprintf(stderr, "%s: byte %ld differs from pattern %llu\n", what, bad,
			(unsigned long long)seed);
		exit(1);
	}
}

/* Waits for DIR/NAME.  A test that failed removes DIR (its cleanup) or
 * dies: then the holder gives up instead of waiting forever. */
static void wait_for(const char *dir, const char *name)
{
	char path[4096];
	pid_t parent = getppid();

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	while (access(path, F_OK) != 0) {
		if (access(dir, F_OK) != 0 || getppid() != parent) {
			fprintf(stderr, "dmap_tool: %s went away (the test ended): exiting\n",
				dir);
			exit(3);
		}
		usleep(10000);
	}
}

static void touch(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	close(open(path, O_CREAT | O_WRONLY, 0644));
}

static int cmd_verify(const char *path, uint64_t seed, long want_len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	char *buf;

	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(path);
		return 2;
	}
	size_t len = want_len > 0 ? (size_t)want_len : (size_t)st.st_size;

	buf = malloc(len ? len : 1);
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(fd, buf + done, len - done, (off_t)done);

		if (n <= 0) {
			fprintf(stderr, "%s: read at %zu: %s\n", path, done,
				n ? strerror(errno) : "EOF");
			return 1;
		}
		done += (size_t)n;
	}
	close(fd);
	check(buf, len, seed, "read()");
	free(buf);
	return 0;
}

static int cmd_write(const char *path, uint64_t seed)
{
	int fd = open(path, O_WRONLY);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(path);
		return 2;
	}
	char *buf = malloc((size_t)st.st_size);

	fill(buf, 0, (size_t)st.st_size, seed);
	if (pwrite(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		perror("pwrite");
		return 1;
	}
	free(buf);
	return close(fd) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	size_t len;
	char *p;

	if (argc >= 5 && strcmp(argv[1], "map") == 0) {
		uint64_t seed = strtoull(argv[4], NULL, 0);

		p = map_it(argv[2], strtoull(argv[3], NULL, 0), &len);
		store(p, len, seed, pmem_is_pmem(p, len));
		check(p, len, seed, "mapping");
		return pmem_unmap(p, len) == 0 ? 0 : 1;
	}
	if (argc >= 6 && strcmp(argv[1], "hold") == 0) {
		uint64_t s1 = strtoull(argv[3], NULL, 0), s2 = strtoull(argv[4], NULL, 0);

		p = map_it(argv[2], 0, &len);
		store(p, len, s1, 1);
		touch(argv[5], "ready");
		wait_for(argv[5], "go");
		store(p, len, s2, 1); /* pmem_persist: works with the daemon gone */
		check(p, len, s2, "mapping after go");
		touch(argv[5], "done");
		wait_for(argv[5], "exit");
		return pmem_unmap(p, len) == 0 ? 0 : 1;
	}
	if (argc >= 4 && strcmp(argv[1], "verify") == 0)
		return cmd_verify(argv[2], strtoull(argv[3], NULL, 0),
				  argc >= 5 ? atol(argv[4]) : -1);
	if (argc >= 4 && strcmp(argv[1], "write") == 0)
		return cmd_write(argv[2], strtoull(argv[3], NULL, 0));
	if (argc >= 4 && strcmp(argv[1], "check") == 0) {
		p = map_it(argv[2], 0, &len);
		check(p, len, strtoull(argv[3], NULL, 0), "mapping");
		return pmem_unmap(p, len) == 0 ? 0 : 1;
	}
	if (argc >= 4 && strcmp(argv[1], "info") == 0) {
		unsigned long align = strtoul(argv[3], NULL, 0);
		char dev[4096];
		int segs, bad;

		p = map_it(argv[2], 0, &len);
		if (align == 0) {
			fprintf(stderr, "info: ALIGN must be > 0\n");
			return 2;
		}
		backing_of(p, dev, sizeof(dev));
		/* the reservation is the length rounded up to ALIGN */
		count_segments(p, (len + align - 1) / align * align, dev, align, &segs, &bad);
		printf("pmem_is_pmem=%d addr_aligned=%d backing=%s segments=%d misaligned=%d\n",
		       pmem_is_pmem(p, len), (uintptr_t)p % align == 0, dev[0] ? dev : "-", segs,
		       bad);
		return pmem_unmap(p, len) == 0 ? 0 : 1;
	}
	if (argc >= 4 && strcmp(argv[1], "cycle") == 0)
		return cmd_cycle(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: see the comment at the top of dmap_tool.c\n");
	return 2;
}
