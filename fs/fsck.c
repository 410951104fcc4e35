/*
 * fsck.c - the offline checker and repairer of an unmounted pmemfs.
 *
 * Order: superblocks (primary, backup, their agreement), the journal
 * (committed lanes are replayed, malformed ones discarded), then passes over
 * the metadata: inodes (fields, extent maps, xattr blocks), the directory
 * tree walked from the root (entries, hashes, types, a single parent per
 * directory, so no cycles), unreachable inodes, link counts and '..', the
 * orphan list, block ownership (each block owned once, 'blocks' fields) and
 * the bitmap against ownership.
 *
 * With repair, a pass fixes what is safe and the passes run again until one
 * fixes nothing (a cleared inode may make its entries or children wrong);
 * then a last read-only pass counts what is left.  Repairs are plain
 * persistent stores, fenced at the end of each pass, without the journal:
 * fsck runs alone on an unmounted device, and if it is interrupted the next
 * run finds and fixes whatever is still wrong.  No lost+found exists:
 * inodes that no directory reaches (and that are not orphans) are freed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "badblocks.h"
#include "fsck.h"
#include "hash.h"
#include "internal.h"
#include "persist.h"

#define MAX_PASSES 8
#define MAX_LINES_PER_KIND 20

struct ino_info {
	uint32_t refs;	       /* entries naming it, in reached directories */
	uint32_t subdirs;      /* directories: child directories */
	uint64_t entry_parent; /* the directory holding its first entry */
	char *name;	       /* its name there */
	bool valid;	       /* allocated and sound */
	bool reached;	       /* found from the root */
	bool on_list;	       /* on the orphan list */
};

struct fsck {
	struct pmfs fs;
	const char *device;
	bool repair; /* this pass fixes */
	bool final;  /* this pass reports unfixable problems */
	struct ino_info *ii;
	uint64_t ninodes;
	uint64_t *claimed; /* blocks owned by an inode */
	unsigned pass_fixed, pass_left;
	unsigned dup_lines, bitmap_lines;
	struct pmfs_fsck_report *rep;
	size_t len, cap;
	uint64_t used_inodes;
	uint64_t used_blocks;	   /* data blocks owned by inodes */
	struct pmfs_badblocks bad; /* the device's known bad blocks */
};

/* ---- the report ------------------------------------------------------------ */

static void emit(struct fsck *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct fsck *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = f->cap - f->len;

		va_start(ap, fmt);
		n = vsnprintf(f->rep->text + f->len, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			f->len += (size_t)n;
			return;
		}
		char *t = realloc(f->rep->text, f->cap * 2 + (size_t)n);

		if (t == NULL)
			return;
		f->rep->text = t;
		f->cap = f->cap * 2 + (size_t)n;
	}
}

/* "/a/b" for inodes the walk named, "?" where the chain breaks. */
static const char *path_of(struct fsck *f, uint64_t ino, char *buf, size_t len)
{
	size_t pos = len - 1;

	buf[pos] = '\0';
	if (ino == PMFS_ROOT_INO)
		return "/";
	for (int depth = 0; ino != PMFS_ROOT_INO; depth++) {
		const char *name = ino < f->ninodes ? f->ii[ino].name : NULL;
		size_t n = name ? strlen(name) : 1;

		if (name == NULL || depth > 64 || n + 1 > pos)
			return "?";
		pos -= n;
		memcpy(buf + pos, name, n);
		buf[--pos] = '/';
		ino = f->ii[ino].entry_parent;
	}
	return buf + pos;
}

/*
 * One problem.  Returns true when the caller must fix it now.  Repair
 * passes print only what they fix; the final pass prints what is left.  A
 * fixable message ends in "; <action>": printed as is with " (fixed)" when
 * fixed, else as "<message> (-y: <action>)".
 */
static bool problem(struct fsck *f, bool fixable, uint64_t ino, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool problem(struct fsck *f, bool fixable, uint64_t ino, const char *fmt, ...)
{
	char msg[400], path[512], tail[160];
	bool fix = f->repair && fixable;
	char *action = NULL;
	va_list ap;

	if (!fix && !f->final)
		return false;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = strstr(msg, "; "); p; p = strstr(p + 2, "; "))
		action = p;
	if (fix) {
		snprintf(tail, sizeof(tail), " (fixed)");
	} else if (fixable) {
		if (action)
			*action = '\0';
		snprintf(tail, sizeof(tail), " (-y: %s)", action ? action + 2 : "fix");
	} else {
		snprintf(tail, sizeof(tail), " (not fixable)");
	}
	if (ino)
		emit(f, "inode %llu (%s): %s%s\n", (unsigned long long)ino,
		     path_of(f, ino, path, sizeof(path)), msg, tail);
	else
		emit(f, "%s%s\n", msg, tail);
	if (fix) {
		f->pass_fixed++;
		f->rep->fixed++;
	} else {
		f->pass_left++;
	}
	f->rep->found++;
	return fix;
}

/* Like problem() for a line past the per-kind limit: counted, not printed. */
static bool count_only(struct fsck *f, bool fixable)
{
	bool fix = f->repair && fixable;

	if (!fix && !f->final)
		return false;
	if (fix) {
		f->pass_fixed++;
		f->rep->fixed++;
	} else {
		f->pass_left++;
	}
	f->rep->found++;
	return fix;
}

/* ---- small helpers ------------------------------------------------------------ */

static struct pmfs_inode *inode_at(struct fsck *f, uint64_t ino)
{
	return &f->fs.itable[ino];
}

static bool type_known(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
	case S_IFDIR:
	case S_IFLNK:
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		return true;
	default:
		return false;
	}
}

static bool is_inline_symlink(const struct pmfs_inode *in)
{
	return S_ISLNK(in->mode) && in->size < PMFS_INLINE_SYMLINK;
}

static void store32(uint32_t *p, uint32_t v)
{
	pm_copy(p, &v, sizeof(v));
}

static void clear_inode(struct fsck *f, uint64_t ino)
{
	store32(&inode_at(f, ino)->mode, 0);
	f->ii[ino].valid = false;
}

