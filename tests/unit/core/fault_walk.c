/*
 * fault_walk.c - fails every fault point of an operation once and checks
 * the tree after each (fault_walk.h); used by fault_test.c and
 * eio_test.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "fault_walk.h"
#include "tree_sig.h"

struct fault_pause fault_pause(void)
{
	struct fault_pause p = {pmfs_fault_countdown, pmfs_fault_eio_countdown};

	pmfs_fault_countdown = 0;
	pmfs_fault_eio_countdown = 0;
	return p;
}

void fault_resume(struct fault_pause p)
{
	pmfs_fault_countdown = p.countdown;
	pmfs_fault_eio_countdown = p.eio_countdown;
}

pmfs_ino_t fault_walk_lookup(struct pmfs *fs, pmfs_ino_t dir, const char *name)
{
	struct fault_pause p = fault_pause();
	pmfs_ino_t ino = lookup_ino(fs, dir, name);

	fault_resume(p);
	assert_true(ino != 0);
	return ino;
}

/* Unmounts, checks the image, mounts again and compares the tree. */
static void check_on_media(const struct fault_walk *w, struct core_env *env, const char *want,
			   const char *name, unsigned long k, const char *what)
{
	char *got;

	expect_ok(pmfs_unmount(env->fs));
	env->fs = NULL;
	core_fsck_clean(env->path);
	expect_ok(pmfs_mount(env->path, NULL, &env->fs, NULL));
	got = tree_signature(env->fs);
	if (strcmp(got, want))
		fail_msg("%s: %s %lu: after remount expected the tree %s, found:\n%s\n"
			 "--- expected:\n%s",
			 name, w->point, k, what, got, want);
	free(got);
}

/* Runs op with faults off and checks that it gives the tree after. */
static void retry(const struct fault_walk *w, struct core_env *env, const char *after,
		  const char *name, unsigned long k, fault_op_fn op)
{
	long r = op(env->fs);
	char *got;

	if (r < 0)
		fail_msg("%s: %s %lu: retry expected success, found %ld", name, w->point, k, r);
	got = tree_signature(env->fs);
	if (strcmp(got, after))
		fail_msg("%s: %s %lu: retry expected the tree after, found:\n%s\n"
			 "--- after:\n%s",
			 name, w->point, k, got, after);
	free(got);
	check_on_media(w, env, after, name, k, "after");
}

struct fault_walk_counts fault_walk(const struct fault_walk *w, const char *name, fault_op_fn op)
{
	struct fault_walk_counts c = {0};
	struct core_env env;
	char *before, *after;
	unsigned long n;
	long r;

	/* count the points of an undisturbed run */
	w->fresh(&env);
	before = tree_signature(env.fs);
	*w->passed = 0;
	*w->countdown = ~0UL;
	r = op(env.fs);
	*w->countdown = 0;
	n = *w->passed;
	if (r < 0)
		fail_msg("%s: expected success without faults, found %ld", name, r);
	if (n == 0)
		fail_msg("%s: expected at least one %s, found none", name, w->point);
	after = tree_signature(env.fs);
	core_teardown(&env);

	for (unsigned long k = 1; k <= n; k++) {
		char *got;

		w->fresh(&env);
		*w->countdown = k;
		r = op(env.fs);
		*w->countdown = 0;
		got = tree_signature(env.fs);
		if (w->clean(r)) {
			c.failed++;
			if (strcmp(got, before))
				fail_msg("%s: %s %lu of %lu (%ld): expected the tree before, "
					 "found:\n%s\n--- before:\n%s",
					 name, w->point, k, n, r, got, before);
			check_on_media(w, &env, before, name, k, "before");
		} else if (r > 0 && (!w->may_be_short || w->may_be_short(name)) &&
			   strcmp(got, after)) {
			/* a write that failed in a later step: the earlier
			 * steps are committed; the tree must survive as is */
			c.shorts++;
			if (w->check_short) {
				w->check_short(env.fs, name, k, r);
				free(got); /* the check read the file back */
				got = tree_signature(env.fs);
			}
			check_on_media(w, &env, got, name, k, "of the short write");
		} else if (r >= 0 && w->tolerate) {
			/* the point was on a path that tolerates the failure */
			c.tolerated++;
			if (strcmp(got, after))
				fail_msg("%s: %s %lu: succeeded (%ld) but expected the tree "
					 "after, found:\n%s\n--- after:\n%s",
					 name, w->point, k, r, got, after);
			check_on_media(w, &env, after, name, k, "after");
			free(got);
			core_teardown(&env);
			continue;
		} else {
			fail_msg("%s: %s %lu of %lu: expected %s or a short write, found %ld", name,
				 w->point, k, n, w->clean_what, r);
		}
		free(got);
		/* with faults off the same operation succeeds */
		retry(w, &env, after, name, k, op);
		core_teardown(&env);
	}
	c.n = n;
	free(before);
	free(after);
	return c;
}
