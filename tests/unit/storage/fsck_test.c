/*
 * fsck_test.c - fsck on images corrupted by hand: each kind of damage gives
 * a clear report line and the right exit code, -y repairs what is safe and a
 * following -n finds nothing; random damage never crashes it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsck.h"
#include "helpers.h"

#define MiB (1024ULL * 1024)

static char path[128];
static uint64_t D; /* first data block */

/*
 * /            ino 1, block D+0
 * /a           ino 2, block D+1
 * /a/f         ino 3, blocks D+10, D+11
 * /a/b         ino 4, no blocks
 */
static int setup(void **state)
{
	struct raw_image img;

	(void)state;
	image_path(path, sizeof(path), "fsck");
	image_format(path, 16 * MiB, NULL);
	raw_open(path, &img);
	D = img.sb.data_start;
	raw_make_inode(&img, 2, S_IFDIR | 0755, 3, 1);
	raw_make_inode(&img, 3, S_IFREG | 0644, 1, 0);
	raw_make_inode(&img, 4, S_IFDIR | 0755, 2, 2);
	raw_add_extent(&img, 3, 0, D + 10, 2);
	raw_add_dirent(&img, 1, D + 0, "a", 2);
	raw_add_dirent(&img, 2, D + 1, "f", 3);
	raw_add_dirent(&img, 2, D + 1, "b", 4);
	raw_inode(&img, 1)->nlink = 3;
	raw_close(&img);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static char last_text[16384];

static int run_fsck(bool repair)
{
	struct pmfs_fsck_opts opts = {.repair = repair, .force = true};
	struct pmfs_fsck_report rep;
	int code = pmfs_fsck(path, &opts, &rep);

	assert_non_null(rep.text);
	snprintf(last_text, sizeof(last_text), "%s", rep.text);
	assert_int_equal(code, rep.exit_code);
	pmfs_fsck_report_free(&rep);
	return code;
}

static void expect_code(bool repair, int want)
{
	int code = run_fsck(repair);

	if (code != want)
		fail_msg("fsck %s: expected exit %d, got %d; report:\n%s", repair ? "-y" : "-n",
			 want, code, last_text);
}

static void expect_text(const char *needle)
{
	if (strstr(last_text, needle) == NULL)
		fail_msg("expected the report to contain \"%s\"; report:\n%s", needle, last_text);
}

/* -n finds it (4) and reports each needle, -y fixes it (1), -n again is
 * clean (0). */
static void expect_fixable_all(const char *const *needles)
{
	expect_code(false, PMFS_FSCK_ERRORS_LEFT);
	for (int i = 0; needles[i]; i++)
		expect_text(needles[i]);
	expect_code(true, PMFS_FSCK_FIXED);
	expect_text(needles[0]);
	expect_text("(fixed)");
	expect_code(false, PMFS_FSCK_CLEAN);
}
#define expect_fixable(...) expect_fixable_all((const char *const[]){__VA_ARGS__, NULL})

static void fsck_finds_nothing_on_a_sound_tree(void **state)
{
	(void)state;
	expect_code(false, PMFS_FSCK_CLEAN);
	expect_text("0 problems found");
	expect_text("4/");
}

static void fsck_skips_clean_fs_without_force(void **state)
{
	struct pmfs_fsck_opts opts = {0};
	struct pmfs_fsck_report rep;

	(void)state;
	assert_int_equal(pmfs_fsck(path, &opts, &rep), PMFS_FSCK_CLEAN);
	if (strstr(rep.text, "clean (use -f") == NULL)
		fail_msg("expected a 'clean' line, got:\n%s", rep.text);
	pmfs_fsck_report_free(&rep);
}

static void fsck_bad_magic_is_operational_error(void **state)
{
	struct raw_image img;

	(void)state;
	raw_open(path, &img);
	memset(img.base, 0, 8);
	memset(raw_block(&img, img.sb.total_blocks - 1), 0, 8);
	raw_close(&img);
	expect_code(false, PMFS_FSCK_OPERROR);
	expect_text("no valid pmemfs superblock");
	expect_text("bad magic");
	expect_code(true, PMFS_FSCK_OPERROR);
}

static void fsck_restores_primary_with_bad_checksum(void **state)
{
	struct raw_image img;

	(void)state;
	raw_open(path, &img);
	img.base[200] ^= 0x40;
	raw_close(&img);
	expect_fixable("primary superblock: bad checksum");
}

static void fsck_rewrites_bad_backup(void **state)
{
	struct raw_image img;

	(void)state;
	raw_open(path, &img);
	((char *)raw_block(&img, img.sb.total_blocks - 1))[300] ^= 1;
	raw_close(&img);
	expect_fixable("backup superblock");
}

static void fsck_reports_newer_version(void **state)
{
	struct raw_image img;

	(void)state;
	raw_open(path, &img);
	img.sb.version = PMFS_FORMAT_VERSION + 1;
	raw_write_super(&img);
	raw_close(&img);
	expect_code(false, PMFS_FSCK_OPERROR);
	expect_text("is not supported");
}

/* Like e2fsck: an unknown ro_compat or incompat bit means this fsck does
 * not understand the fs, so it refuses (exit 8) with -n and with -y. */
static void fsck_refuses_unknown_feature_bits(void **state)
{
	struct raw_image img;

	(void)state;
	raw_open(path, &img);
	img.sb.feature_ro_compat |= 1ULL << 40;
	raw_write_super(&img);
	raw_close(&img);
	expect_code(false, PMFS_FSCK_OPERROR);
	expect_text("unsupported feature bits 0x10000000000 (incompat 0x0, ro_compat "
		    "0x10000000000): this fsck.pmemfs is too old");
	expect_code(true, PMFS_FSCK_OPERROR);

	raw_open(path, &img);
	img.sb.feature_ro_compat = PMFS_FEATURE_RO_COMPAT_SUPP;
	img.sb.feature_incompat |= 1ULL << 3;
	raw_write_super(&img);
	raw_close(&img);
	expect_code(false, PMFS_FSCK_OPERROR);
	expect_text("unsupported feature bits 0x8 (incompat 0x8, ro_compat 0x0)");
}

static void fsck_reports_overlapping_extents(void **state)
{
	struct raw_image img;

	(void)state;
	raw_open(path, &img);
	raw_make_inode(&img, 5, S_IFREG | 0644, 1, 0);
	raw_add_extent(&img, 5, 0, D + 11, 3); /* D+11 belongs to /a/f */
	raw_add_dirent(&img, 2, D + 1, "g", 5);
	raw_inode(&img, 2)->nlink = 3;
	raw_close(&img);
	expect_code(false, PMFS_FSCK_ERRORS_LEFT);
	expect_text("block");
	expect_text("is also used by inode 3");
	expect_text("(/a/g)");
	/* Not repairable safely: left, and no crash. */
	expect_code(true, PMFS_FSCK_ERRORS_LEFT);
	expect_code(false, PMFS_FSCK_ERRORS_LEFT);
}

static void fsck_removes_second_link_to_a_directory(void **state)
{
	struct raw_image img;

	(void)state;
	raw_open(path, &img);
	/* /a/b/up -> /a: a cycle through the tree. */
	raw_add_dirent(&img, 4, D + 2, "up", 2);
	raw_close(&img);
	expect_fixable("second link to directory 2");
}

static void fsck_frees_unreachable_directory_cycle(void **state)
{
	struct raw_image img;

	(void)state;
	raw_open(path, &img);
	raw_make_inode(&img, 6, S_IFDIR | 0755, 3, 7);
	raw_make_inode(&img, 7, S_IFDIR | 0755, 3, 6);
	raw_add_dirent(&img, 6, D + 20, "x", 7);
	raw_add_dirent(&img, 7, D + 21, "y", 6);
	raw_close(&img);
	expect_fixable("cycle of directories unreachable from /");
	raw_open(path, &img);
	assert_int_equal(raw_inode(&img, 6)->mode, 0);
	assert_int_equal(raw_inode(&img, 7)->mode, 0);
	assert_false(raw_bit(&img, D + 20));
	raw_close(&img);
}

static void fsck_fixes_wrong_link_count(void **state)
{
	struct raw_image img;

	(void)state;
	raw_open(path, &img);
	raw_inode(&img, 3)->nlink = 5;
	raw_inode(&img, 2)->nlink = 7;
	raw_close(&img);
	expect_fixable("link count 5, should be 1", "inode 3 (/a/f)", "link count 7, should be 3");
	raw_open(path, &img);
	assert_int_equal(raw_inode(&img, 3)->nlink, 1);
	assert_int_equal(raw_inode(&img, 2)->nlink, 3);
	raw_close(&img);
}

static void fsck_frees_leaked_block(void **state)
{
	struct raw_image img;
	char want[80];

	(void)state;
	raw_open(path, &img);
	raw_set_bit(&img, D + 100, true);
	raw_close(&img);
	snprintf(want, sizeof(want), "blocks %llu-%llu are marked in use",
		 (unsigned long long)(D + 100), (unsigned long long)(D + 100));
	expect_fixable("leaked", want);
	raw_open(path, &img);
	assert_false(raw_bit(&img, D + 100));
	raw_close(&img);
}

static void fsck_marks_owned_block_in_use(void **state)
{
	struct raw_image img;

	(void)state;
	raw_open(path, &img);
	raw_set_bit(&img, D + 11, false);
	raw_close(&img);
	expect_fixable("in use but marked free");
}

static void fsck_fixes_hash_and_type(void **state)
{
	struct raw_image img;
	struct pmfs_dirent *de;

	(void)state;
	raw_open(path, &img);
	de = raw_block(&img, D + 1); /* "f" */
	de->hash ^= 0x1234;
	de->type = DT_FIFO;
	raw_close(&img);
	expect_fixable("hash 0x", "type 1, but inode 3 has type 8");
}

static void fsck_removes_entry_to_free_inode(void **state)
{
	struct raw_image img;

	(void)state;
	raw_open(path, &img);
	raw_make_inode(&img, 9, S_IFREG | 0644, 1, 0);
	raw_add_dirent(&img, 1, D, "gone", 9);
	raw_inode(&img, 9)->mode = 0;
	raw_close(&img);
	expect_fixable("entry 'gone' points to a free inode 9");
}

static void fsck_removes_duplicate_name(void **state)
{
	struct raw_image img;

	(void)state;
	raw_open(path, &img);
	raw_make_inode(&img, 12, S_IFREG | 0644, 1, 0);
	raw_add_dirent(&img, 2, D + 1, "f", 12); /* /a/f exists already */
	raw_close(&img);
	expect_fixable("name 'f' appears twice");
	raw_open(path, &img);
	/* The freed twin's slot and the surviving entry's inode are consistent. */
	assert_true(raw_inode(&img, 3)->mode != 0 || raw_inode(&img, 12)->mode != 0);
	raw_close(&img);
}

static void fsck_rebuilds_orphan_list(void **state)
{
	struct raw_image img;
	struct pmfs_state *st;

	(void)state;
	raw_open(path, &img);
	raw_make_inode(&img, 8, S_IFREG | 0644, 0, 0); /* unlinked, not on the list */
	raw_make_inode(&img, 10, S_IFREG | 0644, 0, 0);
	raw_inode(&img, 10)->flags = PMFS_IFL_ORPHAN;
	raw_inode(&img, 10)->orphan_next = 10; /* loops */
	st = raw_block(&img, PMFS_STATE_BLOCK);
	st->orphan_head = 10;
	raw_close(&img);
	expect_fixable("not on the orphan list", "loops");
	raw_open(path, &img);
	st = raw_block(&img, PMFS_STATE_BLOCK);
	assert_int_equal(st->orphan_head, 8);
	assert_int_equal(raw_inode(&img, 8)->orphan_next, 10);
	assert_int_equal(raw_inode(&img, 10)->orphan_next, 0);
	raw_close(&img);
}

static void fsck_frees_unreachable_file(void **state)
{
	struct raw_image img;

	(void)state;
	raw_open(path, &img);
	raw_make_inode(&img, 11, S_IFREG | 0644, 1, 0);
	raw_add_extent(&img, 11, 0, D + 30, 4);
	raw_close(&img);
	expect_fixable("in no directory reachable from /");
	raw_open(path, &img);
	assert_false(raw_bit(&img, D + 30));
	raw_close(&img);
}

static void fsck_fixes_blocks_field(void **state)
{
	struct raw_image img;

	(void)state;
	raw_open(path, &img);
	raw_inode(&img, 3)->blocks = 99;
	raw_close(&img);
	expect_fixable("'blocks' is 99, the extents hold 2");
}

static void fsck_frees_inode_with_extent_outside_device(void **state)
{
	struct raw_image img;

	(void)state;
	raw_open(path, &img);
	raw_inode(&img, 3)->u.ext[0].pblk = img.sb.total_blocks + 5;
	raw_close(&img);
	/* The inode is freed, its entry removed, its old blocks leaked: all fixed. */
	expect_fixable("outside the data area");
}

static void fsck_checks_symlinks(void **state)
{
	struct raw_image img;
	struct pmfs_inode *in;

	(void)state;
	raw_open(path, &img);
	/* /a/s -> "target" inline: sound. */
	raw_make_inode(&img, 13, S_IFLNK | 0777, 1, 0);
	in = raw_inode(&img, 13);
	in->size = 6;
	memcpy(in->u.symlink, "target", 6);
	raw_add_dirent(&img, 2, D + 1, "s", 13);
	/* /a/long: 200 bytes (not inline), but no block holds the target. */
	raw_make_inode(&img, 14, S_IFLNK | 0777, 1, 0);
	raw_inode(&img, 14)->size = 200;
	raw_add_dirent(&img, 2, D + 1, "long", 14);
	raw_close(&img);
	expect_fixable("symlink of length 200 has no target block");
	raw_open(path, &img);
	assert_int_equal(raw_inode(&img, 13)->mode, S_IFLNK | 0777);
	assert_int_equal(raw_inode(&img, 14)->mode, 0);
	raw_close(&img);
}

static void fsck_replays_pending_journal(void **state)
{
	struct raw_image img;
	char *lane;
	struct pmfs_lane_head h = {0};
	struct pmfs_jrec r = {.len = 8, .op = PMFS_JREC_SET};
	uint64_t val = 0xfeed, off;
	uint32_t crc;

	(void)state;
	raw_open(path, &img);
	off = (D + 50) * PMFS_BLOCK_SIZE;
	r.off = off;
	lane = raw_block(&img, img.sb.journal_start);
	memcpy(lane + 64, &r, sizeof(r));
	memcpy(lane + 64 + sizeof(r), &val, 8);
	h.magic = PMFS_LANE_MAGIC;
	h.seq = 1;
	h.nrec = 1;
	h.bytes = sizeof(r) + 8;
	crc = pmfs_crc32c(0, &h.seq, 8);
	crc = pmfs_crc32c(crc, &h.nrec, 4);
	crc = pmfs_crc32c(crc, &h.bytes, 4);
	h.csum = pmfs_crc32c(crc, lane + 64, h.bytes);
	memcpy(lane, &h, sizeof(h));
	raw_close(&img);

	/* A pending lane is a crash state the mount replays: -n notes it,
	 * checks the replayed state in a private mapping and exits 0. */
	expect_code(false, PMFS_FSCK_CLEAN);
	expect_text("note: journal: 1 committed transactions not yet replayed");
	expect_text("0 problems found");
	raw_open(path, &img);
	assert_int_equal(*(uint64_t *)(void *)(img.base + off), 0); /* -n changed nothing */
	raw_close(&img);
	expect_code(true, PMFS_FSCK_FIXED);
	expect_code(false, PMFS_FSCK_CLEAN);
	raw_open(path, &img);
	assert_int_equal(*(uint64_t *)(void *)(img.base + off), 0xfeed);
	raw_close(&img);
}

/* Writes a committed lane 0 by hand: one SET of 'len' bytes at off. */
static void write_pending_lane(struct raw_image *img, uint64_t off, const void *val, uint32_t len)
{
	char *lane = raw_block(img, img->sb.journal_start);
	struct pmfs_lane_head h = {.magic = PMFS_LANE_MAGIC, .seq = 1, .nrec = 1};
	struct pmfs_jrec r = {.off = off, .len = len, .op = PMFS_JREC_SET};
	uint32_t crc;

	memcpy(lane + 64, &r, sizeof(r));
	memset(lane + 64 + sizeof(r), 0, (len + 7) & ~7u);
	memcpy(lane + 64 + sizeof(r), val, len);
	h.bytes = (uint32_t)sizeof(r) + ((len + 7) & ~7u);
	crc = pmfs_crc32c(0, &h.seq, 8);
	crc = pmfs_crc32c(crc, &h.nrec, 4);
	crc = pmfs_crc32c(crc, &h.bytes, 4);
	h.csum = pmfs_crc32c(crc, lane + 64, h.bytes);
	memcpy(lane, &h, sizeof(h));
}

/* -n checks the state after replay: the pending lane repairs the root's
 * link count, so the image is clean only once the lane is applied (the
 * check before replay would report the link count). */
static void fsck_checks_state_after_pending_replay(void **state)
{
	struct raw_image img;
	uint32_t good;
	uint64_t off;

	(void)state;
	raw_open(path, &img);
	good = raw_inode(&img, 1)->nlink;
	raw_inode(&img, 1)->nlink = good + 5;
	off = (uint64_t)((char *)&raw_inode(&img, 1)->nlink - img.base);
	write_pending_lane(&img, off, &good, sizeof(good));
	raw_close(&img);

	expect_code(false, PMFS_FSCK_CLEAN);
	expect_text("checking the state after replay");
	raw_open(path, &img);
	assert_int_equal(raw_inode(&img, 1)->nlink, good + 5); /* -n changed nothing */
	raw_close(&img);
	expect_code(true, PMFS_FSCK_FIXED);
	expect_text("not yet replayed; replayed (fixed)");
	expect_code(false, PMFS_FSCK_CLEAN);
	raw_open(path, &img);
	assert_int_equal(raw_inode(&img, 1)->nlink, good);
	raw_close(&img);
}

static void fsck_refuses_device_in_use(void **state)
{
	int fd;

	(void)state;
	fd = open(path, O_RDWR);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	expect_code(false, PMFS_FSCK_OPERROR);
	expect_text("in use");
	close(fd);
}

/* Random bytes over every metadata region: fsck must never crash, -y must
 * leave a state that a second -y does not change, and -n must agree. */
static void fsck_survives_random_damage(void **state)
{
	struct raw_image img;
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 200; round++) {
		int c1, c2, c3;

		teardown(NULL);
		setup(NULL);
		raw_open(path, &img);
		for (int k = 0; k < 4; k++) {
			/* Live structures: superblock, state, lane 0 head, inodes
			 * 0-4, the two directory blocks, the bitmap's used part. */
			const struct {
				uint64_t blk;
				size_t len;
			} live[] = {
			    {0, 256},
			    {PMFS_STATE_BLOCK, 16},
			    {img.sb.journal_start, 64},
			    {img.sb.itable_start, 5 * PMFS_INODE_SIZE},
			    {D, 192},
			    {D + 1, 192},
			    {img.sb.bitmap_start, (size_t)(D + 64) / 8},
			};
			unsigned r = (unsigned)rand_r(&seed) % 7;
			size_t off = (size_t)rand_r(&seed) % live[r].len;

			((unsigned char *)raw_block(&img, live[r].blk))[off] ^=
			    (unsigned char)(1 + rand_r(&seed) % 255);
		}
		raw_close(&img);
		c1 = run_fsck(false);
		assert_true(c1 == PMFS_FSCK_CLEAN || c1 == PMFS_FSCK_ERRORS_LEFT ||
			    c1 == PMFS_FSCK_OPERROR);
		c2 = run_fsck(true);
		assert_true(c2 == PMFS_FSCK_CLEAN || c2 == PMFS_FSCK_FIXED ||
			    c2 == PMFS_FSCK_ERRORS_LEFT || c2 == PMFS_FSCK_OPERROR);
		c3 = run_fsck(false);
		if (c2 == PMFS_FSCK_CLEAN || c2 == PMFS_FSCK_FIXED) {
			if (c3 != PMFS_FSCK_CLEAN)
				fail_msg("round %d: -y said %d but -n then says %d:\n%s", round, c2,
					 c3, last_text);
		}
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(fsck_finds_nothing_on_a_sound_tree),
	    T(fsck_skips_clean_fs_without_force),
	    T(fsck_bad_magic_is_operational_error),
	    T(fsck_restores_primary_with_bad_checksum),
	    T(fsck_rewrites_bad_backup),
	    T(fsck_reports_newer_version),
	    T(fsck_refuses_unknown_feature_bits),
	    T(fsck_reports_overlapping_extents),
	    T(fsck_removes_second_link_to_a_directory),
	    T(fsck_frees_unreachable_directory_cycle),
	    T(fsck_fixes_wrong_link_count),
	    T(fsck_frees_leaked_block),
	    T(fsck_marks_owned_block_in_use),
	    T(fsck_fixes_hash_and_type),
	    T(fsck_removes_entry_to_free_inode),
	    T(fsck_removes_duplicate_name),
	    T(fsck_rebuilds_orphan_list),
	    T(fsck_frees_unreachable_file),
	    T(fsck_fixes_blocks_field),
	    T(fsck_frees_inode_with_extent_outside_device),
	    T(fsck_checks_symlinks),
	    T(fsck_replays_pending_journal),
	    T(fsck_checks_state_after_pending_replay),
	    T(fsck_refuses_device_in_use),
	    T(fsck_survives_random_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
