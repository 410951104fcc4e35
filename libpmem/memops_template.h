/*
 * memops_template.h - the one body of pmem_memmove/pmem_memset, expanded
 * once per instruction set (memops_sse2.c, memops_avx2.c,
 * memops_avx512.c) so that the three stay in step.
 *
 * The including file compiles with its ISA's -m flag and defines, before
 * including this header:
 *   MEMOPS_ISA          name suffix (sse2, avx2, avx512f)
 *   vec_t, VEC_SIZE     the widest vector and its size (16, 32, 64)
 *   vec_loadu(p)        unaligned load
 *   vec_store(p, v)     aligned temporal store
 *   vec_storeu(p, v)    unaligned temporal store
 *   vec_stream(p, v)    aligned non-temporal store
 *   vec_set1(c)         the byte c in every lane
 *
 * Shape of every operation, for both temporal and non-temporal stores:
 *   - up to 8 vectors: load everything, then store with overlapping
 *     pairs (so any overlap of src and dst is safe);
 *   - longer: the partial first cache line with the short routine, whole
 *     cache lines with vector stores in walk order (4 lines per step
 *     for copies, each line loaded completely before it is stored; 8 per
 *     step for fills), the partial last line with the short routine.
 *     memmove walks up when dst is below src or the ranges do not
 *     overlap, and down otherwise.
 *
 * 8-byte atomicity: when dst and len are both multiples of 8, every store
 * is 8 bytes or wider and begins at dst + a multiple of 8 (the overlapping
 * pairs end at dst + len, itself a multiple of 8), so no aligned 8-byte
 * field is ever written piecewise.  1, 2 and 4-byte stores happen only
 * when dst or len is not a multiple of 8.
 *
 * Non-temporal stores bypass the cache, so only the partial first and
 * last lines (written with ordinary stores) are flushed; temporal paths
 * flush the whole range afterwards.  In CLFLUSH mode pmem_drain() issues
 * no fence, so the NT path fences itself (fence_after_nt).
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "libpmem.h"
#include "memops.h"
#include "pmem_internal.h"

#define MEMOPS_CAT2(a, b) a##_##b
#define MEMOPS_CAT(a, b) MEMOPS_CAT2(a, b)
#define MEMOPS_FN(name) MEMOPS_CAT(name, MEMOPS_ISA)

#define MEMOPS_INLINE static inline __attribute__((always_inline))

typedef uint16_t u16_any __attribute__((aligned(1), may_alias));
typedef uint32_t u32_any __attribute__((aligned(1), may_alias));
typedef uint64_t u64_any __attribute__((aligned(1), may_alias));

#define LINE PMEM_CACHELINE
#define VECS_PER_LINE (LINE / VEC_SIZE)

_Static_assert(VEC_SIZE == 16 || VEC_SIZE == 32 || VEC_SIZE == 64, "vector size");

/* ---- short copies: len <= 8 vectors, all loads before any store -------- */

MEMOPS_INLINE void copy_upto16(char *d, const char *s, size_t len)
{
	if (len >= 8) {
		uint64_t a = *(const u64_any *)s;
		uint64_t b = *(const u64_any *)(s + len - 8);
		*(u64_any *)d = a;
		*(u64_any *)(d + len - 8) = b;
	} else if (len >= 4) {
		uint32_t a = *(const u32_any *)s;
		uint32_t b = *(const u32_any *)(s + len - 4);
		*(u32_any *)d = a;
		*(u32_any *)(d + len - 4) = b;
	} else if (len >= 2) {
		uint16_t a = *(const u16_any *)s;
		uint16_t b = *(const u16_any *)(s + len - 2);
		*(u16_any *)d = a;
		*(u16_any *)(d + len - 2) = b;
	} else if (len == 1) {
		*d = *s;
	}
}

