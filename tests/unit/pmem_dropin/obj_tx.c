/*
 * obj_tx.c - Debian's libpmemobj running on our libpmem.so.1: committed
 * transactions, allocations, an aborted transaction and a transaction cut
 * short by process exit, each checked again after close and reopen.  This
 * proves the ABI (every symbol and version libpmemobj binds to resolves in
 * ours) and that our copy, set and flush calls move the bytes libpmemobj
 * asks for.  It cannot prove durability: the mapping stays coherent in
 * DRAM whether or not a flush reached media.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpmemobj.h>

#include "dropin_check.h"
#include "dropin_fixture.h"

#define POOL_SIZE (16u << 20)
#define NVALUES 64
#define NNODES 100

POBJ_LAYOUT_BEGIN(dropin);
POBJ_LAYOUT_ROOT(dropin, struct dropin_root);
POBJ_LAYOUT_TOID(dropin, struct dropin_node);
POBJ_LAYOUT_END(dropin);

struct dropin_node {
	uint64_t value;
	TOID(struct dropin_node) next;
};

struct dropin_root {
	uint64_t values[NVALUES];
	char text[64];
	TOID(struct dropin_node) head;
};

static PMEMobjpool *create_pool(const char *path)
{
	PMEMobjpool *pop = pmemobj_create(path, POBJ_LAYOUT_NAME(dropin), POOL_SIZE, 0600);

	if (!pop)
		fail_msg("pmemobj_create %s: expected a pool, found error: %s", path,
			 pmemobj_errormsg());
	return pop;
}

static PMEMobjpool *open_pool(const char *path)
{
	PMEMobjpool *pop = pmemobj_open(path, POBJ_LAYOUT_NAME(dropin));

	if (!pop)
		fail_msg("pmemobj_open %s: expected the pool to open, found error: %s", path,
			 pmemobj_errormsg());
	return pop;
}

static struct dropin_root *root_of(PMEMobjpool *pop)
{
	TOID(struct dropin_root) root = POBJ_ROOT(pop, struct dropin_root);

	if (TOID_IS_NULL(root))
		fail_msg("POBJ_ROOT: expected a root object, found NULL: %s", pmemobj_errormsg());
	return D_RW(root);
}

/* Commits values[i] = base + i and a string in one transaction. */
static void commit_values(PMEMobjpool *pop, uint64_t base, const char *text)
{
	struct dropin_root *root = root_of(pop);
	volatile int committed = 0;

	TX_BEGIN(pop)
	{
		pmemobj_tx_add_range_direct(root->values, sizeof(root->values));
		for (int i = 0; i < NVALUES; i++)
			root->values[i] = base + (uint64_t)i;
		TX_MEMCPY(root->text, text, strlen(text) + 1);
	}
	TX_ONCOMMIT
	{
		committed = 1;
	}
	TX_END
	if (!committed)
		fail_msg("transaction: expected commit, found abort: %s", pmemobj_errormsg());
}

static void assert_values(PMEMobjpool *pop, uint64_t base, const char *text, const char *when)
{
	struct dropin_root *root = root_of(pop);

	for (int i = 0; i < NVALUES; i++) {
		if (root->values[i] != base + (uint64_t)i)
			fail_msg("%s: values[%d]: expected %llu, found %llu", when, i,
				 (unsigned long long)(base + (uint64_t)i),
				 (unsigned long long)root->values[i]);
	}
	if (strcmp(root->text, text) != 0)
		fail_msg("%s: text: expected \"%s\", found \"%s\"", when, text, root->text);
}

static void test_committed_tx_survives_reopen(void **state)
{
	char *path = dropin_pool_path("commit.obj");
	PMEMobjpool *pop = create_pool(path);

	(void)state;
	commit_values(pop, 1000, "first");
	commit_values(pop, 2000, "second");
	assert_values(pop, 2000, "second", "before close");
	pmemobj_close(pop);

	pop = open_pool(path);
	assert_values(pop, 2000, "second", "after reopen");
	pmemobj_close(pop);
	free(path);
}

