/*
 * dmap_preload - the helper of dmap_preload.sh, run under
 * LD_PRELOAD=libpmemfs-preload.so: plain mmap()/munmap()/mremap() calls,
 * and what became of them.  "src=" is the file /proc/self/maps names for
 * the mapping (the device image when the preload mapped it directly, the
 * file itself otherwise); "fds=" how many descriptors the process holds
 * beyond those it had before mapping (a direct map keeps two: the grant's
 * dup of the file and the device); "bytes=ok" that stores through the
 * mapping, msync()ed, are what read() of a fresh descriptor returns.
 *
 *   dmap_preload shared FILE OFF LEN [private]
 *       map [OFF, OFF+LEN) shared (or private), close the fd, store, msync,
 *       compare; unmap.  Prints "src=S fds=N bytes=ok unmapped_fds=N".
 *   dmap_preload partial FILE
 *       map 8 MiB, store; unmap the middle, then the head, then the tail,
 *       checking the rest's bytes after each.  Prints "fds=A,B,C".
 *   dmap_preload sync FILE
 *       MAP_SHARED_VALIDATE | MAP_SYNC.  Prints "sync=ok|EOPNOTSUPP|..."
 *       and "fds=N" (no grant kept by a refusal).
 *   dmap_preload fixed FILE
 *       map 8 MiB over a PROT_NONE reservation with MAP_FIXED, check the
 *       address; MAP_FIXED_NOREPLACE over it (EEXIST); mremap of it
 *       (EINVAL); an anonymous MAP_FIXED over its middle, then munmap of
 *       the rest.  Prints "src=S at=ok noreplace=E mremap=E fds=A,B".
 * The file must exist and hold at least OFF+LEN (8 MiB for the others).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)

static const char *path;

static int die(const char *what)
{
	fprintf(stderr, "dmap_preload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = -1; /* the directory's own fd */

	if (!d)
		die("/proc/self/fd");
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The file /proc/self/maps names for the mapping holding addr. */
static const char *source(const void *addr)
{
	static char name[4096];
	char line[4096];
	FILE *f = fopen("/proc/self/maps", "r");

	snprintf(name, sizeof(name), "(none)");
	if (!f)
		die("/proc/self/maps");
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char *p;

		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2 || (uintptr_t)addr < lo ||
		    (uintptr_t)addr >= hi)
			continue;
		p = strchr(line, '/');
		snprintf(name, sizeof(name), "%s", p ? p : "(anonymous)");
		name[strcspn(name, "\n")] = '\0';
		break;
	}
	fclose(f);
	return name;
}

static unsigned char pat(uint64_t off)
{
	return (unsigned char)(off * 131 + (off >> 12) * 7 + 1);
}

static void store(unsigned char *p, uint64_t off, size_t len)
{
	for (size_t i = 0; i < len; i += 512)
		p[i] = pat(off + i);
	if (msync(p, len, MS_SYNC) < 0)
		die("msync");
}

/* The mapping [p, p+len) of file offset off holds the pattern, and so
 * does the file read through a new descriptor. */
static bool same(const unsigned char *p, uint64_t off, size_t len)
{
	unsigned char *buf = malloc(len);
	int fd = open(path, O_RDONLY);
	bool ok = buf && fd >= 0 && pread(fd, buf, len, (off_t)off) == (ssize_t)len;

	for (size_t i = 0; ok && i < len; i += 512)
		ok = p[i] == pat(off + i) && buf[i] == pat(off + i);
	if (fd >= 0)
		close(fd);
	free(buf);
	return ok;
}

static unsigned char *map(size_t len, int flags, uint64_t off, void *at)
{
	int fd = open(path, O_RDWR);
	void *p;

	if (fd < 0)
		die("open");
	p = mmap(at, len, PROT_READ | PROT_WRITE, flags, fd, (off_t)off);
	if (p == MAP_FAILED)
		die("mmap");
	close(fd);
	return p;
}

