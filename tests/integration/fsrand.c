/*
 * fsrand.c - randomised lock-step file-system tester.  Runs the same random
 * operation on a directory of the file system under test and on a
 * reference directory (tmpfs), compares return values, errno and data after
 * every step, and the whole trees every few hundred steps.  On the first
 * difference it prints the operation number, the operation, what the
 * reference did (expected) and what the tested tree did (got), and exits 1.
 *
 *   fsrand [--seed N] [--ops N] [--verbose] TESTDIR REFDIR
 *
 * REFDIR on tmpfs lacks FALLOC_FL_ZERO_RANGE; fsrand emulates it there
 * (punch, then allocate), which leaves the same bytes and size.
 *
 * Everything is derived from the seed, so a failure reproduces with the
 * printed --seed and --ops.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROG "fsrand"
#define NAME_POOL 6	    /* names per directory level: collisions are the point */
#define SLOTS 8		    /* open file pairs */
#define MAX_FILE (2u << 20) /* offsets stay below this */
#define FULL_CHECK_EVERY 500

static const char *const names[NAME_POOL] = {"a", "b", "c", "dir", "e", "f"};

struct side {
	const char *root;
	int dirfd;
};

struct slot {
	bool open;
	int fd[2]; /* [0] tested, [1] reference */
	int flags;
	char path[64];
};

struct result {
	long ret;
	int err;
};

static struct side sides[2];
static struct slot slots[SLOTS];
static uint64_t rng_state;
static uint64_t op_number;
static uint64_t seed;
static char op_text[256];
static bool verbose;
static bool emulate_zero_range_everywhere; /* self-test on two tmpfs trees */
static uint64_t inject_at = UINT64_MAX;	   /* self-test: plant a difference */
static unsigned char *buf[2];		   /* scratch for each side */
static unsigned char *data;		   /* what writes write */

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static void describe(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void describe(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(op_text, sizeof(op_text), fmt, ap);
	va_end(ap);
	if (verbose)
		printf("%" PRIu64 ": %s\n", op_number, op_text);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr,
		"%s: mismatch at op %" PRIu64 " (--seed %" PRIu64 " --ops %" PRIu64 "): %s: ", PROG,
		op_number, seed, op_number + 1, op_text);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", PROG, what, strerror(errno));
	exit(2);
}

static struct result result_of(long ret)
{
	struct result r = {.ret = ret, .err = ret < 0 ? errno : 0};
	return r;
}

static void compare_results(const struct result r[2])
{
	if (r[0].ret != r[1].ret || r[0].err != r[1].err)
		fail("expected ret %ld errno %d (%s), got ret %ld errno %d (%s)", r[1].ret,
		     r[1].err, r[1].err ? strerror(r[1].err) : "none", r[0].ret, r[0].err,
		     r[0].err ? strerror(r[0].err) : "none");
}

static void random_path(char *out, size_t size)
{
	if (below(3) == 0)
		snprintf(out, size, "%s/%s", names[below(NAME_POOL)], names[below(NAME_POOL)]);
	else
		snprintf(out, size, "%s", names[below(NAME_POOL)]);
}

static int random_slot(bool must_be_open)
{
	int i = (int)below(SLOTS);

	if (!must_be_open)
		return i;
	for (int n = 0; n < SLOTS; n++, i = (i + 1) % SLOTS)
		if (slots[i].open)
			return i;
	return -1;
}

/* An offset that is sometimes block-aligned, sometimes not, sometimes near
 * the end of the file. */
static off_t random_offset(off_t size)
{
	off_t off;

	switch (below(4)) {
	case 0:
		off = (off_t)(below(MAX_FILE / 4096) * 4096);
		break;
	case 1:
		off = size > 0 ? (off_t)below((uint64_t)size + 1) : 0;
		break;
	case 2:
		off = size + (off_t)below(8192);
		break;
	default:
		off = (off_t)below(MAX_FILE);
		break;
	}
	/* Every length is then cut to MAX_FILE - off, so it must not go negative. */
	return off < (off_t)MAX_FILE ? off : (off_t)MAX_FILE;
}

