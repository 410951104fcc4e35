/*
 * memops_avx512.c - pmem_memmove/pmem_memset with 64-byte AVX-512F
 * vectors: one store per cache line.  Built with -mavx512f in its own
 * static library; init.c calls it only when CPUID and XCR0 (opmask and
 * ZMM state) say AVX-512F is usable.  The body is memops_template.h.
 */
#include <immintrin.h>
#include <stdint.h>

#define MEMOPS_ISA avx512f
#define VEC_SIZE 64
typedef __m512i vec_t;
#define vec_loadu(p) _mm512_loadu_si512((const void *)(p))
#define vec_store(p, v) _mm512_store_si512((void *)(p), (v))
#define vec_storeu(p, v) _mm512_storeu_si512((void *)(p), (v))
#define vec_stream(p, v) _mm512_stream_si512((__m512i *)(void *)(p), (v))
/* set1_epi32 needs only AVX-512F (set1_epi8 may want AVX-512BW). */
#define vec_set1(c) _mm512_set1_epi32((int)(0x01010101u * (uint8_t)(c)))

#include "memops_template.h"
