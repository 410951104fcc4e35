/*
 * copy_tests.c - pmem_memmove/pmem_memcpy (all forms and flags) copy
 * exactly the requested bytes: every head and tail misalignment over two
 * pages, every short length at every alignment, and overlapping moves in
 * both directions.  Destination and source sit against PROT_NONE guard
 * pages, so a stray load or store faults instead of passing unseen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <libpmem.h>

#include "guard.h"
#include "paths_tests.h"
#include "variants.h"

#define SPAN 8192      /* two pages */
#define SHORT_MAX 640 /* past 8 AVX-512 vectors, into the 4-line block loop */

struct copy_fixture {
	struct guarded dst;
	struct guarded src;
	char canary[SPAN];
};

static struct copy_fixture *fixture_new(void)
{
	struct copy_fixture *f = test_malloc(sizeof(*f));
	guarded_alloc(&f->dst, SPAN / 4096);
	guarded_alloc(&f->src, SPAN / 4096 + 1);
	fill_pattern(f->src.data, f->src.len, 1);
	fill_pattern(f->canary, SPAN, 2);
	memcpy(f->dst.data, f->canary, SPAN);
	return f;
}

static void fixture_free(struct copy_fixture *f)
{
	guarded_free(&f->dst);
	guarded_free(&f->src);
	test_free(f);
}

/* Checks dst window [lo, hi) of the fixture: canary outside [at, at+len),
 * src inside; then restores the canary there. */
static void check_window(struct copy_fixture *f, const char *what, size_t lo, size_t hi, size_t at,
			 const char *src, size_t len)
{
	char *d = f->dst.data;
	long bad = first_difference(d + lo, f->canary + lo, at - lo);
	if (bad >= 0)
		fail_msg("%s: byte %ld before the destination changed (expected canary 0x%02x, "
			 "found 0x%02x)",
			 what, (long)(at - lo) - bad, (unsigned char)f->canary[lo + (size_t)bad],
			 (unsigned char)d[lo + (size_t)bad]);
	bad = first_difference(d + at, src, len);
	if (bad >= 0)
		fail_msg("%s: destination byte %ld: expected 0x%02x from the source, found 0x%02x",
			 what, bad, (unsigned char)src[bad], (unsigned char)d[at + (size_t)bad]);
	bad = first_difference(d + at + len, f->canary + at + len, hi - at - len);
	if (bad >= 0)
		fail_msg("%s: byte %ld after the destination changed (expected canary 0x%02x, "
			 "found 0x%02x)",
			 what, bad, (unsigned char)f->canary[at + len + (size_t)bad],
			 (unsigned char)d[at + len + (size_t)bad]);
	memcpy(d + lo, f->canary + lo, hi - lo);
}

/* Source placed against the lower guard (odd) or the upper guard (even). */
static const char *source_for(struct copy_fixture *f, size_t len, size_t misalign, int odd)
{
	if (odd)
		return f->src.data + misalign;
	return f->src.data + f->src.len - len - misalign;
}

void test_memcpy_every_head_and_tail_misalignment(void **state)
{
	(void)state;
	struct copy_fixture *f = fixture_new();
	const struct move_variant *v;
	size_t nv = move_variants(&v);
	char what[160];

	for (size_t i = 0; i < nv; i++) {
		for (size_t head = 0; head < 64; head++) {
			for (size_t tail = 0; tail < 64; tail++) {
				size_t len = SPAN - head - tail;
				size_t sm = (head * 5 + tail * 3) & 63;
				const char *src = source_for(f, len, sm, (int)((head + tail) & 1));
				char *dst = f->dst.data + head;
				void *ret = v[i].fn(dst, src, len, v[i].flags);
				snprintf(what, sizeof(what),
					 "%s head %zu tail %zu src misalign %zu", v[i].name, head,
					 tail, sm);
				if (ret != dst)
					fail_msg("%s: returned %p, expected the destination %p",
						 what, ret, (void *)dst);
				check_window(f, what, 0, SPAN, head, src, len);
			}
		}
	}
	fixture_free(f);
}

