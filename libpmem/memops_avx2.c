/*
 * memops_avx2.c - pmem_memmove/pmem_memset with 32-byte AVX2 vectors.
 * Built with -mavx2 in its own static library; init.c calls it only when
 * CPUID and XCR0 say AVX2 is usable.  The body is memops_template.h.
 */
#include <immintrin.h>

#define MEMOPS_ISA avx2
#define VEC_SIZE 32
typedef __m256i vec_t;
#define vec_loadu(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define vec_store(p, v) _mm256_store_si256((__m256i *)(void *)(p), (v))
#define vec_storeu(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (v))
#define vec_stream(p, v) _mm256_stream_si256((__m256i *)(void *)(p), (v))
#define vec_set1(c) _mm256_set1_epi8((char)(c))

#include "memops_template.h"
