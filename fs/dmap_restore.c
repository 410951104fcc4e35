/*
 * dmap_restore.c - direct maps across daemon restarts: what a mount finds
 * still mapped by applications of an earlier daemon, and keeping those
 * blocks until the applications let go (docs/DIRECT-MAP.md, "Daemon
 * restarts").
 *
 * Pins (dmap_pin.c) live in the daemon's memory; a mapping outlives a
 * kill -9 of the daemon.  So each client announces its mapping in the
 * kernel: while it maps inode INO it holds an OFD read lock on byte
 * PMFS_DMAP_LOCK_BASE + INO of its own device fd (libpmem/pmemfs_direct.c),
 * which the kernel drops when that fd closes, after the mapping is gone.
 * Any daemon incarnation sees those locks with F_OFD_GETLK on its device fd
 * (fcntl locks do not interact with the flock() that makes the device
 * ours, and the daemon takes no fcntl locks itself).
 *
 * At mount, after journal replay and before orphan recovery frees
 * anything (pmfs_orphans_recover calls pmfs_dmap_restore first):
 *   - every regular file named by a live lock gets a "restored" grant
 *     (owner PMFS_DMAP_OWNER_RESTORED) pinning every block it maps now:
 *     a superset of what the client maps (conservative: late free, never
 *     early).  Later truncates move those blocks to a holder as for any
 *     pin; an unlinked file stays on the orphan list while pinned;
 *   - while any live lock exists, orphans that may be holders of an
 *     earlier daemon (a holder is exactly mode S_IFREG: no permission
 *     bits, which dmap_pin.c gives it) are kept on the orphan list.  No
 *     format change marks a holder or its file, so we cannot tell whose it
 *     is: it is kept until none of the inodes locked at mount is locked
 *     any more.  Other orphans (not named by a lock, not holder-shaped)
 *     are freed as before.
 * A thread polls once a second: a restored grant whose lock is gone is
 * released (the ordinary release path: node lock, holder freed through the
 * orphan code); kept orphans are freed (iget/iput, the ordinary orphan
 * path) once no inode locked at mount is still locked.  The thread ends
 * when nothing is left.
 *
 * Crash consistency: restoring writes nothing on media except new empty
 * holders (dmap_pin.c's holder_create: one tx, already on the orphan
 * list).  Keeping an orphan writes nothing: it stays on the persistent
 * orphan list, a valid state, and a crash before it is freed leaves the
 * decision to the next mount, which sees the same kernel locks (they do
 * not depend on any daemon).  Freeing uses the ordinary, crash-safe paths.
 *
 * A client takes its lock after its grant and then asks its daemon again
 * (pmemfs_direct.c): a mapping exists only if that daemon was alive after
 * the lock was set, so any later mount sees it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dmap.h"
#include "extent.h"
#include "icache.h"
#include "persist.h"
#include "pmemfs_dmap_proto.h"

#define POLL_SECONDS 1

struct restored {
	uint64_t grant;
	pmfs_ino_t ino;
};

struct span {
	uint64_t lo, hi;
};

/* One per mounted fs that found live locks. */
struct restore_state {
	struct restore_state *next;
	struct pmfs *fs;
	pthread_mutex_t lock; /* the arrays below; held by a poll round */
	pthread_cond_t wake;
	pthread_t thread;
	bool running, stop;
	struct restored *g;
	uint32_t ng, gcap;
	pmfs_ino_t *kept;
	uint32_t nkept, kcap;
	struct span *live; /* the inodes locked at mount */
	uint32_t nlive;
};

static pthread_mutex_t States_lock = PTHREAD_MUTEX_INITIALIZER;
static struct restore_state *States;

static struct restore_state *state_of(struct pmfs *fs)
{
	struct restore_state *s;

	pthread_mutex_lock(&States_lock);
	for (s = States; s && s->fs != fs; s = s->next)
		;
	pthread_mutex_unlock(&States_lock);
	return s;
}

/* ---- the kernel's view: which inodes are mapped --------------------------- */

/*
 * The first lock found conflicting with a write lock on inode bytes
 * [lo, hi) (hi 0: to the end of the offsets), as an inode range clipped to
 * [lo, hi): 1.  0: none.  -errno: the kernel could not say.
 */
