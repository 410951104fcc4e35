/*
 * model_test.c - a seeded random sequence of ~20k operations (create,
 * mkdir, unlink, rmdir, rename in all three modes, link, symlink, write,
 * truncate, punch, xattrs) applied both to the file system and to an
 * in-memory model; every return code is compared as it happens, the whole
 * tree (names, inode numbers, types, link counts, sizes, contents,
 * xattrs, symlink targets) after the run, again after a remount, and fsck
 * must find the image clean.  PMFS_MODEL_SEED=<n> replays a seed.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helpers.h"

#define MiB (1024ULL * 1024)
#define MAXI 8192
#define MAXE 8192
#define NNAMES 16
#define MAXFILE (96 * 1024)

struct minode {
	bool used;
	char type; /* 'f', 'd', 'l' */
	unsigned nlink;
	pmfs_ino_t real;
	unsigned char *data;
	size_t size;
	int parent;	 /* dirs */
	char target[40]; /* symlinks */
	bool has_x;
	char xval[16];
};

struct mentry {
	bool used;
	int dir, ino;
	char name[8];
};

static struct minode mi[MAXI];
static struct mentry me[MAXE];
static struct pmfs *fs;
static uint64_t rng;
static unsigned step;

static unsigned rnd(unsigned n)
{
	return (unsigned)(rng_next(&rng) % n);
}

static int find_entry(int dir, const char *name)
{
	for (int i = 0; i < MAXE; i++)
		if (me[i].used && me[i].dir == dir && strcmp(me[i].name, name) == 0)
			return i;
	return -1;
}

static int children(int dir)
{
	int n = 0;

	for (int i = 0; i < MAXE; i++)
		n += me[i].used && me[i].dir == dir;
	return n;
}

static void add_entry(int dir, const char *name, int ino)
{
	for (int i = 0; i < MAXE; i++) {
		if (!me[i].used) {
			me[i] = (struct mentry){true, dir, ino, ""};
			snprintf(me[i].name, sizeof(me[i].name), "%s", name);
			return;
		}
	}
	fail_msg("model entry table full");
}

static int new_inode(char type, pmfs_ino_t real)
{
	for (int i = 1; i < MAXI; i++) {
		if (!mi[i].used) {
			free(mi[i].data);
			mi[i] = (struct minode){.used = true, .type = type, .real = real};
			mi[i].nlink = type == 'd' ? 2 : 1;
			return i;
		}
	}
	fail_msg("model inode table full");
	return -1;
}

static void drop_inode(int i)
{
	free(mi[i].data);
	memset(&mi[i], 0, sizeof(mi[i]));
}

static unsigned n_ok, n_err;

static void check_rc(const char *op, long long got, long long want)
{
	if (got < 0)
		n_err++;
	else
		n_ok++;
	if (got != want)
		fail_msg("step %u %s: expected %lld, found %lld (seed %llu)", step, op, want, got,
			 (unsigned long long)rng);
}

/* A random live directory: scan from a random slot. */
static int random_dir(void)
{
	int start = (int)rnd(MAXI);

	for (int k = 0; k < MAXI; k++) {
		int i = (start + k) % MAXI;

		if (mi[i].used && mi[i].type == 'd')
			return i;
	}
	return 1;
}

static void random_name(char *name)
{
	snprintf(name, 8, "n%u", rnd(NNAMES));
}

static bool is_ancestor(int a, int b)
{
	for (int hops = 0; hops < MAXI; hops++) {
		if (a == b)
			return true;
		if (b == 1)
			return false;
		b = mi[b].parent;
	}
	return false;
}

