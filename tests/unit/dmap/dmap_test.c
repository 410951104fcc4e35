/*
 * dmap_test.c - the core side of direct maps (fs/dmap.c, fs/dmap_pin.c)
 * without FUSE: grants make every extent aligned and keep the bytes; pinned
 * blocks survive truncate and unlink until the last release; and at every
 * persist point of a relocating grant and of a truncate of a pinned file,
 * a power failure leaves an image that mounts (recovery frees the holder),
 * holds the file's bytes, and that fsck finds clean (no leaked blocks).
 * Daemon restarts (fs/dmap_restore.c): a mount while clients' locks say
 * files are still mapped frees none of their blocks until the locks go.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../core/helpers.h"
#include "dmap.h"
#include "persist.h"
#include "pmemfs_dmap_proto.h"

#define MiB (1024ULL * 1024)
#define ROOT PMFS_ROOT_INO
#define IMAGE_SIZE (24 * MiB)
#define MAX_SNAPS 160

static const char *image_path;
static char *snaps[MAX_SNAPS];
static unsigned nsnaps;
static bool snap_overflow;

static void snapshot_after_fence(void)
{
	char *buf = malloc(IMAGE_SIZE);
	int fd = open(image_path, O_RDONLY);

	if (nsnaps == MAX_SNAPS || !buf || fd < 0 ||
	    pread(fd, buf, IMAGE_SIZE, 0) != (ssize_t)IMAGE_SIZE) {
		snap_overflow = true;
		free(buf);
	} else {
		snaps[nsnaps++] = buf;
	}
	if (fd >= 0)
		close(fd);
}

static void free_snaps(void)
{
	for (unsigned i = 0; i < nsnaps; i++)
		free(snaps[i]);
	nsnaps = 0;
	snap_overflow = false;
}

/* A file of len bytes of pattern seed, written in small pieces so its
 * blocks are not aligned (the grant has to relocate them). */
static pmfs_ino_t make_unaligned(struct pmfs *fs, const char *name, size_t len, uint64_t seed)
{
	pmfs_ino_t ino = mk_file(fs, ROOT, name);
	char *buf = malloc(len);

	fill_pattern(buf, len, seed, 0);
	expect_eq(pmfs_write(fs, ino, buf, 1, 0, 0), 1);
	expect_eq(pmfs_write(fs, ino, buf, len, 0, 0), (long long)len);
	free(buf);
	return ino;
}

static void expect_bytes(struct pmfs *fs, pmfs_ino_t ino, size_t len, uint64_t seed)
{
	char *want = malloc(len), *got = malloc(len);

	fill_pattern(want, len, seed, 0);
	expect_eq(pmfs_read(fs, ino, got, len, 0), (long long)len);
	if (memcmp(want, got, len) != 0)
		fail_msg("inode %llu: expected pattern %llu, found other bytes",
			 (unsigned long long)ino, (unsigned long long)seed);
	free(want);
	free(got);
}

static void expect_aligned(struct pmfs *fs, const struct pmfs_dmap_grant_info *gi, uint64_t owner)
{
	struct pmfs_dmap_ext ext[64];
	struct pmfs_dmap_dev dev;
	uint32_t total = 0, at = 0;
	int n = pmfs_dmap_extents(fs, gi->grant, owner, 0, ext, 64, &total);

	pmfs_dmap_device(fs, &dev);
	expect_ok(n);
	expect_eq(total, gi->total);
	for (int i = 0; i < n; i++) {
		expect_eq(ext[i].file_off, at);
		expect_eq(ext[i].dev_off % dev.align, 0);
		expect_eq(ext[i].len % dev.align, 0);
		at += (uint32_t)ext[i].len;
	}
	expect_eq(at, gi->map_len);
}

static void test_grant_aligns_and_keeps_bytes(void **state)
{
	struct core_env env;
	struct pmfs_dmap_grant_info gi;
	pmfs_ino_t ino;

	(void)state;
	core_setup(&env, "dmap-align", IMAGE_SIZE, 0);
	ino = make_unaligned(env.fs, "f", 3 * MiB + 100, 1);
	expect_ok(pmfs_dmap_grant(env.fs, ino, 7, &gi));
	expect_eq(gi.file_size, 3 * MiB + 100);
	expect_eq(gi.map_len, 4 * MiB);
	expect_aligned(env.fs, &gi, 7);
	expect_bytes(env.fs, ino, 3 * MiB + 100, 1);
	expect_err(pmfs_dmap_extents(env.fs, gi.grant, 8, 0, NULL, 0, &gi.total), ENOENT);
	expect_eq(pmfs_dmap_pinned(env.fs, ino), 1);
	expect_ok(pmfs_dmap_release(env.fs, gi.grant, 7, NULL));
	expect_eq(pmfs_dmap_pinned(env.fs, ino), 0);
	expect_err(pmfs_dmap_release(env.fs, gi.grant, 7, NULL), ENOENT);
	core_teardown(&env);
}

