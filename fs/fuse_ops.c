/*
 * fuse_ops.c - the libfuse low-level ops table of pmemfs-fuse.  Each op
 * translates one request into a call on the core (fs/pmemfs.h) and replies;
 * the file-system work itself lives in the core.  Inode numbers are passed
 * through unchanged: FUSE_ROOT_ID and PMFS_ROOT_INO are both 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "badblocks.h"
#include "fuse_io.h"
#include "fuse_splice.h"
#include "fuse_logging.h"
#include "fuse_dmap.h"
#include "fuse_ops.h"
#include "monotonic.h"
#include "perm.h"

_Static_assert(FUSE_ROOT_ID == PMFS_ROOT_INO, "root inode numbers agree");
_Static_assert(PMFS_RENAME_NOREPLACE == RENAME_NOREPLACE, "rename flags agree");
_Static_assert(PMFS_RENAME_EXCHANGE == RENAME_EXCHANGE, "rename flags agree");

static struct pmfs_fuse *req_fuse(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct pmfs *req_fs(fuse_req_t req)
{
	return req_fuse(req)->fs;
}

/* The core returns negative errnos; fuse_reply_err wants positive ones. */
static void reply_status(fuse_req_t req, long ret)
{
	fuse_reply_err(req, ret < 0 ? (int)-ret : 0);
}

static void fill_entry(const struct pmfs_fuse *pf, const struct stat *st,
		       struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = st->st_ino;
	e->attr = *st;
	e->attr_timeout = pf->attr_timeout;
	e->entry_timeout = pf->entry_timeout;
}

/*
 * Permissions (perm.c): unless mounted with -o default_permissions the
 * daemon checks them, and the kernel checks none.  The kernel then walks
 * a cached name without asking us, so search permission on a directory
 * holds only for names it has to look up: names (and negative entries) in
 * a directory that some caller may not search are not cached (timeout 0).
 * Without allow_other every caller has the mounter's uid and gid (the
 * kernel refuses anyone else), so for a directory the mounter owns, or
 * when the mounter is root, every caller gets the same answer.
 */
static bool daemon_checks(fuse_req_t req)
{
	return !req_fuse(req)->kernel_permissions;
}

static bool names_cacheable(const struct pmfs_fuse *pf, const struct stat *dir)
{
	if (pf->kernel_permissions || pmfs_perm_searchable_by_all(dir))
		return true;
	return pf->single_user && (pf->mounter == 0 || pf->mounter == dir->st_uid);
}

static double entry_timeout_in(fuse_req_t req, const struct stat *dir)
{
	return names_cacheable(req_fuse(req), dir) ? req_fuse(req)->entry_timeout : 0;
}

typedef int (*dir_check_fn)(struct pmfs_caller *c, const struct stat *dir);
typedef int (*inode_check_fn)(struct pmfs_caller *c, const struct stat *st, int arg);

/* Runs one of the two kinds of check on the attributes of ino for the
 * caller of req; timeout (if not NULL): for names in ino, once its
 * attributes are known. */
static int run_check(fuse_req_t req, fuse_ino_t ino, dir_check_fn dcheck, inode_check_fn icheck,
		     int arg, double *timeout)
{
	struct pmfs_caller c;
	struct stat st;
	int ret = pmfs_getattr(req_fs(req), ino, &st);

	if (ret < 0)
		return ret;
	if (timeout)
		*timeout = entry_timeout_in(req, &st);
	pmfs_caller_init(&c, req);
	ret = dcheck ? dcheck(&c, &st) : icheck(&c, &st, arg);
	pmfs_caller_done(&c);
	return ret;
}

/* Runs check on directory ino for the caller; *timeout: for names in it. */
static int check_dir(fuse_req_t req, fuse_ino_t ino, dir_check_fn check, double *timeout)
{
	*timeout = req_fuse(req)->entry_timeout;
	return daemon_checks(req) ? run_check(req, ino, check, NULL, 0, timeout) : 0;
}

/* Runs check(caller, attributes of ino, arg) when the daemon checks. */
static int check_inode(fuse_req_t req, fuse_ino_t ino, inode_check_fn check, int arg)
{
	return daemon_checks(req) ? run_check(req, ino, NULL, check, arg, NULL) : 0;
}

/* For ops that hand out a new reference: reply with the entry or the error. */
static void reply_entry(fuse_req_t req, int ret, const struct stat *st, double entry_timeout)
{
	struct fuse_entry_param e;

	if (ret < 0) {
		reply_status(req, ret);
		return;
	}
	fill_entry(req_fuse(req), st, &e);
	e.entry_timeout = entry_timeout;
	/* The kernel did not take the reference if the reply was lost. */
	if (fuse_reply_entry(req, &e) != 0)
		pmfs_forget(req_fs(req), st->st_ino, 1);
}