static void test_aborted_tx_rolls_back(void **state)
{
	char *path = dropin_pool_path("abort.obj");
	PMEMobjpool *pop = create_pool(path);
	struct dropin_root *root;
	volatile int aborted = 0;

	(void)state;
	commit_values(pop, 7, "kept");
	root = root_of(pop);
	TX_BEGIN(pop)
	{
		pmemobj_tx_add_range_direct(root->values, sizeof(root->values));
		for (int i = 0; i < NVALUES; i++)
			root->values[i] = UINT64_MAX;
		TX_MEMCPY(root->text, "discarded", sizeof("discarded"));
		pmemobj_tx_abort(ECANCELED);
	}
	TX_ONABORT
	{
		aborted = 1;
	}
	TX_END
	if (!aborted)
		fail_msg("pmemobj_tx_abort: expected the abort handler to run, found it did not");
	assert_values(pop, 7, "kept", "right after abort");
	pmemobj_close(pop);

	pop = open_pool(path);
	assert_values(pop, 7, "kept", "after abort and reopen");
	pmemobj_close(pop);
	free(path);
}

/* Builds a list of NNODES nodes, each allocated inside a transaction. */
static void build_list(PMEMobjpool *pop)
{
	TOID(struct dropin_root) root = POBJ_ROOT(pop, struct dropin_root);

	for (uint64_t v = 0; v < NNODES; v++) {
		TX_BEGIN(pop)
		{
			TOID(struct dropin_node) node = TX_NEW(struct dropin_node);

			D_RW(node)->value = v;
			D_RW(node)->next = D_RO(root)->head;
			TX_ADD_FIELD(root, head);
			D_RW(root)->head = node;
		}
		TX_ONABORT
		{
			fail_msg("TX_NEW node %llu: expected commit, found abort: %s",
				 (unsigned long long)v, pmemobj_errormsg());
		}
		TX_END
	}
}

static void test_tx_allocations_survive_reopen(void **state)
{
	char *path = dropin_pool_path("alloc.obj");
	PMEMobjpool *pop = create_pool(path);
	TOID(struct dropin_node) node;
	uint64_t expect = NNODES;
	int count = 0;

	(void)state;
	build_list(pop);
	pmemobj_close(pop);

	pop = open_pool(path);
	node = D_RO(POBJ_ROOT(pop, struct dropin_root))->head;
	while (!TOID_IS_NULL(node)) {
		expect--;
		if (D_RO(node)->value != expect)
			fail_msg("list node %d after reopen: expected value %llu, found %llu",
				 count, (unsigned long long)expect,
				 (unsigned long long)D_RO(node)->value);
		count++;
		node = D_RO(node)->next;
	}
	if (count != NNODES)
		fail_msg("list after reopen: expected %d nodes, found %d", NNODES, count);

	count = 0;
	POBJ_FOREACH_TYPE(pop, node)
	count++;
	if (count != NNODES)
		fail_msg("POBJ_FOREACH_TYPE after reopen: expected %d nodes, found %d", NNODES,
			 count);
	pmemobj_close(pop);
	free(path);
}

/*
 * A child modifies the root inside a transaction and exits without
 * committing; opening the pool must run recovery and undo the change.
 * The undo log was written through our pmem_memcpy_* and pmem_persist.
 */
static void test_tx_cut_by_exit_is_undone_on_open(void **state)
{
	char *path = dropin_pool_path("exit.obj");
	PMEMobjpool *pop = create_pool(path);
	int status;
	pid_t pid;

	(void)state;
	commit_values(pop, 42, "before exit");
	pmemobj_close(pop);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		PMEMobjpool *child = pmemobj_open(path, POBJ_LAYOUT_NAME(dropin));
		struct dropin_root *root;

		if (!child)
			_exit(2);
		root = D_RW(POBJ_ROOT(child, struct dropin_root));
		pmemobj_tx_begin(child, NULL, TX_PARAM_NONE);
		pmemobj_tx_add_range_direct(root->values, sizeof(root->values));
		for (int i = 0; i < NVALUES; i++)
			root->values[i] = 0xdead;
		pmemobj_tx_add_range_direct(root->text, sizeof(root->text));
		strcpy(root->text, "torn");
		pmemobj_persist(child, root, sizeof(*root));
		_exit(0);
	}
	assert_true(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("child transaction: expected exit 0, found status 0x%x", status);

	pop = open_pool(path);
	assert_values(pop, 42, "before exit", "after reopen of a transaction cut by exit");
	pmemobj_close(pop);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(dropin_test_ours_is_loaded),
	    cmocka_unit_test(test_committed_tx_survives_reopen),
	    cmocka_unit_test(test_aborted_tx_rolls_back),
	    cmocka_unit_test(test_tx_allocations_survive_reopen),
	    cmocka_unit_test(test_tx_cut_by_exit_is_undone_on_open),
	};

	return cmocka_run_group_tests_name("pmem_dropin_obj", tests, dropin_group_setup,
					   dropin_group_teardown);
}