/* Truncate and unlink of a pinned file free nothing until the release. */
static void test_pins_hold_blocks(void **state)
{
	struct core_env env;
	struct pmfs_dmap_grant_info gi;
	struct statvfs before, during, after;
	struct stat st = {.st_size = 0};
	pmfs_ino_t ino;

	(void)state;
	core_setup(&env, "dmap-pins", IMAGE_SIZE, 0);
	ino = make_unaligned(env.fs, "f", 4 * MiB, 2);
	expect_ok(pmfs_dmap_grant(env.fs, ino, 1, &gi));
	expect_ok(pmfs_statfs(env.fs, &before));
	expect_ok(pmfs_setattr(env.fs, ino, &st, PMFS_SET_SIZE, NULL));
	expect_ok(pmfs_unlink(env.fs, ROOT, "f"));
	expect_ok(pmfs_forget(env.fs, ino, 1)); /* mk_file's lookup reference */
	expect_ok(pmfs_statfs(env.fs, &during));
	/* the holder's inode slot is the only change: no block came back */
	expect_eq(during.f_bfree, before.f_bfree);
	expect_ok(pmfs_dmap_release_owner(env.fs, 1) == 1 ? 0 : -EINVAL);
	expect_ok(pmfs_statfs(env.fs, &after));
	if (after.f_bfree < before.f_bfree + 4 * MiB / 4096)
		fail_msg("after release: expected at least %llu free blocks, found %llu",
			 (unsigned long long)(before.f_bfree + 4 * MiB / 4096),
			 (unsigned long long)after.f_bfree);
	core_teardown(&env);
}

/* Mounts every snapshot: recovery runs, then check(fs) and fsck. */
static void replay_snaps(const char *what, void (*check)(struct pmfs *fs, unsigned i))
{
	char path[128];

	if (snap_overflow)
		fail_msg("%s: more than %u persist points or a failed copy", what, MAX_SNAPS);
	snprintf(path, sizeof(path), "/dev/shm/pmfs-dmap-snap-%d", (int)getpid());
	for (unsigned i = 0; i < nsnaps; i++) {
		struct pmfs *fs;
		int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);

		if (fd < 0 || write(fd, snaps[i], IMAGE_SIZE) != (ssize_t)IMAGE_SIZE)
			fail_msg("writing snapshot %u", i);
		close(fd);
		expect_ok(pmfs_mount(path, NULL, &fs, NULL));
		check(fs, i);
		expect_ok(pmfs_unmount(fs));
		core_fsck_clean(path);
	}
	printf("%s: %u persist points recovered and checked\n", what, nsnaps);
	unlink(path);
	free_snaps();
}

static void check_relocated(struct pmfs *fs, unsigned i)
{
	(void)i;
	expect_bytes(fs, lookup_ino(fs, ROOT, "f"), 3 * MiB + 100, 3);
}

static void test_crash_during_grant(void **state)
{
	struct core_env env;
	struct pmfs_dmap_grant_info gi;
	pmfs_ino_t ino;

	(void)state;
	core_setup(&env, "dmap-crash-grant", IMAGE_SIZE, 0);
	ino = make_unaligned(env.fs, "f", 3 * MiB + 100, 3);
	image_path = env.path;
	pmfs_fence_hook = snapshot_after_fence;
	expect_ok(pmfs_dmap_grant(env.fs, ino, 1, &gi));
	pmfs_fence_hook = NULL;
	expect_ok(pmfs_dmap_release(env.fs, gi.grant, 1, NULL));
	replay_snaps("grant with relocation", check_relocated);
	core_teardown(&env);
}

static void check_truncated(struct pmfs *fs, unsigned i)
{
	pmfs_ino_t ino = lookup_ino(fs, ROOT, "f");
	struct stat st = stat_of(fs, ino);

	(void)i;
	if (st.st_size != 0 && st.st_size != (off_t)(4 * MiB))
		fail_msg("after recovery: expected size 0 or 4 MiB, found %lld",
			 (long long)st.st_size);
	if (st.st_size)
		expect_bytes(fs, ino, 4 * MiB, 4);
}