/*
 * KILLPRIV_V2 (fuse_io.c): whether a request the kernel flagged will clear
 * set-ID bits of ino.  The kernel keeps the mode it cached (a WRITE or OPEN
 * reply carries no attributes), so when we clear them we tell it
 * (kernel_forget_attrs) before the reply: a stat() right after the write
 * must not show S_ISUID.  Rare: only set-ID files written without CAP_FSETID.
 */
static bool will_kill_suidgid(fuse_req_t req, fuse_ino_t ino)
{
	struct stat st;

	if (!pmfs_fuse_req_kill_suidgid() || pmfs_getattr(req_fs(req), ino, &st) < 0)
		return false;
	return (st.st_mode & S_ISUID) || (st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP);
}

/* Offset -1: the kernel drops its cached attributes, not the pages. */
static void kernel_forget_attrs(fuse_req_t req, fuse_ino_t ino)
{
	fuse_lowlevel_notify_inval_inode(req_fuse(req)->se, ino, -1, 0);
}

static void pmfs_fuse_init(void *userdata, struct fuse_conn_info *conn)
{
	struct pmfs_fuse *pf = userdata;

	/* libfuse caps this to its buffer (1 MiB) and derives max_pages from it. */
	conn->max_write = PMFS_FUSE_MAX_IO;
	/* The kernel lowers the mount's read-ahead to this: keep the 1 MiB
	 * that fuse_main.c set through sysfs before this reply. */
	conn->max_readahead = PMFS_FUSE_MAX_IO;
	/* Not v1 (the daemon would clear set-ID bits on every write, even
	 * for root): fuse_io.c negotiates KILLPRIV_V2, which says when. */
	conn->want &= ~FUSE_CAP_HANDLE_KILLPRIV;
	/* Locks are local to this host: the kernel handles them alone. */
	conn->want &= ~(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
	if (pf->writeback_cache) {
		if (conn->capable & FUSE_CAP_WRITEBACK_CACHE)
			conn->want |= FUSE_CAP_WRITEBACK_CACHE;
		else
			pmfs_fuse_log(PMFS_LOG_WARN,
				      "kernel lacks writeback_cache: writes stay write-through");
	} else {
		conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	}
	pmfs_fuse_splice_init(conn);
	pf->max_write = conn->max_write;
}

static void pmfs_fuse_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct pmfs_fuse *pf = req_fuse(req);
	struct fuse_entry_param e;
	struct stat st;
	double timeout;
	int ret = check_dir(req, parent, pmfs_perm_lookup, &timeout);

	if (ret == 0)
		ret = pmfs_lookup(pf->fs, parent, name, &st);
	if (ret == -ENOENT) {
		/* ino 0 with a timeout: the kernel caches the negative entry. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	reply_entry(req, ret, &st, timeout);
}

/* Tests only (uring.sh): PMEMFS_TEST_FORGET_DELAY_MS holds every FORGET
 * back, to make the FORGET-after-UNLINK race of wait_for_space() certain. */
static void test_forget_delay(void)
{
	static int delay_ms = -1;

	if (delay_ms < 0) {
		const char *v = getenv("PMEMFS_TEST_FORGET_DELAY_MS");

		delay_ms = v ? atoi(v) : 0;
	}
	if (delay_ms > 0)
		usleep((useconds_t)delay_ms * 1000);
}

static void pmfs_fuse_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	test_forget_delay();
	pmfs_forget(req_fs(req), ino, nlookup);
	fuse_reply_none(req);
}

static void pmfs_fuse_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	test_forget_delay();
	for (size_t i = 0; i < count; i++)
		pmfs_forget(req_fs(req), forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void pmfs_fuse_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	int ret = pmfs_getattr(req_fs(req), ino, &st);

	(void)fi;
	if (ret < 0)
		reply_status(req, ret);
	else
		fuse_reply_attr(req, &st, req_fuse(req)->attr_timeout);
}

static unsigned setattr_bits(int to_set)
{
	unsigned bits = 0;

	if (to_set & FUSE_SET_ATTR_MODE)
		bits |= PMFS_SET_MODE;
	if (to_set & FUSE_SET_ATTR_UID)
		bits |= PMFS_SET_UID;
	if (to_set & FUSE_SET_ATTR_GID)
		bits |= PMFS_SET_GID;
	if (to_set & FUSE_SET_ATTR_SIZE)
		bits |= PMFS_SET_SIZE;
	if (to_set & FUSE_SET_ATTR_ATIME)
		bits |= PMFS_SET_ATIME;
	if (to_set & FUSE_SET_ATTR_MTIME)
		bits |= PMFS_SET_MTIME;
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		bits |= PMFS_SET_ATIME_NOW;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		bits |= PMFS_SET_MTIME_NOW;
	if (to_set & FUSE_SET_ATTR_CTIME)
		bits |= PMFS_SET_CTIME;
	return bits;
}

static bool is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

struct name_list {
	char **names;
	size_t count, cap;
};

static int collect_name(void *ctx, const char *name, const struct stat *st, uint64_t next_off)
{
	struct name_list *l = ctx;

	(void)st;
	(void)next_off;
	if (is_dot_or_dotdot(name))
		return 0;
	if (l->count == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		char **names = realloc(l->names, cap * sizeof(*names));

		if (!names)
			return -ENOMEM;
		l->names = names;
		l->cap = cap;
	}
	if (!(l->names[l->count] = strdup(name)))
		return -ENOMEM;
	l->count++;
	return 0;
}

/*
 * A directory every caller could search no longer is: names the kernel
 * cached in it (entry_timeout_in) would let anyone walk through it until
 * they expire.  Called after the reply: the kernel holds the directory's lock
 * until then, and invalidating a name takes it.  Best effort (the names
 * still expire after entry_timeout), and not with -s: the one thread would
 * wait for the lock while a request of whoever holds it waits for the
 * thread.
 */
static void forget_cached_names(struct pmfs_fuse *pf, fuse_ino_t dir)
{
	struct name_list l = {NULL, 0, 0};

	if (pmfs_readdir(pf->fs, dir, 0, false, collect_name, &l) < 0)
		pmfs_fuse_log(PMFS_LOG_WARN, "directory %lu: names stay cached up to %.1f s",
			      (unsigned long)dir, pf->entry_timeout);
	for (size_t i = 0; i < l.count; i++) {
		fuse_lowlevel_notify_inval_entry(pf->se, dir, l.names[i], strlen(l.names[i]));
		free(l.names[i]);
	}
	free(l.names);
}

static void pmfs_fuse_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			      struct fuse_file_info *fi)
{
	struct pmfs_fuse *pf = req_fuse(req);
	struct pmfs_caller c;
	struct stat st, old = {.st_mode = 0};
	unsigned bits;
	bool closes_dir;
	int ret;

	if (daemon_checks(req)) {
		ret = pmfs_getattr(pf->fs, ino, &old);
		if (ret == 0) {
			pmfs_caller_init(&c, req);
			ret = pmfs_perm_setattr(&c, &old, attr, to_set, fi != NULL);
			pmfs_caller_done(&c);
		}
		if (ret < 0) {
			reply_status(req, ret);
			return;
		}
	}
	bits = setattr_bits(to_set);
	/* KILLPRIV_V2 (fuse_io.c): a truncate by a caller without CAP_FSETID */
	if (pmfs_fuse_req_kill_suidgid())
		bits |= PMFS_SET_KILL_SUIDGID;
	ret = pmfs_setattr(pf->fs, ino, attr, bits, &st);
	if (ret < 0) {
		reply_status(req, ret);
		return;
	}
	closes_dir = S_ISDIR(st.st_mode) && names_cacheable(pf, &old) && !names_cacheable(pf, &st);
	fuse_reply_attr(req, &st, pf->attr_timeout);
	if (closes_dir && !pf->one_thread)
		forget_cached_names(pf, ino);
}

