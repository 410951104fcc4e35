/*
 * trace.c - the persist-trace recorder (built only with meson
 * -Dpersist_trace=true; see trace.h for what it records and for whom).
 *
 * The hooks run after the store or flush they describe, so the bytes they
 * copy are the bytes that went to (or towards) media.  One mutex orders
 * the events of all threads: the trace is a total order consistent with
 * each thread's program order, which is what a crash-state builder needs
 * (a fence orders only its own thread's flushes, and the builder treats
 * every fence as ordering everything before it, which can only make it
 * check fewer states, never report a false violation).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libpmem.h"
#include "pmem_internal.h"
#include "trace.h"

#define LINE 64u

struct rec {
	struct pmem_trace_event ev;
	size_t data_off;	/* into arena (STORE, FLUSH, MARK) */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool active;		/* in-process recording */
static bool cut;		/* ran out of memory: the trace is partial */
static uintptr_t t_base;
static size_t t_len;
static struct rec *recs;
static size_t nrecs, cap_recs;
static uint8_t *arena;
static size_t arena_used, arena_cap;
static int trace_fd = -1;	/* PMEM_TRACE_FILE */
static bool want_file;		/* checked once the library is loaded */

__attribute__((constructor)) static void trace_file_init(void)
{
	const char *path = getenv("PMEM_TRACE_FILE");

	if (!path || !*path)
		return;
	trace_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (trace_fd < 0)
		pmem_log(1, "PMEM_TRACE_FILE %s: %s", path, strerror(errno));
	want_file = trace_fd >= 0;
}

/* 0, or -1 when memory ran out (the trace is then marked incomplete by
 * stopping it: a partial trace must not pass for a whole one). */
static int append(uint32_t kind, uint32_t flags, uint64_t off, const void *data, size_t len)
{
	struct rec *r;

	if (nrecs == cap_recs) {
		size_t n = cap_recs ? cap_recs * 2 : 4096;
		struct rec *p = realloc(recs, n * sizeof(*p));

		if (!p)
			return -1;
		recs = p;
		cap_recs = n;
	}
	if (arena_used + len + 1 > arena_cap) {
		size_t n = arena_cap ? arena_cap : 1u << 20;
		uint8_t *p;

		while (n < arena_used + len + 1)
			n *= 2;
		p = realloc(arena, n);
		if (!p)
			return -1;
		arena = p;
		arena_cap = n;
	}
	r = &recs[nrecs++];
	memset(r, 0, sizeof(*r));
	r->ev.kind = kind;
	r->ev.flags = flags;
	r->ev.off = off;
	r->ev.len = len;
	r->data_off = arena_used;
	if (len)
		memcpy(arena + arena_used, data, len);
	arena[arena_used + len] = 0; /* labels are NUL-terminated */
	arena_used += len + 1;
	return 0;
}

static void record_mem(uint32_t kind, uint32_t flags, const void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr, e = a + len;

	if (a < t_base)
		a = t_base;
	if (e > t_base + t_len)
		e = t_base + t_len;
	if (a >= e)
		return;
	if (append(kind, flags, a - t_base, (const void *)a, e - a))
		active = false, cut = true;
}

/*
 * File mode locates each range in /proc/self/maps: the record carries the
 * offset in the mapped file, which is what a consumer replays onto the
 * image (emulation files are mapped without being registered as pmem).
 * Anonymous memory is not traced.  A small cache of the mappings seen
 * keeps the parse off the common path.
 */
struct mapping {
	uintptr_t start, end;
	uint64_t pgoff;
};
static struct mapping maps_cache[8];
static unsigned maps_next;

static int find_mapping(uintptr_t addr, struct mapping *out)
{
	char line[512];
	FILE *f;

	for (unsigned i = 0; i < 8; i++)
		if (addr >= maps_cache[i].start && addr < maps_cache[i].end) {
			*out = maps_cache[i];
			return 0;
		}
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end, pgoff, inode;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s %lx %*s %lu", &start, &end, perms, &pgoff,
			   &inode) != 5 || addr < start || addr >= end)
			continue;
		fclose(f);
		if (inode == 0)
			return -1;
		out->start = start;
		out->end = end;
		out->pgoff = pgoff;
		maps_cache[maps_next++ % 8] = *out;
		return 0;
	}
	fclose(f);
	return -1;
}

