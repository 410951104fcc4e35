/*
 * plwork.c - the power-loss workload and its verifier, run inside the devdax
 * VM on a pmemfs mount.
 *
 *   plwork run DIR SEED          random file operations in DIR, forever;
 *                                after each one is durable (fsync of the
 *                                file and the directory) it prints
 *                                "PL ACK k ..." and waits until the serial
 *                                console has sent the line (tcdrain)
 *   plwork verify DIR SEED K     after a power failure: DIR holds the state
 *                                after operation K (the last ACK the host
 *                                saw) or after operation K+1 (the one that
 *                                may have been in flight), nothing else
 *
 * The operation sequence depends only on SEED (every operation succeeds, so
 * the model never depends on the file system), which lets the verifier
 * replay the model without a log.  An operation that renames, replaces or
 * unlinks must be all or nothing.  One that writes data in place (create,
 * append, rewrite) may leave its file torn: then only the untouched parts
 * are checked (the appended-to prefix, or nothing for a fresh file), as
 * POSIX promises nothing about unsynced data.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define SLOTS 24	      /* file names; half of them in the subdirectory "d" */
#define MAX_CHUNK (192 << 10) /* bytes one operation writes, at most */

enum op_type { OP_CREATE, OP_REPLACE, OP_APPEND, OP_REWRITE, OP_UNLINK, OP_RENAME };
static const char *const op_names[] = {"create",  "replace", "append",
				       "rewrite", "unlink",  "rename"};

struct file_state {
	bool exists;
	uint64_t size;
	uint64_t hash; /* FNV-1a of the whole content: extendable by appends */
};

struct op {
	enum op_type type;
	int slot, to; /* to: the rename target */
	uint64_t len; /* bytes written */
};

static uint64_t rng;
static struct file_state model[SLOTS];

#define FNV_OFFSET 0xcbf29ce484222325ull

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

static uint64_t next_rand(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void slot_path(int slot, char *buf, size_t size)
{
	snprintf(buf, size, slot < SLOTS / 2 ? "f%02d" : "d/f%02d", slot);
}

/* The bytes operation k writes: fill buf[0..len) (len <= MAX_CHUNK). */
static void op_data(uint64_t k, uint8_t *buf, size_t len)
{
	uint64_t x = k * 0xd1b54a32d192ed03ull;

	for (size_t i = 0; i < len; i++) {
		if (i % 8 == 0) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		buf[i] = (uint8_t)(x >> (8 * (i % 8)));
	}
}

static int random_slot(bool exists)
{
	int n = 0, pick, i;

	for (i = 0; i < SLOTS; i++)
		n += model[i].exists == exists;
	if (n == 0)
		return -1;
	pick = (int)(next_rand() % (uint64_t)n);
	for (i = 0; i < SLOTS; i++)
		if (model[i].exists == exists && pick-- == 0)
			return i;
	return -1;
}

/* Chooses operation k from the model alone; the caller then applies it. */
static struct op choose(void)
{
	struct op op = {.to = -1};

	for (;;) {
		uint64_t r = next_rand() % 100;

		op.len = 1 + next_rand() % MAX_CHUNK;
		if (r < 30) {
			op.type = OP_CREATE;
			op.slot = random_slot(false);
		} else if (r < 50) {
			op.type = OP_REPLACE;
			op.slot = (int)(next_rand() % SLOTS);
		} else if (r < 65) {
			op.type = OP_APPEND;
			op.slot = random_slot(true);
		} else if (r < 75) {
			op.type = OP_REWRITE;
			op.slot = random_slot(true);
		} else if (r < 88) {
			op.type = OP_UNLINK;
			op.slot = random_slot(true);
		} else {
			op.type = OP_RENAME;
			op.slot = random_slot(true);
			op.to = (int)(next_rand() % SLOTS);
			if (op.to == op.slot)
				continue;
		}
		if (op.slot >= 0)
			return op;
	}
}

static uint64_t data_hash(uint64_t h, uint64_t k, uint64_t len, uint8_t *buf)
{
	op_data(k, buf, len);
	return fnv(h, buf, len);
}

/* The model after operation k. */
static void apply_model(const struct op *op, uint64_t k, uint8_t *buf)
{
	struct file_state *f = &model[op->slot];

	switch (op->type) {
	case OP_CREATE:
	case OP_REPLACE:
	case OP_REWRITE:
		f->exists = true;
		f->size = op->len;
		f->hash = data_hash(FNV_OFFSET, k, op->len, buf);
		break;
	case OP_APPEND:
		f->size += op->len;
		f->hash = data_hash(f->hash, k, op->len, buf);
		break;
	case OP_UNLINK:
		f->exists = false;
		break;
	case OP_RENAME:
		model[op->to] = *f;
		f->exists = false;
		break;
	}
}

static void die(const char *what, const char *path)
{
	printf("FAIL: plwork: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static void fsync_dir(int dirfd, const char *sub)
{
	int fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY);

	if (fd < 0 || fsync(fd) < 0)
		die("fsync of directory", sub);
	close(fd);
}

static const char *parent_of(int slot)
{
	return slot < SLOTS / 2 ? "." : "d";
}

static void write_file(int dirfd, const char *path, int flags, uint64_t k, uint64_t len,
		       uint8_t *buf)
{
	int fd = openat(dirfd, path, flags, 0644);
	size_t done = 0;

	if (fd < 0)
		die("open", path);
	op_data(k, buf, len);
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n <= 0)
			die("write", path);
		done += (size_t)n;
	}
	if (fsync(fd) < 0)
		die("fsync", path);
	close(fd);
}