static void pmfs_fuse_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	reply_status(req, check_inode(req, ino, pmfs_perm_access, mask));
}

static void pmfs_fuse_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char target[PMFS_SYMLINK_MAX + 1];
	ssize_t len = pmfs_readlink(req_fs(req), ino, target, sizeof(target) - 1);

	if (len < 0) {
		reply_status(req, len);
		return;
	}
	target[len] = '\0';
	fuse_reply_readlink(req, target);
}

static void pmfs_fuse_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			    dev_t rdev)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct stat st;
	double timeout;
	int ret = check_dir(req, parent, pmfs_perm_create, &timeout);

	if (ret == 0)
		ret = pmfs_mknod(req_fs(req), parent, name, mode, rdev, ctx->uid, ctx->gid, &st);
	reply_entry(req, ret, &st, timeout);
}

static void pmfs_fuse_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct stat st;
	double timeout;
	int ret = check_dir(req, parent, pmfs_perm_create, &timeout);

	if (ret == 0)
		ret =
		    pmfs_mkdir(req_fs(req), parent, name, mode | S_IFDIR, ctx->uid, ctx->gid, &st);
	reply_entry(req, ret, &st, timeout);
}

/* may_delete (perm.c): w+x on the parent, and the sticky bit */
static int check_delete(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct pmfs_caller c;
	struct stat dir;
	int ret;

	if (!daemon_checks(req))
		return 0;
	ret = pmfs_getattr(req_fs(req), parent, &dir);
	if (ret < 0)
		return ret;
	pmfs_caller_init(&c, req);
	ret = pmfs_perm_delete(&c, req_fs(req), &dir, name);
	pmfs_caller_done(&c);
	return ret;
}