static bool in_data_area(const struct fsck *f, uint64_t pblk, uint64_t len)
{
	const struct pmfs_super *sb = f->fs.sb;

	return pblk >= sb->data_start && pblk < sb->total_blocks - 1 &&
	       len <= sb->total_blocks - 1 - pblk;
}

/* ---- extent maps ------------------------------------------------------------- */

enum ext_kind { EXT_DATA, EXT_CHAIN };
typedef void (*ext_fn)(struct fsck *f, void *ctx, enum ext_kind kind, uint64_t lblk, uint64_t pblk,
		       uint64_t len);

static bool check_extent(struct fsck *f, const struct pmfs_extent *e, uint64_t *next_lblk,
			 char *why, size_t len)
{
	if (e->len == 0) {
		snprintf(why, len, "extent at block %u has length 0", e->lblk);
		return false;
	}
	if (e->lblk < *next_lblk) {
		snprintf(why, len, "extent at block %u overlaps or is out of order", e->lblk);
		return false;
	}
	if (!in_data_area(f, e->pblk, e->len)) {
		snprintf(why, len, "extent [%u, +%u) at device block %llu is outside the data area",
			 e->lblk, e->len, (unsigned long long)e->pblk);
		return false;
	}
	*next_lblk = (uint64_t)e->lblk + e->len;
	return true;
}

/* Walks ext[] and the overflow chain, calling fn; false with 'why' on damage. */
static bool walk_extents(struct fsck *f, const struct pmfs_inode *in, ext_fn fn, void *ctx,
			 char *why, size_t len)
{
	uint64_t next_lblk = 0, blk, hops = 0;

	if (is_inline_symlink(in))
		return true;
	if (in->ext_count > PMFS_INLINE_EXTENTS) {
		snprintf(why, len, "ext_count %u exceeds %u", in->ext_count, PMFS_INLINE_EXTENTS);
		return false;
	}
	for (uint32_t i = 0; i < in->ext_count; i++) {
		if (!check_extent(f, &in->u.ext[i], &next_lblk, why, len))
			return false;
		if (fn)
			fn(f, ctx, EXT_DATA, in->u.ext[i].lblk, in->u.ext[i].pblk,
			   in->u.ext[i].len);
	}
	for (blk = in->ext_overflow; blk != 0;) {
		const struct pmfs_extent_block *eb;

		if (!in_data_area(f, blk, 1)) {
			snprintf(why, len, "extent block %llu is outside the data area",
				 (unsigned long long)blk);
			return false;
		}
		if (++hops > f->fs.sb->total_blocks) {
			snprintf(why, len, "extent block chain loops");
			return false;
		}
		eb = pmfs_block(&f->fs, blk);
		if (eb->count > PMFS_EXTENTS_PER_BLOCK) {
			snprintf(why, len, "extent block %llu holds %u extents (max %zu)",
				 (unsigned long long)blk, eb->count, PMFS_EXTENTS_PER_BLOCK);
			return false;
		}
		if (fn)
			fn(f, ctx, EXT_CHAIN, 0, blk, 1);
		for (uint32_t i = 0; i < eb->count; i++) {
			if (!check_extent(f, &eb->ext[i], &next_lblk, why, len))
				return false;
			if (fn)
				fn(f, ctx, EXT_DATA, eb->ext[i].lblk, eb->ext[i].pblk,
				   eb->ext[i].len);
		}
		blk = eb->next;
	}
	return true;
}

/* ---- pass 1: inodes ---------------------------------------------------------- */

static bool xattr_block_valid(struct fsck *f, uint64_t blk, char *why, size_t len)
{
	const unsigned char *p;
	size_t pos = 0;

	if (!in_data_area(f, blk, 1)) {
		snprintf(why, len, "xattr block %llu is outside the data area",
			 (unsigned long long)blk);
		return false;
	}
	p = pmfs_block(&f->fs, blk);
	while (pos + 4 <= PMFS_BLOCK_SIZE && p[pos] != 0) {
		uint8_t ns = p[pos], name_len = p[pos + 1];
		uint16_t value_len;

		memcpy(&value_len, p + pos + 2, 2);
		if (ns > PMFS_XATTR_SECURITY || name_len == 0 ||
		    pos + 4 + name_len + value_len > PMFS_BLOCK_SIZE) {
			snprintf(why, len, "xattr block %llu: bad entry at offset %zu",
				 (unsigned long long)blk, pos);
			return false;
		}
		pos += 4u + name_len + value_len;
	}
	return true;
}

struct dir_map {
	uint64_t *pblk; /* per directory block, 0 = missing */
	uint64_t nblocks;
};

static void map_dir_block(struct fsck *f, void *ctx, enum ext_kind kind, uint64_t lblk,
			  uint64_t pblk, uint64_t len)
{
	struct dir_map *m = ctx;

	(void)f;
	if (kind != EXT_DATA)
		return;
	for (uint64_t i = 0; i < len && lblk + i < m->nblocks; i++)
		m->pblk[lblk + i] = pblk + i;
}

/*
 * A directory's size covers whole blocks, every one of them mapped.  The
 * repair truncates the size to the mapped prefix: entries past a hole are
 * lost (their inodes become unreachable and are freed by the next pass),
 * blocks past the new size stay owned as extents past EOF.
 */
static void check_dir_shape(struct fsck *f, uint64_t ino, struct pmfs_inode *in)
{
	uint64_t limit = f->fs.sb->total_blocks;
	struct dir_map m;
	uint64_t good;
	char why[160];

	m.nblocks = in->size / PMFS_BLOCK_SIZE;
	if (m.nblocks > limit)
		m.nblocks = limit;
	m.pblk = calloc(m.nblocks ? m.nblocks : 1, sizeof(*m.pblk));
	if (m.pblk == NULL)
		return;
	walk_extents(f, in, map_dir_block, &m, why, sizeof(why));
	for (good = 0; good < m.nblocks && m.pblk[good] != 0; good++)
		;
	free(m.pblk);
	if (good * PMFS_BLOCK_SIZE == in->size)
		return;
	if (problem(f, true, ino,
		    "directory size %llu does not match its %llu mapped blocks; size set to %llu",
		    (unsigned long long)in->size, (unsigned long long)good,
		    (unsigned long long)(good * PMFS_BLOCK_SIZE))) {
		uint64_t size = good * PMFS_BLOCK_SIZE;

		pm_copy(&in->size, &size, sizeof(size));
	}
}