MEMOPS_INLINE void copy_short(char *d, const char *s, size_t len)
{
	if (len <= 16) {
		copy_upto16(d, s, len);
		return;
	}
	if (len <= 32) {
		__m128i a = _mm_loadu_si128((const __m128i *)s);
		__m128i b = _mm_loadu_si128((const __m128i *)(s + len - 16));
		_mm_storeu_si128((__m128i *)d, a);
		_mm_storeu_si128((__m128i *)(d + len - 16), b);
		return;
	}
#if VEC_SIZE >= 32
	if (len <= 64) {
		__m256i a = _mm256_loadu_si256((const __m256i *)s);
		__m256i b = _mm256_loadu_si256((const __m256i *)(s + len - 32));
		_mm256_storeu_si256((__m256i *)d, a);
		_mm256_storeu_si256((__m256i *)(d + len - 32), b);
		return;
	}
#endif
#if VEC_SIZE >= 64
	if (len <= 128) {
		vec_t a = vec_loadu(s);
		vec_t b = vec_loadu(s + len - 64);
		_mm512_storeu_si512((void *)d, a);
		_mm512_storeu_si512((void *)(d + len - 64), b);
		return;
	}
#endif
	if (len <= 4 * VEC_SIZE) {
		vec_t a = vec_loadu(s);
		vec_t b = vec_loadu(s + VEC_SIZE);
		vec_t c = vec_loadu(s + len - 2 * VEC_SIZE);
		vec_t e = vec_loadu(s + len - VEC_SIZE);
		vec_storeu(d, a);
		vec_storeu(d + VEC_SIZE, b);
		vec_storeu(d + len - 2 * VEC_SIZE, c);
		vec_storeu(d + len - VEC_SIZE, e);
		return;
	}
	/* 4 < len / VEC_SIZE <= 8 */
	vec_t a0 = vec_loadu(s);
	vec_t a1 = vec_loadu(s + VEC_SIZE);
	vec_t a2 = vec_loadu(s + 2 * VEC_SIZE);
	vec_t a3 = vec_loadu(s + 3 * VEC_SIZE);
	vec_t b0 = vec_loadu(s + len - 4 * VEC_SIZE);
	vec_t b1 = vec_loadu(s + len - 3 * VEC_SIZE);
	vec_t b2 = vec_loadu(s + len - 2 * VEC_SIZE);
	vec_t b3 = vec_loadu(s + len - VEC_SIZE);
	vec_storeu(d, a0);
	vec_storeu(d + VEC_SIZE, a1);
	vec_storeu(d + 2 * VEC_SIZE, a2);
	vec_storeu(d + 3 * VEC_SIZE, a3);
	vec_storeu(d + len - 4 * VEC_SIZE, b0);
	vec_storeu(d + len - 3 * VEC_SIZE, b1);
	vec_storeu(d + len - 2 * VEC_SIZE, b2);
	vec_storeu(d + len - VEC_SIZE, b3);
}

/* ---- whole cache lines: d is 64-byte aligned ----------------------------- */

/*
 * Stores go out in address order: STORE_ORDER after each one keeps the
 * compiler from permuting them (gcc did permute an unrolled memset block),
 * so the write-combining buffers fill line after line as PMDK's do.
 */
#define STORE_ORDER() __asm__ volatile("" ::: "memory")
/* n is a constant: the loops over it must become straight code. */
#define UNROLLED _Pragma("GCC unroll 32")

/*
 * The copy loops load each line completely before storing it (so a line
 * may overlap its own source in either direction), four lines per step.
 * Loading more ahead, as PMDK does (32 lines for AVX-512), measured no
 * faster at 64 KiB and slower from 2 MiB up on AMD EPYC (Zen 5; bench/
 * pmem_ab): 4 lines ahead cost 2-12 % at 2 MiB and 3-16 % at 32 MiB, 32
 * lines ~35 % at 32 MiB, where the source comes from DRAM and a burst of
 * load misses holds back the stores behind it.  (With the warm-up below,
 * 4 lines ahead measured the same as 1.)  The fills have no loads and
 * store 8 lines per step.
 */
#define SET_GROUP (8 * LINE)

