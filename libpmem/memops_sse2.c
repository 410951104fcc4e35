/*
 * memops_sse2.c - pmem_memmove/pmem_memset with 16-byte SSE2 vectors
 * (every x86-64 CPU has them).  The body is memops_template.h.
 */
#include <emmintrin.h>

#define MEMOPS_ISA sse2
#define VEC_SIZE 16
typedef __m128i vec_t;
#define vec_loadu(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define vec_store(p, v) _mm_store_si128((__m128i *)(void *)(p), (v))
#define vec_storeu(p, v) _mm_storeu_si128((__m128i *)(void *)(p), (v))
#define vec_stream(p, v) _mm_stream_si128((__m128i *)(void *)(p), (v))
#define vec_set1(c) _mm_set1_epi8((char)(c))

#include "memops_template.h"
