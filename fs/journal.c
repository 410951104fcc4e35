/*
 * journal.c - redo-log transactions over the journal lanes, and their
 * replay at mount.
 *
 * A transaction owns one lane while it runs, so transactions on different
 * files build and commit concurrently.  Records are staged in DRAM (aborting
 * costs nothing on pmem) and copied to the lane at commit.
 *
 * Commit protocol and its crash-consistency argument:
 *   1. Copy the records and the 64-byte head (magic, seq, nrec, bytes, csum
 *      = CRC32C over seq, nrec, bytes and the records) into the lane and
 *      flush them; ONE fence.  This fence is the commit point.  Before it,
 *      a crash leaves either the old cleared head (magic 0) or a mixture of
 *      old and new bytes that fails the checksum: recovery ignores the lane
 *      and no home location has been touched, so the tx never happened.
 *      After it, the head is valid and recovery redoes every record.
 *   2. Apply each record to its home location (flushed); fence.  A crash
 *      during this step is repaired by replay: every record is idempotent
 *      (SET writes fixed bytes, OR64/ANDN64 set or clear fixed bits).
 *   3. Zero the whole head; fence.  Only then are deferred callbacks run
 *      (DRAM state published: freed blocks and inodes become allocatable)
 *      and the lane released, and only then does pmfs_tx_commit return, so
 *      the caller still holds its object locks until the head is gone.
 *
 * Why heads must be cleared before anything else touches the same bytes:
 * recovery replays the set of lanes that still have a valid head.  If T1's
 * head could survive while a later T2 rewrote the same bytes and was itself
 * applied and cleared, recovery would replay T1 alone and put T1's old values
 * back over T2's newer ones: a state that never existed.  Callers hold the
 * locks of everything they log until commit returns (step 3 is inside it),
 * so no later transaction logs SET records for those bytes while T1's head
 * is valid.  Bitmap words are the exception: several transactions touch the
 * same word at once, but only through OR64/ANDN64 on disjoint bits (a block
 * is reserved in DRAM by one tx at a time, and a freed block returns to the
 * DRAM free space only after step 3 of the freeing tx), which commute.  So
 * the lanes valid at any instant touch disjoint bytes or commute, and
 * replaying them all in seq order gives the state after all of them.
 * Why the whole head is zeroed, not just the magic: the next commit in this
 * lane rewrites the head, and x86 only promises 8-byte atomic persistence.
 * Were the old seq, nrec, bytes and csum left in place, a crash that
 * persisted the new magic but none of the rest would pair the old checksum
 * with the old records still in the lane (a shorter new tx does not
 * overwrite them): a valid head for an old transaction, replayed over newer
 * values.  With zeros there, any mixture of new and zero fields fails the
 * checksum.
 *
 * Recovery clears heads in increasing seq order with a fence after each, so a
 * crash during recovery leaves a suffix of the sequence, which replays the
 * same way again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "internal.h"
#include "persist.h"

struct pmfs_defer {
	void (*fn)(struct pmfs *fs, void *arg, bool aborted);
	void *arg;
};

struct pmfs_tx {
	struct pmfs *fs;
	unsigned lane;
	char *buf; /* staged records, lane capacity bytes */
	size_t used;
	uint32_t nrec;
	struct pmfs_defer *defers;
	unsigned ndefers, defer_cap;
};

struct pmfs_journal {
	pthread_mutex_t lock;
	pthread_cond_t lane_freed;
	unsigned nlanes;
	unsigned next_lane; /* round-robin start of the free-lane search */
	size_t lane_bytes;
	size_t capacity; /* record bytes per lane */
	bool *busy;
	struct pmfs_tx *txs;		 /* one per lane, reused */
	uint64_t next_seq;		 /* atomic */
	uint64_t journal_lo, journal_hi; /* device byte range of the journal */
};

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static char *lane_addr(const struct pmfs *fs, unsigned lane)
{
	const struct pmfs_super *sb = fs->sb;

	return pmfs_block(fs, sb->journal_start + (uint64_t)lane * sb->lane_blocks);
}

static uint32_t head_csum(const struct pmfs_lane_head *h, const void *records)
{
	uint32_t crc = pmfs_crc32c(0, &h->seq, sizeof(h->seq));

	crc = pmfs_crc32c(crc, &h->nrec, sizeof(h->nrec));
	crc = pmfs_crc32c(crc, &h->bytes, sizeof(h->bytes));
	return pmfs_crc32c(crc, records, h->bytes);
}