/*
 * Page-walk warm-up.  Streaming stores also need the destination page's
 * translation; with 4 KiB pages a long stream misses the TLB on every
 * page, and in a virtual machine each miss is a two-dimensional page walk
 * that the stores queue behind.  So once per destination page the loops
 * prefetch a line WARM_AHEAD bytes further on, inside the range being
 * written: the walk then overlaps the streaming of the pages before it.
 * A prefetch never faults; the line it brings in is invalidated by the
 * streaming store that follows.  Measured on the AMD EPYC guest with
 * bench/pmem_ab: 2 MiB copies and fills 4-30 % faster than without it,
 * depending on the other load on the machine, 64 KiB unchanged within
 * 2 %; 1 page ahead and 2, NTA, T0 and T2 hints measured alike.
 */
#define PAGE 4096
#define WARM_AHEAD (2 * PAGE)

/* Once per page: the step of size step that starts in the page's first
 * step bytes; left is what remains to be written beyond d (up) or below d
 * (down). */
MEMOPS_INLINE void warm_up(const char *d, size_t left, size_t step)
{
	if (((uintptr_t)d & (PAGE - 1)) < step && left > WARM_AHEAD)
		_mm_prefetch(d + WARM_AHEAD, _MM_HINT_NTA);
}

MEMOPS_INLINE void warm_down(const char *d, size_t left, size_t step)
{
	if (((uintptr_t)d & (PAGE - 1)) < step && left >= WARM_AHEAD)
		_mm_prefetch(d - WARM_AHEAD, _MM_HINT_NTA);
}

/* One line, all loads before the first store. */
#define COPY_LINE(d, s, STORE)                                                                     \
	do {                                                                                       \
		vec_t v_[VECS_PER_LINE];                                                           \
		UNROLLED                                                                           \
		for (int i_ = 0; i_ < VECS_PER_LINE; i_++)                                         \
			v_[i_] = vec_loadu((s) + i_ * VEC_SIZE);                                   \
		UNROLLED                                                                           \
		for (int i_ = 0; i_ < VECS_PER_LINE; i_++) {                                       \
			STORE((d) + i_ * VEC_SIZE, v_[i_]);                                        \
			STORE_ORDER();                                                             \
		}                                                                                  \
	} while (0)

/* Four lines per step, each loaded completely before it is stored. */
#define STEP (4 * LINE)

#define DEFINE_LINES(name, STORE)                                                                  \
	MEMOPS_INLINE void name##_up(char *d, const char *s, size_t len)                           \
	{                                                                                          \
		for (; len >= STEP; len -= STEP, d += STEP, s += STEP) {                           \
			warm_up(d, len, STEP);                                                     \
			UNROLLED                                                                   \
			for (int l_ = 0; l_ < STEP / LINE; l_++)                                   \
				COPY_LINE(d + l_ * LINE, s + l_ * LINE, STORE);                    \
		}                                                                                  \
		for (; len >= LINE; len -= LINE, d += LINE, s += LINE)                             \
			COPY_LINE(d, s, STORE);                                                    \
	}                                                                                          \
	/* d and s point past the end; copies len bytes below them. */                             \
	MEMOPS_INLINE void name##_down(char *d, const char *s, size_t len)                         \
	{                                                                                          \
		for (; len >= STEP; len -= STEP) {                                                 \
			d -= STEP;                                                                 \
			s -= STEP;                                                                 \
			warm_down(d, len - STEP, STEP);                                            \
			UNROLLED                                                                   \
			for (int l_ = STEP / LINE - 1; l_ >= 0; l_--)                              \
				COPY_LINE(d + l_ * LINE, s + l_ * LINE, STORE);                    \
		}                                                                                  \
		for (; len >= LINE; len -= LINE) {                                                 \
			d -= LINE;                                                                 \
			s -= LINE;                                                                 \
			COPY_LINE(d, s, STORE);                                                    \
		}                                                                                  \
	}

DEFINE_LINES(lines_temporal, vec_store)
DEFINE_LINES(lines_nt, vec_stream)

/*
 * Copies len > 8 vectors.  nt selects streaming stores for the whole
 * lines; the partial first and last lines always use ordinary stores and
 * are flushed here when nt (the caller flushes everything otherwise).
 */
