/*
 * journal_test.c - transactions: commit, abort, deferred callbacks, lane
 * limits, replay in seq order, torn heads, concurrency, and a crash at every
 * fence of a commit (all or nothing).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "persist.h"

#define MiB (1024ULL * 1024)
#define IMG_SIZE (16 * MiB)

static char path[128];

static int setup(void **state)
{
	(void)state;
	image_path(path, sizeof(path), "journal");
	image_format(path, IMG_SIZE, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static char *data_block(struct pmfs *fs, uint64_t i)
{
	return pmfs_block(fs, fs->sb->data_start + i);
}

struct defer_log {
	int calls;
	bool aborted;
	int order[4];
};

static void record_defer(struct pmfs *fs, void *arg, bool aborted)
{
	struct defer_log *log = arg;

	(void)fs;
	log->order[log->calls % 4] = log->calls;
	log->calls++;
	log->aborted = aborted;
}

static void commit_applies_records_and_runs_defers(void **state)
{
	struct pmfs *fs;
	struct pmfs_tx *tx;
	char buf[300];
	struct defer_log log = {0};
	uint64_t *word;

	(void)state;
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	memset(buf, 0x5a, sizeof(buf));
	word = (uint64_t *)(void *)data_block(fs, 3);
	tx = pmfs_tx_begin(fs);
	assert_non_null(tx);
	assert_int_equal(pmfs_tx_set(tx, data_block(fs, 1) + 10, buf, sizeof(buf)), 0);
	assert_int_equal(pmfs_tx_or64(tx, word, 0xf0), 0);
	assert_int_equal(pmfs_tx_andn64(tx, word, 0x30), 0);
	assert_int_equal(pmfs_tx_defer(tx, record_defer, &log), 0);
	/* Nothing reaches pmem before commit. */
	assert_int_equal(data_block(fs, 1)[10], 0);
	assert_int_equal(log.calls, 0);
	assert_int_equal(pmfs_tx_commit(tx), 0);
	assert_memory_equal(data_block(fs, 1) + 10, buf, sizeof(buf));
	assert_int_equal(*word, 0xc0);
	assert_int_equal(log.calls, 1);
	assert_false(log.aborted);
	assert_int_equal(pmfs_unmount(fs), 0);
}

static void abort_changes_nothing_and_rolls_back(void **state)
{
	struct pmfs *fs;
	struct pmfs_tx *tx;
	char buf[64];
	struct defer_log log = {0};

	(void)state;
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	memset(buf, 0x77, sizeof(buf));
	tx = pmfs_tx_begin(fs);
	assert_int_equal(pmfs_tx_set(tx, data_block(fs, 5), buf, sizeof(buf)), 0);
	assert_int_equal(pmfs_tx_defer(tx, record_defer, &log), 0);
	pmfs_tx_abort(tx);
	assert_int_equal(data_block(fs, 5)[0], 0);
	assert_int_equal(log.calls, 1);
	assert_true(log.aborted);
	assert_int_equal(pmfs_unmount(fs), 0);
}

static void tx_set_reports_e2big_when_lane_full(void **state)
{
	struct pmfs *fs;
	struct pmfs_tx *tx;
	size_t room;
	char *big;
	int err;

	(void)state;
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	tx = pmfs_tx_begin(fs);
	room = pmfs_tx_room(tx);
	assert_int_equal(room, fs->sb->lane_blocks * PMFS_BLOCK_SIZE - 64 - 16);
	big = calloc(1, room + 8);
	err = pmfs_tx_set(tx, data_block(fs, 0), big, room + 8);
	if (err != -E2BIG)
		fail_msg("a record larger than the lane: expected -E2BIG, got %d", err);
	assert_int_equal(pmfs_tx_set(tx, data_block(fs, 0), big, room), 0);
	assert_int_equal(pmfs_tx_room(tx), 0);
	assert_int_equal(pmfs_tx_or64(tx, (uint64_t *)(void *)data_block(fs, 20), 1), -E2BIG);
	pmfs_tx_abort(tx);
	free(big);
	assert_int_equal(pmfs_unmount(fs), 0);
}

