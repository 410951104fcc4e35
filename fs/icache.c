/*
 * icache.c - the inode cache: one DRAM node per inode in use, found by
 * inode number in a hash table with one mutex per bucket (so lookups of
 * different files do not serialise), plus reference counting (FUSE lookup
 * counts and pins of calls in progress) and the hand-off to orphan.c when
 * the last reference to an unlinked inode goes away.
 *
 * Unreferenced nodes of directories stay cached, up to ICACHE_DIR_KEEP of
 * them: their index is what makes lookups O(1) and costs a scan to
 * rebuild.  Past that budget an unreferenced directory node is dropped
 * when its last reference goes (no LRU: the budget bounds memory, it does
 * not pick the best victims).  Unreferenced nodes of other inodes are
 * dropped at once, so the table holds about as many of them as the kernel
 * holds inodes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dir.h"
#include "extent.h"
#include "fault.h"
#include "icache.h"
#include "persist.h"

#define ICACHE_BUCKETS 16384u
#define ICACHE_DIR_KEEP 65536u

struct icache_bucket {
	pthread_mutex_t lock;
	struct pmfs_node *head;
};

struct pmfs_icache {
	struct icache_bucket bucket[ICACHE_BUCKETS];
	pthread_mutex_t rename_mutex;
	uint64_t dir_nodes; /* atomic: directory nodes in the table */
};

pthread_mutex_t *pmfs_rename_mutex(struct pmfs *fs)
{
	return &fs->icache->rename_mutex;
}

static struct icache_bucket *bucket_of(struct pmfs *fs, pmfs_ino_t ino)
{
	uint64_t h = ino * 0x9e3779b97f4a7c15ULL;

	return &fs->icache->bucket[(h >> 32) % ICACHE_BUCKETS];
}

int pmfs_icache_init(struct pmfs *fs)
{
	struct pmfs_icache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	for (unsigned i = 0; i < ICACHE_BUCKETS; i++)
		pthread_mutex_init(&c->bucket[i].lock, NULL);
	pthread_mutex_init(&c->rename_mutex, NULL);
	fs->icache = c;
	return 0;
}

static void node_destroy(struct pmfs *fs, struct pmfs_node *n)
{
	if (n->is_dir)
		__atomic_fetch_sub(&fs->icache->dir_nodes, 1, __ATOMIC_RELAXED);
	pmfs_node_drop_caches(n);
	pthread_rwlock_destroy(&n->lock);
	pthread_mutex_destroy(&n->build_lock);
	free(n);
}

void pmfs_icache_fini(struct pmfs *fs)
{
	struct pmfs_icache *c = fs->icache;

	if (!c)
		return;
	for (unsigned i = 0; i < ICACHE_BUCKETS; i++) {
		struct pmfs_node *n = c->bucket[i].head;

		while (n) {
			struct pmfs_node *next = n->hash_next;

			node_destroy(fs, n);
			n = next;
		}
		pthread_mutex_destroy(&c->bucket[i].lock);
	}
	pthread_mutex_destroy(&c->rename_mutex);
	free(c);
	fs->icache = NULL;
}

void pmfs_node_drop_caches(struct pmfs_node *node)
{
	pmfs_extmap_free(node->extmap);
	node->extmap = NULL;
	pmfs_dirindex_free(node->dirindex);
	node->dirindex = NULL;
}