static int find_lock(int fd, uint64_t lo, uint64_t hi, uint64_t *a, uint64_t *b)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	uint64_t s, e;

	fl.l_start = (off_t)(PMFS_DMAP_LOCK_BASE + lo);
	fl.l_len = hi ? (off_t)(hi - lo) : 0;
	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return -errno;
	if (fl.l_type == F_UNLCK)
		return 0;
	s = (uint64_t)fl.l_start;
	e = fl.l_len ? s + (uint64_t)fl.l_len : UINT64_MAX;
	/* the kernel reports the whole conflicting lock: clip it */
	*a = s > PMFS_DMAP_LOCK_BASE + lo ? s - PMFS_DMAP_LOCK_BASE : lo;
	*b = e - PMFS_DMAP_LOCK_BASE;
	if (e == UINT64_MAX || (hi && *b > hi))
		*b = hi ? hi : UINT64_MAX;
	return *a < *b;
}

/* Polling: a query that fails counts as locked (late free, never early). */

static bool ino_locked(struct pmfs *fs, pmfs_ino_t ino)
{
	uint64_t a, b;

	return find_lock(fs->dev_fd, ino, ino + 1, &a, &b) != 0;
}

bool pmfs_dmap_ino_mapped(struct pmfs *fs, pmfs_ino_t ino)
{
	return ino_locked(fs, ino);
}

/*
 * Is any inode that was locked at mount still locked?  Only clients of
 * earlier daemons can map blocks of their holders, and their set only
 * shrinks (a dead daemon grants nothing): kept orphans wait for them, not
 * for clients of this daemon (who may lock the same inodes: conservative).
 */
static bool mount_locks_left(struct restore_state *s)
{
	uint64_t a, b;

	for (uint32_t i = 0; i < s->nlive; i++)
		if (find_lock(s->fs->dev_fd, s->live[i].lo, s->live[i].hi, &a, &b) != 0)
			return true;
	return false;
}