static void test_crash_truncating_pinned(void **state)
{
	struct core_env env;
	struct pmfs_dmap_grant_info gi;
	struct stat st = {.st_size = 0};
	pmfs_ino_t ino;

	(void)state;
	core_setup(&env, "dmap-crash-trunc", IMAGE_SIZE, 0);
	ino = make_unaligned(env.fs, "f", 4 * MiB, 4);
	expect_ok(pmfs_dmap_grant(env.fs, ino, 1, &gi));
	image_path = env.path;
	pmfs_fence_hook = snapshot_after_fence;
	expect_ok(pmfs_setattr(env.fs, ino, &st, PMFS_SET_SIZE, NULL));
	pmfs_fence_hook = NULL;
	/* a crash now: the holder is an orphan with the 4 MiB; recovery frees it */
	snapshot_after_fence();
	expect_ok(pmfs_dmap_release(env.fs, gi.grant, 1, NULL));
	replay_snaps("truncate of a pinned file", check_truncated);
	core_teardown(&env);
}

/* Grants and releases from several threads while another thread writes,
 * truncates and regrows the file: no deadlock, no error other than the
 * expected ones, everything released at the end, fsck clean. */
struct churn {
	struct pmfs *fs;
	pmfs_ino_t ino;
	uint64_t owner;
	int errors;
};

static void *grant_loop(void *arg)
{
	struct churn *c = arg;

	for (int i = 0; i < 40; i++) {
		struct pmfs_dmap_grant_info gi;
		int err = pmfs_dmap_grant(c->fs, c->ino, c->owner, &gi);

		if (err == -EINVAL || err == -EBUSY)
			continue; /* empty at that moment, or a pinned chunk to move */
		if (err) {
			c->errors++;
			continue;
		}
		if (i % 2)
			err = pmfs_dmap_release(c->fs, gi.grant, c->owner, NULL);
		else
			err = pmfs_dmap_release_owner(c->fs, c->owner) >= 1 ? 0 : -1;
		if (err)
			c->errors++;
	}
	return NULL;
}

static void *resize_loop(void *arg)
{
	struct churn *c = arg;
	char *buf = malloc(1 * MiB);

	fill_pattern(buf, 1 * MiB, 9, 0);
	for (int i = 0; i < 40; i++) {
		struct stat st = {.st_size = (off_t)((i % 4) * 700 * 1024)};

		if (pmfs_setattr(c->fs, c->ino, &st, PMFS_SET_SIZE, NULL) < 0 ||
		    pmfs_write(c->fs, c->ino, buf, 1 * MiB, (off_t)(i % 3) * 4096, 0) < 0)
			c->errors++;
	}
	free(buf);
	return NULL;
}