static void op_create(char type)
{
	int d = random_dir(), e;
	char name[8];
	struct stat st;
	int rc;

	random_name(name);
	e = find_entry(d, name);
	if (type == 'f')
		rc = pmfs_create(fs, mi[d].real, name, 0644, 0, 0, &st);
	else if (type == 'd')
		rc = pmfs_mkdir(fs, mi[d].real, name, 0755, 0, 0, &st);
	else
		rc = pmfs_symlink(fs, mi[d].real, name, "target-of-link", 0, 0, &st);
	check_rc("create", rc, e >= 0 ? -EEXIST : 0);
	if (rc)
		return;
	pmfs_forget(fs, st.st_ino, 1);
	int i = new_inode(type, st.st_ino);
	if (type == 'd') {
		mi[i].parent = d;
		mi[d].nlink++;
	}
	if (type == 'l') {
		strcpy(mi[i].target, "target-of-link");
		mi[i].size = strlen(mi[i].target);
	}
	add_entry(d, name, i);
}

static void unref(int i)
{
	if (mi[i].type == 'd')
		mi[i].nlink = 0;
	else
		mi[i].nlink--;
	if (mi[i].nlink == 0)
		drop_inode(i);
}

static void op_remove(bool dir)
{
	int d = random_dir(), e, want = 0;
	char name[8];

	random_name(name);
	e = find_entry(d, name);
	if (e < 0)
		want = -ENOENT;
	else if (dir && mi[me[e].ino].type != 'd')
		want = -ENOTDIR;
	else if (!dir && mi[me[e].ino].type == 'd')
		want = -EISDIR;
	else if (dir && children(me[e].ino))
		want = -ENOTEMPTY;
	check_rc(dir ? "rmdir" : "unlink",
		 dir ? pmfs_rmdir(fs, mi[d].real, name) : pmfs_unlink(fs, mi[d].real, name), want);
	if (want)
		return;
	if (dir)
		mi[d].nlink--;
	me[e].used = false;
	unref(me[e].ino);
}

static void op_rename(void)
{
	int d1 = random_dir(), d2 = random_dir(), e1, e2, want = 0, s, t = 0;
	unsigned flags = (unsigned[]){0, 0, PMFS_RENAME_NOREPLACE, PMFS_RENAME_EXCHANGE}[rnd(4)];
	char n1[8], n2[8];
	bool cross = d1 != d2, sdir, tdir = false;

	random_name(n1);
	random_name(n2);
	e1 = find_entry(d1, n1);
	e2 = find_entry(d2, n2);
	s = e1 >= 0 ? me[e1].ino : 0;
	if (e2 >= 0) {
		t = me[e2].ino;
		tdir = mi[t].type == 'd';
	}
	sdir = s && mi[s].type == 'd';
	if (!s)
		want = -ENOENT;
	else if ((flags & PMFS_RENAME_EXCHANGE) && !t)
		want = -ENOENT;
	else if ((flags & PMFS_RENAME_NOREPLACE) && t)
		want = -EEXIST;
	else if (t == s)
		want = 1; /* no-op */
	else if (!(flags & PMFS_RENAME_EXCHANGE) && t && sdir && !tdir)
		want = -ENOTDIR;
	else if (!(flags & PMFS_RENAME_EXCHANGE) && t && !sdir && tdir)
		want = -EISDIR;
	else if (cross && sdir && is_ancestor(s, d2))
		want = -EINVAL;
	else if (t && (t == d1 || t == d2))
		want = (flags & PMFS_RENAME_EXCHANGE) ? -EINVAL : -ENOTEMPTY;
	else if (cross && (flags & PMFS_RENAME_EXCHANGE) && tdir && is_ancestor(t, d1))
		want = -EINVAL;
	else if (!(flags & PMFS_RENAME_EXCHANGE) && tdir && children(t))
		want = -ENOTEMPTY;
	check_rc("rename", pmfs_rename(fs, mi[d1].real, n1, mi[d2].real, n2, flags),
		 want == 1 ? 0 : want);
	if (want)
		return;
	if (flags & PMFS_RENAME_EXCHANGE) {
		me[e1].ino = t;
		me[e2].ino = s;
		if (cross) {
			if (sdir)
				mi[s].parent = d2, mi[d1].nlink--, mi[d2].nlink++;
			if (tdir)
				mi[t].parent = d1, mi[d2].nlink--, mi[d1].nlink++;
		}
		return;
	}
	if (t) {
		if (tdir)
			mi[d2].nlink--;
		me[e2].ino = s;
		unref(t);
	} else {
		add_entry(d2, n2, s);
	}
	me[e1].used = false;
	if (sdir) {
		mi[d1].nlink--;
		mi[d2].nlink++;
		mi[s].parent = d2;
	}
}