static size_t random_length(void)
{
	switch (below(8)) {
	case 0:
		return (size_t)below(1u << 20) + 1; /* up to one FUSE request */
	case 1:
		return 4096 * (size_t)(below(16) + 1);
	case 2:
		return 0;
	default:
		return (size_t)below(16384) + 1;
	}
}

static off_t size_of_fd(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_size : 0;
}

/* Reads [off, off+len) of both files and compares bytes; reads directly
 * from the fds, so it is skipped for write-only ones. */
static void compare_range(int fd0, int fd1, off_t off, size_t len, const char *what)
{
	while (len > 0) {
		size_t chunk = len < MAX_FILE ? len : MAX_FILE;
		ssize_t n0 = pread(fd0, buf[0], chunk, off);
		ssize_t n1 = pread(fd1, buf[1], chunk, off);

		if (n0 != n1)
			fail("%s: reading %zu bytes at %lld: expected %zd, got %zd", what, chunk,
			     (long long)off, n1, n0);
		if (n1 <= 0)
			return;
		if (memcmp(buf[0], buf[1], (size_t)n1) != 0) {
			ssize_t i = 0;

			while (buf[0][i] == buf[1][i])
				i++;
			fail("%s: data differs at offset %lld: expected byte 0x%02x, got 0x%02x",
			     what, (long long)(off + i), buf[1][i], buf[0][i]);
		}
		off += n1;
		len -= (size_t)n1;
	}
}

static void check_slot_data(int s, off_t off, size_t len)
{
	struct slot *sl = &slots[s];
	off_t size0 = size_of_fd(sl->fd[0]), size1 = size_of_fd(sl->fd[1]);

	if (size0 != size1)
		fail("size after the op: expected %lld, got %lld", (long long)size1,
		     (long long)size0);
	if ((sl->flags & O_ACCMODE) == O_WRONLY)
		return;
	/* A page either side catches writes that spill over. */
	off = off > 4096 ? off - 4096 : 0;
	compare_range(sl->fd[0], sl->fd[1], off, len + 8192, "contents after the op");
}

static mode_t mode_of_fd(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_mode : 0;
}

static void op_open(void)
{
	static const int access_modes[] = {O_RDONLY, O_WRONLY, O_RDWR, O_RDWR};
	int s = random_slot(false);
	struct slot *sl = &slots[s];
	int flags = access_modes[below(4)];
	mode_t mode = below(4) == 0 ? 0600 : 0644;
	struct result r[2];

	if (sl->open)
		return;
	if (below(2))
		flags |= O_CREAT;
	if (below(6) == 0)
		flags |= O_EXCL;
	if (below(6) == 0 && (flags & O_ACCMODE) != O_RDONLY)
		flags |= O_TRUNC;
	if (below(6) == 0)
		flags |= O_APPEND;
	random_path(sl->path, sizeof(sl->path));
	describe("open(%s, 0%o, 0%o) into slot %d", sl->path, flags, mode, s);
	for (int i = 0; i < 2; i++) {
		sl->fd[i] = openat(sides[i].dirfd, sl->path, flags | O_CLOEXEC, mode);
		r[i] = result_of(sl->fd[i]);
	}
	if ((r[0].ret < 0) != (r[1].ret < 0) || r[0].err != r[1].err) {
		r[0].ret = r[0].ret < 0 ? -1 : 0;
		r[1].ret = r[1].ret < 0 ? -1 : 0;
		compare_results(r);
	}
	if (sl->fd[0] < 0)
		return;
	/* Directories opened for reading stay out of the data ops. */
	if (S_ISDIR(mode_of_fd(sl->fd[1]))) {
		if (!S_ISDIR(mode_of_fd(sl->fd[0])))
			fail("expected a directory, got mode 0%o", mode_of_fd(sl->fd[0]));
		close(sl->fd[0]);
		close(sl->fd[1]);
		return;
	}
	sl->open = true;
	sl->flags = flags;
}

static void op_close(void)
{
	int s = random_slot(true);
	struct result r[2];

	if (s < 0)
		return;
	describe("close(slot %d: %s)", s, slots[s].path);
	for (int i = 0; i < 2; i++)
		r[i] = result_of(close(slots[s].fd[i]));
	slots[s].open = false;
	compare_results(r);
}