static void test_concurrent_grants_and_truncates(void **state)
{
	struct core_env env;
	struct churn c[4];
	pthread_t t[4];
	pmfs_ino_t ino;

	(void)state;
	core_setup(&env, "dmap-churn", IMAGE_SIZE, 0);
	ino = make_unaligned(env.fs, "f", 2 * MiB, 5);
	for (int i = 0; i < 4; i++) {
		c[i] = (struct churn){env.fs, ino, (uint64_t)i + 1, 0};
		pthread_create(&t[i], NULL, i == 3 ? resize_loop : grant_loop, &c[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		expect_eq(c[i].errors, 0);
	}
	expect_eq(pmfs_dmap_pinned(env.fs, ino), 0);
	core_teardown(&env);
}

/* ---- daemon restarts (fs/dmap_restore.c) ------------------------------------ */

/* The image as a killed daemon leaves it: every committed tx is on media;
 * the pins in DRAM are lost. */
static void copy_image(const char *from, const char *to)
{
	int in = open(from, O_RDONLY), out = open(to, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	static char buf[1 << 16];
	ssize_t n;

	if (in < 0 || out < 0)
		fail_msg("copying %s to %s: %s", from, to, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			fail_msg("copying %s: short write", from);
	close(in);
	close(out);
}

/* What a client of the earlier daemon holds while it maps ino: an OFD
 * read lock on byte LOCK_BASE + ino of its own fd of the device. */
static int client_lock(const char *path, pmfs_ino_t ino)
{
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_len = 1};
	int fd = open(path, O_RDWR);

	fl.l_start = (off_t)(PMFS_DMAP_LOCK_BASE + ino);
	if (fd < 0 || fcntl(fd, F_OFD_SETLK, &fl) < 0)
		fail_msg("client lock on %s: %s", path, strerror(errno));
	return fd;
}

static uint64_t free_blocks(struct pmfs *fs)
{
	struct statvfs st;

	expect_ok(pmfs_statfs(fs, &st));
	return st.f_bfree;
}

static struct pmfs *mount_image(const char *path)
{
	struct pmfs *fs = NULL;
	int err = pmfs_mount(path, NULL, &fs, NULL);

	if (err)
		fail_msg("mount %s: expected 0, found %d", path, err);
	return fs;
}

#define FILE_BLOCKS (4 * MiB / PMFS_BLOCK_SIZE)

/*
 * f is mapped and truncated (its blocks in a holder), g mapped and
 * unlinked, then the "daemon" dies.  A mount while the clients' locks
 * exist frees none of those blocks; each goes when its lock goes (g's at
 * once, f's holder only when no lock is left).  Without locks the mount
 * frees them all, as before; an unmount while locked leaves them on
 * media for the next mount.  fsck is clean throughout.
 */
static void test_restart_keeps_mapped_blocks(void **state)
{
	struct core_env env;
	struct pmfs_dmap_grant_info gi;
	struct stat st = {.st_size = 0};
	char locked[128], unlocked[128];
	pmfs_ino_t f, g;
	uint64_t base, low, gone;
	struct pmfs *fs;
	int lf, lg;

	(void)state;
	core_setup(&env, "dmap-restart", IMAGE_SIZE, 0);
	f = make_unaligned(env.fs, "f", 4 * MiB, 5);
	g = make_unaligned(env.fs, "g", 4 * MiB, 6);
	expect_ok(pmfs_dmap_grant(env.fs, f, 1, &gi));
	expect_ok(pmfs_dmap_grant(env.fs, g, 2, &gi));
	expect_ok(pmfs_setattr(env.fs, f, &st, PMFS_SET_SIZE, NULL));
	expect_ok(pmfs_unlink(env.fs, ROOT, "g"));
	expect_ok(pmfs_forget(env.fs, g, 1));
	snprintf(locked, sizeof(locked), "/dev/shm/pmfs-dmap-restart-l-%d", (int)getpid());
	snprintf(unlocked, sizeof(unlocked), "/dev/shm/pmfs-dmap-restart-u-%d", (int)getpid());
	copy_image(env.path, locked);
	copy_image(env.path, unlocked);
	expect_eq(pmfs_dmap_release_owner(env.fs, 1), 1);
	expect_eq(pmfs_dmap_release_owner(env.fs, 2), 1);
	core_teardown(&env);

	/* no client: recovery frees the holder and g, as always */
	fs = mount_image(unlocked);
	base = free_blocks(fs);
	expect_eq(pmfs_dmap_restore_poll(fs), 0);
	expect_ok(pmfs_unmount(fs));
	core_fsck_clean(unlocked);
	unlink(unlocked);

	/* clients still map f and g */
	lf = client_lock(locked, f);
	lg = client_lock(locked, g);
	fs = mount_image(locked);
	low = free_blocks(fs);
	if (low + 2 * FILE_BLOCKS > base)
		fail_msg("mapped blocks freed at mount: %llu free, %llu without clients",
			 (unsigned long long)low, (unsigned long long)base);
	expect_eq(pmfs_dmap_pinned(fs, g), 1);
	/* f maps nothing now (its blocks are in the old holder, kept) */
	expect_eq(pmfs_dmap_pinned(fs, f), 0);
	/* an unmount while mapped leaves them on media for the next mount */
	expect_ok(pmfs_unmount(fs));
	core_fsck_clean(locked);
	fs = mount_image(locked);
	expect_eq(free_blocks(fs), low);
	/* g's client unmaps: g goes; f's old holder stays while any lock does */
	close(lg);
	expect_eq(pmfs_dmap_restore_poll(fs) > 0, 1);
	gone = free_blocks(fs);
	if (gone < low + FILE_BLOCKS || gone + FILE_BLOCKS > base)
		fail_msg("after g's unmap: expected g's %llu blocks back and f's kept, "
			 "found %llu free (%llu while mapped, %llu without clients)",
			 (unsigned long long)FILE_BLOCKS, (unsigned long long)gone,
			 (unsigned long long)low, (unsigned long long)base);
	close(lf);
	expect_eq(pmfs_dmap_restore_poll(fs), 0);
	expect_eq(pmfs_dmap_pinned(fs, f), 0);
	expect_eq(free_blocks(fs), base);
	expect_ok(pmfs_unmount(fs));
	core_fsck_clean(locked);
	unlink(locked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grant_aligns_and_keeps_bytes),
	    cmocka_unit_test(test_pins_hold_blocks),
	    cmocka_unit_test(test_crash_during_grant),
	    cmocka_unit_test(test_crash_truncating_pinned),
	    cmocka_unit_test(test_concurrent_grants_and_truncates),
	    cmocka_unit_test(test_restart_keeps_mapped_blocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