/* Set at each removal; see wait_for_fresh_frees(). */
static _Atomic uint64_t last_delete_ns;

static int note_delete(int ret)
{
	if (ret == 0)
		atomic_store_explicit(&last_delete_ns, pmfs_monotonic_ns(), memory_order_relaxed);
	return ret;
}

static void pmfs_fuse_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	int ret = check_delete(req, parent, name);

	reply_status(req, ret < 0 ? ret : note_delete(pmfs_unlink(req_fs(req), parent, name)));
}

static void pmfs_fuse_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	int ret = check_delete(req, parent, name);

	reply_status(req, ret < 0 ? ret : note_delete(pmfs_rmdir(req_fs(req), parent, name)));
}

static void pmfs_fuse_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct stat st;
	double timeout;
	int ret = check_dir(req, parent, pmfs_perm_create, &timeout);

	if (ret == 0)
		ret = pmfs_symlink(req_fs(req), parent, name, link, ctx->uid, ctx->gid, &st);
	reply_entry(req, ret, &st, timeout);
}

static void pmfs_fuse_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
			     fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct pmfs_caller c;
	int ret = 0;

	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
		fuse_reply_err(req, EINVAL); /* RENAME_WHITEOUT: overlayfs only */
		return;
	}
	if (daemon_checks(req)) {
		pmfs_caller_init(&c, req);
		ret = pmfs_perm_rename(&c, req_fs(req), parent, name, newparent, newname, flags);
		pmfs_caller_done(&c);
	}
	if (ret == 0)
		ret = note_delete(pmfs_rename(req_fs(req), parent, name, newparent, newname, flags));
	reply_status(req, ret);
}

static void pmfs_fuse_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
			   const char *newname)
{
	struct pmfs_caller c;
	struct stat st, dir;
	double timeout = req_fuse(req)->entry_timeout;
	int ret = 0;

	if (daemon_checks(req)) {
		if ((ret = pmfs_getattr(req_fs(req), ino, &st)) == 0 &&
		    (ret = pmfs_getattr(req_fs(req), newparent, &dir)) == 0) {
			timeout = entry_timeout_in(req, &dir);
			pmfs_caller_init(&c, req);
			ret = pmfs_perm_link(&c, &st, &dir);
			pmfs_caller_done(&c);
		}
	}
	if (ret == 0)
		ret = pmfs_link(req_fs(req), ino, newparent, newname, &st);
	reply_entry(req, ret, &st, timeout);
}

/*
 * Read-only and write-only opens go straight to the device, past the page
 * cache, as on a DAX file system: a 1 MiB read() is one READ, copied once
 * from the ring into the caller's buffer, and a 1 MiB write() one WRITE,
 * copied once into the ring and once into pmem.  Through the page cache a
 * read added read-ahead requests, a copy into cached pages and the
 * wake-ups around them (cold 1 GiB read 1.5 -> 3.9 GiB/s), and a write a
 * copy into a newly allocated cached page (1 GiB write 0.3-1.4 -> 4.5-5
 * GiB/s), see docs/PERFORMANCE.md.
 *
 * A read-write open of a file that has data keeps the page cache: that is
 * how databases open their files, and they read back what they wrote,
 * which through the cache is a hit and past it a round trip per read
 * (sqlite3 scanning a 20 MB table three times: 0.12 s cached, 0.36 s
 * direct).  A read-write open of an empty file (new, or just truncated by
 * O_TRUNC) goes direct like the others: nothing is cached to reuse, and
 * what follows is the file being written, which through the cache costs
 * a page allocation per 4 KiB (fio's 1 GiB write, read-write: 0.3-1.8
 * cached, 5.0-5.2 GiB/s direct).  The price is paid by a program that
 * builds a file and reads it back in small pieces through the same open:
 * sqlite3 creating a 20 MB database and its index, 0.38-0.46 s cached,
 * 0.54-0.58 s direct; its later opens find data and cache.
 *
 * Mappings still use the page cache.  With FUSE_DIRECT_IO_ALLOW_MMAP
 * (fuse_io.c) the kernel allows MAP_SHARED of such a file, writes dirty
 * mapped pages back before a direct read or write and drops the cached
 * pages a direct write covers, so mappings and read()/write() agree
 * (mmap_coherence).  Without that flag a shared mapping would fail, so the
 * cache stays; with the writeback cache the kernel owns writes.
 */
