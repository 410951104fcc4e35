/*
 * tree_sig.c - the whole-tree signature the core's crash-point and
 * fault-injection tests compare against their before/after states: one
 * sorted text line per name with its type, mode, owner, link count, size,
 * content hash, xattrs and symlink target (times are left out, so two runs
 * of the same operation compare equal).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "helpers.h"
#include "tree_sig.h"

struct sig {
	char **lines;
	unsigned n, cap;
};

static void sig_add(struct sig *s, const char *line)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->lines = realloc(s->lines, s->cap * sizeof(*s->lines));
	}
	s->lines[s->n++] = strdup(line);
}

struct names {
	char name[64][256];
	unsigned n;
};

static int collect(void *ctx, const char *name, const struct stat *st, uint64_t off)
{
	struct names *ns = ctx;

	(void)st;
	(void)off;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	if (ns->n == 64)
		return 1;
	snprintf(ns->name[ns->n++], 256, "%s", name);
	return 0;
}

static uint64_t content_hash(struct pmfs *fs, pmfs_ino_t ino, uint64_t size)
{
	uint64_t h = 1469598103934665603ULL;
	char buf[65536];

	for (uint64_t off = 0; off < size; off += sizeof(buf)) {
		ssize_t n = pmfs_read(fs, ino, buf, sizeof(buf), (off_t)off);

		if (n <= 0)
			fail_msg("read inode %llu at %llu: expected data, found %zd",
				 (unsigned long long)ino, (unsigned long long)off, n);
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ (unsigned char)buf[i]) * 1099511628211ULL;
	}
	return h;
}

static void walk(struct pmfs *fs, pmfs_ino_t dir, const char *path, struct sig *s)
{
	struct names *ns = calloc(1, sizeof(*ns));

	expect_ok(pmfs_readdir(fs, dir, 0, false, collect, ns));
	for (unsigned i = 0; i < ns->n; i++) {
		char line[1024], xl[256] = "", target[PMFS_SYMLINK_MAX + 1] = "";
		char child[512];
		struct stat st;
		ssize_t xn;

		expect_ok(pmfs_lookup(fs, dir, ns->name[i], &st));
		pmfs_forget(fs, st.st_ino, 1);
		snprintf(child, sizeof(child), "%s/%s", path, ns->name[i]);
		xn = pmfs_listxattr(fs, st.st_ino, xl, sizeof(xl) - 1);
		if (xn > 0)
			for (ssize_t k = 0; k < xn; k++)
				if (!xl[k])
					xl[k] = ',';
		if (S_ISLNK(st.st_mode)) {
			ssize_t tn = pmfs_readlink(fs, st.st_ino, target, sizeof(target) - 1);

			target[tn > 0 ? tn : 0] = 0;
		}
		snprintf(line, sizeof(line),
			 "%s ino=%llu mode=%o uid=%u nlink=%u size=%lld data=%016llx x=%.100s "
			 "t=%.60s/%zu",
			 child, (unsigned long long)st.st_ino, st.st_mode, st.st_uid,
			 (unsigned)st.st_nlink, (long long)st.st_size,
			 S_ISREG(st.st_mode)
			     ? (unsigned long long)content_hash(fs, st.st_ino, (uint64_t)st.st_size)
			     : 0ULL,
			 xl, target, strlen(target));
		sig_add(s, line);
		if (S_ISDIR(st.st_mode))
			walk(fs, st.st_ino, child, s);
	}
	free(ns);
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *tree_signature(struct pmfs *fs)
{
	struct sig s = {0};
	size_t len = 1, pos = 0;
	char *out;
	struct stat root = stat_of(fs, PMFS_ROOT_INO);
	char line[128];

	snprintf(line, sizeof(line), "/ nlink=%u", (unsigned)root.st_nlink);
	sig_add(&s, line);
	walk(fs, PMFS_ROOT_INO, "", &s);
	qsort(s.lines, s.n, sizeof(*s.lines), cmp_lines);
	for (unsigned i = 0; i < s.n; i++)
		len += strlen(s.lines[i]) + 1;
	out = malloc(len);
	for (unsigned i = 0; i < s.n; i++) {
		pos += (size_t)sprintf(out + pos, "%s\n", s.lines[i]);
		free(s.lines[i]);
	}
	out[pos] = 0;
	free(s.lines);
	return out;
}