static void check_inode(struct fsck *f, uint64_t ino)
{
	struct pmfs_inode *in = inode_at(f, ino);
	char why[200];

	if (!type_known(in->mode)) {
		if (ino == PMFS_ROOT_INO) {
			problem(f, false, ino, "root has unknown file type 0%o", in->mode & S_IFMT);
			return;
		}
		if (problem(f, true, ino, "unknown file type 0%o; inode freed", in->mode & S_IFMT))
			clear_inode(f, ino);
		return;
	}
	f->ii[ino].valid = true;
	if (in->flags & ~PMFS_IFL_ORPHAN) {
		if (problem(f, true, ino, "unknown flags 0x%x; cleared",
			    in->flags & ~PMFS_IFL_ORPHAN))
			store32(&in->flags, in->flags & PMFS_IFL_ORPHAN);
	}
	if (!walk_extents(f, in, NULL, NULL, why, sizeof(why))) {
		if (ino == PMFS_ROOT_INO) {
			problem(f, false, ino, "bad extent map: %s", why);
			return;
		}
		if (problem(f, true, ino, "bad extent map: %s; inode freed", why))
			clear_inode(f, ino);
		return;
	}
	if (S_ISLNK(in->mode) && (in->size == 0 || in->size > PMFS_SYMLINK_MAX)) {
		if (problem(f, true, ino, "symlink of length %llu; inode freed",
			    (unsigned long long)in->size))
			clear_inode(f, ino);
		return;
	}
	if (is_inline_symlink(in) && in->ext_overflow != 0) {
		if (problem(f, true, ino, "inline symlink with an extent chain; inode freed"))
			clear_inode(f, ino);
		return;
	}
	if (S_ISLNK(in->mode) && !is_inline_symlink(in)) {
		uint64_t first = 0;
		struct dir_map m = {.pblk = &first, .nblocks = 1};

		walk_extents(f, in, map_dir_block, &m, why, sizeof(why));
		if (first == 0) {
			if (problem(f, true, ino,
				    "symlink of length %llu has no target block; "
				    "inode freed",
				    (unsigned long long)in->size))
				clear_inode(f, ino);
			return;
		}
	}
	if ((S_ISCHR(in->mode) || S_ISBLK(in->mode) || S_ISFIFO(in->mode) || S_ISSOCK(in->mode)) &&
	    (in->ext_count != 0 || in->ext_overflow != 0)) {
		if (problem(f, true, ino, "special file with data blocks; inode freed"))
			clear_inode(f, ino);
		return;
	}
	if (in->xattr_block && !xattr_block_valid(f, in->xattr_block, why, sizeof(why))) {
		static const uint64_t zero;

		if (problem(f, true, ino, "%s; extended attributes dropped", why))
			pm_copy(&in->xattr_block, &zero, sizeof(zero));
	}
	if (S_ISDIR(in->mode))
		check_dir_shape(f, ino, in);
}

/* ---- pass 2: the tree from the root -------------------------------------------- */

static uint32_t nslots_for(size_t name_len)
{
	return (uint32_t)((sizeof(struct pmfs_dirent) + name_len + PMFS_DIRENT_SLOT - 1) /
			  PMFS_DIRENT_SLOT);
}

static const char *bad_name(const struct pmfs_dirent *de)
{
	if (de->name_len == 0)
		return "empty name";
	if (memchr(de->name, '/', de->name_len) || memchr(de->name, '\0', de->name_len))
		return "name contains '/' or NUL";
	if ((de->name_len == 1 && de->name[0] == '.') ||
	    (de->name_len == 2 && de->name[0] == '.' && de->name[1] == '.'))
		return "'.' or '..' stored as an entry";
	return NULL;
}

static void zero_slots(struct pmfs_dirent *de, unsigned nslots)
{
	pm_set(de, 0, (size_t)nslots * PMFS_DIRENT_SLOT);
}

/* Checks one entry; returns the slots it takes (at least 1). */
static unsigned check_entry(struct fsck *f, uint64_t dir, uint64_t b, unsigned s,
			    struct pmfs_dirent *de, uint64_t *queue, uint64_t *tail)
{
	unsigned room = PMFS_SLOTS_PER_BLOCK - s;
	unsigned span = de->nslots >= 1 && de->nslots <= room ? de->nslots : 1;
	const char *why = bad_name(de);
	uint64_t t = de->ino;
	struct ino_info *ti;
	uint32_t hash;
	uint8_t type;

	if (why == NULL && de->nslots != nslots_for(de->name_len))
		why = "slot count does not match the name length";
	if (why == NULL && de->nslots > room)
		why = "entry crosses the end of its block";
	if (why) {
		if (problem(f, true, dir, "entry at block %llu slot %u: %s; entry removed",
			    (unsigned long long)b, s, why))
			zero_slots(de, span);
		return span;
	}
	if (t == 0 || t >= f->ninodes || !f->ii[t].valid || t == PMFS_ROOT_INO) {
		if (problem(f, true, dir, "entry '%.*s' points to %s inode %llu; entry removed",
			    de->name_len, de->name,
			    t == PMFS_ROOT_INO	  ? "the root"
			    : t < f->ninodes && t ? "a free"
						  : "no",
			    (unsigned long long)t))
			zero_slots(de, span);
		return span;
	}
	ti = &f->ii[t];
	hash = pmfs_name_hash(de->name, de->name_len);
	if (de->hash != hash && problem(f, true, dir, "entry '%.*s': hash 0x%08x, expected 0x%08x",
					de->name_len, de->name, de->hash, hash))
		store32(&de->hash, hash);
	type = (uint8_t)IFTODT(inode_at(f, t)->mode);
	if (de->type != type &&
	    problem(f, true, dir, "entry '%.*s': type %u, but inode %llu has type %u", de->name_len,
		    de->name, de->type, (unsigned long long)t, type))
		pm_copy(&de->type, &type, 1);
	if (S_ISDIR(inode_at(f, t)->mode)) {
		if (ti->reached) {
			if (problem(f, true, dir,
				    "entry '%.*s' is a second link to directory %llu (a cycle or "
				    "a directory hard link); entry removed",
				    de->name_len, de->name, (unsigned long long)t))
				zero_slots(de, span);
			return span;
		}
		queue[(*tail)++] = t;
		f->ii[dir].subdirs++;
	}
	if (!ti->reached) {
		ti->reached = true;
		ti->entry_parent = dir;
		ti->name = strndup(de->name, de->name_len);
	}
	ti->refs++;
	return span;
}