static void set_direct_io(const struct pmfs_fuse *pf, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	if (!pf->direct_io || pf->writeback_cache || !pmfs_fuse_io_direct_mmap())
		return;
	if ((fi->flags & O_ACCMODE) == O_RDWR &&
	    (pmfs_getattr(pf->fs, ino, &st) < 0 || st.st_size > 0))
		return;
	fi->direct_io = 1;
}

/*
 * The open flags of OPEN and CREATE.  The daemon is the only writer of the
 * device, so the page cache stays valid across opens (keep_cache); direct
 * maps invalidate it explicitly.
 */
static void set_open_flags(struct pmfs_fuse *pf, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fi->fh = 0;
	fi->keep_cache = 1;
	pmfs_fuse_dmap_open(pf, ino, fi);
	set_direct_io(pf, ino, fi);
}

static int open_file(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct pmfs_fuse *pf = req_fuse(req);
	int ret = check_inode(req, ino, pmfs_perm_open, fi->flags);

	if (ret < 0)
		return ret;
	/* FUSE_CAP_ATOMIC_O_TRUNC (libfuse's default): the truncate is ours. */
	if ((fi->flags & O_TRUNC) && (fi->flags & O_ACCMODE) != O_RDONLY) {
		struct stat st = {.st_size = 0};
		unsigned bits = PMFS_SET_SIZE | PMFS_SET_MTIME_NOW;
		bool kill = will_kill_suidgid(req, ino);

		/* KILLPRIV_V2 (fuse_io.c): FUSE_OPEN_KILL_SUIDGID */
		if (pmfs_fuse_req_kill_suidgid())
			bits |= PMFS_SET_KILL_SUIDGID;
		ret = pmfs_setattr(pf->fs, ino, &st, bits, NULL);
		if (ret < 0)
			return ret;
		if (kill)
			kernel_forget_attrs(req, ino);
	}
	set_open_flags(pf, ino, fi);
	return 0;
}

static void pmfs_fuse_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int ret = open_file(req, ino, fi);

	if (ret < 0)
		reply_status(req, ret);
	else
		fuse_reply_open(req, fi);
}

/*
 * The space of a removed file comes back with the FORGET the kernel sends
 * after the UNLINK (rm(1) returns when the UNLINK is answered), through
 * /dev/fuse, which a request on a ring (fuse_uring.c) can overtake.  Two
 * kinds of request wait for those frees, 1 ms at a time:
 * - a create, write or fallocate that got ENOSPC, up to 100 ms, then tries
 *   again (an inode held open after unlink keeps the list non-empty, which
 *   costs its ENOSPC that wait);
 * - a statfs within FRESH_DELETE_NS of a removal, until that window ends
 *   (`rm big; df` showed nothing freed); an inode held open after an older
 *   removal costs a statfs nothing.
 * True if there was something to wait for (and 1 ms went by).
 */
#define SPACE_WAIT_TRIES 100
#define FRESH_DELETE_NS 100000000ull

static bool wait_a_moment_for_frees(struct pmfs *fs)
{
	if (!pmfs_orphans_pending(fs))
		return false;
	usleep(1000);
	return true;
}

/* True: try again. */
static bool wait_for_space(struct pmfs *fs, long ret, unsigned *tries)
{
	if (ret != -ENOSPC || *tries >= SPACE_WAIT_TRIES || !wait_a_moment_for_frees(fs))
		return false;
	(*tries)++;
	return true;
}

static void wait_for_fresh_frees(struct pmfs *fs)
{
	uint64_t t0 = atomic_load_explicit(&last_delete_ns, memory_order_relaxed);

	while (t0 && pmfs_monotonic_ns() - t0 < FRESH_DELETE_NS && wait_a_moment_for_frees(fs))
		;
}

