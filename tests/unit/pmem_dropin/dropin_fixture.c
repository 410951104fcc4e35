/*
 * dropin_fixture.c - the shared cmocka group fixture of the drop-in tests
 * (see dropin_fixture.h).
 */
#include "dropin_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "dropin_check.h"

static char *Temp_dir;

int dropin_group_setup(void **state)
{
	(void)state;
	Temp_dir = dropin_make_temp_dir();
	return Temp_dir ? 0 : -1;
}

int dropin_group_teardown(void **state)
{
	(void)state;
	dropin_remove_temp_dir(Temp_dir);
	Temp_dir = NULL;
	return 0;
}

char *dropin_pool_path(const char *name)
{
	char *path;

	assert_true(asprintf(&path, "%s/%s", Temp_dir, name) >= 0);
	return path;
}

void dropin_test_ours_is_loaded(void **state)
{
	char why[512];

	(void)state;
	if (dropin_libpmem_is_ours(why, sizeof(why)) != 0)
		fail_msg("libpmem.so.1 in this process: %s", why);
}
