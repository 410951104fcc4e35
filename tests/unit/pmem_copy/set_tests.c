/*
 * set_tests.c - pmem_memset (all forms and flags) sets exactly the
 * requested bytes: every head and tail misalignment over two pages and
 * every short length at every alignment, against PROT_NONE guard pages.
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

#define SPAN 8192
#define SHORT_MAX 640

static long first_not(const char *p, size_t len, char c)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != c)
			return (long)i;
	return -1;
}

/* Checks [lo, hi): canary outside [at, at+len), c inside; restores. */
static void check_set(char *d, const char *canary, const char *what, size_t lo, size_t hi,
		      size_t at, size_t len, int c)
{
	long bad = first_difference(d + lo, canary + lo, at - lo);
	if (bad >= 0)
		fail_msg("%s: byte %ld before the destination changed (expected 0x%02x, found "
			 "0x%02x)",
			 what, (long)(at - lo) - bad, (unsigned char)canary[lo + (size_t)bad],
			 (unsigned char)d[lo + (size_t)bad]);
	bad = first_not(d + at, len, (char)c);
	if (bad >= 0)
		fail_msg("%s: byte %ld: expected 0x%02x, found 0x%02x", what, bad, (unsigned char)c,
			 (unsigned char)d[at + (size_t)bad]);
	bad = first_difference(d + at + len, canary + at + len, hi - at - len);
	if (bad >= 0)
		fail_msg("%s: byte %ld after the destination changed (expected 0x%02x, found "
			 "0x%02x)",
			 what, bad, (unsigned char)canary[at + len + (size_t)bad],
			 (unsigned char)d[at + len + (size_t)bad]);
	memcpy(d + lo, canary + lo, hi - lo);
}

void test_memset_every_head_and_tail_misalignment(void **state)
{
	(void)state;
	struct guarded g;
	char *canary = test_malloc(SPAN);
	const struct set_variant *v;
	size_t nv = set_variants(&v);
	char what[160];

	guarded_alloc(&g, SPAN / 4096);
	fill_pattern(canary, SPAN, 3);
	memcpy(g.data, canary, SPAN);
	for (size_t i = 0; i < nv; i++) {
		for (size_t head = 0; head < 64; head++) {
			for (size_t tail = 0; tail < 64; tail++) {
				size_t len = SPAN - head - tail;
				int c = (int)((head * 64 + tail + i) & 0xff);
				void *ret = v[i].fn(g.data + head, c, len, v[i].flags);
				snprintf(what, sizeof(what), "%s head %zu tail %zu value 0x%02x",
					 v[i].name, head, tail, c);
				if (ret != g.data + head)
					fail_msg("%s: returned %p, expected the destination %p",
						 what, ret, (void *)(g.data + head));
				check_set(g.data, canary, what, 0, SPAN, head, len, c);
			}
		}
	}
	guarded_free(&g);
	test_free(canary);
}

void test_memset_every_short_length_and_alignment(void **state)
{
	(void)state;
	struct guarded g;
	char *canary = test_malloc(SPAN);
	const struct set_variant *v;
	size_t nv = set_variants(&v);
	char what[160];

	guarded_alloc(&g, SPAN / 4096);
	fill_pattern(canary, SPAN, 4);
	memcpy(g.data, canary, SPAN);
	for (size_t i = 0; i < nv; i++) {
		for (size_t len = 0; len <= SHORT_MAX; len++) {
			for (size_t a = 0; a < 64; a++) {
				size_t at[2] = {a, SPAN - len - a};
				int c = (int)((len + a * 3) & 0xff);
				for (int p = 0; p < 2; p++) {
					size_t lo = at[p] >= 64 ? at[p] - 64 : 0;
					size_t hi =
					    at[p] + len + 64 <= SPAN ? at[p] + len + 64 : SPAN;
					v[i].fn(g.data + at[p], c, len, v[i].flags);
					snprintf(what, sizeof(what), "%s len %zu at offset %zu",
						 v[i].name, len, at[p]);
					check_set(g.data, canary, what, lo, hi, at[p], len, c);
				}
			}
		}
	}
	guarded_free(&g);
	test_free(canary);
}

void test_memset_zero_length_is_noop(void **state)
{
	(void)state;
	const struct set_variant *v;
	size_t nv = set_variants(&v);
	char buf[16] = "unchanged";

	for (size_t i = 0; i < nv; i++) {
		void *ret = v[i].fn(buf, 'x', 0, v[i].flags);
		if (ret != buf || strcmp(buf, "unchanged") != 0)
			fail_msg("%s: zero-length set returned %p (expected %p) or wrote \"%s\"",
				 v[i].name, ret, (void *)buf, buf);
		ret = v[i].fn(NULL, 'x', 0, v[i].flags);
		if (ret != NULL)
			fail_msg("%s(NULL, c, 0): returned %p, expected NULL", v[i].name, ret);
	}
}
