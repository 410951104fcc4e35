/*
 * dispatch_tests.c - the paths libpmem chose at load match the CPU and
 * the environment this test binary runs under (meson registers it once
 * per setting).  The expectation is worked out independently: the
 * compiler's __builtin_cpu_supports (which also checks XCR0) and raw
 * CPUID, not libpmem's cpu.c.
 */
#include <cpuid.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "paths_tests.h"
#include "pmem_test_queries.h"

static int env_is(const char *name, const char *value)
{
	const char *text = getenv(name);
	return text != NULL && strcmp(text, value) == 0;
}

static const char *expected_copy_isa(void)
{
	if (env_is("PMEM_NO_MOVNT", "1"))
		return "generic";
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && !env_is("PMEM_AVX512F", "0"))
		return "avx512f";
	if (__builtin_cpu_supports("avx2") && !env_is("PMEM_AVX", "0"))
		return "avx2";
	return "sse2";
}

static const char *expected_cpu_flush(void)
{
	unsigned eax, ebx = 0, ecx, edx;
	if (__get_cpuid_max(0, NULL) >= 7)
		__cpuid_count(7, 0, eax, ebx, ecx, edx);
	if ((ebx & (1u << 24)) && !env_is("PMEM_NO_CLWB", "1"))
		return "clwb";
	if ((ebx & (1u << 23)) && !env_is("PMEM_NO_CLFLUSHOPT", "1"))
		return "clflushopt";
	return "clflush";
}

void test_copy_isa_matches_cpu_and_environment(void **state)
{
	(void)state;
	const char *expected = expected_copy_isa();
	const char *found = pmemfs_test_memcpy_name();
	if (strcmp(expected, found) != 0)
		fail_msg("copy ISA: expected %s, libpmem chose %s", expected, found);
}

void test_flush_instruction_matches_cpu_and_environment(void **state)
{
	(void)state;
	const char *found = pmemfs_test_flush_name();
	int needed = pmemfs_test_flush_needed();
	const char *expected;

	if (env_is("PMEM_NO_FLUSH", "1"))
		expected = "none";
	else if (env_is("PMEM_NO_FLUSH", "0") || needed)
		expected = expected_cpu_flush();
	else
		expected = "none"; /* eADR detected: not checkable independently */
	if (strcmp(expected, found) != 0)
		fail_msg("flush instruction: expected %s, libpmem chose %s", expected, found);
	int expected_needed = strcmp(expected, "none") != 0;
	if (needed != expected_needed)
		fail_msg("flush needed: expected %d, found %d", expected_needed, needed);
}

/* A plain non-negative decimal is taken; anything else keeps 256. */
static size_t expected_threshold(void)
{
	const char *text = getenv("PMEM_MOVNT_THRESHOLD");
	if (text == NULL || *text == '\0')
		return 256;
	size_t value = 0;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return 256;
		value = value * 10 + (size_t)(*p - '0');
	}
	return value;
}

void test_movnt_threshold_matches_environment(void **state)
{
	(void)state;
	size_t expected = expected_threshold();
	size_t found = pmemfs_test_movnt_threshold();
	if (found != expected)
		fail_msg("movnt threshold: expected %zu, found %zu", expected, found);
}
