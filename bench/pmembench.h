/*
 * pmembench.h - what the libpmem benchmark's files share: the case list,
 * the worker that times one library, and the raw non-temporal store loops
 * that stand for the physical limit.
 */
#ifndef PMEMBENCH_H
#define PMEMBENCH_H

#include <stddef.h>
#include <stdint.h>

/* Destination window of the large cases: four times this machine's 32 MiB
 * L3, so the stores go to memory, not to a cache holding the last pass. */
#define BENCH_WINDOW (128ul << 20)
/* Destination window of the cases below BENCH_RAW_MIN_SIZE: it fits in L2,
 * so the figure is the library's own path plus flush and fence, not the
 * latency of a DRAM miss that would look the same for any library. */
#define BENCH_SMALL_WINDOW (512ul << 10)
/* Each case is timed in short batches of about BENCH_BATCH_NS, for
 * ms_per_case in all (at least BENCH_MIN_BATCHES batches), and the fastest
 * batch counts: other processes only ever add time, and a batch shorter
 * than a scheduler slice often runs without being preempted. */
#define BENCH_BATCH_NS 1000000.0
#define BENCH_MIN_BATCHES 5
#define BENCH_MAX_BATCHES 2000
/* The untimed warm-up of each case writes this much (at least one op). */
#define BENCH_WARMUP_BYTES (8ul << 20)
/* Largest copy; also the size of the DRAM source buffer. */
#define BENCH_MAX_SIZE (32ul << 20)
/* Sizes from this one up are compared with the raw store loop. */
#define BENCH_RAW_MIN_SIZE (2ul << 20)

enum bench_op { BENCH_MEMCPY, BENCH_MEMSET, BENCH_STORE8 };

struct bench_case {
	enum bench_op op;
	size_t size;
	char name[64];
};

/* Fills cases (at most max) in table order, keeping only those whose name
 * contains only (all when only is NULL or empty); returns how many. */
int bench_cases(struct bench_case *cases, int max, const char *only);

/* The worker: maps a file in dir, times every case (and the raw loops)
 * through whichever libpmem.so.1 the loader gave this process, and prints
 * "lib <path>" then "case|raw <case> <ns/op>" lines on stdout.  Returns 0
 * or 1. */
int bench_worker(const char *dir, double ms_per_case, const char *only);

/* ---- raw.c: the physical limit ----------------------------------------- */
/* "avx512f", "avx2" or NULL when neither is usable on this CPU and OS. */
const char *raw_isa(void);
/* Non-temporal copy/fill of len bytes (a multiple of 256, dst 64-byte
 * aligned), then SFENCE: what a perfect pmem_memcpy_persist would do. */
void raw_memcpy_nt(void *dst, const void *src, size_t len);
void raw_memset_nt(void *dst, int c, size_t len);

/* ---- libpath.c ---------------------------------------------------------- */
/* The path of the libpmem.so.1 mapped in this process, from
 * /proc/self/maps; 0, or -1 when there is none. */
int mapped_libpmem_path(char *buf, size_t len);

#endif /* PMEMBENCH_H */
