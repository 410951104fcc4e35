/*
 * raw.c - the physical limit for the benchmark: plain non-temporal store
 * loops with no library around them, AVX-512 where the CPU and OS allow it,
 * else AVX2.  Each variant is compiled for its ISA with a target attribute
 * and chosen at run time, so the binary runs on any x86-64.
 *
 * The loops warm the destination's page walk two pages ahead (one prefetch
 * per 4 KiB page), as libpmem's block loops do: on a VM with 4 KiB pages a
 * streaming store waits for its TLB miss, and a loop without the warm-up
 * is beaten by one with it, so it would not be the limit.
 */
#include "pmembench.h"

#include <immintrin.h>
#include <stdint.h>

#define RAW_PAGE 4096
#define RAW_WARM_AHEAD (2 * RAW_PAGE)

static inline void warm(const char *d, size_t i, size_t len, size_t step)
{
	if (((uintptr_t)(d + i) & (RAW_PAGE - 1)) < step && len - i > RAW_WARM_AHEAD)
		_mm_prefetch(d + i + RAW_WARM_AHEAD, _MM_HINT_NTA);
}

__attribute__((target("avx512f"))) static void copy_avx512(void *dst, const void *src, size_t len)
{
	char *d = dst;
	const char *s = src;

	for (size_t i = 0; i < len; i += 256) {
		warm(d, i, len, 256);
		__m512i a = _mm512_loadu_si512((const void *)(s + i));
		__m512i b = _mm512_loadu_si512((const void *)(s + i + 64));
		__m512i c = _mm512_loadu_si512((const void *)(s + i + 128));
		__m512i e = _mm512_loadu_si512((const void *)(s + i + 192));

		_mm512_stream_si512((void *)(d + i), a);
		_mm512_stream_si512((void *)(d + i + 64), b);
		_mm512_stream_si512((void *)(d + i + 128), c);
		_mm512_stream_si512((void *)(d + i + 192), e);
	}
	_mm_sfence();
}

__attribute__((target("avx512f"))) static void fill_avx512(void *dst, int c, size_t len)
{
	__m512i v = _mm512_set1_epi8((char)c);
	char *d = dst;

	for (size_t i = 0; i < len; i += 256) {
		warm(d, i, len, 256);
		_mm512_stream_si512((void *)(d + i), v);
		_mm512_stream_si512((void *)(d + i + 64), v);
		_mm512_stream_si512((void *)(d + i + 128), v);
		_mm512_stream_si512((void *)(d + i + 192), v);
	}
	_mm_sfence();
}

__attribute__((target("avx2"))) static void copy_avx2(void *dst, const void *src, size_t len)
{
	char *d = dst;
	const char *s = src;

	for (size_t i = 0; i < len; i += 128) {
		warm(d, i, len, 128);
		__m256i a = _mm256_loadu_si256((const __m256i *)(s + i));
		__m256i b = _mm256_loadu_si256((const __m256i *)(s + i + 32));
		__m256i c = _mm256_loadu_si256((const __m256i *)(s + i + 64));
		__m256i e = _mm256_loadu_si256((const __m256i *)(s + i + 96));

		_mm256_stream_si256((__m256i *)(d + i), a);
		_mm256_stream_si256((__m256i *)(d + i + 32), b);
		_mm256_stream_si256((__m256i *)(d + i + 64), c);
		_mm256_stream_si256((__m256i *)(d + i + 96), e);
	}
	_mm_sfence();
}

__attribute__((target("avx2"))) static void fill_avx2(void *dst, int c, size_t len)
{
	__m256i v = _mm256_set1_epi8((char)c);
	char *d = dst;

	for (size_t i = 0; i < len; i += 128) {
		warm(d, i, len, 128);
		_mm256_stream_si256((__m256i *)(d + i), v);
		_mm256_stream_si256((__m256i *)(d + i + 32), v);
		_mm256_stream_si256((__m256i *)(d + i + 64), v);
		_mm256_stream_si256((__m256i *)(d + i + 96), v);
	}
	_mm_sfence();
}

/* __builtin_cpu_supports also checks that the OS saves the vector state
 * (XCR0), so a "yes" here means the instructions will not fault. */
const char *raw_isa(void)
{
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		return "avx512f";
	if (__builtin_cpu_supports("avx2"))
		return "avx2";
	return NULL;
}

void raw_memcpy_nt(void *dst, const void *src, size_t len)
{
	if (__builtin_cpu_supports("avx512f"))
		copy_avx512(dst, src, len);
	else
		copy_avx2(dst, src, len);
}

void raw_memset_nt(void *dst, int c, size_t len)
{
	if (__builtin_cpu_supports("avx512f"))
		fill_avx512(dst, c, len);
	else
		fill_avx2(dst, c, len);
}
