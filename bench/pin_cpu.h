/*
 * pin_cpu.h - keeps a benchmark process on one CPU (pmem_bench's workers,
 * pmem_ab).
 */
#ifndef PMEMFS_BENCH_PIN_CPU_H
#define PMEMFS_BENCH_PIN_CPU_H

/* Stays on the highest CPU it may use, so every run of every round runs on
 * the same core and its caches, and the scheduler cannot migrate it
 * mid-batch.  Best effort: without the affinity calls it stays unpinned. */
void bench_pin_to_one_cpu(void);

#endif