int pmfs_iget(struct pmfs *fs, pmfs_ino_t ino, struct pmfs_node **out)
{
	struct icache_bucket *b;
	struct pmfs_node *n;

	if (ino == 0 || ino >= fs->sb->inode_count)
		return -ENOENT;
	b = bucket_of(fs, ino);
	pthread_mutex_lock(&b->lock);
	for (n = b->head; n; n = n->hash_next) {
		if (n->ino == ino && !n->dying) {
			n->pins++;
			pthread_mutex_unlock(&b->lock);
			*out = n;
			return 0;
		}
	}
	if (pmfs_inode_get(fs, ino)->mode == 0) {
		pthread_mutex_unlock(&b->lock);
		return -ENOENT;
	}
	n = pmfs_calloc(1, sizeof(*n));
	if (!n) {
		pthread_mutex_unlock(&b->lock);
		return -ENOMEM;
	}
	n->ino = ino;
	n->pins = 1;
	n->is_dir = S_ISDIR(pmfs_inode_get(fs, ino)->mode);
	if (n->is_dir)
		__atomic_fetch_add(&fs->icache->dir_nodes, 1, __ATOMIC_RELAXED);
	pthread_rwlock_init(&n->lock, NULL);
	pthread_mutex_init(&n->build_lock, NULL);
	n->hash_next = b->head;
	b->head = n;
	pthread_mutex_unlock(&b->lock);
	*out = n;
	return 0;
}

static void unhash(struct icache_bucket *b, struct pmfs_node *node)
{
	struct pmfs_node **pp;

	for (pp = &b->head; *pp; pp = &(*pp)->hash_next) {
		if (*pp == node) {
			*pp = node->hash_next;
			return;
		}
	}
}

/*
 * Called with the bucket lock held; releases it.  An unreferenced node of
 * an unlinked inode is marked dying (iget no longer finds it) and its inode
 * freed outside the bucket lock; the node leaves the table afterwards, so
 * a reused slot gets a fresh node.
 */
static int release_locked(struct pmfs *fs, struct icache_bucket *b, struct pmfs_node *node)
{
	int err = 0;

	const struct pmfs_inode *di = pmfs_inode_get(fs, node->ino);
	bool unused = node->pins == 0 && node->lookups == 0 && !node->dying;
	bool free_inode = unused && di->nlink == 0;

	if (unused && !free_inode &&
	    (!node->is_dir ||
	     __atomic_load_n(&fs->icache->dir_nodes, __ATOMIC_RELAXED) > ICACHE_DIR_KEEP)) {
		unhash(b, node);
		pthread_mutex_unlock(&b->lock);
		node_destroy(fs, node);
		return 0;
	}
	if (!free_inode) {
		pthread_mutex_unlock(&b->lock);
		return 0;
	}
	node->dying = true;
	pthread_mutex_unlock(&b->lock);
	if (!fs->read_only) {
		err = pmfs_inode_release(fs, node);
		if (err)
			pmfs_logf(fs, PMFS_LOG_ERR,
				  "freeing unlinked inode %llu failed (%d); recovery will retry",
				  (unsigned long long)node->ino, err);
	}
	pthread_mutex_lock(&b->lock);
	unhash(b, node);
	pthread_mutex_unlock(&b->lock);
	node_destroy(fs, node);
	return err;
}

void pmfs_iput(struct pmfs *fs, struct pmfs_node *node)
{
	struct icache_bucket *b = bucket_of(fs, node->ino);

	pthread_mutex_lock(&b->lock);
	node->pins--;
	release_locked(fs, b, node);
}

void pmfs_node_add_lookup(struct pmfs *fs, struct pmfs_node *node)
{
	struct icache_bucket *b = bucket_of(fs, node->ino);

	pthread_mutex_lock(&b->lock);
	node->lookups++;
	pthread_mutex_unlock(&b->lock);
}

int pmfs_forget(struct pmfs *fs, pmfs_ino_t ino, uint64_t nlookup)
{
	struct icache_bucket *b;
	struct pmfs_node *n;

	if (ino == 0 || ino >= fs->sb->inode_count)
		return -ENOENT;
	b = bucket_of(fs, ino);
	pthread_mutex_lock(&b->lock);
	for (n = b->head; n; n = n->hash_next)
		if (n->ino == ino && !n->dying)
			break;
	if (!n) {
		pthread_mutex_unlock(&b->lock);
		return -ENOENT;
	}
	n->lookups -= nlookup < n->lookups ? nlookup : n->lookups;
	release_locked(fs, b, n);
	return 0;
}

