/*
 * killwl.c - the workload of the kill loop (kill_loop.sh) and its verifier.
 *
 *   killwl run    DIR LOG SEED   run operations in DIR until the mount dies
 *   killwl verify DIR LOG SEED [STATE]
 *
 * The operations are a pure function of SEED and of an in-memory model of
 * DIR (names, contents), never of what the file system answers, so the
 * verifier can regenerate them.  After each operation returns, "run"
 * appends its index to LOG (outside the mount) and fsyncs the log: the log
 * therefore lists exactly the acknowledged operations.  At most one more
 * operation was in flight when the daemon died.
 *
 * "verify" rebuilds the model after the acknowledged operations (state A)
 * and after the one in flight too (state B), then requires DIR to equal one
 * of them exactly: the same names and types, the same sizes and bytes.
 * A write in flight may also have landed up to any page boundary (state
 * P<bytes>: FUSE splits a write() at each page it cannot fill), and a
 * create may have left its file empty (P0).  It prints which state
 * matched; given one it requires that one (a state that was settled once
 * must stay settled across later crashes).
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

#define NSLOTS 24	  /* "f0".."f11" in DIR, "sub/f0".."sub/f11" */
#define MAX_SIZE (192 * 1024)
#define MAX_WRITE (32 * 1024)

struct file {
	int exists;
	size_t size;
	unsigned char *data; /* MAX_SIZE bytes */
};

struct model {
	struct file f[NSLOTS];
	int sub_exists;
};

enum op_kind { OP_CREATE, OP_APPEND, OP_OVERWRITE, OP_TRUNCATE, OP_RENAME, OP_UNLINK,
	       OP_FSYNC_WRITE, OP_MKSUB, OP_RMSUB, OP_KINDS };

struct op {
	enum op_kind kind;
	int a, b;	 /* slots */
	size_t off, len; /* write range, or new size */
	uint64_t fill;	 /* pattern seed */
};

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s += 0x9e3779b97f4a7c15ULL;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void pattern(unsigned char *buf, size_t len, uint64_t fill)
{
	uint64_t s = fill;

	for (size_t i = 0; i < len; i++) {
		if (i % 8 == 0)
			s = rng_next(&s);
		buf[i] = (unsigned char)(s >> (8 * (i % 8)));
	}
}

static void slot_path(char *buf, size_t n, const char *dir, int slot)
{
	if (slot < NSLOTS / 2)
		snprintf(buf, n, "%s/f%d", dir, slot);
	else
		snprintf(buf, n, "%s/sub/f%d", dir, slot - NSLOTS / 2);
}

static int slot_usable(const struct model *m, int slot)
{
	return slot < NSLOTS / 2 || m->sub_exists;
}

static int sub_empty(const struct model *m)
{
	for (int i = NSLOTS / 2; i < NSLOTS; i++)
		if (m->f[i].exists)
			return 0;
	return 1;
}

/* The next operation: only valid ones (the model says they succeed). */
static struct op next_op(uint64_t *rng, const struct model *m)
{
	for (;;) {
		struct op o = { .kind = (enum op_kind)(rng_next(rng) % OP_KINDS) };
		const struct file *fa;

		o.a = (int)(rng_next(rng) % NSLOTS);
		o.b = (int)(rng_next(rng) % NSLOTS);
		o.fill = rng_next(rng);
		o.len = 1 + rng_next(rng) % MAX_WRITE;
		o.off = rng_next(rng) % MAX_SIZE;
		fa = &m->f[o.a];
		switch (o.kind) {
		case OP_CREATE:
			if (fa->exists || !slot_usable(m, o.a))
				continue;
			o.off = 0;
			return o;
		case OP_APPEND:
			if (!fa->exists || fa->size + o.len > MAX_SIZE)
				continue;
			o.off = fa->size;
			return o;
		case OP_OVERWRITE:
		case OP_FSYNC_WRITE:
			if (!fa->exists)
				continue;
			if (o.off + o.len > MAX_SIZE)
				o.len = MAX_SIZE - o.off;
			return o;
		case OP_TRUNCATE:
			if (!fa->exists)
				continue;
			return o; /* off is the new size */
		case OP_RENAME:
			if (!fa->exists || o.a == o.b || !slot_usable(m, o.b))
				continue;
			return o;
		case OP_UNLINK:
			if (!fa->exists)
				continue;
			return o;
		case OP_MKSUB:
			if (m->sub_exists)
				continue;
			return o;
		case OP_RMSUB:
			/* rarely: only when empty, and then with odds 1/4 */
			if (!m->sub_exists || !sub_empty(m) || o.fill % 4)
				continue;
			return o;
		default:
			continue;
		}
	}
}

