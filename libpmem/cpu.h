/*
 * cpu.h - the CPU features libpmem cares about, detected once at load.
 */
#ifndef PMEM_CPU_H
#define PMEM_CPU_H

#include <stdbool.h>

struct pmem_cpu_features {
	bool clflush;
	bool clflushopt;
	bool clwb;
	bool sse2;
	bool avx2;    /* CPUID says so and the OS saves YMM state */
	bool avx512f; /* CPUID says so and the OS saves ZMM and opmask state */
};

/* Runs CPUID (and XGETBV when OSXSAVE is set) and fills *features. */
void pmem_cpu_detect(struct pmem_cpu_features *features);

#endif /* PMEM_CPU_H */
