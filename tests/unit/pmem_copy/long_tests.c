/*
 * long_tests.c - copies and fills of megabytes, the range where the block
 * loops run for many pages (and warm the page walk ahead of the stores):
 * every move and set entry point, misaligned heads and tails, overlapping
 * moves in both directions by small and page-crossing shifts.  The buffers
 * end against PROT_NONE guard pages, so a store past the end of the range
 * faults (a prefetch there is dropped silently, as it must be).
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

#define LONG_PAGES 770 /* a little over 3 MiB */

static const size_t Long_lengths[] = {40000, (1u << 20) + 3 * 4096 + 5,
				      LONG_PAGES * 4096 - 4096 - 37};
static const size_t Long_heads[] = {0, 13, 64};

static void expect_same(const char *what, const char *found, const char *expect, size_t len)
{
	long bad = first_difference(found, expect, len);

	if (bad >= 0)
		fail_msg("%s: byte %ld: expected 0x%02x, found 0x%02x", what, bad,
			 (unsigned char)expect[bad], (unsigned char)found[bad]);
}

void test_long_copies_and_fills(void **state)
{
	(void)state;
	struct guarded dst, src;
	const struct move_variant *mv;
	const struct set_variant *sv;
	size_t nm = move_variants(&mv), ns = set_variants(&sv);
	char *expect = test_malloc(LONG_PAGES * 4096);
	char what[160];

	guarded_alloc(&dst, LONG_PAGES);
	guarded_alloc(&src, LONG_PAGES);
	fill_pattern(src.data, src.len, 3);
	for (size_t l = 0; l < sizeof(Long_lengths) / sizeof(*Long_lengths); l++)
		for (size_t h = 0; h < sizeof(Long_heads) / sizeof(*Long_heads); h++) {
			size_t len = Long_lengths[l], head = Long_heads[h];
			/* the range ends at the upper guard: nothing past it is mapped */
			char *d = dst.data + dst.len - len - head % 7;
			const char *s = src.data + head;

			for (size_t i = 0; i < nm; i++) {
				memset(dst.data, 0x5a, dst.len);
				mv[i].fn(d, s, len, mv[i].flags);
				snprintf(what, sizeof(what), "%s of %zu bytes, head %zu", mv[i].name,
					 len, head);
				expect_same(what, d, s, len);
			}
			for (size_t i = 0; i < ns; i++) {
				memset(dst.data, 0x5a, dst.len);
				memset(expect, 0xc3, len);
				sv[i].fn(d, 0xc3, len, sv[i].flags);
				snprintf(what, sizeof(what), "%s of %zu bytes, head %zu", sv[i].name,
					 len, head);
				expect_same(what, d, expect, len);
			}
		}
	guarded_free(&src);
	guarded_free(&dst);
	test_free(expect);
}

void test_long_overlapping_moves(void **state)
{
	(void)state;
	static const size_t shifts[] = {1, 64, 4096 + 3, 1u << 20};
	const struct move_variant *mv;
	size_t nm = move_variants(&mv);
	struct guarded buf;
	char *expect = test_malloc(LONG_PAGES * 4096);
	char what[160];

	guarded_alloc(&buf, LONG_PAGES);
	for (size_t i = 0; i < nm; i++) {
		if (strncmp(mv[i].name, "pmem_memmove", 12) != 0)
			continue;
		for (size_t s = 0; s < sizeof(shifts) / sizeof(*shifts); s++)
			for (int down = 0; down < 2; down++) {
				size_t shift = shifts[s], len = buf.len - shift - 100;
				size_t src_at = down ? 50 : 50 + shift;
				size_t dst_at = down ? 50 + shift : 50;

				fill_pattern(buf.data, buf.len, (unsigned)(s + 5));
				memcpy(expect, buf.data, buf.len);
				memmove(expect + dst_at, expect + src_at, len);
				mv[i].fn(buf.data + dst_at, buf.data + src_at, len, mv[i].flags);
				snprintf(what, sizeof(what), "%s of %zu bytes by %s%zu", mv[i].name,
					 len, down ? "+" : "-", shift);
				expect_same(what, buf.data, expect, buf.len);
			}
	}
	guarded_free(&buf);
	test_free(expect);
}