static void tx_set_refuses_superblock_and_journal(void **state)
{
	struct pmfs *fs;
	struct pmfs_tx *tx;
	uint64_t v = 1;

	(void)state;
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	tx = pmfs_tx_begin(fs);
	assert_int_equal(pmfs_tx_set(tx, fs->base, &v, sizeof(v)), -EINVAL);
	assert_int_equal(pmfs_tx_set(tx, pmfs_block(fs, fs->sb->journal_start), &v, sizeof(v)),
			 -EINVAL);
	assert_int_equal(pmfs_tx_set(tx, pmfs_block(fs, fs->sb->total_blocks - 1), &v, sizeof(v)),
			 -EINVAL);
	pmfs_tx_abort(tx);
	assert_int_equal(pmfs_unmount(fs), 0);
}

/* Writes a committed lane by hand: one SET of 'val' (8 bytes) at off. */
static void write_lane(struct raw_image *img, unsigned lane, uint64_t seq, uint64_t off,
		       uint64_t val, bool corrupt_csum)
{
	char *l = raw_block(img, img->sb.journal_start + (uint64_t)lane * img->sb.lane_blocks);
	struct pmfs_lane_head h = {0};
	struct pmfs_jrec r = {.off = off, .len = 8, .op = PMFS_JREC_SET};
	uint32_t crc;

	memcpy(l + 64, &r, sizeof(r));
	memcpy(l + 64 + sizeof(r), &val, 8);
	h.magic = PMFS_LANE_MAGIC;
	h.seq = seq;
	h.nrec = 1;
	h.bytes = sizeof(r) + 8;
	crc = pmfs_crc32c(0, &h.seq, 8);
	crc = pmfs_crc32c(crc, &h.nrec, 4);
	crc = pmfs_crc32c(crc, &h.bytes, 4);
	h.csum = pmfs_crc32c(crc, l + 64, h.bytes) ^ (corrupt_csum ? 1 : 0);
	memcpy(l, &h, sizeof(h));
}

static void recovery_replays_lanes_in_seq_order(void **state)
{
	struct raw_image img;
	struct pmfs *fs;
	struct pmfs_mount_info info;
	uint64_t off;

	(void)state;
	raw_open(path, &img);
	off = (img.sb.data_start + 7) * PMFS_BLOCK_SIZE;
	/* Lane 0 holds the newer transaction: replaying by lane number would be wrong. */
	write_lane(&img, 0, 9, off, 0x2222, false);
	write_lane(&img, 1, 4, off, 0x1111, false);
	raw_close(&img);

	assert_int_equal(test_mount(path, false, &fs, &info), 0);
	assert_int_equal(info.journal_replayed, 2);
	assert_int_equal(*(uint64_t *)(void *)(fs->base + off), 0x2222);
	for (unsigned i = 0; i < fs->sb->journal_lanes; i++) {
		uint64_t seq;

		assert_int_equal(pmfs_journal_lane_state(fs, i, &seq), 0);
	}
	assert_int_equal(pmfs_unmount(fs), 0);
}

static void recovery_ignores_torn_head(void **state)
{
	struct raw_image img;
	struct pmfs *fs;
	struct pmfs_mount_info info;
	uint64_t off;

	(void)state;
	raw_open(path, &img);
	off = (img.sb.data_start + 8) * PMFS_BLOCK_SIZE;
	write_lane(&img, 2, 3, off, 0x3333, true);
	raw_close(&img);
	assert_int_equal(test_mount(path, false, &fs, &info), 0);
	assert_int_equal(info.journal_replayed, 0);
	assert_int_equal(*(uint64_t *)(void *)(fs->base + off), 0);
	assert_int_equal(pmfs_unmount(fs), 0);
}

/*
 * A later commit in a reused lane may persist its new magic alone (8-byte
 * atomicity).  The cleared head must not then validate the lane's previous,
 * already applied transaction, whose records are still there.
 */
