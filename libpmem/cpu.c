/*
 * cpu.c - CPU feature detection with CPUID and XGETBV.
 *
 * Unlike PMDK, an AVX feature counts only when the OS has enabled the
 * matching register state: CPUID.1:ECX.OSXSAVE must be set and XCR0 must
 * have SSE|AVX (bits 1-2) for AVX2, plus opmask|ZMM_Hi256|Hi16_ZMM
 * (bits 5-7) for AVX-512.  Without that, the first YMM/ZMM instruction
 * would fault (#UD), e.g. under a hypervisor that hides the state.
 */
#include <cpuid.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu.h"

/* CPUID bits, spelled here because gcc's and clang's cpuid.h differ. */
#define LEAF1_EDX_CLFLUSH (1u << 19)
#define LEAF1_EDX_SSE2 (1u << 26)
#define LEAF1_ECX_OSXSAVE (1u << 27)
#define LEAF1_ECX_AVX (1u << 28)
#define LEAF7_EBX_AVX2 (1u << 5)
#define LEAF7_EBX_AVX512F (1u << 16)
#define LEAF7_EBX_CLFLUSHOPT (1u << 23)
#define LEAF7_EBX_CLWB (1u << 24)

#define XCR0_SSE_AVX 0x06u /* XMM and YMM state */
#define XCR0_AVX512 0xe0u  /* opmask, ZMM_Hi256, Hi16_ZMM state */

static uint64_t read_xcr0(void)
{
	uint32_t eax, edx;
	/* xgetbv with ECX=0; spelled as bytes so no -mxsave is needed. */
	__asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
	return ((uint64_t)edx << 32) | eax;
}

void pmem_cpu_detect(struct pmem_cpu_features *features)
{
	unsigned eax, ebx, ecx, edx;
	*features = (struct pmem_cpu_features){0};

	unsigned max_leaf = __get_cpuid_max(0, NULL);
	if (max_leaf < 1)
		return;
	__cpuid(1, eax, ebx, ecx, edx);
	features->clflush = (edx & LEAF1_EDX_CLFLUSH) != 0;
	features->sse2 = (edx & LEAF1_EDX_SSE2) != 0;
	bool osxsave = (ecx & LEAF1_ECX_OSXSAVE) != 0;
	bool avx = (ecx & LEAF1_ECX_AVX) != 0;

	uint64_t xcr0 = osxsave ? read_xcr0() : 0;
	bool os_avx = osxsave && (xcr0 & XCR0_SSE_AVX) == XCR0_SSE_AVX;
	bool os_avx512 = os_avx && (xcr0 & XCR0_AVX512) == XCR0_AVX512;

	if (max_leaf < 7)
		return;
	__cpuid_count(7, 0, eax, ebx, ecx, edx);
	features->clflushopt = (ebx & LEAF7_EBX_CLFLUSHOPT) != 0;
	features->clwb = (ebx & LEAF7_EBX_CLWB) != 0;
	features->avx2 = avx && os_avx && (ebx & LEAF7_EBX_AVX2) != 0;
	features->avx512f = os_avx512 && (ebx & LEAF7_EBX_AVX512F) != 0;
}