static void pmfs_fuse_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			     struct fuse_file_info *fi)
{
	struct pmfs_fuse *pf = req_fuse(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct fuse_entry_param e;
	struct stat st;
	double timeout;
	unsigned tries = 0;
	int ret = check_dir(req, parent, pmfs_perm_create, &timeout);

	if (ret == 0)
		do
			ret = pmfs_create(pf->fs, parent, name, (mode & ~S_IFMT) | S_IFREG,
					  ctx->uid, ctx->gid, &st);
		while (wait_for_space(pf->fs, ret, &tries));
	if (ret < 0) {
		reply_status(req, ret);
		return;
	}
	set_open_flags(pf, st.st_ino, fi);
	fill_entry(pf, &st, &e);
	e.entry_timeout = timeout;
	if (fuse_reply_create(req, &e, fi) != 0)
		pmfs_forget(pf->fs, st.st_ino, 1);
}

struct read_reply {
	fuse_req_t req;
	bool replied;
};

/* Called with the inode read-locked: the iovecs point into the device. */
static int emit_read(void *ctx, const struct iovec *iov, int iovcnt, size_t bytes)
{
	struct read_reply *rr = ctx;
	struct pmfs *fs = req_fs(rr->req); /* the reply frees req */
	int ret;

	(void)bytes;
	rr->replied = true;
	/* writev straight from pmem: no bounce buffer (fuse_reply_data would
	 * copy a multi-segment bufvec into one buffer first). */
	ret = fuse_reply_iov(rr->req, iov, iovcnt);
	/* Here the kernel does the loads: a poisoned page (or one past the
	 * end of a truncated emulation file) fails the writev with EFAULT,
	 * and the kernel has already ended the request with EIO.  Record
	 * the bad pages so the next reads fail before the reply. */
	if (ret == -EFAULT)
		pmfs_media_probe(fs, iov, iovcnt);
	return ret;
}

static void pmfs_fuse_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	struct read_reply rr = {.req = req, .replied = false};
	int ret;

	(void)fi;
	ret = pmfs_read_iter(req_fs(req), ino, size, off, emit_read, &rr);
	if (!rr.replied)
		reply_status(req, ret);
}

/*
 * O_APPEND is not passed on: the kernel holds the inode lock across a FUSE
 * write and sets the offset to its i_size, which is exact because every
 * change goes through it.  Appending here would also misplace page-cache
 * writeback (fi->writepage) of a shared mapping opened with O_APPEND.
 */
static void write_reply(fuse_req_t req, fuse_ino_t ino, const char *buf, int pipe_fd,
			size_t *taken, size_t size, off_t off)
{
	/* KILLPRIV_V2 (fuse_io.c): the kernel no longer clears set-ID bits
	 * before a write; FUSE_WRITE_KILL_SUIDGID asks us to, in the write. */
	unsigned flags = pmfs_fuse_req_kill_suidgid() ? PMFS_WRITE_KILL_SUIDGID : 0;
	bool kill = flags && will_kill_suidgid(req, ino);
	unsigned tries = 0;
	ssize_t ret;

	do
		ret = buf ? pmfs_write(req_fs(req), ino, buf, size, off, flags)
			  : pmfs_fuse_write_pipe(req_fs(req), ino, pipe_fd, size, off, flags, taken);
	while ((buf || *taken == 0) && wait_for_space(req_fs(req), ret, &tries));
	if (ret > 0 && kill)
		kernel_forget_attrs(req, ino);
	if (ret < 0)
		reply_status(req, ret);
	else
		fuse_reply_write(req, (size_t)ret);
}

static void pmfs_fuse_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
			    struct fuse_file_info *fi)
{
	(void)fi;
	write_reply(req, ino, buf, -1, NULL, size, off);
}

/*
 * With splice (fuse_splice.c) libfuse calls this for every WRITE: a small
 * one arrives in memory, a large one still in the pipe, read from there
 * straight into pmem.  Data left in the pipe (a short write) is dropped by
 * libfuse, which resets the pipe unless we mark the buffer consumed.
 */
static void pmfs_fuse_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *bufv,
				off_t off, struct fuse_file_info *fi)
{
	const struct fuse_buf *b = &bufv->buf[bufv->idx];
	size_t taken = 0;

	(void)fi;
	if (!(b->flags & FUSE_BUF_IS_FD)) {
		write_reply(req, ino, (const char *)b->mem + bufv->off, -1, NULL,
			    b->size - bufv->off, off);
		return;
	}
	write_reply(req, ino, NULL, b->fd, &taken, b->size, off);
	if (taken == b->size)
		bufv->idx = bufv->count;
}

/*
 * FLUSH (sent on every close) has nothing to do: writes were durable when
 * they returned.  ENOSYS makes the kernel stop sending it, one round trip
 * less per close.  With the writeback cache the kernel still writes the
 * dirty pages back (durable WRITEs) and waits for them before it looks at
 * its no_flush flag, so close(2) keeps its write-back.  No POSIX locks
 * are held here (the kernel keeps them), so FLUSH has no lock to drop.
 */
static void pmfs_fuse_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, ENOSYS);
}

static void pmfs_fuse_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	pmfs_fuse_dmap_release(req_fuse(req), ino, fi);
	fuse_reply_err(req, 0);
}

/*
 * Every write() is durable before its reply, so in the default mode there
 * is nothing left to sync: ENOSYS makes the kernel stop sending FSYNC (it
 * still waits for its own in-flight writes first).  With the writeback
 * cache the kernel writes dirty pages before FSYNC too, but we answer it
 * properly there so the drain in pmfs_fsync orders everything before.
 */
static void pmfs_fuse_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)fi;
	if (!req_fuse(req)->writeback_cache) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	reply_status(req, pmfs_fsync(req_fs(req), ino, datasync != 0));
}