/*
 * Unmount: every lookup reference is dropped; unlinked inodes are freed
 * now (they leave the orphan list).  Nodes with pins would mean a call is
 * still running; the daemon has stopped by now, so none are expected.
 */
int pmfs_icache_evict_all(struct pmfs *fs)
{
	struct pmfs_icache *c = fs->icache;
	int ret = 0;

	if (!c)
		return 0;
	for (unsigned i = 0; i < ICACHE_BUCKETS; i++) {
		struct icache_bucket *b = &c->bucket[i];
		bool again = true;

		while (again) {
			struct pmfs_node *n;

			again = false;
			pthread_mutex_lock(&b->lock);
			for (n = b->head; n; n = n->hash_next) {
				if (n->dying || n->pins)
					continue;
				if (n->lookups || pmfs_inode_get(fs, n->ino)->nlink == 0) {
					n->lookups = 0;
					/* may free the inode; the list changes */
					int err = release_locked(fs, b, n);

					if (err && !ret)
						ret = err;
					again = true;
					break;
				}
			}
			if (!again)
				pthread_mutex_unlock(&b->lock);
		}
	}
	return ret;
}

/*
 * Logs the changed 8-byte words of the staged inode as runs.  orphan_next
 * is skipped: only orphan.c writes it, under fs->orphan_lock, so a staged
 * copy taken before an orphan-list change can never undo that change.
 */
int pmfs_inode_log(struct pmfs *fs, struct pmfs_tx *tx, pmfs_ino_t ino, const struct pmfs_inode *si)
{
	struct pmfs_inode *pi = pmfs_inode_ptr(fs, ino);
	const uint64_t *old = (const uint64_t *)pi;
	const uint64_t *new = (const uint64_t *)si;
	const unsigned nwords = sizeof(*si) / 8;
	const unsigned skip = offsetof(struct pmfs_inode, orphan_next) / 8;
	unsigned i = 0;

	while (i < nwords) {
		unsigned start;
		int err;

		if (i == skip || old[i] == new[i]) {
			i++;
			continue;
		}
		start = i;
		while (i < nwords && i != skip && old[i] != new[i])
			i++;
		err = pmfs_tx_set(tx, (uint64_t *)pi + start, new + start, (i - start) * 8);
		if (err)
			return err;
	}
	return 0;
}

void pmfs_now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

void pmfs_touch_mc(struct pmfs_inode *si)
{
	struct timespec ts;

	pmfs_now(&ts);
	si->mtime_sec = si->ctime_sec = ts.tv_sec;
	si->mtime_nsec = si->ctime_nsec = (uint32_t)ts.tv_nsec;
}

void pmfs_touch_c(struct pmfs_inode *si)
{
	struct timespec ts;

	pmfs_now(&ts);
	si->ctime_sec = ts.tv_sec;
	si->ctime_nsec = (uint32_t)ts.tv_nsec;
}

void pmfs_inode_to_stat(pmfs_ino_t ino, const struct pmfs_inode *di, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = di->mode;
	st->st_nlink = di->nlink;
	st->st_uid = di->uid;
	st->st_gid = di->gid;
	if (S_ISCHR(di->mode) || S_ISBLK(di->mode))
		st->st_rdev = (dev_t)di->rdev_or_parent;
	st->st_size = (off_t)di->size;
	st->st_blksize = PMFS_BLOCK_SIZE;
	st->st_blocks = (blkcnt_t)(di->blocks * (PMFS_BLOCK_SIZE / 512));
	st->st_atim.tv_sec = di->atime_sec;
	st->st_atim.tv_nsec = di->atime_nsec;
	st->st_mtim.tv_sec = di->mtime_sec;
	st->st_mtim.tv_nsec = di->mtime_nsec;
	st->st_ctim.tv_sec = di->ctime_sec;
	st->st_ctim.tv_nsec = di->ctime_nsec;
}