static void model_write(struct file *f, size_t off, const unsigned char *buf, size_t len)
{
	if (off > f->size)
		memset(f->data + f->size, 0, off - f->size);
	memcpy(f->data + off, buf, len);
	if (off + len > f->size)
		f->size = off + len;
}

static void model_apply(struct model *m, const struct op *o)
{
	static unsigned char buf[MAX_WRITE];
	struct file *fa = &m->f[o->a], *fb = &m->f[o->b];
	unsigned char *tmp;

	switch (o->kind) {
	case OP_CREATE:
	case OP_APPEND:
	case OP_OVERWRITE:
	case OP_FSYNC_WRITE:
		pattern(buf, o->len, o->fill);
		fa->exists = 1;
		model_write(fa, o->off, buf, o->len);
		break;
	case OP_TRUNCATE:
		if (o->off > fa->size)
			memset(fa->data + fa->size, 0, o->off - fa->size);
		fa->size = o->off;
		break;
	case OP_RENAME:
		tmp = fb->data;
		*fb = *fa;
		fa->data = tmp;
		fa->exists = 0;
		fa->size = 0;
		break;
	case OP_UNLINK:
		fa->exists = 0;
		fa->size = 0;
		break;
	case OP_MKSUB:
		m->sub_exists = 1;
		break;
	case OP_RMSUB:
		m->sub_exists = 0;
		break;
	default:
		break;
	}
}

/* Performs o on the file system; 0, or an errno. */
static int fs_apply(const char *dir, const struct op *o)
{
	static unsigned char buf[MAX_WRITE];
	char pa[4096], pb[4096];
	int fd, err = 0;

	slot_path(pa, sizeof(pa), dir, o->a);
	slot_path(pb, sizeof(pb), dir, o->b);
	switch (o->kind) {
	case OP_CREATE:
	case OP_APPEND:
	case OP_OVERWRITE:
	case OP_FSYNC_WRITE:
		pattern(buf, o->len, o->fill);
		fd = open(pa, O_WRONLY | (o->kind == OP_CREATE ? O_CREAT | O_EXCL : 0), 0644);
		if (fd < 0)
			return errno;
		if (pwrite(fd, buf, o->len, (off_t)o->off) != (ssize_t)o->len)
			err = errno ? errno : EIO;
		if (!err && o->kind == OP_FSYNC_WRITE && fsync(fd))
			err = errno;
		if (close(fd) && !err)
			err = errno;
		return err;
	case OP_TRUNCATE:
		return truncate(pa, (off_t)o->off) ? errno : 0;
	case OP_RENAME:
		return rename(pa, pb) ? errno : 0;
	case OP_UNLINK:
		return unlink(pa) ? errno : 0;
	case OP_MKSUB:
		snprintf(pa, sizeof(pa), "%s/sub", dir);
		return mkdir(pa, 0755) ? errno : 0;
	case OP_RMSUB:
		snprintf(pa, sizeof(pa), "%s/sub", dir);
		return rmdir(pa) ? errno : 0;
	default:
		return EINVAL;
	}
}

static void model_init(struct model *m)
{
	memset(m, 0, sizeof(*m));
	for (int i = 0; i < NSLOTS; i++) {
		m->f[i].data = calloc(1, MAX_SIZE);
		if (!m->f[i].data) {
			perror("calloc");
			exit(2);
		}
	}
}