static void write_file(uint32_t kind, uint32_t flags, const void *addr, size_t len,
		       const void *data)
{
	struct pmem_trace_record r = { .kind = kind, .flags = flags, .len = len };
	struct mapping m;

	if (addr) {
		if (find_mapping((uintptr_t)addr, &m))
			return; /* anonymous memory: not traced */
		if ((uintptr_t)addr + len > m.end)
			len = r.len = m.end - (uintptr_t)addr;
		r.map_start = m.start;
		r.off = m.pgoff + ((uintptr_t)addr - m.start);
	}
	if (write(trace_fd, &r, sizeof(r)) != (ssize_t)sizeof(r) ||
	    (len && write(trace_fd, data, len) != (ssize_t)len)) {
		pmem_log(1, "PMEM_TRACE_FILE: write failed, trace stopped: %s", strerror(errno));
		want_file = false;
	}
}

static void event(uint32_t kind, uint32_t flags, const void *addr, size_t len)
{
	if (!__atomic_load_n(&active, __ATOMIC_RELAXED) && !want_file)
		return;
	pthread_mutex_lock(&lock);
	if (active)
		record_mem(kind, flags, addr, len);
	if (want_file)
		write_file(kind, flags, addr, len, addr);
	pthread_mutex_unlock(&lock);
}

void pmem_trace_store(const void *addr, size_t len, unsigned pmem_flags)
{
	uint32_t flags = 0;

	if (pmem_flags & PMEM_F_MEM_NONTEMPORAL)
		flags |= PMEM_TRACE_F_NT;
	else if (pmem_flags & PMEM_F_MEM_NOFLUSH)
		flags |= PMEM_TRACE_F_NOFLUSH;
	event(PMEM_TRACE_STORE, flags, addr, len);
}

/* A flush writes back whole lines: record them whole, as they are now. */
void pmem_trace_flush(const void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr & ~(uintptr_t)(LINE - 1);
	uintptr_t e = ((uintptr_t)addr + len + LINE - 1) & ~(uintptr_t)(LINE - 1);

	if (len)
		event(PMEM_TRACE_FLUSH, 0, (const void *)a, e - a);
}

void pmem_trace_fence(void)
{
	if (!__atomic_load_n(&active, __ATOMIC_RELAXED) && !want_file)
		return;
	pthread_mutex_lock(&lock);
	if (active && append(PMEM_TRACE_FENCE, 0, 0, NULL, 0))
		active = false, cut = true;
	if (want_file)
		write_file(PMEM_TRACE_FENCE, 0, NULL, 0, NULL);
	pthread_mutex_unlock(&lock);
}

PMEM_EXPORT void pmem_trace_mark(const char *label)
{
	size_t n = strlen(label);

	pthread_mutex_lock(&lock);
	if (active && append(PMEM_TRACE_MARK, 0, 0, label, n))
		active = false, cut = true;
	if (want_file)
		write_file(PMEM_TRACE_MARK, 0, NULL, n, label);
	pthread_mutex_unlock(&lock);
}

PMEM_EXPORT int pmem_trace_start(const void *base, size_t len)
{
	if (!base || !len) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&lock);
	nrecs = 0;
	arena_used = 0;
	cut = false;
	t_base = (uintptr_t)base;
	t_len = len;
	__atomic_store_n(&active, true, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&lock);
	return 0;
}

PMEM_EXPORT int pmem_trace_stop(void)
{
	bool was_cut;

	pthread_mutex_lock(&lock);
	__atomic_store_n(&active, false, __ATOMIC_RELAXED);
	was_cut = cut;
	pthread_mutex_unlock(&lock);
	if (was_cut) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

PMEM_EXPORT size_t pmem_trace_count(void)
{
	return nrecs;
}

PMEM_EXPORT const struct pmem_trace_event *pmem_trace_event(size_t i)
{
	if (i >= nrecs)
		return NULL;
	/* the arena may have moved since the event was appended */
	recs[i].ev.data = arena + recs[i].data_off;
	recs[i].ev.label = recs[i].ev.kind == PMEM_TRACE_MARK ? (const char *)recs[i].ev.data : NULL;
	return &recs[i].ev;
}
