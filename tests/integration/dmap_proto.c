/*
 * dmap_proto - speaks the direct-map ioctl (fs/pmemfs_dmap_proto.h) by hand
 * and checks the daemon's answers to good and bad requests:
 *   - a wrong magic or version: EPROTO; an unknown op: EINVAL;
 *   - a writable map on an O_RDONLY fd: EBADF; a read-only map on it: ok;
 *   - LIST pages an extent list that tiles [0, map_len) with extents that
 *     are multiples of align; LIST of an unknown grant: ENOENT;
 *   - RELEASE works once, then ENOENT;
 *   - a grant made on one open file cannot be listed through another.
 *   dmap_proto FILE [MIN_EXTENTS]    (FILE exists and is not empty)
 * Prints "extents=N pages=P" and exits 0 when every check holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "pmemfs_dmap_proto.h"

static int failures;

static void expect(const char *what, int got_errno, int want_errno)
{
	if (got_errno != want_errno) {
		fprintf(stderr, "%s: expected %s, got %s\n", what,
			want_errno ? strerror(want_errno) : "success",
			got_errno ? strerror(got_errno) : "success");
		failures++;
	}
}

/* ioctl with magic/version filled unless told otherwise; 0 or errno */
static int call(int fd, struct pmfs_dmap_ioc *io, uint32_t op)
{
	io->op = op;
	return ioctl(fd, PMFS_IOC_DMAP, io) < 0 ? errno : 0;
}

static void init(struct pmfs_dmap_ioc *io)
{
	memset(io, 0, sizeof(*io));
	io->magic = PMFS_DMAP_MAGIC;
	io->version = PMFS_DMAP_VERSION;
}

int main(int argc, char **argv)
{
	static struct pmfs_dmap_ioc io;
	uint32_t min_extents = argc > 2 ? (uint32_t)atoi(argv[2]) : 1, total, pages = 0;
	uint64_t at = 0, grant;
	int rw, ro, rw2;

	if (argc < 2)
		return 2;
	rw = open(argv[1], O_RDWR);
	ro = open(argv[1], O_RDONLY);
	rw2 = open(argv[1], O_RDWR);
	if (rw < 0 || ro < 0 || rw2 < 0) {
		perror(argv[1]);
		return 2;
	}

	init(&io);
	io.magic ^= 1;
	expect("wrong magic", call(rw, &io, PMFS_DMAP_OP_MAP), EPROTO);
	init(&io);
	io.version = PMFS_DMAP_VERSION + 1;
	expect("wrong version", call(rw, &io, PMFS_DMAP_OP_MAP), EPROTO);
	init(&io);
	expect("unknown op", call(rw, &io, 99), EINVAL);
	init(&io);
	io.flags = PMFS_DMAP_F_WRITE;
	expect("writable map on O_RDONLY", call(ro, &io, PMFS_DMAP_OP_MAP), EBADF);
	init(&io);
	io.flags = 1u << 7;
	expect("unknown flag", call(rw, &io, PMFS_DMAP_OP_MAP), EINVAL);
	init(&io);
	expect("read-only map on O_RDONLY", call(ro, &io, PMFS_DMAP_OP_MAP), 0);
	init(&io);
	io.grant = 987654321;
	expect("LIST of an unknown grant", call(rw, &io, PMFS_DMAP_OP_LIST), ENOENT);

	init(&io);
	io.flags = PMFS_DMAP_F_WRITE;
	expect("writable map on O_RDWR", call(rw, &io, PMFS_DMAP_OP_MAP), 0);
	if (failures)
		return 1;
	grant = io.grant;
	total = io.total;
	if (io.magic != PMFS_DMAP_MAGIC || io.dev_path[0] != '/' || io.align == 0 ||
	    io.map_len % io.align || io.map_len < io.file_size || total < min_extents) {
		fprintf(stderr, "bad MAP reply: path %s align %llu map_len %llu total %u\n",
			io.dev_path, (unsigned long long)io.align, (unsigned long long)io.map_len,
			total);
		return 1;
	}
	for (uint32_t got = 0; got < total; pages++) {
		if (got) {
			io.start = got;
			io.grant = grant;
			expect("LIST", call(rw, &io, PMFS_DMAP_OP_LIST), 0);
			if (failures)
				return 1;
		}
		if (io.count == 0 || io.total != total) {
			fprintf(stderr, "page at %u: count %u total %u\n", got, io.count, io.total);
			return 1;
		}
		for (uint32_t i = 0; i < io.count; i++, got++) {
			const struct pmfs_dmap_extent *e = &io.ext[i];

			if (e->file_off != at || e->len == 0 || e->len % io.align ||
			    e->dev_off % io.align) {
				fprintf(stderr,
					"extent %u: file_off %llu (want %llu) dev_off %llu "
					"len %llu\n",
					got, (unsigned long long)e->file_off,
					(unsigned long long)at, (unsigned long long)e->dev_off,
					(unsigned long long)e->len);
				return 1;
			}
			at += e->len;
		}
	}
	if (at != io.map_len) {
		fprintf(stderr, "extents cover %llu bytes, map_len %llu\n", (unsigned long long)at,
			(unsigned long long)io.map_len);
		return 1;
	}
	init(&io);
	io.grant = grant;
	expect("LIST through another open file", call(rw2, &io, PMFS_DMAP_OP_LIST), ENOENT);
	init(&io);
	io.grant = grant;
	expect("RELEASE", call(rw, &io, PMFS_DMAP_OP_RELEASE), 0);
	init(&io);
	io.grant = grant;
	expect("second RELEASE", call(rw, &io, PMFS_DMAP_OP_RELEASE), ENOENT);
	printf("extents=%u pages=%u\n", total, pages);
	return failures ? 1 : 0;
}
