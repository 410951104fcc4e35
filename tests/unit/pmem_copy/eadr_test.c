/*
 * eadr_test.c - the flush decision follows the nd regions' persistence
 * domain (eADR) and PMEM_NO_FLUSH, end to end: a fake sysfs tree in /tmp,
 * part B's region scan, and init.c's dispatch selection.  Links libpmem's
 * objects directly to reach the hidden sysfs-root hook and re-run the
 * selection that normally runs once at load.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "libpmem.h"
#include "pmem_internal.h"

struct fake_tree {
	char root[64];
	char domain_file[160];
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		fail_msg("cannot create %s", path);
	fputs(text, f);
	fclose(f);
}

/* root/devices/region0/persistence_domain, and the bus link to it that
 * the region scan looks for: root/bus/nd/devices/region0. */
static int tree_setup(void **state)
{
	struct fake_tree *t = calloc(1, sizeof(*t));
	char path[200], target[200];
	if (t == NULL)
		return -1;
	snprintf(t->root, sizeof(t->root), "/tmp/pmem_eadr.XXXXXX");
	if (mkdtemp(t->root) == NULL)
		return -1;
	const char *dirs[] = {"/devices", "/devices/region0", "/bus", "/bus/nd", "/bus/nd/devices"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++) {
		snprintf(path, sizeof(path), "%s%s", t->root, dirs[i]);
		if (mkdir(path, 0755) != 0)
			return -1;
	}
	snprintf(target, sizeof(target), "%s/devices/region0", t->root);
	snprintf(path, sizeof(path), "%s/bus/nd/devices/region0", t->root);
	if (symlink(target, path) != 0)
		return -1;
	snprintf(t->domain_file, sizeof(t->domain_file), "%s/devices/region0/persistence_domain",
		 t->root);
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct fake_tree *t = *state;
	char cmd[128];
	pmem_sysfs_set_root(NULL);
	unsetenv("PMEM_NO_FLUSH");
	pmem_dispatch_select();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
	int rc = system(cmd);
	free(t);
	return rc == 0 ? 0 : -1;
}

static void select_with(struct fake_tree *t, const char *domain, const char *no_flush)
{
	if (domain != NULL)
		write_file(t->domain_file, domain);
	else
		unlink(t->domain_file);
	if (no_flush != NULL)
		setenv("PMEM_NO_FLUSH", no_flush, 1);
	else
		unsetenv("PMEM_NO_FLUSH");
	pmem_sysfs_set_root(t->root);
	pmem_dispatch_select();
}

static void test_eadr_regions_turn_flushing_off(void **state)
{
	select_with(*state, "cpu_cache\n", NULL);
	if (Pmem_funcs.flush_needed || Pmem_funcs.flush_kind != PMEM_FLUSH_NONE)
		fail_msg("eADR region: expected no flushing, found flush_needed %d, flush %s",
			 Pmem_funcs.flush_needed, Pmem_funcs.flush_name);
	/* NT stores still need the fence, and deep flush the real instruction. */
	if (!Pmem_funcs.drain_fences)
		fail_msg("eADR: expected pmem_drain to keep its SFENCE, found it empty");
	if (Pmem_funcs.deep_flush == Pmem_funcs.flush)
		fail_msg("eADR: expected deep_flush to keep the CPU's flush instruction, found "
			 "the empty flush");
	char dst[300], src[300];
	memset(src, 'e', sizeof(src));
	pmem_memcpy_persist(dst, src, sizeof(dst));
	if (memcmp(dst, src, sizeof(dst)) != 0)
		fail_msg("eADR: pmem_memcpy_persist did not copy the 300 bytes");
}

static void test_no_flush_0_overrides_eadr(void **state)
{
	select_with(*state, "cpu_cache\n", "0");
	if (!Pmem_funcs.flush_needed || Pmem_funcs.flush_kind == PMEM_FLUSH_NONE)
		fail_msg("eADR with PMEM_NO_FLUSH=0: expected flushing, found flush %s",
			 Pmem_funcs.flush_name);
}

static void test_memory_controller_domain_keeps_flushing(void **state)
{
	select_with(*state, "memory_controller\n", NULL);
	if (!Pmem_funcs.flush_needed || Pmem_funcs.flush_kind == PMEM_FLUSH_NONE)
		fail_msg("ADR-only region: expected flushing, found flush %s",
			 Pmem_funcs.flush_name);
}

static void test_region_without_domain_keeps_flushing(void **state)
{
	select_with(*state, NULL, NULL);
	if (!Pmem_funcs.flush_needed || Pmem_funcs.flush_kind == PMEM_FLUSH_NONE)
		fail_msg("region without persistence_domain: expected flushing, found flush %s",
			 Pmem_funcs.flush_name);
}

static void test_no_flush_1_skips_flushing_without_eadr(void **state)
{
	select_with(*state, "memory_controller\n", "1");
	if (Pmem_funcs.flush_needed || Pmem_funcs.flush_kind != PMEM_FLUSH_NONE)
		fail_msg("PMEM_NO_FLUSH=1: expected no flushing, found flush %s",
			 Pmem_funcs.flush_name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eadr_regions_turn_flushing_off),
	    cmocka_unit_test(test_no_flush_0_overrides_eadr),
	    cmocka_unit_test(test_memory_controller_domain_keeps_flushing),
	    cmocka_unit_test(test_region_without_domain_keeps_flushing),
	    cmocka_unit_test(test_no_flush_1_skips_flushing_without_eadr),
	};
	return cmocka_run_group_tests_name("pmem_copy_eadr", tests, tree_setup, tree_teardown);
}