static int cmd_shared(uint64_t off, size_t len, bool private)
{
	int base = open_fds();
	unsigned char *p = map(len, private ? MAP_PRIVATE : MAP_SHARED, off, NULL);
	char src[4096];
	int fds = open_fds() - base;
	bool ok;

	snprintf(src, sizeof(src), "%s", source(p));
	store(p, off, len);
	ok = private || same(p, off, len);
	if (munmap(p, len) < 0)
		die("munmap");
	printf("src=%s fds=%d bytes=%s unmapped_fds=%d\n", src, fds, ok ? "ok" : "WRONG",
	       open_fds() - base);
	return 0;
}

static int cmd_partial(void)
{
	int base = open_fds(), a, b, c;
	unsigned char *p = map(8 * MIB, MAP_SHARED, 0, NULL);
	bool ok;

	store(p, 0, 8 * MIB);
	if (munmap(p + 2 * MIB, 2 * MIB) < 0)
		die("munmap middle");
	a = open_fds() - base;
	ok = same(p, 0, 2 * MIB) && same(p + 4 * MIB, 4 * MIB, 4 * MIB);
	if (munmap(p, 2 * MIB) < 0)
		die("munmap head");
	b = open_fds() - base;
	ok = ok && same(p + 4 * MIB, 4 * MIB, 4 * MIB);
	if (munmap(p + 4 * MIB, 4 * MIB) < 0)
		die("munmap tail");
	c = open_fds() - base;
	printf("fds=%d,%d,%d bytes=%s\n", a, b, c, ok ? "ok" : "WRONG");
	return 0;
}

static int cmd_sync(void)
{
	int base = open_fds(), fd = open(path, O_RDWR);
	void *p;

	if (fd < 0)
		die("open");
	p = mmap(NULL, 8 * MIB, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
	if (p != MAP_FAILED) {
		printf("sync=ok src=%s\n", source(p));
		munmap(p, 8 * MIB);
	} else {
		printf("sync=%s\n", errno == EOPNOTSUPP ? "EOPNOTSUPP" : strerror(errno));
	}
	close(fd);
	printf("fds=%d\n", open_fds() - base);
	return 0;
}

static const char *err_name(void *p)
{
	if (p != MAP_FAILED)
		return "none";
	return errno == EEXIST ? "EEXIST" : errno == EINVAL ? "EINVAL" : strerror(errno);
}

static int cmd_fixed(void)
{
	int base = open_fds(), a, b;
	void *r = mmap(NULL, 8 * MIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *p;
	const char *noreplace, *remap;
	char src[4096];
	int fd;
	bool ok;

	if (r == MAP_FAILED)
		die("reserve");
	p = map(8 * MIB, MAP_SHARED | MAP_FIXED, 0, r);
	snprintf(src, sizeof(src), "%s", source(p));
	store(p, 0, 8 * MIB);
	fd = open(path, O_RDWR);
	noreplace = err_name(mmap(p, 8 * MIB, PROT_READ, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0));
	close(fd);
	remap = err_name(mremap(p, 8 * MIB, 16 * MIB, MREMAP_MAYMOVE));
	if (mmap(p + 2 * MIB, 2 * MIB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
	    MAP_FAILED)
		die("anonymous MAP_FIXED");
	a = open_fds() - base;
	ok = same(p, 0, 2 * MIB) && same(p + 4 * MIB, 4 * MIB, 4 * MIB) && p[2 * MIB] == 0;
	if (munmap(p, 8 * MIB) < 0)
		die("munmap");
	b = open_fds() - base;
	printf("src=%s at=%s noreplace=%s mremap=%s fds=%d,%d bytes=%s\n", src,
	       (void *)p == r ? "ok" : "moved", noreplace, remap, a, b, ok ? "ok" : "WRONG");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: dmap_preload shared|partial|sync|fixed FILE [...]\n");
		return 2;
	}
	path = argv[2];
	if (strcmp(argv[1], "shared") == 0 && argc >= 5)
		return cmd_shared(strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0),
				  argc >= 6 && strcmp(argv[5], "private") == 0);
	if (strcmp(argv[1], "partial") == 0)
		return cmd_partial();
	if (strcmp(argv[1], "sync") == 0)
		return cmd_sync();
	if (strcmp(argv[1], "fixed") == 0)
		return cmd_fixed();
	fprintf(stderr, "dmap_preload: unknown command %s\n", argv[1]);
	return 2;
}