static void op_write(void)
{
	int s = random_slot(true);
	struct slot *sl;
	struct result r[2];
	off_t off;
	size_t len, from;

	if (s < 0)
		return;
	sl = &slots[s];
	off = random_offset(size_of_fd(sl->fd[1]));
	len = random_length();
	if ((uint64_t)off + len > MAX_FILE)
		len = MAX_FILE - (size_t)off;
	from = (size_t)below(MAX_FILE - len + 1);
	describe("pwrite(slot %d: %s, len %zu, off %lld)%s", s, sl->path, len, (long long)off,
		 sl->flags & O_APPEND ? " [O_APPEND]" : "");
	for (int i = 0; i < 2; i++)
		r[i] = result_of(pwrite(sl->fd[i], data + from, len, off));
	compare_results(r);
	if (r[1].ret > 0)
		check_slot_data(s, sl->flags & O_APPEND ? size_of_fd(sl->fd[1]) - r[1].ret : off,
				len);
}

static void op_read(void)
{
	int s = random_slot(true);
	struct slot *sl;
	struct result r[2];
	off_t off;
	size_t len;

	if (s < 0)
		return;
	sl = &slots[s];
	off = random_offset(size_of_fd(sl->fd[1]));
	len = random_length();
	if (len > MAX_FILE)
		len = MAX_FILE;
	describe("pread(slot %d: %s, len %zu, off %lld)", s, sl->path, len, (long long)off);
	for (int i = 0; i < 2; i++)
		r[i] = result_of(pread(sl->fd[i], buf[i], len, off));
	compare_results(r);
	if (r[1].ret > 0 && memcmp(buf[0], buf[1], (size_t)r[1].ret) != 0)
		fail("read data differs from the reference");
}

static void op_truncate(void)
{
	int s = random_slot(true);
	char path[64];
	struct result r[2];
	off_t len = below(3) == 0 ? 0 : (off_t)below(MAX_FILE);

	if (s >= 0 && below(2)) {
		describe("ftruncate(slot %d: %s, %lld)", s, slots[s].path, (long long)len);
		for (int i = 0; i < 2; i++)
			r[i] = result_of(ftruncate(slots[s].fd[i], len));
		compare_results(r);
		if (r[1].ret == 0)
			check_slot_data(s, len > 8192 ? len - 8192 : 0, 16384);
		return;
	}
	random_path(path, sizeof(path));
	describe("truncate(%s, %lld)", path, (long long)len);
	for (int i = 0; i < 2; i++) {
		int fd = openat(sides[i].dirfd, path, O_WRONLY | O_CLOEXEC);

		r[i] = result_of(fd < 0 ? -1 : ftruncate(fd, len));
		if (fd >= 0)
			close(fd);
	}
	compare_results(r);
}

/* tmpfs has no FALLOC_FL_ZERO_RANGE: the reference punches and allocates,
 * which leaves the same bytes and size. */
static int reference_zero_range(int fd, int mode, off_t off, off_t len)
{
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) != 0)
		return -1;
	return fallocate(fd, mode & FALLOC_FL_KEEP_SIZE, off, len);
}

static void op_fallocate(void)
{
	static const int modes[] = {
	    0,
	    FALLOC_FL_KEEP_SIZE,
	    FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	    FALLOC_FL_ZERO_RANGE,
	    FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
	};
	int s = random_slot(true);
	int mode = modes[below(5)];
	struct slot *sl;
	struct result r[2];
	off_t off, len;

	if (s < 0)
		return;
	sl = &slots[s];
	off = random_offset(size_of_fd(sl->fd[1]));
	len = (off_t)random_length();
	if (off + len > (off_t)MAX_FILE)
		len = (off_t)MAX_FILE - off;
	describe("fallocate(slot %d: %s, mode 0x%x, off %lld, len %lld)", s, sl->path, mode,
		 (long long)off, (long long)len);
	for (int i = 0; i < 2; i++) {
		bool emulate = i == 1 || emulate_zero_range_everywhere;

		r[i] = result_of(fallocate(sl->fd[i], mode, off, len));
		if (emulate && r[i].ret < 0 && r[i].err == EOPNOTSUPP &&
		    (mode & FALLOC_FL_ZERO_RANGE))
			r[i] = result_of(reference_zero_range(sl->fd[i], mode, off, len));
	}
	compare_results(r);
	if (r[1].ret == 0)
		check_slot_data(s, off, (size_t)len);
}