int pmfs_journal_init(struct pmfs *fs)
{
	struct pmfs_journal *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return -ENOMEM;
	j->nlanes = fs->sb->journal_lanes;
	j->lane_bytes = (size_t)fs->sb->lane_blocks * PMFS_BLOCK_SIZE;
	j->capacity = j->lane_bytes - PMFS_LANE_RECORDS_OFF;
	j->journal_lo = fs->sb->journal_start << PMFS_BLOCK_SHIFT;
	j->journal_hi = j->journal_lo + (uint64_t)j->nlanes * j->lane_bytes;
	j->next_seq = 1;
	j->busy = calloc(j->nlanes, sizeof(*j->busy));
	j->txs = calloc(j->nlanes, sizeof(*j->txs));
	if (j->busy == NULL || j->txs == NULL)
		goto nomem;
	if (!fs->read_only) {
		for (unsigned i = 0; i < j->nlanes; i++) {
			j->txs[i].fs = fs;
			j->txs[i].lane = i;
			j->txs[i].buf = malloc(j->capacity);
			if (j->txs[i].buf == NULL)
				goto nomem;
		}
	}
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->lane_freed, NULL);
	fs->journal = j;
	return 0;
nomem:
	for (unsigned i = 0; j->txs && i < j->nlanes; i++)
		free(j->txs[i].buf);
	free(j->txs);
	free(j->busy);
	free(j);
	return -ENOMEM;
}

void pmfs_journal_fini(struct pmfs *fs)
{
	struct pmfs_journal *j = fs->journal;

	if (j == NULL)
		return;
	for (unsigned i = 0; i < j->nlanes; i++) {
		free(j->txs[i].buf);
		free(j->txs[i].defers);
	}
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->lane_freed);
	free(j->txs);
	free(j->busy);
	free(j);
	fs->journal = NULL;
}

struct pmfs_tx *pmfs_tx_begin(struct pmfs *fs)
{
	struct pmfs_journal *j = fs->journal;
	struct pmfs_tx *tx = NULL;

	if (fs->read_only || j == NULL)
		return NULL;
	pthread_mutex_lock(&j->lock);
	while (tx == NULL) {
		for (unsigned k = 0; k < j->nlanes; k++) {
			unsigned i = (j->next_lane + k) % j->nlanes;

			if (!j->busy[i]) {
				j->busy[i] = true;
				j->next_lane = i + 1;
				tx = &j->txs[i];
				break;
			}
		}
		if (tx == NULL)
			pthread_cond_wait(&j->lane_freed, &j->lock);
	}
	pthread_mutex_unlock(&j->lock);
	tx->used = 0;
	tx->nrec = 0;
	tx->ndefers = 0;
	return tx;
}

static void release_lane(struct pmfs_tx *tx)
{
	struct pmfs_journal *j = tx->fs->journal;

	pthread_mutex_lock(&j->lock);
	j->busy[tx->lane] = false;
	pthread_cond_signal(&j->lane_freed);
	pthread_mutex_unlock(&j->lock);
}

/*
 * A record may target any byte from the state block to the last data block:
 * never a superblock copy, never the journal itself.
 */
static bool target_ok(const struct pmfs *fs, uint64_t off, uint64_t len)
{
	const struct pmfs_journal *j = fs->journal;
	uint64_t lo = (uint64_t)PMFS_STATE_BLOCK << PMFS_BLOCK_SHIFT;
	uint64_t hi = (fs->sb->total_blocks - 1) << PMFS_BLOCK_SHIFT;

	if (off < lo || off > hi || len > hi - off)
		return false;
	return off + len <= j->journal_lo || off >= j->journal_hi;
}

static int append(struct pmfs_tx *tx, void *pmem_dst, const void *src, size_t len, uint16_t op)
{
	struct pmfs *fs = tx->fs;
	struct pmfs_jrec rec;
	size_t need = sizeof(rec) + pad8(len);
	uint64_t off = (uint64_t)((char *)pmem_dst - fs->base);

	if ((char *)pmem_dst < fs->base || !target_ok(fs, off, len))
		return -EINVAL;
	if (need > fs->journal->capacity - tx->used)
		return -E2BIG;
	memset(&rec, 0, sizeof(rec));
	rec.off = off;
	rec.len = (uint32_t)len;
	rec.op = op;
	memcpy(tx->buf + tx->used, &rec, sizeof(rec));
	memcpy(tx->buf + tx->used + sizeof(rec), src, len);
	memset(tx->buf + tx->used + sizeof(rec) + len, 0, pad8(len) - len);
	tx->used += need;
	tx->nrec++;
	return 0;
}

int pmfs_tx_set(struct pmfs_tx *tx, void *pmem_dst, const void *src, size_t len)
{
	if (len == 0)
		return 0;
	if (len > UINT32_MAX)
		return -E2BIG;
	return append(tx, pmem_dst, src, len, PMFS_JREC_SET);
}