MEMOPS_INLINE void move_long(char *d, const char *s, size_t len, int nt, enum pmem_flush_kind kind)
{
	if ((uintptr_t)d - (uintptr_t)s >= len) {
		size_t head = (size_t)(-(uintptr_t)d & (LINE - 1));
		if (head != 0) {
			copy_short(d, s, head);
			if (nt)
				pmem_flush_lines(kind, d, head);
			d += head;
			s += head;
			len -= head;
		}
		size_t body = len & ~(size_t)(LINE - 1);
		if (nt)
			lines_nt_up(d, s, body);
		else
			lines_temporal_up(d, s, body);
		d += body;
		s += body;
		len -= body;
		if (len != 0) {
			copy_short(d, s, len);
			if (nt)
				pmem_flush_lines(kind, d, len);
		}
	} else {
		char *de = d + len;
		const char *se = s + len;
		size_t tail = (size_t)((uintptr_t)de & (LINE - 1));
		if (tail != 0) {
			de -= tail;
			se -= tail;
			len -= tail;
			copy_short(de, se, tail);
			if (nt)
				pmem_flush_lines(kind, de, tail);
		}
		size_t body = len & ~(size_t)(LINE - 1);
		if (nt)
			lines_nt_down(de, se, body);
		else
			lines_temporal_down(de, se, body);
		len -= body;
		if (len != 0) {
			copy_short(d, s, len);
			if (nt)
				pmem_flush_lines(kind, d, len);
		}
	}
}

/* ---- memset -------------------------------------------------------------- */

MEMOPS_INLINE void set_short(char *d, int c, size_t len)
{
	uint64_t pattern = 0x0101010101010101ull * (uint8_t)c;
	if (len <= 16) {
		if (len >= 8) {
			*(u64_any *)d = pattern;
			*(u64_any *)(d + len - 8) = pattern;
		} else if (len >= 4) {
			*(u32_any *)d = (uint32_t)pattern;
			*(u32_any *)(d + len - 4) = (uint32_t)pattern;
		} else if (len >= 2) {
			*(u16_any *)d = (uint16_t)pattern;
			*(u16_any *)(d + len - 2) = (uint16_t)pattern;
		} else if (len == 1) {
			*d = (char)c;
		}
		return;
	}
	if (len <= 32) {
		__m128i v = _mm_set1_epi8((char)c);
		_mm_storeu_si128((__m128i *)d, v);
		_mm_storeu_si128((__m128i *)(d + len - 16), v);
		return;
	}
	vec_t v = vec_set1(c);
#if VEC_SIZE >= 32
	if (len <= 64) {
		__m256i h = _mm256_set1_epi8((char)c);
		_mm256_storeu_si256((__m256i *)d, h);
		_mm256_storeu_si256((__m256i *)(d + len - 32), h);
		return;
	}
#endif
	if (len <= 2 * VEC_SIZE) {
		vec_storeu(d, v);
		vec_storeu(d + len - VEC_SIZE, v);
		return;
	}
	if (len <= 4 * VEC_SIZE) {
		vec_storeu(d, v);
		vec_storeu(d + VEC_SIZE, v);
		vec_storeu(d + len - 2 * VEC_SIZE, v);
		vec_storeu(d + len - VEC_SIZE, v);
		return;
	}
	for (int i = 0; i < 4; i++) {
		vec_storeu(d + i * VEC_SIZE, v);
		vec_storeu(d + len - (size_t)(i + 1) * VEC_SIZE, v);
	}
}

/* n vectors of v from d up, in address order. */
#define SET_VECS(d, v, n, STORE)                                                                   \
	do {                                                                                       \
		UNROLLED                                                                           \
		for (int i_ = 0; i_ < (n); i_++) {                                                 \
			STORE((d) + i_ * VEC_SIZE, v);                                             \
			STORE_ORDER();                                                             \
		}                                                                                  \
	} while (0)

#define DEFINE_SET_LINES(name, STORE)                                                              \
	MEMOPS_INLINE void name(char *d, vec_t v, size_t len)                                      \
	{                                                                                          \
		for (; len >= SET_GROUP; len -= SET_GROUP, d += SET_GROUP) {                       \
			warm_up(d, len, SET_GROUP);                                                \
			SET_VECS(d, v, SET_GROUP / VEC_SIZE, STORE);                               \
		}                                                                                  \
		for (; len >= LINE; len -= LINE, d += LINE)                                        \
			SET_VECS(d, v, VECS_PER_LINE, STORE);                                      \
	}