/* Loads and stores through MAP_SHARED mappings of both files, then msync. */
static void op_mmap(void)
{
	int s = random_slot(true);
	bool store = below(2);
	struct slot *sl;
	off_t size, off;
	size_t len, from;
	void *map[2];

	if (s < 0)
		return;
	sl = &slots[s];
	size = size_of_fd(sl->fd[1]);
	if (size == 0 || (sl->flags & O_ACCMODE) == O_WRONLY ||
	    (store && (sl->flags & O_ACCMODE) != O_RDWR))
		return;
	off = (off_t)below((uint64_t)size);
	len = (size_t)below((uint64_t)(size - off)) + 1;
	if (len > MAX_FILE)
		len = MAX_FILE;
	from = (size_t)below(MAX_FILE - len + 1);
	describe("mmap %s(slot %d: %s, off %lld, len %zu)", store ? "store" : "load", s, sl->path,
		 (long long)off, len);
	for (int i = 0; i < 2; i++) {
		map[i] = mmap(NULL, (size_t)size, store ? PROT_READ | PROT_WRITE : PROT_READ,
			      MAP_SHARED, sl->fd[i], 0);
		if (map[i] == MAP_FAILED)
			fail("mmap of %lld bytes on side %d failed: %s", (long long)size, i,
			     strerror(errno));
	}
	if (store) {
		for (int i = 0; i < 2; i++) {
			memcpy((char *)map[i] + off, data + from, len);
			if (msync(map[i], (size_t)size, MS_SYNC) != 0)
				fail("msync on side %d failed: %s", i, strerror(errno));
		}
	} else if (memcmp((char *)map[0] + off, (char *)map[1] + off, len) != 0) {
		fail("mapped bytes differ from the reference");
	}
	for (int i = 0; i < 2; i++)
		munmap(map[i], (size_t)size);
	if (store)
		check_slot_data(s, off, len);
}

static void op_fsync(void)
{
	int s = random_slot(true);
	struct result r[2];

	if (s < 0)
		return;
	describe("fsync(slot %d: %s)", s, slots[s].path);
	for (int i = 0; i < 2; i++)
		r[i] = result_of(fsync(slots[s].fd[i]));
	compare_results(r);
}

static void op_rename(void)
{
	static const unsigned flag_choices[] = {0, 0, RENAME_NOREPLACE, RENAME_EXCHANGE};
	unsigned flags = flag_choices[below(4)];
	char from[64], to[64];
	struct result r[2];

	random_path(from, sizeof(from));
	random_path(to, sizeof(to));
	describe("renameat2(%s, %s, 0x%x)", from, to, flags);
	for (int i = 0; i < 2; i++)
		r[i] = result_of(renameat2(sides[i].dirfd, from, sides[i].dirfd, to, flags));
	compare_results(r);
}

static void op_link(void)
{
	char from[64], to[64];
	struct result r[2];

	random_path(from, sizeof(from));
	random_path(to, sizeof(to));
	describe("link(%s, %s)", from, to);
	for (int i = 0; i < 2; i++)
		r[i] = result_of(linkat(sides[i].dirfd, from, sides[i].dirfd, to, 0));
	compare_results(r);
}

static void op_symlink(void)
{
	char target[64], path[64];
	struct result r[2];

	random_path(target, sizeof(target));
	random_path(path, sizeof(path));
	describe("symlink(%s -> %s)", path, target);
	for (int i = 0; i < 2; i++)
		r[i] = result_of(symlinkat(target, sides[i].dirfd, path));
	compare_results(r);
}

static void op_unlink(void)
{
	char path[64];
	struct result r[2];

	random_path(path, sizeof(path));
	describe("unlink(%s)", path);
	for (int i = 0; i < 2; i++)
		r[i] = result_of(unlinkat(sides[i].dirfd, path, 0));
	compare_results(r);
}

static void op_mkdir(void)
{
	char path[64];
	struct result r[2];

	random_path(path, sizeof(path));
	describe("mkdir(%s)", path);
	for (int i = 0; i < 2; i++)
		r[i] = result_of(mkdirat(sides[i].dirfd, path, 0755));
	compare_results(r);
}