static void torn_magic_does_not_revive_old_transaction(void **state)
{
	struct pmfs *fs;
	struct pmfs_tx *tx;
	struct raw_image img;
	uint64_t a = 0xaaaa, b = 0xbbbb, off;
	int lane_of_a = -1;

	(void)state;
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	off = pmfs_offset_of(fs, data_block(fs, 60));
	tx = pmfs_tx_begin(fs);
	assert_int_equal(pmfs_tx_set(tx, fs->base + off, &a, sizeof(a)), 0);
	assert_int_equal(pmfs_tx_commit(tx), 0);
	tx = pmfs_tx_begin(fs);
	assert_int_equal(pmfs_tx_set(tx, fs->base + off, &b, sizeof(b)), 0);
	assert_int_equal(pmfs_tx_commit(tx), 0);
	assert_int_equal(pmfs_unmount(fs), 0);

	raw_open(path, &img);
	for (unsigned i = 0; i < img.sb.journal_lanes; i++) {
		char *lane =
		    raw_block(&img, img.sb.journal_start + (uint64_t)i * img.sb.lane_blocks);
		struct pmfs_jrec r;
		uint64_t v;

		memcpy(&r, lane + 64, sizeof(r));
		memcpy(&v, lane + 64 + sizeof(r), sizeof(v));
		if (r.off == off && r.op == PMFS_JREC_SET && v == a) {
			uint64_t magic = PMFS_LANE_MAGIC;

			memcpy(lane, &magic, sizeof(magic)); /* only the magic landed */
			lane_of_a = (int)i;
		}
	}
	raw_close(&img);
	assert_true(lane_of_a >= 0);
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	if (*(uint64_t *)(void *)(fs->base + off) != b)
		fail_msg(
		    "expected 0x%llx at the target after recovery, found 0x%llx (old tx replayed)",
		    (unsigned long long)b,
		    (unsigned long long)*(uint64_t *)(void *)(fs->base + off));
	assert_int_equal(pmfs_unmount(fs), 0);
}

/* ---- crash at every fence ------------------------------------------------ */

#define MAX_SNAPS 32
static char *snaps[MAX_SNAPS];
static int nsnaps;
static int snap_fd;

static void snapshot_hook(void)
{
	if (nsnaps == MAX_SNAPS)
		fail_msg("more than %d fences in one commit", MAX_SNAPS);
	snaps[nsnaps] = malloc(IMG_SIZE);
	assert_int_equal(pread(snap_fd, snaps[nsnaps], IMG_SIZE, 0), (ssize_t)IMG_SIZE);
	nsnaps++;
}