static int push(struct span **v, uint32_t *n, uint32_t *cap, uint64_t lo, uint64_t hi)
{
	if (lo >= hi)
		return 0;
	if (*n == *cap) {
		uint32_t c = *cap ? *cap * 2 : 16;
		struct span *nv = realloc(*v, c * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = (struct span){lo, hi};
	return 0;
}

/*
 * Every locked inode of [1, inode_count), as ranges in *out.  The kernel
 * reports one conflicting lock per query, not necessarily the lowest, so
 * each found lock splits the searched span in two: 2k+1 queries for k
 * locks.
 */
static int live_inodes(struct pmfs *fs, struct span **out, uint32_t *nout)
{
	struct span *todo = NULL, *found = NULL;
	uint32_t nt = 0, ct = 0, nf = 0, cf = 0;
	int err = push(&todo, &nt, &ct, 1, fs->sb->inode_count);

	while (!err && nt) {
		struct span sp = todo[--nt];
		uint64_t a, b;
		int got = find_lock(fs->dev_fd, sp.lo, sp.hi, &a, &b);

		/* EINVAL: no OFD locks here, so no client could announce a
		 * mapping either (pmemfs_direct.c falls back): none exist */
		if (got == -EINVAL && nf == 0)
			break;
		if (got < 0) {
			pmfs_logf(fs, PMFS_LOG_ERR, "asking for direct-map clients' locks: %s",
				  strerror(-got));
			err = got;
			break;
		}
		if (got == 0)
			continue;
		err = push(&found, &nf, &cf, a, b);
		if (!err)
			err = push(&todo, &nt, &ct, sp.lo, a);
		if (!err)
			err = push(&todo, &nt, &ct, b, sp.hi);
	}
	free(todo);
	if (err) {
		free(found);
		return err;
	}
	*out = found;
	*nout = nf;
	return 0;
}

/* ---- restoring pins --------------------------------------------------------- */

/* Every mapped extent of the file, in bytes (holes skipped). */
static int mapped_extents(struct pmfs *fs, struct pmfs_node *node, struct pmfs_dmap_ext **out,
			  uint32_t *n, uint64_t *end_bytes)
{
	struct pmfs_extmap *m;
	uint64_t end;
	int err = pmfs_extmap_get(fs, node, &m);

	if (err)
		return err;
	end = pmfs_extmap_end(m);
	err = pmfs_dmap_ext_list(m, end, true, out, n);
	if (!err)
		*end_bytes = end * PMFS_BLOCK_SIZE;
	return err;
}

static int remember_grant(struct restore_state *s, uint64_t grant, pmfs_ino_t ino)
{
	if (s->ng == s->gcap) {
		uint32_t c = s->gcap ? s->gcap * 2 : 8;
		struct restored *ng = realloc(s->g, c * sizeof(*ng));

		if (!ng)
			return -ENOMEM;
		s->g = ng;
		s->gcap = c;
	}
	s->g[s->ng++] = (struct restored){grant, ino};
	return 0;
}

/* Pins what inode ino maps now, for a client of an earlier daemon. */
static int restore_one(struct pmfs *fs, struct restore_state *s, pmfs_ino_t ino)
{
	const struct pmfs_inode *di = pmfs_inode_get(fs, ino);
	struct pmfs_dmap_ext *ext = NULL;
	struct pmfs_node *node;
	uint64_t end = 0, grant;
	uint32_t n = 0;
	int err;

	if (!S_ISREG(di->mode))
		return 0; /* free or not a file: nothing a client can map */
	err = pmfs_iget(fs, ino, &node);
	if (err)
		return err;
	pmfs_node_wrlock(node); /* as a grant: pins are made under it */
	err = mapped_extents(fs, node, &ext, &n, &end);
	if (!err && n)
		err = pmfs_dmap_pin(fs, node, PMFS_DMAP_OWNER_RESTORED, ext, n, di->size, end,
				    &grant);
	pmfs_node_unlock(node);
	if (err || n == 0) {
		free(ext);
		pmfs_iput(fs, node);
		return err;
	}
	/* the grant holds node's pin from here on */
	err = remember_grant(s, grant, ino);
	if (err)
		pmfs_dmap_release(fs, grant, PMFS_DMAP_OWNER_RESTORED, NULL);
	return err;
}

static void state_free(struct restore_state *s)
{
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	free(s->g);
	free(s->kept);
	free(s->live);
	free(s);
}

int pmfs_dmap_restore(struct pmfs *fs)
{
	struct restore_state *s;
	struct span *live = NULL;
	uint32_t nlive = 0;
	unsigned files = 0;
	int err;

	if (fs->read_only)
		return 0; /* frees nothing, so nothing to protect */
	err = live_inodes(fs, &live, &nlive);
	if (err || nlive == 0) {
		free(live);
		return err;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		free(live);
		return -ENOMEM;
	}
	s->fs = fs;
	s->live = live;
	s->nlive = nlive;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	for (uint32_t i = 0; i < nlive && !err; i++)
		for (uint64_t ino = live[i].lo; ino < live[i].hi && !err; ino++) {
			unsigned before = s->ng;

			err = restore_one(fs, s, ino);
			files += s->ng > before;
		}
	if (err) {
		pmfs_logf(fs, PMFS_LOG_ERR, "direct maps of an earlier daemon: restoring pins: %s",
			  strerror(-err));
		for (uint32_t i = 0; i < s->ng; i++)
			pmfs_dmap_release(fs, s->g[i].grant, PMFS_DMAP_OWNER_RESTORED, NULL);
		state_free(s);
		return err;
	}
	pmfs_logf(fs, PMFS_LOG_INFO,
		  "applications still map files of an earlier daemon (files pinned: %u); "
		  "orphans that may hold their blocks are kept until they unmap",
		  files);
	pthread_mutex_lock(&States_lock);
	s->next = States;
	States = s;
	pthread_mutex_unlock(&States_lock);
	return 0;
}

bool pmfs_dmap_orphan_kept(struct pmfs *fs, pmfs_ino_t ino)
{
	struct restore_state *s = state_of(fs);
	bool kept = false;

	if (!s)
		return false; /* no live lock at mount: free every orphan */
	/* a restored grant's file or holder: freed by its release */
	if (pmfs_dmap_pinned(fs, ino) || pmfs_dmap_is_holder(fs, ino))
		return true;
	if (pmfs_inode_get(fs, ino)->mode != S_IFREG)
		return false; /* not shaped like a holder and no lock names it */
	pthread_mutex_lock(&s->lock);
	if (s->nkept == s->kcap) {
		uint32_t c = s->kcap ? s->kcap * 2 : 8;
		pmfs_ino_t *nk = realloc(s->kept, c * sizeof(*nk));

		if (nk) {
			s->kept = nk;
			s->kcap = c;
		}
	}
	/* no room to remember it: keep it anyway, the next mount decides */
	if (s->nkept < s->kcap)
		s->kept[s->nkept++] = ino;
	kept = true;
	pthread_mutex_unlock(&s->lock);
	return kept;
}

/* ---- letting go --------------------------------------------------------------- */

/* One round; s->lock held.  Returns what is still watched. */
static uint32_t poll_locked(struct restore_state *s)
{
	struct pmfs *fs = s->fs;

	for (uint32_t i = 0; i < s->ng;) {
		if (ino_locked(fs, s->g[i].ino)) {
			i++;
			continue;
		}
		/* the ordinary release: the holder goes through the orphan
		 * code, an unlinked file with its last pin */
		pmfs_dmap_release(fs, s->g[i].grant, PMFS_DMAP_OWNER_RESTORED, NULL);
		pmfs_logf(fs, PMFS_LOG_INFO, "inode %llu: no longer mapped; pins released",
			  (unsigned long long)s->g[i].ino);
		s->g[i] = s->g[--s->ng];
	}
	if (s->nkept && !mount_locks_left(s)) {
		for (uint32_t i = 0; i < s->nkept; i++) {
			pmfs_ino_t ino = s->kept[i];
			const struct pmfs_inode *di = pmfs_inode_get(fs, ino);
			struct pmfs_node *node;

			/* nothing can reach a kept orphan; check anyway */
			if (di->mode == 0 || di->nlink != 0 || !(di->flags & PMFS_IFL_ORPHAN))
				continue;
			if (pmfs_iget(fs, ino, &node) == 0)
				pmfs_iput(fs, node); /* the last pin frees it */
		}
		pmfs_logf(fs, PMFS_LOG_INFO,
			  "no direct map of an earlier daemon left: %u kept orphans freed",
			  s->nkept);
		s->nkept = 0;
	}
	return s->ng + s->nkept;
}

uint32_t pmfs_dmap_restore_poll(struct pmfs *fs)
{
	struct restore_state *s = state_of(fs);
	uint32_t left;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	left = poll_locked(s);
	pthread_mutex_unlock(&s->lock);
	return left;
}

static void *poller(void *arg)
{
	struct restore_state *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		struct timespec t;

		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += POLL_SECONDS;
		pthread_cond_timedwait(&s->wake, &s->lock, &t);
		if (!s->stop && poll_locked(s) == 0)
			break;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

void pmfs_dmap_restore_start(struct pmfs *fs)
{
	struct restore_state *s = state_of(fs);

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	if (s->ng + s->nkept == 0) {
		pthread_mutex_unlock(&s->lock);
		return; /* nothing was kept after all */
	}
	s->running = pthread_create(&s->thread, NULL, poller, s) == 0;
	if (!s->running)
		pmfs_logf(fs, PMFS_LOG_WARN,
			  "no poller for direct maps of an earlier daemon: their pins stay "
			  "until unmount");
	pthread_mutex_unlock(&s->lock);
}

/*
 * Unmount (first thing), or a failed mount: stops the poller; frees what
 * is no longer mapped; what still is stays on media as it is (pinned
 * nodes are not freed by the unmount, kept orphans stay on the orphan
 * list) for the next mount to find with the same locks.
 */
void pmfs_dmap_restore_stop(struct pmfs *fs)
{
	struct restore_state *s = state_of(fs), **pp;

	if (!s) {
		/* grants a client still mapped at daemon shutdown */
		pmfs_dmap_abandon_owner(fs, PMFS_DMAP_OWNER_RESTORED);
		return;
	}
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	if (s->running)
		pthread_join(s->thread, NULL);
	pthread_mutex_lock(&s->lock);
	poll_locked(s);
	pthread_mutex_unlock(&s->lock);
	pmfs_dmap_abandon_owner(fs, PMFS_DMAP_OWNER_RESTORED);
	pthread_mutex_lock(&States_lock);
	for (pp = &States; *pp != s; pp = &(*pp)->next)
		;
	*pp = s->next;
	pthread_mutex_unlock(&States_lock);
	state_free(s);
}