static void op_rmdir(void)
{
	char path[64];
	struct result r[2];

	random_path(path, sizeof(path));
	describe("rmdir(%s)", path);
	for (int i = 0; i < 2; i++)
		r[i] = result_of(unlinkat(sides[i].dirfd, path, AT_REMOVEDIR));
	compare_results(r);
}

static void compare_stat(const char *path, const struct stat *got, const struct stat *exp)
{
	if (got->st_mode != exp->st_mode)
		fail("%s: mode: expected 0%o, got 0%o", path, exp->st_mode, got->st_mode);
	if (got->st_nlink != exp->st_nlink)
		fail("%s: nlink: expected %lu, got %lu", path, (unsigned long)exp->st_nlink,
		     (unsigned long)got->st_nlink);
	/* Directory sizes are file-system specific. */
	if (!S_ISDIR(exp->st_mode) && got->st_size != exp->st_size)
		fail("%s: size: expected %lld, got %lld", path, (long long)exp->st_size,
		     (long long)got->st_size);
}

static void op_stat(void)
{
	char path[64];
	struct stat st[2];
	struct result r[2];

	random_path(path, sizeof(path));
	describe("lstat(%s)", path);
	for (int i = 0; i < 2; i++)
		r[i] = result_of(fstatat(sides[i].dirfd, path, &st[i], AT_SYMLINK_NOFOLLOW));
	compare_results(r);
	if (r[1].ret == 0)
		compare_stat(path, &st[0], &st[1]);
}