static void crash_at_every_fence_is_all_or_nothing(void **state)
{
	struct pmfs *fs;
	struct pmfs_tx *tx;
	char a[4096], b[100];
	uint64_t offs[3];
	int last_new = -1, replays = 0;
	char snap_path[128];

	(void)state;
	memset(a, 0xa1, sizeof(a));
	memset(b, 0xb2, sizeof(b));
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	offs[0] = pmfs_offset_of(fs, data_block(fs, 11));
	offs[1] = pmfs_offset_of(fs, data_block(fs, 12) + 1000);
	offs[2] = pmfs_offset_of(fs, data_block(fs, 13) + 64);
	tx = pmfs_tx_begin(fs);
	assert_int_equal(pmfs_tx_set(tx, fs->base + offs[0], a, sizeof(a)), 0);
	assert_int_equal(pmfs_tx_set(tx, fs->base + offs[1], b, sizeof(b)), 0);
	assert_int_equal(pmfs_tx_or64(tx, (uint64_t *)(void *)(fs->base + offs[2]), 0x81), 0);

	snap_fd = open(path, O_RDONLY);
	nsnaps = 0;
	snapshot_hook(); /* before the commit: the "old" state */
	pmfs_fence_hook = snapshot_hook;
	assert_int_equal(pmfs_tx_commit(tx), 0);
	pmfs_fence_hook = NULL;
	close(snap_fd);
	assert_int_equal(pmfs_unmount(fs), 0);
	assert_true(nsnaps >= 4); /* before + commit point + applied + cleared */

	image_path(snap_path, sizeof(snap_path), "snap");
	for (int k = 0; k < nsnaps; k++) {
		struct pmfs_mount_info info;
		int fd = open(snap_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		bool new0, new1, new2, old0, old1, old2;

		assert_int_equal(write(fd, snaps[k], IMG_SIZE), (ssize_t)IMG_SIZE);
		close(fd);
		free(snaps[k]);
		if (test_mount(snap_path, false, &fs, &info) != 0)
			fail_msg("snapshot at fence %d does not mount:\n%s", k, test_log);
		replays += info.journal_replayed;
		new0 = memcmp(fs->base + offs[0], a, sizeof(a)) == 0;
		new1 = memcmp(fs->base + offs[1], b, sizeof(b)) == 0;
		new2 = *(uint64_t *)(void *)(fs->base + offs[2]) == 0x81;
		old0 = fs->base[offs[0]] == 0 && fs->base[offs[0] + 4095] == 0;
		old1 = fs->base[offs[1]] == 0 && fs->base[offs[1] + 99] == 0;
		old2 = *(uint64_t *)(void *)(fs->base + offs[2]) == 0;
		if (!((new0 && new1 && new2) || (old0 && old1 && old2)))
			fail_msg(
			    "fence %d: mixed state after recovery (new: %d %d %d, old: %d %d %d)",
			    k, new0, new1, new2, old0, old1, old2);
		if (new0) {
			last_new = k;
		} else if (last_new >= 0) {
			fail_msg("fence %d: old state after fence %d had the new one", k, last_new);
		}
		assert_int_equal(pmfs_unmount(fs), 0);
	}
	unlink(snap_path);
	assert_int_equal(last_new, nsnaps - 1); /* the tx completed */
	if (replays < 1)
		fail_msg("expected at least one snapshot to need replay, found %d", replays);
}

/* ---- concurrency -------------------------------------------------------- */

#define THREADS 4
#define ROUNDS 200

struct worker {
	struct pmfs *fs;
	int id;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint64_t *shared = (uint64_t *)(void *)data_block(w->fs, 30);

	for (int i = 0; i < ROUNDS; i++) {
		struct pmfs_tx *tx = pmfs_tx_begin(w->fs);
		uint64_t v = (uint64_t)i;

		pmfs_tx_set(tx, data_block(w->fs, 40 + w->id), &v, sizeof(v));
		/* Each thread owns bits of the shared word: alternating OR/ANDN
		 * must commute with the others'. */
		if (i % 2 == 0)
			pmfs_tx_or64(tx, shared, 1ULL << (w->id * 8 + (i / 2) % 8));
		else
			pmfs_tx_andn64(tx, shared, 1ULL << (w->id * 8 + (i / 2) % 8));
		pmfs_tx_commit(tx);
	}
	return NULL;
}

static void concurrent_transactions_commute_on_shared_word(void **state)
{
	struct pmfs *fs;
	pthread_t th[THREADS];
	struct worker w[THREADS];

	(void)state;
	assert_int_equal(test_mount(path, false, &fs, NULL), 0);
	for (int i = 0; i < THREADS; i++) {
		w[i].fs = fs;
		w[i].id = i;
		pthread_create(&th[i], NULL, worker_run, &w[i]);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(*(uint64_t *)(void *)data_block(fs, 30), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(*(uint64_t *)(void *)data_block(fs, 40 + i), ROUNDS - 1);
	assert_int_equal(pmfs_unmount(fs), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(commit_applies_records_and_runs_defers, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(abort_changes_nothing_and_rolls_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(tx_set_reports_e2big_when_lane_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(tx_set_refuses_superblock_and_journal, setup, teardown),
	    cmocka_unit_test_setup_teardown(recovery_replays_lanes_in_seq_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(recovery_ignores_torn_head, setup, teardown),
	    cmocka_unit_test_setup_teardown(torn_magic_does_not_revive_old_transaction, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(crash_at_every_fence_is_all_or_nothing, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(concurrent_transactions_commute_on_shared_word, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