struct name_ref {
	uint32_t hash;
	struct pmfs_dirent *de;
};

static int by_hash(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->de < y->de ? -1 : x->de > y->de;
}

/*
 * Names are unique in a directory.  Of two equal names the later entry is
 * removed; link counts are recomputed by the next pass.
 */
static void check_duplicates(struct fsck *f, uint64_t dir, struct name_ref *refs, size_t n)
{
	if (n < 2)
		return; /* also: qsort may not be given NULL */
	qsort(refs, n, sizeof(*refs), by_hash);
	for (size_t i = 1; i < n; i++) {
		struct pmfs_dirent *a = refs[i - 1].de, *b = refs[i].de;

		if (refs[i].hash != refs[i - 1].hash || a->ino == 0 || a->name_len != b->name_len ||
		    memcmp(a->name, b->name, a->name_len) != 0)
			continue;
		if (problem(f, true, dir,
			    "name '%.*s' appears twice (inodes %llu and %llu); "
			    "second entry removed",
			    b->name_len, b->name, (unsigned long long)a->ino,
			    (unsigned long long)b->ino)) {
			uint64_t t = b->ino;

			zero_slots(b, b->nslots);
			refs[i] = refs[i - 1];
			/* Keep this pass's counts right; a directory reached only
			 * through the removed entry is freed by the next pass. */
			if (t < f->ninodes && f->ii[t].refs > 0)
				f->ii[t].refs--;
		}
	}
}

static void scan_dir(struct fsck *f, uint64_t dir, uint64_t *queue, uint64_t *tail)
{
	const struct pmfs_inode *in = inode_at(f, dir);
	struct name_ref *refs = NULL;
	size_t nrefs = 0, cap = 0;
	struct dir_map m;
	char why[160];

	m.nblocks = in->size / PMFS_BLOCK_SIZE;
	if (m.nblocks > f->fs.sb->total_blocks)
		m.nblocks = f->fs.sb->total_blocks; /* reported by check_dir_shape */
	m.pblk = calloc(m.nblocks ? m.nblocks : 1, sizeof(*m.pblk));
	if (m.pblk == NULL)
		return;
	walk_extents(f, in, map_dir_block, &m, why, sizeof(why));
	for (uint64_t b = 0; b < m.nblocks; b++) {
		char *blk;

		if (m.pblk[b] == 0)
			continue;
		blk = pmfs_block(&f->fs, m.pblk[b]);
		for (unsigned s = 0; s < PMFS_SLOTS_PER_BLOCK;) {
			struct pmfs_dirent *de = (void *)(blk + (size_t)s * PMFS_DIRENT_SLOT);

			if (de->ino == 0) {
				s++;
				continue;
			}
			s += check_entry(f, dir, b, s, de, queue, tail);
			if (de->ino == 0 || de->nslots != nslots_for(de->name_len))
				continue;
			if (nrefs == cap) {
				struct name_ref *r;

				cap = cap ? cap * 2 : 64;
				r = realloc(refs, cap * sizeof(*r));
				if (r == NULL)
					break;
				refs = r;
			}
			refs[nrefs].hash = pmfs_name_hash(de->name, de->name_len);
			refs[nrefs].de = de;
			nrefs++;
		}
	}
	free(m.pblk);
	check_duplicates(f, dir, refs, nrefs);
	free(refs);
}

static void walk_tree(struct fsck *f)
{
	uint64_t *queue, head = 0, tail = 0;

	if (!f->ii[PMFS_ROOT_INO].valid || !S_ISDIR(inode_at(f, PMFS_ROOT_INO)->mode)) {
		problem(f, false, 0, "root directory (inode 1) is missing or not a directory");
		return;
	}
	queue = malloc(f->ninodes * sizeof(*queue));
	if (queue == NULL)
		return;
	f->ii[PMFS_ROOT_INO].reached = true;
	queue[tail++] = PMFS_ROOT_INO;
	while (head < tail)
		scan_dir(f, queue[head++], queue, &tail);
	free(queue);
}

/* ---- pass 3: unreachable inodes, link counts, '..' ------------------------------ */

static bool in_parent_cycle(struct fsck *f, uint64_t ino)
{
	uint64_t cur = ino;

	for (uint64_t steps = 0; steps <= f->ninodes; steps++) {
		const struct pmfs_inode *in;

		if (cur == 0 || cur >= f->ninodes || !f->ii[cur].valid || f->ii[cur].reached)
			return false;
		in = inode_at(f, cur);
		if (!S_ISDIR(in->mode))
			return false;
		cur = in->rdev_or_parent;
		if (cur == ino)
			return true;
	}
	return true;
}

static void check_unreached(struct fsck *f)
{
	for (uint64_t ino = 2; ino < f->ninodes; ino++) {
		const struct pmfs_inode *in = inode_at(f, ino);

		if (!f->ii[ino].valid || f->ii[ino].reached || in->nlink == 0)
			continue; /* nlink 0: an orphan, checked with the list */
		if (S_ISDIR(in->mode) && in_parent_cycle(f, ino)) {
			if (problem(f, true, ino,
				    "directory in a cycle of directories unreachable from /; "
				    "inode freed"))
				clear_inode(f, ino);
		} else if (problem(f, true, ino,
				   "%s with %u links is in no directory reachable from /; "
				   "inode freed",
				   S_ISDIR(in->mode) ? "directory" : "inode", in->nlink)) {
			clear_inode(f, ino);
		}
	}
}