static void pmfs_fuse_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	int ret = pmfs_getattr(req_fs(req), ino, &st);

	if (ret < 0) {
		reply_status(req, ret);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (daemon_checks(req)) {
		struct pmfs_caller c;

		pmfs_caller_init(&c, req);
		ret = pmfs_perm_open(&c, &st, fi->flags);
		pmfs_caller_done(&c);
		if (ret < 0) {
			reply_status(req, ret);
			return;
		}
	}
	fi->fh = 0;
	fuse_reply_open(req, fi);
}

struct dir_buf {
	fuse_req_t req;
	struct pmfs_fuse *pf;
	char *buf;
	size_t size;
	size_t used;
	bool plus;
	double entry_timeout; /* of the names in this directory */
};

static int fill_dir(void *ctx, const char *name, const struct stat *st, uint64_t next_off)
{
	struct dir_buf *db = ctx;
	char *at = db->buf + db->used;
	size_t room = db->size - db->used;
	size_t need;

	if (db->plus) {
		struct fuse_entry_param e;

		fill_entry(db->pf, st, &e);
		e.entry_timeout = db->entry_timeout;
		/* The kernel takes no reference on "." and ".." (nodeid 0). */
		if (is_dot_or_dotdot(name))
			e.ino = 0;
		need = fuse_add_direntry_plus(db->req, at, room, name, &e, (off_t)next_off);
	} else {
		need = fuse_add_direntry(db->req, at, room, name, st, (off_t)next_off);
	}
	if (need > room)
		return 1;
	db->used += need;
	return 0;
}

static void read_dir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
	struct dir_buf db = {.req = req, .pf = req_fuse(req), .size = size, .plus = plus};
	int ret;

	db.entry_timeout = db.pf->entry_timeout;
	if (plus && daemon_checks(req)) {
		struct stat dir;

		if (pmfs_getattr(db.pf->fs, ino, &dir) == 0)
			db.entry_timeout = entry_timeout_in(req, &dir);
		else
			db.entry_timeout = 0;
	}
	db.buf = malloc(size);
	if (!db.buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ret = pmfs_readdir(db.pf->fs, ino, (uint64_t)off, plus, fill_dir, &db);
	/* Entries already packed carry references (plus): send them even if
	 * a later one failed, or the kernel could never forget them. */
	if (ret < 0 && db.used == 0)
		reply_status(req, ret);
	else
		fuse_reply_buf(req, db.buf, db.used);
	free(db.buf);
}

static void pmfs_fuse_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			      struct fuse_file_info *fi)
{
	(void)fi;
	read_dir(req, ino, size, off, false);
}

static void pmfs_fuse_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
				  struct fuse_file_info *fi)
{
	(void)fi;
	read_dir(req, ino, size, off, true);
}

static void pmfs_fuse_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void pmfs_fuse_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			       struct fuse_file_info *fi)
{
	(void)fi;
	/* Metadata commits are durable already; this only drains. */
	reply_status(req, pmfs_fsync(req_fs(req), ino, datasync != 0));
}

static void pmfs_fuse_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs st;
	int ret;

	(void)ino;
	wait_for_fresh_frees(req_fs(req));
	ret = pmfs_statfs(req_fs(req), &st);
	if (ret < 0)
		reply_status(req, ret);
	else
		fuse_reply_statfs(req, &st);
}

static void pmfs_fuse_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			       size_t size, int flags)
{
	struct pmfs_caller c;
	struct stat st;
	int ret = 0;

	if (daemon_checks(req) && (ret = pmfs_getattr(req_fs(req), ino, &st)) == 0) {
		pmfs_caller_init(&c, req);
		ret = pmfs_perm_xattr(&c, &st, name, PMFS_MAY_WRITE);
		pmfs_caller_done(&c);
	}
	if (ret == 0)
		ret = pmfs_setxattr(req_fs(req), ino, name, value, size, flags);
	reply_status(req, ret);
}

/* getxattr and listxattr share the "size 0 asks for the length" protocol. */
static void reply_xattr_result(fuse_req_t req, ssize_t ret, const char *buf, size_t size)
{
	if (ret < 0)
		reply_status(req, ret);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)ret);
	else
		fuse_reply_buf(req, buf, (size_t)ret);
}

static void pmfs_fuse_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	char *buf = NULL;
	struct pmfs_caller c;
	struct stat st;
	ssize_t ret = 0;

	if (daemon_checks(req) && (ret = pmfs_getattr(req_fs(req), ino, &st)) == 0) {
		pmfs_caller_init(&c, req);
		ret = pmfs_perm_xattr(&c, &st, name, PMFS_MAY_READ);
		pmfs_caller_done(&c);
	}
	if (ret < 0) {
		reply_status(req, ret);
		return;
	}
	if (size > 0 && !(buf = malloc(size))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ret = pmfs_getxattr(req_fs(req), ino, name, buf, size);
	reply_xattr_result(req, ret, buf, size);
	free(buf);
}

