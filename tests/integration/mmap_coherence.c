/*
 * mmap_coherence.c - checks that a MAP_SHARED mapping of a file on the
 * mount and read()/write() on it see the same bytes, also through read-only
 * and write-only opens (which pmemfs-fuse serves past the page cache), and
 * that msync(MS_SYNC) pushes mapped stores to the daemon (a second
 * descriptor opened with O_DIRECT, which bypasses the page cache, reads
 * them back).
 *
 *   mmap_coherence [--with-data] FILE
 *
 * FILE is made anew.  The read-write descriptor everything runs through
 * opens it empty (pmemfs-fuse serves it past the page cache) or, with
 * --with-data, after a write-only open gave it its 1 MiB (through the page
 * cache).  The last line says which way the read-write open went, as
 * mincore() saw the page its last write added: "cached" or "direct".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FILE_SIZE (1 << 20)
#define PAGE 4096

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mmap_coherence: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static void expect_bytes(const char *what, const unsigned char *got, int value, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (got[i] != (unsigned char)value)
			fail("%s: byte %zu: expected 0x%02x, got 0x%02x", what, i, value, got[i]);
}

static void pread_all(int fd, void *buf, size_t len, off_t off, const char *what)
{
	ssize_t n = pread(fd, buf, len, off);

	if (n != (ssize_t)len)
		fail("%s: pread of %zu bytes at %lld returned %zd (%s)", what, len, (long long)off,
		     n, n < 0 ? strerror(errno) : "short");
}

int main(int argc, char **argv)
{
	unsigned char *map, *rmap, *buf, resident;
	bool with_data = argc == 3 && !strcmp(argv[1], "--with-data");
	const char *path = argv[argc - 1];
	int fd, direct, ro, wo;

	if ((argc != 2 && !with_data) || !strcmp(argv[1], "--help")) {
		fprintf(argc == 2 ? stdout : stderr, "usage: mmap_coherence [--with-data] FILE\n");
		return argc == 2 ? 0 : 2;
	}
	if (with_data) {
		wo = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (wo < 0 || ftruncate(wo, FILE_SIZE) != 0 || close(wo) != 0)
			fail("creating %s: %s", path, strerror(errno));
		fd = open(path, O_RDWR);
	} else {
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	}
	if (fd < 0 || ftruncate(fd, FILE_SIZE) != 0)
		fail("creating %s: %s", path, strerror(errno));
	map = mmap(NULL, FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		fail("mmap MAP_SHARED: %s", strerror(errno));
	if (posix_memalign((void **)&buf, PAGE, FILE_SIZE) != 0)
		fail("out of memory");

	/* write() then load through the mapping. */
	memset(buf, 0xa1, 3 * PAGE);
	if (pwrite(fd, buf, 3 * PAGE, 5 * PAGE) != 3 * PAGE)
		fail("pwrite: %s", strerror(errno));
	expect_bytes("mapping after pwrite", map + 5 * PAGE, 0xa1, 3 * PAGE);

	/* Store through the mapping then read(). */
	memset(map + 100 * PAGE + 17, 0xb2, 2 * PAGE);
	pread_all(fd, buf, 2 * PAGE, 100 * PAGE + 17, "read after mapped store");
	expect_bytes("read after mapped store", buf, 0xb2, 2 * PAGE);

	/* The same through a read-only open, which pmemfs-fuse serves past
	 * the page cache (direct_io): the kernel must write the mapped
	 * store back first.  And such a file can still be mapped shared. */
	ro = open(path, O_RDONLY);
	if (ro < 0)
		fail("open O_RDONLY: %s", strerror(errno));
	pread_all(ro, buf, 2 * PAGE, 100 * PAGE + 17, "read-only open after mapped store");
	expect_bytes("read-only open after mapped store", buf, 0xb2, 2 * PAGE);
	rmap = mmap(NULL, FILE_SIZE, PROT_READ, MAP_SHARED, ro, 0);
	if (rmap == MAP_FAILED)
		fail("mmap MAP_SHARED of a read-only open: %s", strerror(errno));
	expect_bytes("shared mapping of a read-only open", rmap + 100 * PAGE + 17, 0xb2, 2 * PAGE);
	memset(map + 200 * PAGE, 0xd4, PAGE);
	expect_bytes("shared mapping of a read-only open, later store", rmap + 200 * PAGE, 0xd4, PAGE);
	pread_all(ro, buf, PAGE, 200 * PAGE, "read-only open after a later store");
	expect_bytes("read-only open after a later store", buf, 0xd4, PAGE);
	munmap(rmap, FILE_SIZE);
	close(ro);

	/* A write-only open writes past the page cache (direct_io): the
	 * kernel must write a dirty mapped page back before, and drop the
	 * cached pages the write covers after, so that the mapping and the
	 * read-write open (cached or direct) see the write and keep the rest. */
	wo = open(path, O_WRONLY);
	if (wo < 0)
		fail("open O_WRONLY: %s", strerror(errno));
	pread_all(fd, buf, PAGE, 150 * PAGE, "read that caches a page (if cached)");
	expect_bytes("page before a write-only write", buf, 0, PAGE);
	memset(buf, 0x5a, 200);
	if (pwrite(wo, buf, 200, 150 * PAGE + 100) != 200)
		fail("pwrite on the write-only open: %s", strerror(errno));
	pread_all(fd, buf, PAGE, 150 * PAGE, "read-write open after a write-only write");
	expect_bytes("read-write open after a write-only write (before)", buf, 0, 100);
	expect_bytes("read-write open after a write-only write", buf + 100, 0x5a, 200);
	expect_bytes("read-write open after a write-only write (after)", buf + 300, 0, PAGE - 300);
	expect_bytes("mapping after a write-only write", map + 150 * PAGE + 100, 0x5a, 200);
	memset(map + 180 * PAGE, 0xe5, PAGE);
	memset(buf, 0xf6, 100);
	if (pwrite(wo, buf, 100, 180 * PAGE + 1000) != 100)
		fail("pwrite into a dirty mapped page: %s", strerror(errno));
	expect_bytes("dirty mapped page, before the write", map + 180 * PAGE, 0xe5, 1000);
	expect_bytes("dirty mapped page, the written range", map + 180 * PAGE + 1000, 0xf6, 100);
	expect_bytes("dirty mapped page, after the write", map + 180 * PAGE + 1100, 0xe5,
		     PAGE - 1100);
	pread_all(fd, buf, PAGE, 180 * PAGE, "read-write open of that page");
	expect_bytes("read-write open of that page, before", buf, 0xe5, 1000);
	expect_bytes("read-write open of that page, written", buf + 1000, 0xf6, 100);
	expect_bytes("read-write open of that page, after", buf + 1100, 0xe5, PAGE - 1100);
	close(wo);

	/* msync must reach the daemon: O_DIRECT reads skip the page cache. */
	if (msync(map, FILE_SIZE, MS_SYNC) != 0)
		fail("msync: %s", strerror(errno));
	direct = open(path, O_RDONLY | O_DIRECT);
	if (direct < 0)
		fail("open O_DIRECT: %s", strerror(errno));
	pread_all(direct, buf, 4 * PAGE, 100 * PAGE, "O_DIRECT read after msync");
	expect_bytes("O_DIRECT read after msync (stored range)", buf + 17, 0xb2, 2 * PAGE);
	expect_bytes("O_DIRECT read after msync (untouched head)", buf, 0, 17);
	pread_all(direct, buf, 3 * PAGE, 5 * PAGE, "O_DIRECT read of written range");
	expect_bytes("O_DIRECT read of written range", buf, 0xa1, 3 * PAGE);

	/* Growing the file with write() is visible to a new mapping. */
	memset(buf, 0xc3, PAGE);
	if (pwrite(fd, buf, PAGE, FILE_SIZE) != PAGE)
		fail("pwrite past the end: %s", strerror(errno));
	munmap(map, FILE_SIZE);
	map = mmap(NULL, FILE_SIZE + PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		fail("second mmap: %s", strerror(errno));
	/* The page the write added is in the page cache only if the write
	 * went through it (and a direct open's mmap dropped the cache). */
	if (mincore(map + FILE_SIZE, PAGE, &resident) != 0)
		fail("mincore: %s", strerror(errno));
	expect_bytes("new mapping of the grown file", map + FILE_SIZE, 0xc3, PAGE);
	expect_bytes("new mapping keeps earlier stores", map + 100 * PAGE + 17, 0xb2, 2 * PAGE);
	munmap(map, FILE_SIZE + PAGE);
	close(direct);
	close(fd);
	free(buf);
	printf("mmap_coherence: mapped stores, read(), write() and msync agree\n"
	       "read-write open: %s\n",
	       resident & 1 ? "cached" : "direct");
	return 0;
}