static void check_links(struct fsck *f)
{
	for (uint64_t ino = 1; ino < f->ninodes; ino++) {
		struct pmfs_inode *in = inode_at(f, ino);
		const struct ino_info *i = &f->ii[ino];
		uint32_t want;

		if (!i->valid || !i->reached)
			continue;
		want = S_ISDIR(in->mode) ? 2 + i->subdirs : i->refs;
		if (in->nlink != want &&
		    problem(f, true, ino, "link count %u, should be %u", in->nlink, want))
			store32(&in->nlink, want);
		if (S_ISDIR(in->mode)) {
			uint64_t parent = ino == PMFS_ROOT_INO ? PMFS_ROOT_INO : i->entry_parent;

			if (in->rdev_or_parent != parent &&
			    problem(f, true, ino, "'..' is inode %llu, should be %llu",
				    (unsigned long long)in->rdev_or_parent,
				    (unsigned long long)parent))
				pm_copy(&in->rdev_or_parent, &parent, sizeof(parent));
		}
	}
}

/* ---- pass 4: the orphan list ------------------------------------------------- */

static bool is_orphan(struct fsck *f, uint64_t ino)
{
	return f->ii[ino].valid && !f->ii[ino].reached && ino != PMFS_ROOT_INO &&
	       inode_at(f, ino)->nlink == 0;
}

/* Chains every orphan, in inode order; clears the flag everywhere else. */
static void rebuild_orphans(struct fsck *f)
{
	uint64_t head = 0;

	for (uint64_t ino = f->ninodes - 1; ino >= 1; ino--) {
		struct pmfs_inode *in = inode_at(f, ino);
		static const uint64_t zero;

		if (in->mode == 0)
			continue;
		if (is_orphan(f, ino)) {
			store32(&in->flags, in->flags | PMFS_IFL_ORPHAN);
			pm_copy(&in->orphan_next, &head, sizeof(head));
			head = ino;
		} else if (in->flags & PMFS_IFL_ORPHAN || in->orphan_next) {
			store32(&in->flags, in->flags & ~PMFS_IFL_ORPHAN);
			pm_copy(&in->orphan_next, &zero, sizeof(zero));
		}
	}
	pm_copy(&f->fs.state->orphan_head, &head, sizeof(head));
}

static void check_orphans(struct fsck *f)
{
	uint64_t cur = f->fs.state->orphan_head;
	bool rebuild = false;

	while (cur != 0) {
		const struct pmfs_inode *in;

		if (cur >= f->ninodes || !f->ii[cur].valid) {
			rebuild |=
			    problem(f, true, 0, "orphan list: points to %s inode %llu",
				    cur >= f->ninodes ? "no" : "a free", (unsigned long long)cur);
			break;
		}
		if (f->ii[cur].on_list) {
			rebuild |= problem(f, true, cur, "orphan list loops back to this inode");
			break;
		}
		f->ii[cur].on_list = true;
		in = inode_at(f, cur);
		if (!(in->flags & PMFS_IFL_ORPHAN))
			rebuild |= problem(f, true, cur, "on the orphan list but not flagged");
		if (!is_orphan(f, cur))
			rebuild |= problem(f, true, cur, "on the orphan list but still linked");
		cur = in->orphan_next;
	}
	for (uint64_t ino = 2; ino < f->ninodes; ino++) {
		const struct pmfs_inode *in = inode_at(f, ino);

		if (!f->ii[ino].valid || f->ii[ino].on_list)
			continue;
		if (is_orphan(f, ino))
			rebuild |=
			    problem(f, true, ino, "unlinked inode is not on the orphan list");
		else if (in->flags & PMFS_IFL_ORPHAN)
			rebuild |=
			    problem(f, true, ino, "flagged orphan but not on the orphan list");
	}
	if (rebuild)
		rebuild_orphans(f);
}

/* ---- pass 5: block ownership and the bitmap ------------------------------------ */

struct claim_ctx {
	uint64_t ino;
	uint64_t blocks;
};

static bool test_and_claim(struct fsck *f, uint64_t b)
{
	uint64_t bit = 1ULL << (b % 64);
	bool was = f->claimed[b / 64] & bit;

	f->claimed[b / 64] |= bit;
	return was;
}

struct find_ctx {
	uint64_t block;
	bool hit;
};

static void find_block(struct fsck *f, void *ctx, enum ext_kind kind, uint64_t lblk, uint64_t pblk,
		       uint64_t len)
{
	struct find_ctx *c = ctx;

	(void)f;
	(void)kind;
	(void)lblk;
	if (c->block >= pblk && c->block < pblk + len)
		c->hit = true;
}

/* The first valid inode other than 'not' that owns block b. */
static uint64_t other_owner(struct fsck *f, uint64_t b, uint64_t not )
{
	char why[160]; /* unread here, but sized for every message */

	for (uint64_t ino = 1; ino < f->ninodes; ino++) {
		struct find_ctx c = {.block = b};
		const struct pmfs_inode *in = inode_at(f, ino);

		if (ino == not || !f->ii[ino].valid)
			continue;
		if (in->xattr_block == b)
			return ino;
		walk_extents(f, in, find_block, &c, why, sizeof(why));
		if (c.hit)
			return ino;
	}
	return 0;
}

static void claim_run(struct fsck *f, uint64_t ino, uint64_t pblk, uint64_t len)
{
	for (uint64_t b = pblk; b < pblk + len; b++) {
		if (!test_and_claim(f, b))
			continue;
		if (f->dup_lines++ < MAX_LINES_PER_KIND)
			problem(f, false, ino, "block %llu is also used by inode %llu",
				(unsigned long long)b, (unsigned long long)other_owner(f, b, ino));
		else
			count_only(f, false);
	}
}

static void claim_extent(struct fsck *f, void *ctx, enum ext_kind kind, uint64_t lblk,
			 uint64_t pblk, uint64_t len)
{
	struct claim_ctx *c = ctx;

	(void)kind;
	(void)lblk;
	claim_run(f, c->ino, pblk, len);
	c->blocks += len;
}

