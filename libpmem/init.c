/*
 * init.c - fills the dispatch table (Pmem_funcs) once, when the library
 * loads, from CPUID and the environment.  Nothing on the hot paths reads
 * the environment or takes a lock afterwards.
 *
 * Environment (read once, PMDK's meanings; "1" and "0" must be exact):
 *   PMEM_NO_CLWB=1          do not use CLWB (fall back to CLFLUSHOPT)
 *   PMEM_NO_CLFLUSHOPT=1    do not use CLFLUSHOPT (fall back to CLFLUSH)
 *   PMEM_NO_FLUSH=1         never flush CPU caches (pmem_drain still
 *                           fences); =0 always flush, even when every nd
 *                           region reports an eADR (cpu_cache) domain;
 *                           unset: skip flushes only under eADR
 *   PMEM_NO_MOVNT=1         no non-temporal stores: the generic C copy
 *                           with ordinary stores and flushes
 *   PMEM_MOVNT_THRESHOLD=n  copies of n bytes or more stream (default 256)
 *   PMEM_AVX=0              do not use the AVX2 copy
 *   PMEM_AVX512F=0          do not use the AVX-512F copy
 *
 * PMEM_AVX / PMEM_AVX512F: PMDK up to 1.8 used AVX only when the variable
 * was 1 (opt-in, for fear of AVX frequency drops); from 1.9 on, and so in
 * 1.12, both are on by default and "0" turns them off.  We do the same:
 * the default is the widest usable ISA (AVX-512F > AVX2 > SSE2), which
 * measured fastest here, and each variable set to 0 removes its ISA.
 * Unlike PMDK, an ISA is usable only when XCR0 shows the OS saves its
 * registers (see cpu.c).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "flush.h"
#include "memops.h"
#include "pmem_internal.h"
#include "pmem_test_queries.h"

#define MOVNT_THRESHOLD_DEFAULT 256

static void flush_clwb(const void *addr, size_t len)
{
	pmem_flush_lines(PMEM_FLUSH_CLWB, addr, len);
}

static void flush_clflushopt(const void *addr, size_t len)
{
	pmem_flush_lines(PMEM_FLUSH_CLFLUSHOPT, addr, len);
}

static void flush_clflush(const void *addr, size_t len)
{
	pmem_flush_lines(PMEM_FLUSH_CLFLUSH, addr, len);
}

static void flush_empty(const void *addr, size_t len)
{
	(void)addr;
	(void)len;
}

static void fence_sfence(void)
{
	pmem_sfence();
}

static void fence_empty(void)
{
}

/*
 * Safe values for any x86-64 CPU (CLFLUSH and SSE2 are architectural), in
 * force until the constructor runs, e.g. if another library's constructor
 * calls us first.
 */
struct pmem_funcs Pmem_funcs = {
    .flush = flush_clflush,
    .fence = fence_empty,
    .memmove = pmem_memmove_generic,
    .memset = pmem_memset_generic,
    .flush_needed = true,
    .has_hw_drain = false,
    .movnt_threshold = MOVNT_THRESHOLD_DEFAULT,
    .flush_name = "clflush",
    .memcpy_name = "generic",
    .deep_flush = flush_clflush,
    .flush_kind = PMEM_FLUSH_CLFLUSH,
    .drain_fences = false,
    .fence_after_nt = true,
};

static bool env_is(const char *name, const char *value)
{
	const char *text = getenv(name);
	return text != NULL && strcmp(text, value) == 0;
}

static enum pmem_flush_kind choose_flush(const struct pmem_cpu_features *cpu)
{
	enum pmem_flush_kind kind = PMEM_FLUSH_CLFLUSH;
	if (cpu->clflushopt) {
		if (env_is("PMEM_NO_CLFLUSHOPT", "1"))
			pmem_log(3, "PMEM_NO_CLFLUSHOPT forced no clflushopt");
		else
			kind = PMEM_FLUSH_CLFLUSHOPT;
	}
	if (cpu->clwb) {
		if (env_is("PMEM_NO_CLWB", "1"))
			pmem_log(3, "PMEM_NO_CLWB forced no clwb");
		else
			kind = PMEM_FLUSH_CLWB;
	}
	return kind;
}

/* Whether pmem_flush and the copies must write back cache lines. */
static bool choose_flush_needed(void)
{
	if (env_is("PMEM_NO_FLUSH", "1")) {
		pmem_log(3, "PMEM_NO_FLUSH=1: not flushing CPU caches");
		return false;
	}
	if (env_is("PMEM_NO_FLUSH", "0")) {
		pmem_log(3, "PMEM_NO_FLUSH=0: flushing CPU caches");
		return true;
	}
	if (pmem_auto_flush_all_regions()) {
		pmem_log(3, "eADR: every region's persistence domain is cpu_cache, not flushing");
		return false;
	}
	return true;
}

