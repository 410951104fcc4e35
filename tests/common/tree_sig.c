/*
 * tree_sig.c - the whole-tree signature of the crash-state explorer and the
 * core's crash-point and fault tests (see tree_sig.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tree_sig.h"

#define MAX_NAMES 256
#define MAX_DEPTH 16

struct sig {
	char **lines;
	unsigned n, cap;
	int err;
};

static void add(struct sig *s, const char *line)
{
	if (s->n == s->cap) {
		unsigned cap = s->cap ? s->cap * 2 : 64;
		char **p = realloc(s->lines, cap * sizeof(*p));

		if (!p) {
			s->err = -ENOMEM;
			return;
		}
		s->lines = p;
		s->cap = cap;
	}
	if (!(s->lines[s->n] = strdup(line)))
		s->err = -ENOMEM;
	else
		s->n++;
}

struct names {
	char (*name)[PMFS_NAME_MAX + 1];
	unsigned n;
};

static int collect(void *ctx, const char *name, const struct stat *st, uint64_t off)
{
	struct names *ns = ctx;

	(void)st;
	(void)off;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	if (ns->n == MAX_NAMES)
		return 1;
	snprintf(ns->name[ns->n++], PMFS_NAME_MAX + 1, "%s", name);
	return 0;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 1099511628211ULL;
	return h;
}

static int content_hash(struct pmfs *fs, pmfs_ino_t ino, uint64_t size, uint64_t *out)
{
	static char buf[65536];
	uint64_t h = 1469598103934665603ULL;

	for (uint64_t off = 0; off < size;) {
		ssize_t n = pmfs_read(fs, ino, buf, sizeof(buf), (off_t)off);

		if (n <= 0)
			return n < 0 ? (int)n : -EIO;
		h = fnv(h, buf, (size_t)n);
		off += (uint64_t)n;
	}
	*out = h;
	return 0;
}

/* "name=hash,..." of the xattrs, in listing order. */
static void xattrs(struct pmfs *fs, pmfs_ino_t ino, char *out, size_t outlen)
{
	char list[4096], val[4096];
	ssize_t n = pmfs_listxattr(fs, ino, list, sizeof(list));
	size_t pos = 0;

	out[0] = 0;
	for (ssize_t k = 0; n > 0 && k < n; k += (ssize_t)strlen(list + k) + 1) {
		ssize_t vn = pmfs_getxattr(fs, ino, list + k, val, sizeof(val));
		int w = snprintf(out + pos, outlen - pos, "%s=%016llx,", list + k,
				 (unsigned long long)(vn >= 0 ? fnv(1469598103934665603ULL, val,
								    (size_t)vn)
							      : 0));

		if (w < 0 || (size_t)w >= outlen - pos)
			break;
		pos += (size_t)w;
	}
}

struct walk_opts {
	const char *mixed;
	unsigned flags;
};

static void walk(struct pmfs *fs, pmfs_ino_t dir, const char *path, unsigned depth,
		 const struct walk_opts *o, struct sig *s)
{
	struct names ns = { calloc(MAX_NAMES, PMFS_NAME_MAX + 1), 0 };
	int err;

	if (!ns.name) {
		s->err = -ENOMEM;
		return;
	}
	err = pmfs_readdir(fs, dir, 0, false, collect, &ns);
	if (err < 0)
		s->err = err;
	for (unsigned i = 0; i < ns.n && !s->err; i++) {
		char line[1300], child[1024], xl[512], target[PMFS_SYMLINK_MAX + 1] = "";
		char ino[32] = "", times[80] = "";
		uint64_t h = 0;
		struct stat st;

		if ((err = pmfs_lookup(fs, dir, ns.name[i], &st))) {
			s->err = err;
			break;
		}
		snprintf(child, sizeof(child), "%s/%s", path, ns.name[i]);
		xattrs(fs, st.st_ino, xl, sizeof(xl));
		if (S_ISLNK(st.st_mode)) {
			ssize_t tn = pmfs_readlink(fs, st.st_ino, target, sizeof(target) - 1);

			target[tn > 0 ? tn : 0] = 0;
		}
		if (S_ISREG(st.st_mode) && !(o->mixed && !strcmp(child, o->mixed)) &&
		    (err = content_hash(fs, st.st_ino, (uint64_t)st.st_size, &h)))
			s->err = err;
		if (o->flags & TREE_SIG_INO)
			snprintf(ino, sizeof(ino), " ino=%llu", (unsigned long long)st.st_ino);
		if (o->flags & TREE_SIG_TIMES)
			snprintf(times, sizeof(times), " mtime=%lld.%09ld ctime=%lld.%09ld",
				 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
				 (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
		snprintf(line, sizeof(line),
			 "%s%s mode=%o uid=%u gid=%u nlink=%u size=%lld data=%016llx%s x=%s t=%016llx",
			 child, ino, st.st_mode, st.st_uid, st.st_gid, (unsigned)st.st_nlink,
			 S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size, (unsigned long long)h,
			 times, xl,
			 (unsigned long long)fnv(1469598103934665603ULL, target, strlen(target)));
		add(s, line);
		if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH)
			walk(fs, st.st_ino, child, depth + 1, o, s);
		pmfs_forget(fs, st.st_ino, 1);
	}
	free(ns.name);
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *tree_signature_ex(struct pmfs *fs, const char *mixed, unsigned flags, int *err)
{
	const struct walk_opts o = { mixed, flags };
	struct sig s = { 0 };
	struct stat root;
	char line[256], *out = NULL;
	size_t len = 1, pos = 0;

	*err = pmfs_getattr(fs, PMFS_ROOT_INO, &root);
	if (*err)
		return NULL;
	snprintf(line, sizeof(line), "/ mode=%o nlink=%u", root.st_mode, (unsigned)root.st_nlink);
	if (flags & TREE_SIG_TIMES)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " mtime=%lld.%09ld",
			 (long long)root.st_mtim.tv_sec, root.st_mtim.tv_nsec);
	add(&s, line);
	walk(fs, PMFS_ROOT_INO, "", 0, &o, &s);
	if (!s.err) {
		qsort(s.lines, s.n, sizeof(*s.lines), cmp_lines);
		for (unsigned i = 0; i < s.n; i++)
			len += strlen(s.lines[i]) + 1;
		out = malloc(len);
	}
	for (unsigned i = 0; i < s.n; i++) {
		if (out)
			pos += (size_t)sprintf(out + pos, "%s\n", s.lines[i]);
		free(s.lines[i]);
	}
	if (out)
		out[pos] = 0;
	free(s.lines);
	*err = out ? 0 : (s.err ? s.err : -ENOMEM);
	return out;
}