static void apply_fs(int dirfd, const struct op *op, uint64_t k, uint8_t *buf)
{
	char path[32], to[32], tmp[32];

	slot_path(op->slot, path, sizeof(path));
	switch (op->type) {
	case OP_CREATE:
		write_file(dirfd, path, O_WRONLY | O_CREAT | O_EXCL, k, op->len, buf);
		break;
	case OP_REPLACE:
		snprintf(tmp, sizeof(tmp), "tmp.%" PRIu64, k);
		write_file(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL, k, op->len, buf);
		if (renameat(dirfd, tmp, dirfd, path) < 0)
			die("rename to", path);
		fsync_dir(dirfd, ".");
		break;
	case OP_APPEND:
		write_file(dirfd, path, O_WRONLY | O_APPEND, k, op->len, buf);
		break;
	case OP_REWRITE:
		write_file(dirfd, path, O_WRONLY | O_TRUNC, k, op->len, buf);
		break;
	case OP_UNLINK:
		if (unlinkat(dirfd, path, 0) < 0)
			die("unlink", path);
		break;
	case OP_RENAME:
		slot_path(op->to, to, sizeof(to));
		if (renameat(dirfd, path, dirfd, to) < 0)
			die("rename to", to);
		fsync_dir(dirfd, parent_of(op->to));
		break;
	}
	fsync_dir(dirfd, parent_of(op->slot));
}

/* Flushes the line and waits until the UART has sent it to the host. */
static void ack(uint64_t k, const struct op *op)
{
	const struct file_state *f = &model[op->type == OP_RENAME ? op->to : op->slot];

	printf("PL ACK %" PRIu64 " %s f%02d size %" PRIu64 " hash %016" PRIx64 "\n", k,
	       op_names[op->type], op->type == OP_RENAME ? op->to : op->slot, f->size, f->hash);
	fflush(stdout);
	/* On the console the host must have the line before the next
	 * operation starts; a file (the self-test) needs nothing. */
	if (isatty(STDOUT_FILENO) && tcdrain(STDOUT_FILENO) < 0)
		die("tcdrain", "stdout");
}

static int open_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	if (fd < 0)
		die("open", dir);
	return fd;
}

static int cmd_run(const char *dir, uint64_t max_ops)
{
	uint8_t *buf = malloc(MAX_CHUNK);
	int dirfd;

	if (buf == NULL)
		return 1;
	if (mkdir(dir, 0755) < 0)
		die("mkdir", dir);
	dirfd = open_dir(dir);
	if (mkdirat(dirfd, "d", 0755) < 0)
		die("mkdir", "d");
	fsync_dir(dirfd, ".");
	fsync_dir(dirfd, "..");
	printf("PL START %s\n", dir);
	for (uint64_t k = 1; k <= max_ops; k++) {
		struct op op = choose();

		apply_fs(dirfd, &op, k, buf);
		apply_model(&op, k, buf);
		ack(k, &op);
	}
	printf("PL DONE %" PRIu64 "\n", max_ops);
	return 0;
}

/* What is on the file system for one slot. */
static struct file_state observe(int dirfd, int slot, uint64_t prefix, uint64_t *prefix_hash,
				 uint8_t *buf)
{
	struct file_state s = {.hash = FNV_OFFSET};
	char path[32];
	struct stat st;
	uint64_t pos = 0;
	int fd;

	slot_path(slot, path, sizeof(path));
	*prefix_hash = FNV_OFFSET;
	fd = openat(dirfd, path, O_RDONLY);
	if (fd < 0) {
		if (errno != ENOENT)
			die("open", path);
		return s;
	}
	if (fstat(fd, &st) < 0)
		die("stat", path);
	s.exists = true;
	s.size = (uint64_t)st.st_size;
	for (;;) {
		ssize_t n = read(fd, buf, MAX_CHUNK);

		if (n < 0)
			die("read", path);
		if (n == 0)
			break;
		if (pos < prefix)
			*prefix_hash =
			    fnv(*prefix_hash, buf,
				(size_t)(prefix - pos < (uint64_t)n ? prefix - pos : (uint64_t)n));
		s.hash = fnv(s.hash, buf, (size_t)n);
		pos += (uint64_t)n;
	}
	close(fd);
	if (pos != s.size)
		printf("NOTE: %s: read %" PRIu64 " bytes, st_size %" PRIu64 "\n", path, pos,
		       s.size);
	return s;
}