DEFINE_SET_LINES(set_lines_temporal, vec_store)
DEFINE_SET_LINES(set_lines_nt, vec_stream)

MEMOPS_INLINE void set_long(char *d, int c, size_t len, int nt, enum pmem_flush_kind kind)
{
	size_t head = (size_t)(-(uintptr_t)d & (LINE - 1));
	if (head != 0) {
		set_short(d, c, head);
		if (nt)
			pmem_flush_lines(kind, d, head);
		d += head;
		len -= head;
	}
	size_t body = len & ~(size_t)(LINE - 1);
	vec_t v = vec_set1(c);
	if (nt)
		set_lines_nt(d, v, body);
	else
		set_lines_temporal(d, v, body);
	d += body;
	len -= body;
	if (len != 0) {
		set_short(d, c, len);
		if (nt)
			pmem_flush_lines(kind, d, len);
	}
}

/* ---- entry points: the flag logic of PMDK's memmove_nodrain ------------- */

#define SHORT_MAX (8 * VEC_SIZE)

/*
 * Non-temporal for WC/NONTEMPORAL, temporal for WB/TEMPORAL, otherwise by
 * the threshold.  When flushing is off (eADR, PMEM_NO_FLUSH=1) only an
 * explicit NONTEMPORAL/WC request streams: the cache is already
 * persistent, so a cached store is the cheaper way there.  (PMDK's eADR
 * path streams for NONTEMPORAL only; WC asks for write-combining, that is
 * streaming, stores, so we honour it too.)
 */
MEMOPS_INLINE int want_nt(size_t len, unsigned flags, enum pmem_flush_kind kind)
{
	if (flags & (PMEM_F_MEM_NONTEMPORAL | PMEM_F_MEM_WC))
		return 1;
	if (kind == PMEM_FLUSH_NONE || (flags & (PMEM_F_MEM_TEMPORAL | PMEM_F_MEM_WB)))
		return 0;
	return len >= Pmem_funcs.movnt_threshold;
}

void *MEMOPS_FN(pmem_memmove)(void *dst, const void *src, size_t len, unsigned flags)
{
	char *d = dst;
	const char *s = src;
	if (len == 0 || d == s)
		return dst;

	enum pmem_flush_kind kind = Pmem_funcs.flush_kind;
	if (flags & PMEM_F_MEM_NOFLUSH) {
		if (len <= SHORT_MAX)
			copy_short(d, s, len);
		else
			move_long(d, s, len, 0, kind);
		return dst;
	}
	if (want_nt(len, flags, kind)) {
		if (len <= LINE) {
			/* Less than a line: nothing to stream. */
			copy_short(d, s, len);
			pmem_flush_lines(kind, d, len);
		} else {
			move_long(d, s, len, 1, kind);
			if (Pmem_funcs.fence_after_nt)
				pmem_sfence();
		}
		return dst;
	}
	if (len <= SHORT_MAX)
		copy_short(d, s, len);
	else
		move_long(d, s, len, 0, kind);
	pmem_flush_lines(kind, d, len);
	return dst;
}

void *MEMOPS_FN(pmem_memset)(void *dst, int c, size_t len, unsigned flags)
{
	char *d = dst;
	if (len == 0)
		return dst;

	enum pmem_flush_kind kind = Pmem_funcs.flush_kind;
	if (flags & PMEM_F_MEM_NOFLUSH) {
		if (len <= SHORT_MAX)
			set_short(d, c, len);
		else
			set_long(d, c, len, 0, kind);
		return dst;
	}
	if (want_nt(len, flags, kind)) {
		if (len <= LINE) {
			set_short(d, c, len);
			pmem_flush_lines(kind, d, len);
		} else {
			set_long(d, c, len, 1, kind);
			if (Pmem_funcs.fence_after_nt)
				pmem_sfence();
		}
		return dst;
	}
	if (len <= SHORT_MAX)
		set_short(d, c, len);
	else
		set_long(d, c, len, 0, kind);
	pmem_flush_lines(kind, d, len);
	return dst;
}