static void check_ownership(struct fsck *f)
{
	char why[160]; /* unread here, but sized for every message */

	for (uint64_t ino = 1; ino < f->ninodes; ino++) {
		struct pmfs_inode *in = inode_at(f, ino);
		struct claim_ctx c = {.ino = ino};

		if (!f->ii[ino].valid)
			continue;
		f->used_inodes++;
		walk_extents(f, in, claim_extent, &c, why, sizeof(why));
		if (in->xattr_block && in_data_area(f, in->xattr_block, 1)) {
			claim_run(f, ino, in->xattr_block, 1);
			c.blocks++;
		}
		if (in->blocks != c.blocks &&
		    problem(f, true, ino, "'blocks' is %llu, the extents hold %llu",
			    (unsigned long long)in->blocks, (unsigned long long)c.blocks))
			pm_copy(&in->blocks, &c.blocks, sizeof(c.blocks));
	}
	if (f->dup_lines > MAX_LINES_PER_KIND && f->final)
		emit(f, "... %u more blocks used twice\n", f->dup_lines - MAX_LINES_PER_KIND);
}

static bool reserved_block(const struct pmfs_super *sb, uint64_t b)
{
	return b < sb->data_start || b >= sb->total_blocks - 1;
}

/* Reports runs of blocks whose bitmap bit disagrees with ownership. */
static void report_run(struct fsck *f, uint64_t start, uint64_t end, bool leaked)
{
	if (f->bitmap_lines++ >= MAX_LINES_PER_KIND) {
		count_only(f, true);
		return;
	}
	problem(f, true, 0,
		leaked ? "blocks %llu-%llu are marked in use but owned by nothing (leaked)"
		       : "blocks %llu-%llu are in use but marked free in the bitmap",
		(unsigned long long)start, (unsigned long long)(end - 1));
}

static uint64_t expected_word(const struct fsck *f, uint64_t w)
{
	const struct pmfs_super *sb = f->fs.sb;
	uint64_t want = f->claimed[w];

	if (w * 64 < sb->data_start || (w + 1) * 64 > sb->total_blocks - 1)
		for (unsigned k = 0; k < 64; k++)
			if (reserved_block(sb, w * 64 + k))
				want |= 1ULL << k;
	return want;
}

static void check_bitmap(struct fsck *f)
{
	const struct pmfs_super *sb = f->fs.sb;
	uint64_t words = sb->bitmap_blocks * (PMFS_BLOCK_SIZE / 8);
	uint64_t run_start = 0;
	int run_kind = 0; /* 0 none, 1 leaked, 2 missing */

	for (uint64_t w = 0; w < words; w++) {
		uint64_t have = f->fs.bitmap[w], want = expected_word(f, w);

		f->used_blocks += (uint64_t)__builtin_popcountll(f->claimed[w]);
		if (have == want && run_kind == 0)
			continue;
		for (unsigned k = 0; k < 64; k++) {
			int kind = ((have ^ want) >> k & 1) ? ((have >> k & 1) ? 1 : 2) : 0;

			if (kind == run_kind)
				continue;
			if (run_kind)
				report_run(f, run_start, w * 64 + k, run_kind == 1);
			run_kind = kind;
			run_start = w * 64 + k;
		}
		if (have != want && f->repair)
			pm_store64(&f->fs.bitmap[w], want);
	}
	if (run_kind)
		report_run(f, run_start, words * 64, run_kind == 1);
	if (f->bitmap_lines > MAX_LINES_PER_KIND && f->final)
		emit(f, "... %u more bitmap runs\n", f->bitmap_lines - MAX_LINES_PER_KIND);
}

/* ---- known bad blocks ---------------------------------------------------------- */

/*
 * Bad blocks are media damage, not inconsistency: fsck cannot repair them
 * (on pmem only the kernel's clear-poison path, a write of the whole
 * block, can).  In the fixed metadata they are problems left, and the
 * check stops before loading from them (a load would be a machine check);
 * in the data area they are reported with what they hold: a file's data
 * (reads of that range give EIO), metadata of an inode (a problem left),
 * or nothing (never allocated).
 */
static bool check_bad_metadata(struct fsck *f)
{
	const struct pmfs_super *sb = f->fs.sb;
	bool stop = false;

	for (size_t i = 0; i < f->bad.n; i++) {
		const struct pmfs_bad_range *r = &f->bad.r[i];
		const char *area = pmfs_badblocks_area(sb, r->start);

		if (r->start >= sb->total_blocks)
			continue;
		if (area == NULL && r->start + r->len >= sb->total_blocks)
			area = "backup superblock";
		if (area == NULL)
			continue;
		problem(f, false, 0,
			"bad blocks %llu-%llu (device bytes %llu-%llu) in the %s: media error, "
			"cannot be repaired; copy the files off with a read-only mount of a "
			"backup, or replace the device",
			(unsigned long long)r->start, (unsigned long long)(r->start + r->len - 1),
			(unsigned long long)(r->start * PMFS_BLOCK_SIZE),
			(unsigned long long)((r->start + r->len) * PMFS_BLOCK_SIZE - 1), area);
		stop = true;
	}
	return stop;
}

struct bad_owner {
	uint64_t block;
	enum ext_kind kind;
	bool hit;
};

static void find_bad(struct fsck *f, void *ctx, enum ext_kind kind, uint64_t lblk, uint64_t pblk,
		     uint64_t len)
{
	struct bad_owner *c = ctx;

	(void)f;
	(void)lblk;
	if (!c->hit && c->block >= pblk && c->block < pblk + len) {
		c->hit = true;
		c->kind = kind;
	}
}

static void report_bad_block(struct fsck *f, uint64_t b)
{
	char why[160], path[512];

	if (!(f->claimed[b / 64] >> (b % 64) & 1)) {
		emit(f, "note: bad block %llu is free: never allocated\n", (unsigned long long)b);
		return;
	}
	for (uint64_t ino = 1; ino < f->ninodes; ino++) {
		const struct pmfs_inode *in = inode_at(f, ino);
		struct bad_owner c = {.block = b};

		if (!f->ii[ino].valid)
			continue;
		if (in->xattr_block != b)
			walk_extents(f, in, find_bad, &c, why, sizeof(why));
		if (in->xattr_block != b && !c.hit)
			continue;
		if (S_ISREG(in->mode) && c.hit && c.kind == EXT_DATA)
			emit(f,
			     "note: bad block %llu holds data of inode %llu (%s): reads and writes "
			     "of it give EIO until the file is deleted or truncated\n",
			     (unsigned long long)b, (unsigned long long)ino,
			     path_of(f, ino, path, sizeof(path)));
		else
			problem(f, false, ino,
				"bad block %llu holds its %s: media error, cannot "
				"be repaired",
				(unsigned long long)b,
				in->xattr_block == b  ? "xattr block"
				: c.kind == EXT_CHAIN ? "extent list"
				: S_ISDIR(in->mode)   ? "directory entries"
						      : "symlink target");
		return;
	}
}

