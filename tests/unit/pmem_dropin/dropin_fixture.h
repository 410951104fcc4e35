/*
 * dropin_fixture.h - the cmocka scaffolding the libpmemobj/log/blk drop-in
 * tests share: one private pool directory per test group, pool paths in
 * it, and the first test of every group (our libpmem is the one loaded).
 */
#ifndef DROPIN_FIXTURE_H
#define DROPIN_FIXTURE_H

/* Group setup/teardown: make and remove the pool directory. */
int dropin_group_setup(void **state);
int dropin_group_teardown(void **state);

/* malloc'd "<pool directory>/<name>". */
char *dropin_pool_path(const char *name);

/* Fails unless the libpmem.so.1 mapped in this process is ours. */
void dropin_test_ours_is_loaded(void **state);

#endif /* DROPIN_FIXTURE_H */
