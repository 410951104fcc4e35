/*
 * cached_pages.c - prints how many of a file's pages the kernel's page
 * cache holds, like fincore(1), but through a read-write open: pmemfs-fuse
 * serves read-only opens past the page cache, and mapping such an open
 * makes the kernel drop the file's cached pages, so fincore, which maps a
 * read-only open, would always print 0 there.
 *
 *   cached_pages FILE
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *vec;
	size_t pages, cached = 0;
	struct stat st;
	void *map;
	int fd;

	if (argc != 2 || !strcmp(argv[1], "--help")) {
		fprintf(argc == 2 ? stdout : stderr, "usage: cached_pages FILE\n");
		return argc == 2 ? 0 : 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "cached_pages: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (st.st_size == 0) {
		printf("0\n");
		return 0;
	}
	pages = ((size_t)st.st_size + (size_t)page - 1) / (size_t)page;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	vec = malloc(pages);
	if (map == MAP_FAILED || !vec || mincore(map, (size_t)st.st_size, vec) != 0) {
		fprintf(stderr, "cached_pages: mapping %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < pages; i++)
		cached += vec[i] & 1;
	printf("%zu\n", cached);
	free(vec);
	munmap(map, (size_t)st.st_size);
	close(fd);
	return 0;
}