static int append_word(struct pmfs_tx *tx, uint64_t *word, uint64_t mask, uint16_t op)
{
	if (((uintptr_t)word & 7) != 0)
		return -EINVAL;
	return append(tx, word, &mask, sizeof(mask), op);
}

int pmfs_tx_or64(struct pmfs_tx *tx, uint64_t *pmem_word, uint64_t mask)
{
	return append_word(tx, pmem_word, mask, PMFS_JREC_OR64);
}

int pmfs_tx_andn64(struct pmfs_tx *tx, uint64_t *pmem_word, uint64_t mask)
{
	return append_word(tx, pmem_word, mask, PMFS_JREC_ANDN64);
}

size_t pmfs_tx_room(const struct pmfs_tx *tx)
{
	size_t left = tx->fs->journal->capacity - tx->used;

	/* What one more SET record can carry. */
	return left > sizeof(struct pmfs_jrec) ? (left - sizeof(struct pmfs_jrec)) & ~(size_t)7 : 0;
}

int pmfs_tx_defer(struct pmfs_tx *tx, void (*fn)(struct pmfs *fs, void *arg, bool aborted),
		  void *arg)
{
	if (tx->ndefers == tx->defer_cap) {
		unsigned cap = tx->defer_cap ? tx->defer_cap * 2 : 8;
		struct pmfs_defer *d = pmfs_realloc(tx->defers, cap * sizeof(*d));

		if (d == NULL)
			return -ENOMEM;
		tx->defers = d;
		tx->defer_cap = cap;
	}
	tx->defers[tx->ndefers].fn = fn;
	tx->defers[tx->ndefers].arg = arg;
	tx->ndefers++;
	return 0;
}

/* Applies one lane's records in place, flushed but not fenced. */
static void apply_records(struct pmfs *fs, const char *rec, size_t bytes)
{
	size_t pos = 0;

	while (pos < bytes) {
		struct pmfs_jrec r;
		const char *data = rec + pos + sizeof(r);
		uint64_t v;

		memcpy(&r, rec + pos, sizeof(r));
		switch (r.op) {
		case PMFS_JREC_SET:
			pm_copy(fs->base + r.off, data, r.len);
			break;
		case PMFS_JREC_OR64:
			memcpy(&v, data, sizeof(v));
			pm_or64((uint64_t *)(void *)(fs->base + r.off), v);
			break;
		case PMFS_JREC_ANDN64:
			memcpy(&v, data, sizeof(v));
			pm_andn64((uint64_t *)(void *)(fs->base + r.off), v);
			break;
		}
		pos += sizeof(r) + pad8(r.len);
	}
}

static void run_defers(struct pmfs_tx *tx, bool aborted)
{
	if (aborted) {
		for (unsigned i = tx->ndefers; i-- > 0;)
			tx->defers[i].fn(tx->fs, tx->defers[i].arg, true);
	} else {
		for (unsigned i = 0; i < tx->ndefers; i++)
			tx->defers[i].fn(tx->fs, tx->defers[i].arg, false);
	}
	tx->ndefers = 0;
}

int pmfs_tx_commit(struct pmfs_tx *tx)
{
	struct pmfs *fs = tx->fs;
	struct pmfs_journal *j = fs->journal;
	char *lane = lane_addr(fs, tx->lane);
	struct pmfs_lane_head *ph = (struct pmfs_lane_head *)(void *)lane;
	struct pmfs_lane_head head;

	if (tx->nrec == 0)
		goto done;
	memset(&head, 0, sizeof(head));
	head.magic = PMFS_LANE_MAGIC;
	head.seq = __atomic_fetch_add(&j->next_seq, 1, __ATOMIC_RELAXED);
	head.nrec = tx->nrec;
	head.bytes = (uint32_t)tx->used;
	head.csum = head_csum(&head, tx->buf);

	/* Step 1: log and head, one fence = commit point. */
	pm_copy(lane + PMFS_LANE_RECORDS_OFF, tx->buf, tx->used);
	pm_copy(lane, &head, sizeof(head));
	pm_fence();
	/* Step 2: home locations. */
	apply_records(fs, tx->buf, tx->used);
	pm_fence();
	/* Step 3: the lane no longer describes pending work (see the top). */
	pm_set(ph, 0, sizeof(*ph));
	pm_fence();
done:
	run_defers(tx, false);
	release_lane(tx);
	return 0;
}

void pmfs_tx_abort(struct pmfs_tx *tx)
{
	/* Nothing reached pmem: records live in DRAM until commit. */
	run_defers(tx, true);
	release_lane(tx);
}