static const char *op_name(enum op_kind k)
{
	static const char *names[] = { "create", "append", "overwrite", "truncate", "rename",
				       "unlink", "write+fsync", "mkdir", "rmdir" };

	return names[k];
}

/* The errors a FUSE mount gives once its daemon is gone.  ECANCELED: a
 * request the kernel was handing to a daemon's io_uring queue thread as
 * the thread died (fs/fuse_uring.c; the kernel's fuse_uring_send_in_task). */
static int daemon_died(int err)
{
	return err == ENOTCONN || err == ECONNABORTED || err == EIO || err == ENODEV ||
	       err == ECANCELED;
}

/*
 * EINTR: seen once from a pwrite as the daemon died (kill_loop seed 4605,
 * iteration 26).  The kernel ends a request it fails to copy into a
 * queue thread's ring with the copy's error, and copying into the memory
 * of a task with SIGKILL pending fails with EINTR.  Nothing else signals
 * this process, but EINTR is also what a wrong reply would look like, so
 * it counts as the daemon's death only if the mount answers like a dead
 * one now.
 */
static int mount_is_dead(const char *dir)
{
	struct stat st;

	return stat(dir, &st) != 0 && daemon_died(errno);
}

static int run(const char *dir, const char *log, uint64_t seed)
{
	struct model m;
	uint64_t rng = seed;
	int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	model_init(&m);
	if (logfd < 0) {
		perror(log);
		return 2;
	}
	if (mkdir(dir, 0755)) {
		if (daemon_died(errno))
			return 0; /* killed before the first operation: 0 acknowledged */
		perror(dir);
		return 2;
	}
	for (unsigned long i = 0;; i++) {
		struct op o = next_op(&rng, &m);
		char line[32];
		int err = fs_apply(dir, &o);
		int n;

		if (daemon_died(err) || (err == EINTR && mount_is_dead(dir)))
			return 0; /* the daemon died under us: expected */
		if (err) {
			fprintf(stderr, "killwl: op %lu (%s slot %d->%d): %s\n", i, op_name(o.kind),
				o.a, o.b, strerror(err));
			return 1;
		}
		model_apply(&m, &o);
		n = snprintf(line, sizeof(line), "%lu\n", i);
		if (write(logfd, line, (size_t)n) != n || fdatasync(logfd)) {
			perror("log");
			return 2;
		}
	}
}

/* Number of acknowledged operations: the last index in the log plus one. */
static long acked_ops(const char *log)
{
	FILE *f = fopen(log, "r");
	long last = -1, v;

	if (!f) {
		perror(log);
		exit(2);
	}
	while (fscanf(f, "%ld", &v) == 1)
		last = v;
	fclose(f);
	return last + 1;
}

/* Compares DIR with the model; 0 if equal, else writes why into 'why'. */
static int compare(const char *dir, const struct model *m, char *why, size_t n)
{
	static unsigned char buf[MAX_SIZE + 1];
	char p[4096];
	struct stat st;

	snprintf(p, sizeof(p), "%s/sub", dir);
	if ((stat(p, &st) == 0) != m->sub_exists) {
		snprintf(why, n, "sub: expected %s", m->sub_exists ? "present" : "absent");
		return 1;
	}
	for (int i = 0; i < NSLOTS; i++) {
		const struct file *f = &m->f[i];
		int fd;
		ssize_t got;

		slot_path(p, sizeof(p), dir, i);
		fd = open(p, O_RDONLY);
		if ((fd >= 0) != f->exists) {
			snprintf(why, n, "%s: expected %s, found %s", p,
				 f->exists ? "present" : "absent", fd >= 0 ? "present" : strerror(errno));
			if (fd >= 0)
				close(fd);
			return 1;
		}
		if (fd < 0)
			continue;
		got = pread(fd, buf, sizeof(buf), 0);
		close(fd);
		if (got != (ssize_t)f->size) {
			snprintf(why, n, "%s: expected %zu bytes, found %zd", p, f->size, got);
			return 1;
		}
		for (size_t k = 0; k < f->size; k++)
			if (buf[k] != f->data[k]) {
				snprintf(why, n, "%s: byte %zu: expected %02x, found %02x", p, k,
					 f->data[k], buf[k]);
				return 1;
			}
	}
	/* No extra names either. */
	for (int d = 0; d < 2; d++) {
		DIR *dp;
		struct dirent *e;

		snprintf(p, sizeof(p), d ? "%s/sub" : "%s", dir);
		dp = opendir(p);
		if (!dp)
			continue;
		while ((e = readdir(dp))) {
			int k;

			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
			    (!d && !strcmp(e->d_name, "sub")))
				continue;
			if (e->d_name[0] != 'f' || (k = atoi(e->d_name + 1)) < 0 ||
			    k >= NSLOTS / 2 || !m->f[k + d * NSLOTS / 2].exists) {
				snprintf(why, n, "%s/%s: expected absent, found present", p,
					 e->d_name);
				closedir(dp);
				return 1;
			}
		}
		closedir(dp);
	}
	return 0;
}

