/*
 * seek_probe.c - prints lseek(FILE, OFFSET, SEEK_DATA or SEEK_HOLE): the
 * resulting offset, or the errno name (ENXIO) when there is none.  The
 * shell tests have no other way to ask for SEEK_DATA/SEEK_HOLE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd, whence;
	off_t off;

	if (argc != 4 || (strcmp(argv[3], "data") && strcmp(argv[3], "hole"))) {
		fprintf(stderr, "usage: seek_probe FILE OFFSET data|hole\n");
		return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	whence = strcmp(argv[3], "data") == 0 ? SEEK_DATA : SEEK_HOLE;
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "seek_probe: open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	off = lseek(fd, strtoll(argv[2], NULL, 0), whence);
	if (off < 0 && errno == ENXIO)
		printf("ENXIO\n");
	else if (off < 0)
		printf("error: %s\n", strerror(errno));
	else
		printf("%lld\n", (long long)off);
	close(fd);
	return 0;
}