static void pmfs_fuse_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	char *buf = NULL;
	ssize_t ret;

	if (size > 0 && !(buf = malloc(size))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ret = pmfs_listxattr(req_fs(req), ino, buf, size);
	reply_xattr_result(req, ret, buf, size);
	free(buf);
}

static void pmfs_fuse_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct pmfs_caller c;
	struct stat st;
	int ret = 0;

	if (daemon_checks(req) && (ret = pmfs_getattr(req_fs(req), ino, &st)) == 0) {
		pmfs_caller_init(&c, req);
		ret = pmfs_perm_xattr(&c, &st, name, PMFS_MAY_WRITE);
		pmfs_caller_done(&c);
	}
	reply_status(req, ret < 0 ? ret : pmfs_removexattr(req_fs(req), ino, name));
}

static void pmfs_fuse_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
				struct fuse_file_info *fi)
{
	struct pmfs_fuse *pf = req_fuse(req);
	unsigned tries = 0;
	int ret;

	(void)fi;
	do
		ret = pmfs_fallocate(pf->fs, ino, mode, off, len);
	while (wait_for_space(pf->fs, ret, &tries));
	reply_status(req, ret);
	/* Not every kernel drops cached pages for a zeroed range; make sure
	 * (after the reply: the kernel holds the inode lock until then). */
	if (ret == 0 && (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)))
		fuse_lowlevel_notify_inval_inode(pf->se, ino, off, len);
}

static void pmfs_fuse_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
			    struct fuse_file_info *fi)
{
	off_t ret;

	(void)fi;
	if (whence != SEEK_DATA && whence != SEEK_HOLE) {
		fuse_reply_err(req, EINVAL); /* the kernel handles the others */
		return;
	}
	ret = pmfs_lseek(req_fs(req), ino, off, whence);
	if (ret < 0)
		reply_status(req, ret);
	else
		fuse_reply_lseek(req, ret);
}

static void pmfs_fuse_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
				      struct fuse_file_info *fi_in, fuse_ino_t ino_out,
				      off_t off_out, struct fuse_file_info *fi_out, size_t len,
				      int flags)
{
	ssize_t ret;

	(void)fi_in;
	(void)fi_out;
	if (flags != 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	ret = pmfs_copy_file_range(req_fs(req), ino_in, off_in, ino_out, off_out, len);
	if (ret < 0)
		reply_status(req, ret);
	else
		fuse_reply_write(req, (size_t)ret);
}

const struct fuse_lowlevel_ops pmfs_fuse_ops = {
    .init = pmfs_fuse_init,
    .lookup = pmfs_fuse_lookup,
    .forget = pmfs_fuse_forget,
    .forget_multi = pmfs_fuse_forget_multi,
    .getattr = pmfs_fuse_getattr,
    .setattr = pmfs_fuse_setattr,
    .access = pmfs_fuse_access,
    .readlink = pmfs_fuse_readlink,
    .mknod = pmfs_fuse_mknod,
    .mkdir = pmfs_fuse_mkdir,
    .unlink = pmfs_fuse_unlink,
    .rmdir = pmfs_fuse_rmdir,
    .symlink = pmfs_fuse_symlink,
    .rename = pmfs_fuse_rename,
    .link = pmfs_fuse_link,
    .open = pmfs_fuse_open,
    .read = pmfs_fuse_read,
    .write = pmfs_fuse_write,
    .write_buf = pmfs_fuse_write_buf,
    .flush = pmfs_fuse_flush,
    .release = pmfs_fuse_release,
    .fsync = pmfs_fuse_fsync,
    .opendir = pmfs_fuse_opendir,
    .readdir = pmfs_fuse_readdir,
    .readdirplus = pmfs_fuse_readdirplus,
    .releasedir = pmfs_fuse_releasedir,
    .fsyncdir = pmfs_fuse_fsyncdir,
    .statfs = pmfs_fuse_statfs,
    .setxattr = pmfs_fuse_setxattr,
    .getxattr = pmfs_fuse_getxattr,
    .listxattr = pmfs_fuse_listxattr,
    .removexattr = pmfs_fuse_removexattr,
    .create = pmfs_fuse_create,
    .fallocate = pmfs_fuse_fallocate,
    .lseek = pmfs_fuse_lseek,
    .copy_file_range = pmfs_fuse_copy_file_range,
    .ioctl = pmfs_fuse_dmap_ioctl,
};
