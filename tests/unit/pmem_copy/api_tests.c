/*
 * api_tests.c - pmem_check_version, pmem_errormsg (per thread), invalid
 * flags, and the PMEM_LOG_LEVEL/PMEM_LOG_FILE log.  meson runs this
 * binary with PMEM_LOG_LEVEL=3 and PMEM_LOG_FILE=<dir>/pmem_copy_api.log-
 * (the trailing '-' asks for the process id to be appended).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpmem.h>

#include "pmem_test_queries.h"

static void test_check_version_accepts_this_and_older_minor(void **state)
{
	(void)state;
	const char *msg = pmem_check_version(PMEM_MAJOR_VERSION, PMEM_MINOR_VERSION);
	if (msg != NULL)
		fail_msg("check_version(%d, %d): expected NULL, found \"%s\"", PMEM_MAJOR_VERSION,
			 PMEM_MINOR_VERSION, msg);
	msg = pmem_check_version(1, 0);
	if (msg != NULL)
		fail_msg("check_version(1, 0): expected NULL, found \"%s\"", msg);
}

static void test_check_version_rejects_other_major(void **state)
{
	(void)state;
	const char *msg = pmem_check_version(2, 0);
	if (msg == NULL || strstr(msg, "major version mismatch (need 2, found 1)") == NULL)
		fail_msg("check_version(2, 0): expected the major mismatch message, found %s",
			 msg ? msg : "NULL");
	if (strcmp(msg, pmem_errormsg()) != 0)
		fail_msg("pmem_errormsg: expected \"%s\", found \"%s\"", msg, pmem_errormsg());
	msg = pmem_check_version(0, 0);
	if (msg == NULL)
		fail_msg("check_version(0, 0): expected a major mismatch message, found NULL");
}

static void test_check_version_rejects_newer_minor(void **state)
{
	(void)state;
	const char *msg = pmem_check_version(1, PMEM_MINOR_VERSION + 1);
	if (msg == NULL || strstr(msg, "minor version mismatch") == NULL)
		fail_msg("check_version(1, %d): expected the minor mismatch message, found %s",
			 PMEM_MINOR_VERSION + 1, msg ? msg : "NULL");
}

static const unsigned Bad_flags[] = {1u << 6, 1u << 31, PMEM_F_MEM_VALID_FLAGS + 1,
				     PMEM_F_MEM_NODRAIN | (1u << 7)};

static void test_invalid_flags_set_einval_and_store_nothing(void **state)
{
	(void)state;
	char dst[64], src[64];
	memset(src, 'S', sizeof(src));
	for (size_t i = 0; i < sizeof(Bad_flags) / sizeof(*Bad_flags); i++) {
		unsigned flags = Bad_flags[i];
		const char *names[] = {"pmem_memmove", "pmem_memcpy", "pmem_memset"};
		for (int f = 0; f < 3; f++) {
			memset(dst, 'D', sizeof(dst));
			errno = 0;
			void *ret;
			if (f == 0)
				ret = pmem_memmove(dst, src, sizeof(dst), flags);
			else if (f == 1)
				ret = pmem_memcpy(dst, src, sizeof(dst), flags);
			else
				ret = pmem_memset(dst, 'S', sizeof(dst), flags);
			if (ret != dst)
				fail_msg("%s flags 0x%x: returned %p, expected dest %p", names[f],
					 flags, ret, (void *)dst);
			if (errno != EINVAL)
				fail_msg("%s flags 0x%x: errno expected EINVAL, found %d", names[f],
					 flags, errno);
			if (dst[0] != 'D' || dst[63] != 'D')
				fail_msg("%s flags 0x%x: expected no store, found the destination "
					 "changed",
					 names[f], flags);
			char expected[64];
			snprintf(expected, sizeof(expected), "invalid flags 0x%x", flags);
			if (strstr(pmem_errormsg(), expected) == NULL)
				fail_msg("%s flags 0x%x: errormsg expected \"%s\", found \"%s\"",
					 names[f], flags, expected, pmem_errormsg());
		}
	}
}

struct thread_msg {
	char seen[256];
};

static void *other_thread(void *arg)
{
	struct thread_msg *m = arg;
	snprintf(m->seen, sizeof(m->seen), "%s", pmem_errormsg());
	(void)pmem_check_version(1, 99);
	return NULL;
}

static void test_errormsg_is_per_thread(void **state)
{
	(void)state;
	struct thread_msg m;
	(void)pmem_check_version(7, 0);
	char mine[256];
	snprintf(mine, sizeof(mine), "%s", pmem_errormsg());

	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, other_thread, &m), 0);
	pthread_join(t, NULL);
	if (m.seen[0] != '\0')
		fail_msg("a new thread's pmem_errormsg: expected \"\", found \"%s\"", m.seen);
	if (strcmp(mine, pmem_errormsg()) != 0)
		fail_msg("this thread's message changed by another thread: expected \"%s\", "
			 "found \"%s\"",
			 mine, pmem_errormsg());
}

/* The log of this process: PMEM_LOG_FILE with our pid appended. */
static const char *log_path(void)
{
	static char path[4096];
	const char *base = getenv("PMEM_LOG_FILE");
	if (base == NULL)
		fail_msg("PMEM_LOG_FILE is not set: meson should set it for this test");
	snprintf(path, sizeof(path), "%s%d", base, (int)getpid());
	return path;
}

static char *read_log(void)
{
	const char *path = log_path();
	FILE *f = fopen(path, "r");
	if (f == NULL)
		fail_msg("expected a log file at %s (PMEM_LOG_FILE + pid), found none", path);
	static char text[65536];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static void test_log_file_records_chosen_paths_and_errors(void **state)
{
	(void)state;
	char expected[256];
	snprintf(expected, sizeof(expected), "using %s flush, %s copies, movnt threshold %zu",
		 pmemfs_test_flush_name(), pmemfs_test_memcpy_name(),
		 pmemfs_test_movnt_threshold());
	char *text = read_log();
	if (strstr(text, expected) == NULL)
		fail_msg("log: expected a line containing \"%s\", found:\n%s", expected, text);

	char dst[8];
	pmem_memset(dst, 0, sizeof(dst), 1u << 20);
	text = read_log();
	if (strstr(text, "<libpmem>: <1> invalid flags 0x100000") == NULL)
		fail_msg("log: expected the invalid-flags error at level 1, found:\n%s", text);
	unlink(log_path());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check_version_accepts_this_and_older_minor),
	    cmocka_unit_test(test_check_version_rejects_other_major),
	    cmocka_unit_test(test_check_version_rejects_newer_minor),
	    cmocka_unit_test(test_invalid_flags_set_einval_and_store_nothing),
	    cmocka_unit_test(test_errormsg_is_per_thread),
	    cmocka_unit_test(test_log_file_records_chosen_paths_and_errors),
	};
	return cmocka_run_group_tests_name("pmem_copy_api", tests, NULL, NULL);
}