static bool same(const struct file_state *a, const struct file_state *b)
{
	if (a->exists != b->exists)
		return false;
	return !a->exists || (a->size == b->size && a->hash == b->hash);
}

static void describe(const char *what, int slot, const struct file_state *s)
{
	if (s->exists)
		printf("  %s f%02d: size %" PRIu64 " hash %016" PRIx64 "\n", what, slot, s->size,
		       s->hash);
	else
		printf("  %s f%02d: absent\n", what, slot);
}

/*
 * Directory entries other than the slots' names, "d" and the temporary name
 * of operation k_next (a replace in flight) must not exist.
 */
static int stray_entries(const char *dir, const char *sub, uint64_t k_next)
{
	char tmp[32], path[4096];
	struct dirent *de;
	int strays = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	if (d == NULL)
		die("opendir", path);
	snprintf(tmp, sizeof(tmp), "tmp.%" PRIu64, k_next);
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		unsigned v;
		char c;

		if (!strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, tmp) ||
		    (!strcmp(sub, ".") && !strcmp(n, "d")))
			continue;
		if (sscanf(n, "f%2u%c", &v, &c) == 1 && strlen(n) == 3 && v < SLOTS &&
		    ((int)v < SLOTS / 2) == !strcmp(sub, "."))
			continue;
		printf("  unexpected entry %s/%s\n", sub, n);
		strays++;
	}
	closedir(d);
	return strays;
}

static int cmd_verify(const char *dir, uint64_t acked)
{
	struct file_state before[SLOTS], after[SLOTS], disk[SLOTS];
	uint64_t prefix_hash[SLOTS];
	uint8_t *buf = malloc(MAX_CHUNK);
	bool match_before = true, match_after = true, torn_ok = true;
	struct op next;
	int dirfd, strays, i;

	if (buf == NULL)
		return 1;
	if (acked == 0) {
		/* Even the directory may be lost: nothing was promised. */
		printf("PASS: %s: no operation was acknowledged, nothing to check\n", dir);
		return 0;
	}
	for (uint64_t k = 1; k <= acked; k++) {
		struct op op = choose();

		apply_model(&op, k, buf);
	}
	memcpy(before, model, sizeof(model));
	next = choose();
	apply_model(&next, acked + 1, buf);
	memcpy(after, model, sizeof(model));

	dirfd = open_dir(dir);
	for (i = 0; i < SLOTS; i++) {
		disk[i] = observe(dirfd, i, before[i].size, &prefix_hash[i], buf);
		match_before &= same(&disk[i], &before[i]);
		match_after &= same(&disk[i], &after[i]);
		/* An in-place write in flight: its file may be torn. */
		if (i != next.slot)
			torn_ok &= same(&disk[i], &before[i]);
	}
	if (next.type == OP_CREATE) {
		torn_ok &= !disk[next.slot].exists || disk[next.slot].size <= next.len;
	} else if (next.type == OP_APPEND) {
		const struct file_state *d = &disk[next.slot], *b = &before[next.slot];

		torn_ok &= d->exists && d->size >= b->size && d->size <= b->size + next.len &&
			   prefix_hash[next.slot] == b->hash;
	} else if (next.type == OP_REWRITE) {
		torn_ok &= disk[next.slot].exists;
	} else {
		torn_ok = false;
	}
	strays = stray_entries(dir, ".", acked + 1) + stray_entries(dir, "d", acked + 1);
	close(dirfd);

	if ((match_before || match_after || torn_ok) && strays == 0) {
		printf("PASS: %s: the %" PRIu64
		       " acknowledged operations survived; operation %" PRIu64
		       " (%s f%02d), in flight, is %s\n",
		       dir, acked, acked + 1, op_names[next.type], next.slot,
		       match_before  ? "not there"
		       : match_after ? "complete"
				     : "torn (in-place data)");
		return 0;
	}
	printf("FAIL: %s: expected the state after operation %" PRIu64 " or %" PRIu64
	       " (a %s of f%02d), got %s:\n",
	       dir, acked, acked + 1, op_names[next.type], next.slot,
	       strays ? "stray entries" : "different files");
	for (i = 0; i < SLOTS; i++) {
		if (same(&disk[i], &before[i]) && same(&disk[i], &after[i]))
			continue;
		describe("after op K   ", i, &before[i]);
		describe("after op K+1 ", i, &after[i]);
		describe("on pmemfs    ", i, &disk[i]);
	}
	return 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && argc <= 5 && strcmp(argv[1], "run") == 0) {
		rng = strtoull(argv[3], NULL, 0);
		return cmd_run(argv[2], argc == 5 ? strtoull(argv[4], NULL, 0) : UINT64_MAX);
	}
	if (argc == 5 && strcmp(argv[1], "verify") == 0) {
		rng = strtoull(argv[3], NULL, 0);
		return cmd_verify(argv[2], strtoull(argv[4], NULL, 0));
	}
	fprintf(stderr, "usage: plwork run DIR SEED [MAX_OPS] | verify DIR SEED ACKED\n");
	return 2;
}