static int random_file(void)
{
	int start = (int)rnd(MAXE);

	for (int k = 0; k < MAXE; k++) {
		int e = (start + k) % MAXE;

		if (me[e].used && mi[me[e].ino].type == 'f')
			return me[e].ino;
	}
	return 0;
}

static void op_link(void)
{
	int f = random_file(), d = random_dir(), e;
	char name[8];

	if (!f)
		return;
	random_name(name);
	e = find_entry(d, name);
	check_rc("link", pmfs_link(fs, mi[f].real, mi[d].real, name, NULL), e >= 0 ? -EEXIST : 0);
	if (e >= 0)
		return;
	pmfs_forget(fs, mi[f].real, 1);
	mi[f].nlink++;
	add_entry(d, name, f);
}

static void resize(struct minode *m, size_t size)
{
	unsigned char *p = realloc(m->data, size ? size : 1);

	if (size > m->size)
		memset(p + m->size, 0, size - m->size);
	m->data = p;
	m->size = size;
}

static void op_write(void)
{
	int f = random_file();
	size_t off = rnd(MAXFILE - 16384), len = 1 + rnd(16384);
	unsigned char buf[16384];

	if (!f)
		return;
	fill_pattern(buf, len, step, off);
	check_rc("write", pmfs_write(fs, mi[f].real, buf, len, (off_t)off, 0), (long long)len);
	if (off + len > mi[f].size)
		resize(&mi[f], off + len);
	memcpy(mi[f].data + off, buf, len);
}

static void op_truncate(void)
{
	int f = random_file();
	struct stat st = {.st_size = (off_t)rnd(MAXFILE)};

	if (!f)
		return;
	check_rc("truncate", pmfs_setattr(fs, mi[f].real, &st, PMFS_SET_SIZE, NULL), 0);
	resize(&mi[f], (size_t)st.st_size);
}

static void op_punch(void)
{
	int f = random_file();
	size_t off = rnd(MAXFILE), len = 1 + rnd(30000);

	if (!f)
		return;
	check_rc("punch",
		 pmfs_fallocate(fs, mi[f].real, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				(off_t)off, (off_t)len),
		 0);
	if (off < mi[f].size)
		memset(mi[f].data + off, 0,
		       (off + len < mi[f].size ? off + len : mi[f].size) - off);
}

static void op_xattr(void)
{
	int f = random_file();
	char val[16];

	if (!f)
		return;
	if (rnd(3) == 0) {
		check_rc("removexattr", pmfs_removexattr(fs, mi[f].real, "user.m"),
			 mi[f].has_x ? 0 : -ENODATA);
		mi[f].has_x = false;
	} else {
		snprintf(val, sizeof(val), "v%u", step);
		check_rc("setxattr", pmfs_setxattr(fs, mi[f].real, "user.m", val, strlen(val), 0),
			 0);
		mi[f].has_x = true;
		strcpy(mi[f].xval, val);
	}
}

