/*
 * atomic8_tests.c - when the destination and the length are multiples
 * of 8, pmem_memcpy/pmem_memset never write an 8-byte field piecewise.
 *
 * A reader thread loads every 8-byte field with one atomic load while a
 * writer flips the region between all-zero and all-one bytes with
 * libpmem; a torn store (a 1, 2 or 4-byte store into a field) shows up
 * as a field that is neither 0 nor ~0.  This is a race-based test: it
 * cannot prove the property, but byte-wise copies fail it reliably
 * (checked by hand with a byte-loop writer while writing it).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpmem.h>

#include "paths_tests.h"

#define FIELDS 512 /* 4 KiB */
#define ROUNDS 3000

struct race {
	uint64_t *region;
	int done;
	uint64_t torn_value;
	size_t torn_index;
	int torn;
};

static void *reader(void *arg)
{
	struct race *r = arg;
	while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
		for (size_t i = 0; i < FIELDS; i++) {
			uint64_t v = __atomic_load_n(&r->region[i], __ATOMIC_RELAXED);
			if (v != 0 && v != ~(uint64_t)0 &&
			    !__atomic_load_n(&r->torn, __ATOMIC_RELAXED)) {
				r->torn_value = v;
				r->torn_index = i;
				__atomic_store_n(&r->torn, 1, __ATOMIC_RELEASE);
			}
		}
	}
	return NULL;
}

static const unsigned Flags[] = {0, PMEM_F_MEM_NONTEMPORAL, PMEM_F_MEM_TEMPORAL, PMEM_F_MEM_NOFLUSH,
				 PMEM_F_MEM_NODRAIN};

static void run_race(int use_memset)
{
	struct race r = {0};
	uint64_t *zeros = calloc(FIELDS, 8);
	uint64_t *ones = malloc(FIELDS * 8);
	assert_non_null(zeros);
	assert_non_null(ones);
	memset(ones, 0xff, FIELDS * 8);
	assert_int_equal(posix_memalign((void **)&r.region, 64, FIELDS * 8), 0);
	memset(r.region, 0, FIELDS * 8);

	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, reader, &r), 0);
	for (unsigned round = 0; round < ROUNDS && !__atomic_load_n(&r.torn, __ATOMIC_ACQUIRE);
	     round++) {
		unsigned flags = Flags[round % (sizeof(Flags) / sizeof(*Flags))];
		/* 8-aligned starts that are not 16/32/64-aligned, and lengths
		 * from one field to the whole region, on both sides of the
		 * non-temporal threshold and of every vector width. */
		size_t first = (round * 7) % 16;
		size_t count = 1 + (round * 37) % (FIELDS - first);
		uint64_t *dst = r.region + first;
		for (int flip = 0; flip < 2; flip++) {
			int c = flip ? 0xff : 0;
			if (use_memset)
				pmem_memset(dst, c, count * 8, flags);
			else
				pmem_memcpy(dst, flip ? ones : zeros, count * 8, flags);
		}
	}
	__atomic_store_n(&r.done, 1, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);
	if (r.torn)
		fail_msg("%s: field %zu read as 0x%016llx: expected all-zero or all-one bytes "
			 "(a store narrower than 8 bytes)",
			 use_memset ? "pmem_memset" : "pmem_memcpy", r.torn_index,
			 (unsigned long long)r.torn_value);
	free(r.region);
	free(zeros);
	free(ones);
}

void test_memcpy_aligned_fields_are_never_torn(void **state)
{
	(void)state;
	run_race(0);
}

void test_memset_aligned_fields_are_never_torn(void **state)
{
	(void)state;
	run_race(1);
}