static void op_readlink(void)
{
	char path[64], target[2][PATH_MAX];
	struct result r[2];

	random_path(path, sizeof(path));
	describe("readlink(%s)", path);
	for (int i = 0; i < 2; i++)
		r[i] = result_of(readlinkat(sides[i].dirfd, path, target[i], PATH_MAX));
	compare_results(r);
	if (r[1].ret > 0 && memcmp(target[0], target[1], (size_t)r[1].ret) != 0)
		fail("symlink target: expected '%.*s', got '%.*s'", (int)r[1].ret, target[1],
		     (int)r[0].ret, target[0]);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entry names of dir (without . and ..); returns the count. */
static size_t list_dir(int dirfd, const char *path, char **out, size_t max)
{
	int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;
	size_t n = 0;

	if (fd < 0 || !(d = fdopendir(fd)))
		fail("opendir %s for the tree check: %s", path, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == max)
			fail("directory %s has more than %zu entries", path, max);
		out[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(out, n, sizeof(*out), compare_names);
	return n;
}

static void compare_file_contents(const char *path)
{
	int fd[2];

	for (int i = 0; i < 2; i++) {
		fd[i] = openat(sides[i].dirfd, path, O_RDONLY | O_CLOEXEC);
		if (fd[i] < 0)
			fail("open %s for the tree check on side %d: %s", path, i, strerror(errno));
	}
	/* O_APPEND writes can grow a file past MAX_FILE. */
	compare_range(fd[0], fd[1], 0, (size_t)size_of_fd(fd[1]) + 1, path);
	close(fd[0]);
	close(fd[1]);
}

/* Walks both trees: same names, same stat fields, same bytes. */
static void compare_tree(const char *path, int depth)
{
	char *list[2][NAME_POOL * 2];
	size_t n[2];

	for (int i = 0; i < 2; i++)
		n[i] = list_dir(sides[i].dirfd, path, list[i], NAME_POOL * 2);
	for (size_t k = 0; k < n[0] || k < n[1]; k++) {
		const char *got = k < n[0] ? list[0][k] : "(nothing)";
		const char *exp = k < n[1] ? list[1][k] : "(nothing)";
		char child[512];
		struct stat st[2];

		if (strcmp(got, exp) != 0)
			fail("tree check: directory '%s' entry %zu: expected '%s', got '%s'", path,
			     k, exp, got);
		if ((size_t)snprintf(child, sizeof(child), "%s/%s", path, exp) >= sizeof(child))
			fail("tree check: path %s/%s is longer than %zu bytes", path, exp,
			     sizeof(child));
		for (int i = 0; i < 2; i++)
			if (fstatat(sides[i].dirfd, child, &st[i], AT_SYMLINK_NOFOLLOW) != 0)
				fail("tree check: stat %s: %s", child, strerror(errno));
		compare_stat(child, &st[0], &st[1]);
		if (S_ISREG(st[1].st_mode))
			compare_file_contents(child);
		else if (S_ISDIR(st[1].st_mode) && depth < 3)
			compare_tree(child, depth + 1);
	}
	for (int i = 0; i < 2; i++)
		for (size_t k = 0; k < n[i]; k++)
			free(list[i][k]);
}

struct op {
	void (*run)(void);
	unsigned weight;
};

static const struct op ops[] = {
    {op_open, 12},    {op_close, 8},	 {op_write, 20},  {op_read, 12},
    {op_truncate, 5}, {op_fallocate, 6}, {op_mmap, 5},	  {op_fsync, 2},
    {op_rename, 6},   {op_link, 3},	 {op_symlink, 2}, {op_unlink, 5},
    {op_mkdir, 4},    {op_rmdir, 3},	 {op_stat, 6},	  {op_readlink, 1},
};

static void run_one(void)
{
	unsigned total = 0, pick;
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		total += ops[i].weight;
	pick = (unsigned)below(total);
	for (i = 0; pick >= ops[i].weight; i++)
		pick -= ops[i].weight;
	ops[i].run();
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s [--seed N] [--ops N] [--verbose] TESTDIR REFDIR\n"
		"Runs N random operations on TESTDIR and REFDIR (a trusted file system,\n"
		"e.g. tmpfs) in lock step and exits 1 at the first difference.\n"
		"Checking fsrand itself:\n"
		"  --emulate-zero-range   emulate FALLOC_FL_ZERO_RANGE on TESTDIR too\n"
		"                         (where it is tmpfs, which lacks it)\n"
		"  --inject-difference N  create a file in TESTDIR only, after op N\n",
		PROG);
}

int main(int argc, char **argv)
{
	uint64_t nops = 100000;
	int argi = 1;

	seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	for (; argi < argc && argv[argi][0] == '-'; argi++) {
		if (!strcmp(argv[argi], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[argi], "--seed") && argi + 1 < argc) {
			seed = strtoull(argv[++argi], NULL, 0);
		} else if (!strcmp(argv[argi], "--ops") && argi + 1 < argc) {
			nops = strtoull(argv[++argi], NULL, 0);
		} else if (!strcmp(argv[argi], "--verbose")) {
			verbose = true;
		} else if (!strcmp(argv[argi], "--emulate-zero-range")) {
			emulate_zero_range_everywhere = true;
		} else if (!strcmp(argv[argi], "--inject-difference") && argi + 1 < argc) {
			inject_at = strtoull(argv[++argi], NULL, 0);
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (argc - argi != 2) {
		usage(stderr);
		return 2;
	}
	for (int i = 0; i < 2; i++) {
		sides[i].root = argv[argi + i];
		sides[i].dirfd = open(sides[i].root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sides[i].dirfd < 0)
			die(sides[i].root);
		if (!(buf[i] = malloc(MAX_FILE)))
			die("malloc");
	}
	if (!(data = malloc(MAX_FILE)))
		die("malloc");
	rng_state = seed ? seed : 1;
	for (size_t k = 0; k < MAX_FILE; k++)
		data[k] = (unsigned char)(rnd() >> 56);
	printf("%s: seed %" PRIu64 ", %" PRIu64 " operations on %s against %s\n", PROG, seed, nops,
	       sides[0].root, sides[1].root);
	fflush(stdout);
	for (op_number = 0; op_number < nops; op_number++) {
		run_one();
		if (op_number == inject_at) {
			int fd = openat(sides[0].dirfd, "injected", O_CREAT | O_WRONLY, 0644);

			if (fd < 0)
				die("planting a difference");
			close(fd);
		}
		if ((op_number + 1) % FULL_CHECK_EVERY == 0) {
			describe("tree check after op %" PRIu64, op_number);
			compare_tree(".", 0);
		}
	}
	describe("final tree check");
	compare_tree(".", 0);
	printf("%s: %" PRIu64 " operations, no differences\n", PROG, nops);
	return 0;
}
