/*
 * trace.h - the persist-trace recorder (meson -Dpersist_trace=true, which
 * defines PMEMFS_PERSIST_TRACE): every store range libpmem is told about
 * (the pmem_memcpy/memmove/memset family, with the bytes written), every
 * pmem_flush (with the bytes of the flushed lines at that moment: this also
 * captures plain stores followed by a flush), every drain/fence, and
 * operation markers.  Crash-state tools (tests/crash/) rebuild from it what
 * a power failure at any point could leave on media.
 *
 * Two consumers:
 *  - in process (a core test driver): pmem_trace_start(base, len) records
 *    the events that touch [base, base + len) into memory, with offsets
 *    relative to base; pmem_trace_count()/pmem_trace_event() read them.
 *  - out of process (the daemon): with PMEM_TRACE_FILE=path in the
 *    environment, events on file-backed mappings (the device or the
 *    emulation file) are appended to that file as they happen (struct
 *    pmem_trace_record, then the data), with the offset in the mapped
 *    file; tests/crash/trace_replay rebuilds an image from it.
 *
 * Without PMEMFS_PERSIST_TRACE the hooks compile to nothing and
 * pmem_trace_mark() is an empty inline: no cost.
 */
#ifndef PMEM_TRACE_H
#define PMEM_TRACE_H

#include <stddef.h>
#include <stdint.h>

enum pmem_trace_kind {
	PMEM_TRACE_STORE = 1, /* bytes written; flushed unless PMEM_TRACE_F_NOFLUSH */
	PMEM_TRACE_FLUSH = 2, /* lines written back (not yet ordered) */
	PMEM_TRACE_FENCE = 3, /* every flush and NT store before it is durable */
	PMEM_TRACE_MARK = 4,  /* an operation marker; 'label' set */
};

/* STORE flags */
#define PMEM_TRACE_F_NOFLUSH 1u	 /* left in the cache: needs a pmem_flush */
#define PMEM_TRACE_F_NT 2u	 /* non-temporal: bypassed the cache */

struct pmem_trace_event {
	uint32_t kind;		/* enum pmem_trace_kind */
	uint32_t flags;
	uint64_t off;		/* from the traced base (in process) */
	uint64_t len;
	const uint8_t *data;	/* STORE, FLUSH: len bytes as they were */
	const char *label;	/* MARK */
};

/* PMEM_TRACE_FILE record: 'len' bytes of data (STORE, FLUSH) or of label
 * (MARK, without NUL) follow each record. */
struct pmem_trace_record {
	uint32_t kind;
	uint32_t flags;
	uint64_t map_start;	/* address of the mapping holding the range */
	uint64_t off;		/* offset in the mapped file */
	uint64_t len;
};

#ifdef PMEMFS_PERSIST_TRACE
/* Records the events inside [base, base + len) from now on, dropping the
 * previous trace.  0, or -1 with errno. */
int pmem_trace_start(const void *base, size_t len);
/* Stops recording; the events stay readable until the next start.  -1
 * (ENOMEM) when memory ran out and the trace is partial, else 0. */
int pmem_trace_stop(void);
size_t pmem_trace_count(void);
/* Event i (i < count); valid until the next start. */
const struct pmem_trace_event *pmem_trace_event(size_t i);
/* Records a marker ("op create", "fsync", ...). */
void pmem_trace_mark(const char *label);

/* The hooks called by libpmem's entry points (persist.c). */
void pmem_trace_store(const void *addr, size_t len, unsigned pmem_flags);
void pmem_trace_flush(const void *addr, size_t len);
void pmem_trace_fence(void);
#define PMEM_TRACE_STORE(addr, len, pmem_flags) pmem_trace_store(addr, len, pmem_flags)
#define PMEM_TRACE_FLUSH(addr, len) pmem_trace_flush(addr, len)
#define PMEM_TRACE_FENCE() pmem_trace_fence()
#else
static inline void pmem_trace_mark(const char *label)
{
	(void)label;
}
#define PMEM_TRACE_STORE(addr, len, pmem_flags) ((void)0)
#define PMEM_TRACE_FLUSH(addr, len) ((void)0)
#define PMEM_TRACE_FENCE() ((void)0)
#endif

#endif /* PMEM_TRACE_H */
