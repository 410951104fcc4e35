/*
 * fsmeta.c - the metadata workload of bench/fs/run.sh: creates N empty
 * files in one directory, stats them all, unlinks them all, and prints
 * the rate of each phase (one "phase ops_per_second seconds" line each),
 * measured with CLOCK_MONOTONIC around the phase.
 *
 * With -d EVERY, each phase starts with cold kernel caches and the clock is
 * stopped every EVERY operations to evict the kernel's dentries and inodes
 * (drop_caches: 2).  Each phase then measures the file system and not the
 * kernel's caches, and a FUSE daemon that holds a descriptor per inode the
 * kernel remembers (libfuse's passthrough_ll) stays under a file limit.
 *
 *   fsmeta [-n N] [-d EVERY] DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROG "fsmeta"

enum phase { PHASE_CREATE, PHASE_STAT, PHASE_UNLINK };

static const char *const phase_names[] = { "create", "stat", "unlink" };
static long drop_every; /* 0: never drop the kernel's caches */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One operation of @phase on file number @i; 0 or -1 with errno set. */
static int one_op(int dirfd, enum phase phase, long i)
{
	char name[32];
	struct stat st;
	int fd;

	snprintf(name, sizeof(name), "f%07ld", i);
	switch (phase) {
	case PHASE_CREATE:
		fd = openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
		return fd < 0 ? -1 : close(fd);
	case PHASE_STAT:
		return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW);
	case PHASE_UNLINK:
		return unlinkat(dirfd, name, 0);
	}
	errno = EINVAL;
	return -1;
}

/* Evicts unused dentries and inodes; the FUSE forgets this sends are
 * given 100 ms to reach the daemon, off the clock. */
static int drop_dentries(void)
{
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, "2", 1) != 1) {
		fprintf(stderr, "%s: writing /proc/sys/vm/drop_caches: %s (root?)\n", PROG,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	nanosleep(&pause, NULL);
	return 0;
}

static int run_phase(int dirfd, enum phase phase, long n)
{
	double start, secs = 0;

	if (drop_every && drop_dentries() != 0)
		return -1;
	start = now();
	for (long i = 0; i < n; i++) {
		if (drop_every && i > 0 && i % drop_every == 0) {
			secs += now() - start;
			if (drop_dentries() != 0)
				return -1;
			start = now();
		}
		if (one_op(dirfd, phase, i) != 0) {
			fprintf(stderr, "%s: %s of file f%07ld: %s\n", PROG, phase_names[phase],
				i, strerror(errno));
			return -1;
		}
	}
	secs += now() - start;
	printf("%s %.1f %.3f\n", phase_names[phase], (double)n / secs, secs);
	fflush(stdout);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s [-n N] [-d EVERY] DIR\n\n"
		"Creates N empty files (default 50000) in DIR, stats each, unlinks each,\n"
		"and prints one line per phase: PHASE OPS_PER_SECOND SECONDS.\n"
		"  -d EVERY  start each phase with cold kernel caches, and evict the\n"
		"            kernel's dentries and inodes every EVERY operations, off\n"
		"            the clock (needs root)\n",
		PROG);
}

int main(int argc, char **argv)
{
	long n = 50000;
	int opt, dirfd;

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	while ((opt = getopt_long(argc, argv, "n:d:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			n = strtol(optarg, NULL, 10);
			if (n <= 0) {
				fprintf(stderr, "%s: -n %s: not a positive count\n", PROG, optarg);
				return 2;
			}
			break;
		case 'd':
			drop_every = strtol(optarg, NULL, 10);
			if (drop_every <= 0) {
				fprintf(stderr, "%s: -d %s: not a positive count\n", PROG, optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	dirfd = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		fprintf(stderr, "%s: opening %s: %s\n", PROG, argv[optind], strerror(errno));
		return 1;
	}
	for (int p = PHASE_CREATE; p <= PHASE_UNLINK; p++)
		if (run_phase(dirfd, (enum phase)p, n) != 0)
			return 1;
	close(dirfd);
	return 0;
}