/* ---- recovery ------------------------------------------------------------ */

struct pending {
	unsigned lane;
	uint64_t seq;
};

static int by_seq(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A checksum-valid lane whose records are malformed is not a torn commit but
 * corruption (or a bug): refuse it rather than write somewhere wrong. */
static bool records_valid(const struct pmfs *fs, const char *rec, const struct pmfs_lane_head *h)
{
	size_t pos = 0;
	uint32_t n = 0;

	while (pos < h->bytes) {
		struct pmfs_jrec r;

		if (h->bytes - pos < sizeof(r))
			return false;
		memcpy(&r, rec + pos, sizeof(r));
		if (r.op < PMFS_JREC_SET || r.op > PMFS_JREC_ANDN64)
			return false;
		if (r.op != PMFS_JREC_SET && (r.len != 8 || (r.off & 7) != 0))
			return false;
		if (pad8(r.len) > h->bytes - pos - sizeof(r) || !target_ok(fs, r.off, r.len))
			return false;
		pos += sizeof(r) + pad8(r.len);
		n++;
	}
	return n == h->nrec;
}

/*
 * Lane state as recovery (and fsck) sees it: 0 = empty, 1 = committed and
 * valid, -EUCLEAN = valid checksum but malformed records, -EBADMSG = a torn
 * (never committed) head.
 */
int pmfs_journal_lane_state(const struct pmfs *fs, unsigned lane, uint64_t *seq)
{
	const char *addr = lane_addr(fs, lane);
	const struct pmfs_lane_head *h = (const void *)addr;
	size_t capacity = (size_t)fs->sb->lane_blocks * PMFS_BLOCK_SIZE - PMFS_LANE_RECORDS_OFF;

	if (h->magic == 0)
		return 0;
	if (h->magic != PMFS_LANE_MAGIC || h->bytes > capacity ||
	    head_csum(h, addr + PMFS_LANE_RECORDS_OFF) != h->csum)
		return -EBADMSG;
	if (!records_valid(fs, addr + PMFS_LANE_RECORDS_OFF, h))
		return -EUCLEAN;
	*seq = h->seq;
	return 1;
}

int pmfs_journal_recover(struct pmfs *fs, unsigned *replayed)
{
	struct pmfs_journal *j = fs->journal;
	struct pending *p = calloc(j->nlanes, sizeof(*p));
	unsigned n = 0, torn = 0;
	uint64_t max_seq = 0;
	int err = 0;

	*replayed = 0;
	if (p == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < j->nlanes; i++) {
		uint64_t seq = 0;
		int st = pmfs_journal_lane_state(fs, i, &seq);

		if (st == -EUCLEAN) {
			pmfs_logf(fs, PMFS_LOG_ERR,
				  "journal lane %u: committed transaction with malformed records; "
				  "run fsck.pmemfs",
				  i);
			err = -EUCLEAN;
		} else if (st == -EBADMSG) {
			torn++;
		} else if (st == 1) {
			p[n].lane = i;
			p[n].seq = seq;
			n++;
		}
	}
	if (err)
		goto out;
	if ((n > 0 || torn > 0) && fs->read_only && fs->is_devdax) {
		pmfs_logf(fs, PMFS_LOG_ERR,
			  "journal needs replay; mount read-write or run fsck.pmemfs -y first");
		err = -EROFS;
		goto out;
	}
	qsort(p, n, sizeof(*p), by_seq);
	for (unsigned k = 0; k < n; k++) {
		const char *addr = lane_addr(fs, p[k].lane);
		const struct pmfs_lane_head *h = (const void *)addr;

		apply_records(fs, addr + PMFS_LANE_RECORDS_OFF, h->bytes);
		pm_fence();
		if (p[k].seq > max_seq)
			max_seq = p[k].seq;
	}
	for (unsigned k = 0; k < n; k++) {
		struct pmfs_lane_head *h = (void *)lane_addr(fs, p[k].lane);

		pm_set(h, 0, sizeof(*h));
		pm_fence();
	}
	/* Torn heads never committed; clearing them is only tidiness. */
	for (unsigned i = 0; torn > 0 && i < j->nlanes; i++) {
		struct pmfs_lane_head *h = (void *)lane_addr(fs, i);
		uint64_t seq;

		if (pmfs_journal_lane_state(fs, i, &seq) == -EBADMSG)
			pm_set(h, 0, sizeof(*h));
	}
	if (torn > 0)
		pm_fence();
	j->next_seq = max_seq + 1;
	*replayed = n;
	if (n > 0)
		pmfs_logf(fs, PMFS_LOG_INFO, "journal: replayed %u committed transactions", n);
out:
	free(p);
	return err;
}