void test_memcpy_every_short_length_and_alignment(void **state)
{
	(void)state;
	struct copy_fixture *f = fixture_new();
	const struct move_variant *v;
	size_t nv = move_variants(&v);
	char what[160];

	for (size_t i = 0; i < nv; i++) {
		for (size_t len = 0; len <= SHORT_MAX; len++) {
			for (size_t a = 0; a < 64; a++) {
				const char *src = source_for(f, len, (a * 7) & 63, (int)(a & 1));
				/* against the lower guard, then against the upper one */
				size_t at[2] = {a, SPAN - len - a};
				for (int p = 0; p < 2; p++) {
					size_t lo = at[p] >= 64 ? at[p] - 64 : 0;
					size_t hi =
					    at[p] + len + 64 <= SPAN ? at[p] + len + 64 : SPAN;
					v[i].fn(f->dst.data + at[p], src, len, v[i].flags);
					snprintf(what, sizeof(what), "%s len %zu at offset %zu",
						 v[i].name, len, at[p]);
					check_window(f, what, lo, hi, at[p], src, len);
				}
			}
		}
	}
	fixture_free(f);
}

static const size_t Overlap_shifts[] = {1,   2,	  3,   7,   8,	 9,   15,   16,	  17,
					31,  32,  33,  63,  64,	 65,  127,  128,  129,
					255, 256, 257, 511, 512, 513, 1000, 2047, 4095};
static const size_t Overlap_lengths[] = {1,   2,   7,	8,   9,	  15,	16,   17,   31,	 32,
					 33,  63,  64,	65,  100, 127,	128,  129,  255, 256,
					 257, 511, 512, 513, 700, 1024, 2048, 3000, 4000};
static const size_t Overlap_starts[] = {0, 1, 8, 13, 40, 63};

void test_memmove_overlapping_both_directions(void **state)
{
	(void)state;
	struct copy_fixture *f = fixture_new();
	const struct move_variant *v;
	size_t nv = move_variants(&v);
	char *expect = test_malloc(SPAN);

	for (size_t i = 0; i < nv; i++) {
		if (strncmp(v[i].name, "pmem_memmove", 12) != 0)
			continue;
		for (size_t s = 0; s < sizeof(Overlap_shifts) / sizeof(*Overlap_shifts); s++)
			for (size_t l = 0; l < sizeof(Overlap_lengths) / sizeof(*Overlap_lengths);
			     l++)
				for (size_t o = 0;
				     o < sizeof(Overlap_starts) / sizeof(*Overlap_starts); o++)
					for (int down = 0; down < 2; down++) {
						size_t shift = Overlap_shifts[s],
						       len = Overlap_lengths[l];
						size_t lowest = 64 + Overlap_starts[o];
						if (lowest + shift + len > SPAN)
							continue;
						/* dst above src (copies downward) or below it
						 * (upward) */
						size_t src_at = down ? lowest : lowest + shift;
						size_t dst_at = down ? lowest + shift : lowest;
						char *d = f->dst.data;
						memcpy(expect, d, SPAN);
						memmove(expect + dst_at, expect + src_at, len);
						v[i].fn(d + dst_at, d + src_at, len, v[i].flags);
						long bad = first_difference(d, expect, SPAN);
						if (bad >= 0)
							fail_msg("%s: move of %zu bytes from "
								 "offset %zu to %zu: byte at "
								 "offset %ld expected 0x%02x, "
								 "found 0x%02x",
								 v[i].name, len, src_at, dst_at,
								 bad, (unsigned char)expect[bad],
								 (unsigned char)d[bad]);
						memcpy(d, f->canary, SPAN);
					}
	}
	test_free(expect);
	fixture_free(f);
}

void test_memmove_same_address_and_zero_length_are_noops(void **state)
{
	(void)state;
	struct copy_fixture *f = fixture_new();
	const struct move_variant *v;
	size_t nv = move_variants(&v);

	for (size_t i = 0; i < nv; i++) {
		char *d = f->dst.data + 5;
		void *ret = v[i].fn(d, d, 1000, v[i].flags);
		if (ret != d || first_difference(f->dst.data, f->canary, SPAN) >= 0)
			fail_msg("%s: move onto itself returned %p (expected %p) or changed data",
				 v[i].name, ret, (void *)d);
		ret = v[i].fn(d, f->src.data, 0, v[i].flags);
		if (ret != d || first_difference(f->dst.data, f->canary, SPAN) >= 0)
			fail_msg("%s: zero-length copy returned %p (expected %p) or changed data",
				 v[i].name, ret, (void *)d);
		/* PMDK accepts NULL pointers with a zero length. */
		ret = v[i].fn(NULL, NULL, 0, v[i].flags);
		if (ret != NULL)
			fail_msg("%s(NULL, NULL, 0): returned %p, expected NULL", v[i].name, ret);
	}
	fixture_free(f);
}