static void report_bad_data(struct fsck *f)
{
	const struct pmfs_super *sb = f->fs.sb;
	unsigned lines = 0;

	for (size_t i = 0; i < f->bad.n; i++) {
		const struct pmfs_bad_range *r = &f->bad.r[i];

		for (uint64_t b = r->start; b < r->start + r->len && b < sb->total_blocks - 1; b++)
			if (b >= sb->data_start && lines++ < MAX_LINES_PER_KIND)
				report_bad_block(f, b);
	}
	if (lines > MAX_LINES_PER_KIND)
		emit(f, "... %u more bad blocks\n", lines - MAX_LINES_PER_KIND);
}

/* ---- driver ----------------------------------------------------------------- */

static void reset_pass(struct fsck *f)
{
	for (uint64_t i = 0; i < f->ninodes; i++) {
		free(f->ii[i].name);
		memset(&f->ii[i], 0, sizeof(f->ii[i]));
	}
	memset(f->claimed, 0, f->fs.sb->bitmap_blocks * PMFS_BLOCK_SIZE);
	f->pass_fixed = f->pass_left = 0;
	f->dup_lines = f->bitmap_lines = 0;
	f->used_inodes = 0;
	f->used_blocks = 0;
}

static void run_pass(struct fsck *f)
{
	reset_pass(f);
	for (uint64_t ino = 1; ino < f->ninodes; ino++)
		if (inode_at(f, ino)->mode != 0)
			check_inode(f, ino);
	walk_tree(f);
	check_unreached(f);
	check_links(f);
	check_orphans(f);
	check_ownership(f);
	check_bitmap(f);
	if (f->repair)
		pm_fence();
}

/* Incompat and ro_compat bits this fsck does not know: like e2fsck, it
 * refuses to check (let alone repair) what it cannot understand.  Unknown
 * compat bits are safe to ignore. */
static bool refuse_features(struct fsck *f, const struct pmfs_super *sb)
{
	uint64_t incompat = sb->feature_incompat & ~PMFS_FEATURE_INCOMPAT_SUPP;
	uint64_t ro_compat = sb->feature_ro_compat & ~PMFS_FEATURE_RO_COMPAT_SUPP;

	if ((incompat | ro_compat) == 0)
		return false;
	emit(f,
	     "%s: unsupported feature bits 0x%llx (incompat 0x%llx, ro_compat 0x%llx): "
	     "this fsck.pmemfs is too old\n",
	     f->device, (unsigned long long)(incompat | ro_compat),
	     (unsigned long long)incompat, (unsigned long long)ro_compat);
	return true;
}

static int check_supers(struct fsck *f, char *base, uint64_t size)
{
	uint64_t dev_blocks = size >> PMFS_BLOCK_SHIFT;
	struct pmfs_super primary, backup;
	char pwhy[200], bwhy[200];
	int perr, berr;
	uint64_t backup_blk;

	if (dev_blocks < 2) {
		emit(f, "%s: too small to hold a pmemfs\n", f->device);
		return -EINVAL;
	}
	memcpy(&primary, base, sizeof(primary));
	perr = pmfs_super_check(&primary, size, pwhy, sizeof(pwhy));
	backup_blk = perr == 0 ? primary.total_blocks - 1 : dev_blocks - 1;
	memcpy(&backup, base + (backup_blk << PMFS_BLOCK_SHIFT), sizeof(backup));
	berr = pmfs_super_check(&backup, size, bwhy, sizeof(bwhy));
	if (perr == -EOPNOTSUPP || (perr && berr == -EOPNOTSUPP)) {
		if (!refuse_features(f, perr == -EOPNOTSUPP ? &primary : &backup))
			emit(f, "%s: %s\n", f->device, perr == -EOPNOTSUPP ? pwhy : bwhy);
		return -EOPNOTSUPP;
	}
	if (perr && berr) {
		emit(f, "%s: no valid pmemfs superblock: primary: %s; backup: %s\n", f->device,
		     pwhy, bwhy);
		return -EINVAL;
	}
	f->fs.sb_copy = perr ? backup : primary;
	f->fs.sb = &f->fs.sb_copy;
	if (refuse_features(f, f->fs.sb))
		return -EOPNOTSUPP;
	f->final = true; /* these are not re-checked by a later pass */
	if (perr) {
		if (problem(f, true, 0, "primary superblock: %s; restored from the backup", pwhy)) {
			pm_copy(base, &backup, sizeof(backup));
			pm_fence();
		}
	} else if (berr || memcmp(&primary, &backup, sizeof(primary)) != 0) {
		if (problem(f, true, 0, "backup superblock (block %llu): %s; rewritten",
			    (unsigned long long)backup_blk,
			    berr ? bwhy : "differs from the primary")) {
			pm_copy(base + (backup_blk << PMFS_BLOCK_SHIFT), &primary, sizeof(primary));
			pm_fence();
		}
	}
	return 0;
}