static void choose_memops(const struct pmem_cpu_features *cpu)
{
	if (env_is("PMEM_NO_MOVNT", "1")) {
		pmem_log(3, "PMEM_NO_MOVNT forced no movnt");
		return; /* keep the generic copy */
	}
	if (cpu->sse2) {
		Pmem_funcs.memmove = pmem_memmove_sse2;
		Pmem_funcs.memset = pmem_memset_sse2;
		Pmem_funcs.memcpy_name = "sse2";
	}
	if (cpu->avx2) {
		if (env_is("PMEM_AVX", "0")) {
			pmem_log(3, "PMEM_AVX=0: not using avx2");
		} else {
			Pmem_funcs.memmove = pmem_memmove_avx2;
			Pmem_funcs.memset = pmem_memset_avx2;
			Pmem_funcs.memcpy_name = "avx2";
		}
	}
	if (cpu->avx512f) {
		if (env_is("PMEM_AVX512F", "0")) {
			pmem_log(3, "PMEM_AVX512F=0: not using avx512f");
		} else {
			Pmem_funcs.memmove = pmem_memmove_avx512f;
			Pmem_funcs.memset = pmem_memset_avx512f;
			Pmem_funcs.memcpy_name = "avx512f";
		}
	}
}

static const char *flush_kind_name(enum pmem_flush_kind kind)
{
	switch (kind) {
	case PMEM_FLUSH_CLWB:
		return "clwb";
	case PMEM_FLUSH_CLFLUSHOPT:
		return "clflushopt";
	case PMEM_FLUSH_CLFLUSH:
		return "clflush";
	case PMEM_FLUSH_NONE:
		break;
	}
	return "none";
}

static pmem_flush_fn flush_kind_fn(enum pmem_flush_kind kind)
{
	switch (kind) {
	case PMEM_FLUSH_CLWB:
		return flush_clwb;
	case PMEM_FLUSH_CLFLUSHOPT:
		return flush_clflushopt;
	case PMEM_FLUSH_CLFLUSH:
		return flush_clflush;
	case PMEM_FLUSH_NONE:
		break;
	}
	return flush_empty;
}

/* Resets what choose_memops() and the threshold may leave untouched. */
static void reset_copy_choice(void)
{
	Pmem_funcs.memmove = pmem_memmove_generic;
	Pmem_funcs.memset = pmem_memset_generic;
	Pmem_funcs.memcpy_name = "generic";
	Pmem_funcs.movnt_threshold = MOVNT_THRESHOLD_DEFAULT;
}

void pmem_dispatch_select(void)
{
	struct pmem_cpu_features cpu;

	reset_copy_choice();
	pmem_cpu_detect(&cpu);
	pmem_log(3, "cpu: clflush %d clflushopt %d clwb %d sse2 %d avx2 %d avx512f %d", cpu.clflush,
		 cpu.clflushopt, cpu.clwb, cpu.sse2, cpu.avx2, cpu.avx512f);

	enum pmem_flush_kind cpu_kind = choose_flush(&cpu);
	bool flush_needed = choose_flush_needed();
	enum pmem_flush_kind kind = flush_needed ? cpu_kind : PMEM_FLUSH_NONE;

	Pmem_funcs.deep_flush = flush_kind_fn(cpu_kind);
	Pmem_funcs.flush = flush_kind_fn(kind);
	Pmem_funcs.flush_kind = kind;
	Pmem_funcs.flush_name = flush_kind_name(kind);
	Pmem_funcs.flush_needed = flush_needed;
	/*
	 * CLFLUSH is ordered with older stores, so in CLFLUSH mode a drain has
	 * nothing to wait for; only NT stores need a fence, and the NT copy
	 * issues it.  Weakly ordered CLWB/CLFLUSHOPT, and the no-flush mode
	 * (where NT stores may still sit in write-combining buffers), need
	 * SFENCE in pmem_drain.
	 */
	Pmem_funcs.drain_fences = kind != PMEM_FLUSH_CLFLUSH;
	Pmem_funcs.fence = Pmem_funcs.drain_fences ? fence_sfence : fence_empty;
	Pmem_funcs.fence_after_nt = !Pmem_funcs.drain_fences;

	choose_memops(&cpu);

	const char *threshold = getenv("PMEM_MOVNT_THRESHOLD");
	if (threshold != NULL) {
		long value = pmem_env_long("PMEM_MOVNT_THRESHOLD");
		if (value < 0)
			pmem_log(3, "invalid PMEM_MOVNT_THRESHOLD \"%s\", keeping %zu", threshold,
				 Pmem_funcs.movnt_threshold);
		else
			Pmem_funcs.movnt_threshold = (size_t)value;
	}

	pmem_log(3, "using %s flush, %s copies, movnt threshold %zu, drain %s",
		 Pmem_funcs.flush_name, Pmem_funcs.memcpy_name, Pmem_funcs.movnt_threshold,
		 Pmem_funcs.drain_fences ? "sfence" : "empty");
}

static void init_once(void)
{
	pmem_log_init();
	pmem_dispatch_select();
}

void pmem_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, init_once);
}

__attribute__((constructor)) static void libpmem_load(void)
{
	pmem_init();
}

__attribute__((destructor)) static void libpmem_unload(void)
{
	pmem_log_fini();
}

/* ---- queries for libpmem's own tests (version LIBPMEM_PMEMFS_TEST) ------ */

PMEM_EXPORT const char *pmemfs_test_flush_name(void)
{
	return Pmem_funcs.flush_name;
}

PMEM_EXPORT const char *pmemfs_test_memcpy_name(void)
{
	return Pmem_funcs.memcpy_name;
}

PMEM_EXPORT size_t pmemfs_test_movnt_threshold(void)
{
	return Pmem_funcs.movnt_threshold;
}

PMEM_EXPORT int pmemfs_test_flush_needed(void)
{
	return Pmem_funcs.flush_needed;
}
