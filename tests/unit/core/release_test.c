/*
 * release_test.c - freeing an unlinked inode never spins: when a step of
 * pmfs_inode_release frees nothing (a lane with too little room), the
 * release fails with an error, the inode stays on the orphan list, and the
 * next mount frees it.  pmfs_tx_room is wrapped (-Wl,--wrap) so the test
 * can starve the unmap steps of room.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define MiB (1024ULL * 1024)
#define ROOT PMFS_ROOT_INO

static bool starve_room;

size_t __real_pmfs_tx_room(const struct pmfs_tx *tx);
size_t __wrap_pmfs_tx_room(const struct pmfs_tx *tx);
size_t __wrap_pmfs_tx_room(const struct pmfs_tx *tx)
{
	return starve_room ? 0 : __real_pmfs_tx_room(tx);
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "release_test: pmfs_inode_release still looping after 20 s\n";
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

static void release_without_progress_fails_and_keeps_orphan(void **state)
{
	struct core_env env;
	static char buf[64 * 1024];
	pmfs_ino_t ino;

	(void)state;
	core_setup(&env, "release", 16 * MiB, 0);
	ino = mk_file(env.fs, ROOT, "f");
	fill_pattern(buf, sizeof(buf), 1, 0);
	expect_eq(pmfs_write(env.fs, ino, buf, sizeof(buf), 0, 0), sizeof(buf));

	signal(SIGALRM, on_alarm);
	alarm(20); /* before the fix: an endless loop */
	expect_ok(pmfs_unlink(env.fs, ROOT, "f"));
	starve_room = true;
	/* the create's lookup reference was the last: this frees the inode */
	expect_ok(pmfs_forget(env.fs, ino, 1));
	starve_room = false;
	alarm(0);
	/* not freed: still on the orphan list with its blocks */
	expect_eq(env.fs->state->orphan_head, ino);
	expect_eq(pmfs_inode_ptr(env.fs, ino)->nlink, 0);
	assert_true(pmfs_inode_ptr(env.fs, ino)->blocks > 0);

	core_remount(&env); /* recovery frees it */
	expect_eq(env.fs->state->orphan_head, 0);
	expect_eq(pmfs_inode_ptr(env.fs, ino)->mode, 0);
	core_teardown(&env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(release_without_progress_fails_and_keeps_orphan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