static void check_file(int i)
{
	struct minode *m = &mi[i];
	struct stat st = stat_of(fs, m->real);
	char buf[64];

	if ((m->type == 'd') != S_ISDIR(st.st_mode) || (m->type == 'l') != S_ISLNK(st.st_mode))
		fail_msg("inode %llu: type differs from the model", (unsigned long long)m->real);
	check_rc("nlink", st.st_nlink, m->nlink);
	if (m->type == 'f') {
		unsigned char *got = malloc(m->size + 1);

		check_rc("size", st.st_size, (long long)m->size);
		check_rc("read", pmfs_read(fs, m->real, got, m->size + 1, 0), (long long)m->size);
		if (m->size && memcmp(got, m->data, m->size) != 0)
			fail_msg("inode %llu: contents differ from the model",
				 (unsigned long long)m->real);
		free(got);
		ssize_t n = pmfs_getxattr(fs, m->real, "user.m", buf, sizeof(buf));
		check_rc("getxattr", n, m->has_x ? (long long)strlen(m->xval) : -ENODATA);
		if (m->has_x && memcmp(buf, m->xval, (size_t)n) != 0)
			fail_msg("inode %llu: xattr differs", (unsigned long long)m->real);
	}
	if (m->type == 'l') {
		check_rc("readlink", pmfs_readlink(fs, m->real, buf, sizeof(buf)),
			 (long long)strlen(m->target));
	}
}

struct seen {
	char names[64][8];
	pmfs_ino_t inos[64];
	unsigned n;
};

static int collect(void *ctx, const char *name, const struct stat *st, uint64_t off)
{
	struct seen *s = ctx;

	(void)off;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	if (s->n == 64)
		return 1;
	snprintf(s->names[s->n], 8, "%s", name);
	s->inos[s->n++] = st->st_ino;
	return 0;
}

static void compare_tree(void)
{
	for (int d = 1; d < MAXI; d++) {
		struct seen s = {.n = 0};

		if (!mi[d].used)
			continue;
		check_file(d);
		if (mi[d].type != 'd')
			continue;
		expect_ok(pmfs_readdir(fs, mi[d].real, 0, false, collect, &s));
		check_rc("entries", s.n, children(d));
		for (unsigned k = 0; k < s.n; k++) {
			int e = find_entry(d, s.names[k]);

			if (e < 0 || mi[me[e].ino].real != s.inos[k])
				fail_msg("dir %llu: entry %s -> %llu not in the model",
					 (unsigned long long)mi[d].real, s.names[k],
					 (unsigned long long)s.inos[k]);
		}
	}
}

static void test_random_ops_match_model_across_remount(void **state)
{
	struct core_env env;
	const char *seed_env = getenv("PMFS_MODEL_SEED");
	uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0) : (uint64_t)time(NULL);
	unsigned nops = 20000;

	(void)state;
	printf("model test seed %llu (replay: PMFS_MODEL_SEED=%llu)\n", (unsigned long long)seed,
	       (unsigned long long)seed);
	rng = seed;
	core_setup(&env, "model", 128 * MiB, 0);
	fs = env.fs;
	memset(mi, 0, sizeof(mi));
	memset(me, 0, sizeof(me));
	mi[1] = (struct minode){
	    .used = true, .type = 'd', .nlink = 2, .real = PMFS_ROOT_INO, .parent = 1};
	mi[1].nlink = (unsigned)stat_of(fs, PMFS_ROOT_INO).st_nlink;
	for (step = 0; step < nops; step++) {
		switch (rnd(16)) {
		case 0:
		case 1:
			op_create('f');
			break;
		case 2:
			op_create('d');
			break;
		case 3:
			op_create('l');
			break;
		case 4:
			op_remove(false);
			break;
		case 5:
			op_remove(true);
			break;
		case 6:
		case 7:
			op_rename();
			break;
		case 8:
			op_link();
			break;
		case 9:
		case 10:
		case 11:
			op_write();
			break;
		case 12:
			op_truncate();
			break;
		case 13:
			op_punch();
			break;
		case 14:
			op_xattr();
			break;
		case 15: {
			int f = random_file();

			if (f)
				check_file(f);
			break;
		}
		}
	}
	printf("%u ops: %u checks succeeded, %u returned the expected error\n", nops, n_ok, n_err);
	if (n_err < nops / 20 || n_ok < nops / 4)
		fail_msg("expected a mix of successes and errors, found %u and %u", n_ok, n_err);
	compare_tree();
	core_remount(&env);
	fs = env.fs;
	compare_tree();
	core_teardown(&env);
	for (int i = 0; i < MAXI; i++)
		free(mi[i].data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_ops_match_model_across_remount),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