static int try_state(const char *dir, const struct model *m, const char *name,
		     const char *want, long acked, char *why, size_t n)
{
	if (want && strcmp(want, name))
		return 1;
	if (compare(dir, m, why, n))
		return 1;
	printf("%s %ld\n", name, acked);
	return 0;
}

static int is_write(enum op_kind k)
{
	return k == OP_CREATE || k == OP_APPEND || k == OP_OVERWRITE || k == OP_FSYNC_WRITE;
}

static int verify(const char *dir, const char *log, uint64_t seed, const char *want)
{
	struct model m;
	uint64_t rng = seed;
	long acked = acked_ops(log);
	char why_a[4400] = "not allowed", why_b[4400] = "not allowed", name[32];
	struct op o;

	model_init(&m);
	for (long i = 0; i < acked; i++) {
		o = next_op(&rng, &m);
		model_apply(&m, &o);
	}
	if (!try_state(dir, &m, "A", want, acked, why_a, sizeof(why_a)))
		return 0;
	o = next_op(&rng, &m);
	if (is_write(o.kind)) {
		/*
		 * Without the writeback cache the kernel splits a write()
		 * at every page it cannot fill completely, so the write in
		 * flight may have landed up to any page boundary (a prefix:
		 * the requests go out in order).  A create may also have
		 * left its file empty: open(O_CREAT) and the first pwrite
		 * are two requests.
		 */
		struct file saved = m.f[o.a];
		unsigned char *copy = malloc(MAX_SIZE);
		size_t first = (o.off / 4096 + 1) * 4096 - o.off;

		if (!copy)
			return 2;
		memcpy(copy, saved.data, MAX_SIZE);
		for (size_t plen = o.kind == OP_CREATE ? 0 : first; plen < o.len;
		     plen = plen < first ? first : plen + 4096) {
			struct op part = o;

			part.len = plen;
			model_apply(&m, &part);
			snprintf(name, sizeof(name), "P%zu", plen);
			if (!try_state(dir, &m, name, want, acked, why_b, sizeof(why_b))) {
				free(copy);
				return 0;
			}
			m.f[o.a].exists = saved.exists;
			m.f[o.a].size = saved.size;
			memcpy(m.f[o.a].data, copy, MAX_SIZE);
		}
		free(copy);
	}
	model_apply(&m, &o);
	if (!try_state(dir, &m, "B", want, acked, why_b, sizeof(why_b)))
		return 0;
	fprintf(stderr,
		"killwl: %s matches neither the %ld acknowledged operations (%s)\n"
		"        nor those plus the one in flight, %s slot %d->%d off %zu len %zu (%s)\n",
		dir, acked, why_a, op_name(o.kind), o.a, o.b, o.off, o.len, why_b);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "run"))
		return run(argv[2], argv[3], strtoull(argv[4], NULL, 0));
	if (argc >= 5 && !strcmp(argv[1], "verify"))
		return verify(argv[2], argv[3], strtoull(argv[4], NULL, 0),
			      argc > 5 ? argv[5] : NULL);
	fprintf(stderr, "usage: killwl run|verify DIR LOG SEED [STATE]\n");
	return 2;
}