static int check_journal(struct fsck *f)
{
	unsigned pending = 0, malformed = 0, replayed;
	int err;

	err = pmfs_journal_init(&f->fs);
	if (err)
		return err;
	for (unsigned i = 0; i < f->fs.sb->journal_lanes; i++) {
		uint64_t seq;
		int st = pmfs_journal_lane_state(&f->fs, i, &seq);

		if (st == 1) {
			pending++;
		} else if (st == -EUCLEAN) {
			malformed++;
			if (problem(f, true, 0,
				    "journal lane %u: committed transaction with malformed "
				    "records; discarded",
				    i)) {
				struct pmfs_lane_head *h =
				    pmfs_block(&f->fs, f->fs.sb->journal_start +
							   (uint64_t)i * f->fs.sb->lane_blocks);

				pm_set(h, 0, sizeof(*h));
				pm_fence();
				malformed--;
			}
		}
	}
	if (pending == 0)
		return 0;
	if (!f->repair) {
		/* A committed transaction the next mount replays is a normal
		 * crash state, not damage: a note, not a problem.  Check the
		 * state recovery will produce: pmfs_device_map gave a file
		 * the same private (MAP_PRIVATE) mapping as a read-only
		 * mount, so replay changes memory only, never the image.  A
		 * devdax namespace is mapped shared and read-only: there the
		 * check sees the state before replay. */
		bool private_copy = malformed == 0 && !f->fs.is_devdax;

		emit(f,
		     "note: journal: %u committed transactions not yet replayed (the next "
		     "mount or fsck -y replays them); checking the state %s replay\n",
		     pending, private_copy ? "after" : "before");
		return private_copy ? pmfs_journal_recover(&f->fs, &replayed) : 0;
	}
	problem(f, true, 0, "journal: %u committed transactions not yet replayed; replayed",
		pending);
	if (malformed == 0)
		return pmfs_journal_recover(&f->fs, &replayed);
	return 0;
}

static int fsck_run(struct fsck *f, const struct pmfs_fsck_opts *opts)
{
	struct pmfs_device_info info;
	struct pmfs *fs = &f->fs;
	char why[256];
	int err;

	err = pmfs_device_open_wait(f->device, !opts->repair, opts->busy_wait_ms, &fs->dev_fd,
				    &info);
	if (err) {
		emit(f, "%s: %s\n", f->device, pmfs_device_strerror(err));
		return err;
	}
	fs->read_only = !opts->repair;
	fs->is_devdax = info.is_devdax;
	fs->size = info.size;
	err = pmfs_device_map(fs->dev_fd, &info, fs->read_only, &fs->base, &fs->is_pmem);
	if (err) {
		fs->base = NULL;
		emit(f, "%s: cannot map: %s\n", f->device, strerror(-err));
		return err;
	}
	f->repair = opts->repair;
	err = check_supers(f, fs->base, fs->size);
	if (err)
		return err;
	err = pmfs_badblocks_read(f->device, &info, &f->bad, why, sizeof(why));
	if (err) {
		emit(f, "%s: cannot read the known bad blocks: %s\n", f->device, why);
		return err;
	}
	if (why[0])
		emit(f, "note: %s\n", why);
	f->final = true; /* problems found now are reported now */
	if (check_bad_metadata(f)) {
		emit(f, "%s: not checked further: its metadata has bad blocks\n", f->device);
		return 0;
	}
	f->final = false;
	fs->state = pmfs_block(fs, PMFS_STATE_BLOCK);
	fs->itable = pmfs_block(fs, fs->sb->itable_start);
	fs->bitmap = pmfs_block(fs, fs->sb->bitmap_start);
	err = check_journal(f);
	if (err) {
		emit(f, "%s: journal replay failed: %s\n", f->device, strerror(-err));
		return err;
	}
	if (fs->state->clean == 1 && !opts->force && f->rep->found == 0) {
		emit(f, "%s: clean (use -f to check anyway)\n", f->device);
		return 0;
	}
	f->ninodes = fs->sb->inode_count;
	f->ii = calloc(f->ninodes, sizeof(*f->ii));
	f->claimed = calloc(fs->sb->bitmap_blocks, PMFS_BLOCK_SIZE);
	if (f->ii == NULL || f->claimed == NULL) {
		emit(f, "%s: out of memory\n", f->device);
		return -ENOMEM;
	}
	if (opts->repair) {
		f->final = false;
		for (int pass = 0; pass < MAX_PASSES; pass++) {
			run_pass(f);
			if (f->pass_fixed == 0)
				break;
		}
	}
	/* What is left: counted and printed by a pass that changes nothing. */
	f->repair = false;
	f->final = true;
	run_pass(f);
	report_bad_data(f);
	if (opts->repair && f->rep->left == 0 && fs->state->clean != 1) {
		uint64_t one = 1;

		pm_copy(&fs->state->clean, &one, sizeof(one));
		pm_fence();
	}
	return 0;
}

int pmfs_fsck(const char *device, const struct pmfs_fsck_opts *opts, struct pmfs_fsck_report *rep)
{
	struct fsck f;
	int err;

	memset(rep, 0, sizeof(*rep));
	memset(&f, 0, sizeof(f));
	f.device = device;
	f.rep = rep;
	f.fs.dev_fd = -1;
	f.cap = 4096;
	pmfs_badblocks_init(&f.bad);
	rep->text = calloc(1, f.cap);
	if (rep->text == NULL) {
		rep->exit_code = PMFS_FSCK_OPERROR;
		return rep->exit_code;
	}
	err = fsck_run(&f, opts);
	if (err) {
		rep->exit_code = PMFS_FSCK_OPERROR;
	} else {
		/* Problems found by -n, and unfixable ones, are left. */
		rep->left = rep->found - rep->fixed;
		rep->exit_code = rep->left    ? PMFS_FSCK_ERRORS_LEFT
				 : rep->fixed ? PMFS_FSCK_FIXED
					      : PMFS_FSCK_CLEAN;
		rep->clean = rep->left == 0;
		if (f.ii)
			emit(&f,
			     "%s: %u problems found, %u fixed, %u left; %llu/%llu inodes, "
			     "%llu/%llu data blocks in use\n",
			     device, rep->found, rep->fixed, rep->left,
			     (unsigned long long)f.used_inodes,
			     (unsigned long long)(f.fs.sb->inode_count - 1),
			     (unsigned long long)f.used_blocks,
			     (unsigned long long)(f.fs.sb->total_blocks - 1 - f.fs.sb->data_start));
	}
	if (f.ii) {
		for (uint64_t i = 0; i < f.ninodes; i++)
			free(f.ii[i].name);
		free(f.ii);
	}
	free(f.claimed);
	pmfs_badblocks_fini(&f.bad);
	pmfs_journal_fini(&f.fs);
	if (f.fs.base)
		pmfs_device_unmap(f.fs.base, f.fs.size);
	if (f.fs.dev_fd >= 0)
		close(f.fs.dev_fd);
	return rep->exit_code;
}

void pmfs_fsck_report_free(struct pmfs_fsck_report *rep)
{
	free(rep->text);
	rep->text = NULL;
}
